"""A real browser (Debian's Chromium through Playwright) answers with the keyboard on a phone-width screen.

Skipped when Playwright or /usr/bin/chromium is not installed; .ci/run installs both.
"""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from tests.conftest import PASSWORD

CHROMIUM = os.environ.get("LEARNAPP_CHROMIUM", "/usr/bin/chromium")
playwright_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")


@pytest.fixture
def server(app, content):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def page():
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"],
        )
        context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
        yield context.new_page()
        browser.close()


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
    assert page.evaluate("document.documentElement.scrollWidth") <= 375

    _answer_current_item_with_keys(page)
    assert page.locator("h1").inner_text() in {"Right", "Not quite"} or "Partly right" in page.locator("h1").inner_text()
    assert page.locator("text=The rule:").is_visible()
    page.keyboard.press("Enter")  # Next
    page.wait_for_url("**/drill/")
    assert page.locator("text=Item 2 of").is_visible()
    assert errors == []  # the CSP blocked nothing the page needs
