"""How long the reminders and the weekly digest take for a large company, and where the time goes.

    python bench/jobs_scale.py [--reps 2000] [--days 30] [--database URL] [--smtp-delay-ms 0]

Builds a fresh SQLite database (or uses --database, which is emptied first) with a generated organisation
(learnapp.services.benchgen: teams of 8 to 50 reps, each with a manager; every rep and manager in UTC with the
default reminder time, 09:00, on weekdays), starts a local SMTP server (aiosmtpd) that counts what it receives,
then runs, on the app's clock:

- the reminders job at 09:00 UTC on a weekday: every rep is due for a reminder at the same instant, the worst
  case of a company in one timezone;
- the weekly digest at Monday 06:00 UTC: every manager at once.

It prints each run's wall time, the emails received, the SQL statements per email and the time per email.
--smtp-delay-ms makes the SMTP server wait that long before answering each connection's greeting, as a relay
across a network (with TLS and a login) would: per-connection costs show up as time per email.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")


class Counter:
    def __init__(self) -> None:
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):
        self.messages += 1
        return "250 OK"


def smtp_server(delay_ms: int):
    """A local SMTP server counting messages; each new connection waits ``delay_ms`` before its greeting."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import SMTP

    class SlowGreeting(SMTP):
        async def _handle_client(self):
            if delay_ms:
                await asyncio.sleep(delay_ms / 1000)
            return await super()._handle_client()

    class SlowController(Controller):
        def factory(self):
            return SlowGreeting(self.handler, **self.SMTP_kwargs)

    import socket

    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = Counter()
    controller = SlowController(handler, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database", help="a database URL to use instead of a temporary SQLite file")
    parser.add_argument("--smtp-delay-ms", type=int, default=0)
    args = parser.parse_args()

    from sqlalchemy import event

    from learnapp import jobs
    from learnapp.app import create_app
    from learnapp.domain.clock import FixedClock
    from learnapp.extensions import db
    from learnapp.models import User
    from learnapp.services import benchgen
    from learnapp.services import content as content_service

    # a Tuesday, 09:00 UTC: the history ends the day before, so everyone has a drill to do
    tuesday = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)
    clock = FixedClock(tuesday - timedelta(hours=10))
    controller, inbox = smtp_server(args.smtp_delay_ms)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite:///{Path(tmp) / 'jobs.sqlite'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "CLOCK": clock, "SMTP_HOST": "127.0.0.1",
                          "SMTP_PORT": controller.port, "BASE_URL": "https://learn.example.com"})
        with app.app_context():
            db.drop_all()
            db.create_all()
            content_service.import_content(content_service.default_paths(), clock.now())
            report = benchgen.generate(args.reps, args.days, clock.now())
            db.session.execute(db.update(User).values(created_at=clock.now() - timedelta(days=args.days + 14)))
            db.session.commit()
            print(f"{report.reps} reps in {report.teams} teams, {report.attempts} attempts ({db.engine.dialect.name}), "
                  f"SMTP greeting delay {args.smtp_delay_ms} ms")
            statements = [0]

            @event.listens_for(db.engine, "before_cursor_execute")
            def _count(*_):
                statements[0] += 1

            for name, at, job in (("reminders", tuesday, jobs.reminders),
                                  ("weekly digest", tuesday + timedelta(days=6, hours=-3), jobs.weekly_digest)):
                clock.set(at)
                before, statements[0] = inbox.messages, 0
                start = time.perf_counter()
                run = job()
                seconds = time.perf_counter() - start
                sent = inbox.messages - before
                detail = run.detail if run is not None else "did not run"
                print(f"{name}: {seconds:.1f} s, {sent} emails ({detail[:80]}); "
                      f"{statements[0] / max(sent, 1):.1f} statements and {1000 * seconds / max(sent, 1):.1f} ms per email")
            db.session.remove()
            db.engine.dispose()
    controller.stop()


if __name__ == "__main__":
    main()
