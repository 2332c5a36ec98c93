"""A scenario whose file was deleted stays in the drills (an import never retires anything, docs/authoring.md): the
import says so, naming it, instead of reporting success as if the deletion had taken effect."""

import shutil

from learnapp.extensions import db
from learnapp.models import Scenario
from tests.conftest import ROOT


def test_an_import_names_the_active_scenarios_whose_files_are_gone(app, tmp_path):
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    paths = [str(tmp_path / "lessons"), str(tmp_path / "scenarios")]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "import", *paths]).exit_code == 0
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
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    paths = [str(tmp_path / "lessons"), str(tmp_path / "scenarios")]
    runner = app.test_cli_runner()
    assert runner.invoke(args=["content", "import", *paths]).exit_code == 0
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
