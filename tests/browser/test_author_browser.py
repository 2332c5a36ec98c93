"""The editor's draft in a real browser (Debian's Chromium through Playwright): a draft restored over a
newer version is refused by the conflict check instead of overwriting it, it can be discarded, and a
successful save clears it.

Skipped when Playwright or /usr/bin/chromium is not installed; .ci/run installs both.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.browser.conftest import CHROMIUM, chromium_page
from learnapp.extensions import db
from learnapp.models import Scenario, ScenarioVersion
from learnapp.services import authoring
from tests.conftest import PASSWORD

pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")

SCENARIO = "days-out-priya-brochure"
EDIT = f"/author/scenarios/{SCENARIO}/edit"
PROMPT = "What is your next step?"


@pytest.fixture
def page():
    with chromium_page(viewport={"width": 1280, "height": 900}) as page:
        yield page


@pytest.fixture
def trainer_page(server, page, make_user):
    trainer = make_user("trainer", team=None)
    page.goto(server + "/login")
    page.fill("#email", trainer.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/author/")  # a trainer lands on the content list
    return page


def _type_draft(page, server, replacement: str) -> None:
    """Open the editor and change the prompt without saving (the browser keeps the draft)."""
    page.goto(server + EDIT)
    text = page.input_value("#text").replace(PROMPT, replacement)
    page.fill("#text", text)  # fires "input", which stores the draft


def _saved_meanwhile(clock, line: str) -> None:
    """Another trainer saves version 2 of the scenario."""
    row = db.session.get(Scenario, SCENARIO)
    text = authoring.scenario_text(row).replace(PROMPT, line)
    result = authoring.save_scenario(text, editing=SCENARIO, base_number=row.current_number,
                                     actor="admin@example.com", now=clock.now())
    assert result.ok, result.errors


def _numbers() -> list[int]:
    db.session.rollback()  # end this thread's read snapshot: the server thread wrote since
    return list(db.session.scalars(db.select(ScenarioVersion.number).filter_by(scenario_id=SCENARIO)
                                   .order_by(ScenarioVersion.number)))


def _draft(page):
    return page.evaluate(f"localStorage.getItem('learnapp-draft:{EDIT}')")


def test_a_draft_restored_over_a_newer_version_is_refused_not_saved_over_it(server, trainer_page, clock):
    page = trainer_page
    _type_draft(page, server, "DRAFT-ON-VERSION-1")
    page.goto(server + "/author/")
    _saved_meanwhile(clock, "ADMIN-EDIT-B")

    page.goto(server + EDIT)
    assert "DRAFT-ON-VERSION-1" in page.input_value("#text")
    note = page.locator(".draft-note").inner_text()
    assert "started from version 1 and version 2 has been saved since" in note
    assert page.input_value('input[name="base"]') == "1"  # the draft's own base, not the page's
    page.wait_for_selector('#preview input[name="choice"]')  # validated: Save is enabled
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("p.error[role=alert]").is_visible()
    assert "while you were editing version 1" in page.locator("p.error[role=alert]").inner_text()
    assert _numbers() == [1, 2]  # the admin's version is not overwritten
    assert "ADMIN-EDIT-B" in authoring.scenario_text(db.session.get(Scenario, SCENARIO))

    # the conflict page starts from version 2: saving again is deliberate and goes through, and clears the draft
    assert page.input_value('input[name="base"]') == "2" and "DRAFT-ON-VERSION-1" in page.input_value("#text")
    page.wait_for_function("!document.getElementById('save').disabled")
    with page.expect_navigation():
        page.click("#save")
    assert page.locator("text=Saved " + SCENARIO).is_visible()
    assert _numbers() == [1, 2, 3]
    assert _draft(page) is None
    page.reload()
    assert page.locator(".draft-note").count() == 0


def test_a_draft_can_be_discarded_for_the_saved_text(server, trainer_page, clock):
    page = trainer_page
    _type_draft(page, server, "DRAFT-TO-DROP")
    _saved_meanwhile(clock, "ADMIN-EDIT-C")
    page.goto(server + EDIT)
    assert "DRAFT-TO-DROP" in page.input_value("#text")
    page.click("#discard-draft")
    assert "ADMIN-EDIT-C" in page.input_value("#text") and "DRAFT-TO-DROP" not in page.input_value("#text")
    assert page.input_value('input[name="base"]') == "2"
    assert page.locator(".draft-note").count() == 0 and _draft(page) is None
    page.reload()
    assert "ADMIN-EDIT-C" in page.input_value("#text") and page.locator(".draft-note").count() == 0


def test_a_draft_on_the_current_version_is_restored_and_saved_then_cleared(server, trainer_page):
    page = trainer_page
    _type_draft(page, server, "DRAFT-STILL-CURRENT")
    page.reload()
    assert "DRAFT-STILL-CURRENT" in page.input_value("#text")
    assert page.locator(".draft-note").inner_text().startswith("Your unsaved draft was restored.")
    assert page.input_value('input[name="base"]') == "1"
    page.wait_for_function("!document.getElementById('save').disabled")
    with page.expect_navigation():
        page.click("#save")
    assert _numbers() == [1, 2] and _draft(page) is None
    assert "DRAFT-STILL-CURRENT" in page.input_value("#text") and page.locator(".draft-note").count() == 0


def test_a_new_scenario_with_a_taken_id_keeps_saying_so_after_the_refused_save(server, trainer_page):
    """The refused save's "is taken" used to flash and vanish: the page's first live check listed no error and
    enabled Save again, so the trainer saw no reason and every further click was refused the same silent way."""
    page = trainer_page
    page.goto(server + "/author/scenarios/new")
    page.fill("#text", authoring.NEW_SCENARIO.replace("new-scenario-id", SCENARIO))
    # said while typing, before any save (the example's own id is refused from the start: wait for this text's check)
    page.wait_for_selector("#errors li:has-text('is taken')")
    assert "is taken" in page.inner_text("#errors") and page.is_disabled("#save")
    page.evaluate("document.getElementById('save').disabled = false")  # a click that beat the check
    with page.expect_navigation():
        page.click("#save")
    page.wait_for_load_state("networkidle")  # the page's own live check has answered
    assert "is taken" in page.inner_text("#errors")
    assert page.is_disabled("#save")
    assert _numbers() == [1]


def test_while_the_text_has_errors_the_preview_says_it_shows_the_last_text_without_them(server, trainer_page):
    """The preview kept showing the last valid text under "what a rep sees" with nothing to say so: a trainer who
    had broken the options still saw them in the preview, as if a rep would."""
    page = trainer_page
    page.goto(server + EDIT)
    page.wait_for_selector('#preview input[name="choice"]')
    assert page.locator("#preview-stale").is_hidden()
    page.fill("#text", page.input_value("#text").replace("stage: alerted", "stage: alertd"))
    page.wait_for_selector("#errors li")
    assert page.locator("#preview-stale").is_visible()
    assert "not what a rep would see" in page.inner_text("#preview-stale")
    page.fill("#text", page.input_value("#text").replace("stage: alertd", "stage: alerted"))
    page.wait_for_selector("#preview-stale", state="hidden")  # the next check found no errors
    assert page.inner_text("#errors") == "" and not page.is_disabled("#save")


def test_save_looks_unavailable_while_it_is(server, trainer_page):
    """Save is disabled while the text has errors, but looked exactly as when it worked: clicks did nothing."""
    page = trainer_page
    page.goto(server + EDIT)
    page.wait_for_selector('#preview input[name="choice"]')
    enabled = page.eval_on_selector("#save", "b => [getComputedStyle(b).opacity, getComputedStyle(b).cursor]")
    page.fill("#text", page.input_value("#text").replace("stage: alerted", "stage: alertd"))
    page.wait_for_selector("#errors li")
    assert page.is_disabled("#save")
    disabled = page.eval_on_selector("#save", "b => [getComputedStyle(b).opacity, getComputedStyle(b).cursor]")
    assert float(disabled[0]) < float(enabled[0]) and disabled[1] == "not-allowed"


def test_a_slow_check_of_older_text_does_not_overwrite_the_check_of_newer_text(server, trainer_page, monkeypatch):
    """Each pause in typing sent a check, and each answer was shown as it arrived: when the check of a broken text
    was slow and the trainer had fixed it meanwhile, the fixed text's answer came first and the old one then put the
    errors back and disabled Save for a text that had none."""
    import time

    from learnapp.web import author as author_views

    checked = authoring.validate

    def slow_on_the_broken_text(text):
        if "stage: alertd" in text:
            time.sleep(1.5)
        return checked(text)

    monkeypatch.setattr(author_views.authoring, "validate", slow_on_the_broken_text)
    page = trainer_page
    page.goto(server + EDIT)
    page.wait_for_selector('#preview input[name="choice"]')
    fixed = page.input_value("#text")
    with page.expect_request("**/author/validate"):
        page.fill("#text", fixed.replace("stage: alerted", "stage: alertd"))  # its check is under way, slowly
    page.fill("#text", fixed + "\n")  # fixed (a harmless change, so the text differs from the saved one)
    page.wait_for_timeout(2500)  # both checks have answered
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#errors") == ""
    assert not page.is_disabled("#save")
    assert page.locator("#preview-stale").is_hidden()


def test_the_new_scenario_page_shows_the_examples_preview_and_asks_for_an_id_of_its_own(server, trainer_page):
    """Save on the untouched example made an active scenario 'new-scenario-id' that reps were drilled on; now the
    page says at once that the example's id must be replaced, Save waits for it, and the preview shows the example."""
    page = trainer_page
    page.goto(server + "/author/scenarios/new")
    page.wait_for_selector("#errors li")
    assert "is the example's id" in page.inner_text("#errors") and page.is_disabled("#save")
    page.wait_for_selector('#preview input[name="choice"]')  # a refused id alone does not hold the preview back
    assert "Alex downloaded our brochure" in page.inner_text("#preview")
    assert page.locator("#preview-stale").is_hidden()
    page.fill("#text", page.input_value("#text").replace(authoring.EXAMPLE_ID, "days-out-alex-brochure"))
    page.wait_for_selector("#save:enabled")
    with page.expect_navigation():
        page.click("#save")
    db.session.rollback()  # end this thread's read snapshot: the server thread wrote since
    assert db.session.get(Scenario, "days-out-alex-brochure") is not None
    assert db.session.get(Scenario, authoring.EXAMPLE_ID) is None


def test_a_change_at_the_end_of_a_long_prompt_line_is_in_sight_in_the_history(server, trainer_page, clock):
    """A prompt is one Markdown line of a few hundred characters: the diff kept each line whole in a box that scrolled
    sideways, so a word changed near its end was out of sight, off the right edge, on a laptop as on a phone."""
    page = trainer_page
    _saved_meanwhile(clock, PROMPT + " Answer in one move, the one that fits this stage of the buying journey best.")
    page.goto(server + f"/author/scenarios/{SCENARIO}/history")
    diff = page.locator("pre.diff")
    assert diff.evaluate("el => el.scrollWidth <= el.clientWidth")
    added = page.locator("pre.diff .add").last
    box, frame = added.bounding_box(), diff.bounding_box()
    assert "buying journey best" in added.inner_text()
    assert box["x"] + box["width"] <= frame["x"] + frame["width"]  # the whole added line, ending in the change, shows


def test_answer_in_the_editors_preview_keeps_the_typed_text(server, trainer_page):
    """The preview's Answer button posted its form to the editor's address: the page came back with 'empty file', an
    empty editor, and the draft in the browser overwritten with nothing: every edit typed so far was gone."""
    page = trainer_page
    page.goto(server + EDIT)
    page.wait_for_selector('#preview input[name="choice"]')
    typed = page.input_value("#text").replace(PROMPT, "TYPED-NOT-SAVED " + PROMPT)
    page.fill("#text", typed)
    page.wait_for_selector("#preview :text('TYPED-NOT-SAVED')")
    page.check('#preview input[name="choice"] >> nth=0')
    page.click("#preview button[type=submit]")
    page.wait_for_selector("#preview-no-answer")
    assert "takes no answer" in page.inner_text("#preview-no-answer")
    assert page.url == server + EDIT and page.input_value("#text") == typed
    assert json.loads(_draft(page))["text"] == typed and _numbers() == [1]  # the draft kept too
