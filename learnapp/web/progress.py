"""A rep's own progress page."""

from flask import Blueprint, render_template
from flask_login import current_user

from learnapp.services.db import now
from learnapp.services.progress import rep_progress
from learnapp.web import roles_required
from learnapp.web.drill import DRILLERS

bp = Blueprint("progress", __name__, url_prefix="/progress")


@bp.get("/")
@roles_required(*DRILLERS)
def mine():
    return render_template("progress/rep.html", progress=rep_progress(current_user, now()), own=True)
