"""Accounts, teams and who may see whom."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

from werkzeug.security import check_password_hash, generate_password_hash

from learnapp.domain.people_csv import EMAIL, ERASED_DOMAIN, placeholder_address, valid_timezone
from learnapp.domain.retention import WorkingWeek
from learnapp import rate_limits
from learnapp.extensions import db
from learnapp.models import (JobRun, LessonVersion, Notification, Role, ScenarioVersion, Team, TeamMove, User, Vacation,
                             WorkingDaysChange)
from learnapp.models.user import new_session_token, parse_weekdays
from learnapp.services.db import begin_write

MIN_PASSWORD = 8
MAX_PASSWORD = 200  # the login form's limit too: a longer one could be set but never typed in again
NO_PASSWORD = "!no password yet"  # an account's password_hash until its owner sets one through a link; no password matches it


class UserError(ValueError):
    """An account could not be created or changed; the message says why."""


class WrongPassword(UserError):
    """The password given to confirm a change is not the user's."""


def create_user(email: str, name: str, password: str | None, role: str = "rep", *, team: str | None = None,
                timezone: str = "UTC", now: datetime) -> User:
    """Create an account with a hashed password; a manager given a team leads it, anyone else joins it.

    ``password`` None: no password yet, nobody can log in to it until its owner sets one through a link
    (services.password_links: an invitation)."""
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise UserError(f"'{email}' is not an email address")
    if placeholder_address(email):
        raise UserError(f"{email} is no one's address: {ERASED_DOMAIN} is for erased accounts")
    if role not in {r.value for r in Role}:
        raise UserError(f"unknown role '{role}' (choose one of: {', '.join(r.value for r in Role)})")
    if password is not None:
        check_new_password(password)
    _check_timezone(timezone)
    if db.session.scalars(db.select(User).filter_by(email=email)).first():
        raise UserError(f"an account for {email} exists already")
    user = User(email=email, name=" ".join((name or email.split("@")[0]).split()), role=role, timezone=timezone,
                password_hash=NO_PASSWORD if password is None else generate_password_hash(password), created_at=now)
    db.session.add(user)
    if team:
        team_row = get_or_create_team(team)
        if role == Role.MANAGER.value:
            team_row.managers.append(user)
        else:
            user.team = team_row
    db.session.commit()
    return user


def check_new_password(password: str) -> None:
    """The one rule for a new password, at the command line and in the settings page: MIN_PASSWORD to MAX_PASSWORD characters."""
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"the password must have at most {MAX_PASSWORD} characters")


def change_password(user: User, current: str, new: str) -> None:
    """Replace the user's password once the current one is confirmed; every other login of theirs ends.

    A wrong current password, a new one equal to it or one that breaks the rule raises UserError and changes nothing.
    A new session token ends the sessions and remember cookies on other devices, which may be why the
    password is being changed; the caller logs the current session in again with the new token.
    """
    if not check_password_hash(user.password_hash, current or ""):
        raise WrongPassword("That is not your current password.")
    if new == current:  # a "change" to the same password would only log the user's other devices out
        raise UserError("That is your current password: choose a different one.")
    replace_password(user, new)


def has_password(user: User) -> bool:
    """False for an account made without one (an invitation not taken up yet)."""
    return user.password_hash != NO_PASSWORD


def replace_password(user: User, password: str, *, writing: bool = False) -> None:
    """Replace the password once it passes the rule; a new session token ends every login made with the old one.
    ``writing``: the caller began the write transaction already (begin_write) and checked what it read in it."""
    check_new_password(password)
    if not writing:
        begin_write()
    user.password_hash = generate_password_hash(password)
    user.session_token = new_session_token()
    db.session.commit()


def _check_timezone(name: str) -> None:
    if not valid_timezone(name):
        raise UserError(f"unknown timezone '{name}' (use an IANA name such as Europe/Berlin)")


def get_or_create_team(name: str) -> Team:
    team = db.session.scalars(db.select(Team).filter_by(name=name)).first()
    if team is None:
        team = Team(name=name)
        db.session.add(team)
        db.session.flush()
    return team


def user_by_email(email: str) -> User | None:
    return db.session.scalars(db.select(User).filter_by(email=(email or "").strip().lower())).first()


def authenticate(email: str, password: str) -> User | None:
    """The active account with this email and password, or None (the same answer for both mistakes)."""
    user = db.session.scalars(db.select(User).filter_by(email=(email or "").strip().lower())).first()
    # an unknown email, or an account with no password yet (an invitation not taken up), costs a hash check too:
    # answering faster would tell who has an account, or who was invited and has not set a password
    real = user is not None and has_password(user)
    matches = check_password_hash(user.password_hash if real else _no_user_hash(), password or "")
    return user if real and matches and user.active else None


def _no_user_hash() -> str:
    global _NO_USER_HASH
    if _NO_USER_HASH is None:
        _NO_USER_HASH = generate_password_hash(secrets.token_hex(16))
    return _NO_USER_HASH


_NO_USER_HASH: str | None = None


def visible_teams(viewer: User) -> list[Team]:
    """Teams whose data the viewer may see: all for admins, the led ones for managers, none for others."""
    if viewer.role == Role.ADMIN.value:
        return list(db.session.scalars(db.select(Team).order_by(Team.name)))
    if viewer.role == Role.MANAGER.value:
        return sorted(viewer.led_teams, key=lambda t: t.name)
    return []


def can_view_rep(viewer: User, rep: User) -> bool:
    """A rep sees only themself; a manager the reps of teams they lead; an admin everyone.

    A manager's reps are the team's members who are reps or were (``left_on``: deactivated, or given another role
    since; the dashboard's past ranges still list them), not a trainer or an admin who merely belongs to the team.
    """
    if viewer.id == rep.id or viewer.role == Role.ADMIN.value:
        return True
    return (viewer.role == Role.MANAGER.value and rep.team_id is not None
            and (rep.role == Role.REP.value or rep.left_on is not None)
            and any(t.id == rep.team_id for t in viewer.led_teams))


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every session and remember cookie holding the old token stops working."""
    from learnapp.models.user import new_session_token
    from learnapp.services.db import begin_write

    begin_write()
    user.session_token = new_session_token()
    db.session.commit()


MAX_NAME = 120  # User.name and Team.name


def _team_name(name: str, *, renaming: Team | None = None) -> str:
    """A team name as stored (spaces collapsed); a UserError for none, one too long or one another team has (in
    any case). Call inside the write transaction, so the check and the write see the same teams."""
    name = " ".join((name or "").split())
    if not name:
        raise UserError("Give the team a name.")
    if len(name) > MAX_NAME:
        raise UserError(f"Use at most {MAX_NAME} characters.")
    taken = db.select(Team).where(db.func.lower(Team.name) == name.lower())
    if renaming is not None:
        taken = taken.where(Team.id != renaming.id)
    if db.session.scalars(taken).first() is not None:
        raise UserError(f"A team named {name} exists already.")
    return name


def _commit_team_name(name: str) -> None:
    from sqlalchemy.exc import IntegrityError

    try:
        db.session.commit()
    except IntegrityError:  # the same name written at the same moment by another request (PostgreSQL)
        db.session.rollback()
        raise UserError(f"A team named {name} exists already.") from None


def _refused_name_ends_the_write(name: str, *, renaming: Team | None = None) -> str:
    """_team_name inside a write transaction: a refusal rolls it back first, so the write lock does not stay held
    (on SQLite, by every drill answer's wait) while the page is rendered again."""
    try:
        return _team_name(name, renaming=renaming)
    except UserError:
        db.session.rollback()
        raise


def create_team(name: str) -> Team:
    """A new team (an admin names it); a UserError for no name, a name too long or one taken already."""
    begin_write()
    team = Team(name=_refused_name_ends_the_write(name))
    db.session.add(team)
    _commit_team_name(team.name)
    return team


def rename_team(team: Team, name: str) -> None:
    """A new name for a team (a reorganisation): its people, managers and history stay; the rules of create_team."""
    begin_write()
    team.name = _refused_name_ends_the_write(name, renaming=team)
    _commit_team_name(team.name)


def delete_team(team: Team) -> None:
    """Remove a team nobody belongs to or leads any more, with its rollups (the curves of answers given in it).
    A UserError names who is still in it (deactivated people count: move them to No team first; erased ones, who
    cannot be moved, do not, and belong to no team after it); nothing changes."""
    from learnapp.models import CalibrationRollup, RetentionRollup

    begin_write()
    members = list(db.session.scalars(db.select(User).filter_by(team_id=team.id).with_for_update()))
    # an erased account cannot be moved (update_account refuses it): it leaves with the team, as its answers do
    erased, members = [m for m in members if m.erased_at is not None], [m for m in members if m.erased_at is None]
    if members or team.managers:
        inactive = sum(1 for m in members if not m.active)
        led = "led by " + ", ".join(sorted(m.name for m in team.managers))
        if members:
            who = (f"still has {len(members)} member{'s' if len(members) != 1 else ''}"
                   + (f" ({inactive} deactivated)" if inactive else "") + (f" and is {led}" if team.managers else ""))
        else:
            who = f"is still {led}"
        name = team.name
        db.session.rollback()
        raise UserError(f"{name} {who}: move them to another team (or No team) first.")
    for person in erased:
        person.team_id = None
    for rollup in (RetentionRollup, CalibrationRollup):
        db.session.execute(db.delete(rollup).where(rollup.team_id == team.id))
    # moves into and out of it stay (the other teams' stints need them) but stop naming it: SQLite gives the
    # next team created the id of the last one deleted, which would inherit these moves and show their reps
    for column in (TeamMove.from_team_id, TeamMove.to_team_id):
        db.session.execute(db.update(TeamMove).where(column == team.id).values({column.key: None}))
    db.session.delete(team)
    db.session.commit()


def update_account(user: User, *, name: str, email: str, role: str, timezone: str, team_id: int | None,
                   leads: Iterable[int], active: bool, by: User, now: datetime) -> None:
    """An admin's changes to an account: name, email, role, timezone, team (for a manager, the teams they lead
    instead), active.

    A manager leads the teams in ``leads`` and is no team's member; anyone else is a member of ``team_id`` (or
    none) and leads nothing: a team given to a manager, or teams to lead given to anyone else, is refused
    rather than dropped. A rep moved to another team takes their history along: both teams' rollups are
    rebuilt at once, as the nightly rebuild would book them; so are their rows when their timezone changes (their
    answers' days move). Deactivating ends every login of theirs (a new session token) and takes a rep off their
    team's dashboard and email; the day they stop counting as a rep (deactivated or given another role) is
    ``left_on``, and their past ranges still show them until then. When they count again, the days between (from
    the day they joined, for someone who never was a rep) are recorded as a pause, a Vacation: not due, the
    streak kept, the backlog spread as after any pause; nothing of their earlier participation is lost. No change may
    leave the organisation without an active admin (admins' rows are locked meanwhile, so two admins cannot
    demote each other at once). A new address replaces the old one in the records of what they did (vacations,
    working-day changes, team moves, content versions), so those still name them, and an erasure finds them; the
    login limiter's counts under the old address are cleared (rate_limits.forget_address), as an erasure would. A
    UserError says what is wrong; nothing changes.
    """
    from learnapp.services import rollups
    from learnapp.services.drill import local_day, move_learning_days

    if user.erased_at is not None:
        raise UserError(ERASED_ALREADY)
    name = " ".join((name or "").split())
    email = (email or "").strip().lower()
    if not name:
        raise UserError("Give a name.")
    if len(name) > MAX_NAME:
        raise UserError(f"Use at most {MAX_NAME} characters for the name.")
    if not EMAIL.match(email) or len(email) > 254:
        raise UserError(f"{email or 'That'} is not an email address.")
    if placeholder_address(email):
        raise UserError(f"{email} is no one's address: {ERASED_DOMAIN} is for erased accounts.")
    if role not in {r.value for r in Role}:
        raise UserError("Pick a role from the list.")
    _check_timezone(timezone)
    leads = set(leads)
    if role == Role.MANAGER.value and team_id is not None:
        raise UserError("A manager leads teams rather than belonging to one: tick them under Leads and set Team to No team.")
    if role != Role.MANAGER.value and leads:
        raise UserError("Only a manager leads teams: untick Leads, or make them a manager.")
    if user.id == by.id and (role != Role.ADMIN.value or not active):
        raise UserError("You cannot take your own admin role or deactivate yourself; another admin can.")
    begin_write()
    # the admins' rows and this account's, locked until the commit (PostgreSQL), in id order as erase_person locks
    # its two (rows locked in different orders by two requests could deadlock)
    locked = db.session.scalars(db.select(User).where(db.or_(db.and_(User.role == Role.ADMIN.value, User.active),
                                                             User.id == user.id))
                                .order_by(User.id).with_for_update()).all()
    admins = {u.id: u for u in locked if u.role == Role.ADMIN.value and u.active}
    try:
        _refuse_if_erased(user)  # erased since the page was read: the form would bring their name and address back
        if by.id not in admins:
            raise UserError("Only an active admin can change accounts.")
        if not any(a.id != user.id for a in admins.values()) and user.id in admins and (role != Role.ADMIN.value or not active):
            raise UserError("That would leave no active admin.")
        if email != user.email and user_by_email(email) is not None:
            raise UserError(f"An account for {email} exists already.")
        teams = {t.id: t for t in db.session.scalars(db.select(Team))}
        if team_id is not None and team_id not in teams or not leads <= set(teams):
            raise UserError("Pick the teams from the list.")
    except UserError:
        # the locks go with the refusal: kept, they held every other write (on SQLite, every drill answer) until the
        # request had rendered the form again
        db.session.rollback()
        raise
    counted_before, old_team, old_zone = user.role == Role.REP.value and user.active, user.team_id, user.timezone
    old_email = user.email
    if email != user.email:  # what they did under the old address is theirs still (and erase_person finds it by the new)
        _rename_author(user.email, email)
    user.name, user.email, user.role, user.timezone = name, email, role, timezone
    if role == Role.MANAGER.value:
        user.team, user.led_teams = None, sorted((teams[t] for t in leads), key=lambda t: t.name)
    else:
        user.team, user.led_teams = (teams[team_id] if team_id is not None else None), []
    if user.active and not active:
        user.session_token = new_session_token()  # logged out everywhere
    user.active = active
    counted, today = role == Role.REP.value and active, local_day(user, now)
    if counted_before and not counted:
        user.left_on = today
    elif counted and not counted_before:
        away_from = user.left_on or local_day(user, user.created_at)
        if away_from < today:  # not due while they were not a rep here (unticked and ticked again today: nothing)
            db.session.add(Vacation(user_id=user.id, start=away_from, end=today - timedelta(days=1),
                                    created_by=by.email, created_at=now))
        user.left_on = None
    if user.team_id != old_team:  # the old team's past ranges still count them up to the day before
        db.session.add(TeamMove(user_id=user.id, day=today, from_team_id=old_team, to_team_id=user.team_id,
                                moved_by=by.email, moved_at=now))
    if user.timezone != old_zone:
        move_learning_days(user)
    if user.team_id != old_team or user.timezone != old_zone:
        rollups.rebuild_teams([t for t in (old_team, user.team_id) if t is not None],
                              organisation=user.timezone != old_zone)
    db.session.commit()
    if email != old_email:
        # the login limiter's keys hold the address itself for up to an hour, and an erasure clears only the address
        # of the day: the old one's counts go now (they guard no account any more), as erase_person's would
        rate_limits.forget_address(old_email)


def reset_password(user: User, password: str, *, by: User) -> None:
    """An admin sets a new password for someone who lost theirs; every login of theirs ends (the rule of
    check_new_password; a UserError otherwise, and nothing changes). Not their own: that asks for the current
    password, under Settings."""
    if user.id == by.id:
        raise UserError("Change your own password under Settings: it asks for the current one.")
    if user.erased_at is not None:
        raise UserError(ERASED_ALREADY)
    check_new_password(password)
    begin_write()
    _refuse_if_erased(user)
    replace_password(user, password, writing=True)


ERASED_ALREADY = "This person's personal data is erased: the account cannot be used again. Make a new one."


def _refuse_if_erased(user: User) -> None:
    """Inside the write transaction, before changing an account: a UserError (the transaction rolled back) if its
    personal data was erased meanwhile, by another admin whose erase_person committed after this request read the
    account. Its row is locked until the commit (PostgreSQL; on SQLite the write transaction is), so no erasure
    commits in between either. Read as a column, not through ``user``, which may hold what was read before."""
    erased_at = db.session.scalar(db.select(User.erased_at).where(User.id == user.id).with_for_update())
    if erased_at is not None:
        db.session.rollback()
        raise UserError(ERASED_ALREADY)


def _rename_author(old: str, new: str) -> None:
    """The records of what someone did (vacations, working-day changes and team moves they made, content versions
    they saved) name them by address: ``old`` becomes ``new`` in all of them, in the caller's transaction."""
    for model, column in ((Vacation, Vacation.created_by), (WorkingDaysChange, WorkingDaysChange.changed_by),
                          (TeamMove, TeamMove.moved_by), (LessonVersion, LessonVersion.created_by),
                          (ScenarioVersion, ScenarioVersion.created_by)):
        db.session.execute(db.update(model).where(column == old).values({column.key: new}))


def erased_name(user_id: int) -> str:
    return f"Erased person {user_id}"


def erase_person(user: User, *, by: User | None, now: datetime) -> None:
    """Erase the personal data of someone who left, on request: their name and email address become placeholders
    ("Erased person 12", erased-12@erased.invalid) everywhere the app keeps them (their account, and the records of
    what they did: vacations, working-day changes and team moves they made, content versions they saved, job
    details naming their address, refusals of their email, the login limiter's counts kept under it in the storage this
    process reaches: rate_limits.forget_address), their password and every login end, their reminders
    stop, and a manager leads no team any more. Their answers stay, under the placeholder, in their team's
    retention curves and participation, so the team's past figures do not change.

    Only an admin (``by``; None: an operator on the server, `flask users erase`), only for a deactivated account (deactivate first: an active one is someone still at work), never
    their own, and once: an erased account cannot be changed or used again. A UserError says why not; nothing changes.
    """
    if user.erased_at is not None:
        raise UserError(f"{user.name}'s personal data is erased already.")
    if by is not None and user.id == by.id:
        raise UserError("You cannot erase your own account; another admin can.")
    if user.active:
        raise UserError("Deactivate the account and save first: only someone who left can be erased.")
    begin_write()
    ids = [user.id] + ([by.id] if by is not None else [])
    locked = db.session.scalars(db.select(User).where(User.id.in_(ids)).order_by(User.id).with_for_update()).all()
    if by is not None and not any(u.id == by.id and u.role == Role.ADMIN.value and u.active for u in locked):
        db.session.rollback()
        raise UserError("Only an active admin can erase an account.")
    db.session.refresh(user)
    if user.erased_at is not None or user.active:  # changed by another admin meanwhile
        db.session.rollback()
        raise UserError(f"{user.name}'s account changed meanwhile: look again.")
    old_email, label = user.email, erased_name(user.id)
    user.name, user.email, user.password_hash = label, f"erased-{user.id}@{ERASED_DOMAIN}", NO_PASSWORD
    user.session_token, user.reminders_on, user.erased_at = new_session_token(), False, now
    user.led_teams = []
    _rename_author(old_email, label)
    # job details quote addresses as relays echo them (in any case) among other people's, one of which may end with
    # this one (jimbo@ and bo@, or bo@example.com.au): whole addresses only (what may continue a domain name does
    # not follow), in any case
    address = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])" + re.escape(old_email) + r"(?!\.?[a-z0-9-])", re.IGNORECASE)
    for run in db.session.scalars(db.select(JobRun).where(db.func.lower(JobRun.detail).contains(old_email, autoescape=True))):
        run.detail = address.sub(label, run.detail)
    db.session.execute(db.update(Notification).where(Notification.user_id == user.id, Notification.refused.is_not(None))
                       .values(refused="refused by the mail relay (the reply named an address since erased)"))
    db.session.commit()
    # the login limiter counts logins and password emails per address for up to an hour: its keys name the address
    rate_limits.forget_address(old_email)


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WorkingDaysSet:
    """What set_working_days did: ``changed`` False when the days were already so; ``since`` the rep's day they count
    from; ``replaced`` the changes dated from that day on that it replaced (first day, weekdays), to be told."""

    days: tuple[int, ...]
    since: date
    changed: bool
    replaced: tuple[tuple[date, tuple[int, ...]], ...] = ()


def next_working_days_day(rep: User, now: datetime) -> date:
    """The day a change of the rep's working days counts from unless another is picked: tomorrow in the rep's
    timezone, so a drill done today still counts as it did; for a rep who joined today, today."""
    from learnapp.services.drill import local_day

    today = local_day(rep, now)
    return today if local_day(rep, rep.created_at) == today else today + timedelta(days=1)


def working_days_bounds(rep: User, now: datetime) -> tuple[date, date]:
    """The first and last day a change of the rep's days may count from: the rep's first day (the day they joined,
    or their first drill if history from before was imported: participation counts from it), and a year ahead."""
    from learnapp.models import RepDayRollup
    from learnapp.services.drill import local_day

    joined = local_day(rep, rep.created_at)
    first_drill = db.session.scalar(db.select(db.func.min(RepDayRollup.day)).where(RepDayRollup.user_id == rep.id))
    return min(joined, first_drill or joined), local_day(rep, now) + timedelta(days=365)


def set_working_days(rep: User, weekdays: Iterable[str], *, by: User, now: datetime, since: date | None = None) -> WorkingDaysSet:
    """Set the weekdays ``rep`` works (Monday "0") from ``since`` (default: next_working_days_day) on.

    Participation, the streak and the inactive list count each day by the days in force then: a change
    dated ahead waits for its day, one dated back (a move the manager forgot to record) corrects the days
    since. Each change is a WorkingDaysChange with the days before it and who made it; changes dated from
    ``since`` on are replaced (and returned, so the manager is told), and one that no longer changes anything
    is dropped (WorkingWeek.changed), so setting the days back undoes a change. At least one day, and
    ``since`` between working_days_bounds(); a UserError says what is wrong and nothing changes. Their manager or an admin sets them, never the rep, who could otherwise count only the days
    they happened to drill.
    """
    try:
        days = tuple(sorted({int(d) for d in weekdays}))
    except ValueError:
        raise UserError("Pick the days from the list.") from None
    if not days:
        raise UserError("Pick at least one working day.")
    if not all(0 <= d < 7 for d in days):
        raise UserError("Pick the days from the list.")
    first, last = working_days_bounds(rep, now)
    since = since or next_working_days_day(rep, now)
    if since < first:
        raise UserError(f"Pick a day from {first:%a %d %b %Y} on: {rep.name}'s first day.")
    if since > last:
        raise UserError(f"Pick a day within a year: {last:%a %d %b %Y} at the latest.")
    begin_write()
    # the rep's row read again and locked until the commit (on PostgreSQL; SQLite's write lock already serialises):
    # two saves at once would otherwise both add the same day's change, and the second fail
    rep = db.session.execute(db.select(User).where(User.id == rep.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    rows = {row.since: row for row in db.session.scalars(db.select(WorkingDaysChange).filter_by(user_id=rep.id))}
    old = _working_week(rep, sorted(rows.values(), key=lambda row: row.since))
    new = old.changed(since, days)
    if new == old:
        db.session.rollback()  # nothing to write: the lock goes now, not when the request ends
        return WorkingDaysSet(days, since, False)
    replaced = tuple((day, weekdays_then) for day, weekdays_then in old.changes
                     if day > since or day == since and weekdays_then != days)
    before = new.before
    for day, weekdays_then in new.changes:
        row, text, text_before = rows.pop(day, None), _days_text(weekdays_then), _days_text(before)
        if row is None:
            db.session.add(WorkingDaysChange(user_id=rep.id, since=day, before=text_before, days=text,
                                             changed_by=by.email, changed_at=now))
        elif (row.before, row.days) != (text_before, text):
            row.before, row.days, row.changed_by, row.changed_at = text_before, text, by.email, now
        before = weekdays_then
    for row in rows.values():  # changes replaced from ``since`` on, and those that no longer change anything
        db.session.delete(row)
    rep.working_days = _days_text(before)  # the days after every change, those to come included
    db.session.commit()
    return WorkingDaysSet(days, since, True, replaced)


def _days_text(days: Iterable[int]) -> str:
    return ",".join(map(str, days))


def _working_week(rep: User, changes: list[WorkingDaysChange]) -> WorkingWeek:
    """The rep's WorkingWeek from their changes, oldest first; without any, their present days hold for every day."""
    if not changes:
        return WorkingWeek(rep.working_weekdays)
    return WorkingWeek(parse_weekdays(changes[0].before), tuple((c.since, parse_weekdays(c.days)) for c in changes))


def working_weeks(reps: Iterable[User]) -> dict[int, WorkingWeek]:
    """Each rep's working days over time, from their recorded changes (one query for them all)."""
    reps = list(reps)
    changes: dict[int, list[WorkingDaysChange]] = {rep.id: [] for rep in reps}
    if reps:
        query = (db.select(WorkingDaysChange).where(WorkingDaysChange.user_id.in_(list(changes)))
                 .order_by(WorkingDaysChange.user_id, WorkingDaysChange.since))
        for change in db.session.scalars(query):
            changes[change.user_id].append(change)
    return {rep.id: _working_week(rep, changes[rep.id]) for rep in reps}


def working_days_history(rep: User) -> list[WorkingDaysChange]:
    """The changes of the rep's working days, newest first."""
    return list(db.session.scalars(db.select(WorkingDaysChange).filter_by(user_id=rep.id)
                                   .order_by(WorkingDaysChange.since.desc())))


def weekday_span(days: Iterable[int]) -> str:
    """Working days in words: "Monday to Friday", "Tuesday to Saturday", "Monday, Wednesday and Friday"."""
    days = sorted(days)
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        return f"{WEEKDAY_NAMES[days[0]]} to {WEEKDAY_NAMES[days[-1]]}"
    names = [WEEKDAY_NAMES[d] for d in days]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
