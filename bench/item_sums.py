"""The per-item sums of the trainer's list (services.analytics._ITEM_SUMS), and variants of its query and indexes.

    python bench/item_sums.py --sqlite /tmp/bench.sqlite [--postgres URL] [--runs 9] [--rounds 2]

Each database must hold a generated organisation (docs/performance.md uses ``flask --app learnapp bench generate
--reps 2000 --days 60 --variants 5``). Times, per database, the statement the list runs on every view and, in the
same rounds (interleaved, each first in turn, so the machine's load falls on all alike), variants that might make it cheaper:

- ``as is``: the GROUP BY over rollup_item_rep the list runs;
- ``covering index``: the same with an index holding every column it reads (scenario_id, skill_id, answers, right,
  first_correct), created in a transaction rolled back at the end (nothing is left in the database; on PostgreSQL
  the planner decides whether to use it, and without a VACUUM an index-only scan still visits the table);
- ``without min/max skill``: without the two aggregates that find items answered under several skills (not the same
  figures: shows what those cost).

Prints the median and the fastest of ``--runs`` executions (rows fetched) of each, per round, and whether the rows
were the same as the list's statement gives.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", help="path of a generated SQLite database")
    parser.add_argument("--postgres", help="URL of a generated PostgreSQL database")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    urls = ([f"sqlite:///{Path(args.sqlite).resolve()}"] if args.sqlite else []) + ([args.postgres] if args.postgres else [])
    if not urls:
        parser.error("give --sqlite and/or --postgres")
    os.environ.setdefault("SECRET_KEY", "bench")
    from learnapp.app import create_app
    from learnapp.extensions import db
    from learnapp.services import analytics

    rep = analytics._REP
    without_bounds = (db.select(rep.c.scenario_id, db.func.count(), db.func.sum(rep.c.answers), db.func.sum(rep.c.right),
                                db.func.sum(db.case((rep.c.first_correct, 1), else_=0)))
                      .group_by(rep.c.scenario_id).order_by(rep.c.scenario_id))
    covering = ('CREATE INDEX bench_item_sums_covering ON rollup_item_rep '
                '(scenario_id, skill_id, answers, "right", first_correct)')
    for url in urls:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            rows = db.session.scalar(db.select(db.func.count()).select_from(rep))
            print(f"{url.split(':')[0]}: {rows:,} rows of rollup_item_rep", flush=True)
            expected = db.session.execute(analytics._ITEM_SUMS).all()
            for number in range(1, args.rounds + 1):
                names = ["as is", "covering index", "without min/max skill"]
                for name in names[number % 3:] + names[:number % 3]:  # each first in turn
                    statement = without_bounds if name.startswith("without") else analytics._ITEM_SUMS
                    connection = db.session.connection()
                    if name == "covering index":
                        connection.exec_driver_sql(covering)
                    times = []
                    for _ in range(args.runs):
                        started = time.perf_counter()
                        got = connection.execute(statement).all()
                        times.append((time.perf_counter() - started) * 1000)
                    same = "" if name.startswith("without") else f"  same rows: {got == expected}"
                    db.session.rollback()  # the index goes with it
                    print(f"  round {number}  {name:22s} median {statistics.median(times):7.1f} ms  fastest "
                          f"{min(times):7.1f} ms  ({args.runs} runs){same}", flush=True)


if __name__ == "__main__":
    main()
