"""SQLAlchemy models, one module per aggregate; importing this package registers them all."""

from learnapp.models.content import Scenario, ScenarioVersion, Skill, StageModelVersion
from learnapp.models.practice import Attempt, DrillSession, MemoryStateRow, Presentation
from learnapp.models.user import Role, Team, User

__all__ = [
    "Attempt",
    "DrillSession",
    "MemoryStateRow",
    "Presentation",
    "Role",
    "Scenario",
    "ScenarioVersion",
    "Skill",
    "StageModelVersion",
    "Team",
    "User",
]
