"""Load: gunicorn (2 workers) on a generated organisation, many simulated reps doing their drill.

    python bench/load.py --database sqlite
    python bench/load.py --database postgres --restart-db     # also restarts PostgreSQL mid-load

Builds a fresh database (a generated organisation of --reps reps with --days of history), starts
gunicorn with gunicorn.conf.py, and for --seconds drives --concurrency keep-alive connections, each
a rep doing the drill mix: GET /drill/, POST an answer, GET the feedback (or "practise more" when
done). It prints throughput and p50/p99 latency of that mix, the same server's throughput on the
trivial /healthz route measured in the same run, their ratio, and the count of 5xx responses. Then
it checks that every answer the clients got a 303 for is stored exactly once, and that two tabs
answering the same item at once record one attempt. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "bench-pass-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def flask(env: dict, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "learnapp", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


def prepare(database: str, reps: int, days: int, tmp: Path) -> str:
    if database == "sqlite":
        url = f"sqlite:///{tmp / 'load.sqlite'}"
    else:
        subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-q", "-c", "DROP DATABASE IF EXISTS loadtest",
                        "-c", "CREATE DATABASE loadtest"], check=True)
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/loadtest"
    env = {**os.environ, "DATABASE_URL": url}
    flask(env, "db", "upgrade")
    flask(env, "content", "import")
    print("generated:", flask(env, "bench", "generate", "--reps", str(reps), "--days", str(days)), flush=True)
    return url


class Client:
    """One keep-alive connection with the session cookie, like one browser tab."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str, float]:
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            return 0, "", "", time.perf_counter() - started
        elapsed = time.perf_counter() - started
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.getheader("Location") or "", text, elapsed


def login(client: Client, email: str) -> bool:
    status, _, page, _ = client.request("GET", "/login")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if not token:
        return False
    status, _, _, _ = client.request("POST", "/login", {"email": email, "password": PASSWORD, "csrf_token": token.group(1)})
    return status == 302


def answer_form(page: str) -> dict | None:
    token = re.search(r'name="token" value="(\w+)"', page)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not token or not csrf:
        return None
    form = {"token": token.group(1), "csrf_token": csrf.group(1)}
    if 'name="order"' in page:
        form["order"] = " ".join(str(n + 1) for n in range(page.count('class="step"')))
    else:
        form["choice"] = re.search(r'name="choice" value="([^"]+)"', page).group(1)
    return form


def drill_worker(port: int, email: str, until: float, out: dict, lock: threading.Lock) -> None:
    client = Client(port)
    if not login(client, email):
        with lock:
            out["login_failures"] += 1
        return
    latencies, statuses, answered = [], [], []
    while time.time() < until:
        status, _, page, t = client.request("GET", "/drill/")
        latencies.append(t)
        statuses.append(status)
        form = answer_form(page) if status == 200 else None
        if form is None:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
            if csrf:
                status, _, _, t = client.request("POST", "/drill/more", {"csrf_token": csrf.group(1)})
                latencies.append(t)
                statuses.append(status)
            continue
        status, location, _, t = client.request("POST", "/drill/answer", form)
        latencies.append(t)
        statuses.append(status)
        if status == 303:
            answered.append(form["token"])
            status, _, _, t = client.request("GET", urllib.parse.urlsplit(location).path)
            latencies.append(t)
            statuses.append(status)
    with lock:
        out["latencies"] += latencies
        out["statuses"] += statuses
        out["answered"] += answered


def trivial_worker(port: int, until: float, out: list, lock: threading.Lock) -> None:
    client = Client(port)
    count = 0
    while time.time() < until:
        status, _, _, _ = client.request("GET", "/healthz")
        count += status == 200
    with lock:
        out.append(count)


def run_load(port: int, emails: list[str], concurrency: int, seconds: float, restart_db: bool) -> dict:
    out = {"latencies": [], "statuses": [], "answered": [], "login_failures": 0}
    lock = threading.Lock()
    until = time.time() + seconds
    threads = [threading.Thread(target=drill_worker, args=(port, emails[i % len(emails)], until, out, lock))
               for i in range(concurrency)]
    for t in threads:
        t.start()
    if restart_db:
        time.sleep(seconds / 3)
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        print("restarting PostgreSQL mid-load ...", flush=True)
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    for t in threads:
        t.join()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reps", type=int, default=500)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--restart-db", action="store_true", help="restart PostgreSQL a third of the way in")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare(args.database, args.reps, args.days, Path(tmp))
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "load-test", "LEARNAPP_BIND": f"127.0.0.1:{port}",
               "LEARNAPP_WORKERS": "2", "LEARNAPP_ACCESS_LOG": "/dev/null"}
        log = open(Path(tmp) / "gunicorn.log", "w")
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=log, stderr=log)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            report(args, url, port, env)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
            errors = [line for line in (Path(tmp) / "gunicorn.log").read_text().splitlines() if "Error" in line]
            if errors:
                print("  server errors (first 5 distinct):", *sorted(set(errors))[:5], sep="\n    ")


def report(args, url: str, port: int, env: dict) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "load-test")
    from learnapp.app import create_app
    from learnapp.extensions import db
    from learnapp.models import Attempt, Presentation, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        emails = list(db.session.scalars(db.select(User.email).filter_by(role="rep").order_by(User.id).limit(args.concurrency * 4)))
        before = db.session.scalar(db.select(db.func.count(Attempt.id)))
    load = run_load(port, emails, args.concurrency, args.seconds, args.restart_db)
    counts: list[int] = []
    lock = threading.Lock()
    until = time.time() + min(10.0, args.seconds)
    threads = [threading.Thread(target=trivial_worker, args=(port, until, counts, lock)) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    trivial = sum(counts) / min(10.0, args.seconds)
    latencies = sorted(load["latencies"])
    mix = len(latencies) / args.seconds
    errors = sum(1 for s in load["statuses"] if s >= 500 and s != 503)
    unavailable = sum(1 for s in load["statuses"] if s == 503)
    dropped = sum(1 for s in load["statuses"] if s == 0)
    print(f"{args.database}: {args.concurrency} connections, {args.seconds:.0f} s, gunicorn 2 workers")
    print(f"  drill mix: {mix:.0f} requests/s, p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:.1f} ms ({len(latencies)} requests)")
    print(f"  trivial route /healthz: {trivial:.0f} requests/s; ratio drill mix / trivial = {mix / trivial:.2f}")
    print(f"  5xx other than 503: {errors}; 503 (database restarting): {unavailable}; connections dropped: {dropped}; "
          f"login failures: {load['login_failures']}")
    with app.app_context():
        db.session.remove()
        stored = db.session.scalar(db.select(db.func.count(Attempt.id))) - before
        tokens = set(load["answered"])
        found = db.session.execute(db.select(Presentation.token, db.func.count(Attempt.id))
                                   .join(Attempt, Attempt.presentation_id == Presentation.id)
                                   .where(Presentation.token.in_(tokens)).group_by(Presentation.token)).all() if tokens else []
        exactly_once = len(found) == len(tokens) and all(n == 1 for _, n in found)
    print(f"  answers acknowledged (303): {len(load['answered'])}, distinct: {len(tokens)}; new attempts stored: {stored}; "
          f"each acknowledged answer stored exactly once: {exactly_once}")
    print(f"  two tabs answering the same item at once record one attempt: {two_tabs(port, emails[-1], app)}")


def two_tabs(port: int, email: str, app) -> bool:
    from learnapp.extensions import db
    from learnapp.models import Attempt, Presentation

    first = Client(port)
    login(first, email)
    second = Client(port)
    second.cookie = first.cookie
    status, _, page, _ = first.request("GET", "/drill/")
    form = answer_form(page)
    if form is None:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        first.request("POST", "/drill/more", {"csrf_token": csrf})
        status, _, page, _ = first.request("GET", "/drill/")
        form = answer_form(page)
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(c.request("POST", "/drill/answer", form)[0]))
               for c in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with app.app_context():
        db.session.remove()
        count = db.session.scalar(db.select(db.func.count(Attempt.id)).join(Presentation, Attempt.presentation_id == Presentation.id)
                                  .where(Presentation.token == form["token"]))
    return results == [303, 303] and count == 1


if __name__ == "__main__":
    main()
