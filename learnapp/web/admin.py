"""Admins: the history of background job runs."""

from flask import Blueprint, render_template

from learnapp.extensions import db
from learnapp.models import JobRun
from learnapp.web import roles_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/jobs")
@roles_required("admin")
def jobs():
    runs = db.session.scalars(db.select(JobRun).order_by(JobRun.started_at.desc()).limit(200)).all()
    return render_template("admin/jobs.html", runs=runs)
