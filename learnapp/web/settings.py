"""A user's own settings: reminder time and days, timezone, password; and the one-click unsubscribe."""

from zoneinfo import available_timezones

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, EqualTo, InputRequired, Length, ValidationError

from learnapp.extensions import csrf, db, limiter
from learnapp.services.db import begin_write, now
from learnapp.services import notify
from learnapp.services.notify import kind_for_token, quarter_hour_time, user_for_token, user_id_for_token
from learnapp.services.drill import local_day
from learnapp.services.users import (MAX_PASSWORD, MIN_PASSWORD, WEEKDAY_NAMES, UserError, WrongPassword, change_password,
                                     working_days_history, working_weeks)
from learnapp.services.vacations import change_allowed, vacations_of
from learnapp.web.forms import Form

bp = Blueprint("settings", __name__)
DAYS = [SelectChoice(str(i), name) for i, name in enumerate(WEEKDAY_NAMES)]


# the reminders job checks on the quarter hour, so those are the times a reminder can go out
QUARTER_HOURS = [f"{hour:02d}:{minute:02d}" for hour in range(24) for minute in (0, 15, 30, 45)]
QUARTER_HOUR_MESSAGE = "Use a time like 09:00 or 17:30, on the quarter hour (:00, :15, :30 or :45)."


class QuarterHourField(SelectField):
    """A select of the 96 quarter hours of a day; a stored time between them shows as the one it fires at.

    Without that, a time stored before quarter hours (23:50) would match no option, the browser
    would show the first one (00:00), and saving anything else on the page would move the reminder.
    """

    def __init__(self, label: str, **kwargs):
        super().__init__(label, choices=[SelectChoice(t, t) for t in QUARTER_HOURS],
                         validate_choice=False,  # AnyOf says what is wrong in words a rep understands
                         validators=[InputRequired(QUARTER_HOUR_MESSAGE), AnyOf(QUARTER_HOURS, QUARTER_HOUR_MESSAGE)],
                         **kwargs)

    def process_data(self, value):
        super().process_data(quarter_hour_time(value).strftime("%H:%M") if value else value)


DIGEST_LABEL = "Email me my team's weekly digest (Mondays at 06:00, my time)"


class SettingsForm(Form):
    reminders_on = BooleanField("Email me a reminder on days I have due drills and have not drilled yet")
    reminder_time = QuarterHourField("At (your local time)")
    reminder_days = SelectMultipleField("On", choices=DAYS)
    timezone = SelectField("Your timezone", choices=[])

    def validate_reminder_days(self, field):
        # reminders switched on with no day would save fine and then never send one (reps only: others have no days)
        if self.reminders_on.data and not field.data:
            raise ValidationError("Pick at least one day, or switch reminders off.")


class PasswordForm(Form):
    """Change one's own password: the current one, then the new one twice (the rule of ``users create``)."""

    current = PasswordField("Current password", validators=[DataRequired("Type your current password."), Length(max=MAX_PASSWORD)],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(f"New password (at least {MIN_PASSWORD} characters)",
                        validators=[DataRequired("Type a new password."),
                                    Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters."),
                                    Length(max=MAX_PASSWORD, message=f"Use at most {MAX_PASSWORD} characters.")],
                        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD})
    again = PasswordField("New password again", validators=[DataRequired("Type the new password again."),
                                                            EqualTo("new", "The two new passwords differ.")],
                          render_kw={"autocomplete": "new-password"})


# the regions of the IANA database's canonical "Area/City" names; left out are the server's "localtime", "Factory",
# "Etc/GMT+5" (whose sign is reversed) and legacy aliases such as "US/Eastern" or "Japan"
TIMEZONE_AREAS = ("Africa/", "America/", "Antarctica/", "Arctic/", "Asia/", "Atlantic/", "Australia/", "Europe/",
                  "Indian/", "Pacific/")


def timezone_choices(current: str | None) -> list[str]:
    """The timezones a user may pick: UTC and every Area/City name, plus the one they have if it is another
    (set by an admin, say), so saving other settings never changes it."""
    names = {n for n in available_timezones() if n.startswith(TIMEZONE_AREAS)} | {"UTC"}
    if current:
        names.add(current)
    return sorted(names)


def settings_form(*, from_request: bool = True) -> SettingsForm:
    """The settings form for the logged-in user; ``from_request=False`` shows the stored values even on a POST
    (the vacation form posts elsewhere and re-renders this page with its own error)."""
    form = SettingsForm(obj=current_user) if from_request else SettingsForm(formdata=None, obj=current_user)
    form.timezone.choices = [SelectChoice(name, name) for name in timezone_choices(current_user.timezone)]
    # only reps get reminders and only managers the weekly digest (both switched by reminders_on): each sees
    # what applies to them, and a field not shown is neither checked nor saved
    if current_user.role != "rep":
        del form.reminder_time, form.reminder_days
        if current_user.role == "manager":
            form.reminders_on.label.text = DIGEST_LABEL
        else:
            del form.reminders_on
    elif not (from_request and form.is_submitted()):
        form.reminder_days.data = [d for d in (current_user.reminder_days or "").split(",") if d]
    return form


def settings_page(form: SettingsForm, **extra) -> str:
    extra.setdefault("password_form", PasswordForm(formdata=None, prefix="password"))
    if current_user.role == "rep":  # the rep's working days today, since when, and a change to come
        today = local_day(current_user, now())
        changes = working_days_history(current_user)
        extra.update(working_days_now=working_weeks([current_user])[current_user.id].weekdays_on(today),
                     working_days_since=next((c.since for c in changes if c.since <= today), None),
                     working_days_next=next((c for c in reversed(changes) if c.since > today), None))
    vacations = vacations_of(current_user.id)
    today = local_day(current_user, now())  # a rep changes only the part of their vacations not begun yet
    actions = {v.id: change_allowed(v, current_user, current_user, today) for v in vacations}
    return render_template("settings.html", form=form, vacations=vacations, vacation_actions=actions,
                           can_mail=bool(current_app.config["SMTP_HOST"]), **extra)


def _timezone_kept() -> bool:
    """True unless this save gives a rep another timezone: the one change that rebuilds figures (see edit)."""
    return not (current_user.is_authenticated and current_user.role == "rep"
                and request.form.get("timezone", current_user.timezone) != current_user.timezone)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
# a rep's new timezone rebuilds their team's and the organisation's figures inside the write transaction: a few an hour
# serve anyone, a script switching zones without end would hold the write lock that every answer needs
@limiter.limit("10 per hour", methods=["POST"], key_func=lambda: f"timezone:{getattr(current_user, 'id', '')}",
               exempt_when=_timezone_kept,
               error_message="You changed your timezone 10 times within the hour, and each change recounts your team's figures.")
def edit():
    form = settings_form()
    if form.validate_on_submit():
        begin_write()  # the user was read to log in: on SQLite, upgrading that read to a write fails if another write came
        if "reminders_on" in form:
            current_user.reminders_on = form.reminders_on.data
        if "reminder_days" in form:
            current_user.reminder_time = form.reminder_time.data
            current_user.reminder_days = ",".join(sorted(set(form.reminder_days.data)))  # a day sent twice is one day
        moved_zone = current_user.timezone != form.timezone.data
        current_user.timezone = form.timezone.data
        if moved_zone:
            from learnapp.services.drill import move_learning_days

            # whoever drilled, not only a rep: a trainer's or a manager's answers are in the organisation's curve, and
            # each night's rebuild counts their weeks since learning from their first answer's day in the new zone
            move_learning_days(current_user._get_current_object())
        if moved_zone and current_user.role == "rep":  # their answers' days move: the team's figures at once, as an
            from learnapp.services import rollups  # admin's correction does (users.update_account), not at night

            rollups.rebuild_teams([current_user.team_id] if current_user.team_id else [], organisation=True)
        db.session.commit()
        flash("Settings saved.")
        return redirect(url_for("settings.edit"), code=303)
    return settings_page(form), (400 if form.errors else 200)


def _password_account() -> str:
    return f"password:{current_user.id}" if current_user.is_authenticated else "password:"


@bp.get("/settings/password")
def password_page():
    """The password form's address, reloaded or revisited after a refused change: its section of the settings page."""
    return redirect(url_for("settings.edit", _anchor="password"))


@bp.post("/settings/password")
@login_required
# a borrowed session must not become a way to guess the password: refused changes count, as at login
@limiter.limit("10 per 15 minutes", deduct_when=lambda response: response.status_code == 400, key_func=_password_account,
               error_message="Too many refused password changes. Your password is unchanged, and you stay logged in.")
def password():
    form = PasswordForm(prefix="password")
    if form.validate_on_submit():
        try:
            change_password(current_user._get_current_object(), form.current.data, form.new.data)
        except WrongPassword as exc:
            form.current.errors.append(str(exc))
        except UserError as exc:
            form.new.errors.append(str(exc))
        else:
            # the new session token ended every login of this user, this one included: log in again here,
            # keeping "remember me" if this browser had it
            login_user(current_user._get_current_object(),
                       remember=current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies)
            flash("Password changed. You are logged out everywhere else.")
            return redirect(url_for("settings.edit"), code=303)
    # rendered at /settings/password#password (the form's action), so the browser shows this section and its error
    return settings_page(settings_form(from_request=False), password_form=form), 400


def _bad_link():
    """A token that names no one (cut short by a mail program, forged, or signed with a key since changed):
    a 404 that says how to stop the emails all the same."""
    return render_template("unsubscribe.html", user=None, done=False), 404


def _unsubscribe_page(user, token: str, *, done: bool):
    """The page of an unsubscribe link: what it stops for this person (the email it came with, or all of theirs)."""
    kind = kind_for_token(token)
    recurring = notify.recurring_kind(user)
    return render_template("unsubscribe.html", user=user, token=token, done=done, kind=kind,
                           stops=notify.unsubscribe_stops(user, kind), link_for=notify.RECURRING_WORDS.get(kind),
                           what=notify.RECURRING_WORDS.get(kind if kind != notify.ALL else recurring))


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    user = user_for_token(token)
    if user is None:
        return _bad_link()
    return _unsubscribe_page(user, token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail clients send RFC 8058 one-click POSTs without a form; the signed token is the proof
def unsubscribe(token: str):
    if user_id_for_token(token) is None:  # a forged link is refused before it takes the write lock
        return _bad_link()
    begin_write()  # as above: the write lock first, then the read
    user = user_for_token(token)
    if user is None:
        return _bad_link()
    notify.unsubscribe(user, kind_for_token(token))
    db.session.commit()
    return _unsubscribe_page(user, token, done=True)
