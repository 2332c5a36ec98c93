"""Server time of the pages reps and managers open daily, in process, on a generated SQLite organisation.

    python bench/hot_pages.py [--reps 50] [--days 30] [--runs 40] [--forecast-reps 50] [--forecast-skills 40]

Builds a fresh SQLite database (content imported, benchgen.generate), then times through the app's test
client: a rep's progress page (GET /progress/), the drill's first item page (GET /drill/, the day's plan
already made), the manager's team dashboard (GET /team/<id>, warm: the day's forecast cached; and cold:
dashboard._FORECASTS emptied first, as the first opening of the day), the manager's weekly digest page
where it exists (GET /team/digest), and retention.forecast on a team of --forecast-reps x --forecast-skills
memory states (the generated team's states, repeated with their reviews shifted by up to 20 days, so the
size is reached whatever the content holds). Prints medians in ms and statements per request. Meant to be
run from two checkouts in turn (old and new), several times, comparing medians: the machine is noisy.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import statistics
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SECRET_KEY", "bench")

from timing import timed  # noqa: E402  (bench/timing.py)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--forecast-reps", type=int, default=50)
    parser.add_argument("--forecast-skills", type=int, default=40)
    args = parser.parse_args()

    from sqlalchemy import event

    from learnapp.app import create_app
    from learnapp.domain import retention
    from learnapp.extensions import db
    from learnapp.models import Team
    from learnapp.services import benchgen, dashboard
    from learnapp.services import content as content_service
    from learnapp.services.db import now
    from learnapp.services.drill import scheduler

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hot.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
        with app.app_context():
            db.drop_all()
            db.create_all()
            content_service.import_content(content_service.default_paths(), now())
            benchgen.generate(args.reps, args.days, now())
            team = max(db.session.scalars(db.select(Team)), key=lambda t: len(t.members))
            rep, manager = team.members[0], team.managers[0]
            rep_login, manager_login, team_id = rep.get_id(), manager.get_id(), team.id
            member_ids = [m.id for m in team.members]
            states = dashboard.team_states(member_ids)
            queries = [0]

            def count(*_):
                queries[0] += 1

            event.listen(db.engine, "before_cursor_execute", count)

        def client_of(login_id):
            client = app.test_client()
            with client.session_transaction() as session:
                session["_user_id"] = login_id
                session["_fresh"] = True
            return client

        rep_client, manager_client = client_of(rep_login), client_of(manager_login)

        def get(client, path):
            def call():
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
            return call

        def dashboard_cold():
            dashboard._FORECASTS.clear()
            get(manager_client, f"/team/{team_id}")()

        flat = [s for by_skill in states.values() for s in by_skill.values()]
        rng = random.Random(1)
        wanted = args.forecast_reps * args.forecast_skills
        big = []
        while flat and len(big) < wanted:
            s = flat[len(big) % len(flat)]
            shift = timedelta(days=rng.uniform(0, 20))
            big.append(dataclasses.replace(s, due=s.due - shift,
                                           last_review=s.last_review - shift if s.last_review else None))
        n = len(big)

        def forecast_big():
            with app.app_context():
                retention.forecast(big, now(), scheduler())

        measures = [("GET /progress/ (rep)", get(rep_client, "/progress/")),
                    ("GET /drill/ (rep)", get(rep_client, "/drill/")),
                    ("GET /team/<id> warm", get(manager_client, f"/team/{team_id}")),
                    ("GET /team/<id> cold forecast", dashboard_cold)]
        if "team.digest" in app.view_functions:
            measures.append(("GET /team/digest", get(manager_client, "/team/digest")))
        measures.append((f"forecast {n} states", forecast_big))
        print(f"team of {len(member_ids)} reps, {len(flat)} memory states; forecast on {n}")
        for name, fn in measures:
            queries[0] = 0
            fn()
            per_request = queries[0]
            _cold, values = timed(fn, args.runs)
            print(f"  {name:32s} median {statistics.median(values):8.2f} ms   queries {per_request}")


if __name__ == "__main__":
    main()
