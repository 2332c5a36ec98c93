"""The trainer's pages of a scenario stay open after new stage rules left it behind: a retired scenario whose move
left the catalogue, or a scenario whose stage was renamed since its earlier versions."""

import html
import re
from datetime import timedelta

import pytest

from learnapp.extensions import db
from learnapp.models import Scenario
from learnapp.services.content import import_content
from tests.conftest import csrf_token
from tests.helpers import copy_content, drop_quantify_results

DIEGO = "results-diego-renewal"  # a results-stage item whose right move is quantify-results


@pytest.fixture
def trainer(content, make_user, auth):
    user = make_user("trainer", team=None)
    auth.login(user.email)
    return user


def test_a_retired_scenario_whose_move_left_the_catalogue_opens_in_the_editor_and_stays_retired(trainer, client,
                                                                                                 clock, tmp_path):
    clock.advance(timedelta(days=1))
    assert DIEGO in [p.stem for p in drop_quantify_results(tmp_path, clock)]

    page = client.get(f"/author/scenarios/{DIEGO}/edit")  # before: a 500 (KeyError 'quantify-results')
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "- move: quantify-results" in text and "answer:" not in text  # the rules give it no answer now

    token = csrf_token(client, f"/author/scenarios/{DIEGO}/edit")
    refused = client.post(f"/author/scenarios/{DIEGO}/restore", data={"csrf_token": token}, follow_redirects=True)
    assert refused.status_code == 200  # before: a 500
    assert "stays retired" in refused.get_data(as_text=True) and "unknown move" in refused.get_data(as_text=True)
    assert db.session.get(Scenario, DIEGO).status == "retired"
    assert client.get(f"/author/scenarios/{DIEGO}/history").status_code == 200


def test_the_history_of_a_scenario_whose_stage_was_renamed_shows_each_version_as_it_was_saved(trainer, client, clock,
                                                                                            tmp_path):
    lessons, scenarios = copy_content(tmp_path)
    stage = lessons / "stages" / "5-results.md"
    stage.write_text(stage.read_text().replace("id: results\n", "id: after-sale\n"))
    for path in scenarios.rglob("*.md"):
        path.write_text(re.sub(r"^(- )?(stage|answer): results$", r"\1\2: after-sale", path.read_text(), flags=re.MULTILINE))
    clock.advance(timedelta(days=1))
    report = import_content([str(lessons), str(scenarios)], clock.now())
    assert report.ok and f"scenario {DIEGO}" in report.updated, report.errors

    page = client.get(f"/author/scenarios/{DIEGO}/history")  # before: a 500 (KeyError 'results')
    assert page.status_code == 200
    changed = re.findall(r'<span class="(?:add|del)">([^<]*)</span>', page.get_data(as_text=True))
    # version 1 under the rules it was saved with: its answer was quantify-results then as it is now
    assert changed == ["-stage: results", "+stage: after-sale"]


def test_try_it_on_a_retired_scenario_whose_stage_was_renamed_says_it_no_longer_fits(trainer, client, clock, tmp_path):
    db.session.execute(db.update(Scenario).where(Scenario.skill_id == "results-loop").values(status="retired"))
    db.session.commit()
    lessons, scenarios = copy_content(tmp_path)
    stage = lessons / "stages" / "5-results.md"
    stage.write_text(stage.read_text().replace("id: results\n", "id: after-sale\n"))
    sam = scenarios / "tell-the-stage" / "stage-sam-reports.md"  # the one active item of that stage moves with it
    sam.write_text(re.sub(r"^(- )?(stage|answer): results$", r"\1\2: after-sale", sam.read_text(), flags=re.MULTILINE))
    clock.advance(timedelta(days=1))
    assert import_content([str(lessons), str(sam)], clock.now()).ok

    page = client.get(f"/author/scenarios/{DIEGO}/try")
    assert page.status_code == 200 and "no longer fits the current stage rules" in page.get_data(as_text=True)
    token = csrf_token(client, f"/author/scenarios/{DIEGO}/try")
    tried = client.post(f"/author/scenarios/{DIEGO}/try", data={"csrf_token": token, "choice": "send-offer"})
    assert tried.status_code == 400  # before: a 500 (KeyError 'results')
    assert "unknown stage 'results'" in html.unescape(tried.get_data(as_text=True))
