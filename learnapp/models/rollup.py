"""Rollups for the dashboards and the item analytics: derived from attempts, kept up to date on every answer,
rebuildable.

``team_id`` 0 holds the whole organisation, so the organisation-wide curve reads a few thousand rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from learnapp.extensions import db
from learnapp.models.types import UTCDateTime

ORGANISATION = 0


class RetentionRollup(db.Model):
    """First tries per team, local day and whole weeks since the skill was learned."""

    __tablename__ = "rollup_retention"

    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    week: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    right: Mapped[int] = mapped_column(Integer, default=0)


class CalibrationRollup(db.Model):
    """Answers with a predicted recall, per team, local day and tenth of predicted recall."""

    __tablename__ = "rollup_calibration"

    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bin: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    right: Mapped[int] = mapped_column(Integer, default=0)
    predicted: Mapped[float] = mapped_column(Float, default=0.0)


class RepDayRollup(db.Model):
    """Answers, right answers and time spent per rep and local day."""

    __tablename__ = "rollup_rep_day"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    right: Mapped[int] = mapped_column(Integer, default=0)
    ms: Mapped[int] = mapped_column(Integer, default=0)


class ItemRepRollup(db.Model):
    """Item analytics: one rep's answers to one scenario under one skill, and whether their first one was right."""

    __tablename__ = "rollup_item_rep"

    scenario_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    skill_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    answers: Mapped[int] = mapped_column(Integer, default=0)
    right: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    first_correct: Mapped[bool]


class ItemTimeRollup(db.Model):
    """Item analytics: answers per scenario and answer time, in tenths of a second (for the median)."""

    __tablename__ = "rollup_item_time"

    scenario_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    tenths: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ItemWrongRollup(db.Model):
    """Item analytics: how often each wrong answer to a scenario was chosen."""

    __tablename__ = "rollup_item_wrong"

    scenario_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    chosen: Mapped[str] = mapped_column(String(255), primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)


class ItemDiscrimination(db.Model):
    """Item analytics: each answered item's discrimination index (None: no reps to rank) as computed from the item
    rollups at ``computed_at``, by the nightly rebuild; the trainer's list reads it once ranking every rep on each
    view would cost too much (services.analytics.LIVE_RANKING_ROWS). Derived: rebuilt from the rollups."""

    __tablename__ = "item_discrimination"

    scenario_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    discrimination: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime())
