"""The front door: send each user to where their work is."""

import secrets

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from learnapp.extensions import db, login_manager
from learnapp.models import User

bp = Blueprint("main", __name__)


# built once: every logged-in request loads its user (a prebuilt select costs less than session.get)
_USER_BY_ID = db.select(User).where(User.id == db.bindparam("id"))


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    """The user of a session or remember cookie holding ``User.get_id()``: "<id>:<session token>".

    A token that is no longer the user's (they logged out, changed their password) loads nobody.
    """
    user_id, _, token = login_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.execute(_USER_BY_ID, {"id": int(user_id)}).scalar_one_or_none()
    return user if user is not None and secrets.compare_digest(user.session_token.encode(), token.encode()) else None


@bp.get("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.role in ("manager", "admin"):
        return redirect(url_for("team.index"))
    if current_user.role == "trainer":
        return redirect(url_for("author.index"))
    return redirect(url_for("drill.today"))


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}
