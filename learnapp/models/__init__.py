"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from learnapp.models.content import LessonVersion, Scenario, ScenarioVersion, Skill, StageModelVersion
from learnapp.models.jobs import JobRun, Notification
from learnapp.models.practice import Attempt, DrillSession, MemoryStateRow, Presentation, Vacation
from learnapp.models.rollup import (ORGANISATION, CalibrationRollup, ItemDiscrimination, ItemRepRollup, ItemTimeRollup,
                                    ItemWrongRollup, RepDayRollup, RetentionRollup)
from learnapp.models.user import Role, Team, TeamMove, User, WorkingDaysChange

__all__ = [
    "ORGANISATION",
    "CalibrationRollup",
    "ItemDiscrimination",
    "ItemRepRollup",
    "ItemTimeRollup",
    "ItemWrongRollup",
    "RepDayRollup",
    "RetentionRollup",
    "Attempt",
    "DrillSession",
    "JobRun",
    "LessonVersion",
    "MemoryStateRow",
    "Notification",
    "Presentation",
    "Role",
    "Scenario",
    "ScenarioVersion",
    "Skill",
    "StageModelVersion",
    "Team",
    "TeamMove",
    "User",
    "Vacation",
    "WorkingDaysChange",
]
