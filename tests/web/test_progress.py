"""A rep's progress page, as the rep and as their manager see it."""

import re
from zoneinfo import ZoneInfo

from learnapp.extensions import db
from learnapp.models import Attempt, User
from learnapp.services import drill
from tests.helpers import right_answer


def _swap_first_two(item):
    """A partly right order: every step in place but the first two, swapped."""
    order = right_answer(item)
    return [order[1], order[0], *order[2:]]


def _drill_all_skills(rep, clock, app, answer_order_steps):
    app.config["NEW_SKILLS_PER_DAY"] = 99  # every skill on day one, order-steps ones included
    while (item := drill.current_item(rep, clock.now())) is not None:
        answer = right_answer(item)
        drill.submit_answer(rep, item.presentation.token, answer_order_steps(item) if isinstance(answer, list) else answer,
                            clock.now())


def test_a_partly_right_answer_shows_as_partly_right_with_its_score_not_as_wrong(content, make_user, clock, app, auth, client):
    rep = make_user("rep", team="North")
    _drill_all_skills(rep, clock, app, _swap_first_two)
    partial = db.session.scalars(db.select(Attempt).filter_by(user_id=rep.id, correct=False)).all()
    assert partial and all(0 < a.score < 1 for a in partial)
    auth.login(rep.email)
    page = client.get("/progress/").get_data(as_text=True)
    for attempt in partial:
        assert f'title="partly right (score {round(attempt.score * 100)}%)"' in page
    assert page.count(">◐</span>") == len(partial)
    assert 'title="wrong"' not in page and "✗</span>" not in page


def test_a_wrong_order_still_shows_as_wrong(content, make_user, clock, app, auth, client):
    rep = make_user("rep", team="North")
    _drill_all_skills(rep, clock, app, lambda item: list(reversed(right_answer(item))))  # a reversal scores 0
    wrong = db.session.scalar(db.select(db.func.count(Attempt.id)).filter_by(user_id=rep.id, correct=False))
    auth.login(rep.email)
    page = client.get("/progress/").get_data(as_text=True)
    assert wrong and len(re.findall(r'title="wrong" aria-hidden="true">✗</span>', page)) == wrong
    assert "◐" not in page.split("<tbody>")[1].split("</tbody>")[0]


def _first_step_last(item):
    """A wrong order with credit: only the first step moved, to the end (B C D E A: score 60% on five steps)."""
    order = right_answer(item)
    return [*order[1:], order[0]]


def test_a_wrong_order_with_credit_is_wrong_like_the_schedule_says_with_its_score(content, make_user, clock, app, auth, client):
    """Before: ◐ "partly right (60%)" for an order the scheduler rated Again (forgotten)."""
    rep = make_user("rep", team="North")
    _drill_all_skills(rep, clock, app, _first_step_last)
    wrong = db.session.scalars(db.select(Attempt).filter_by(user_id=rep.id, correct=False)).all()
    assert wrong and all(0 < a.score < 1 and a.rating == 1 for a in wrong)
    auth.login(rep.email)
    page = client.get("/progress/").get_data(as_text=True)
    table = page.split("<tbody>")[1].split("</tbody>")[0]
    assert "◐" not in table and "partly" not in table
    for attempt in wrong:
        assert f'title="wrong (score {round(attempt.score * 100)}%)" aria-hidden="true">✗</span>' in table
    assert "✗ wrong (counted as forgotten)" in page


def test_an_older_wrong_order_rated_hard_stays_partly_right(content, make_user, clock, app, auth, client):
    """Attempts from before near misses were rated Hard with half the steps in a run: shown as the schedule took them."""
    rep = make_user("rep", team="North")
    _drill_all_skills(rep, clock, app, _first_step_last)
    old = db.session.scalars(db.select(Attempt).filter_by(user_id=rep.id, correct=False)).first()
    old.rating = 2  # as the scheduler rated such an order before today
    db.session.commit()
    auth.login(rep.email)
    page = client.get("/progress/").get_data(as_text=True)
    assert f'title="partly right (score {round(old.score * 100)}%)" aria-hidden="true">◐</span>' in page
    assert page.split("<tbody>")[1].count(">◐</span>") == 1


def test_the_managers_view_of_a_rep_names_the_rep_and_leads_back_to_the_dashboard_range(content, make_user, auth, client):
    rep = make_user("rep", team="North", name="Rita Rep")
    manager = make_user("manager", team="North")
    auth.login(manager.email)
    dashboard = client.get(f"/team/{rep.team_id}?start=2026-01-05&end=2026-03-02").get_data(as_text=True)
    rep_url = f"/team/rep/{rep.id}?start=2026-01-05&amp;end=2026-03-02"
    assert f'href="{rep_url}"' in dashboard  # the rep link keeps the dashboard's range
    page = client.get(rep_url.replace("&amp;", "&")).get_data(as_text=True)
    assert "<title>Rita Rep: progress · learnapp</title>" in page  # before: "Progress · learnapp"
    assert f'<a href="/team/{rep.team_id}?start=2026-01-05&amp;end=2026-03-02">← North</a>' in page
    assert client.get(f"/team/rep/{rep.id}").get_data(as_text=True).count(f'<a href="/team/{rep.team_id}">← North</a>') == 1


def test_a_reps_own_progress_page_has_its_own_title_and_no_way_to_the_team(content, make_user, auth, client):
    rep = make_user("rep", team="North")
    auth.login(rep.email)
    page = client.get("/progress/").get_data(as_text=True)
    assert "<title>Your progress · learnapp</title>" in page and "<h1>Your progress</h1>" in page
    assert f'href="/team/{rep.team_id}' not in page


def test_an_admin_looking_at_a_rep_without_a_team_goes_back_to_the_team_list(content, make_user, auth, client):
    loner = make_user("rep", team=None, name="Lone Rep")
    admin = make_user("admin", team=None)
    auth.login(admin.email)
    page = client.get(f"/team/rep/{loner.id}").get_data(as_text=True)
    assert "<title>Lone Rep: progress · learnapp</title>" in page and '<a href="/team/">← Teams</a>' in page


def test_a_skill_practised_today_says_so_instead_of_a_recall_of_100(content, make_user, clock, app, auth, client):
    """FSRS puts recall at 100% right after any review: a wrong answer read as mastery (found in browser re-check)."""
    from datetime import timedelta

    from tests.helpers import wrong_answer

    rep = make_user("rep", team="North")
    item = drill.current_item(rep, clock.now())
    drill.submit_answer(rep, item.presentation.token, wrong_answer(item), clock.now())
    auth.login(rep.email)
    row = re.search(rf'href="/lessons/{item.scenario.skill}">[^<]+</a></td>\s*<td>(.*?)</td>',
                    client.get("/progress/").get_data(as_text=True)).group(1)
    assert "practised today" in row and "%" not in row
    clock.advance(timedelta(days=1))  # the next day the number is back
    row = re.search(rf'href="/lessons/{item.scenario.skill}">[^<]+</a></td>\s*<td>(.*?)</td>',
                    client.get("/progress/").get_data(as_text=True)).group(1)
    assert "practised today" not in row and re.search(r">\d+%?<", row)


def test_a_rep_downloads_every_answer_of_theirs_and_nobody_else_s(content, make_user, clock, auth, client):
    import csv
    import io

    from tests.helpers import wrong_answer

    rep = make_user("rep", team="North", timezone="Europe/Berlin")
    peer = make_user("rep", team="North")
    rep_email, rep_id, peer_id = rep.email, rep.id, peer.id
    for user_id, wrong_first in ((rep_id, True), (peer_id, False)):
        user = db.session.get(User, user_id)
        first = True
        while (item := drill.current_item(user, clock.now())) is not None:
            answer = wrong_answer(item) if first and wrong_first else right_answer(item)
            drill.submit_answer(user, item.presentation.token, answer, clock.now())
            first = False
    mine = db.session.scalar(db.select(db.func.count()).select_from(Attempt).where(Attempt.user_id == rep_id))
    auth.login(rep_email)
    assert 'href="/progress/answers.csv"' in client.get("/progress/").get_data(as_text=True)
    response = client.get("/progress/answers.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "my-answers.csv" in response.headers["Content-Disposition"] and response.headers["Cache-Control"] == "no-store"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["answered (Europe/Berlin)", "skill", "scenario", "question", "your answer", "result", "score", "seconds"]
    assert len(rows) - 1 == mine > 1
    assert rows[1][5] in ("wrong", "partly right") and all(r[5] == "right" for r in rows[2:])
    assert rows[1][4] and not rows[1][4].startswith(("=", "+", "-", "@"))  # the answer by its name
    assert rows[1][0].startswith(clock.now().astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%d %H:"))


def _visible_text(html: str) -> str:
    """What a sighted rep on a phone reads: no tags, no title tooltips, no text kept for screen readers only."""
    html = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", html)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_score_of_an_order_answer_is_visible_without_hovering(content, make_user, clock, app, auth, client):
    """Before: the score was only in a title tooltip, which touch screens never show (walk-through on a phone)."""
    rep = make_user("rep", team="North")
    _drill_all_skills(rep, clock, app, _swap_first_two)
    partial = db.session.scalars(db.select(Attempt).filter_by(user_id=rep.id, correct=False)).all()
    auth.login(rep.email)
    table = client.get("/progress/").get_data(as_text=True).split("<tbody>")[1].split("</tbody>")[0]
    shown = _visible_text(table)
    for attempt in partial:
        assert f"◐ {round(attempt.score * 100)}%" in shown
        assert f"partly right (score {round(attempt.score * 100)}%)" in table  # still said to screen readers


def test_the_answers_csv_names_each_skill_by_its_title_as_the_progress_page_does_and_keeps_it_text(content, make_user,
                                                                                                  clock, auth, client):
    """The skill column holds the title the rep reads on their progress page, not the skill's id; a title a spreadsheet
    would run as a formula stays text (web.team._spreadsheet_safe)."""
    import csv
    import io

    from learnapp.models import Skill

    rep = make_user("rep")
    item = drill.current_item(rep, clock.now())
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    skill = db.session.get(Skill, item.presentation.skill_id)
    skill_id, skill.title = skill.id, '=HYPERLINK("https://evil.example","Next step")'
    db.session.commit()
    auth.login(rep.email)
    rows = list(csv.reader(io.StringIO(client.get("/progress/answers.csv").get_data(as_text=True))))
    assert rows[0][1] == "skill" and len(rows) == 2
    assert rows[1][1] == "'" + '=HYPERLINK("https://evil.example","Next step")' and skill_id not in rows[1][1]
    assert "=HYPERLINK(&#34;https://evil.example&#34;,&#34;Next step&#34;)" in client.get("/progress/").get_data(as_text=True)


def test_a_skill_due_on_an_earlier_day_says_overdue_and_one_due_today_says_today(content, make_user, clock, app, auth, client):
    """A rep back after a few days away read "Next due: Thu 26 Nov 2026" on Saturday the 28th, a "next" day already
    past, with nothing to say the skill was waiting for them."""
    from datetime import timedelta

    from learnapp.services.drill import memory_states
    from tests.helpers import drill_all

    rep = make_user("rep", team="North")
    manager = make_user("manager", team="North")
    drill_all(rep, clock)
    due = min(state.due for state in memory_states(rep.id).values())
    auth.login(rep.email)
    page = client.get("/progress/").get_data(as_text=True)
    assert "(overdue)" not in page and "(today)" not in page  # everything due on a later day
    clock.set(due)  # the moment it falls due: its own day is the rep's today
    assert "(today)" in client.get("/progress/").get_data(as_text=True)
    clock.set(due + timedelta(days=3))
    page = client.get("/progress/").get_data(as_text=True)
    assert f"{due:%a %d %b %Y} <span class=\"muted\">(overdue)</span>" in page
    auth.login(manager.email)  # their manager reads it too, in the rep's own days
    assert "(overdue)" in client.get(f"/team/rep/{rep.id}").get_data(as_text=True)


def test_a_skill_due_during_a_vacation_shows_the_first_day_back_as_the_drill_summary_does(content, make_user, clock,
                                                                                        auth, client):
    """The demo's rep away until Friday read "Next due: Wed 04 Mar" on her progress page (and her manager on her
    page), a day the drill brings nothing and sends no reminder, while the drill's summary said Monday 9 March."""
    from datetime import date, datetime, timedelta, timezone

    from learnapp.models import MemoryStateRow
    from learnapp.services.vacations import add_vacation
    from tests.helpers import drill_all

    rep = make_user("rep", team="North")  # works Monday to Friday
    manager = make_user("manager", team="North")
    drill_all(rep, clock)  # Monday 2 March
    skills = sorted(drill.memory_states(rep.id))
    assert len(skills) >= 3
    wednesday, thursday_after = datetime(2026, 3, 4, 10, tzinfo=timezone.utc), datetime(2026, 3, 12, 10, tzinfo=timezone.utc)
    db.session.execute(db.update(MemoryStateRow).where(MemoryStateRow.user_id == rep.id).values(due=wednesday))
    for skill, due in ((skills[0], thursday_after), (skills[1], datetime(2026, 3, 1, 10, tzinfo=timezone.utc))):
        db.session.execute(db.update(MemoryStateRow).where(MemoryStateRow.user_id == rep.id,
                                                           MemoryStateRow.skill_id == skill).values(due=due))
    db.session.commit()
    add_vacation(rep, date(2026, 3, 3), date(2026, 3, 6), by=rep, now=clock.now())  # Tuesday to Friday
    clock.advance(timedelta(days=1))  # Tuesday: away
    assert drill.local_day(rep, drill.summary(rep, clock.now()).next_due) == date(2026, 3, 9)  # the drill's own word
    auth.login(rep.email)
    page = _visible_text(client.get("/progress/").get_data(as_text=True))
    assert "Wed 04 Mar 2026" not in page
    assert page.count("Mon 09 Mar 2026 (after your vacation)") == len(skills) - 2
    assert "Thu 12 Mar 2026" in page and "Thu 12 Mar 2026 (after" not in page  # due after the return: unchanged
    assert "Sun 01 Mar 2026 (overdue: back after your vacation)" in page  # overdue: it keeps its day, and waits
    clock.advance(timedelta(days=6))  # Monday 9 March: back at work
    page = _visible_text(client.get("/progress/").get_data(as_text=True))
    assert "vacation)" not in page and "Sun 01 Mar 2026 (overdue)" in page and "Wed 04 Mar 2026 (overdue)" in page
    clock.advance(timedelta(days=-6))
    auth.login(manager.email)
    page = _visible_text(client.get(f"/team/rep/{rep.id}").get_data(as_text=True))
    assert "Wed 04 Mar 2026" not in page and "Mon 09 Mar 2026 (after the vacation)" in page
