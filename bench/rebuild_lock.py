"""How long the rollup rebuild holds the write lock: its write transactions and the longest one.

    python bench/rebuild_lock.py [--reps 300] [--days 90] [--runs 3]

Builds a fresh SQLite database with a generated organisation (learnapp.services.benchgen), then runs
`rollups.rebuild()` --runs times and prints, for each run, the total time, how many write transactions
it took and the longest of them (from its begin_write to the engine's commit). An answer arriving
during a rebuild waits at most for the write transaction in progress.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from sqlalchemy import event

    from learnapp.app import create_app
    from learnapp.extensions import db
    from learnapp.models import Attempt
    from learnapp.services import benchgen, rollups
    from learnapp.services import content as content_service
    from learnapp.services.db import now

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'rebuild.sqlite'}"})
        with app.app_context():
            db.create_all()
            content_service.import_content(content_service.default_paths(), now())
            benchgen.generate(args.reps, args.days, now())
            print(f"{args.reps} reps, {db.session.scalar(db.select(db.func.count(Attempt.id)))} attempts")
            spans: list[float] = []
            began: list[float] = []

            @event.listens_for(db.engine, "commit")
            def _committed(_conn):
                if began:
                    spans.append(time.perf_counter() - began.pop())

            real_begin_write = rollups.begin_write

            def timed_begin_write(**options):
                began[:] = [time.perf_counter()]
                return real_begin_write(**options)

            rollups.begin_write = timed_begin_write
            for _ in range(args.runs):
                spans.clear()
                start = time.perf_counter()
                rollups.rebuild()
                total = time.perf_counter() - start
                print(f"rebuild {total:.2f} s: {len(spans)} write transactions, the longest {max(spans):.2f} s")
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
