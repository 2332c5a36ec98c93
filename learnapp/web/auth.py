"""Log in and log out."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, Length, Regexp

from learnapp.extensions import limiter
from learnapp.services.users import EMAIL, authenticate, end_sessions

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), Regexp(EMAIL, message="Enter an email address.")])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])
    remember = BooleanField("Keep me logged in")


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would let a link send reps elsewhere.

    No control characters either: a line break in the Location header failed the login with a 500.
    """
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//") else None


def _refused(response) -> bool:
    """A login that did not get in (wrong password, bad form): what the login limits count."""
    return response.status_code == 400


def _account() -> str:
    return "login:" + request.form.get("email", "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
# online password guessing: 10 refused logins a minute (100 an hour) from one address, and 10 in 15 minutes
# for one account from anywhere; a successful login costs nothing, so a shared office address is not locked out
@limiter.limit("10 per minute;100 per hour", methods=["POST"], deduct_when=_refused)
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_refused, key_func=_account)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
        form.password.errors.append("Email or password is wrong.")
    return render_template("auth/login.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())  # a copied session or remember cookie ends here too
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
