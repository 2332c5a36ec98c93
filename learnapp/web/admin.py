"""Admins: the history of background job runs."""

from flask import Blueprint, render_template

from learnapp.extensions import db
from learnapp.jobs import JOBS, LEASE, has_traceback, headline, interrupted_detail
from learnapp.models import JobRun
from learnapp.services.db import now
from learnapp.web import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

RUNS_PER_JOB = 30  # the reminders check runs 96 times a day: per job, so a weekly run never scrolls away
PROBLEMS = ("error", "interrupted", "abandoned")  # "abandoned": an interrupted run as recorded before


@bp.get("/jobs")
@roles_required("admin")
def jobs():
    names = sorted(set(JOBS) | set(db.session.scalars(db.select(JobRun.job).distinct())))
    history = {name: db.session.scalars(db.select(JobRun).filter_by(job=name)
                                        .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(RUNS_PER_JOB)).all()
               for name in names}
    # a run still "running" past the lease: its process ended before it did (marked so at the next job's claim)
    stale_before = now() - LEASE
    stopped = {run.id: interrupted_detail(run) for runs in history.values() for run in runs
               if run.status == "running" and run.started_at < stale_before}
    last_error = {name: db.session.scalars(db.select(JobRun).where(JobRun.job == name, JobRun.status.in_(PROBLEMS))
                                           .order_by(JobRun.started_at.desc()).limit(1)).first() for name in names}
    return render_template("admin/jobs.html", history=history, last_error=last_error, per_job=RUNS_PER_JOB,
                           stopped=stopped, headline=headline, has_traceback=has_traceback)
