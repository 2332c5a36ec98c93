"""Importing content: all or nothing, versions on edit, attempts keep their version."""

import shutil
from datetime import timedelta

from learnapp.extensions import db
from learnapp.models import Attempt, Scenario, ScenarioVersion, Skill, StageModelVersion
from learnapp.services import drill
from learnapp.services.content import import_content
from tests.conftest import CONTENT, ROOT
from tests.helpers import right_answer


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
