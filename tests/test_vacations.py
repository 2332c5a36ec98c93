"""Vacations: set by the rep or their manager, no reminders while away, not counted as missed, backlog spread."""

from datetime import date, datetime, timedelta, timezone

import pytest

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
    assert jobs.reminders().detail == "1 reminder sent"


def _vacation_count() -> int:
    return db.session.scalar(db.select(db.func.count(Vacation.id)))


def _said(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_bad_ranges_are_refused_with_a_message(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    response = _vacation(client, rep.id, "2026-03-10", "2026-03-01")
    assert response.status_code == 400 and "The last day is before the first day." in _said(response)
    response = _vacation(client, rep.id, "soon", "")
    assert response.status_code == 400 and "Give both dates, e.g. 2026-12-21." in _said(response)
    assert _vacation_count() == 0


@pytest.mark.parametrize("start, end, message", [
    ("9999-12-30", "9999-12-31", "The first day must be between 02 Mar 2025 and 01 Mar 2028."),
    ("0001-01-01", "0001-01-02", "The first day must be between 02 Mar 2025 and 01 Mar 2028."),
    ("2025-03-01", "2025-03-05", "The first day must be between 02 Mar 2025 and 01 Mar 2028."),
    ("2028-03-02", "2028-03-05", "The first day must be between 02 Mar 2025 and 01 Mar 2028."),
    ("2026-04-01", "9999-12-31", "A vacation can last at most 120 days."),
    ("2026-04-01", "2026-07-30", "A vacation can last at most 120 days."),
    ("2026-W14-1", "20260410", "Give both dates, e.g. 2026-12-21."),
])
def test_dates_outside_the_window_are_refused_and_nothing_is_stored(content, make_user, auth, client, start, end, message):
    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")  # a manager may record the past
    auth.login(manager.email)
    response = _vacation(client, rep.id, start, end, page="/team/")
    assert response.status_code == 400 and message in _said(response)
    assert _vacation_count() == 0


@pytest.mark.parametrize("start, end", [("2025-03-02", "2025-03-06"), ("2028-03-01", "2028-06-28")])
def test_the_edges_of_the_window_are_accepted(content, make_user, auth, client, start, end):
    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    auth.login(manager.email)
    assert _vacation(client, rep.id, start, end, page="/team/").status_code == 303
    assert _vacation_count() == 1


def test_the_window_follows_the_reps_own_day(content, make_user, clock):
    from learnapp.services.vacations import VacationError, add_vacation

    clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc))  # already 3 March on Kiritimati (UTC+14)
    ahead, home = make_user("rep", timezone="Pacific/Kiritimati"), make_user("rep")
    manager = make_user("manager")
    with pytest.raises(VacationError, match="between 03 Mar 2025 and 02 Mar 2028"):
        add_vacation(ahead, date(2025, 3, 2), date(2025, 3, 6), by=manager, now=clock.now())
    add_vacation(ahead, date(2028, 3, 2), date(2028, 3, 6), by=ahead, now=clock.now())
    add_vacation(home, date(2025, 3, 2), date(2025, 3, 6), by=manager, now=clock.now())
    with pytest.raises(VacationError, match="can start today at the earliest"):  # 2 March is past on Kiritimati
        add_vacation(ahead, date(2026, 3, 2), date(2026, 3, 6), by=ahead, now=clock.now())
    add_vacation(home, date(2026, 3, 2), date(2026, 3, 6), by=home, now=clock.now())  # and today at home
    assert _vacation_count() == 3


def test_a_vacation_in_year_9999_cannot_break_the_team_dashboard(content, make_user, auth, client):
    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    auth.login(manager.email)
    response = _vacation(client, rep.id, "9999-12-30", "9999-12-31", page="/team/")
    assert response.status_code == 400 and "The first day must be between" in _said(response)
    page = client.get(f"/team/{rep.team_id}?start=9999-12-20&end=9999-12-31")
    assert page.status_code == 200 and "Dates must lie between" in _said(page)


def test_a_refused_vacation_reshows_the_settings_page_with_the_error_and_the_typed_dates(content, make_user, auth, client):
    rep = make_user("rep")
    rep.reminder_time, rep.timezone = "07:45", "Europe/Berlin"
    db.session.commit()
    auth.login(rep.email)
    response = _vacation(client, rep.id, "2026-03-10", "2026-03-01")
    page = _said(response)
    assert response.status_code == 400
    assert '<p class="error" role="alert" id="vacation-error">The last day is before the first day.</p>' in page
    assert 'name="start" required value="2026-03-10"' in page and 'name="end" required value="2026-03-01"' in page
    # the page lands on the vacations section (it is below the fold) with the first date in focus
    assert '<section class="card" id="vacations">' in page and f'action="/vacations/{rep.id}#vacations"' in page
    assert 'aria-describedby="vacation-error" autofocus>' in page
    ok = _vacation(client, rep.id, "2026-03-02", "2026-03-06")
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/settings#vacations")
    # the settings form above still shows the rep's own settings, not the vacation form's (absent) fields
    assert '<input checked id="reminders_on"' in page and '<option selected value="Europe/Berlin">' in page
    assert _vacation_count() == 1  # the accepted one only
    assert db.session.get(type(rep), rep.id).reminder_time == "07:45"


def test_a_refused_vacation_reshows_the_reps_page_for_their_manager(content, make_user, auth, client):
    rep, manager = make_user("rep", team="North", name="Vera"), make_user("manager", team="North")
    auth.login(manager.email)
    response = _vacation(client, rep.id, "2026-03-02", "2026-08-31", page="/team/")
    page = _said(response)
    assert response.status_code == 400 and "<h1>Vera</h1>" in page
    assert '<p class="error" role="alert" id="vacation-error">A vacation can last at most 120 days.</p>' in page
    assert 'name="start" required value="2026-03-02"' in page and 'name="end" required value="2026-08-31"' in page
    assert f'action="/vacations/{rep.id}#vacations"' in page
    assert _vacation_count() == 0


def test_an_overlapping_vacation_is_refused_naming_the_one_already_there(content, make_user, auth, client):
    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    auth.login(rep.email)
    assert _vacation(client, rep.id, "2026-03-09", "2026-03-13").status_code == 303
    for start, end in [("2026-03-13", "2026-03-20"), ("2026-03-02", "2026-03-09"), ("2026-03-10", "2026-03-11"),
                       ("2026-03-02", "2026-03-31")]:
        response = _vacation(client, rep.id, start, end)
        assert response.status_code == 400
        assert "This overlaps the vacation from 09 Mar 2026 to 13 Mar 2026." in _said(response)
    assert _vacation(client, rep.id, "2026-03-14", "2026-03-20").status_code == 303  # the day after is free
    auth.login(manager.email)
    response = _vacation(client, rep.id, "2026-03-01", "2026-03-31", page="/team/")
    assert response.status_code == 400
    assert "overlaps the vacation from 09 Mar 2026 to 13 Mar 2026 and 14 Mar 2026 to 20 Mar 2026" in _said(response)
    assert _vacation_count() == 2


def test_a_rep_cannot_excuse_their_own_past_days_but_their_manager_can(content, make_user, auth, client):
    """Vacation days do not count as missed: a rep recording last month as a vacation erased their own missed days
    from the manager's participation figures (found by an audit)."""
    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    manager_email = manager.email  # read before the requests: their commits expire what the test holds
    auth.login(rep.email)
    response = _vacation(client, rep.id, "2026-02-23", "2026-03-06")
    assert response.status_code == 400
    assert "Your own vacation can start today at the earliest; ask your manager to record days already past." in _said(response)
    assert _vacation_count() == 0
    assert _vacation(client, rep.id, "2026-03-02", "2026-03-06").status_code == 303  # from today on: fine
    auth.login(manager_email)
    assert _vacation(client, rep.id, "2026-02-23", "2026-02-27", page="/team/").status_code == 303
    assert _vacation_count() == 2


def test_only_the_rep_their_manager_or_an_admin_can_pause_practice(content, make_user, auth, client):
    rep, peer = make_user("rep", team="North"), make_user("rep", team="North")
    manager, stranger = make_user("manager", team="North"), make_user("manager", team="South")
    auth.login(peer.email)
    assert _vacation(client, rep.id, "2026-03-02", "2026-03-06").status_code == 404
    auth.login(stranger.email)
    assert _vacation(client, rep.id, "2026-03-02", "2026-03-06", page="/team/").status_code == 404
    auth.login(manager.email)
    response = _vacation(client, rep.id, "2026-03-02", "2026-03-06", page="/team/")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/team/rep/{rep.id}#vacations")
    assert "set by " + manager.email in client.get(f"/team/rep/{rep.id}").get_data(as_text=True)


def test_only_the_rep_or_their_manager_can_remove_a_vacation_and_only_by_a_post_with_csrf(content, make_user, auth, client, clock):
    from learnapp.services.vacations import add_vacation

    rep, peer = make_user("rep", team="North"), make_user("rep", team="North")
    manager, stranger = make_user("manager", team="North"), make_user("manager", team="South")
    first = add_vacation(rep, date(2026, 3, 9), date(2026, 3, 13), by=rep, now=clock.now()).id
    second = add_vacation(rep, date(2026, 4, 6), date(2026, 4, 10), by=rep, now=clock.now()).id
    rep_id, peer_id = rep.id, peer.id
    emails = {"rep": rep.email, "peer": peer.email, "manager": manager.email, "stranger": stranger.email}

    def remove(user_id, vacation_id, page, **data):
        return client.post(f"/vacations/{user_id}/{vacation_id}/delete", data=data or {"csrf_token": csrf_token(client, page)})

    auth.login(emails["peer"])
    assert remove(rep_id, first, "/settings").status_code == 404
    assert remove(peer_id, first, "/settings").status_code == 404  # someone else's vacation under one's own id
    auth.login(emails["stranger"])
    assert remove(rep_id, first, "/team/").status_code == 404
    auth.login(emails["rep"])
    assert client.get(f"/vacations/{rep_id}/{first}/delete").status_code == 405
    assert remove(rep_id, first, "/settings", csrf_token="forged").status_code == 400
    assert _vacation_count() == 2
    response = remove(rep_id, first, "/settings")
    assert response.status_code == 303 and response.headers["Location"].endswith("/settings#vacations")
    auth.login(emails["manager"])
    response = remove(rep_id, second, "/team/")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/team/rep/{rep_id}#vacations")
    assert _vacation_count() == 0


def test_a_manager_cannot_pause_a_rep_of_another_team_even_with_a_bad_form(content, make_user, auth, client):
    rep, stranger = make_user("rep", team="North"), make_user("manager", team="South")
    auth.login(stranger.email)
    assert _vacation(client, rep.id, "soon", "", page="/team/").status_code == 404  # not a form that names the rep
    assert _vacation(client, 987654, "2026-03-02", "2026-03-06", page="/team/").status_code == 404


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


def test_after_a_break_the_summary_says_tomorrow_not_a_day_long_gone(content, make_user, clock, app):
    rep = make_user("rep", timezone="Europe/Berlin")
    app.config["NEW_SKILLS_PER_DAY"] = 9
    while (item := drill.current_item(rep, clock.now())) is not None:
        clock.advance(timedelta(seconds=100))
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    clock.advance(timedelta(days=60))  # everything overdue; today takes five minutes of it
    while (item := drill.current_item(rep, clock.now())) is not None:
        clock.advance(timedelta(seconds=100))
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    assert min(drill.memory_states(rep.id).values(), key=lambda s: s.due).due < clock.now()  # the rest is still overdue
    summary = drill.summary(rep, clock.now())
    next_working_day = drill.local_day(rep, clock.now()) + timedelta(days=1)
    while next_working_day.weekday() >= 5:  # the rep works Monday to Friday: not a day off either
        next_working_day += timedelta(days=1)
    assert summary.next_due.astimezone(drill.user_zone(rep)).date() == next_working_day


def test_a_vacation_pauses_the_streak_instead_of_ending_it(content, make_user, clock):
    from learnapp.services.vacations import add_vacation

    rep = make_user("rep")
    for _ in range(5):  # Monday 2 to Friday 6 March
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    add_vacation(rep, date(2026, 3, 9), date(2026, 3, 20), by=rep, now=clock.now())
    clock.set(datetime(2026, 3, 23, 9, tzinfo=timezone.utc))  # back on Monday
    assert drill.streak(rep, clock.now()) == 5  # not drilled yet today: still the five days before
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    assert drill.streak(rep, clock.now()) == 6


def test_removing_a_vacation_waits_for_other_writes_instead_of_failing(content, make_user, auth, client, clock, monkeypatch):
    """Another request commits between the page's reads and the delete (on SQLite: "database is locked", a 500, before)."""
    from sqlalchemy import update

    from learnapp.models import User
    from learnapp.services.vacations import add_vacation
    from learnapp.web import vacations as vacations_web

    rep, peer = make_user("rep"), make_user("rep")
    away = add_vacation(rep, date(2026, 3, 9), date(2026, 3, 13), by=rep, now=clock.now()).id
    rep_id, peer_id = rep.id, peer.id
    auth.login(rep.email)
    csrf = csrf_token(client, "/settings")
    found = vacations_web._rep_or_404

    def another_request_writes_meanwhile(user_id):
        rep = found(user_id)
        with db.engine.begin() as other:  # another connection, as another web worker's: a rep renames themself
            other.execute(update(User).where(User.id == peer_id).values(name="Renamed meanwhile"))
        return rep

    monkeypatch.setattr(vacations_web, "_rep_or_404", another_request_writes_meanwhile)
    response = client.post(f"/vacations/{rep_id}/{away}/delete", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert _vacation_count() == 0


def test_a_rep_planning_their_own_vacation_too_far_ahead_is_told_their_own_window(content, make_user, auth, client):
    """They were told a window starting a year back, which their own vacation cannot (exploratory test)."""
    rep = make_user("rep")
    auth.login(rep.email)
    response = _vacation(client, rep.id, "2029-12-15", "2029-12-20")
    assert response.status_code == 400 and "The first day must be between 02 Mar 2026 and 01 Mar 2028." in _said(response)
    assert _vacation_count() == 0


def test_a_rep_cannot_remove_days_of_a_vacation_already_past_but_their_manager_can(content, make_user, auth, client, clock):
    """A rep removed a past vacation their manager had recorded, which turned those days into missed days on the
    team's participation (walk-through): a rep changes only the part not begun yet."""
    from learnapp.services.vacations import add_vacation

    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    past = add_vacation(rep, date(2026, 2, 16), date(2026, 2, 20), by=manager, now=clock.now()).id
    ongoing = add_vacation(rep, date(2026, 2, 26), date(2026, 3, 6), by=manager, now=clock.now()).id
    ahead = add_vacation(rep, date(2026, 4, 6), date(2026, 4, 10), by=manager, now=clock.now()).id
    rep_id, emails = rep.id, (rep.email, manager.email)
    auth.login(emails[0])
    page = _said(client.get("/settings"))
    assert "(over: ask your manager to correct past days)" in page and "end it today" in page
    response = client.post(f"/vacations/{rep_id}/{past}/delete", data={"csrf_token": csrf_token(client, "/settings")},
                           follow_redirects=True)
    assert "This vacation is over: the days already past stay as recorded. Ask your manager to correct them." in _said(response)
    assert _vacation_count() == 3
    response = client.post(f"/vacations/{rep_id}/{ongoing}/delete", data={"csrf_token": csrf_token(client, "/settings")},
                           follow_redirects=True)
    assert "Vacation ended as of today; the days already past stay as recorded." in _said(response)
    assert "26 Feb 2026 to 01 Mar 2026" in _said(response)  # back today (Monday 2 March): the days before stay excused
    response = client.post(f"/vacations/{rep_id}/{ahead}/delete", data={"csrf_token": csrf_token(client, "/settings")})
    assert response.status_code == 303 and _vacation_count() == 2
    auth.login(emails[1])
    page = _said(client.get(f"/team/rep/{rep_id}"))
    assert "over: ask your manager" not in page and "remove" in page  # a manager corrects anything of their team
    response = client.post(f"/vacations/{rep_id}/{past}/delete", data={"csrf_token": csrf_token(client, "/team/")})
    assert response.status_code == 303 and _vacation_count() == 1
