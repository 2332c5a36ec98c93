"""Lessons: the short reading behind every skill."""

from flask import Blueprint, abort, render_template
from flask_login import login_required

from learnapp.extensions import db
from learnapp.models import Skill
from learnapp.services.content import current_stage_model

bp = Blueprint("lessons", __name__, url_prefix="/lessons")


@bp.get("/")
@login_required
def index():
    skills = db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)).all()
    return render_template("lessons/index.html", skills=skills, model=current_stage_model())


@bp.get("/<skill_id>")
@login_required
def show(skill_id: str):
    return render_template("lessons/show.html", skill=db.get_or_404(Skill, skill_id))


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
    return render_template("lessons/stage.html", stage=stage, model=model)
