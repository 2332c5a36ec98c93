"""The front door: send each user to where their work is."""

from flask import Blueprint, redirect, url_for
from flask_login import current_user

from learnapp.extensions import db, login_manager
from learnapp.models import User

bp = Blueprint("main", __name__)


# built once: every logged-in request loads its user (a prebuilt select costs less than session.get)
_USER_BY_ID = db.select(User).where(User.id == db.bindparam("id"))


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.execute(_USER_BY_ID, {"id": int(user_id)}).scalar_one_or_none() if user_id.isdigit() else None


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
