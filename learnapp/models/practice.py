"""Practice records: daily drill sessions, items shown, attempts (append-only), memory states (derived)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learnapp.extensions import db
from learnapp.models.types import UTCDateTime


class DrillSession(db.Model):
    """A rep's drill for one local day: the planned skills in order."""

    __tablename__ = "drill_session"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    plan: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # the rep's usual answer time when the day was planned (median of the latest answers; 0 when too
    # few to tell), which the answers of the day are rated against; None: planned before migration 0008
    usual_seconds: Mapped[float | None] = mapped_column(Float)


class Presentation(db.Model):
    """One scenario version shown to a rep in one slot of a session; its token makes answering idempotent."""

    __tablename__ = "presentation"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("drill_session.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skill.id"))
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenario.id"))
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_version.id"))
    option_order: Mapped[list[str]] = mapped_column(JSON)
    predicted_recall: Mapped[float | None] = mapped_column(Float)
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the newest stage rules when it was shown, read with the version shown (which fits them): the rules it is graded
    # by, whatever the clocks of the hosts that imported content; None: shown before migration 0018 (chosen by time)
    stage_model_id: Mapped[int | None] = mapped_column(Integer)


class Attempt(db.Model):
    """One answer by one rep to one scenario version. Append-only: never updated, never deleted."""

    __tablename__ = "attempt"
    __table_args__ = (
        Index("ix_attempt_user_answered", "user_id", "answered_at"),
        Index("ix_attempt_user_scenario_answered", "user_id", "scenario_id", "answered_at"),  # the drill's variant pick
        Index("ix_attempt_skill_answered", "skill_id", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    presentation_id: Mapped[int] = mapped_column(ForeignKey("presentation.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    skill_id: Mapped[str] = mapped_column(ForeignKey("skill.id"))
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenario.id"), index=True)
    scenario_version_id: Mapped[int] = mapped_column(ForeignKey("scenario_version.id"))
    shown_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int] = mapped_column(Integer)
    answer: Mapped[Any] = mapped_column(JSON)
    correct: Mapped[bool]
    score: Mapped[float] = mapped_column(Float)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    rating: Mapped[int] = mapped_column(Integer)
    predicted_recall: Mapped[float | None] = mapped_column(Float)
    first_exposure: Mapped[bool] = mapped_column(default=False)


class MemoryStateRow(db.Model):
    """The FSRS state of one rep and one skill. Derived: rebuildable from attempts."""

    __tablename__ = "memory_state"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skill.id"), primary_key=True)
    stability: Mapped[float | None] = mapped_column(Float)
    difficulty: Mapped[float | None] = mapped_column(Float)
    due: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_review: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    lapses: Mapped[int] = mapped_column(Integer, default=0)
    introduced_on: Mapped[date] = mapped_column(Date)


class Vacation(db.Model):
    """A pause in a rep's practice: no reminders, and the days do not count against participation."""

    __tablename__ = "vacation"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
