"""Content the size of a large company's: what checking, importing and the pages that show it cost.

    python bench/big_content.py [--runs 5] [--moves 120] [--stages 12] [--skills 40] [--per-skill 10] [--days 40]

Writes the content set of tests/big_content.py (by default 120 moves, 12 stages whose rules name every move,
40 lessons, 400 scenarios) into a throwaway folder, then prints the median (and slowest) of ``--runs``:
``content check`` of it all (load_content), its import into a fresh SQLite database, an unchanged re-import, and
an import of lessons/ with one reason of one stage rule edited (every stored scenario is checked against the new
rules) with how long it held the content lock (on SQLite the write lock every drill answer needs). Then a manager's
team of 10 reps, who drill (one every day, the others every third day) for ``--days`` days (3 new skills a day: all
40 started by day 14), and the median server time of each page a trainer, that rep and their manager open, through
the app's test client (in process: no network, no gunicorn).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def timed(function, runs: int) -> tuple[float, float]:
    """Median and slowest wall time of ``runs`` calls, in ms."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def line(what: str, figures: tuple[float, float]) -> None:
    print(f"{what:52s} median {figures[0]:8.0f} ms  slowest {figures[1]:8.0f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--moves", type=int, default=120)
    parser.add_argument("--stages", type=int, default=12)
    parser.add_argument("--skills", type=int, default=40)
    parser.add_argument("--per-skill", type=int, default=10)
    parser.add_argument("--days", type=int, default=40)
    args = parser.parse_args()

    os.environ.setdefault("SECRET_KEY", "bench")
    from learnapp.app import create_app
    from learnapp.domain.clock import FixedClock
    from learnapp.domain.content import load_content
    from learnapp.extensions import db
    from learnapp.services import content as content_service
    from learnapp.services.content import import_content
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from learnapp.services.users import create_user
    from tests.big_content import big_content
    from tests.helpers import drill_all

    folder = Path(tempfile.mkdtemp(prefix="big-content-"))
    lessons, scenarios = big_content(folder, args.moves, args.stages, args.skills, args.per_skill)
    paths = [str(lessons), str(scenarios)]
    print(f"moves.md {(lessons / 'moves.md').stat().st_size:,} bytes, a stage file "
          f"{max(p.stat().st_size for p in (lessons / 'stages').glob('*.md')):,} bytes")
    line("content check (load_content)", timed(lambda: load_content(paths), args.runs))

    clock = FixedClock(START)
    lock_held, taken = [], []  # how long each import held the content lock, as bench/import_lock.py measures it
    real_lock = content_service.begin_content_write

    def lock_noting_when():
        real_lock()
        taken.append(time.perf_counter())

    def released(_session):
        if len(taken) > len(lock_held):
            lock_held.append(time.perf_counter() - taken[-1])

    content_service.begin_content_write = lock_noting_when
    event.listen(Session, "after_commit", released)
    event.listen(Session, "after_rollback", released)
    apps = iter(range(1_000))

    def fresh():
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/db{next(apps)}.sqlite", "CLOCK": clock,
                          "WTF_CSRF_ENABLED": False, "CONTENT_DIRS": paths})
        with app.app_context():
            db.create_all()
        return app

    def import_fresh():
        with fresh().app_context():
            assert import_content(paths, clock.now()).ok

    line("content import into an empty database", timed(import_fresh, args.runs))
    app = fresh()
    with app.app_context():
        report = import_content(paths, clock.now())
        assert report.ok, report.errors[:3]
        line("content import again, unchanged", timed(lambda: import_content(paths, clock.now()), args.runs))
        stage_file = sorted((lessons / "stages").glob("*.md"))[0]
        original, held = stage_file.read_text(), []
        for run in range(args.runs):  # one reason of one stage rule edited: the 400 stored scenarios are checked again
            stage_file.write_text(original.replace("keeps their trust.", f"keeps their trust ({run}).", 1))
            started = time.perf_counter()
            report = import_content([str(lessons)], clock.now())
            assert report.ok and report.stage_model_changed, report.errors[:3]
            held.append(((time.perf_counter() - started) * 1000, lock_held[-1] * 1000))
        line("content import of lessons/, one stage rule edited", (statistics.median(t for t, _ in held), max(t for t, _ in held)))
        line("  of which the content lock (SQLite: write lock)", (statistics.median(h for _, h in held), max(h for _, h in held)))
        trainer = create_user("trainer@bench.test", "Trainer", None, "trainer", now=clock.now())
        manager = create_user("manager@bench.test", "Manager", None, "manager", team="North", now=clock.now())
        reps = [create_user(f"rep{n}@bench.test", f"Rep {n}", None, "rep", team="North", now=clock.now())
                for n in range(10)]
        db.session.commit()
        answered = 0
        for day in range(args.days):
            for n, rep in enumerate(reps):
                if n == 0 or day % 3 == n % 3:  # the first rep every day, the others every third day
                    answered += drill_all(rep, clock)
            clock.advance(timedelta(days=1))
        logins = {who: user.get_id() for who, user in (("trainer", trainer), ("manager", manager), ("rep", reps[0]))}
        team_id, rep_id = reps[0].team_id, reps[0].id
    print(f"{answered:,} answers over {args.days} days")
    scenario, skill, stage = "skill-01-case-01", "skill-01", "stage-01"
    pages = {
        "trainer": ["/author/", f"/author/scenarios/{scenario}/edit", "/author/scenarios/new",
                    f"/author/scenarios/{scenario}/history", f"/author/scenarios/{scenario}/try",
                    f"/author/lessons/{skill}/edit"],
        "rep": ["/drill/", "/lessons/", f"/lessons/{skill}", f"/lessons/stages/{stage}", "/progress/",
                "/progress/answers.csv"],
        "manager": [f"/team/{team_id}", f"/team/{team_id}/skill/{skill}", f"/team/rep/{rep_id}"],
    }
    for who, urls in pages.items():
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = logins[who], True
        for url in urls:
            def get(url=url):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
            line(f"{who:8s} GET {url}", timed(get, args.runs))
    rep_client = app.test_client()
    with rep_client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = logins["rep"], True

    def next_day():  # the first GET of a day plans the day's drill: due skills among 40, lowest recall first
        clock.advance(timedelta(days=1))
        response = rep_client.get("/drill/")
        assert response.status_code == 200

    line("rep      GET /drill/ first of the day (plans it)", timed(next_day, args.runs))
    trainer_client = app.test_client()
    with trainer_client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = logins["trainer"], True
    text = (scenarios / skill / f"{scenario}.md").read_text()
    line("trainer  POST /author/validate (a scenario)",
         timed(lambda: trainer_client.post("/author/validate", json={"text": text}), args.runs))


if __name__ == "__main__":
    main()
