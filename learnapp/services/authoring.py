"""The trainer's editor: validate as they type, save as a new version, retire, history and diffs."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from datetime import datetime

from learnapp.domain.content import ContentError, lesson_to_markdown, load_texts, parse_scenario_text, scenario_to_markdown
from learnapp.domain.model import Fit, Lesson, Scenario, StageModel
from learnapp.extensions import db
from learnapp.models import Scenario as ScenarioRow
from learnapp.models import Attempt, LessonVersion, ScenarioVersion, Skill
from learnapp.services import content as content_service
from learnapp.services.db import begin_content_write

EDITOR_PATH = content_service.EDITOR_PATH
EXAMPLE_ID = "new-scenario-id"  # the starting text's id: never a saved scenario's, so Save on the example publishes nothing
NEW_SCENARIO = f"""---
type: scenario
id: {EXAMPLE_ID}
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
    latest: int | None = None  # with a conflict: the version saved meanwhile, which a second save replaces


def skills() -> list[str]:
    return list(db.session.scalars(db.select(Skill.id).order_by(Skill.position, Skill.id)))


@dataclass(frozen=True)
class EditorIds:
    """The ids a scenario may use, listed beside the editor: a catalogue of 120 moves is more than anyone remembers."""

    model: StageModel
    fits_at: dict[str, list[str]]  # move id: the names of the stages where it fits
    skills: list[tuple[str, str]]  # skill id, lesson title, in course order


def editor_ids() -> EditorIds | None:
    """The current stage model's moves (with the stages they fit), stages and discovery steps, and the skills."""
    model = content_service.current_stage_model()
    if model is None:
        return None
    fits_at = {m.id: [s.name for s in model.stages if s.rule[m.id].fit is Fit.FIT] for m in model.moves}
    rows = db.session.execute(db.select(Skill.id, Skill.title).order_by(Skill.position, Skill.id)).all()
    return EditorIds(model=model, fits_at=fits_at, skills=[tuple(row) for row in rows])


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


def id_errors(scenario_id: str, text: str, editing: str | None) -> list[ContentError]:
    """What the editor checks beyond the text itself: a new scenario's id is free, an edited one's id is unchanged.

    ``editing`` is the id of the scenario being edited, None for a new one. Checked as the trainer types too, so
    the error stays in the list after a refused save instead of waiting for the save (whose page re-checks).
    A new scenario may not keep the example's id: saved untouched, the example went into every rep's drill."""
    if editing is None and scenario_id == EXAMPLE_ID:
        return [ContentError(EDITOR_PATH, _id_line(text), f"'{EXAMPLE_ID}' is the example's id: give this scenario an id "
                             "of its own (lowercase letters, digits and dashes, e.g. days-out-alex-brochure); it never changes once saved")]
    if editing is None and db.session.get(ScenarioRow, scenario_id) is not None:
        return [ContentError(EDITOR_PATH, _id_line(text), f"id '{scenario_id}' is taken; choose another")]
    if editing is not None and scenario_id != editing:
        return [ContentError(EDITOR_PATH, _id_line(text), f"the id must stay '{editing}': ids never change once attempts exist")]
    return []


def _id_line(text: str) -> int:
    """The line of the front matter's ``id:`` (line 1 is the opening ``---``); 1 if there is none."""
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if line.rstrip() == "---":
            break
        if re.match(r"id\s*:", line):
            return number
    return 1


def save_scenario(text: str, *, editing: str | None, base_number: int | None, actor: str, now: datetime) -> SaveResult:
    """Save typed text as a new scenario or a new version of ``editing``; refuse on errors or a concurrent save.

    ``base_number`` is the version the trainer started from: if someone saved another version since,
    the save is refused (nothing is overwritten) and the caller keeps the typed text.
    """
    begin_content_write()
    scenario, errors = validate(text)
    if not errors:
        errors = id_errors(scenario.id, text, editing)
    if errors:
        return _refused(SaveResult(ok=False, errors=errors))
    row = db.session.get(ScenarioRow, scenario.id)
    if row is not None and (base_number is None or row.current_number != base_number):
        return _refused(SaveResult(ok=False, latest=row.current_number,
                                   conflict=_conflict(content_service.current_version(row), row.current_number, base_number)))
    report = content_service.ImportReport()
    content_service.store_scenario(scenario, now, actor, report)
    db.session.commit()
    return SaveResult(ok=True, scenario_id=scenario.id)


def _refused(result: SaveResult) -> SaveResult:
    """End a refused save's write transaction (its message already built) and return the result.

    Left open, it held the content lock, and on SQLite the write lock every drill answer waits for, while the
    editor page was rendered again, until the request ended."""
    db.session.rollback()
    return result


def _conflict(latest, current: int, base: int | None) -> str:
    """The message for a save that lost a race: who saved what and when; the typed text is kept by the caller.

    ``base`` is None when the form did not say which version it started from (an old or altered form):
    such a save could overwrite anything, so it is refused the same way.
    """
    if base is None:
        return (f"This form did not say which version you started from (the latest is version {current}). "
                "Your text is kept below: compare it with the history; saving again replaces it.")
    who = (f"{latest.created_by} saved version {latest.number} on {latest.created_at:%d %b %Y %H:%M} UTC" if latest
           else f"Version {current} was saved")
    return f"{who} while you were editing version {base}. Your text is kept below: compare it with the history; saving again replaces it."


def set_status(scenario_id: str, status: str, now: datetime) -> list[ContentError]:
    """Retire a scenario (no longer scheduled; its attempts stay) or make it active again.

    Making it active again is refused, with the errors, when its current version no longer fits the
    stage rules imported since it was retired: it must be edited to fit them first.
    """
    begin_content_write()
    row = db.session.get(ScenarioRow, scenario_id)
    if status == "active" and row.status != "active":
        errors = unfit_errors(row)
        if errors:
            db.session.rollback()
            return errors
    row.status, row.updated_at = status, now
    db.session.commit()
    return []


def unfit_errors(row: ScenarioRow) -> list[ContentError]:
    """What no longer fits the current stage rules in a retired scenario's current version (none for an active one:
    every import checks the active scenarios against the rules it brings)."""
    if row.status == "active":
        return []
    model = content_service.current_stage_model()
    return content_service.stored_scenario_errors(row, content_service.current_version(row), model, set(skills()), model)


def versions(scenario_id: str) -> list[ScenarioVersion]:
    return list(db.session.scalars(db.select(ScenarioVersion).filter_by(scenario_id=scenario_id)
                                   .order_by(ScenarioVersion.number.desc())))


@dataclass(frozen=True)
class VersionAnswers:
    """How one version of a scenario was answered: all answers, the reps who answered it, those right at their first."""

    answers: int
    reps: int
    first_right: int

    @property
    def first_right_share(self) -> float:
        return self.first_right / self.reps if self.reps else 0.0


def version_answers(scenario_id: str) -> dict[int, VersionAnswers]:
    """Per version number of a scenario, how its attempts went: one grouped query over the scenario's attempts.

    Each attempt records the version the rep was shown, so a fix shows in the versions after it. A rep's first
    answer to a version (earliest first) says whether that version's text led them to the right move; their later
    answers to it are counted among its answers only.
    """
    ranked = (db.select(Attempt.scenario_version_id, Attempt.correct,
                        db.func.row_number().over(partition_by=(Attempt.user_id, Attempt.scenario_version_id),
                                                  order_by=(Attempt.answered_at, Attempt.id)).label("n"))
              .where(Attempt.scenario_id == scenario_id).subquery())
    first = ranked.c.n == 1
    query = (db.select(ScenarioVersion.number, db.func.count(),
                       db.func.sum(db.case((first, 1), else_=0)),
                       db.func.sum(db.case((first & ranked.c.correct, 1), else_=0)))
             .join(ScenarioVersion, ScenarioVersion.id == ranked.c.scenario_version_id)
             .group_by(ScenarioVersion.number))
    return {number: VersionAnswers(answers, int(reps), int(right)) for number, answers, reps, right in db.session.execute(query)}


def diff(old: ScenarioVersion, new: ScenarioVersion) -> list[tuple[str, str]]:
    """Line diff between two scenario versions, each written as it was saved: its ``answer:`` is the one the stage
    rules it was checked against gave (the current rules may know its stage or moves no more, or give another answer)."""
    return diff_texts(_version_text(old), _version_text(new), old.number, new.number)


def _version_text(version: ScenarioVersion) -> str:
    model = (content_service.stage_model_version(version.stage_model_id, None) if version.stage_model_id is not None
             else content_service.stage_model_at(version.created_at))  # stored before migration 0019
    return scenario_to_markdown(Scenario.from_dict(version.data), model)


def diff_texts(a: str, b: str, old_number: int, new_number: int) -> list[tuple[str, str]]:
    """Line diff as (kind, line): kind is "add", "del", "hunk" or "same"."""
    lines = []
    for line in list(difflib.unified_diff(a.splitlines(), b.splitlines(), f"version {old_number}",
                                          f"version {new_number}", lineterm=""))[2:]:
        lines.append(({"+": "add", "-": "del", "@": "hunk"}.get(line[:1], "same"), line))
    return lines


# ---------------------------------------------------------------- lessons


def lesson_text(skill: Skill) -> str:
    """A skill's lesson as the Markdown a trainer edits."""
    return lesson_to_markdown(_lesson_of(skill))


def _lesson_of(skill: Skill) -> Lesson:
    return Lesson(skill=skill.id, title=skill.title, body=skill.lesson_md, position=skill.position, summary=skill.summary)


def validate_lesson(text: str, skill_id: str) -> tuple[Lesson | None, list[ContentError]]:
    """The same checks as ``content check`` for one lesson; the skill id cannot change."""
    content = load_texts([(EDITOR_PATH, text)], context=content_service.database_context(), catalogue=False)
    errors = [e for e in content.errors if e.path == EDITOR_PATH]
    lesson = next((l for l in content.lessons.values() if l.path == EDITOR_PATH), None)
    if lesson is not None and lesson.skill != skill_id:  # first: a renamed skill would clash with its own old place
        return None, [ContentError(EDITOR_PATH, 3, f"the skill must stay '{skill_id}': attempts and schedules use it")]
    if errors:
        return None, errors
    if lesson is None:
        return None, [ContentError(EDITOR_PATH, 2, "this editor takes a lesson (type: lesson)")]
    return lesson, []


def save_lesson(text: str, skill_id: str, *, base_number: int | None, actor: str, now: datetime) -> SaveResult:
    """Save a lesson as a new version; refused on errors or when someone saved since ``base_number``."""
    begin_content_write()
    lesson, errors = validate_lesson(text, skill_id)
    if errors:
        return _refused(SaveResult(ok=False, errors=errors))
    row = db.session.get(Skill, skill_id)
    if base_number is None or row.current_number != base_number:
        latest = db.session.scalars(db.select(LessonVersion).filter_by(skill_id=skill_id, number=row.current_number)).first()
        return _refused(SaveResult(ok=False, conflict=_conflict(latest, row.current_number, base_number),
                                   latest=row.current_number))
    content_service.store_lesson(replace(lesson, path=""), now, content_service.ImportReport(), actor)
    db.session.commit()
    return SaveResult(ok=True, scenario_id=skill_id)


def lesson_versions(skill_id: str) -> list[LessonVersion]:
    return list(db.session.scalars(db.select(LessonVersion).filter_by(skill_id=skill_id).order_by(LessonVersion.number.desc())))


def lesson_diff(old: LessonVersion, new: LessonVersion) -> list[tuple[str, str]]:
    return diff_texts(lesson_to_markdown(Lesson.from_dict({**old.data, "path": ""})),
                      lesson_to_markdown(Lesson.from_dict({**new.data, "path": ""})), old.number, new.number)
