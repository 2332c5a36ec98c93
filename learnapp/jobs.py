"""Background jobs. APScheduler runs them in one separate process (`flask --app learnapp scheduler`);
web workers never start a scheduler. Each job calls a service function.

A run is claimed by inserting its (job, run key) row first: a second scheduler started by mistake,
or a re-run of the same day, finds the row and does nothing, so no job runs twice for the same key.
Missed runs after downtime are coalesced into one by APScheduler.
"""

from __future__ import annotations

import socket
import time
import traceback
from datetime import datetime
from typing import Callable

from flask import Flask
from sqlalchemy.exc import IntegrityError

from learnapp.extensions import db
from learnapp.models import JobRun
from learnapp.services.db import now


def run_once(job: str, run_key: str, work: Callable[[], str]) -> JobRun | None:
    """Run ``work`` for (job, run_key) unless another process or an earlier run claimed it; returns the run or None."""
    claim = JobRun(job=job, run_key=run_key, status="running", started_at=now(), host=socket.gethostname())
    db.session.add(claim)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    started = time.perf_counter()
    try:
        detail, status = work(), "ok"
    except Exception:  # a job's failure is recorded for the admins, not raised into the scheduler
        db.session.rollback()
        detail, status = traceback.format_exc(limit=5), "error"
    claim = db.session.get(JobRun, claim.id)
    claim.status, claim.detail, claim.finished_at = status, detail[:10_000], now()
    claim.seconds = time.perf_counter() - started
    db.session.commit()
    return claim


def nightly_maintenance(when: datetime | None = None) -> JobRun | None:
    """Rebuild the derived dashboard rollups from attempts, once per day."""
    from learnapp.services.rollups import rebuild

    day = (when or now()).date().isoformat()
    return run_once("nightly-maintenance", day,
                    lambda: ", ".join(f"{table}: {count} rows" for table, count in rebuild().items()))


def reminders(when: datetime | None = None) -> JobRun | None:
    """Daily reminders, checked every quarter of an hour (each rep at their own local time, once a day)."""
    from learnapp.services.notify import send_reminders

    at = when or now()
    slot = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    return run_once("reminders", slot.strftime("%Y-%m-%dT%H:%M"), lambda: send_reminders(at))


def weekly_digest(when: datetime | None = None) -> JobRun | None:
    """The managers' weekly digest, once per ISO week."""
    from learnapp.services.notify import send_digests

    at = when or now()
    return run_once("weekly-digest", f"{at.isocalendar().year}-W{at.isocalendar().week:02d}", lambda: send_digests(at))


JOBS = {"nightly-maintenance": nightly_maintenance, "reminders": reminders, "weekly-digest": weekly_digest}


def make_scheduler(app: Flask, *, blocking: bool = True):
    """An APScheduler scheduler with the app's jobs (coalesced, one instance each) in the app's context."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600})

    def in_context(fn):
        def run():
            with app.app_context():
                fn()
        return run

    scheduler.add_job(in_context(nightly_maintenance), "cron", hour=2, minute=15, id="nightly-maintenance")
    scheduler.add_job(in_context(reminders), "cron", minute="*/15", id="reminders")
    scheduler.add_job(in_context(weekly_digest), "cron", day_of_week="mon", hour=6, minute=0, id="weekly-digest")
    return scheduler
