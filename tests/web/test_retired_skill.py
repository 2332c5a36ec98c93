"""A skill whose scenarios are all retired has left the drill: no rep can practise it any more, so neither the
manager's dashboard nor the weekly digest calls it at risk, and the rep's progress says it is no longer drilled
instead of a recall that only falls and a due day no drill keeps."""

from datetime import timedelta

from learnapp.extensions import db
from learnapp.models import Scenario, Skill, User
from learnapp.services import drill
from learnapp.services.dashboard import DateRange, team_dashboard
from tests.helpers import drill_all, wrong_answer


def _practise_then_retire(make_user, clock):
    rep = make_user("rep", team="North")
    manager = make_user("manager", team="North")
    drill_all(rep, clock, answer=wrong_answer)
    practised = db.session.scalars(db.select(Scenario.skill_id).distinct()
                                   .where(Scenario.skill_id.in_(drill.memory_states(rep.id)))).all()
    assert practised
    skill = practised[0]
    db.session.execute(db.update(Scenario).where(Scenario.skill_id == skill).values(status="retired"))
    db.session.commit()
    clock.advance(timedelta(days=40))  # long enough for every skill learned with wrong answers to fall under 70%
    return rep, manager, skill


def test_a_retired_skill_is_not_at_risk_on_the_dashboard(content, make_user, clock, client, auth):
    rep, manager, skill = _practise_then_retire(make_user, clock)
    team = manager.led_teams[0]
    board = team_dashboard(team, DateRange.parse(None, None, clock.now().date())[0], clock.now())
    at_risk = [s.id for s, _, _ in board.at_risk_skills]
    assert skill not in at_risk and at_risk  # the other skills the rep got wrong still are
    assert skill not in [s.id for s in board.skills] and skill not in board.recall[rep.id]

    auth.login(manager.email)
    page = client.get(f"/team/{team.id}")
    assert page.status_code == 200
    assert client.get(f"/team/{team.id}/skill/{skill}").status_code == 200


def test_the_rep_sees_a_retired_skill_as_no_longer_drilled(content, make_user, clock, client, auth):
    rep, _, skill = _practise_then_retire(make_user, clock)
    auth.login(rep.email)
    page = " ".join(client.get("/progress/").get_data(as_text=True).split())
    title = db.session.get(Skill, skill).title
    row = page[page.index(title):page.index("</tr>", page.index(title))]
    assert "no longer drilled" in row and "%" not in row.split("</a>")[1].split('class="recent"')[0]


def test_the_drill_summarys_next_drill_is_not_a_retired_skills_due_day(content, make_user, clock):
    """(Before, this was asserted 40 days on, when every due day had passed and the summary said "tomorrow" with or
    without the retired skill: it could not fail.) The retired skill is due in two days, the others in nine."""
    from learnapp.models import MemoryStateRow

    rep = make_user("rep")
    assert drill_all(rep, clock)
    retired, *others = db.session.scalars(db.select(MemoryStateRow).filter_by(user_id=rep.id)
                                          .order_by(MemoryStateRow.skill_id)).all()
    assert others
    retired.due = clock.now() + timedelta(days=2)
    for state in others:
        state.due = clock.now() + timedelta(days=9)
    db.session.execute(db.update(Scenario).where(Scenario.skill_id == retired.skill_id).values(status="retired"))
    db.session.commit()
    summary = drill.summary(db.session.get(User, rep.id), clock.now())
    assert summary.next_due == clock.now() + timedelta(days=9)  # before the fix: in two days


def test_a_retired_skills_page_says_it_left_the_drill_not_that_nobody_started_it(content, make_user, clock, client, auth):
    """The dashboard leaves a retired skill's recall out; its own page then read "not started" beside every rep, the
    rep who had practised it for weeks included. It says the skill is no longer drilled, for those who practised it."""
    rep, manager, skill = _practise_then_retire(make_user, clock)
    newcomer = make_user("rep", team="North", name="Nina")  # never practised anything
    auth.login(manager.email)
    page = " ".join(client.get(f"/team/{manager.led_teams[0].id}/skill/{skill}").get_data(as_text=True).split())
    rows = {name: page[page.index(f">{name}</a>"):page.index("</tr>", page.index(f">{name}</a>"))]
            for name in (rep.name, newcomer.name)}
    assert "no longer drilled" in rows[rep.name] and "not started" not in rows[rep.name]
    assert "not started" in rows[newcomer.name]
    assert "every scenario of this skill is retired" in page
