"""The trainer's editor: validate as they type, save as a new version, retire, history and diffs."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import datetime

from learnapp.domain.content import ContentError, parse_scenario_text, scenario_to_markdown
from learnapp.domain.model import Scenario
from learnapp.extensions import db
from learnapp.models import Scenario as ScenarioRow
from learnapp.models import ScenarioVersion, Skill
from learnapp.services import content as content_service
from learnapp.services.db import begin_write

EDITOR_PATH = "editor"
NEW_SCENARIO = """---
type: scenario
id: new-scenario-id
skill: days-out
kind: next-step
lead: Alex
stage: alerted
days_out: 120
signals:
  - Downloaded the brochure
options:
  - move: send-offer
    text: Call with this month's discount.
  - move: share-education
    text: Send the short guide on what to check before choosing.
answer: share-education
---
Alex downloaded our brochure and plans to decide next spring. What is your next step?
"""


@dataclass
class SaveResult:
    ok: bool
    scenario_id: str | None = None
    errors: list[ContentError] = field(default_factory=list)
    conflict: str | None = None


def skills() -> list[str]:
    return list(db.session.scalars(db.select(Skill.id).order_by(Skill.position, Skill.id)))


def scenario_text(row: ScenarioRow) -> str:
    """The current version of a scenario as the Markdown a trainer edits."""
    scenario = content_service.scenario_from_version(content_service.current_version(row))
    return scenario_to_markdown(scenario, content_service.current_stage_model())


def validate(text: str) -> tuple[Scenario | None, list[ContentError]]:
    """The same checks as ``content check``, for one scenario typed in the editor."""
    model = content_service.current_stage_model()
    if model is None:
        return None, [ContentError(EDITOR_PATH, 1, "no content imported yet: run flask --app learnapp content import")]
    return parse_scenario_text(text, EDITOR_PATH, model, skills())


def save_scenario(text: str, *, editing: str | None, base_number: int | None, actor: str, now: datetime) -> SaveResult:
    """Save typed text as a new scenario or a new version of ``editing``; refuse on errors or a concurrent save.

    ``base_number`` is the version the trainer started from: if someone saved another version since,
    the save is refused (nothing is overwritten) and the caller keeps the typed text.
    """
    begin_write()
    scenario, errors = validate(text)
    if errors:
        return SaveResult(ok=False, errors=errors)
    row = db.session.get(ScenarioRow, scenario.id)
    if editing is None and row is not None:
        return SaveResult(ok=False, errors=[ContentError(EDITOR_PATH, 3, f"id '{scenario.id}' is taken; choose another")])
    if editing is not None and scenario.id != editing:
        return SaveResult(ok=False, errors=[ContentError(EDITOR_PATH, 3, f"the id must stay '{editing}': ids never change once attempts exist")])
    if row is not None and base_number is not None and row.current_number != base_number:
        latest = content_service.current_version(row)
        return SaveResult(ok=False, conflict=f"{latest.created_by} saved version {latest.number} on "
                                             f"{latest.created_at:%d %b %Y %H:%M} UTC while you were editing version "
                                             f"{base_number}. Your text is kept below: compare it with the history, then save again.")
    report = content_service.ImportReport()
    content_service.store_scenario(scenario, now, actor, report)
    db.session.commit()
    return SaveResult(ok=True, scenario_id=scenario.id)


def set_status(scenario_id: str, status: str, now: datetime) -> None:
    """Retire a scenario (no longer scheduled; its attempts stay) or make it active again."""
    begin_write()
    row = db.session.get(ScenarioRow, scenario_id)
    row.status, row.updated_at = status, now
    db.session.commit()


def versions(scenario_id: str) -> list[ScenarioVersion]:
    return list(db.session.scalars(db.select(ScenarioVersion).filter_by(scenario_id=scenario_id)
                                   .order_by(ScenarioVersion.number.desc())))


def diff(old: ScenarioVersion, new: ScenarioVersion) -> list[tuple[str, str]]:
    """Line diff between two versions as (kind, line): kind is "add", "del", "hunk" or "same"."""
    model = content_service.current_stage_model()
    a = scenario_to_markdown(Scenario.from_dict(old.data), model).splitlines()
    b = scenario_to_markdown(Scenario.from_dict(new.data), model).splitlines()
    lines = []
    for line in list(difflib.unified_diff(a, b, f"version {old.number}", f"version {new.number}", lineterm=""))[2:]:
        kind = {"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same")
        lines.append((kind, line))
    return lines
