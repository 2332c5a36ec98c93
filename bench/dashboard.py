"""Measure the team dashboard and the organisation-wide retention curve, on SQLite and PostgreSQL.

    python bench/dashboard.py --sqlite instance/bench.sqlite --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench

Each database must already hold a generated organisation:

    DATABASE_URL=... flask --app learnapp db upgrade
    DATABASE_URL=... flask --app learnapp content import
    DATABASE_URL=... flask --app learnapp bench generate --reps 10000 --days 365

Prints, per database: the attempt count, then median and p99 server time of (a) GET of the dashboard
page of the largest team (50 reps at most), through the app's test client as its manager, and
(b) the organisation-wide retention curve from the rollups. Timings are noisy here: read medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learnapp.app import create_app  # noqa: E402
from learnapp.extensions import db  # noqa: E402
from learnapp.models import ORGANISATION, Attempt, Team, User  # noqa: E402
from learnapp.services import dashboard  # noqa: E402
from learnapp.services.db import now  # noqa: E402
from timing import timed  # noqa: E402  (bench/timing.py)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(url: str, runs: int) -> None:
    os.environ.setdefault("SECRET_KEY", "bench")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        attempts = db.session.scalar(db.select(db.func.count(Attempt.id)))
        reps = db.session.scalar(db.select(db.func.count(User.id)).filter_by(role="rep"))
        team = max(db.session.scalars(db.select(Team)), key=lambda t: (len(t.members) <= 50, len(t.members)))
        manager = team.managers[0]
        login_id = manager.get_id()  # "<id>:<session token>", what Flask-Login keeps in the session
        size = len(team.members)
        today = now().date()
        span = dashboard.DateRange(today - timedelta(weeks=26), today)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = login_id
        session["_fresh"] = True

    def page():
        response = client.get(f"/team/{team.id}")
        assert response.status_code == 200, response.status_code

    def org_curve():
        with app.app_context():
            dashboard.retention_curve(ORGANISATION, span)

    print(f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}: {reps} reps, {attempts} attempts; team of {size} reps")
    for name, fn in (("team dashboard page", page), ("organisation-wide curve", org_curve)):
        cold, values = timed(fn, runs)
        print(f"  {name:26s} median {statistics.median(values):8.1f} ms   p99 {percentile(values, 0.99):8.1f} ms   "
              f"({runs} runs; first, cold: {cold:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", help="path of a generated SQLite database")
    parser.add_argument("--postgres", help="URL of a generated PostgreSQL database")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    if not args.sqlite and not args.postgres:
        parser.error("give --sqlite and/or --postgres")
    if args.sqlite:
        measure(f"sqlite:///{Path(args.sqlite).resolve()}", args.runs)
    if args.postgres:
        measure(args.postgres, args.runs)


if __name__ == "__main__":
    main()
