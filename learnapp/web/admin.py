"""Admins: the history of background job runs."""

from flask import Blueprint, render_template

from learnapp.extensions import db
from learnapp.jobs import JOBS, has_traceback, headline
from learnapp.models import JobRun
from learnapp.web import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")

RUNS_PER_JOB = 30  # the reminders check runs 96 times a day: per job, so a weekly run never scrolls away


@bp.get("/jobs")
@roles_required("admin")
def jobs():
    names = sorted(set(JOBS) | set(db.session.scalars(db.select(JobRun.job).distinct())))
    history = {name: db.session.scalars(db.select(JobRun).filter_by(job=name)
                                        .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(RUNS_PER_JOB)).all()
               for name in names}
    last_error = {name: db.session.scalars(db.select(JobRun).filter_by(job=name, status="error")
                                           .order_by(JobRun.started_at.desc()).limit(1)).first() for name in names}
    return render_template("admin/jobs.html", history=history, last_error=last_error, per_job=RUNS_PER_JOB,
                           headline=headline, has_traceback=has_traceback)
