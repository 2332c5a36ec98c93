"""Accounts and teams."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from enum import Enum

from flask_login import UserMixin
from sqlalchemy import Column, Date, ForeignKey, Integer, String, Table
from sqlalchemy import true as sa_true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learnapp.extensions import db
from learnapp.models.types import UTCDateTime

WEEKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday: the working days of a rep who ticked none


class Role(str, Enum):
    REP = "rep"
    TRAINER = "trainer"
    MANAGER = "manager"
    ADMIN = "admin"


team_manager = Table(
    "team_manager",
    db.metadata,
    Column("team_id", ForeignKey("team.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class Team(db.Model):
    """A team of reps; led by one or more managers (a manager may lead several teams)."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)

    managers: Mapped[list["User"]] = relationship(secondary=team_manager, back_populates="led_teams")
    members: Mapped[list["User"]] = relationship(back_populates="team", foreign_keys="User.team_id")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.REP.value)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id", ondelete="SET NULL"), index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reminders_on: Mapped[bool] = mapped_column(default=True, server_default=sa_true())
    reminder_time: Mapped[str] = mapped_column(String(5), default="09:00", server_default="09:00")  # local HH:MM
    reminder_days: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4", server_default="0,1,2,3,4")  # Mon=0
    # the weekdays a rep works (Mon=0), set by their manager or an admin, not the rep: what participation counts
    working_days: Mapped[str] = mapped_column(String(20), default="0,1,2,3,4", server_default="0,1,2,3,4")
    # the local day they stopped counting as one of their team's reps (deactivated, or given another role); None
    # while they count: a past range they worked in still shows them, and the days until they return are not due
    left_on: Mapped[date | None] = mapped_column(Date)
    # when an admin erased their personal data (services.users.erase_person): the account keeps its id and answers for
    # the team's figures, under a placeholder name and address, and can never be used again; None for everyone else
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # part of the login kept in the session and the remember cookie; replaced on logout, so no copy outlives it
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: new_session_token(), server_default="")

    team: Mapped[Team | None] = relationship(back_populates="members", foreign_keys=[team_id])
    led_teams: Mapped[list[Team]] = relationship(secondary=team_manager, back_populates="managers")

    @property
    def working_weekdays(self) -> tuple[int, ...]:
        """The rep's working days (Monday 0), set by their manager: only they count for participation, the streak
        and the inactive list (a rep's reminder days are their own choice and count for nothing). Unset: Monday to Friday."""
        return parse_weekdays(self.working_days)

    @property
    def is_active(self) -> bool:  # Flask-Login: a deactivated account cannot log in
        return self.active

    def get_id(self) -> str:  # Flask-Login: what the session and the remember cookie hold (see web/main.load_user)
        return f"{self.id}:{self.session_token}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles


def parse_weekdays(text: str | None) -> tuple[int, ...]:
    """Weekdays kept as text ("1,2,3,4,5", Monday 0) as a tuple; none or nothing readable: Monday to Friday."""
    days = sorted({int(d) for d in (text or "").split(",") if d.strip().isdigit() and int(d) < 7})
    return tuple(days) or WEEKDAYS


class WorkingDaysChange(db.Model):
    """A change of a rep's working days, from a day on (the rep's own local day): the days before it keep
    ``before``, so participation, the streak and the inactive list count each past day by the days worked then."""

    __tablename__ = "working_days_change"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    since: Mapped[date] = mapped_column(Date, primary_key=True)
    before: Mapped[str] = mapped_column(String(20))  # the days in force until ``since``, as User.working_days
    days: Mapped[str] = mapped_column(String(20))  # from ``since`` on
    changed_by: Mapped[str] = mapped_column(String(254))  # who changed them (an email)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def weekdays(self) -> tuple[int, ...]:
        return parse_weekdays(self.days)

    @property
    def weekdays_before(self) -> tuple[int, ...]:
        return parse_weekdays(self.before)


class TeamMove(db.Model):
    """Someone moved from one team to another (or from or to no team) on a day, their own local day: a team's
    past ranges count a rep only for the days they belonged to it. Team ids without a foreign key: deleting a team
    sets its ids here to None (users.delete_team), so the other teams' moves stay readable and a new team given the
    same id (SQLite reuses the last one) inherits none."""

    __tablename__ = "team_move"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)  # the first day in the new team
    from_team_id: Mapped[int | None] = mapped_column(Integer, index=True)
    to_team_id: Mapped[int | None] = mapped_column(Integer, index=True)
    moved_by: Mapped[str] = mapped_column(String(254))  # who moved them (an email)
    moved_at: Mapped[datetime] = mapped_column(UTCDateTime())


def new_session_token() -> str:
    return secrets.token_urlsafe(24)
