"""docs/deploy.md followed for real: gunicorn with gunicorn.conf.py (2 workers) on the test database,
and a rep's drill driven over HTTP (PostgreSQL when TEST_DATABASE_URL is set, as in CI)."""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

from tests.conftest import PASSWORD, ROOT, database_url, free_port
from tests.helpers import empty_database


def answer_form(page: str) -> dict:
    """The answer a rep would send from a drill page: the first choice, or the steps in the order shown."""
    form = {"token": re.search(r'name="token" value="(\w+)"', page).group(1),
            "csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)}
    if 'name="order"' in page:
        form["order"] = " ".join(str(n + 1) for n in range(page.count('class="step"')))
    else:
        form["choice"] = re.search(r'name="choice" value="([^"]+)"', page).group(1)
    return form


@pytest.fixture
def server(app, content, tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(tmp_path), "SECRET_KEY": "deploy-test-secret",
           "LEARNAPP_BIND": f"127.0.0.1:{port}", "LEARNAPP_WORKERS": "2", "LEARNAPP_ACCESS_LOG": "-"}
    env.pop("FLASK_RUN_FROM_CLI", None)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("gunicorn did not start:\n" + process.communicate()[0])
    yield base
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)


def test_gunicorn_serves_a_drill_over_http(server, make_user):
    rep = make_user("rep")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def get(path):
        with opener.open(server + path, timeout=10) as response:
            return response.geturl(), response.read().decode()

    def post(path, data):
        with opener.open(server + path, data=urllib.parse.urlencode(data).encode(), timeout=10) as response:
            return response.geturl(), response.read().decode()

    _, page = get("/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    url, page = post("/login", {"email": rep.email, "password": PASSWORD, "csrf_token": token})
    assert url.endswith("/drill/") and "Item 1 of" in page
    form = answer_form(page)
    url, feedback = post("/drill/answer", form)
    assert "/drill/feedback/" in url and "The rule:" in feedback
    _, again = post("/drill/answer", form)  # a second submit of the same form records nothing new
    assert "The rule:" in again
    from learnapp.extensions import db
    from learnapp.models import Attempt

    db.session.remove()
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1


class BrowserBehindTheProxy(http.cookiejar.DefaultCookiePolicy):
    """A browser's cookies on the HTTPS address the proxy serves: Secure ones are sent back too."""

    def return_ok_secure(self, cookie, request):
        return True


def test_the_deploy_doc_from_an_empty_database_to_a_drill_a_job_and_a_backup(tmp_path):
    """docs/deploy.md sections 2 to 7 as an operator types them: migrations, content, accounts,
    gunicorn behind a proxy (forwarded headers), a drill over HTTP, the nightly job, a backup (SQLite)."""
    url = database_url(tmp_path)
    empty_database(url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "deploy-test-secret", "LEARNAPP_PROXY_HOPS": "1",
           "LEARNAPP_BIND": f"127.0.0.1:{port}", "LEARNAPP_WORKERS": "2", "LEARNAPP_BASE_URL": "https://learn.example.com"}
    env.pop("FLASK_RUN_FROM_CLI", None)

    def flask(*args):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "learnapp", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"flask {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    try:
        flask("db", "upgrade")
        flask("content", "import")
        flask("users", "create", "--email", "admin@example.com", "--role", "admin", "--password", PASSWORD)
        flask("users", "create", "--email", "rep@example.com", "--name", "Rep One", "--team", "North",
              "--timezone", "Europe/Berlin", "--password", PASSWORD)
        process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(150):
                try:
                    with urllib.request.urlopen(base + "/healthz", timeout=1):
                        break
                except OSError:
                    time.sleep(0.1)
            # as nginx in the doc passes them; over HTTPS, CSRF also checks that the Referer is this
            # host, which only passes when the app trusts the forwarded scheme and host (ProxyFix)
            proxy = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "learn.example.com",
                     "Referer": "https://learn.example.com/login"}
            # LEARNAPP_BASE_URL is https://, so every cookie is Secure: the browser speaks HTTPS to the proxy and
            # sends them back, as this jar does over the proxy's plain hop to gunicorn
            jar = http.cookiejar.CookieJar(policy=BrowserBehindTheProxy())
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

            def call(path, data=None):
                body = urllib.parse.urlencode(data).encode() if data is not None else None
                with opener.open(urllib.request.Request(base + path, data=body, headers=proxy), timeout=10) as response:
                    return response.geturl(), response.read().decode()

            _, page = call("/login")
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            url_after, page = call("/login", {"email": "rep@example.com", "password": PASSWORD, "csrf_token": token})
            assert url_after.endswith("/drill/") and "Item 1 of" in page
            assert {c.name for c in jar} == {"session", "learnapp_device"} and all(c.secure for c in jar)
            form = answer_form(page)
            url_after, feedback = call("/drill/answer", form)
            assert "/drill/feedback/" in url_after and "The rule:" in feedback
        finally:
            process.send_signal(signal.SIGTERM)
            log = process.communicate(timeout=30)[0]
        assert "Traceback" not in log, log
        assert "ok in" in flask("jobs", "run", "nightly-maintenance")
        assert "already ran" in flask("jobs", "run", "nightly-maintenance")
        if url.startswith("sqlite"):
            target = tmp_path / "backups" / "nightly.sqlite"
            assert "backed up" in flask("backup", str(target)) and target.stat().st_size > 0
    finally:
        empty_database(url)


def test_gunicorn_as_a_service_user_without_a_home_logs_no_error(tmp_path):
    """Run by systemd as a system user whose home cannot be written, gunicorn 25+ logged "[ERROR] Control server
    error: Permission denied" at every start: its control socket (for gunicornc, which learnapp does not use)."""
    not_a_folder = tmp_path / "home"
    not_a_folder.write_text("")  # ~/.gunicorn cannot be made under it, whoever runs the test (root too)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url(tmp_path), "SECRET_KEY": "deploy-test-secret",
           "LEARNAPP_BIND": f"127.0.0.1:{port}", "LEARNAPP_WORKERS": "1", "HOME": str(not_a_folder)}
    env.pop("XDG_RUNTIME_DIR", None)
    env.pop("FLASK_RUN_FROM_CLI", None)
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    assert response.status == 200
                    break
            except OSError:
                time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        log = process.communicate(timeout=30)[0]
    assert "Listening at" in log and "[ERROR]" not in log, log
