"""A scenario whose file was deleted stays in the drills (an import never retires anything, docs/authoring.md): the
import says so, naming it, instead of reporting success as if the deletion had taken effect."""

import shutil
from pathlib import Path

from learnapp.extensions import db
from learnapp.models import Scenario
from tests.conftest import ROOT
from tests.helpers import copy_content


def _imported_copy(app, tmp_path):
    """The shipped content copied into ``tmp_path`` and imported: the CLI runner and the two folders' paths."""
    paths = [str(folder) for folder in copy_content(tmp_path)]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "import", *paths]).exit_code == 0
    return runner, paths


def test_an_import_names_the_active_scenarios_whose_files_are_gone(app, tmp_path):
    runner, paths = _imported_copy(app, tmp_path)
    (tmp_path / "scenarios" / "days-out" / "days-out-priya-brochure.md").unlink()
    shutil.rmtree(tmp_path / "scenarios" / "discovery-walk")
    retired = "stage-omar-quote"  # already out of the drills: nothing to say about it
    with app.app_context():
        db.session.get(Scenario, retired).status = "retired"
        db.session.commit()
    (tmp_path / "scenarios" / "tell-the-stage" / f"{retired}.md").unlink()

    result = runner.invoke(args=["content", "import", *paths])
    assert result.exit_code == 0, result.output
    gone = [line for line in result.output.splitlines() if line.startswith("still active, not in the files")]
    assert len(gone) == 6 and "days-out-priya-brochure" in gone[0]
    assert str(tmp_path / "scenarios" / "days-out" / "days-out-priya-brochure.md") in gone[0]
    assert "retire it under Content" in gone[0] and retired not in result.output
    assert result.output.rstrip().endswith("6 still active but not in the files")
    with app.app_context():
        assert db.session.get(Scenario, "days-out-priya-brochure").status == "active"  # as the guide says

    # importing one scenario file (not a folder) says nothing of the others
    one = tmp_path / "scenarios" / "days-out" / "days-out-li-insurance.md"
    assert "still active" not in runner.invoke(args=["content", "import", str(one)]).output


def test_an_import_says_which_of_its_scenarios_stay_retired(app, tmp_path):
    """A trainer who retired a scenario and later brings its file back (or edits it) reads that it is still retired,
    instead of an import that seems to have put it back in the drills."""
    runner, paths = _imported_copy(app, tmp_path)
    with app.app_context():
        db.session.get(Scenario, "days-out-priya-brochure").status = "retired"
        db.session.commit()

    result = runner.invoke(args=["content", "import", *paths])
    assert result.exit_code == 0, result.output
    assert "retired: scenario days-out-priya-brochure stays out of the drills" in result.output
    assert "make it active again under Content" in result.output
    assert result.output.count("retired: scenario") == 1
    with app.app_context():
        assert db.session.get(Scenario, "days-out-priya-brochure").status == "retired"


def test_an_import_that_changes_a_skill_id_says_the_old_lesson_stays(app, tmp_path):
    """A trainer who 'renamed' a skill by changing its id read that its place was taken by the very lesson whose file
    they had just renamed; the message now says that lesson stays and how a skill is renamed."""
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "import", str(tmp_path / "lessons"), str(ROOT / "scenarios")]).exit_code == 0
    old = tmp_path / "lessons" / "days-out.md"
    (tmp_path / "lessons" / "timing.md").write_text(old.read_text().replace("skill: days-out", "skill: timing"))
    old.unlink()
    result = runner.invoke(args=["content", "import", str(tmp_path / "lessons")])
    assert result.exit_code == 1
    assert ("timing.md:5: position 1 is used by the lesson 'days-out', imported before (a lesson stays in the app when "
            "its file is deleted; to rename a skill, change its title and keep its skill id)") in result.output


def test_a_scenario_saved_in_the_editor_still_belongs_to_its_file(app, tmp_path):
    """A scenario edited in the app and whose file is then deleted is still named: before, an editor save stored its
    source as 'editor', so the import no longer knew which folder it came from and said nothing."""
    from learnapp.services import authoring
    from tests.conftest import START

    runner, paths = _imported_copy(app, tmp_path)
    ident = "days-out-priya-brochure"
    with app.app_context():
        row = db.session.get(Scenario, ident)
        text = authoring.scenario_text(row).replace("Priya", "Priyanka")
        assert authoring.save_scenario(text, editing=ident, base_number=row.current_number, actor="t@example.com",
                                       now=START).ok
    (tmp_path / "scenarios" / "days-out" / f"{ident}.md").unlink()

    result = runner.invoke(args=["content", "import", *paths])
    assert result.exit_code == 0, result.output
    gone = [line for line in result.output.splitlines() if line.startswith("still active, not in the files")]
    assert len(gone) == 1 and str(tmp_path / "scenarios" / "days-out" / f"{ident}.md") in gone[0]


def test_the_report_does_not_depend_on_the_folder_the_import_runs_from(app, tmp_path, monkeypatch):
    """Paths given relative to the working directory were stored as given and read against the working directory of
    a later import: run from elsewhere, a deleted file's scenario went unnamed. They are stored absolute now."""
    work = tmp_path / "work"
    copy_content(work)
    (tmp_path / "elsewhere").mkdir()
    runner = app.test_cli_runner()
    monkeypatch.chdir(work)
    assert runner.invoke(args=["content", "import", "lessons", "scenarios"]).exit_code == 0
    (work / "scenarios" / "days-out" / "days-out-priya-brochure.md").unlink()

    monkeypatch.chdir(tmp_path / "elsewhere")
    result = runner.invoke(args=["content", "import", str(work / "lessons"), str(work / "scenarios")])
    assert result.exit_code == 0, result.output
    gone = [line for line in result.output.splitlines() if line.startswith("still active, not in the files")]
    assert len(gone) == 1 and str(work / "scenarios" / "days-out" / "days-out-priya-brochure.md") in gone[0]


def test_a_path_stored_relative_is_read_from_the_apps_folder(app, tmp_path, monkeypatch):
    """Paths stored relative before they were stored absolute are read against the app's folder, where the guide says
    the commands run, not against whichever folder a later import runs from (which named a scenario as gone from a
    folder of the same name elsewhere)."""
    from learnapp.services.content import PROJECT_ROOT

    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "import", *[str(ROOT / "lessons"), str(ROOT / "scenarios")]]).exit_code == 0
    with app.app_context():
        for row in db.session.scalars(db.select(Scenario)):
            row.source_path = str(Path(row.source_path).relative_to(PROJECT_ROOT))
        db.session.commit()
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    (tmp_path / "scenarios" / "days-out").mkdir(parents=True)
    shutil.copy(ROOT / "scenarios" / "days-out" / "days-out-priya-brochure.md", tmp_path / "scenarios" / "days-out")
    monkeypatch.chdir(tmp_path)  # its own scenarios/ holds one file: the shipped ones are not "gone" from it
    result = runner.invoke(args=["content", "import", "scenarios"])
    assert result.exit_code == 0, result.output
    assert "still active" not in result.output


def test_a_file_moved_without_a_change_is_stored_at_its_new_place(app, tmp_path):
    """A scenario's file moved (to another skill's folder, or out of scenarios/) with its text unchanged: the import
    made no version and kept the old path, so the scenario was named as gone from the folder it had left, and never
    named once deleted from its new one. Likewise a scenario created in the editor, exported and imported."""
    from learnapp.services import authoring
    from tests.conftest import START

    runner, paths = _imported_copy(app, tmp_path)
    ident = "days-out-priya-brochure"
    old, new = tmp_path / "scenarios" / "days-out" / f"{ident}.md", tmp_path / "extra" / f"{ident}.md"
    new.parent.mkdir()
    shutil.move(old, new)
    assert runner.invoke(args=["content", "import", str(new.parent)]).exit_code == 0
    with app.app_context():
        assert db.session.get(Scenario, ident).source_path == str(new)
    assert "still active" not in runner.invoke(args=["content", "import", *paths]).output

    with app.app_context():  # created in the editor, then exported to a file and imported
        text = authoring.NEW_SCENARIO.replace("new-scenario-id", "made-in-app")
        assert authoring.save_scenario(text, editing=None, base_number=None, actor="t@example.com", now=START).ok
        assert db.session.get(Scenario, "made-in-app").source_path == authoring.EDITOR_PATH
    assert runner.invoke(args=["content", "export", str(tmp_path / "out")]).exit_code == 0
    exported = tmp_path / "out" / "scenarios" / "days-out" / "made-in-app.md"
    shutil.copy(exported, tmp_path / "scenarios" / "days-out")
    assert runner.invoke(args=["content", "import", *paths]).exit_code == 0
    (tmp_path / "scenarios" / "days-out" / "made-in-app.md").unlink()
    result = runner.invoke(args=["content", "import", *paths])
    gone = [line for line in result.output.splitlines() if line.startswith("still active, not in the files")]
    assert len(gone) == 1 and "made-in-app" in gone[0], result.output
