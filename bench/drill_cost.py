"""Server cost of the drill mix, in process: milliseconds and SQL queries per request, by route.

    python bench/drill_cost.py [--reps 300] [--days 30] [--requests 3000] [--database URL] [--profile]

Builds a fresh SQLite database (or uses --database, which is emptied first) with a generated
organisation, logs in reps through the app's test client and runs the same drill mix as
bench/load.py (GET /drill/, POST the answer, GET the feedback, or "practise more" when done) with
no network and no concurrency. It prints the median time and the queries per request for each
route, so a change to the drill code can be compared before and after without the noise of a load
run. --profile prints the top functions by cumulative time (and with DRILL_COST_DUMP=FILE set, also
saves the profile there for pstats).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")


def route_of(method: str, path: str) -> str:
    return f"{method} " + re.sub(r"/feedback/\w+", "/feedback/<token>", path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--database", help="a database URL to use instead of a temporary SQLite file")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of the last request of each route")
    args = parser.parse_args()

    from sqlalchemy import event

    from learnapp.app import create_app
    from learnapp.extensions import db
    from learnapp.models import User
    from learnapp.services import benchgen
    from learnapp.services import content as content_service
    from learnapp.services.db import now

    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'cost.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
        with app.app_context():
            db.drop_all()
            db.create_all()
            content_service.import_content(content_service.default_paths(), now())
            benchgen.generate(args.reps, args.days, now())
            emails = list(db.session.scalars(db.select(User.email).filter_by(role="rep").order_by(User.id).limit(args.clients)))
            queries = [0]
            statements: list[str] = []

            def count(conn, cursor, statement, *rest):
                queries[0] += 1
                statements.append(" ".join(statement.split())[:160])

            event.listen(db.engine, "before_cursor_execute", count)

        clients = []
        for email in emails:
            client = app.test_client()
            client.post("/login", data={"email": email, "password": benchgen.PASSWORD})
            clients.append(client)

        timings: dict[str, list[float]] = defaultdict(list)
        sql: dict[str, list[str]] = {}
        counts: dict[str, list[int]] = defaultdict(list)

        def request(client, method: str, path: str, data=None):
            queries[0] = 0
            statements.clear()
            started = time.perf_counter()
            response = client.open(path, method=method, data=data)
            timings[route_of(method, path)].append(time.perf_counter() - started)
            counts[route_of(method, path)].append(queries[0])
            sql[route_of(method, path)] = list(statements)
            return response

        def step(client):
            page = request(client, "GET", "/drill/").get_data(as_text=True)
            token = re.search(r'name="token" value="(\w+)"', page)
            if token is None:
                request(client, "POST", "/drill/more")
                return
            form = {"token": token.group(1)}
            if 'name="order"' in page:
                form["order"] = " ".join(str(n + 1) for n in range(page.count('class="step"')))
            else:
                form["choice"] = re.search(r'name="choice" value="([^"]+)"', page).group(1)
            response = request(client, "POST", "/drill/answer", form)
            if response.status_code == 303:
                request(client, "GET", response.headers["Location"])

        profiler = cProfile.Profile() if args.profile else None
        total = 0
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        while total < args.requests:
            for client in clients:
                step(client)
            total = sum(len(t) for t in timings.values())
        if profiler:
            profiler.disable()
        elapsed = time.perf_counter() - started
        for _ in range(300):  # the same app's trivial route, as the yardstick for this run's machine speed
            request(clients[0], "GET", "/healthz")

    yardstick = statistics.median(timings.pop("GET /healthz"))
    print(f"{total} requests in {elapsed:.1f} s: {elapsed / total * 1000:.2f} ms per request on average "
          f"({url.split(':')[0]})")
    print(f"{'route':<28} {'requests':>8} {'median ms':>10} {'mean ms':>8} {'queries':>8}")
    for route in sorted(timings):
        t = timings[route]
        print(f"{route:<28} {len(t):>8} {statistics.median(t) * 1000:>10.2f} {statistics.fmean(t) * 1000:>8.2f} "
              f"{statistics.fmean(counts[route]):>8.1f}")
    print(f"GET /healthz median {yardstick * 1000:.2f} ms; drill mix mean / healthz = {elapsed / total / yardstick:.1f}")
    if args.show_sql:
        for route, lines in sorted(sql.items()):
            print(f"\n{route}:", *lines, sep="\n  ")
    if profiler:
        stats = pstats.Stats(profiler)
        by_package: dict[str, float] = defaultdict(float)
        for (filename, _, name), (_, _, tottime, _, _) in stats.stats.items():
            package = re.search(r"site-packages/([A-Za-z0-9_]+)", filename)
            by_package[package.group(1) if package else ("learnapp" if "/learnapp/" in filename else name if filename == "~" else "other")] += tottime
        print("\nown time by package (profiled, so inflated):")
        for package, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:15]:
            print(f"  {package:<40} {seconds / total * 1000:6.2f} ms per request")
        stats.sort_stats("cumulative").print_stats(30)
        if os.environ.get("DRILL_COST_DUMP"):
            stats.dump_stats(os.environ["DRILL_COST_DUMP"])


if __name__ == "__main__":
    main()
