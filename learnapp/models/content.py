"""Imported content: the stage model, skills with their lessons, scenarios and their versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint, func, select
from sqlalchemy.orm import Mapped, mapped_column

from learnapp.extensions import db
from learnapp.models.types import UTCDateTime


class StageModelVersion(db.Model):
    """One imported version of the buyer-stage model (stages, rules, moves, discovery walk); newest is current."""

    __tablename__ = "stage_model_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Skill(db.Model):
    """A skill and the lesson that teaches it."""

    __tablename__ = "skill"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    lesson_md: Mapped[str] = mapped_column(Text, default="")
    source_path: Mapped[str] = mapped_column(String(500), default="")
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    current_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # number of the current LessonVersion
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VersionColumns:
    """What every content version holds: its number, the content and its hash, who saved it and when."""

    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(254), default="import")


class LessonVersion(VersionColumns, db.Model):
    """An immutable version of a lesson."""

    __tablename__ = "lesson_version"
    __table_args__ = (UniqueConstraint("skill_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skill.id"), index=True)


class Scenario(db.Model):
    """A drill item's identity; its text lives in versions, and attempts point at the version shown."""

    __tablename__ = "scenario"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    skill_id: Mapped[str] = mapped_column(ForeignKey("skill.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="active")
    source_path: Mapped[str] = mapped_column(String(500), default="")
    current_number: Mapped[int] = mapped_column(Integer, default=1)  # number of the current ScenarioVersion
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ScenarioVersion(VersionColumns, db.Model):
    """An immutable version of a scenario: the exact data a rep was shown."""

    __tablename__ = "scenario_version"
    __table_args__ = (UniqueConstraint("scenario_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(ForeignKey("scenario.id"), index=True)
    # The stage rules the version was checked against, which its history is written under: the newest when it is
    # stored, read by the INSERT itself (content writes hold the content lock, and an import's new rules are flushed
    # before its scenarios). Chosen by time instead, an editor save read as made after an import from a host whose
    # clock is behind, and was written under the rules that import brought. None: stored before migration 0019.
    stage_model_id: Mapped[int | None] = mapped_column(
        Integer, default=select(func.max(StageModelVersion.id)).scalar_subquery())
