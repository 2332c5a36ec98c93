"""Lessons: the short reading behind every skill."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from learnapp.extensions import db
from learnapp.models import Skill
from learnapp.services.content import current_stage_model
from learnapp.services.drill import answered_by

bp = Blueprint("lessons", __name__, url_prefix="/lessons")


@bp.get("/")
@login_required
def index():
    skills = db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)).all()
    return render_template("lessons/index.html", skills=skills, model=current_stage_model())


@bp.get("/<skill_id>")
@login_required
def show(skill_id: str):
    skill = db.get_or_404(Skill, skill_id)
    return render_template("lessons/show.html", skill=skill, back=_back_to_feedback())


@bp.get("/stages/<stage_id>")
@login_required
def stage(stage_id: str):
    model = current_stage_model()
    try:
        stage = model.stage(stage_id) if model else None
    except KeyError:
        stage = None
    if stage is None:
        abort(404)
    return render_template("lessons/stage.html", stage=stage, model=model, back=_back_to_feedback())


def _back_to_feedback() -> str | None:
    """The address of the feedback a lesson or stage page was opened from (``?feedback=<token>``), for a "Back to your
    drill" link a rep on a phone can tap; only a token of an item this user answered counts, and the link is built
    here, never taken from the query string."""
    token = request.args.get("feedback", "")
    return url_for("drill.feedback", token=token) if token and answered_by(current_user, token) else None
