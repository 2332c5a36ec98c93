"""Each role's pages on a 360 px phone in a real browser (Debian's Chromium through Playwright): nothing widens the
page, a box that scrolls sideways can take the focus and has a name, every form control has a name, every control is
at least 24 px high, and the drill can be done from the login to an extra round with the keyboard alone.

Skipped when Playwright or /usr/bin/chromium is not installed; .ci/run installs both.
"""

from __future__ import annotations

import os
from datetime import date

import pytest

from tests.browser.conftest import CHROMIUM, chromium_page
from tests.browser.test_drill_browser import _plan_first
from tests.conftest import PASSWORD

PHONE = 360  # CSS pixels: the narrowest common phone
pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM}")

# What a page must hold on a phone, read in the page: each entry names the offending elements.
PROBLEMS = """(phone) => {
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const what = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (el.name ? '[name=' + el.name + ']' : '');
  const out = {wider: document.scrollingElement.scrollWidth > phone ? [document.scrollingElement.scrollWidth] : [],
               unnamed: [], unfocusable_scroller: [], small: []};
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    const labelled = (el.getAttribute('aria-labelledby') || '').split(/\\s+/).filter(Boolean)
      .map(id => (document.getElementById(id) || {}).textContent || '').join('').trim();
    const labels = Array.from(el.labels || []).map(l => l.textContent.trim()).join('');
    if (!el.hidden && !(el.getAttribute('aria-label') || labelled || labels || el.title)) out.unnamed.push(what(el));
  }
  // a box that scrolls sideways must take the focus (or the keyboard cannot scroll it) and say what it holds
  for (const el of document.querySelectorAll('main *')) {
    const s = getComputedStyle(el);
    if ((s.overflowX === 'auto' || s.overflowX === 'scroll') && el.scrollWidth > el.clientWidth && !el.matches('textarea')
        && !(el.tabIndex >= 0 && el.getAttribute('aria-label')) && !el.querySelector('a[href], button, input, select, textarea'))
      out.unfocusable_scroller.push(what(el) + '.' + el.className);
  }
  // 24 x 24 CSS px at least (WCAG 2.5.8); a radio or a checkbox counts with its label, a link in running text is exempt
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (!shown(el)) continue;
    if (el.tagName === 'A' && getComputedStyle(el).display === 'inline' && el.closest('p, li, td, th')) continue;
    const box = (/^(radio|checkbox)$/.test(el.type) && el.closest('label') || el).getBoundingClientRect();
    if (box.height < 24 || box.width < 24) out.small.push(what(el) + ' ' + Math.round(box.width) + 'x' + Math.round(box.height));
  }
  return out;
}"""


def _fits_the_phone(page, where):
    problems = page.evaluate(PROBLEMS, PHONE)
    assert {k: v for k, v in problems.items() if v} == {}, f"{where} ({page.url})"


def _log_in(page, server, user):
    page.goto(server + "/login")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


@pytest.fixture
def page():
    with chromium_page(viewport={"width": PHONE, "height": 740}, is_mobile=True, has_touch=True) as page:
        yield page


@pytest.fixture
def team(content, make_user, monkeypatch):
    """A manager's team of five reps, each under 70% on every skill: every heat map cell says "at risk"."""
    from learnapp.models import Skill
    from learnapp.services import dashboard as dashboard_service
    from learnapp.extensions import db

    reps = [make_user("rep", team="North", name=name) for name in ("Ana", "Ben", "Chloe", "Dev", "Maximiliana Oyelaran-Whitfield")]
    manager = make_user("manager", team="North")
    skills = db.session.scalars(db.select(Skill)).all()
    recall = {rep.id: {skill.id: 0.55 for skill in skills} for rep in reps}
    monkeypatch.setattr(dashboard_service.retention, "recall_matrix", lambda states, now, scheduler: recall)
    return reps, manager, skills


def test_a_reps_pages_fit_a_phone(server, page, make_user, clock):
    from learnapp.services.vacations import add_vacation

    rep = make_user("rep")
    add_vacation(rep, date(2026, 4, 6), date(2026, 4, 10), by=rep, now=clock.now())
    _plan_first(rep, "knowledge-loop", clock)
    _log_in(page, server, rep)
    _fits_the_phone(page, "drill item")
    page.keyboard.press("2")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    _fits_the_phone(page, "feedback")
    for url in ("/progress/", "/lessons/", "/lessons/knowledge-loop", "/lessons/journey-order", "/lessons/stages/alerted",
                "/settings"):
        page.goto(server + url)
        _fits_the_phone(page, url)
    page.fill("#vacations input[name=start]", "2026-03-20")
    page.fill("#vacations input[name=end]", "2026-03-10")
    with page.expect_navigation():
        page.click("#vacations form.range button[type=submit]")
    assert page.locator("#vacation-error").is_visible()
    _fits_the_phone(page, "a refused vacation")


def test_a_managers_dashboard_fits_a_phone_with_every_cell_at_risk(server, page, team):
    # before, each cell's visually hidden "at risk" escaped the heat map's scrolling box: the page was 51 px too wide,
    # and the table views, which scroll without a link inside, could not take the focus
    reps, manager, skills = team
    _log_in(page, server, manager)
    page.goto(f"{server}/team/")  # their one team: its dashboard at once
    page.wait_for_url(f"**/team/{manager.led_teams[0].id}")
    assert page.locator("#recall td.at-risk").count() == len(reps) * len(skills)
    _fits_the_phone(page, "dashboard")
    for summary in page.locator("details.table-view summary").all():
        summary.tap()  # the last one, at the page's foot, could not be tapped while the page was too wide
    assert page.locator("details.table-view[open]").count() == page.locator("details.table-view").count()
    _fits_the_phone(page, "dashboard with its table views open")
    for url in (f"/team/rep/{reps[-1].id}", f"/team/{manager.led_teams[0].id}/skill/{skills[0].id}", "/settings"):
        page.goto(server + url)
        _fits_the_phone(page, url)


def test_a_trainers_pages_fit_a_phone(server, page, make_user):
    # before, the content list's skill filter was as wide as the longest skill title
    trainer = make_user("trainer", team=None)
    _log_in(page, server, trainer)
    _fits_the_phone(page, "content list")
    for url in ("/author/scenarios/walk-george-factory/edit", "/author/lessons/knowledge-loop/edit"):
        page.goto(server + url)
        page.wait_for_selector("#preview section.drill, #preview h2")
        _fits_the_phone(page, url)
    page.goto(server + "/author/scenarios/walk-george-factory/edit")
    page.locator("#ids summary").tap()  # the ids a scenario can use, listed under the editor
    assert page.locator("#ids[open] dt").count() == 10 + 5 + 6 + 9
    _fits_the_phone(page, "editor with its list of ids open")
    # the authoring guide's examples (code blocks) and tables used to widen the page past the phone
    for url in ("/author/scenarios/new", "/author/scenarios/walk-george-factory/try",
                "/author/scenarios/walk-george-factory/history", "/author/guide"):
        page.goto(server + url)
        _fits_the_phone(page, url)


def test_an_admins_pages_fit_a_phone_and_name_every_field(server, page, make_user):
    # before, the example CSV widened the import page by 307 px, and the person page's "set a password for them"
    # field had no name (its label pointed at the section it sits in, whose id it shared)
    from learnapp.services import password_links

    admin = make_user("admin", team=None)
    rep = make_user("rep", team="North", name="Ana")
    _log_in(page, server, admin)
    for url in ("/admin/people", f"/admin/people/{rep.id}", f"/admin/teams/{rep.team_id}", "/admin/jobs",
                "/admin/people/import"):
        page.goto(server + url)
        _fits_the_phone(page, url)
    page.goto(f"{server}/admin/people/{rep.id}")
    assert page.get_by_label("New password (at least").count() == 1
    link = password_links.url(rep, password_links.INVITE)
    page.context.clear_cookies()
    for url in ("/login", "/password/forgot", "/password/" + link.split("/password/", 1)[1]):
        page.goto(server + url)
        _fits_the_phone(page, url)


def test_a_form_sent_back_with_an_error_focuses_the_field_in_error(server, page, make_user):
    # the forms land on their own section (#password, #vacations): with a fragment in the address the browser
    # skipped autofocus, and a keyboard user was left on the page's body
    admin = make_user("admin", team=None)
    rep = make_user("rep", team="North")
    _log_in(page, server, admin)
    page.goto(server + "/settings")
    page.fill("#password-current", "not-my-password")
    page.fill("#password-new", "a-new-password")
    page.fill("#password-again", "a-new-password")
    with page.expect_navigation():
        page.click("#password button[type=submit]")
    assert page.url.endswith("#password")
    assert page.evaluate("document.activeElement.id") == "password-current"
    page.goto(server + "/settings")
    page.fill("#vacations input[name=start]", "2026-03-20")
    page.fill("#vacations input[name=end]", "2026-03-10")
    with page.expect_navigation():
        page.click("#vacations form.range button[type=submit]")
    assert page.evaluate("document.activeElement.name") == "start"
    page.goto(f"{server}/admin/people/{rep.id}")
    page.fill("#new-password", "short")
    with page.expect_navigation():
        page.click("text=Replace password")
    assert page.evaluate("document.activeElement.id") == "new-password"


def _attempts():
    from learnapp.extensions import db
    from learnapp.models import Attempt

    db.session.rollback()  # read what the server committed
    return db.session.scalar(db.select(db.func.count(Attempt.id)))


def test_a_rep_does_the_whole_drill_and_an_extra_round_with_the_keyboard_only(server, page, make_user, clock):
    rep = make_user("rep")
    _plan_first(rep, "discovery-walk", clock)  # an order of steps among the items
    page.goto(server + "/login")
    page.keyboard.type(rep.email)  # the email field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    answered, kinds, extra = 0, set(), False
    for _ in range(60):
        if page.locator("section.drill").count():
            kind = page.get_attribute("section.drill", "data-kind")
            kinds.add(kind)
            if kind == "order-steps":  # the order field has the focus
                page.keyboard.type(" ".join(str(n) for n in range(1, page.locator("button.step").count() + 1)))
            else:
                page.keyboard.press("1")
            with page.expect_navigation():
                page.keyboard.press("Enter")
            assert "/drill/feedback/" in page.url
            answered += 1
            with page.expect_navigation():
                page.keyboard.press("Enter")  # Next
            continue
        if extra:
            break
        assert page.locator("h1").inner_text() == "Done for today"
        for _ in range(20):  # Tab to "Practise five more minutes"
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.textContent.trim()") == "Practise five more minutes":
                break
        else:
            pytest.fail("Tab never reached 'Practise five more minutes'")
        day = answered
        with page.expect_navigation():
            page.keyboard.press("Enter")
        extra = True
        assert page.locator("text=Extra practice").count()
    assert extra and answered > day > 0
    assert "order-steps" in kinds and kinds - {"order-steps"}
    assert _attempts() == answered


def test_the_heat_maps_rep_names_stay_in_sight_while_it_scrolls_sideways_on_a_phone(server, page, team):
    # before, scrolling to the skills on the right took the names off the left edge: a manager read "62 at risk" with
    # no rep beside it
    reps, manager, skills = team
    _log_in(page, server, manager)
    page.goto(f"{server}/team/{manager.led_teams[0].id}")
    box = page.locator("#recall .scroll:has(table.heat)")
    assert box.evaluate("el => el.scrollWidth > el.clientWidth")  # wider than the phone: it does scroll
    box.scroll_into_view_if_needed()
    box.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    frame = box.bounding_box()
    for rep in reps:
        name = page.locator("#recall table.heat").get_by_role("rowheader", name=rep.name, exact=True).bounding_box()
        assert frame["x"] - 1 <= name["x"] and name["x"] + name["width"] <= frame["x"] + frame["width"], rep.name
        assert page.evaluate("([x, y]) => document.elementFromPoint(x, y).closest('th') !== null",
                             [name["x"] + 4, name["y"] + name["height"] / 2])  # drawn over the cells, not under them

# The smallest type a chart draws, in CSS pixels on the screen: ticks, axis titles, legend and title, each text's font
# size times the scale its SVG is drawn at (viewBox to image width, and any transform inside)
CHART_TYPE = """() => {
  const sizes = [...document.querySelectorAll('svg .axis text, svg .legends text, svg text.title')]
    .filter(t => t.textContent.trim() && getComputedStyle(t).display !== 'none')
    .map(t => { const m = t.getScreenCTM(); return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b); });
  return Math.min(...sizes);
}"""


def test_a_managers_line_charts_are_readable_on_a_phone(server, page, make_user, clock):
    # before, each line chart was drawn 820 units wide into a 300-odd px image: its ticks, legend and title were about
    # 4.7 px high on a 360 px phone, and the forecast's 31 day labels ran into each other
    from datetime import timedelta

    from tests.helpers import drill_all

    reps = [make_user("rep", team="North") for _ in range(2)]
    manager = make_user("manager", team="North")
    for _ in range(15):
        for rep in reps:
            drill_all(rep, clock)
        clock.advance(timedelta(days=1))
    _log_in(page, server, manager)
    page.goto(f"{server}/team/{manager.led_teams[0].id}")
    charts = page.evaluate("[...document.querySelectorAll('img.chart')].map(i => [i.currentSrc, i.clientWidth])")
    assert len(charts) == 4
    # each image as the browser draws it: the SVG it picked, at the width it is shown, its media queries seeing that width
    measure = page.context.new_page()
    for src, width in charts:
        svg = page.request.get(src).text().split("?>", 1)[-1]
        measure.set_viewport_size({"width": width, "height": 600})
        measure.set_content('<meta name="viewport" content="width=device-width"><body style="margin:0">'
                            f'<style>svg {{ display: block; width: 100%; height: auto; }}</style>{svg}')
        assert measure.evaluate(CHART_TYPE) >= 8.5, src  # the line charts 11 px, the calibration chart 9
        if "calibration" not in src:
            assert "size=narrow" in src
            shown = measure.locator("svg .axis.x text:not(.title)").all_text_contents()
            assert 2 <= len(shown) <= 7, (src, shown)
