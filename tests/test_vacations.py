"""Vacations: set by the rep or their manager, no reminders while away, not counted as missed, backlog spread."""

from datetime import date, datetime, timedelta, timezone

from learnapp import jobs
from learnapp.extensions import db
from learnapp.models import Vacation
from learnapp.services import dashboard, drill
from tests.conftest import csrf_token
from tests.helpers import right_answer


def _vacation(client, user_id, start, end, page="/settings"):
    return client.post(f"/vacations/{user_id}", data={"start": start, "end": end, "csrf_token": csrf_token(client, page)})


def test_a_rep_pauses_their_own_practice_and_gets_no_reminder(inbox, content, make_user, auth, client, clock):
    rep = make_user("rep")
    auth.login(rep.email)
    assert _vacation(client, rep.id, "2026-03-02", "2026-03-13").status_code == 303
    assert "02 Mar 2026 to 13 Mar 2026" in client.get("/settings").get_data(as_text=True)
    clock.set(datetime(2026, 3, 4, 9, 30, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "0 reminders sent"
    clock.set(datetime(2026, 3, 16, 9, 30, tzinfo=timezone.utc))  # back at work
    assert jobs.reminders().detail == "1 reminders sent"


def test_bad_ranges_are_refused_with_a_message(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.post(f"/vacations/{rep.id}", data={"start": "2026-03-10", "end": "2026-03-01",
                                                     "csrf_token": csrf_token(client, "/settings")}, follow_redirects=True)
    assert "The last day is before the first day." in page.get_data(as_text=True)
    page = _vacation(client, rep.id, "soon", "", ).headers["Location"]
    assert db.session.scalar(db.select(db.func.count(Vacation.id))) == 0 and page.endswith("/settings")


def test_only_the_rep_their_manager_or_an_admin_can_pause_practice(content, make_user, auth, client):
    rep, peer = make_user("rep", team="North"), make_user("rep", team="North")
    manager, stranger = make_user("manager", team="North"), make_user("manager", team="South")
    auth.login(peer.email)
    assert _vacation(client, rep.id, "2026-03-02", "2026-03-06").status_code == 404
    auth.login(stranger.email)
    assert _vacation(client, rep.id, "2026-03-02", "2026-03-06", page="/team/").status_code == 404
    auth.login(manager.email)
    response = _vacation(client, rep.id, "2026-03-02", "2026-03-06", page="/team/")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/team/rep/{rep.id}")
    assert "set by " + manager.email in client.get(f"/team/rep/{rep.id}").get_data(as_text=True)


def test_vacation_days_do_not_count_as_missed(content, make_user, clock):
    from learnapp.services.vacations import add_vacation

    rep = make_user("rep", team="North")
    add_vacation(rep, date(2026, 3, 9), date(2026, 3, 13), by=rep, now=clock.now())
    span = dashboard.DateRange(date(2026, 3, 2), date(2026, 3, 13))
    board = dashboard.team_dashboard(rep.team, span, datetime(2026, 3, 13, 18, tzinfo=timezone.utc))
    (people,) = board.participation
    assert people.working_days == 5  # ten working days, five of them away
    assert board.inactive == []  # away today: not at risk for inactivity


def test_the_backlog_after_a_break_is_spread_over_days(content, make_user, clock, app):
    rep = make_user("rep")
    app.config["NEW_SKILLS_PER_DAY"] = 9
    while (item := drill.current_item(rep, clock.now())) is not None:  # all nine skills on day one, answered slowly
        clock.advance(timedelta(seconds=100))
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    for _ in range(5):  # five answers at 100 s: the rep's own pace is slow
        clock.advance(timedelta(days=1))
        while (item := drill.current_item(rep, clock.now())) is not None:
            clock.advance(timedelta(seconds=100))
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    clock.advance(timedelta(days=60))  # back from a long break: everything is overdue
    plan = drill.today_session(rep, clock.now()).plan
    assert len(plan) == 3  # five minutes at 100 s an answer, not nine overdue items
    recalls = [p["recall"] for p in plan]
    assert recalls == sorted(recalls)
    clock.advance(timedelta(days=1))
    assert drill.today_session(rep, clock.now()).plan  # the rest follows on the next days
