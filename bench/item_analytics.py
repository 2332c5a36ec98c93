"""The trainer's list (GET /author/) and its item analytics, on a generated organisation.

    python bench/item_analytics.py --sqlite /tmp/bench.sqlite [--postgres URL] [--runs 10] [--rounds 3] [--against DIR]

Each database must already hold a generated organisation (see bench/dashboard.py for the commands; the figures in
docs/performance.md use ``flask --app learnapp bench generate --reps 2000 --days 60``). A trainer account
``trainer@bench.test`` is added if the database has none.

Prints, per database: the attempts and rollup_item_rep rows, then the median (and the fastest) of ``--runs`` warm
calls of (a) GET /author/ through the app's test client as that trainer and (b) analytics.all_item_stats() alone,
after one cold call; and a digest of every figure the list shows (stats and skill summaries, floats to the last
bit), so two versions of the code can be checked to give the same figures. Code that stores the discrimination index
(past services.analytics.LIVE_RANKING_ROWS rows to rank) has it computed and stored first, as the nightly job does,
timed; the line says whether the list ranked reps live or read the stored index.

``--against DIR`` measures another checkout of learnapp (e.g. a ``git worktree`` of an older commit) in the same
way, each database's runs interleaved round by round with this checkout's, in fresh processes. ``--code DIR``
measures the learnapp of DIR in this process (what ``--against`` runs).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from timing import timed  # bench/timing.py

ROOT = Path(__file__).resolve().parents[1]


def digest(stats: dict, by_skill: dict) -> str:
    """A hash of every figure (repr keeps a float's every bit), independent of the dicts' order."""
    text = repr((sorted((k, repr(v)) for k, v in stats.items()), sorted((k, repr(v)) for k, v in by_skill.items())))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def measure(url: str, runs: int, label: str) -> None:
    from learnapp.app import create_app
    from learnapp.extensions import db
    from learnapp.models import Attempt, ItemRepRollup, User
    from learnapp.services import analytics
    from learnapp.services.db import now
    from learnapp.services.users import create_user

    os.environ.setdefault("SECRET_KEY", "bench")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        attempts = db.session.scalar(db.select(db.func.count(Attempt.id)))
        pairs = db.session.scalar(db.select(db.func.count()).select_from(ItemRepRollup))
        trainer = db.session.scalars(db.select(User).filter_by(email="trainer@bench.test")).first()
        if trainer is None:
            trainer = create_user("trainer@bench.test", "Trainer", "bench-pass-2026", "trainer", now=now())
            db.session.commit()
        login_id = trainer.get_id()
        refresh = getattr(analytics, "refresh_discriminations", None)  # code that stores the nightly index
        if refresh is not None:  # as the nightly job would, so the figures are those of the data as it is
            started = time.perf_counter()
            refresh()
            refreshed = f"stored (computed in {(time.perf_counter() - started) * 1000:.0f} ms, as the nightly job does)"
        result = analytics.all_item_stats()
        figures = digest(*result[:2])
        index = "live" if getattr(result, "discrimination_as_of", None) is None else refreshed
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = login_id, True

    def page():
        response = client.get("/author/")
        assert response.status_code == 200, response.status_code

    def item_stats():
        with app.app_context():
            analytics.all_item_stats()

    print(f"{label} {url.split(':')[0]}: {attempts} attempts, {pairs} rows of rollup_item_rep; figures {figures}; "
          f"discrimination index {index}", flush=True)
    for name, fn in (("GET /author/", page), ("all_item_stats()", item_stats)):
        cold, values = timed(fn, runs)
        print(f"  {name:18s} median {statistics.median(values):7.1f} ms   fastest {min(values):7.1f} ms   "
              f"({runs} runs; first, cold: {cold:.0f} ms)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", help="path of a generated SQLite database")
    parser.add_argument("--postgres", help="URL of a generated PostgreSQL database")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1, help="with --against: rounds of interleaved runs")
    parser.add_argument("--against", help="another checkout to measure, interleaved with this one")
    parser.add_argument("--code", help="the checkout whose learnapp to measure (default: this one)")
    args = parser.parse_args()
    urls = ([f"sqlite:///{Path(args.sqlite).resolve()}"] if args.sqlite else []) + ([args.postgres] if args.postgres else [])
    if not urls:
        parser.error("give --sqlite and/or --postgres")
    if args.against:
        checkouts = [("other", Path(args.against).resolve()), ("this", ROOT)]
        for number in range(1, args.rounds + 1):
            for url in urls:
                for label, code in checkouts:
                    option = ["--sqlite", url[len("sqlite:///"):]] if url.startswith("sqlite") else ["--postgres", url]
                    subprocess.run([sys.executable, __file__, *option, "--runs", str(args.runs), "--code", str(code)],
                                   check=True, env=dict(os.environ, BENCH_LABEL=f"round {number}, {label} ({code}),"))
        return
    sys.path.insert(0, str(Path(args.code).resolve() if args.code else ROOT))
    for url in urls:
        measure(url, args.runs, os.environ.get("BENCH_LABEL", f"{args.code or ROOT},"))


if __name__ == "__main__":
    main()
