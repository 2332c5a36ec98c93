"""A real browser (Debian's Chromium through Playwright) answers with the keyboard on a phone-width screen.

Skipped when Playwright or /usr/bin/chromium is not installed; .ci/run installs both.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.browser.conftest import CHROMIUM, chromium_page
from tests.conftest import CONTENT, PASSWORD

PHONE = 390  # CSS pixels: a common phone's width
pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")


@pytest.fixture
def page():
    with chromium_page(viewport={"width": PHONE, "height": 844}, is_mobile=True, has_touch=True) as page:
        yield page


def _answer_current_item_with_keys(page):
    kind = page.get_attribute("section.drill", "data-kind")
    if kind == "order-steps":
        count = page.locator("button.step").count()
        page.fill("#order", " ".join(str(n) for n in range(1, count + 1)))
        page.keyboard.press("Enter")
    else:
        page.keyboard.press("2")
        assert page.is_checked('input[name="choice"] >> nth=1')
        page.keyboard.press("Enter")
    page.wait_for_url("**/drill/feedback/**")


def test_a_rep_drills_with_the_keyboard_on_a_phone(server, page, make_user):
    rep = make_user("rep")
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.goto(server + "/login")
    page.fill("#email", rep.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/drill/")
    assert page.locator("text=Item 1 of").is_visible()
    # nothing overflows the phone's width
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE

    _answer_current_item_with_keys(page)
    assert page.locator("h1").inner_text() in {"Right", "Not quite"} or "Partly right" in page.locator("h1").inner_text()
    assert page.locator("text=The rule:").is_visible()
    page.keyboard.press("Enter")  # Next
    page.wait_for_url("**/drill/")
    assert page.locator("text=Item 2 of").is_visible()
    assert errors == []  # the CSP blocked nothing the page needs


def _log_in(page, server, user, lands_on="**/drill/"):
    page.goto(server + "/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lands_on)


def _plan_first(rep, skill, clock):
    """Today's drill starts with this skill (the day's plan on the shipped content need not hold it)."""
    from learnapp.extensions import db
    from learnapp.services import drill

    session = drill.today_session(rep, clock.now())
    session.plan = [{"skill": skill, "reason": "new", "recall": None}] + [p for p in session.plan if p["skill"] != skill]
    db.session.commit()


def _attempts():
    from learnapp.extensions import db
    from learnapp.models import Attempt

    db.session.rollback()  # read what the server committed, not this session's snapshot
    return db.session.scalar(db.select(db.func.count(Attempt.id)))


def test_enter_on_a_focused_link_follows_the_link(server, page, make_user, clock):
    # before, the drill's Enter handlers took every Enter: the lesson link led to the next item,
    # and the nav's Lessons link sent the picked answer
    rep = make_user("rep")
    _plan_first(rep, "knowledge-loop", clock)
    _log_in(page, server, rep)
    page.keyboard.press("2")
    assert page.is_checked('input[name="choice"] >> nth=1')
    page.focus('nav a[href="/lessons/"]')
    page.keyboard.press("Enter")
    page.wait_for_url("**/lessons/")
    assert _attempts() == 0

    page.goto(server + "/drill/")
    page.keyboard.press("2")
    page.keyboard.press("Enter")  # the radio has focus: the drill's own control answers
    page.wait_for_url("**/drill/feedback/**")
    feedback = page.url
    page.focus("text=Read the two-minute lesson")
    page.keyboard.press("Enter")
    page.wait_for_url("**/lessons/knowledge-loop?feedback=*")
    page.locator("text=← Back to your drill").last.tap()  # a phone's way back, at the foot of the lesson
    page.wait_for_url(feedback)
    page.focus("text=About this stage")
    page.keyboard.press("Enter")
    page.wait_for_url("**/lessons/stages/**")
    page.locator("text=← Back to your drill").first.tap()
    page.wait_for_url(feedback)
    page.focus("button.link")  # Log out: Enter presses it
    page.keyboard.press("Enter")
    page.wait_for_url("**/login**")


def test_tapping_order_steps_builds_the_order_without_the_keyboard(server, page, make_user, clock):
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk", clock)
    _log_in(page, server, rep)
    assert page.get_attribute("section.drill", "data-kind") == "order-steps"
    order_has_focus = "document.activeElement === document.getElementById('order')"
    page.tap("button.step >> nth=2")
    assert page.input_value("#order") == "3"
    assert not page.evaluate(order_has_focus)  # a focused field would open the phone's keyboard over the steps
    page.tap("button.step >> nth=0")
    page.tap("button.step >> nth=1")
    assert page.input_value("#order") == "3 1 2"
    page.tap("button.step >> nth=0")  # a mis-tap is undone by tapping again
    assert page.input_value("#order") == "3 2"
    assert "picked" not in page.get_attribute("button.step >> nth=0", "class")
    assert "picked" in page.get_attribute("button.step >> nth=2", "class")
    assert not page.evaluate(order_has_focus)

    page.fill("#order", "3 3 2")
    page.keyboard.press("Enter")
    page.wait_for_selector(".error")
    assert "exactly once" in page.inner_text(".error")
    assert page.input_value("#order") == "3 3 2"  # the typed order comes back to be fixed
    assert "picked" in page.get_attribute("button.step >> nth=2", "class")
    assert "picked" not in page.get_attribute("button.step >> nth=0", "class")
    assert _attempts() == 0


def test_enter_after_clicking_the_steps_answers(server, page, make_user, clock):
    # before, a step clicked with the mouse kept the focus, and Enter (which the page says answers) pressed that
    # step again: it fell out of the order and nothing was sent
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk", clock)
    _log_in(page, server, rep)
    count = page.locator("button.step").count()
    for n in range(count, 0, -1):
        page.click(f"button.step >> nth={n - 1}")
    typed = " ".join(str(n) for n in range(count, 0, -1))
    assert page.input_value("#order") == typed
    page.keyboard.press("Enter")
    page.wait_for_url("**/drill/feedback/**", timeout=5000)
    assert _attempts() == 1
    assert page.locator("ol.order.yours li").count() == count  # the whole order was sent, the last step too


def test_space_on_a_step_still_picks_it(server, page, make_user, clock):
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk", clock)
    _log_in(page, server, rep)
    page.focus("button.step >> nth=1")
    page.keyboard.press(" ")
    assert page.input_value("#order") == "2"
    page.keyboard.press(" ")  # pressed again, it comes out
    assert page.input_value("#order") == ""
    assert _attempts() == 0


LONG_URL = "https://intranet.example.com/sales/playbooks/" + "/".join(["results-loop-check-in-template"] * 6)
UNBROKEN = "x" * 2_500  # under the 8 KB a Markdown body may hold, with the lesson around it


@pytest.fixture
def long_words(content, clock, tmp_path):
    """The shipped content with a long intranet link and a 2,500-character word in lessons, prompts and steps."""
    from learnapp.services.content import import_content

    copies = []
    for folder in CONTENT:
        copy = tmp_path / os.path.basename(folder)
        shutil.copytree(folder, copy)
        copies.append(str(copy))
    lesson = tmp_path / "lessons" / "results-loop.md"
    lesson.write_text(lesson.read_text() + f"\n\nThe check-in template: {LONG_URL}\n\n{UNBROKEN}\n")
    for scenario in (tmp_path / "scenarios").rglob("*.md"):
        text = scenario.read_text().rstrip("\n") + f" See {LONG_URL} {UNBROKEN}\n"  # the prompt is the body
        scenario.write_text(re.sub(r"(\n  text: )", r"\1" + "y" * 300, text, count=1))  # one long step
    report = import_content(copies, clock.now())
    assert report.ok, report.errors


def _fits_the_phone(page):
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE


def _clickable(page, selector):
    """The element is on the page's width and nothing covers its middle."""
    return page.evaluate("""(selector) => {
        const el = document.querySelector(selector);
        el.scrollIntoView({block: "center"});
        const box = el.getBoundingClientRect();
        const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return box.right <= window.innerWidth && (hit === el || el.contains(hit));
    }""", selector)


@pytest.mark.parametrize("skill", ["knowledge-loop", "discovery-walk"])
def test_long_words_wrap_on_a_phone(server, page, make_user, clock, long_words, skill):
    # before, nothing wrapped: a long link scrolled the lesson sideways, and the editor's grid column grew to
    # the 12,000-character word, covering the save button
    rep = make_user("rep")
    _plan_first(rep, skill, clock)
    _log_in(page, server, rep)
    assert _fits_the_phone(page), "drill item"
    assert _clickable(page, "#answer-form button[type=submit]")
    _answer_current_item_with_keys(page)
    assert _fits_the_phone(page), "feedback"
    assert _clickable(page, "#next")
    page.goto(server + "/lessons/results-loop")
    assert page.locator("text=The check-in template").is_visible()
    assert _fits_the_phone(page), "lesson"


def test_the_editor_fits_a_phone_with_a_very_long_word(server, page, make_user, long_words):
    trainer = make_user("trainer")
    _log_in(page, server, trainer, lands_on="**/author/")
    for url in ("/author/lessons/results-loop/edit", "/author/scenarios/walk-george-factory/edit"):
        page.goto(server + url)
        page.wait_for_selector("#preview :text('check-in template'), #preview section.drill")
        page.fill("#text", page.input_value("#text") + "\n" + "z" * 2_500 + "\n")
        page.wait_for_function("() => document.getElementById('preview').textContent.includes('zzzzzzzzzz')")
        assert _fits_the_phone(page), url
        assert _clickable(page, "#save"), url


def test_enter_before_picking_an_option_says_to_pick_one_first(server, page, make_user, clock):
    # before, Enter on a choice item with nothing picked did nothing and said nothing
    rep = make_user("rep")
    _plan_first(rep, "knowledge-loop", clock)
    _log_in(page, server, rep)
    page.keyboard.press("Enter")  # the first option has the focus, none is picked
    message = page.locator("#pick-first")
    assert message.is_visible() and "Pick an answer first" in message.inner_text()
    assert message.get_attribute("role") == "alert"
    assert page.url.endswith("/drill/") and _attempts() == 0
    page.locator("h1").click()  # the focus on the page itself: Enter says the same, once
    page.keyboard.press("Enter")
    assert page.locator("#pick-first").count() == 1
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_url("**/drill/feedback/**")
    assert _attempts() == 1


def test_a_touch_phone_shows_no_key_hints_a_laptop_does(server, page, make_user):
    """On a phone the drill said "Keys: 1–3 to pick, Enter to answer." and its buttons "Answer Enter", "Next Enter":
    there are no keys to press. A touch screen without a mouse hides those hints; the option numbers stay."""
    rep = make_user("rep")
    _log_in(page, server, rep)
    assert not page.locator("p.hint:has-text('Keys:')").is_visible()
    assert not page.locator("form button[type=submit] kbd").is_visible()
    assert page.locator("section.drill kbd >> nth=0").is_visible()  # the numbers of the options or steps
    _answer_current_item_with_keys(page)
    assert page.locator("#next").inner_text().strip() == "Next"
    laptop = page.context.browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _log_in(laptop, server, rep)
    assert laptop.locator("p.hint:has-text('Keys:')").is_visible()
    assert laptop.locator("form button[type=submit] kbd").inner_text() == "Enter"


def test_try_it_takes_the_taps_and_keys_a_reps_drill_takes(server, page, make_user):
    # before, Try it drew the item without the drill's script: tapping an order's steps did nothing (the trainer had
    # to type the numbers, which a rep on a phone never does) and the number keys its hint offers on a laptop picked nothing
    trainer = make_user("trainer", team=None)
    _log_in(page, server, trainer, lands_on="**/author/")
    page.goto(server + "/author/scenarios/walk-aisha-clinic/try")
    assert page.get_attribute("section.drill", "data-kind") == "order-steps"
    count = page.locator("button.step").count()
    for n in range(count):
        page.tap(f"button.step >> nth={n}")
    assert page.input_value("#order") == " ".join(str(n) for n in range(1, count + 1))
    assert page.get_attribute("button.step >> nth=0", "aria-pressed") == "true"
    page.tap("button.step >> nth=0")  # a mis-tap is undone by tapping again, as in the drill
    assert page.input_value("#order") == " ".join(str(n) for n in range(2, count + 1))
    page.tap("button.step >> nth=0")  # and put last
    with page.expect_navigation():
        page.tap("section.drill button[type=submit]")
    assert page.locator("h2.verdict").is_visible()  # the verdict; nothing recorded
    assert _attempts() == 0

    page.goto(server + "/author/scenarios/days-out-priya-brochure/try")
    page.keyboard.press("2")
    assert page.is_checked('input[name="choice"] >> nth=1')
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("h2.verdict").is_visible()


def test_a_screen_reader_hears_the_verdict_with_the_focused_next_link(server, page, make_user):
    # the feedback page puts the focus on Next, at its foot, so Enter goes on: a screen reader announced "Next, link"
    # and nothing of "Right" or "Not quite" above it
    rep = make_user("rep")
    _log_in(page, server, rep)
    _answer_current_item_with_keys(page)
    verdict = page.inner_text("h1")
    focused = page.evaluate("document.activeElement.id")
    assert focused == "next"
    client = page.context.new_cdp_session(page)
    node = client.send("DOM.describeNode", {"objectId": client.send("Runtime.evaluate", {
        "expression": "document.getElementById('next')"})["result"]["objectId"]})["node"]
    ax = client.send("Accessibility.getPartialAXTree", {"backendNodeId": node["backendNodeId"], "fetchRelatives": False})
    described = [n for n in ax["nodes"] if n.get("role", {}).get("value") == "link"][0].get("description", {}).get("value", "")
    assert verdict.strip() and verdict.strip() in described


def _ax_chain(page, selector):
    """The accessibility nodes of the element ``selector`` names and its ancestors, as Chromium gives a screen reader."""
    client = page.context.new_cdp_session(page)
    handle = client.send("Runtime.evaluate", {"expression": f"document.querySelector({selector!r})"})["result"]
    node = client.send("DOM.describeNode", {"objectId": handle["objectId"]})["node"]
    return client.send("Accessibility.getPartialAXTree", {"backendNodeId": node["backendNodeId"], "fetchRelatives": True})["nodes"]


def _description(node) -> str:
    return " ".join(node.get("description", {}).get("value", "").split())


def test_a_screen_reader_hears_the_prompt_with_the_focused_answer(server, page, make_user, clock):
    # the focus starts on the first option, below the scenario: a screen reader said "Your answer, group, 1, Share an
    # educational guide, radio button" and nothing of the lead the question is about
    rep = make_user("rep")
    _plan_first(rep, "knowledge-loop", clock)
    _log_in(page, server, rep)
    assert page.evaluate("document.activeElement.name") == "choice"
    prompt = " ".join(page.inner_text("section.drill .prompt").split())
    signals = page.locator("p.meta .tag").all_inner_texts()
    assert prompt and signals
    groups = [n for n in _ax_chain(page, "input[name=choice]:focus") if n.get("role", {}).get("value") == "group"]
    assert groups and groups[0]["name"]["value"] == "Your answer"
    described = _description(groups[0])
    assert prompt in described and all(signal in described for signal in signals)


def test_the_order_field_a_laptop_focuses_carries_the_prompt_too(server, make_user, clock):
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk", clock)
    with chromium_page(viewport={"width": 1280, "height": 800}) as laptop:
        _log_in(laptop, server, rep)
        assert laptop.evaluate("document.activeElement.id") == "order"  # a laptop types the numbers at once
        prompt = " ".join(laptop.inner_text("section.drill .prompt").split())
        (field,) = [n for n in _ax_chain(laptop, "#order") if n.get("role", {}).get("value") == "textbox"]
        assert prompt and prompt in _description(field)


def test_on_a_phone_the_order_field_takes_no_focus_so_no_keyboard_covers_the_steps(server, page, make_user, clock):
    # the field had autofocus: on Android the on-screen keyboard opened over the steps a rep is meant to tap. Headless
    # Chromium shows no keyboard; what opens it is a focused text field on a touch screen, and that is checked here
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk", clock)
    _log_in(page, server, rep)
    assert page.get_attribute("section.drill", "data-kind") == "order-steps"
    assert page.evaluate("matchMedia('(pointer: coarse)').matches")  # the phone emulation the rule reads
    page.wait_for_load_state("load")
    assert page.evaluate("document.activeElement.tagName") == "BODY"
    page.tap("button.step >> nth=1")  # taps build the order, as before
    assert page.input_value("#order") == "2" and page.evaluate("document.activeElement.id") != "order"
    page.keyboard.type("1")  # a keyboard paired with the phone still types into the field
    assert page.evaluate("document.activeElement.id") == "order" and page.input_value("#order") == "2 1"
