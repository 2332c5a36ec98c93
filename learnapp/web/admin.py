"""Admins: the history of background job runs, and people: accounts and teams."""

import smtplib

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import BooleanField, EmailField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from learnapp.config import DEFAULT_BASE_URL
from learnapp.domain import people_csv
from learnapp.extensions import db
from learnapp.jobs import JOBS, LEASE, has_traceback, headline, interrupted_detail, run_label
from learnapp.models import JobRun, Role, Team, User
from learnapp.services import notify, password_links, people_import
from learnapp.services.db import now
from learnapp.services.users import (MAX_NAME, MAX_PASSWORD, MIN_PASSWORD, UserError, create_team, create_user,
                                     delete_team, erase_person, has_password, rename_team, reset_password,
                                     update_account)
from learnapp.web import roles_required
from learnapp.web.forms import Form
from learnapp.web.settings import timezone_choices

_AUTO = object()  # "read the posted form" (a form built with formdata=None shows the stored values)

bp = Blueprint("admin", __name__, url_prefix="/admin")

RUNS_PER_JOB = 30  # the reminders check runs 96 times a day: per job, so a weekly run never scrolls away
PROBLEMS = ("error", "interrupted", "abandoned")  # "abandoned": an interrupted run as recorded before


@bp.get("/jobs")
@roles_required("admin")
def jobs():
    names = sorted(set(JOBS) | set(db.session.scalars(db.select(JobRun.job).distinct())))
    history = {name: db.session.scalars(db.select(JobRun).filter_by(job=name)
                                        .order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(RUNS_PER_JOB)).all()
               for name in names}
    # a run still "running" past the lease: its process ended before it did (marked so at the next job's claim)
    stale_before = now() - LEASE
    stopped = {run.id: interrupted_detail(run) for runs in history.values() for run in runs
               if run.status == "running" and run.started_at < stale_before}
    last_error = {name: db.session.scalars(db.select(JobRun).where(JobRun.job == name, JobRun.status.in_(PROBLEMS))
                                           .order_by(JobRun.started_at.desc()).limit(1)).first() for name in names}
    return render_template("admin/jobs.html", history=history, last_error=last_error, per_job=RUNS_PER_JOB,
                           stopped=stopped, headline=headline, has_traceback=has_traceback, run_label=run_label)


# -- people: accounts and teams ------------------------------------------------------------------------------

ROLE_CHOICES = [SelectChoice(r.value, r.value.title()) for r in Role]
NO_TEAM = ""


class AccountForm(Form):
    """A new account: what ``flask users create`` asks for."""

    email = EmailField("Email", validators=[DataRequired("Give an email address."), Length(max=254)])
    name = StringField("Name", validators=[DataRequired("Give a name."), Length(max=MAX_NAME)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    team = SelectField("Team (a manager leads it)", choices=[])
    timezone = SelectField("Timezone", choices=[])
    password = PasswordField(f"First password (at least {MIN_PASSWORD} characters), or leave it empty: they set their own "
                             "through an invitation link",
                             validators=[Optional(), Length(max=MAX_PASSWORD)], render_kw={"autocomplete": "new-password"})


class EditForm(Form):
    name = StringField("Name", validators=[DataRequired("Give a name."), Length(max=MAX_NAME)])
    email = EmailField("Email", validators=[DataRequired("Give an email address."), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    timezone = SelectField("Timezone", choices=[])
    team = SelectField("Team (reps, trainers and admins; a manager: No team)", choices=[])
    leads = SelectMultipleField("Leads (managers only)", choices=[])
    active = BooleanField("Active: can log in, gets email, counts on the team's dashboard")


class ResetForm(Form):
    # its own id: "password" is the section it sits in (the forms land on #password), and the label pointed there
    password = PasswordField(f"New password (at least {MIN_PASSWORD} characters)",
                             validators=[DataRequired("Give a new password."), Length(max=MAX_PASSWORD)],
                             id="new-password", render_kw={"autocomplete": "new-password"})


class EraseForm(Form):
    confirm = StringField("Type their email address to confirm", validators=[DataRequired("Type their email address.")],
                          render_kw={"autocomplete": "off", "spellcheck": "false"})


class TeamForm(Form):
    name = StringField("Team name", validators=[DataRequired("Give the team a name."),
                                                Length(max=MAX_NAME, message=f"Use at most {MAX_NAME} characters.")])


def _new_team_form(formdata=_AUTO) -> TeamForm:
    """The People page's new-team form: its field's id differs from the new account's Name, so each label
    focuses its own field."""
    form = TeamForm() if formdata is _AUTO else TeamForm(formdata=formdata)
    form.name.id = form.name.label.field_id = "team-name"
    return form


def _teams() -> list[Team]:
    return list(db.session.scalars(db.select(Team).order_by(Team.name)))


def _team_choices(teams: list[Team]) -> list[tuple[str, str]]:
    return [SelectChoice(NO_TEAM, "No team")] + [SelectChoice(str(t.id), t.name) for t in teams]


def _account_form(teams: list[Team], formdata=_AUTO) -> AccountForm:
    form = AccountForm() if formdata is _AUTO else AccountForm(formdata=formdata)
    form.team.choices = _team_choices(teams)
    form.timezone.choices = [SelectChoice(name, name) for name in timezone_choices(current_user.timezone)]
    if not form.is_submitted() or formdata is None:
        form.timezone.data = form.timezone.data or current_user.timezone or "UTC"  # most people work where their admin does
    return form


def _people_page(account_form: AccountForm | None = None, team_form: TeamForm | None = None, code: int = 200):
    teams = _teams()
    query = request.args.get("q", "").strip()[:254]
    people = db.select(User).order_by(User.active.desc(), User.role, db.func.lower(User.name))
    if query:  # matched here, not in SQL: SQLite's lower() leaves "É" as it is, casefold() does not
        wanted = query.casefold()
        ids = [user_id for user_id, name, email in db.session.execute(db.select(User.id, User.name, User.email))
               if wanted in name.casefold() or wanted in email.casefold()]
        people = people.where(User.id.in_(ids[:PEOPLE_SHOWN + 1]))
    return render_template("admin/people.html", people=list(db.session.scalars(people.limit(PEOPLE_SHOWN + 1))),
                           shown=PEOPLE_SHOWN, query=query, teams=teams, has_password=has_password,
                           account_form=account_form or _account_form(teams, formdata=None),
                           team_form=team_form or _new_team_form(formdata=None)), code


PEOPLE_SHOWN = 200  # a search finds anyone beyond


@bp.get("/people")
@roles_required("admin")
def people():
    return _people_page()


@bp.post("/people")
@roles_required("admin")
def create_person():
    teams = _teams()
    form = _account_form(teams)
    if not form.validate():
        return _people_page(account_form=form, code=400)
    team = next((t.name for t in teams if str(t.id) == form.team.data), None)
    try:
        user = create_user(form.email.data, form.name.data, form.password.data or None, form.role.data, team=team,
                           timezone=form.timezone.data, now=now())
    except UserError as exc:
        form.form_errors.append(_sentence(str(exc)))
        return _people_page(account_form=form, code=400)
    if has_password(user):
        flash(f"{user.name} ({user.email}) can now log in as a {user.role}.")
    elif password_links.mail_configured():
        flash(f"{user.name} ({user.email}) has an account as a {user.role}. " + _email_link(user))
    else:
        flash(f"{user.name} ({user.email}) has an account as a {user.role}, with no password yet: make them an "
              "invitation link below and hand it over (this server sends no email).")
    return redirect(url_for("admin.person", user_id=user.id), code=303)


def _email_link(user: User) -> str:
    """Email the person a link to set their password; what happened, as a sentence for the admin."""
    try:
        password_links.send(user, password_links.INVITE, by=current_user)
    except (smtplib.SMTPException, OSError) as exc:
        return (f"The email with their link could not be sent ({notify.failure_line(exc)}): make a link below and "
                "hand it over yourself, or email it again later.")
    return (f"An email with a link to set their password went to {user.email}; it works for "
            f"{password_links.lifetime_text(password_links.INVITE)}.")


@bp.post("/teams")
@roles_required("admin")
def create_team_view():
    form = _new_team_form()
    if form.validate():
        try:
            team = create_team(form.name.data)
        except UserError as exc:
            form.name.errors = [str(exc)]
        else:
            flash(f"Team {team.name} created: pick it for reps and managers.")
            return redirect(url_for("admin.people"), code=303)
    return _people_page(team_form=form, code=400)


def _team_page(team: Team, rename_form: TeamForm | None = None, delete_error: str | None = None, code: int = 200):
    members = list(db.session.scalars(db.select(User).filter_by(team_id=team.id)
                                      .order_by(User.active.desc(), db.func.lower(User.name))))
    return render_template("admin/team.html", team=team, members=members, managers=sorted(team.managers, key=lambda m: m.name),
                           rename_form=rename_form or TeamForm(formdata=None, obj=team), delete_form=Form(formdata=None),
                           delete_error=delete_error), code


@bp.get("/teams/<id:team_id>")
@roles_required("admin")
def team(team_id: int):
    return _team_page(db.get_or_404(Team, team_id))


@bp.post("/teams/<id:team_id>")
@roles_required("admin")
def rename_team_view(team_id: int):
    team = db.get_or_404(Team, team_id)
    form = TeamForm()
    if form.validate():
        old = team.name
        try:
            rename_team(team, form.name.data)
        except UserError as exc:
            form.name.errors = [str(exc)]
        else:
            flash(f"{old} is now {team.name}." if old != team.name else "The name is unchanged.")
            return redirect(url_for("admin.team", team_id=team.id), code=303)
    return _team_page(db.get_or_404(Team, team_id), rename_form=form, code=400)


@bp.post("/teams/<id:team_id>/delete")
@roles_required("admin")
def delete_team_view(team_id: int):
    team = db.get_or_404(Team, team_id)
    if not Form().validate():
        return _team_page(team, code=400)
    name = team.name
    try:
        delete_team(team)
    except UserError as exc:
        return _team_page(db.get_or_404(Team, team_id), delete_error=str(exc), code=400)
    flash(f"Team {name} is deleted.")
    return redirect(url_for("admin.people", _anchor="new-team"), code=303)


def _edit_form(user: User, teams: list[Team], formdata=_AUTO) -> EditForm:
    form = EditForm(obj=user) if formdata is _AUTO else EditForm(formdata=formdata, obj=user)
    form.timezone.choices = [SelectChoice(name, name) for name in timezone_choices(user.timezone)]
    form.team.choices = _team_choices(teams)
    form.leads.choices = [SelectChoice(str(t.id), t.name) for t in teams]
    if formdata is None or not form.is_submitted():
        form.team.data = str(user.team_id) if user.team_id else NO_TEAM
        form.leads.data = [str(t.id) for t in user.led_teams]
    return form


def _person_page(user: User, edit_form: EditForm | None = None, reset_form: ResetForm | None = None, code: int = 200,
                 link: str | None = None, erase_form: EraseForm | None = None):
    teams = _teams()
    return render_template("admin/person.html", person=user, edit_form=edit_form or _edit_form(user, teams, formdata=None),
                           reset_form=reset_form or ResetForm(formdata=None), has_password=has_password(user),
                           erase_form=erase_form or EraseForm(formdata=None),
                           can_mail=password_links.mail_configured(), link=link, link_form=Form(formdata=None),
                           default_base_url=current_app.config["BASE_URL"] == DEFAULT_BASE_URL,
                           link_days=password_links.lifetime_text(password_links.INVITE)), code


@bp.get("/people/<id:user_id>")
@roles_required("admin")
def person(user_id: int):
    return _person_page(db.get_or_404(User, user_id))


@bp.post("/people/<id:user_id>")
@roles_required("admin")
def update_person(user_id: int):
    user = db.get_or_404(User, user_id)
    form = _edit_form(user, _teams())
    if not form.validate():
        return _person_page(user, edit_form=form, code=400)
    try:
        leads = [int(t) for t in form.leads.data or []]
        update_account(user, name=form.name.data, email=form.email.data, role=form.role.data, timezone=form.timezone.data,
                       active=form.active.data, by=current_user, now=now(),
                       team_id=int(form.team.data) if form.team.data else None, leads=leads)
    except (UserError, ValueError) as exc:
        db.session.rollback()
        form.form_errors.append(_sentence(str(exc)) if isinstance(exc, UserError) else "Pick the teams from the list.")
        return _person_page(db.get_or_404(User, user_id), edit_form=form, code=400)
    flash(f"{user.name}'s account is saved." + ("" if user.active else " They are logged out and can no longer log in."))
    return redirect(url_for("admin.person", user_id=user.id), code=303)


@bp.post("/people/<id:user_id>/password")
@roles_required("admin")
def reset_person_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = ResetForm()
    if form.validate():
        try:
            reset_password(user, form.password.data, by=current_user)
        except UserError as exc:
            form.password.errors = [_sentence(str(exc))]
        else:
            flash(f"{user.name}'s password is replaced and every login of theirs ended. Tell them the new one.")
            return redirect(url_for("admin.person", user_id=user.id), code=303)
    return _person_page(user, reset_form=form, code=400)


@bp.post("/people/<id:user_id>/erase")
@roles_required("admin")
def erase(user_id: int):
    """Erase the personal data of someone who left (users.erase_person), once the admin typed their address."""
    user = db.get_or_404(User, user_id)
    form = EraseForm()
    if form.validate():
        if form.confirm.data.strip().lower() != user.email:
            form.confirm.errors = [f"That is not {user.name}'s email address: type {user.email} to erase this account."]
        else:
            name = user.name
            try:
                erase_person(user, by=current_user, now=now())
            except UserError as exc:
                db.session.rollback()
                form.form_errors.append(_sentence(str(exc)))
            else:
                current_app.logger.info("personal data of account %s erased by account %s", user.id, current_user.id)
                flash(f"{name}'s personal data is erased: this account is now {user.name}, and their answers count "
                      "in their team's figures without their name.")
                return redirect(url_for("admin.person", user_id=user.id), code=303)
    return _person_page(db.get_or_404(User, user_id), erase_form=form, code=400)


def _link_refused(user: User) -> str | None:
    if user.id == current_user.id:
        return "Change your own password under Settings: it asks for the current one."
    if user.erased_at is not None:
        return "This person's personal data is erased: the account cannot be used again."
    if not user.active:
        return "Their account is deactivated: tick Active and save first."
    return None


@bp.post("/people/<id:user_id>/link")
@roles_required("admin")
def make_link(user_id: int):
    """Show a link that lets them set their password, for the admin to hand over (this response only: never stored)."""
    user = db.get_or_404(User, user_id)
    if not Form().validate():
        return _person_page(user, code=400)
    refused = _link_refused(user)
    if refused:
        flash(refused)
        return redirect(url_for("admin.person", user_id=user.id, _anchor="password"), code=303)
    page, code = _person_page(user, link=password_links.url(user, password_links.INVITE))
    return page, code, {"Cache-Control": "no-store"}


@bp.post("/people/<id:user_id>/link/email")
@roles_required("admin")
def email_link(user_id: int):
    user = db.get_or_404(User, user_id)
    if not Form().validate():
        return _person_page(user, code=400)
    refused = _link_refused(user) or (None if password_links.mail_configured() else "This server sends no email: make a link and hand it over.")
    flash(refused or _email_link(user))
    return redirect(url_for("admin.person", user_id=user.id, _anchor="password"), code=303)


MAX_WEB_INVITATIONS = 200  # emailed within one request (about 2 ms each to a local relay, far more to a remote one)


class ImportForm(Form):
    pasted = TextAreaField("Or paste the list here", validators=[Length(max=1024 * 1024)])
    invite = BooleanField("Email each new person an invitation to set their password", default=True)


def _import_page(form: ImportForm, problems: list[str] | None = None, code: int = 200):
    return render_template("admin/import.html", form=form, problems=problems or [], can_mail=password_links.mail_configured(),
                           columns=people_csv.COLUMNS, max_people=people_csv.MAX_PEOPLE, timezone=current_user.timezone,
                           link_days=password_links.lifetime_text(password_links.INVITE)), code


@bp.get("/people/import")
@roles_required("admin")
def import_people():
    return _import_page(ImportForm(formdata=None))


@bp.post("/people/import")
@roles_required("admin")
def import_people_post():
    """Import the uploaded (or pasted) list, all or nothing; the answer lists who was added and their invitations."""
    form = ImportForm()
    if not form.validate():
        return _import_page(form, code=400)
    upload = request.files.get("file")
    path = (upload.filename or "upload.csv") if upload and upload.filename else "pasted list"
    try:
        text = people_import.decode(upload.read(), path) if upload and upload.filename else (form.pasted.data or "")
    except ValueError as exc:
        return _import_page(form, [str(exc)], 400)
    if not text.strip():
        return _import_page(form, ["Choose a CSV file or paste the list."], 400)
    inviting = form.invite.data and password_links.mail_configured()
    if inviting:
        listed = len(people_csv.parse(text)[0])
        if listed > MAX_WEB_INVITATIONS:
            return _import_page(form, [
                f"{path}: {listed} people, and this page emails at most {MAX_WEB_INVITATIONS} invitations at a time (a web "
                "request has to end within seconds; a slow mail relay takes about a tenth of a second per email). Split "
                "the file, untick the invitations to get each person's link instead, or run "
                "flask --app learnapp users import FILE on the server."], 400)
    report = people_import.import_people(text, path, default_timezone=current_user.timezone or "UTC", now=now())
    if not report.ok:
        return _import_page(form, report.problems, 400)
    if inviting:
        invitations = people_import.invite(report.created, by=current_user)
    else:
        invitations = [people_import.Invitation(user, sent=False) for user in report.created]
    links = {i.user.id: password_links.url(i.user, password_links.INVITE) for i in invitations if not i.sent}
    page = render_template("admin/imported.html", report=report, invitations=invitations, links=links,
                           link_days=password_links.lifetime_text(password_links.INVITE))
    return page, 200, {"Cache-Control": "no-store"}


def _sentence(message: str) -> str:
    """A service message ("the password must have ...") as a sentence on a page."""
    message = message[:1].upper() + message[1:]
    return message if message.endswith(".") else message + "."
