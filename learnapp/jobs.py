"""Background jobs. APScheduler runs them in one separate process (`flask --app learnapp scheduler`);
web workers never start a scheduler. Each job calls a service function.

Every job runs for an occurrence of its schedule (a quarter hour, a day), named by a run key. A run is claimed by inserting its (job, run key) row first: a second scheduler started by
mistake, or a re-run of the same occurrence, finds the row and does nothing, so no job runs twice
for the same key. A run that fails, or that skips because it cannot work yet (no mail relay
configured), gives its key back (its row stays in the history), so the next check tries again. A run whose
process died records no end: after a lease, the next claim of any job marks it interrupted and gives its key back.

The scheduler checks the nightly job every hour, the others every quarter hour, and everything once at start-up: each
check runs the most recent occurrence due if it has not run yet. After downtime the missed
occurrences are therefore caught up once, the latest one, never replayed one by one.
"""

from __future__ import annotations

import socket
import time
import traceback
from datetime import date, datetime, timedelta, timezone
from typing import Callable

from flask import Flask
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from learnapp.extensions import db
from learnapp.models import JobRun, Notification, User
from learnapp.services.db import begin_write, now

LEASE = timedelta(hours=3)  # a claim still "running" after this belongs to a process that died
NIGHTLY_AT = (2, 15)  # UTC hour and minute of the nightly maintenance


class Skipped(Exception):
    """Raised by a job's work when it cannot do anything yet (no mail relay, say): recorded, the key given back."""


class Failed(RuntimeError):
    """Raised by a job's work for a failure it expected (a mail relay down, say): its message, which says what failed
    and why, is the run's detail; an unexpected exception is recorded as its type and message, then its traceback."""


TRACEBACK_START = "Traceback (most recent call last):"
TRACEBACK_KEPT = 8_000  # characters of an unexpected error's traceback kept in the history (its end: where it was raised)
CAUSE_KEPT = 1_000  # characters of its type and message (an SQL error's can hold a whole statement)


def error_detail(exc: BaseException) -> str:
    """An unexpected error for the history: its type and message on the first line, a blank line, then its traceback.

    The first line is what the scheduler's log shows (the cause: "ConnectionRefusedError: [Errno 111] Connection
    refused"), the traceback is for the admins' job history page.
    """
    trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if len(trace) > TRACEBACK_KEPT:
        trace = f"{TRACEBACK_START}\n  […]\n{trace[-TRACEBACK_KEPT:]}"
    cause = one_line("".join(traceback.format_exception_only(type(exc), exc)))
    if len(cause) > CAUSE_KEPT:
        cause = cause[:CAUSE_KEPT - 1] + "…"
    return f"{cause}\n\n{trace}"


def one_line(text: str) -> str:
    return " ".join(text.split())


def headline(detail: str) -> str:
    """A run's detail on one line; for an unexpected error, its first line: the exception's type and message.

    Errors recorded before that line came first start with "Traceback (most recent call last):" and end with the
    exception's line: that last line then.
    """
    detail = detail or ""
    if detail.startswith(TRACEBACK_START):
        return one_line(detail.strip().splitlines()[-1])
    return one_line(detail.split("\n\n" + TRACEBACK_START, 1)[0])


def has_traceback(detail: str) -> bool:
    return TRACEBACK_START in (detail or "")


def run_once(job: str, run_key: str, work: Callable[[], str], *, lease: timedelta = LEASE) -> JobRun | None:
    """Run ``work`` for (job, run_key) unless another process or an earlier run claimed it; returns the run or None."""
    started_at = now()
    begin_write()
    if mark_interrupted(started_at, lease):  # committed on its own: a claim refused below must not undo it
        db.session.commit()
        begin_write()
    claim = JobRun(job=job, run_key=run_key, status="running", started_at=started_at, host=socket.gethostname())
    db.session.add(claim)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    claim_id, started = claim.id, time.perf_counter()
    try:
        detail, status = work(), "ok"
    except Skipped as reason:
        db.session.rollback()
        detail, status = str(reason), "skipped"
    except Failed as failure:  # an expected failure (emails not sent): its message says which and why
        db.session.rollback()
        detail, status = str(failure), "error"
    except Exception as exc:  # a job's failure is recorded for the admins, not raised into the scheduler
        db.session.rollback()
        detail, status = error_detail(exc), "error"
    begin_write()
    claim = db.session.get(JobRun, claim_id)
    claim.status, claim.detail, claim.finished_at = status, detail[:10_000], now()
    claim.seconds = time.perf_counter() - started
    if status != "ok":  # give the key back so the next check tries again; the row stays in the history
        claim.run_key = f"{run_key} #{claim_id}"
    db.session.commit()
    return claim


CLAIMED_EMAILS = {"reminders": "reminder", "weekly-digest": "digest"}  # job: the kind of email its runs claim


def mark_interrupted(at: datetime, lease: timedelta = LEASE) -> int:
    """Mark every run of any job still "running" past the lease as interrupted and give its key back; how many.

    Its process was killed mid-run (a run records its end even when it fails). Runs whose key comes back (a day,
    a week) were taken over at their next claim, but reminders and digests are keyed by the quarter hour: without
    this their row said "running" forever. Called at every claim (so by the first check after a scheduler starts).
    """
    stale = db.session.scalars(db.select(JobRun).where(JobRun.status == "running", JobRun.started_at < at - lease)).all()
    for run in stale:
        # guarded by the status: another scheduler marking the same row meanwhile leaves it as that one wrote it
        db.session.execute(update(JobRun).where(JobRun.id == run.id, JobRun.status == "running").values(
            status="interrupted", run_key=f"{run.run_key} #{run.id}", finished_at=at,
            detail=interrupted_detail(run, lease) + "; its key was given back"))
    return len(stale)


def interrupted_detail(run: JobRun, lease: timedelta = LEASE) -> str:
    """What the history says of a run whose process ended before it did, with the last email it claimed, if any.

    Each email is claimed before it is sent, so that nothing is ever sent twice: an email claimed by a process
    killed before it went out is never sent. The run's claims are those of its kind stamped in its quarter hour
    (its run key); they went out one after the other, so at most the last one can be lost.
    """
    detail = f"stopped without finishing: the process ended (no end recorded within the {lease / timedelta(hours=1):g}-hour lease)"
    kind = CLAIMED_EMAILS.get(run.job)
    try:
        slot = datetime.fromisoformat(run.run_key.partition(" #")[0].removesuffix("Z")).replace(tzinfo=timezone.utc)
    except ValueError:
        kind = None
    if kind is None:
        return detail
    claims = db.session.execute(
        db.select(User.email, Notification.refused).join(User, User.id == Notification.user_id)
        .where(Notification.kind == kind, Notification.sent_at >= slot, Notification.sent_at < slot + timedelta(minutes=15))
        .order_by(Notification.id)).all()
    if claims:
        email, refused = claims[-1]
        detail += (f"; it had claimed {len(claims)} {kind}{'s' if len(claims) > 1 else ''}, the last to {email}" + (" (refused by the relay)" if refused else
                   ", which may not have gone out: a claimed email is not sent again"))
    return detail


def last_nightly(at: datetime) -> datetime:
    """The most recent nightly occurrence at or before ``at`` (UTC)."""
    at = at.astimezone(timezone.utc)
    today = at.replace(hour=NIGHTLY_AT[0], minute=NIGHTLY_AT[1], second=0, microsecond=0)
    return today if today <= at else today - timedelta(days=1)


def nightly_maintenance(when: datetime | None = None) -> JobRun | None:
    """Rebuild the dashboard rollups and check the memory states against the attempts, once per day."""
    from learnapp.services.maintenance import verify_memory_states
    from learnapp.services.rollups import rebuild

    def work() -> str:
        states = verify_memory_states()
        return "; ".join([", ".join(f"{table}: {count} row{'' if count == 1 else 's'}" for table, count in rebuild().items()), str(states)])

    return run_once("nightly-maintenance", last_nightly(when or now()).date().isoformat(), work)


def reminders(when: datetime | None = None) -> JobRun | None:
    """Daily reminders, checked every quarter of an hour (each rep at their own local time, once a day)."""
    from learnapp.services.notify import send_reminders

    at = when or now()
    slot = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    return run_once("reminders", slot.strftime("%Y-%m-%dT%H:%M"), lambda: send_reminders(at))


def weekly_digest(when: datetime | None = None) -> JobRun | None:
    """The managers' weekly digest at Monday 06:00 in each one's timezone, about the week before.

    Checked every quarter hour; it runs only when some manager's Monday 06:00 has come and that
    week's digest has not gone to them (it sends to all such managers), keyed by the quarter hour
    like the reminders. A late run after downtime catches up once and reports the same week; a
    manager who moves to a timezone whose Monday has passed gets the week's digest at the next check.
    """
    from learnapp.services.notify import digests_due, send_digests

    at = when or now()
    if not digests_due(at):
        return None
    slot = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
    return run_once("weekly-digest", slot.strftime("%Y-%m-%dT%H:%MZ"), lambda: send_digests(at))


def run_label(job: str, run_key: str) -> str:
    """What a run was for, in words an admin reads: the night, the quarter hour (UTC) or the week a digest covered.

    Run keys are internal (an ISO date or quarter hour, with " #id" once a failed run gave its key back); a key of
    another shape (a job of an older version) is shown as it is.
    """
    key = run_key.partition(" #")[0]
    try:
        if job == "nightly-maintenance":
            return f"the night of {_day(date.fromisoformat(key))} ({NIGHTLY_AT[0]:02d}:{NIGHTLY_AT[1]:02d} UTC)"
        slot = datetime.fromisoformat(key.removesuffix("Z")).replace(tzinfo=timezone.utc)
    except ValueError:
        return run_key
    if job == "reminders":
        return f"{_day(slot)}, {slot:%H:%M} to {slot + timedelta(minutes=15):%H:%M} UTC"
    when = f"{_day(slot)}, {slot:%H:%M} UTC"
    if job == "weekly-digest":
        # each manager's digest covers the seven days before their own Monday; the zones furthest east (UTC+14)
        # reach Monday first, so the Monday of this run is the one on or before its slot's date there
        east = (slot + timedelta(hours=14)).date()
        monday = east - timedelta(days=east.weekday())
        start, end = monday - timedelta(days=7), monday - timedelta(days=1)
        first = f"{start.day}" if start.month == end.month else f"{start.day} {start:%b}" if start.year == end.year \
            else f"{start.day} {start:%b %Y}"
        return f"the week {first} to {end.day} {end:%b %Y} ({when})"
    return when


def _day(day: date | datetime) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


QUIET_LOG_EVERY = timedelta(hours=1)
LOG_LINE_MAX = 300  # characters of a run's outcome on its log line
JOBS = {"nightly-maintenance": nightly_maintenance, "reminders": reminders, "weekly-digest": weekly_digest}


def make_scheduler(app: Flask, *, blocking: bool = True):
    """An APScheduler scheduler with the app's jobs (coalesced, one instance each) in the app's context.

    Each job also runs once right at start-up, which catches up what was missed while no scheduler ran.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(
        timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 6 * 3600})

    quiet_since: dict[str, datetime] = {}  # per job: when a check that did nothing was last logged

    def in_context(fn):
        name = fn.__name__.replace("_", "-")

        def run():
            with app.app_context():
                done = fn()
                # read inside the context: its session ends with it, and the run's row with the session
                outcome = None if done is None else f"{done.status} in {done.seconds:.2f} s: {headline(done.detail)}"
            moment = datetime.now(timezone.utc)
            if outcome is None:
                # a check with nothing to do is logged at start-up and then at most once an hour, as a sign of
                # life: a line every quarter hour per job buried the runs that did something
                if name in quiet_since and moment - quiet_since[name] < QUIET_LOG_EVERY:
                    return
                quiet_since[name] = moment
                outcome = "nothing to do (already run, or nothing due)"
            # every run that did something gets its line on the scheduler's output (the service's log); a failed
            # run's line is its error's type and message, the traceback is on the job history page
            if len(outcome) > LOG_LINE_MAX:
                outcome = outcome[:LOG_LINE_MAX - 1] + "…"
            print(f"{moment:%Y-%m-%dT%H:%M:%SZ} {name}: {outcome}", flush=True)
        return run

    start = datetime.now(timezone.utc)
    scheduler.add_job(in_context(nightly_maintenance), "cron", minute=NIGHTLY_AT[1], id="nightly-maintenance", next_run_time=start)
    scheduler.add_job(in_context(reminders), "cron", minute="*/15", id="reminders", next_run_time=start)
    # every quarter hour: a manager's Monday 06:00 falls on one in every timezone (India's is 00:30 UTC)
    scheduler.add_job(in_context(weekly_digest), "cron", minute="*/15", id="weekly-digest", next_run_time=start)
    return scheduler
