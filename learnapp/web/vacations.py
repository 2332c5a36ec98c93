"""Vacations: a rep pauses their own practice, or their manager (or an admin) does it for them."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from learnapp.extensions import db
from learnapp.models import User
from learnapp.services.db import now
from learnapp.services.users import can_view_rep
from learnapp.services.vacations import VacationError, add_vacation, remove_vacation

bp = Blueprint("vacations", __name__, url_prefix="/vacations")


def _rep_or_404(user_id: int) -> User:
    rep = db.get_or_404(User, user_id)
    if not can_view_rep(current_user, rep):
        abort(404)
    return rep


def _back(rep: User):
    target = url_for("settings.edit") if rep.id == current_user.id else url_for("team.rep", user_id=rep.id)
    return redirect(target, code=303)


@bp.post("/<int:user_id>")
@login_required
def add(user_id: int):
    rep = _rep_or_404(user_id)
    try:
        start, end = date.fromisoformat(request.form.get("start", "")), date.fromisoformat(request.form.get("end", ""))
        add_vacation(rep, start, end, by=current_user, now=now())
        flash(f"Practice paused from {start:%d %b %Y} to {end:%d %b %Y}.")
    except ValueError as exc:  # VacationError is a ValueError, and so is a malformed date
        flash(str(exc) if isinstance(exc, VacationError) else "Give both dates, e.g. 2026-12-21.")
    return _back(rep)


@bp.post("/<int:user_id>/<int:vacation_id>/delete")
@login_required
def delete(user_id: int, vacation_id: int):
    rep = _rep_or_404(user_id)
    if not remove_vacation(vacation_id, rep.id):
        abort(404)
    flash("Vacation removed.")
    return _back(rep)
