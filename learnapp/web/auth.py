"""Log in and log out."""

import hashlib
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from wtforms import BooleanField, EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from learnapp.extensions import limiter
from learnapp.models import User
from learnapp.rate_limits import forgot_key, known_device_key, login_key
from learnapp.services import password_links
from learnapp.services.users import (EMAIL, MAX_PASSWORD, MIN_PASSWORD, UserError, authenticate, end_sessions, has_password,
                                     user_by_email)
from learnapp.web.forms import Form

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254), Regexp(EMAIL, message="Enter an email address.")])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    remember = BooleanField("Keep me logged in")


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths: an open redirect would let a link send reps elsewhere.

    No control characters either: a line break in the Location header failed the login with a 500.
    """
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target if _opens_with_get(parts.path) else None


def _opens_with_get(path: str) -> bool:
    """False for the address of a form's action (an answer, "practise more"): a login asked for by a POST whose session
    had ended would go on to it with a GET, a "Not allowed" page; the start page (today's drill) is where it was."""
    root = request.script_root
    if root and path.startswith(root + "/"):
        path = path[len(root):]
    try:
        current_app.create_url_adapter(request).match(path, method="GET")
    except MethodNotAllowed:
        return False
    except HTTPException:  # not found, or a redirect of its own: the page answers that as it did
        return True
    return True


def _refused(response) -> bool:
    """A login that did not get in (wrong password, bad form): what the per-address limit counts."""
    return response.status_code == 400


def _submitted_email() -> str:
    """The email a login names, as the login form reads it (the posted form only, see web/forms.py)."""
    return request.form.get("email", "").strip().lower()[:254]


def _account() -> str:
    return login_key(_submitted_email())


_DEVICE_COOKIE = "learnapp_device"
_DEVICE_DAYS = 180


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="learnapp-known-device")


def _device_mark(user: User) -> list:
    """What a known-device cookie holds: the account and a digest of its password hash, so a new password
    (the owner's answer to a stolen cookie or a leaked password) ends every such cookie."""
    return [user.id, hashlib.sha256(user.password_hash.encode()).hexdigest()[:32]]


def _known_device() -> bool:
    """This browser logged in to the account it names since the account's password was last set.

    Asked by both account limits of one login: the answer (a user lookup) is kept on the request.
    """
    known = getattr(request, "learnapp_known_device", None)
    if known is None:
        known = request.learnapp_known_device = _check_device()
    return known


def _check_device() -> bool:
    try:
        mark = _devices().loads(request.cookies.get(_DEVICE_COOKIE, ""), max_age=_DEVICE_DAYS * 24 * 3600)
    except BadSignature:  # also an expired one (SignatureExpired)
        return False
    user = user_by_email(_submitted_email())
    return user is not None and mark == _device_mark(user)


_ACCOUNT_LIMITED = ("Too many login attempts for this account in the last 15 minutes, not necessarily yours: "
                    "someone may be guessing its password. If you have forgotten it, the login page says how to get a new one.")


@bp.route("/login", methods=["GET", "POST"])
# Online password guessing. Per address: 30 refused logins a minute (300 an hour), above one account's 10 so one
# person's typos do not lock out the colleagues behind the same address; successes cost nothing. (Refused logins
# are counted after the fact, so a burst can pass by the number of requests served at once: the per-account limit
# is the strict one.) Per account, from anywhere: 10 attempts in 15 minutes, each counted before its password is
# checked (guesses sent all at once cannot slip past). A browser that has logged in to the account since its
# password was last set counts apart, with 50, so a stranger's guesses do not lock the owner out of their own.
@limiter.limit("30 per minute;300 per hour", methods=["POST"], deduct_when=_refused,
               error_message="Too many failed logins from your network (people behind the same address count together).")
@limiter.limit("10 per 15 minutes", methods=["POST"], key_func=_account, exempt_when=_known_device,
               error_message=_ACCOUNT_LIMITED)
@limiter.limit("50 per 15 minutes", methods=["POST"], key_func=lambda: known_device_key(_submitted_email()),
               exempt_when=lambda: not _known_device(), error_message=_ACCOUNT_LIMITED)
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            response = redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
            response.set_cookie(_DEVICE_COOKIE, _devices().dumps(_device_mark(user)), max_age=_DEVICE_DAYS * 24 * 3600, httponly=True,
                                samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
            return response
        form.password.errors.append("Email or password is wrong.")
    return render_template("auth/login.html", form=form, can_mail=password_links.mail_configured()), (400 if form.errors else 200)


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        end_sessions(current_user._get_current_object())  # a copied session or remember cookie ends here too
    logout_user()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))


# -- forgotten passwords and invitations: a link by email sets a new password ----------------------------------

class ForgotForm(Form):
    email = EmailField("Your email", validators=[DataRequired("Give your email address."), Length(max=254),
                                                 Regexp(EMAIL, message="Enter an email address.")])


class NewPasswordForm(Form):
    password = PasswordField(f"New password (at least {MIN_PASSWORD} characters)",
                             validators=[DataRequired("Choose a password."), Length(max=MAX_PASSWORD)],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("The same password again",
                            validators=[DataRequired("Type the password again."), EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


@bp.route("/password/forgot", methods=["GET", "POST"])
# Each request may send an email: per address 10 in 15 minutes; per account 3 an hour, so nobody can flood
# someone's inbox with reset emails (the person asking cannot tell either limit from "sent", by design).
@limiter.limit("10 per 15 minutes", methods=["POST"],
               error_message="Too many password emails asked for from your network: try again in a few minutes.")
@limiter.limit("3 per hour", methods=["POST"], key_func=lambda: forgot_key(_submitted_email()),
               error_message="Three emails went to this address in the last hour: use the latest, or try again later.")
def forgot():
    """Ask for a link to set a new password. The answer is the same whether the address has an account or not."""
    if not password_links.mail_configured():
        return render_template("auth/forgot.html", form=None), 200
    form = ForgotForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        user = user_by_email(email)
        if user is not None and user.active:  # sent after this answer: the same page, as fast, either way
            password_links.send_later(user, password_links.RESET)
        flash(f"If {email} has an account here, an email with a link to set a new password is on its way; the link works "
              f"for {password_links.lifetime_text(password_links.RESET)}. No email? Check the address, or ask your administrator.")
        return redirect(url_for("auth.login"), code=303)
    return render_template("auth/forgot.html", form=form), (400 if form.errors else 200)


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """Where a link from an invitation or a reset email leads: choose a password, and you are logged in."""
    try:
        link = password_links.check(token)
    except password_links.LinkError as exc:
        return _link_page(render_template("auth/set_password.html", form=None, problem=str(exc),
                                            can_mail=password_links.mail_configured()), 400)
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            password_links.set_password(link, form.password.data)
        except UserError as exc:
            form.password.errors.append(exc.args[0][:1].upper() + exc.args[0][1:] + ".")
        except password_links.LinkError as exc:
            return _link_page(render_template("auth/set_password.html", form=None, problem=str(exc),
                                                can_mail=password_links.mail_configured()), 400)
        else:
            logout_user()
            login_user(link.user)
            flash("Your password is set and you are logged in.")
            return redirect(url_for("main.index"), code=303)
    return _link_page(render_template("auth/set_password.html", form=form, person=link.user, problem=None,
                                      has_password=has_password(link.user)), 400 if form.errors else 200)


def _link_page(page: str, code: int):
    """The link's token is in this page's address: no Referer header carries it to another site, and no cache keeps it.

    "same-origin", not "no-referrer": over HTTPS Flask-WTF refuses a form posted without a Referer from this host, so
    with no Referer at all the form could never set the password.
    """
    return page, code, {"Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
