"""A user's own settings: reminder time and days, timezone; and the one-click unsubscribe."""

from zoneinfo import available_timezones

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Regexp

from learnapp.extensions import csrf, db
from learnapp.services.notify import user_for_token
from learnapp.services.vacations import vacations_of

bp = Blueprint("settings", __name__)
DAYS = [SelectChoice(str(i), name) for i, name in
        enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))]


class SettingsForm(FlaskForm):
    reminders_on = BooleanField("Email me a reminder on days I have due drills and have not drilled yet")
    reminder_time = StringField("At (your local time, HH:MM)", validators=[
        DataRequired(), Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", message="Use a time like 09:00 or 17:30.")])
    reminder_days = SelectMultipleField("On", choices=DAYS)
    timezone = SelectField("Your timezone", choices=[])


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def edit():
    form = SettingsForm(obj=current_user)
    form.timezone.choices = [SelectChoice(name, name) for name in sorted(available_timezones())]
    if not form.is_submitted():
        form.reminder_days.data = [d for d in (current_user.reminder_days or "").split(",") if d]
    if form.validate_on_submit():
        current_user.reminders_on = form.reminders_on.data
        current_user.reminder_time = form.reminder_time.data
        current_user.reminder_days = ",".join(sorted(form.reminder_days.data))
        current_user.timezone = form.timezone.data
        db.session.commit()
        flash("Settings saved.")
        return redirect(url_for("settings.edit"), code=303)
    return render_template("settings.html", form=form, vacations=vacations_of(current_user.id)), (400 if form.errors else 200)


@bp.get("/unsubscribe/<token>")
def unsubscribe_page(token: str):
    user = user_for_token(token) or abort(404)
    return render_template("unsubscribe.html", user=user, token=token, done=False)


@bp.post("/unsubscribe/<token>")
@csrf.exempt  # mail clients send RFC 8058 one-click POSTs without a form; the signed token is the proof
def unsubscribe(token: str):
    user = user_for_token(token) or abort(404)
    user.reminders_on = False
    db.session.commit()
    return render_template("unsubscribe.html", user=user, token=token, done=True)
