"""Managers: the teams they lead and each rep's progress (dashboards grow here)."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from learnapp.extensions import db
from learnapp.models import Team, User
from learnapp.services.db import now
from learnapp.services.progress import rep_progress
from learnapp.services.team import team_overview
from learnapp.services.users import can_view_rep, visible_teams
from learnapp.web import roles_required

bp = Blueprint("team", __name__, url_prefix="/team")
LEADERS = ("manager", "admin")


@bp.get("/")
@roles_required(*LEADERS)
def index():
    return render_template("team/index.html", teams=visible_teams(current_user))


@bp.get("/<int:team_id>")
@roles_required(*LEADERS)
def show(team_id: int):
    team = db.get_or_404(Team, team_id)
    if team not in visible_teams(current_user):
        abort(404)
    return render_template("team/show.html", team=team, overview=team_overview(team, now()))


@bp.get("/rep/<int:user_id>")
@roles_required(*LEADERS)
def rep(user_id: int):
    rep_user = db.get_or_404(User, user_id)
    if not can_view_rep(current_user, rep_user):
        abort(404)
    return render_template("progress/rep.html", progress=rep_progress(rep_user, now()), own=False)
