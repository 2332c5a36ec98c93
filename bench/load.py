"""Load: gunicorn (2 workers) on a generated organisation, many simulated reps doing their drill.

    python bench/load.py --database sqlite
    python bench/load.py --database postgres --restart-db     # also restarts PostgreSQL mid-load

Builds a fresh database (a generated organisation of --reps reps with --days of history), starts
gunicorn with gunicorn.conf.py, logs --concurrency reps in through the login form, and for --seconds
drives them with wrk (bench/load.lua: one wrk thread and connection per rep), each doing the drill
mix: GET /drill/, POST an answer, GET the feedback (or "practise more" when done). It prints
throughput and p50/p99 latency of that mix, the same server's throughput on the trivial /healthz
route measured in the same run, their ratio, and the count of 5xx responses. It also measures two
bench-only logged-in routes on the same server (bench/floor_wsgi.py): what a request costs that only
loads its user, and a page that only renders the layout, the floor under any drill request. Then
it checks that every answer the clients got a 303 for is stored exactly once, and that two tabs
answering the same item at once record one attempt. Only 127.0.0.1 is contacted.

On Linux it also reads, for each run, the CPU time that gunicorn (master and workers), the
PostgreSQL server processes and wrk used, divided by the requests served: with the server saturated,
the ratio to /healthz is close to the ratio of the server's CPU per request on each route.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import shutil
import signal
import socket
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


def cpu_seconds(server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by the gunicorn process tree and by the PostgreSQL server (Linux /proc; {} elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    used = {"server": 0.0, "database": 0.0}
    try:
        pids = [pid for pid in os.listdir("/proc") if pid.isdigit()]
    except OSError:
        return {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # gone meanwhile
            continue
        name, fields = stat[stat.index("(") + 1:stat.rindex(")")], stat[stat.rindex(")") + 2:].split()
        seconds = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        if int(pid) == server_pid or int(fields[1]) == server_pid:  # the master or one of its workers
            used["server"] += seconds
        elif name.startswith("postgres"):
            used["database"] += seconds
    return used


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
        self.cookies: dict[str, str] = {}  # every cookie the app set (the session, the known-device mark)

    @property
    def cookie(self) -> str:
        """The Cookie header a browser would send."""
        return "; ".join(f"{name}={value}" for name, value in self.cookies.items())

    @cookie.setter
    def cookie(self, header: str) -> None:
        self.cookies = dict(part.strip().split("=", 1) for part in header.split(";") if "=" in part)

    def request(self, method: str, path: str, form: dict | None = None) -> tuple[int, str, str, float]:
        headers = {"Cookie": self.cookie} if self.cookies else {}
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
        for set_cookie in response.msg.get_all("Set-Cookie") or []:
            name, _, value = set_cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
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


def run_wrk(port: int, cookies: list[str], path: str, concurrency: int, seconds: float, tmp: Path,
            restart_db: bool = False, server_pid: int = 0) -> dict:
    """Drive the drill mix (or one plain route when ``path`` is given) with wrk: one thread and one connection per rep."""
    cookie_file, out_file = tmp / "cookies.txt", tmp / "wrk-out.txt"
    cookie_file.write_text("\n".join(cookies) + "\n")
    out_file.unlink(missing_ok=True)
    command = ["wrk", f"-t{concurrency}", f"-c{concurrency}", f"-d{seconds:.0f}s", "--timeout", "30s"]
    if path is None:
        command += ["-s", str(ROOT / "bench" / "load.lua"), f"http://127.0.0.1:{port}/"]
    else:
        command += ["--latency", "-H", f"Cookie: {cookies[0]}", f"http://127.0.0.1:{port}{path}"]
    cpu_before, wrk_before = cpu_seconds(server_pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk = subprocess.Popen(command, env={**os.environ, "LOAD_COOKIES": str(cookie_file), "LOAD_OUT": str(out_file)},
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if restart_db:
        time.sleep(seconds / 3)
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        print("restarting PostgreSQL mid-load ...", flush=True)
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True)
    output, _ = wrk.communicate()
    cpu_after, wrk_after = cpu_seconds(server_pid), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {role: cpu_after[role] - cpu_before[role] for role in cpu_before}
    cpu["load generator"] = (wrk_after.ru_utime + wrk_after.ru_stime) - (wrk_before.ru_utime + wrk_before.ru_stime)
    if wrk.returncode != 0:
        sys.exit(f"wrk failed:\n{output}")
    if path is not None:
        if "Non-2xx" in output:  # e.g. a floor route redirecting to the login page would measure the wrong thing
            sys.exit(f"wrk got non-2xx responses from {path}:\n{output}")
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        return {"rate": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)), "output": output,
                "cpu_ms": {role: seconds * 1000 / requests for role, seconds in cpu.items()}}
    result: dict = {"statuses": {}, "answered": [], "cpu": cpu}
    for line in out_file.read_text().splitlines():
        key, *values = line.split()
        if key == "status":
            result["statuses"][int(values[0])] = result["statuses"].get(int(values[0]), 0) + int(values[1])
        elif key == "answered":
            result["answered"].append(values[0])
        else:
            result[key] = int(values[0])
    result["cpu_ms"] = {role: seconds * 1000 / max(result["requests"], 1) for role, seconds in result.pop("cpu").items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the issue's target is for 2)")
    parser.add_argument("--restart-db", action="store_true", help="restart PostgreSQL a third of the way in")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/load.py drives the load with wrk: install it first (Debian: apt-get install wrk)")
    with tempfile.TemporaryDirectory() as tmp:
        url = prepare(args.database, args.reps, args.days, Path(tmp))
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "load-test", "LEARNAPP_BIND": f"127.0.0.1:{port}",
               "LEARNAPP_WORKERS": str(args.workers), "LEARNAPP_ACCESS_LOG": str(Path(tmp) / "access.log"),
               "LEARNAPP_ACCESS_LOG_FORMAT": '%(m)s %(U)s %(s)s %(D)s'}
        log = open(Path(tmp) / "gunicorn.log", "w")
        # wsgi:app plus two bench-only routes that measure the framework's floor (see bench/floor_wsgi.py)
        server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "bench.floor_wsgi:app"], cwd=ROOT, env=env,
                                  stdout=log, stderr=log)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            report(args, url, port, Path(tmp), server.pid)
            server_times(Path(tmp) / "access.log")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()
            lines = (Path(tmp) / "gunicorn.log").read_text().splitlines()
            errors = [line for line in lines if "Error" in line]
            if errors:
                print("  server errors (first 5 distinct):", *sorted(set(errors))[:5], sep="\n    ")
            for i, line in enumerate(lines):  # an exception gunicorn caught (a 500 outside the app's handlers): its traceback
                if "Error handling request" in line:
                    end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("[")), len(lines))
                    print("  traceback of a 500:", *lines[i:end][-12:], sep="\n    ")
                    break


def report(args, url: str, port: int, tmp: Path, server_pid: int) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("SECRET_KEY", "load-test")
    from learnapp.app import create_app
    from learnapp.extensions import db
    from learnapp.models import Attempt, Presentation, User

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        emails = list(db.session.scalars(db.select(User.email).filter_by(role="rep").order_by(User.id).limit(args.concurrency + 1)))
        before = db.session.scalar(db.select(db.func.count(Attempt.id)))
    cookies = []
    for email in emails[:args.concurrency]:  # one rep per connection, logged in through the login form
        client = Client(port)
        if not login(client, email):
            sys.exit(f"could not log in as {email}")
        cookies.append(client.cookie)
    load = run_wrk(port, cookies, None, args.concurrency, args.seconds, tmp, args.restart_db, server_pid)
    healthz = run_wrk(port, cookies, "/healthz", args.concurrency, min(10.0, args.seconds), tmp, server_pid=server_pid)
    trivial = healthz["rate"]
    floor_runs = {path: run_wrk(port, cookies, path, args.concurrency, min(10.0, args.seconds), tmp, server_pid=server_pid)
                  for path in ("/bench/floor/user", "/bench/floor/page")}
    floors = {path: run["rate"] for path, run in floor_runs.items()}
    statuses = load["statuses"]
    total = sum(statuses.values())
    mix = load["requests"] / (load["duration_us"] / 1e6)
    errors = sum(n for s, n in statuses.items() if s >= 500 and s != 503)
    print(f"{args.database}: {args.concurrency} connections (wrk, one thread each), {args.seconds:.0f} s, gunicorn {args.workers} workers")
    print(f"  drill mix: {mix:.0f} requests/s, p50 {load['p50_us'] / 1000:.1f} ms, p99 {load['p99_us'] / 1000:.1f} ms "
          f"({total} responses: {', '.join(f'{n} x {s}' for s, n in sorted(statuses.items()))})")
    print(f"  trivial route /healthz: {trivial:.0f} requests/s; ratio drill mix / trivial = {mix / trivial:.2f}")
    for path, rate in floors.items():  # what a logged-in request costs before it does anything of its own
        print(f"  floor {path}: {rate:.0f} requests/s ({rate / trivial:.2f} of /healthz); drill mix / this = {mix / rate:.2f}")
    if load["cpu_ms"].get("server") is not None and not args.restart_db:  # a restart ends the database processes mid-run
        print("  CPU per request (ms): server (gunicorn) / database server / load generator (wrk)")
        for name, cpu_ms in [("drill mix", load["cpu_ms"]), ("/healthz", healthz["cpu_ms"]),
                             *((path, run["cpu_ms"]) for path, run in floor_runs.items())]:
            print(f"    {name:<20} {cpu_ms['server']:6.2f} / {cpu_ms['database']:6.2f} / {cpu_ms['load generator']:6.2f}")
    print(f"  5xx other than 503: {errors}; 503 (database restarting): {statuses.get(503, 0)}; "
          f"socket errors: {load['socket_errors']}")
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


def server_times(log: Path) -> None:
    """Time spent inside the workers per route (gunicorn's %(D)s), apart from the time requests wait for one."""
    by_route: dict[str, list[int]] = {}
    for line in log.read_text().splitlines():
        method, path, status, micros = line.split()
        route = method + " " + re.sub(r"/feedback/\w+", "/feedback/<token>", path)
        by_route.setdefault(route, []).append(int(micros))
    print("  time inside a worker per request (median / p99, all runs):")
    for route, times in sorted(by_route.items()):
        times.sort()
        print(f"    {route:<28} {len(times):>7} requests {times[len(times) // 2] / 1000:6.1f} / "
              f"{times[int(0.99 * (len(times) - 1))] / 1000:6.1f} ms")


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
