"""Importing content: all or nothing, versions on edit, attempts keep their version."""

import shutil
from datetime import timedelta

from learnapp.extensions import db
from learnapp.models import Attempt, Scenario, ScenarioVersion, Skill, StageModelVersion
from learnapp.services import drill
from learnapp.services.content import import_content
from tests.conftest import CONTENT, ROOT
from tests.helpers import right_answer, sqlite_write_lock_free


def _copy_content(tmp_path):
    lessons = tmp_path / "lessons"
    scenarios = tmp_path / "scenarios"
    shutil.copytree(ROOT / "lessons", lessons)
    shutil.copytree(ROOT / "scenarios", scenarios)
    return lessons, scenarios


def _count(model):
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def test_shipped_content_imports_completely(ctx, clock):
    report = import_content(CONTENT, clock.now())
    assert report.ok
    assert _count(Skill) >= 8
    assert _count(Scenario) >= 40
    assert _count(ScenarioVersion) == _count(Scenario)
    assert _count(StageModelVersion) == 1


def test_reimport_without_changes_writes_nothing_new(content, clock):
    report = import_content(CONTENT, clock.now())
    assert report.ok and report.created == [] and report.updated == []
    assert _count(ScenarioVersion) == _count(Scenario)
    assert _count(StageModelVersion) == 1


def test_a_broken_file_means_nothing_of_the_import_is_written(ctx, clock, tmp_path):
    lessons, scenarios = _copy_content(tmp_path)
    broken = next(scenarios.rglob("*.md"))
    broken.write_text(broken.read_text().replace("skill:", "skil:", 1))
    report = import_content([str(lessons), str(scenarios)], clock.now())
    assert not report.ok
    assert any(e.path == str(broken) for e in report.errors)
    assert _count(Skill) == 0 and _count(Scenario) == 0 and _count(StageModelVersion) == 0


def test_editing_a_scenario_makes_a_new_version_and_old_attempts_keep_theirs(content, make_user, clock, tmp_path):
    rep = make_user("rep")
    item = drill.current_item(rep, clock.now())
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    attempt = db.session.scalars(db.select(Attempt)).one()
    old_version_id = attempt.scenario_version_id

    lessons, scenarios = _copy_content(tmp_path)
    path = next(p for p in scenarios.rglob("*.md") if f"id: {attempt.scenario_id}\n" in p.read_text())
    text = path.read_text()
    body_start = text.index("---", 3) + 3
    path.write_text(text[:body_start] + "\n(Edited.) " + text[body_start:].lstrip("\n"))
    clock.advance(timedelta(days=1))
    report = import_content([str(lessons), str(scenarios)], clock.now())

    assert report.ok and report.updated == [f"scenario {attempt.scenario_id}"]
    scenario = db.session.get(Scenario, attempt.scenario_id)
    assert scenario.current_number == 2
    versions = db.session.scalars(db.select(ScenarioVersion).filter_by(scenario_id=scenario.id).order_by(ScenarioVersion.number)).all()
    assert [v.number for v in versions] == [1, 2]
    assert "(Edited.)" in versions[1].data["prompt"] and "(Edited.)" not in versions[0].data["prompt"]
    db.session.refresh(attempt)
    assert attempt.scenario_version_id == old_version_id == versions[0].id


def test_import_export_import_changes_nothing(content, clock, tmp_path):
    from learnapp.services.content import export_content

    files = export_content(tmp_path / "out")
    assert len(files) == 1 + 5 + 9 + 45
    before = {v.scenario_id: (v.number, v.content_hash) for v in db.session.scalars(db.select(ScenarioVersion))}
    models_before = _count(StageModelVersion)
    report = import_content([str(tmp_path / "out" / "lessons"), str(tmp_path / "out" / "scenarios")], clock.now())
    assert report.ok and report.created == [] and report.updated == [] and not report.stage_model_changed
    after = {v.scenario_id: (v.number, v.content_hash) for v in db.session.scalars(db.select(ScenarioVersion))}
    assert after == before and _count(StageModelVersion) == models_before
    again = export_content(tmp_path / "again")
    for first, second in zip(files, again):
        assert first.read_text() == second.read_text()


def _only_stages_and_moves(tmp_path):
    """A copy of lessons/ holding just the move catalogue and the stage rules (an import of the rules alone)."""
    lessons, _ = _copy_content(tmp_path)
    for lesson in lessons.glob("*.md"):
        if lesson.name != "moves.md":
            lesson.unlink()
    return lessons


def test_new_stage_rules_that_break_a_stored_scenario_are_refused(content, clock, tmp_path):
    """Two moves fitting the deciding stage would give its stored next-step items two right answers."""
    lessons = _only_stages_and_moves(tmp_path)
    deciding = lessons / "stages" / "4-deciding.md"
    text = deciding.read_text()
    line = next(l for l in text.splitlines() if l.startswith("  share-options-overview:"))
    deciding.write_text(text.replace(line + "\n", "").replace("fit:\n", "fit:\n" + line + "\n", 1))
    before = (_count(StageModelVersion), _count(ScenarioVersion))
    report = import_content([str(lessons)], clock.now())
    assert not report.ok
    broken = {e.message.rsplit("'", 2)[-2] for e in report.errors}  # the ids named in "(the stored scenario 'x', ...)"
    assert "answer-tom-proposal" in broken
    tom = next(e for e in report.errors if "'answer-tom-proposal'" in e.message)
    source = (ROOT / "scenarios" / "answer-when-asked" / "answer-tom-proposal.md").read_text().splitlines()
    assert tom.path.endswith("answer-tom-proposal.md") and "share-options-overview" in tom.message
    assert source[tom.line - 1] == "options:" and "ambiguous" in tom.message  # the line in the file itself
    for error in report.errors:
        assert error.path.endswith(".md") and "/scenarios/" in error.path and error.line > 1
        assert "under the new stage rules" in error.message
    assert (_count(StageModelVersion), _count(ScenarioVersion)) == before
    # the same rules imported with those scenarios fixed would pass: here, with the original rules, nothing is refused
    assert import_content([str(ROOT / "lessons")], clock.now()).ok


def test_a_catalogue_without_a_move_stored_scenarios_use_is_refused(content, clock, tmp_path):
    lessons = _only_stages_and_moves(tmp_path)
    moves = lessons / "moves.md"
    lines = moves.read_text().splitlines(keepends=True)
    start = next(i for i, l in enumerate(lines) if l.strip() == "- id: quantify-results")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("- id:") or not lines[i].startswith("    "))
    moves.write_text("".join(lines[:start] + lines[end:]))
    for stage in (lessons / "stages").glob("*.md"):
        stage.write_text("".join(l for l in stage.read_text().splitlines(keepends=True) if "quantify-results:" not in l))
    report = import_content([str(lessons)], clock.now())
    assert not report.ok
    assert any("results-" in e.path and "quantify-results" in e.message for e in report.errors), report.errors
    assert _count(StageModelVersion) == 1


def test_into_an_empty_database_scenarios_alone_are_refused_with_one_clear_reason(ctx, clock):
    """Before, the shipped lessons/ were imported with them unasked; now the files must bring the rules."""
    report = import_content([str(ROOT / "scenarios")], clock.now())
    assert not report.ok
    assert any("no stage model to check against" in e.message for e in report.errors)
    assert _count(Skill) == 0 and _count(Scenario) == 0 and _count(StageModelVersion) == 0


def test_a_tree_missing_a_lesson_is_not_completed_from_the_shipped_lessons(ctx, app, clock, tmp_path):
    from learnapp.services.content import check

    lessons, scenarios = _copy_content(tmp_path)
    (lessons / "days-out.md").unlink()
    checked = check([str(lessons), str(scenarios)])
    assert not checked.ok and "days-out" not in checked.lessons
    assert any("unknown skill 'days-out'" in e.message for e in checked.errors)
    report = import_content([str(lessons), str(scenarios)], clock.now())
    assert not report.ok and _count(Skill) == 0
    # files without rules (scenarios, a lesson with its scenarios) are still checked against the content folders
    assert check([str(scenarios / "days-out")]).ok
    assert check([str(ROOT / "lessons" / "days-out.md"), str(ROOT / "scenarios" / "days-out")]).ok
    # stage files without the catalogue are a tree of their own: the missing moves.md is reported
    (lessons / "moves.md").unlink()
    assert any("no move catalogue found" in e.message for e in check([str(lessons)]).errors)


def test_a_retired_scenario_that_no_longer_fits_the_rules_stays_retired(content, clock, tmp_path):
    from learnapp.services import authoring

    retired = "answer-tom-proposal"
    assert authoring.set_status(retired, "retired", clock.now()) == []
    lessons = _only_stages_and_moves(tmp_path)
    deciding = lessons / "stages" / "4-deciding.md"
    text = deciding.read_text()
    line = next(l for l in text.splitlines() if l.startswith("  share-options-overview:"))
    deciding.write_text(text.replace(line + "\n", "").replace("fit:\n", "fit:\n" + line + "\n", 1))
    refused = import_content([str(lessons)], clock.now())
    assert not refused.ok and not any(f"'{retired}'" in e.message for e in refused.errors)  # retired items are not checked
    for error in refused.errors:  # retire the active items the new rule would break, so the import passes
        assert authoring.set_status(error.message.rsplit("'", 2)[-2], "retired", clock.now()) == []
    report = import_content([str(lessons)], clock.now())
    assert report.ok, report.errors[:3]
    errors = authoring.set_status(retired, "active", clock.now())
    assert errors and "share-options-overview" in " ".join(e.message for e in errors)
    db.session.expire_all()
    assert db.session.get(Scenario, retired).status == "retired"


def test_an_import_of_files_older_than_an_edit_in_the_app_keeps_the_edit(content, make_user, clock, app):
    """A trainer fixed an item (and a lesson) in the editor; the next `content import` of the unchanged folders
    (a colleague's import, or the deploy step) made the files' old text the current version again, saying only
    "updated": the fix was gone from every drill. A file that holds an earlier version is now kept back, and said."""
    from learnapp.services import authoring

    scenario_id, trainer = "days-out-sofia-shortlist", make_user("trainer", team=None)
    row = db.session.get(Scenario, scenario_id)
    fixed = authoring.scenario_text(row).replace("What is your next step?", "What do you do next?")
    assert authoring.save_scenario(fixed, editing=scenario_id, base_number=1, actor=trainer.email, now=clock.now()).ok
    lesson = authoring.lesson_text(db.session.get(Skill, "days-out")).replace("Think back", "Remember")
    assert authoring.save_lesson(lesson, "days-out", base_number=1, actor=trainer.email, now=clock.now()).ok
    clock.advance(timedelta(days=1))

    report = import_content(CONTENT, clock.now())
    assert report.ok and report.updated == [] and report.created == []
    assert [line.split(":")[0] for line in report.kept] == ["lesson days-out", f"scenario {scenario_id}"]
    assert f"kept version 2, saved by {trainer.email}" in report.kept[1] and "content export" in report.kept[1]
    db.session.expire_all()
    assert db.session.get(Scenario, scenario_id).current_number == 2
    assert "What do you do next?" in authoring.scenario_text(db.session.get(Scenario, scenario_id))
    assert db.session.get(Skill, "days-out").lesson_md.startswith("Remember")

    result = app.test_cli_runner().invoke(args=["content", "import"])
    assert result.exit_code == 0 and f"kept scenario {scenario_id}: the file holds version 1" in result.output

    # an undo is made in the editor: saving version 1's text there makes it version 3
    original = fixed.replace("What do you do next?", "What is your next step?")
    assert authoring.save_scenario(original, editing=scenario_id, base_number=2, actor=trainer.email, now=clock.now()).ok
    db.session.expire_all()
    assert db.session.get(Scenario, scenario_id).current_number == 3



def _editor_saves_during(app, monkeypatch, step: str, text: str, actor: str, now):
    """Make an editor save of ``text`` start, from another connection, right after the import's ``step``.

    Returns the list the save's result lands in and an event set once it finished. Before, the save went
    through at once; holding the content lock, the import makes it wait (up to a second here), then it runs."""
    import threading

    from learnapp.services import authoring
    from learnapp.services import content as content_service

    saved, results = threading.Event(), []

    def save_in_the_editor():
        try:
            with app.app_context():
                results.append(authoring.save_scenario(text, editing=None, base_number=None, actor=actor, now=now))
        except Exception as error:  # reported by the test's assertions, not lost in the thread
            results.append(error)
        finally:
            saved.set()

    real = getattr(content_service, step)

    def step_then_the_editor_saves(*args, **kwargs):
        value = real(*args, **kwargs)
        if threading.current_thread() is threading.main_thread() and not results and not saved.is_set():  # once
            threading.Thread(target=save_in_the_editor).start()
            saved.wait(timeout=1)
        return value

    monkeypatch.setattr(content_service, step, step_then_the_editor_saves)
    return results, saved


def test_an_editor_save_between_an_imports_check_and_write_waits_for_it(content, app, make_user, clock, tmp_path,
                                                                         monkeypatch):
    """`content import` checked its files and the stored scenarios first and only then took the write lock: a
    scenario saved in the editor in between was checked against the old stage rules, and the import then wrote
    new rules under which it had two right answers. Now the import's last look at the stored scenarios and its
    write are one transaction under the content lock: a save arriving then waits for the import and is checked
    against the new rules, which refuse it. (The check of the stored scenarios runs before the lock, and again
    under it if a scenario changed meanwhile: the next test.)"""
    lessons, text, trainer = _new_rules_and_a_scenario_they_make_ambiguous(tmp_path, make_user)
    results, saved = _editor_saves_during(app, monkeypatch, "_store_stage_model", text, trainer.email, clock.now())

    report = import_content([str(lessons)], clock.now())
    assert saved.wait(timeout=30)
    assert report.ok and report.stage_model_changed
    [result] = results
    assert not result.ok and any("ambiguous" in e.message for e in result.errors), result
    assert db.session.get(Scenario, "answer-tom-again") is None


def _new_rules_and_a_scenario_they_make_ambiguous(tmp_path, make_user):
    """Stage rules under which two moves fit the deciding stage (every stored scenario retired, so they import), and
    the text of a new scenario offering both: (lessons, text, trainer)."""
    from learnapp.services import authoring

    lessons = _only_stages_and_moves(tmp_path)
    deciding = lessons / "stages" / "4-deciding.md"
    rule = deciding.read_text()
    line = next(l for l in rule.splitlines() if l.startswith("  share-options-overview:"))
    deciding.write_text(rule.replace(line + "\n", "").replace("fit:\n", "fit:\n" + line + "\n", 1))
    db.session.execute(db.update(Scenario).values(status="retired"))  # nothing stored stands in the rules' way
    db.session.commit()
    trainer = make_user("trainer", team=None)
    text = authoring.scenario_text(db.session.get(Scenario, "answer-tom-proposal")).replace(
        "id: answer-tom-proposal", "id: answer-tom-again")
    return lessons, text, trainer


def test_a_scenario_saved_while_an_import_checks_the_stored_ones_before_the_lock_is_checked_again_under_it(
        content, app, make_user, clock, tmp_path, monkeypatch):
    """The stored scenarios are checked against new rules before the content lock is taken; a scenario saved in the
    editor meanwhile (checked against the old rules, which it fits) is seen under the lock, where the stored ones are
    checked again: the import is refused with its error, nothing written, rather than leave it with two right answers."""
    lessons, text, trainer = _new_rules_and_a_scenario_they_make_ambiguous(tmp_path, make_user)
    results, saved = _editor_saves_during(app, monkeypatch, "stored_scenarios_against", text, trainer.email, clock.now())

    report = import_content([str(lessons)], clock.now())
    assert saved.wait(timeout=30)
    [result] = results
    assert result.ok  # not held up: the import held no lock while it checked
    assert not report.ok and [e.message for e in report.errors if "answer-tom-again" in e.message] == [
        "ambiguous: share-options-overview, send-offer all fit stage 'deciding'; keep exactly one fitting option "
        "(the stored scenario 'answer-tom-again', under the new stage rules)"]
    assert _count(StageModelVersion) == 1


def test_an_import_checks_the_stored_scenarios_against_new_rules_before_taking_the_content_lock(
        content, clock, tmp_path, monkeypatch):
    """Before, every stored scenario was parsed (twice, if its file was unchanged) under the content lock, on SQLite
    the database's write lock: with 400 scenarios an edited stage rule kept every rep's answer waiting 1.2 s
    (bench/big_content.py); now 0.07 s, the check having run before the lock."""
    from learnapp.services import content as content_service

    lessons = _only_stages_and_moves(tmp_path)
    alerted = lessons / "stages" / "1-alerted.md"
    alerted.write_text(alerted.read_text().replace("builds trust without pressure.", "builds trust, without pressure.", 1))
    seen = []
    real = content_service.stored_scenarios_against

    def checking_noting_the_lock(*args, **kwargs):
        seen.append(_content_lock_free())
        return real(*args, **kwargs)

    monkeypatch.setattr(content_service, "stored_scenarios_against", checking_noting_the_lock)
    report = import_content([str(lessons)], clock.now())
    assert report.ok and report.stage_model_changed
    assert seen == [True]  # once, with the lock free


def test_an_editor_save_during_an_import_does_not_break_it(content, app, make_user, clock, tmp_path, monkeypatch):
    """On PostgreSQL, a trainer saving a new scenario while `content import` wrote one with the same id made the
    import die with an IntegrityError traceback (nothing written). Now content writers queue on one lock: the
    save waits, then is refused because the id is taken, and the import goes through."""
    from learnapp.services import authoring

    trainer = make_user("trainer", team=None)
    text = authoring.NEW_SCENARIO.replace("new-scenario-id", "days-out-race")
    path = tmp_path / "scenarios" / "days-out" / "days-out-race.md"
    path.parent.mkdir(parents=True)
    path.write_text(text, encoding="utf-8")
    results, saved = _editor_saves_during(app, monkeypatch, "_current_hashes", text, trainer.email, clock.now())

    report = import_content([str(path)], clock.now())
    assert saved.wait(timeout=30)
    assert report.ok and report.created == ["scenario days-out-race"]
    [result] = results
    assert not result.ok and [e.message for e in result.errors] == ["id 'days-out-race' is taken; choose another"]
    assert db.session.scalars(db.select(ScenarioVersion.created_by).filter_by(scenario_id="days-out-race")).all() == ["import"]


def _content_lock_free() -> bool:
    """Whether another connection could start a content write now, without waiting: SQLite's write lock free, or
    on PostgreSQL the content advisory lock."""
    from learnapp.services.db import CONTENT_LOCK

    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return sqlite_write_lock_free(url.database)
    with db.engine.connect() as other:
        free = other.scalar(db.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": CONTENT_LOCK})
        other.rollback()
        return bool(free)


def test_a_refused_editor_save_lets_go_of_the_content_lock(content, make_user, clock):
    """A save refused for errors or for a version saved meanwhile returned with its write transaction still open:
    the content lock (and on SQLite the database's write lock, which every drill answer needs) stayed held while
    the editor page was rendered again, until the request ended; a caller doing more afterwards held it longer."""
    from learnapp.services import authoring

    trainer = make_user("trainer", team=None)
    scenario_id = "days-out-sofia-shortlist"
    lesson = authoring.lesson_text(db.session.get(Skill, "days-out"))
    text = authoring.scenario_text(db.session.get(Scenario, scenario_id))
    saves = [  # errors in the text, then a version saved meanwhile (the form started from version 0)
        lambda: authoring.save_scenario("not a scenario", editing=None, base_number=None, actor=trainer.email, now=clock.now()),
        lambda: authoring.save_scenario(text, editing=scenario_id, base_number=0, actor=trainer.email, now=clock.now()),
        lambda: authoring.save_lesson("not a lesson", "days-out", base_number=1, actor=trainer.email, now=clock.now()),
        lambda: authoring.save_lesson(lesson, "days-out", base_number=0, actor=trainer.email, now=clock.now()),
    ]
    for number, save in enumerate(saves):
        assert _content_lock_free()
        assert not save().ok
        assert _content_lock_free(), f"refused save {number} still holds the lock"


def test_new_stage_rules_are_checked_against_an_editor_fix_the_import_keeps(content, make_user, clock, tmp_path):
    """An import of new stage rules with a scenario file older than the trainer's fix in the editor checked the
    file's version against the new rules, then kept the fix (the newer version) unchecked: the import said it went
    through, and reps were drilled on an item with two right answers under the new rules. Now the kept version is
    checked too, and the import is refused, nothing written."""
    from learnapp.services import authoring

    scenario_id, trainer = "answer-tom-proposal", make_user("trainer", team=None)
    db.session.execute(db.update(Scenario).where(Scenario.id != scenario_id).values(status="retired"))
    db.session.commit()
    text = authoring.scenario_text(db.session.get(Scenario, scenario_id))
    fixed = text.replace("move: ask-discovery-question", "move: propose-demo")  # late at this stage: fits the rules
    assert fixed != text
    assert authoring.save_scenario(fixed, editing=scenario_id, base_number=1, actor=trainer.email, now=clock.now()).ok

    lessons = _only_stages_and_moves(tmp_path)  # the new rules: a demo fits the deciding stage
    deciding = lessons / "stages" / "4-deciding.md"
    rule = deciding.read_text()
    line = next(l for l in rule.splitlines() if l.startswith("  propose-demo:"))
    deciding.write_text(rule.replace(line + "\n", "").replace("fit:\n", "fit:\n" + line + "\n", 1))
    older = tmp_path / "older" / "answer-tom-proposal.md"  # the file as it was before the fix
    older.parent.mkdir()
    shutil.copy(ROOT / "scenarios" / "answer-when-asked" / "answer-tom-proposal.md", older)

    report = import_content([str(lessons), str(older)], clock.now())
    assert not report.ok, report.kept
    assert any(scenario_id in e.message and "ambiguous" in e.message for e in report.errors), report.errors
    db.session.expire_all()
    assert _count(StageModelVersion) == 1 and db.session.get(Scenario, scenario_id).current_number == 2


def test_an_import_parses_its_files_before_taking_the_content_lock(content, clock, tmp_path, monkeypatch):
    """Before: the files were read, parsed and validated under the content lock (on SQLite the database's write lock,
    which every drill answer needs): 1,000 scenario files kept every rep's answer waiting for the whole parse."""
    from learnapp.services import content as content_service

    lessons, scenarios = _copy_content(tmp_path)
    seen = []
    real = content_service.load_content

    def load_content_noting_the_lock(*args, **kwargs):
        seen.append(_content_lock_free())
        return real(*args, **kwargs)

    monkeypatch.setattr(content_service, "load_content", load_content_noting_the_lock)
    report = import_content([str(lessons), str(scenarios)], clock.now())
    assert report.ok and seen == [True]  # parsed once, with the lock free


def test_a_broken_file_found_before_the_lock_still_means_nothing_is_written(content, clock, tmp_path):
    lessons, scenarios = _copy_content(tmp_path)
    changed = scenarios / "days-out" / "days-out-li-insurance.md"
    changed.write_text(changed.read_text().replace("days_out: 150", "days_out: 151"))  # a new version, if written
    broken = scenarios / "days-out" / "days-out-marco-test-drive.md"
    broken.write_text(broken.read_text().replace("kind: ", "kind: no-such-kind-"))
    before = (_count(ScenarioVersion), _count(StageModelVersion), _count(Skill))
    report = import_content([str(lessons), str(scenarios)], clock.now())
    assert not report.ok
    assert any(e.path == str(broken) and e.line > 1 for e in report.errors)
    assert (_count(ScenarioVersion), _count(StageModelVersion), _count(Skill)) == before
    assert _content_lock_free()


def test_a_lesson_imported_while_the_files_were_parsed_is_checked_again_under_the_lock(content, app, clock, tmp_path,
                                                                                         monkeypatch):
    """The files are parsed before the lock against the lessons stored then; another import that adds a lesson
    meanwhile is seen under the lock, where the files are checked again: a scenario of the new skill is imported."""
    import threading

    from learnapp.services import content as content_service

    lesson_dir, scenario_dir = tmp_path / "b" / "lessons", tmp_path / "a" / "scenarios" / "new-skill"
    lesson_dir.mkdir(parents=True)
    scenario_dir.mkdir(parents=True)
    (lesson_dir / "new-skill.md").write_text((ROOT / "lessons" / "days-out.md").read_text()
                                             .replace("skill: days-out", "skill: new-skill").replace("position: ", "position: 9"))
    source = (ROOT / "scenarios" / "days-out" / "days-out-li-insurance.md").read_text()
    (scenario_dir / "new-skill-li.md").write_text(source.replace("id: days-out-li-insurance", "id: new-skill-li")
                                                  .replace("skill: days-out", "skill: new-skill"))
    other, done = [], threading.Event()

    def other_import():
        try:
            with app.app_context():
                other.append(import_content([str(lesson_dir)], clock.now()))
        finally:
            done.set()

    real = content_service.load_content

    def parse_while_another_import_lands(*args, **kwargs):
        value = real(*args, **kwargs)
        if threading.current_thread() is threading.main_thread() and not done.is_set():
            threading.Thread(target=other_import).start()
            done.wait(timeout=5)
        return value

    monkeypatch.setattr(content_service, "load_content", parse_while_another_import_lands)
    report = import_content([str(tmp_path / "a" / "scenarios")], clock.now())
    assert done.wait(timeout=30) and other[0].ok, other[0].errors
    assert report.ok, report.errors
    assert report.created == ["scenario new-skill-li"]
