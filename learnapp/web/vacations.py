"""Vacations: a rep pauses their own practice, or their manager (or an admin) does it for them."""

from datetime import date, datetime

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user, login_required

from learnapp.extensions import db
from learnapp.models import User
from learnapp.services.db import now
from learnapp.services.users import can_view_rep
from learnapp.services.vacations import VacationError, add_vacation, remove_vacation
from learnapp.web.settings import settings_form, settings_page
from learnapp.web.team import rep_page

bp = Blueprint("vacations", __name__, url_prefix="/vacations")
BAD_DATE = "Give both dates, e.g. 2026-12-21."


def _rep_or_404(user_id: int) -> User:
    rep = db.get_or_404(User, user_id)
    if not can_view_rep(current_user, rep):
        abort(404)
    return rep


def _own(rep: User) -> bool:
    return rep.id == current_user.id


def _back(rep: User):
    return redirect(url_for("settings.edit", _anchor="vacations") if _own(rep)
                    else url_for("team.rep", user_id=rep.id, _anchor="vacations"), code=303)


def _form_again(rep: User, error: str):
    """The page the form came from, re-rendered with the error and the typed dates (400)."""
    typed = {"vacation_error": error, "vacation_start": request.form.get("start", ""),
             "vacation_end": request.form.get("end", "")}
    return (settings_page(settings_form(from_request=False), **typed) if _own(rep) else rep_page(rep, **typed)), 400


def _parse_day(text: str) -> date:
    """A date typed as YYYY-MM-DD (what a date input sends); a ValueError otherwise."""
    return datetime.strptime(text, "%Y-%m-%d").date()


@bp.post("/<id:user_id>")
@login_required
def add(user_id: int):
    rep = _rep_or_404(user_id)
    try:
        start, end = _parse_day(request.form.get("start", "")), _parse_day(request.form.get("end", ""))
    except ValueError:
        return _form_again(rep, BAD_DATE)
    try:
        add_vacation(rep, start, end, by=current_user, now=now())
    except VacationError as exc:
        return _form_again(rep, str(exc))
    flash(f"Practice paused from {start:%d %b %Y} to {end:%d %b %Y}.")
    return _back(rep)


@bp.post("/<id:user_id>/<id:vacation_id>/delete")
@login_required
def delete(user_id: int, vacation_id: int):
    rep = _rep_or_404(user_id)
    try:
        done = remove_vacation(vacation_id, rep, by=current_user, now=now())
    except VacationError as exc:
        flash(str(exc))
        return _back(rep)
    if done is None:
        abort(404)
    flash("Vacation removed." if done == "removed"
          else "Vacation ended as of today; the days already past stay as recorded.")
    return _back(rep)
