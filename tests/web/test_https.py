"""An HTTPS deployment (LEARNAPP_BASE_URL https://...): every cookie the app sets is Secure by default, and pages
served over HTTPS tell the browser to use nothing else (Strict-Transport-Security)."""

import pytest

from learnapp.app import create_app
from learnapp.extensions import db
from tests.conftest import PASSWORD, csrf_token, database_url


def _app(monkeypatch, tmp_path, clock, **env):
    """The app as gunicorn builds it from the environment (no test overrides of the cookie settings)."""
    for name in ("LEARNAPP_BASE_URL", "LEARNAPP_SECURE_COOKIES", "LEARNAPP_PROXY_HOPS", "LEARNAPP_HSTS_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
                       "CLOCK": clock})


@pytest.fixture
def served(monkeypatch, tmp_path, clock):
    """Makes an app from the given environment with one rep in it; its tables go at the end."""
    made = []

    def make(**env):
        from learnapp.services.users import create_user

        app = _app(monkeypatch, tmp_path, clock, **env)
        with app.app_context():
            db.drop_all()
            db.create_all()
            create_user("rep@example.com", "Rep", PASSWORD, "rep", team="A", now=clock.now())
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def _cookies_of_a_login(app, **request) -> dict[str, str]:
    """Each cookie a login with "keep me logged in" sets, by name: its Set-Cookie header."""
    client = app.test_client()
    data = {"email": "rep@example.com", "password": PASSWORD, "remember": "y", "csrf_token": csrf_token(client)}
    response = client.post("/login", data=data, **request)
    assert response.status_code == 302
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_an_https_base_url_makes_the_session_remember_and_device_cookies_secure(served):
    """Before, an HTTPS deployment that did not also set LEARNAPP_SECURE_COOKIES=1 let a browser send its login
    over plain HTTP (a link typed without https://, a network that rewrites it) for anyone on the path to read."""
    cookies = _cookies_of_a_login(served(LEARNAPP_BASE_URL="https://learn.example.com"))
    assert set(cookies) == {"session", "remember_token", "learnapp_device"}
    for name, header in cookies.items():
        assert "; Secure" in header, header


@pytest.mark.parametrize("env", [{}, {"LEARNAPP_BASE_URL": "https://learn.example.com", "LEARNAPP_SECURE_COOKIES": "0"}])
def test_on_http_or_turned_off_no_cookie_is_secure(served, env):
    """The demo and the tests run on http://127.0.0.1:5000, where a browser would drop a Secure cookie."""
    cookies = _cookies_of_a_login(served(**env))
    assert set(cookies) == {"session", "remember_token", "learnapp_device"}
    for header in cookies.values():
        assert "Secure" not in header, header


HTTPS_SITE = {"LEARNAPP_BASE_URL": "https://learn.example.com", "LEARNAPP_PROXY_HOPS": "1"}
BEHIND_THE_PROXY = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9", "X-Forwarded-Host": "learn.example.com"}


def test_pages_served_over_https_carry_strict_transport_security_for_a_year(served):
    """Before, nothing told a browser to keep to HTTPS: the next address typed without https:// went out in the
    clear first, where anyone on the path could answer it instead of the site."""
    client = served(**HTTPS_SITE).test_client()
    for path in ("/login", "/static/app.js", "/no-such-page"):
        response = client.get(path, headers=BEHIND_THE_PROXY)
        assert response.headers.get("Strict-Transport-Security") == "max-age=31536000", path  # no includeSubDomains
    # the proxy's plain hop, or a health check straight to gunicorn: a browser ignores the header over HTTP anyway
    assert "Strict-Transport-Security" not in client.get("/login").headers


@pytest.mark.parametrize("env, expected", [
    ({**HTTPS_SITE, "LEARNAPP_HSTS_SECONDS": "600"}, "max-age=600"),
    ({**HTTPS_SITE, "LEARNAPP_HSTS_SECONDS": "0"}, None),  # off
    ({**HTTPS_SITE, "LEARNAPP_SECURE_COOKIES": "0"}, None),  # not an HTTPS deployment after all
    ({"LEARNAPP_PROXY_HOPS": "1"}, None),  # the demo's http:// base URL
    ({"LEARNAPP_SECURE_COOKIES": "1", "LEARNAPP_PROXY_HOPS": "1"}, "max-age=31536000"),
])
def test_strict_transport_security_follows_secure_cookies_and_its_setting(served, env, expected):
    response = served(**env).test_client().get("/login", headers=BEHIND_THE_PROXY)
    assert response.headers.get("Strict-Transport-Security") == expected
