"""Accounts, teams and who may see whom."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from werkzeug.security import check_password_hash, generate_password_hash

from learnapp.extensions import db
from learnapp.domain.retention import WorkingWeek
from learnapp.models import Role, Team, User, WorkingDaysChange
from learnapp.models.user import new_session_token, parse_weekdays
from learnapp.services.db import begin_write

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 8
MAX_PASSWORD = 200  # the login form's limit too: a longer one could be set but never typed in again


class UserError(ValueError):
    """An account could not be created or changed; the message says why."""


class WrongPassword(UserError):
    """The password given to confirm a change is not the user's."""


def create_user(email: str, name: str, password: str, role: str = "rep", *, team: str | None = None,
                timezone: str = "UTC", now: datetime) -> User:
    """Create an account with a hashed password; a manager given a team leads it, anyone else joins it."""
    email = (email or "").strip().lower()
    if not EMAIL.match(email):
        raise UserError(f"'{email}' is not an email address")
    if role not in {r.value for r in Role}:
        raise UserError(f"unknown role '{role}' (choose one of: {', '.join(r.value for r in Role)})")
    check_new_password(password)
    _check_timezone(timezone)
    if db.session.scalars(db.select(User).filter_by(email=email)).first():
        raise UserError(f"an account for {email} exists already")
    user = User(email=email, name=(name or email.split("@")[0]).strip(), role=role, timezone=timezone,
                password_hash=generate_password_hash(password), created_at=now)
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
    check_new_password(new)
    begin_write()
    user.password_hash = generate_password_hash(new)
    user.session_token = new_session_token()
    db.session.commit()


# names the tz database has that are no place: the server's own zone and a placeholder (the settings page offers neither)
NOT_PLACES = {"localtime", "Factory", "posixrules"}


def _check_timezone(name: str) -> None:
    try:
        if name in NOT_PLACES:
            raise ValueError(name)
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"unknown timezone '{name}' (use an IANA name such as Europe/Berlin)") from None


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
    # an unknown email costs a hash check too: answering faster would tell who has an account
    matches = check_password_hash(user.password_hash if user is not None else _no_user_hash(), password or "")
    return user if user is not None and matches and user.active else None


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
    """A rep sees only themself; a manager the reps of teams they lead; an admin everyone."""
    if viewer.id == rep.id or viewer.role == Role.ADMIN.value:
        return True
    return viewer.role == Role.MANAGER.value and rep.team_id is not None and any(
        t.id == rep.team_id for t in viewer.led_teams)


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every session and remember cookie holding the old token stops working."""
    from learnapp.models.user import new_session_token
    from learnapp.services.db import begin_write

    begin_write()
    user.session_token = new_session_token()
    db.session.commit()


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WorkingDaysSet:
    """What set_working_days did: ``outcome`` is "changed", "undone" (back to the days before a change still to
    come) or "unchanged"; ``since`` the rep's day the change counts from (None when unchanged)."""

    days: tuple[int, ...]
    outcome: str
    since: date | None = None


def set_working_days(rep: User, weekdays: Iterable[str], *, by: User, now: datetime) -> WorkingDaysSet:
    """Set the weekdays ``rep`` works (Monday "0") from the rep's next day (in their timezone) on.

    Participation, the streak and the inactive list count them from that day; earlier days keep the days
    in force then (a WorkingDaysChange records each change and who made it), today included, so a drill
    the rep already did today still counts as it did. For a rep who joined today, they count from today:
    there is nothing before to keep. Another change before that day replaces the first,
    and one back to the days before it undoes it. At least one day; a UserError says what is wrong and
    nothing changes. Their manager or an admin sets them, never the rep, who could otherwise count only
    the days they happened to drill.
    """
    from learnapp.services.drill import local_day

    try:
        days = tuple(sorted({int(d) for d in weekdays}))
    except ValueError:
        raise UserError("Pick the days from the list.") from None
    if not days:
        raise UserError("Pick at least one working day.")
    if not all(0 <= d < 7 for d in days):
        raise UserError("Pick the days from the list.")
    begin_write()
    # the rep's row read again and locked until the commit (on PostgreSQL; SQLite's write lock already serialises):
    # two saves at once would otherwise both add the same day's change, and the second fail
    rep = db.session.execute(db.select(User).where(User.id == rep.id).with_for_update()
                             .execution_options(populate_existing=True)).scalar_one()
    today = local_day(rep, now)
    since = today if local_day(rep, rep.created_at) == today else today + timedelta(days=1)  # a rep who joined today: today
    latest = db.session.scalars(db.select(WorkingDaysChange).filter_by(user_id=rep.id)
                                .order_by(WorkingDaysChange.since.desc()).limit(1)).first()
    # a change still to come is replaced; one further ahead than the rep's next day (made before the rep moved
    # to a timezone further west) too, so the changes stay in order and the newest decides
    pending = latest if latest is not None and latest.since >= since else None
    text = ",".join(map(str, days))
    if pending is None and days == rep.working_weekdays or pending is not None and days == pending.weekdays:
        return WorkingDaysSet(days, "unchanged")
    if pending is None:
        db.session.add(WorkingDaysChange(user_id=rep.id, since=since, before=",".join(map(str, rep.working_weekdays)),
                                         days=text, changed_by=by.email, changed_at=now))
        outcome = "changed"
    elif days == pending.weekdays_before:
        since = pending.since
        db.session.delete(pending)
        outcome = "undone"
    else:
        since = pending.since
        pending.days, pending.changed_by, pending.changed_at = text, by.email, now
        outcome = "changed"
    rep.working_days = text
    db.session.commit()
    return WorkingDaysSet(days, outcome, since)


def working_weeks(reps: Iterable[User]) -> dict[int, WorkingWeek]:
    """Each rep's working days over time, from their recorded changes (one query for them all)."""
    reps = list(reps)
    changes: dict[int, list[WorkingDaysChange]] = {rep.id: [] for rep in reps}
    if reps:
        query = (db.select(WorkingDaysChange).where(WorkingDaysChange.user_id.in_(list(changes)))
                 .order_by(WorkingDaysChange.user_id, WorkingDaysChange.since))
        for change in db.session.scalars(query):
            changes[change.user_id].append(change)
    return {rep.id: WorkingWeek(parse_weekdays(changes[rep.id][0].before),
                                tuple((c.since, parse_weekdays(c.days)) for c in changes[rep.id]))
            if changes[rep.id] else WorkingWeek(rep.working_weekdays)
            for rep in reps}


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
