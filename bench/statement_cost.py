"""What SQLAlchemy adds to one of the drill's prebuilt statements, in process.

    python bench/statement_cost.py [--calls 5000] [--rounds 3]

Builds a small SQLite organisation and runs the drill's memory-state select (``drill._STATE``) --calls times
three ways: through the ORM session (as the drill does), through the session's Core connection, and on the
sqlite3 cursor with the statement compiled once. Prints microseconds per call for each, per round.
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
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from learnapp.app import create_app
    from learnapp.extensions import db
    from learnapp.services import benchgen
    from learnapp.services import content as content_service
    from learnapp.services import drill
    from learnapp.services.db import now

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(tmp) / 'cost.sqlite'}"})
        with app.app_context():
            db.create_all()
            content_service.import_content(content_service.default_paths(), now())
            benchgen.generate(30, 5, now())
            user_id, skill = db.session.execute(db.text("SELECT user_id, skill_id FROM memory_state LIMIT 1")).one()
            params = {"user_id": user_id, "skill": skill}
            connection = db.session.connection()
            cursor = connection.connection.driver_connection
            sql = str(drill._STATE.compile(dialect=db.engine.dialect))
            ways = {
                "ORM session": lambda: db.session.execute(drill._STATE, params).first(),
                "Core connection": lambda: connection.execute(drill._STATE, params).first(),
                "sqlite3 cursor": lambda: cursor.execute(sql, (user_id, skill)).fetchone(),
            }
            for round_ in range(1, args.rounds + 1):
                figures = []
                for name, call in ways.items():
                    started = time.perf_counter()
                    for _ in range(args.calls):
                        call()
                    figures.append(f"{name} {(time.perf_counter() - started) / args.calls * 1e6:.1f} us")
                print(f"round {round_}: " + ", ".join(figures))
            db.session.rollback()


if __name__ == "__main__":
    main()
