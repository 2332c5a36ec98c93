"""Vacations: a rep's practice paused for a date range.

While away a rep gets no reminders and the days do not count as missed. On return nothing special
is needed for the backlog: each day's plan holds at most five minutes, lowest predicted recall first,
so overdue skills are spread over the following days instead of arriving as one wall.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from learnapp.extensions import db
from learnapp.models import User, Vacation
from learnapp.services.db import begin_write
from learnapp.services.drill import local_day

MAX_DAYS = 120
EARLIEST_START = timedelta(days=365)  # a manager may record a vacation after the fact, up to a year back
LATEST_START = timedelta(days=2 * 365)  # and planned up to two years ahead


class VacationError(ValueError):
    """A date range that cannot be a vacation; the message says why."""


def add_vacation(user: User, start: date, end: date, *, by: User, now: datetime) -> Vacation:
    """Pause the rep's practice from start to end (inclusive).

    The first day must lie between a year before (a manager recording it after the fact; a rep's own
    vacation starts today at the earliest) and two years after the rep's own today, the
    range must last at most MAX_DAYS days, and it must not overlap a vacation the rep already has;
    otherwise a VacationError says why and nothing is written.
    """
    today = local_day(user, now)
    own = rep_limited(user, by)
    if own and start < today:  # (checked first: it says why)
        # past days on vacation do not count as missed: only a manager may excuse them after the fact
        raise VacationError("Your own vacation can start today at the earliest; ask your manager to record days already past.")
    check_range(start, end, today, earliest=today if own else None)
    begin_write()  # the overlap check and the insert are one step: two requests cannot both pass it
    db.session.execute(db.select(User.id).where(User.id == user.id).with_for_update())  # PostgreSQL's lock
    clash = overlapping(user.id, start, end)
    if clash:
        db.session.rollback()
        dates = " and ".join(f"{v.start:%d %b %Y} to {v.end:%d %b %Y}" for v in clash)
        raise VacationError(f"This overlaps the vacation from {dates}.")
    vacation = Vacation(user_id=user.id, start=start, end=end, created_by=by.email, created_at=now)
    db.session.add(vacation)
    db.session.commit()
    return vacation


def check_range(start: date, end: date, today: date, *, earliest: date | None = None) -> None:
    """Raise a VacationError when start..end cannot be a vacation for a rep whose day is ``today``; ``earliest``:
    a later first day allowed than a manager's (a rep's own vacation starts today at the earliest)."""
    earliest, latest = earliest or today - EARLIEST_START, today + LATEST_START
    if not earliest <= start <= latest:
        raise VacationError(f"The first day must be between {earliest:%d %b %Y} and {latest:%d %b %Y}.")
    if end < start:
        raise VacationError("The last day is before the first day.")
    if (end - start).days + 1 > MAX_DAYS:
        raise VacationError(f"A vacation can last at most {MAX_DAYS} days.")


def overlapping(user_id: int, start: date, end: date) -> list[Vacation]:
    """The rep's vacations that share at least one day with start..end."""
    query = db.select(Vacation).where(Vacation.user_id == user_id, Vacation.start <= end, Vacation.end >= start)
    return list(db.session.scalars(query.order_by(Vacation.start)))


def away_until(user_id: int, day: date) -> date | None:
    """The last day of the rep's pause that holds ``day``, or None when ``day`` is no vacation day. Vacations that
    follow each other (one ending the day before the next starts: a leave longer than MAX_DAYS is recorded so) are
    one pause: the end of the vacation holding ``day`` is not when the rep is back."""
    until = None
    for vacation in db.session.scalars(db.select(Vacation).where(Vacation.user_id == user_id, Vacation.end >= day)
                                       .order_by(Vacation.start)):
        if until is None and vacation.start <= day:
            until = vacation.end
        elif until is not None and vacation.start == until + timedelta(days=1):
            until = vacation.end
        elif until is not None:
            break
    return until


def vacations_of(user_id: int) -> list[Vacation]:
    return list(db.session.scalars(db.select(Vacation).filter_by(user_id=user_id).order_by(Vacation.start)))


def on_vacation(user_id: int, day: date) -> bool:
    return db.session.scalar(db.select(db.func.count(Vacation.id)).where(
        Vacation.user_id == user_id, Vacation.start <= day, Vacation.end >= day)) > 0


def vacation_days(user_ids: list[int], start: date, end: date) -> dict[int, set[date]]:
    """The days each rep is away between start and end."""
    result: dict[int, set[date]] = {u: set() for u in user_ids}
    query = db.select(Vacation).where(Vacation.user_id.in_(user_ids), Vacation.end >= start, Vacation.start <= end)
    for v in db.session.scalars(query):
        day = max(v.start, start)
        while day <= min(v.end, end):
            result[v.user_id].add(day)
            day = date.fromordinal(day.toordinal() + 1)
    return result


def rep_limited(user: User, by: User) -> bool:
    """Whether ``by`` acts on their own vacations as a rep: past days are then their manager's to record or correct."""
    return by.id == user.id and user.role == "rep"


def change_allowed(vacation: Vacation, user: User, by: User, today: date) -> str | None:
    """What ``by`` may do to ``vacation`` of ``user`` (whose day is ``today``): "remove" it, "shorten" it to end
    yesterday, or None. A manager or admin corrects anything; a rep only the part not begun yet, since days on
    vacation do not count as missed and a rep cannot excuse days already past."""
    if not rep_limited(user, by) or vacation.start >= today:
        return "remove"
    return "shorten" if vacation.end >= today else None


def remove_vacation(vacation_id: int, user: User, *, by: User, now: datetime) -> str | None:
    """Delete the rep's vacation ("removed"), or for a rep's own one already begun, cut it to end yesterday
    ("shortened"); None when there is no such vacation of theirs.

    A rep cannot remove a vacation that is over (those days would turn into missed days that only their manager
    may excuse): a VacationError says so and nothing is written."""
    begin_write()  # on SQLite, a read upgraded to a write fails at once if another request wrote meanwhile
    vacation = db.session.get(Vacation, vacation_id)
    if vacation is None or vacation.user_id != user.id:
        db.session.rollback()
        return None
    today = local_day(user, now)
    allowed = change_allowed(vacation, user, by, today)
    if allowed is None:
        db.session.rollback()
        raise VacationError("This vacation is over: the days already past stay as recorded. "
                            "Ask your manager to correct them.")
    if allowed == "shorten":
        vacation.end = today - timedelta(days=1)
    else:
        db.session.delete(vacation)
    db.session.commit()
    return "shortened" if allowed == "shorten" else "removed"
