"""How long a content import of 1,000 scenario files holds the content lock (on SQLite: the database's write lock).

    python bench/import_lock.py [--runs 5] [--code PATH]

Every drill answer needs SQLite's write lock, so an import holding it keeps every rep waiting. For each of
``--runs`` fresh SQLite databases this imports the shipped lessons and 1,000 scenario files (bench/authoring.py's
set), then imports the same files again (nothing changed: nothing to write), and prints the medians of the whole
import's time and of the time the lock was held (from the moment the import took it to its commit or rollback).

``--code PATH`` runs the learnapp package of another checkout (e.g. a ``git worktree`` of an earlier commit) on the
same files, to compare before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--code", type=Path, default=ROOT, help="the checkout whose learnapp package runs")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    sys.path.insert(1, str(ROOT))  # bench/authoring.py's file set, from this checkout

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    import learnapp
    from bench.authoring import thousand_files
    from learnapp.app import create_app
    from learnapp.domain.clock import FixedClock
    from learnapp.extensions import db
    from learnapp.services import content as content_service

    assert Path(learnapp.__file__).resolve().is_relative_to(args.code.resolve()), learnapp.__file__
    held: list[float] = []
    taken: list[float] = []
    real_lock = content_service.begin_content_write

    def lock_noting_when():
        real_lock()
        taken.append(time.perf_counter())

    def released(_session):
        if len(taken) > len(held):
            held.append(time.perf_counter() - taken[-1])

    content_service.begin_content_write = lock_noting_when
    event.listen(Session, "after_commit", released)
    event.listen(Session, "after_rollback", released)
    os.environ.setdefault("SECRET_KEY", "bench")
    results: dict[str, list[tuple[float, float]]] = {"into an empty database": [], "again, unchanged": []}
    with tempfile.TemporaryDirectory() as tmp:
        files = thousand_files(Path(tmp) / "content")
        paths = [str(files / "lessons"), str(files / "scenarios")]
        for n in range(args.runs):
            run_dir = Path(tmp) / f"db{n}"
            run_dir.mkdir()
            app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{run_dir / 'bench.sqlite'}",
                              "CLOCK": FixedClock(NOW)})
            with app.app_context():
                db.create_all()
                for case in results:
                    started = time.perf_counter()
                    report = content_service.import_content(paths, NOW)
                    total = time.perf_counter() - started
                    assert report.ok and report.scenarios == 1000, report.errors[:3]
                    results[case].append((total, held[-1]))
                db.session.remove()
    print(f"code: {args.code.resolve()}  ({args.runs} runs, 1,000 scenario files, SQLite)")
    for case, runs in results.items():
        totals, locks = [r[0] for r in runs], [r[1] for r in runs]
        print(f"  import {case}: median {statistics.median(totals):.2f} s, lock held median "
              f"{statistics.median(locks):.2f} s (held: {', '.join(f'{x:.2f}' for x in locks)})")


if __name__ == "__main__":
    main()
