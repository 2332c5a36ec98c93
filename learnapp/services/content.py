"""Importing content files into the database and reading the current content back."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from flask import current_app

from learnapp.domain.content import (
    NO_CATALOGUE, ContentError, ContentSet, lesson_to_markdown, load_content, moves_to_markdown, parse_scenario_text,
    scenario_to_markdown, stage_to_markdown,
)
from learnapp.domain.model import Lesson, Scenario, StageModel
from learnapp.extensions import db
from learnapp.models import Scenario as ScenarioRow
from learnapp.models import LessonVersion, ScenarioVersion, Skill, StageModelVersion
from learnapp.services.db import begin_content_write

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ImportReport:
    """What an import did, or the errors that stopped it (then nothing was written)."""

    errors: list[ContentError] = field(default_factory=list)
    lessons: int = 0
    scenarios: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    # files holding an earlier version than the current one (an edit made in the app since): left as they are
    kept: list[str] = field(default_factory=list)
    # active scenarios last imported from a file under a folder of this import that no longer holds it: still drilled
    # (an import never retires), said so that a trainer who deleted the file knows to retire it in the app
    not_in_files: list[str] = field(default_factory=list)
    # scenarios of these files that are retired: an import never makes one active again, so they stay out of the drills
    retired: list[str] = field(default_factory=list)
    stage_model_changed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def authoring_guide() -> str | None:
    """The authoring guide's Markdown (docs/authoring.md of the checkout the app runs from), None if it is missing."""
    try:
        return (PROJECT_ROOT / "docs" / "authoring.md").read_text(encoding="utf-8")
    except OSError:
        return None


def default_paths() -> list[str]:
    """The content folders: LEARNAPP_CONTENT_DIRS if set, else the shipped lessons/ and scenarios/."""
    configured = current_app.config.get("CONTENT_DIRS") or []
    return configured or [str(PROJECT_ROOT / "lessons"), str(PROJECT_ROOT / "scenarios")]


def content_hash(data: dict) -> str:
    """A stable hash of a JSON-able mapping, to tell whether a re-import changed anything."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _scenario_data(scenario: Scenario) -> dict:
    data = scenario.to_dict()
    data.pop("path", None)  # moving a file is not a new version
    return data


def database_context() -> ContentSet | None:
    """The imported stage model and lessons, so a subset of files can be checked against them."""
    model = current_stage_model()
    if model is None:
        return None
    lessons = {
        s.id: Lesson(skill=s.id, title=s.title, body=s.lesson_md, position=s.position, summary=s.summary)
        for s in db.session.scalars(db.select(Skill))
    }
    return ContentSet(model=model, lessons=lessons, scenarios={}, errors=[], files=[])


def check(paths: list[str]) -> ContentSet:
    """Validate files without touching the database.

    Files that bring stage rules (the move catalogue or stage files) are checked alone: a tree of its
    own must be complete, and filling a lesson or the catalogue it lacks from the shipped folders would
    hide that it is missing. Files without rules (scenarios, lessons) are checked against the content
    folders (lessons/ by default), as an import checks them against the rules already imported.
    """
    return check_against(paths)[0]


def check_against(paths: list[str]) -> tuple[ContentSet, list[str]]:
    """``check`` and the content folders the files were checked against ([] when they were checked alone)."""
    own = load_content(paths)
    if _are_default_paths(paths) or own.model is not None or any(e.message.startswith(NO_CATALOGUE) for e in own.errors):
        return own, []
    context = load_content(default_paths())
    folders = [p for p in default_paths() if any(Path(lesson.path).is_relative_to(p) for lesson in context.lessons.values())]
    return load_content(paths, context=context), folders


def _are_default_paths(paths: list[str]) -> bool:
    return sorted(map(str, paths)) == sorted(default_paths())


def import_content(paths: list[str], now: datetime, actor: str = "import") -> ImportReport:
    """Validate then import in one transaction: on any error nothing is written.

    A scenario whose content changed gets a new version; attempts keep pointing at the version they
    were shown. Lessons and scenarios missing from the files are left as they are (retiring is
    explicit). Files are checked against what the database holds; into an empty database, the files
    must bring the stage rules and lessons themselves. New stage rules or a new move catalogue are
    also checked against every active scenario already stored, so no stored item is left with two
    right answers, none, or a move the rules no longer know.

    The files are read, parsed and validated before the content lock is taken (on SQLite the database's write
    lock, which every drill answer needs), against the stage rules and lessons stored then, and so are the stored
    scenarios against new rules. Under the lock only what depends on the database is done: those rules and lessons
    are read again (an editor save may have changed a lesson meanwhile; then the files are checked again, under the
    lock), and the stored scenarios' state (checked again if a scenario changed meanwhile), then the writes.
    """
    stored = database_context()
    content = load_content(paths, context=stored)  # the slow part: no lock held
    prepared = _prepared(content)
    checked = _stored_checked_against(content, stored)  # slow too with new rules (every stored scenario parsed)
    begin_content_write()  # checked and written in one transaction: no editor save can land in between
    try:
        now_stored = database_context()
        if now_stored != stored:  # a lesson saved (or rules imported) while the files were parsed
            stored, content = now_stored, load_content(paths, context=now_stored)
            prepared, checked = _prepared(content), None
        report = ImportReport(errors=list(content.errors))
        if report.ok and _changes_rules(content, stored):
            # checked before the lock, unless a scenario was saved, retired or moved meanwhile: then again, under it
            report.errors = checked[1] if checked and checked[0] == _stored_scenarios_state() else \
                _stored_errors_under(content)
        if not report.ok:
            db.session.rollback()
            return report
        if content.model is not None:
            report.stage_model_changed = _store_stage_model(content.model, now)
        named = set(content.files)
        for lesson in content.lessons.values():
            if lesson.path in named:  # not the lessons the database supplied as context
                store_lesson(lesson, now, report, actor, keep_newer=True)
        known = _current_hashes()
        files = {ident: str(Path(scenario.path).resolve()) for ident, scenario in content.scenarios.items()}
        for scenario in content.scenarios.values():
            # stored absolute: a later import, run from another folder, still knows which folder the file lay in
            store_scenario(replace(scenario, path=files[scenario.id]), now, actor, report, known=known,
                           keep_newer=True, prepared=prepared[scenario.id])
        _store_paths(files)
        report.not_in_files = _not_in_files(paths, set(content.scenarios))
        report.retired = sorted(db.session.scalars(db.select(ScenarioRow.id).where(
            ScenarioRow.id.in_(list(content.scenarios)), ScenarioRow.status != "active")))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return report


def _changes_rules(content: ContentSet, stored: ContentSet | None) -> bool:
    """Whether the files bring stage rules or a move catalogue other than the stored ones (stored scenarios are
    then checked against them)."""
    return stored is not None and content.model is not None and content.model != stored.model


def _stored_errors_under(content: ContentSet) -> list[ContentError]:
    """The stored scenarios that do not fit the files' new rules, but those the files replace.

    A file replaces its stored scenario, so the file was checked instead; but one holding an earlier version is kept
    back (store_scenario's keep_newer): the stored, newer version must fit the rules itself.
    """
    replaced = set(content.scenarios) - _kept_back(content.scenarios.values())
    return stored_scenarios_against(content.model, set(content.lessons), skip=replaced)


def _stored_scenarios_state() -> list[tuple]:
    """What the check of stored scenarios reads of them: each one's status, current version and source file."""
    return [tuple(row) for row in db.session.execute(
        db.select(ScenarioRow.id, ScenarioRow.status, ScenarioRow.current_number, ScenarioRow.source_path)
        .order_by(ScenarioRow.id))]


def _stored_checked_against(content: ContentSet, stored: ContentSet | None) -> tuple[list[tuple], list[ContentError]] | None:
    """Before the content lock: the stored scenarios checked against the files' new rules, with the state of the
    scenarios they were read in (None when the files change no rules or have errors of their own). Every stored
    scenario is parsed, twice if its file is unchanged: 400 of them held the lock for 1.2 s, every drill answer
    waiting (bench/big_content.py)."""
    if not content.ok or not _changes_rules(content, stored):
        return None
    state = _stored_scenarios_state()
    return state, _stored_errors_under(content)


def _store_paths(files: dict[str, str]) -> None:
    """Each imported scenario's file as its source path, whether or not the import made a version of it: a file moved
    with its text unchanged (to another skill's folder, out of a folder), or one exported from the app and imported,
    is the scenario's file from now on. One read of the stored paths, an update only where one moved."""
    if not files:
        return
    stored = db.session.execute(db.select(ScenarioRow.id, ScenarioRow.source_path).where(ScenarioRow.id.in_(list(files))))
    for ident, source in stored.all():
        if source != files[ident]:
            db.session.execute(db.update(ScenarioRow).where(ScenarioRow.id == ident).values(source_path=files[ident]))


def _not_in_files(paths: list[str], imported: set[str]) -> list[str]:
    """The active scenarios whose source file lay under one of the folders in ``paths`` and is not among the files
    imported from them now (deleted or moved out), as "ID (PATH)", by id."""
    folders = [Path(p).resolve() for p in paths if Path(p).is_dir()]
    if not folders:
        return []
    rows = db.session.execute(db.select(ScenarioRow.id, ScenarioRow.source_path)
                              .where(ScenarioRow.status == "active").order_by(ScenarioRow.id))
    return [f"{ident} ({source})" for ident, source in rows if ident not in imported and source
            and source != EDITOR_PATH and any(stored_file(source).is_relative_to(f) for f in folders)]


EDITOR_PATH = "editor"  # the source of a scenario created in the app's editor, never imported from a file


def stored_file(source: str) -> Path:
    """The file a stored source path names. Imports store it absolute; one stored relative (by an import before they
    did) was relative to the folder that import ran from, the app's own as the guide says (docs/authoring.md), so it
    is read against the app's folder, never against the folder the current command runs from."""
    path = Path(source)
    return (path if path.is_absolute() else PROJECT_ROOT / path).resolve()


def _prepared(content: ContentSet) -> dict[str, tuple[dict, str]]:
    """Each scenario's stored data and its content hash, worked out before the content lock is taken."""
    prepared = {}
    for scenario in content.scenarios.values():
        data = _scenario_data(scenario)
        prepared[scenario.id] = (data, content_hash(data))
    return prepared


def stored_scenarios_against(model: StageModel, skills: set[str], skip: set[str] = frozenset()) -> list[ContentError]:
    """Every active stored scenario (but those in ``skip``) checked against ``model``: the errors, if any.

    Each is checked as its source file if that file still holds the stored version (so the lines are
    the file's), else as the stored version written back to Markdown under the same path.
    """
    current = current_stage_model()
    errors: list[ContentError] = []
    rows = db.session.execute(
        db.select(ScenarioRow, ScenarioVersion)
        .join(ScenarioVersion, (ScenarioVersion.scenario_id == ScenarioRow.id)
              & (ScenarioVersion.number == ScenarioRow.current_number))
        .where(ScenarioRow.status == "active").order_by(ScenarioRow.id))
    for row, version in rows:
        if row.id not in skip:
            errors += [ContentError(e.path, e.line, f"{e.message} (the stored scenario '{row.id}', under the new stage rules)")
                       for e in stored_scenario_errors(row, version, model, skills, current)]
    return sorted(errors)


def stored_scenario_errors(row: ScenarioRow, version: ScenarioVersion, model: StageModel, skills: set[str],
                           current: StageModel | None = None) -> list[ContentError]:
    """A stored scenario version checked against ``model`` as if it were imported again."""
    path, text = _stored_scenario_text(row, version, current or current_stage_model(), skills)
    return parse_scenario_text(text, path, model, skills)[1]


def _stored_scenario_text(row: ScenarioRow, version: ScenarioVersion, model: StageModel | None,
                          skills: set[str]) -> tuple[str, str]:
    """The scenario's source path and a Markdown text of its stored version: the file itself if unchanged."""
    path = row.source_path or f"scenarios/{row.skill_id}/{row.id}.md"
    try:
        text = stored_file(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = None
    if text is not None and model is not None:
        on_disk, _ = parse_scenario_text(text, path, model, skills)
        if on_disk is not None and content_hash(_scenario_data(on_disk)) == version.content_hash:
            return path, text
    scenario = scenario_from_version(version)
    return path, scenario_to_markdown(scenario, model) if model is not None else ""


def _store_stage_model(model: StageModel, now: datetime) -> bool:
    data = model.to_dict()
    digest = content_hash(data)
    latest = db.session.scalars(db.select(StageModelVersion).order_by(StageModelVersion.id.desc()).limit(1)).first()
    if latest is not None and latest.content_hash == digest:
        return False
    db.session.add(StageModelVersion(content_hash=digest, data=data, created_at=now))
    return True


def store_lesson(lesson: Lesson, now: datetime, report: ImportReport, actor: str = "import", keep_newer: bool = False) -> None:
    """Create or update a skill's lesson; every change is kept as a LessonVersion with who and when.

    ``keep_newer`` (an import): a lesson whose text is an earlier version's is left at its current one (_kept_newer)."""
    data = {k: v for k, v in lesson.to_dict().items() if k != "path"}
    digest = content_hash(data)
    row = db.session.get(Skill, lesson.skill)
    report.lessons += 1
    if row is not None and row.content_hash == digest:
        return
    if keep_newer and row is not None and _kept_newer(report, f"lesson {lesson.skill}", LessonVersion, LessonVersion.skill_id == row.id,
                                       digest, row.current_number):
        return
    if row is None:
        row = Skill(id=lesson.skill, current_number=0)
        db.session.add(row)
        report.created.append(f"lesson {lesson.skill}")
    else:
        report.updated.append(f"lesson {lesson.skill}")
    row.title, row.summary, row.position = lesson.title, lesson.summary, lesson.position
    row.lesson_md, row.content_hash, row.updated_at = lesson.body, digest, now
    row.source_path = lesson.path or row.source_path
    row.current_number = (row.current_number or 0) + 1
    db.session.flush()
    db.session.add(LessonVersion(skill_id=row.id, number=row.current_number, content_hash=digest, data=data,
                                 created_at=now, created_by=actor))


def _kept_back(scenarios) -> set[str]:
    """The ids of the scenarios whose file holds an earlier version than the stored current one, which an import
    keeps (_kept_newer) instead of the file's: one query over the versions of the scenarios given."""
    digests = {scenario.id: content_hash(_scenario_data(scenario)) for scenario in scenarios}
    if not digests:
        return set()
    current = _current_hashes()
    earlier = db.session.execute(
        db.select(ScenarioVersion.scenario_id, ScenarioVersion.content_hash)
        .join(ScenarioRow, ScenarioRow.id == ScenarioVersion.scenario_id)
        .where(ScenarioVersion.scenario_id.in_(list(digests)), ScenarioVersion.number < ScenarioRow.current_number))
    return {scenario_id for scenario_id, digest in earlier
            if digests[scenario_id] == digest and current.get(scenario_id) != digest}


def _kept_newer(report: ImportReport, what: str, version_model, of_item, digest: str, current: int) -> bool:
    """True, and said in the report, when ``digest`` is an earlier version's: the file is older than the current one.

    A file's text equal to an earlier version is a file not updated since an edit was saved in the app (or an import
    of other files): importing it would quietly undo that edit in every drill. An undo is made in the editor instead."""
    older = db.session.scalars(db.select(version_model.number).where(of_item, version_model.content_hash == digest,
                                                                     version_model.number < current)
                               .order_by(version_model.number.desc()).limit(1)).first()
    if older is None:
        return False
    latest = db.session.scalars(db.select(version_model).where(of_item, version_model.number == current)).first()
    by = f", saved by {latest.created_by} on {latest.created_at:%Y-%m-%d %H:%M} UTC" if latest else ""
    report.kept.append(f"{what}: the file holds version {older}; kept version {current}{by} "
                       "(flask --app learnapp content export DIR writes the current versions to files)")
    return True


def _current_hashes() -> dict[str, str]:
    """The content hash of every scenario's current version, in one query (imports compare against it)."""
    query = (db.select(ScenarioRow.id, ScenarioVersion.content_hash)
             .join(ScenarioVersion, (ScenarioVersion.scenario_id == ScenarioRow.id)
                   & (ScenarioVersion.number == ScenarioRow.current_number)))
    return dict(db.session.execute(query).all())


def store_scenario(scenario: Scenario, now: datetime, actor: str, report: ImportReport,
                   known: dict[str, str] | None = None, keep_newer: bool = False,
                   prepared: tuple[dict, str] | None = None) -> None:
    """Create a scenario, or add a version if its content changed; ``known`` maps ids to current hashes.

    ``keep_newer`` (an import): a scenario whose text is an earlier version's is left at its current one
    (_kept_newer); the editor saves such a text, as the trainer's deliberate undo. ``prepared``: the scenario's
    data and hash as _prepared works them out (an import, before taking the lock)."""
    data, digest = prepared or (_scenario_data(scenario), None)
    digest = digest or content_hash(data)
    known = _current_hashes() if known is None else known
    report.scenarios += 1
    if scenario.id not in known:
        now = _not_before_rules(now)
        db.session.add(ScenarioRow(id=scenario.id, skill_id=scenario.skill, kind=scenario.kind.value, status="active",
                                   source_path=scenario.path, current_number=1, updated_at=now))
        db.session.add(ScenarioVersion(scenario_id=scenario.id, number=1, content_hash=digest, data=data,
                                       created_at=now, created_by=actor))
        report.created.append(f"scenario {scenario.id}")
        return
    if known[scenario.id] == digest:
        return
    row = db.session.get(ScenarioRow, scenario.id)
    if keep_newer and _kept_newer(report, f"scenario {scenario.id}", ScenarioVersion, ScenarioVersion.scenario_id == row.id, digest,
                   row.current_number):
        return
    if scenario.path != EDITOR_PATH:  # a scenario saved in the editor still belongs to the file it was imported from
        row.source_path = scenario.path
    now = _not_before_rules(now)
    row.current_number += 1
    row.skill_id, row.kind, row.updated_at = scenario.skill, scenario.kind.value, now
    db.session.add(ScenarioVersion(scenario_id=row.id, number=row.current_number, content_hash=digest,
                                   data=data, created_at=now, created_by=actor))
    report.updated.append(f"scenario {scenario.id}")


def _not_before_rules(now: datetime) -> datetime:
    """When a scenario version checked now is saved: ``now``, or the moment the newest stage rules read as imported if
    that is later. A version fits the rules it was checked against (the newest, by id), and the rules an item is graded
    by, and its history written under, are the newest imported at or before its version's moment (shown_moment): an
    import from a host whose clock is ahead stamps its rules in the future, and an editor save within that skew, read
    'before' them, was graded by the rules they replaced (a stage renamed: a KeyError). Stamped no earlier than its
    rules, a version is never graded by rules older than those it was checked against."""
    latest = db.session.scalars(db.select(StageModelVersion.created_at).order_by(StageModelVersion.id.desc()).limit(1)).first()
    return max(now, latest) if latest is not None else now


def current_version(row: ScenarioRow) -> ScenarioVersion | None:
    """The version of a scenario that new drills show."""
    return db.session.scalars(
        db.select(ScenarioVersion).filter_by(scenario_id=row.id, number=row.current_number)
    ).first()


def current_scenarios() -> list[tuple[ScenarioRow, Scenario]]:
    """Every scenario with its current version as the domain sees it, by skill and id: one query for all of them
    (the trainer's list used to read each one's current version on its own)."""
    query = (db.select(ScenarioRow, ScenarioVersion.data)
             .join(ScenarioVersion, (ScenarioVersion.scenario_id == ScenarioRow.id)
                   & (ScenarioVersion.number == ScenarioRow.current_number))
             .order_by(ScenarioRow.skill_id, ScenarioRow.id))
    return [(row, Scenario.from_dict(data)) for row, data in db.session.execute(query)]


def current_stage_model() -> StageModel | None:
    """The newest imported stage model, or None before the first import.

    Parsed models are cached by content hash: a hash names its content, so the cache can never
    serve a stale model, whichever database or version id it came from.
    """
    row = db.session.execute(_NEWEST_STAGE_MODEL).first()
    return None if row is None else stage_model_version(row.id, row.content_hash)


def stage_model_version(version_id: int | None, digest: str | None) -> StageModel | None:
    """The stage model stored in one version row, parsed once per content hash (None for no version).

    For callers that already read a version's id and hash in a query of their own (``stage_model_in_force``).
    """
    if version_id is None:
        return None
    model = _MODELS.get(digest)
    if model is None:  # no hash given (the editor's history has the id only), or not parsed yet
        row = db.session.get(StageModelVersion, version_id)
        model = _MODELS.get(row.content_hash)
        if model is None:
            model = StageModel.from_dict(row.data)
            _MODELS[row.content_hash] = model  # the row's own hash: a caller's mismatched pair cannot mislabel it
    return model


_MODELS: dict[str, StageModel] = {}
_NEWEST_STAGE_MODEL = (  # a prebuilt Core statement: the editor, the lessons and the imports ask
    db.select(StageModelVersion.__table__.c.id, StageModelVersion.__table__.c.content_hash)
    .order_by(StageModelVersion.__table__.c.id.desc()).limit(1))


def stage_models_newest_first() -> list[StageModel]:
    """Every stage model imported, newest first: one query for the ids and hashes, each parsed once per content hash.
    For naming what an answer chose as the rules it was graded by named it (answer_label_in) where per-answer rules
    are not at hand."""
    table = StageModelVersion.__table__
    rows = db.session.execute(db.select(table.c.id, table.c.content_hash).order_by(table.c.id.desc())).all()
    return [stage_model_version(version_id, digest) for version_id, digest in rows]


def newest_stage_model_columns():
    """The newest stage model's id and hash as ``current_id`` and ``current_hash``, for a query that reads it along
    with its own rows (stage_model_version() then gives the model)."""
    table = StageModelVersion.__table__
    return (_NEWEST_STAGE_MODEL.with_only_columns(table.c.id).scalar_subquery().label("current_id"),
            _NEWEST_STAGE_MODEL.with_only_columns(table.c.content_hash).scalar_subquery().label("current_hash"))


def stage_model_at(moment: datetime) -> StageModel | None:
    """The stage model in force at ``moment`` (stage_model_in_force), None before the first import."""
    version_id, digest = db.session.execute(db.select(*stage_model_in_force(moment))).one()
    return stage_model_version(version_id, digest)


def shown_moment(shown_at, version_created_at):
    """The moment whose stage model an item is graded by (stage_model_in_force): when it was shown, or when the version
    shown was saved if that reads later. The two agree but for clocks: an import run on a host whose clock is ahead of
    the web server's writes rules and versions the server may show "before" them, and the version shown always fits
    the rules imported with it."""
    return db.case((version_created_at > shown_at, version_created_at), else_=shown_at)


def stage_model_in_force(moment):
    """The id and content hash of the stage model in force at ``moment`` (a column of the caller's query), as two
    scalar subqueries for a query that reads that model along with its own rows: the newest imported at or before
    it, or the first one for a moment before any import (history loaded from elsewhere).

    A drill item is graded, and its feedback worded, by the rules in force when it was shown: the version shown
    fitted those, and an import of new rules while it was on the rep's screen (a stage renamed, a move dropped, a
    move that fits no more) would otherwise grade it by rules it was never checked against."""
    table = StageModelVersion.__table__
    earlier, first = table.alias("model_earlier"), table.alias("model_first")

    def in_force(column: str):  # the id and the hash of the same row: the same two subqueries, one column each
        # correlate_except: the moment's tables are the caller's rows, never joined in here
        at_or_before = (db.select(earlier.c[column]).where(earlier.c.created_at <= moment)
                        .order_by(earlier.c.id.desc()).limit(1).correlate_except(earlier).scalar_subquery())
        oldest = db.select(first.c[column]).order_by(first.c.id).limit(1).correlate_except(first).scalar_subquery()
        return db.func.coalesce(at_or_before, oldest)

    return in_force("id"), in_force("content_hash")


def stage_model_shown_under(recorded, moment):
    """The id and content hash of the stage model an item was shown under, as two scalar subqueries: the one recorded
    with its showing (``recorded``, the presentation's stage_model_id, a column of the caller's query), or for an item
    shown before it was recorded (migration 0018), the one in force at ``moment`` (stage_model_in_force).

    The recorded rules are read with the version shown, in one statement, so the version fits them whatever the clocks
    of the hosts that imported content; chosen by time, an import from a host a few minutes behind, landing while the
    item was on screen, read as imported before it was shown (a stage it renamed: a KeyError on answering)."""
    table = StageModelVersion.__table__
    shown = table.alias("model_shown")
    by_time = stage_model_in_force(moment)

    def of_showing(column: str):
        return (db.select(shown.c[column]).where(shown.c.id == recorded)
                .correlate_except(shown).scalar_subquery())

    return (db.func.coalesce(of_showing("id"), by_time[0]),
            db.func.coalesce(of_showing("content_hash"), by_time[1]))


def scenario_from_version(version: ScenarioVersion) -> Scenario:
    """The domain scenario stored in a version row."""
    return Scenario.from_dict(version.data)


def export_content(target: Path) -> list[Path]:
    """Write the imported content back to Markdown under ``target`` (lessons/ and scenarios/); returns the files.

    Retired scenarios are left out (they stay in the database with their attempts). Importing the
    export changes nothing.
    """
    model = current_stage_model()
    if model is None:
        raise ValueError("nothing to export: no content has been imported")
    files: dict[Path, str] = {target / "lessons" / "moves.md": moves_to_markdown(model)}
    for stage in model.stages:
        files[target / "lessons" / "stages" / f"{stage.position}-{stage.id}.md"] = stage_to_markdown(stage)
    for skill in db.session.scalars(db.select(Skill)):
        lesson = Lesson(skill=skill.id, title=skill.title, body=skill.lesson_md, position=skill.position, summary=skill.summary)
        files[target / "lessons" / f"{skill.id}.md"] = lesson_to_markdown(lesson)
    for row in db.session.scalars(db.select(ScenarioRow).filter_by(status="active")):
        scenario = scenario_from_version(current_version(row))
        files[target / "scenarios" / scenario.skill / f"{scenario.id}.md"] = scenario_to_markdown(scenario, model)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)
