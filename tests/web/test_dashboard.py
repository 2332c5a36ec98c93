"""The manager's dashboard: every route and CSV is for the team's managers (and admins) only; numbers add up."""

import csv
import io
import re
from datetime import timedelta

import pytest

from learnapp.extensions import db
from learnapp.models import Attempt, User
from learnapp.services import drill
from tests.conftest import csrf_token
from tests.helpers import drill_all, right_answer, wrong_answer
from learnapp.web.team import TABLES

CHARTS = ["retention", "weekly", "forecast", "calibration"]


@pytest.fixture
def org(content, make_user, clock):
    people = {
        "rep": make_user("rep", team="North", name="Rita"),
        "peer": make_user("rep", team="North", name="Paco"),
        "stranger": make_user("rep", team="South", name="Sven"),
        "manager": make_user("manager", team="North"),
        "other_manager": make_user("manager", team="South"),
        "admin": make_user("admin", team=None),
    }
    for day in range(15):  # three weeks of working days for Rita; Paco answers wrong and stops after a week
        when = clock.now()
        for key, answer in (("rep", right_answer), ("peer", wrong_answer)):
            if key == "peer" and day > 5:
                continue
            while (item := drill.current_item(people[key], clock.now())) is not None:
                clock.advance(timedelta(seconds=25))
                drill.submit_answer(people[key], item.presentation.token, answer(item), clock.now())
        clock.set(when + timedelta(days=1))
    return people


def urls(team_id: int, rep_id: int) -> list[str]:
    return ([f"/team/{team_id}", f"/team/{team_id}/skill/days-out", f"/team/rep/{rep_id}"]
            + [f"/team/{team_id}/data/{name}.csv" for name in TABLES]
            + [f"/team/{team_id}/chart/{name}.svg" for name in CHARTS])


def test_the_teams_manager_opens_every_page_chart_and_csv(org, auth, client):
    auth.login(org["manager"].email)
    for url in urls(org["rep"].team_id, org["rep"].id):
        response = client.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("who", ["rep", "peer", "other_manager"])
def test_nobody_else_opens_any_of_them(org, auth, client, who):
    auth.login(org[who].email)
    for url in urls(org["rep"].team_id, org["rep"].id):
        assert client.get(url).status_code in (403, 404), (who, url)


def test_anonymous_visitors_get_the_login_page(org, client):
    for url in urls(org["rep"].team_id, org["rep"].id):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_an_admin_sees_every_team(org, auth, client):
    auth.login(org["admin"].email)
    for url in urls(org["stranger"].team_id, org["stranger"].id):
        assert client.get(url).status_code == 200, url


def read_csv(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_csvs_hold_only_the_team_and_the_numbers_add_up(org, auth, client, clock):
    auth.login(org["manager"].email)
    team = org["rep"].team_id
    recall = read_csv(client, f"/team/{team}/data/recall.csv")
    assert [row[0] for row in recall[1:]] == ["Paco", "Rita"]
    participation = {row[0]: row for row in read_csv(client, f"/team/{team}/data/participation.csv")[1:]}
    drilled = {name: len({a.answered_at.date() for a in db.session.scalars(db.select(Attempt).filter_by(user_id=org[key].id))
                          if a.answered_at.weekday() < 5}) for name, key in (("Rita", "rep"), ("Paco", "peer"))}
    assert participation["Rita"][1] == str(drilled["Rita"]) and participation["Paco"][1] == str(drilled["Paco"])
    assert 0 < drilled["Paco"] <= 5
    assert "Sven" not in participation
    retention = read_csv(client, f"/team/{team}/data/retention.csv")
    assert retention[0][0] == "week since learned" and len(retention) == 1 + 27
    at_risk = read_csv(client, f"/team/{team}/data/at-risk.csv")
    # Tuesday 17 March under way: Paco's six working days since Friday 6 March are over, not seven yet
    assert ["rep", "Paco", "", "", "no drill in the last 7 working days"] not in at_risk
    clock.advance(timedelta(days=1))  # Wednesday 18 March: Tuesday is over without a drill, the seventh
    at_risk = read_csv(client, f"/team/{team}/data/at-risk.csv")
    assert ["rep", "Paco", "", "", "no drill in the last 7 working days"] in at_risk


def test_dashboard_page_says_the_reference_is_a_model_and_offers_table_views(org, auth, client):
    auth.login(org["manager"].email)
    page = " ".join(client.get(f"/team/{org['rep'].team_id}").get_data(as_text=True).split())
    assert "a model of a classroom event" in page and "not measured data" in page
    assert page.count("Table view") == len(TABLES) and page.count("Download CSV") == len(TABLES)
    assert "http://" not in page.replace('xmlns="http://www.w3.org', "") and "https://" not in page


def test_a_bad_date_range_falls_back_with_a_message(org, auth, client):
    auth.login(org["manager"].email)
    page = client.get(f"/team/{org['rep'].team_id}?start=yesterday&end=2026-01-01").get_data(as_text=True)
    assert "Dates must look like 2026-03-02" in page
    page = client.get(f"/team/{org['rep'].team_id}?start=2026-03-10&end=2026-03-01").get_data(as_text=True)
    assert "The start date is after the end date" in page


def test_a_refused_date_range_keeps_the_dates_typed_to_be_fixed(org, auth, client):
    # before, the fields showed the default range instead: a manager who swapped two dates had to type both again
    auth.login(org["manager"].email)
    page = client.get(f"/team/{org['rep'].team_id}?start=2026-03-10&end=2026-03-01").get_data(as_text=True)
    assert 'name="start" value="2026-03-10"' in page and 'name="end" value="2026-03-01"' in page
    assert page.count('aria-invalid="true"') == 2 and 'aria-describedby="range-error"' in page
    assert 'id="range-error"' in page
    shown = " ".join(page.split())
    assert "showing the last 26 weeks." in shown and '<p class="muted">2 reps · ' in shown  # what is shown instead
    fine = client.get(f"/team/{org['rep'].team_id}?start=2026-02-01&end=2026-03-01").get_data(as_text=True)
    assert 'name="start" value="2026-02-01"' in fine and "aria-invalid" not in fine


def test_charts_are_svg_without_anything_from_the_internet(org, auth, client):
    auth.login(org["manager"].email)
    for name in CHARTS:
        response = client.get(f"/team/{org['rep'].team_id}/chart/{name}.svg")
        assert response.mimetype == "image/svg+xml"
        body = response.get_data(as_text=True)
        assert "<script src" not in body and "xlink:href=\"http" not in body


def test_participation_counts_a_reps_working_days_from_the_day_they_joined(content, make_user, clock, auth, client):
    """The default range starts 26 weeks back; a rep who joined two weeks ago is not measured against the 24 before."""
    from datetime import datetime, timezone

    manager = make_user("manager", team="North")
    make_user("rep", team="North", name="Vic")  # joined Mon 2 March, never drilled
    clock.set(datetime(2026, 6, 1, 9, 0, tzinfo=timezone.utc))  # Monday 1 June
    newcomer = make_user("rep", team="North", name="Nina")
    for _ in range(8):  # drills on 8 of her 10 working days, 1-12 June
        if drill.current_item(newcomer, clock.now()) is None:
            drill.practise_more(newcomer, clock.now())  # nothing due that day: she practises anyway
        while (item := drill.current_item(newcomer, clock.now())) is not None:
            drill.submit_answer(newcomer, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=3 if clock.now().weekday() == 4 else 1))
    clock.set(datetime(2026, 6, 12, 17, 0, tzinfo=timezone.utc))  # Friday 12 June
    auth.login(manager.email)
    rows = {row[0]: row for row in read_csv(client, f"/team/{newcomer.team_id}/data/participation.csv")[1:]}
    # Friday 12 June is under way and not drilled yet: not missed yet, so 8 of 9 (Thursday 11 June was missed)
    assert rows["Nina"][1:4] == ["8", "9", "0.8889"] and rows["Nina"][6] == "2026-06-01"
    assert rows["Vic"][1:3] == ["0", "74"]  # 15 weeks since 2 March, the day his account was made: not drilling shows
    page = " ".join(client.get(f"/team/{newcomer.team_id}").get_data(as_text=True).split())
    # in the page's one date style, as "Last drill" beside it (before: "since 01 Jun", no weekday and no year)
    assert "8 / 9 (89%) <span class=\"muted\">since Mon 01 Jun 2026</span>" in page
    assert "<td>Wed 10 Jun 2026</td>" in page  # her last drill


def test_csv_cells_a_spreadsheet_would_run_as_formulas_stay_text(content, make_user, auth, client):
    """A rep named '=HYPERLINK(...)' ran as a formula when the manager opened the CSV (found in security review)."""
    names = ["=HYPERLINK(\"http://evil.example\",\"x\")", "@SUM(1+1)", "+1", "-2", "Plain Name"]
    for name in names:
        make_user("rep", team="North", name=name)
    manager = make_user("manager", team="North")
    auth.login(manager.email)
    for table in ("recall", "participation"):
        rows = read_csv(client, f"/team/{manager.led_teams[0].id}/data/{table}.csv")
        shown = {row[0] for row in rows[1:]}
        assert shown == {"'" + n for n in names[:4]} | {"Plain Name"}, table
        assert all(not cell[:1] in "=+-@" for row in rows[1:] for cell in row if cell and not cell.lstrip("-").replace(".", "").isdigit())


def test_a_rep_with_their_own_working_days_is_measured_against_them(content, make_user, clock, auth, client):
    """Participation, the inactive list and the streak counted Monday to Friday whatever days a rep works (found by an audit)."""
    from datetime import datetime, timezone

    from learnapp.services import drill as drill_service

    manager = make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Sam")
    rep_id, team_id, manager_email = rep.id, rep.team_id, manager.email
    auth.login(manager_email)  # his manager sets his days: Tuesday to Saturday
    response = client.post(f"/team/rep/{rep_id}/working-days",
                           data={"day": ["1", "2", "3", "4", "5"], "csrf_token": csrf_token(client, f"/team/rep/{rep_id}")})
    assert response.status_code == 303
    rep = db.session.get(User, rep_id)
    assert rep.working_weekdays == (1, 2, 3, 4, 5)
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc))  # Tuesday 3 March
    for _ in range(10):  # two of his weeks, Tue 3 to Sat 14 March: every working day drilled
        if drill.current_item(rep, clock.now()) is None:
            drill.practise_more(rep, clock.now())
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=3 if clock.now().weekday() == 5 else 1))  # Saturday, then Tuesday
    clock.set(datetime(2026, 3, 16, 17, 0, tzinfo=timezone.utc))  # Monday 16 March: his day off
    assert drill_service.streak(rep, clock.now()) == 10
    header, *rows = read_csv(client, f"/team/{team_id}/data/participation.csv")
    rows = {row[0]: row for row in rows}
    works = header.index("works")
    assert rows["Sam"][1:4] == ["10", "10", "1.0000"] and rows["Sam"][works] == "Tuesday to Saturday"  # before: 8 of 10
    page = " ".join(client.get(f"/team/{team_id}").get_data(as_text=True).split())
    assert "Sam</a> <span class=\"muted\">(works Tuesday to Saturday)</span>" in page
    assert "Nobody has gone 7 working days without a drill." in page  # Sunday and Monday are his days off
    clock.advance(timedelta(days=9))  # Wednesday 25 March, under way: six of his working days over without a drill
    page = " ".join(client.get(f"/team/{team_id}").get_data(as_text=True).split())  # (seven Monday-to-Friday)
    assert "Nobody has gone 7 working days without a drill." in page
    clock.advance(timedelta(days=1))  # Thursday 26 March: Wednesday is over, seven
    page = " ".join(client.get(f"/team/{team_id}").get_data(as_text=True).split())
    assert "No drill in the last 7 working days:" in page and ">Sam</a>" in page[page.index("No drill in the last 7"):]


def test_a_change_of_working_days_counts_from_the_reps_next_day(content, make_user, clock, auth, client):
    """Changing a rep's days used to rewrite past weeks: his drilled Mondays stopped counting, his past Saturdays became
    missed days. A change now counts from the rep's next day, so the day it is made on keeps its drill too; the rep's
    page lists the changes, and the dashboard labels a past range with the days it was counted on."""
    from datetime import datetime, timezone

    from learnapp.models import WorkingDaysChange
    from learnapp.services import drill as drill_service

    manager = make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Sam")
    rep_id, team_id, manager_email = rep.id, rep.team_id, manager.email

    def drill_today():
        rep = db.session.get(User, rep_id)
        if drill.current_item(rep, clock.now()) is None:
            drill.practise_more(rep, clock.now())
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())

    def set_days(days):
        token = csrf_token(client, f"/team/rep/{rep_id}")
        response = client.post(f"/team/rep/{rep_id}/working-days", data={"day": days, "csrf_token": token})
        assert response.status_code == 303
        return " ".join(client.get(response.headers["Location"]).get_data(as_text=True).split())

    def days_of(start, end):
        header, row = read_csv(client, f"/team/{team_id}/data/participation.csv?start={start}&end={end}")[:2]
        return row[1:3] + [row[header.index("works")]]

    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))  # Monday 2 to Monday 9 March: Monday to Friday, drilled
    for _ in range(8):
        if clock.now().weekday() < 5:
            drill_today()
        clock.advance(timedelta(days=1))
    clock.set(datetime(2026, 3, 9, 15, 0, tzinfo=timezone.utc))  # Monday afternoon, after his drill: Tuesday to Saturday
    auth.login(manager_email)
    set_days(["1", "2", "3", "4", "5", "6"])  # a slip, put right before it counts:
    page = set_days(["1", "2", "3", "4", "5"])
    assert "Sam works Tuesday to Saturday from Tue 10 Mar 2026 on (in Sam&#39;s timezone)" in page
    assert ("From Tue 10 Mar 2026 (to come): Tuesday to Saturday, before Monday to Friday "
            f'<span class="muted">(set by {manager_email} on Mon 09 Mar 2026)</span>') in page
    assert "No change: Sam already works Tuesday to Saturday from Tue 10 Mar 2026 on." in set_days(["1", "2", "3", "4", "5"])
    changes = db.session.scalars(db.select(WorkingDaysChange).filter_by(user_id=rep_id)).all()
    assert [(c.since.isoformat(), c.before, c.days, c.changed_by) for c in changes] == [
        ("2026-03-10", "0,1,2,3,4", "1,2,3,4,5", manager_email)]  # one change: the second replaced the first
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=timezone.utc))
    for _ in range(5):  # Tuesday 10 to Saturday 14 March
        drill_today()
        clock.advance(timedelta(days=1))
    clock.set(datetime(2026, 3, 16, 17, 0, tzinfo=timezone.utc))  # Monday 16 March: his day off
    rep = db.session.get(User, rep_id)
    assert drill_service.streak(rep, clock.now()) == 11
    # counted back with only the new days, Mondays 2 and 9 would not count and Saturday 7 would be missed: 9 of 10
    assert days_of("2026-03-02", "2026-03-15") == ["11", "11", "Monday to Friday; Tuesday to Saturday from Tue 10 Mar 2026"]
    assert days_of("2026-03-02", "2026-03-06") == ["5", "5", "Monday to Friday"]  # a past range: its own days
    assert days_of("2026-03-10", "2026-03-15") == ["5", "5", "Tuesday to Saturday"]
    page = " ".join(client.get(f"/team/{team_id}?start=2026-03-02&end=2026-03-06").get_data(as_text=True).split())
    assert "Sam</a> <span" not in page  # Monday to Friday then: no label
    page = " ".join(client.get(f"/team/{team_id}").get_data(as_text=True).split())
    assert "(works Monday to Friday; Tuesday to Saturday from Tue 10 Mar 2026)" in page
    assert "Nobody has gone 7 working days without a drill." in page
    # a change made and undone before it counts leaves no trace
    set_days(["0", "1", "2"])
    assert "(to come)" in set_days(["0", "1", "2"]) and "(to come)" not in set_days(["1", "2", "3", "4", "5"])
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkingDaysChange)) == 1
    assert db.session.get(User, rep_id).working_weekdays == (1, 2, 3, 4, 5)
    auth.login(db.session.get(User, rep_id).email)
    page = " ".join(client.get("/settings").get_data(as_text=True).split())
    assert "set by your manager: Tuesday to Saturday (since Tue 10 Mar 2026). Your participation" in page


def test_a_manager_dates_a_change_of_working_days_back_or_ahead(content, make_user, clock, auth, client):
    """"He has worked Tuesday to Saturday since the 3rd, I forgot to say": a change dated back corrects the weeks since,
    one dated ahead waits for its day; a day before the rep joined, more than a year ahead or no date is refused."""
    from datetime import datetime, timezone

    from learnapp.models import WorkingDaysChange

    manager = make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Sam")  # joined Monday 2 March
    rep_id, team_id, manager_email, rep_email = rep.id, rep.team_id, manager.email, rep.email
    for _ in range(6):  # Monday 2 to Saturday 7 March, every day drilled
        rep = db.session.get(User, rep_id)
        if drill.current_item(rep, clock.now()) is None:
            drill.practise_more(rep, clock.now())
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    clock.set(datetime(2026, 3, 11, 12, 0, tzinfo=timezone.utc))  # Wednesday 11 March
    auth.login(manager_email)

    def post(days, since):
        token = csrf_token(client, f"/team/rep/{rep_id}")
        return client.post(f"/team/rep/{rep_id}/working-days", data={"day": days, "since": since, "csrf_token": token})

    def week_of_2_march():
        return read_csv(client, f"/team/{team_id}/data/participation.csv?start=2026-03-02&end=2026-03-08")[1][1:3]

    assert week_of_2_march() == ["5", "5"]  # Monday to Friday: Saturday's drill welcome, not counted
    for since, message in (("2026-02-30", "Pick the day the change counts from as a date, like 2026-03-09."),
                           ("2026-03-01", "Pick a day from Mon 02 Mar 2026 on: Sam&#39;s first day."),
                           ("2027-03-12", "Pick a day within a year: Thu 11 Mar 2027 at the latest.")):
        response = post(["1", "2", "3", "4", "5"], since)
        page = " ".join(response.get_data(as_text=True).split())
        assert response.status_code == 400 and message in page, since
        assert f'name="since" required value="{since}"' in page and 'value="5" checked' in page  # as typed
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkingDaysChange)) == 0
    assert post(["1", "2", "3", "4", "5"], "2026-03-03").status_code == 303  # dated back
    assert week_of_2_march() == ["6", "6"]  # Monday 2 by the old days, Tuesday 3 to Saturday 7 by the new
    assert post(["0", "1", "2", "3", "4"], "2026-03-16").status_code == 303  # back to Monday to Friday next week
    page = " ".join(client.get(f"/team/rep/{rep_id}").get_data(as_text=True).split())
    assert "From Mon 16 Mar 2026 (to come): Monday to Friday, before Tuesday to Saturday" in page
    assert "From Tue 03 Mar 2026: Tuesday to Saturday, before Monday to Friday" in page
    # the form starts at the change to come: saved as shown, it changes nothing (it used to cancel the plan unsaid)
    assert 'name="since" required value="2026-03-16"' in page
    assert 'value="0" checked> Monday' in page and 'value="5" > Saturday' in page
    response = post(["0", "1", "2", "3", "4"], "2026-03-16")
    assert "No change: Sam already works Monday to Friday from Mon 16 Mar 2026 on." in client.get(response.headers["Location"]).get_data(as_text=True)
    response = post(["1", "2", "3", "4", "5"], "2026-03-12")  # "stay on Tuesday to Saturday": the plan goes, and is named
    page = " ".join(client.get(response.headers["Location"]).get_data(as_text=True).split())
    assert "It replaces the change from Mon 16 Mar 2026 (Monday to Friday)." in page
    assert "From Tue 03 Mar 2026: Tuesday to Saturday, before Monday to Friday" in page and "(to come)" not in page
    assert 'name="since" required value="2026-03-12"' in page  # nothing to come: tomorrow, ticked as then
    assert 'value="0" > Monday' in page and 'value="5" checked> Saturday' in page
    assert post(["0", "1", "2", "3", "4"], "2026-03-16").status_code == 303  # planned again
    auth.login(rep_email)
    page = " ".join(client.get("/settings").get_data(as_text=True).split())
    assert ("set by your manager: Tuesday to Saturday (since Tue 03 Mar 2026); from Mon 16 Mar 2026: Monday to Friday. "
            "Your participation") in page


def test_working_days_changes_stay_in_order_when_the_rep_moves_west(make_user, clock):
    """A change made for an Auckland rep counts from his next day there; moved to Los Angeles, whose next day is a day
    earlier, a second change replaced nothing and sorted before the first, so the first won from then on (review)."""
    from datetime import date, datetime, timezone

    from learnapp.services.users import set_working_days, working_weeks

    manager = make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Sam", timezone="Pacific/Auckland")
    now = datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)  # Tuesday 10 March in Auckland, Monday 9 in Los Angeles
    assert set_working_days(rep, ["1", "2", "3", "4", "5"], by=manager, now=now).since == date(2026, 3, 11)
    rep.timezone = "America/Los_Angeles"
    db.session.commit()
    result = set_working_days(rep, ["0", "2", "4"], by=manager, now=now + timedelta(hours=1))
    assert (result.changed, result.since) == (True, date(2026, 3, 10))  # from then on: the change to come is replaced
    week = working_weeks([db.session.get(User, rep.id)])[rep.id]
    assert [week.weekdays_on(date(2026, 3, d)) for d in (9, 10, 11, 20)] == [(0, 1, 2, 3, 4), (0, 2, 4), (0, 2, 4), (0, 2, 4)]


def test_two_saves_of_working_days_at_once_record_one_change(app, make_user, clock):
    """A double click, or two managers at once: on PostgreSQL both read "no change yet" and both inserted the same
    day's change, and the second failed with a 500 (review). The rep's row is locked while the change is made."""
    import threading
    from datetime import datetime, timezone

    from learnapp.models import WorkingDaysChange
    from learnapp.services import drill as drill_module
    from learnapp.services.users import set_working_days

    rep_id, manager_id = make_user("rep", team="North").id, make_user("manager", team="North").id
    barrier, real, outcomes = threading.Barrier(2, timeout=1), drill_module.local_day, []

    def both_at_once(user, when):  # after the checks, before the change is read: the moment two saves would race
        try:
            barrier.wait()
        except threading.BrokenBarrierError:  # the other save waits for the lock this one holds
            pass
        return real(user, when)

    def save():
        with app.app_context():
            try:
                outcomes.append(set_working_days(db.session.get(User, rep_id), ["1", "2", "3", "4", "5"],
                                                 by=db.session.get(User, manager_id),
                                                 now=datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc)).changed)
            finally:
                db.session.remove()

    drill_module.local_day = both_at_once
    try:
        threads = [threading.Thread(target=save) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        drill_module.local_day = real
    assert sorted(outcomes) == [False, True]
    db.session.rollback()  # this thread's read snapshot predates the saves
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkingDaysChange)) == 1


def test_only_the_reps_manager_or_an_admin_sets_working_days_and_a_bad_form_changes_nothing(content, make_user, auth, client):
    rep = make_user("rep", team="North", name="Sam")
    other = make_user("manager", team="South")
    manager, admin = make_user("manager", team="North"), make_user("admin", team=None)
    rep_id, emails = rep.id, {"rep": rep.email, "other": other.email, "manager": manager.email, "admin": admin.email}

    def post(days, token=True):
        data = {"day": days}
        if token:
            data["csrf_token"] = csrf_token(client, "/settings")
        return client.post(f"/team/rep/{rep_id}/working-days", data=data)

    auth.login(emails["rep"])  # the rep cannot: they could count only the days they happened to drill
    assert post(["6"]).status_code == 403
    page = client.get("/settings").get_data(as_text=True)
    assert "Your working days, set by your manager: Monday to Friday." in page
    auth.login(emails["other"])
    assert post(["6"]).status_code == 404
    auth.login(emails["manager"])
    assert post(["6"], token=False).status_code == 400
    for days, message in (([], "Pick at least one working day."), (["7"], "Pick the days from the list."),
                          (["x"], "Pick the days from the list.")):
        response = post(days)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, rep_id).working_days == "0,1,2,3,4"
    auth.login(emails["admin"])
    response = post(["0", "2", "4"])
    assert response.status_code == 303
    assert "Sam works Monday, Wednesday and Friday" in client.get(response.headers["Location"]).get_data(as_text=True)
    auth.login(emails["rep"])
    page = " ".join(client.get("/settings").get_data(as_text=True).split())
    assert "set by your manager: Monday, Wednesday and Friday (since Mon 02 Mar 2026). Your" in page  # joined that day


def test_a_reps_days_set_on_their_first_day_have_no_before(content, make_user, clock, auth, client):
    """Set on the day a rep joins, the days count from that day and the page names no earlier days (review)."""
    manager, rep = make_user("manager", team="North"), make_user("rep", team="North", name="Kim")
    rep_id = rep.id
    auth.login(manager.email)
    response = client.post(f"/team/rep/{rep_id}/working-days",
                           data={"day": ["1", "2", "3", "4", "5"], "csrf_token": csrf_token(client, f"/team/rep/{rep_id}")})
    page = " ".join(client.get(response.headers["Location"]).get_data(as_text=True).split())
    assert ("Kim works Tuesday to Saturday from Mon 02 Mar 2026 on (in Kim&#39;s timezone, Kim&#39;s first day): "
            "participation, the streak and the inactive list count these days from then.") in page
    assert "From Mon 02 Mar 2026: Tuesday to Saturday <span" in page and "before Monday to Friday" not in page


def test_the_works_label_names_every_period_of_a_range():
    from datetime import date

    from learnapp.domain.retention import WorkingWeek
    from learnapp.services.dashboard import DateRange, works_label

    week = WorkingWeek((0, 1, 2, 3, 4), ((date(2026, 3, 10), (1, 2, 3, 4, 5)), (date(2026, 3, 17), (0, 2, 4))))
    assert works_label(week, DateRange(date(2026, 3, 2), date(2026, 3, 20))) == (
        "Monday to Friday; Tuesday to Saturday from Tue 10 Mar 2026; Monday, Wednesday and Friday from Tue 17 Mar 2026")
    assert works_label(week, DateRange(date(2026, 3, 10), date(2026, 3, 16))) == "Tuesday to Saturday"
    assert works_label(week, DateRange(date(2026, 3, 2), date(2026, 3, 9))) == ""  # Monday to Friday throughout


def test_the_dashboard_counts_up_to_the_managers_own_today_and_never_a_day_to_come(content, make_user, clock, auth, client):
    """Its today was the UTC date: east of UTC a morning's drills were missing, and a range running into the future
    counted every day to come as missed (exploratory test)."""
    from datetime import datetime, timezone

    manager = make_user("manager", team="Line Islands", timezone="Pacific/Kiritimati")  # UTC+14
    rep = make_user("rep", team="Line Islands", name="Hugo", timezone="Pacific/Kiritimati")
    team_id = rep.team_id
    clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=timezone.utc))  # Monday 12:00 UTC: Tuesday 10 March, 02:00 there
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    auth.login(manager.email)
    rows = {row[0]: row for row in read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]}
    assert rows["Hugo"][5] == "2026-03-10" and rows["Hugo"][7] == "2026-03-10"  # last drill, counted until: his Tuesday
    assert rows["Hugo"][1] == "1"
    ahead = {row[0]: row for row in read_csv(client, f"/team/{team_id}/data/participation.csv?start=2026-03-02&end=2026-04-30")[1:]}
    assert ahead["Hugo"][2] == "7" and ahead["Hugo"][7] == "2026-03-10"  # 2 to 10 March, not 44 working days
    later = " ".join(client.get(f"/team/{team_id}?start=2026-04-01&end=2026-04-30").get_data(as_text=True).split())
    assert "– <span class=\"muted\">no working day yet</span>" in later and "(0%)" not in later
    assert "1 rep ·" in later


def test_a_drill_in_a_reps_own_new_day_east_of_the_manager_shows_at_once(content, make_user, clock, auth, client):
    """Kenji in Tokyo drills at 07:30 on his Thursday, while his manager in Berlin is still on Wednesday evening:
    his drill was missing from participation, last drill, the inactive list and the weekly retention until the
    manager's own day turned (the dashboard read every rep's days up to the manager's today)."""
    from datetime import datetime, timezone

    manager = make_user("manager", team="East", timezone="Europe/Berlin")
    kenji = make_user("rep", team="East", name="Kenji", timezone="Asia/Tokyo")
    lars = make_user("rep", team="East", name="Lars", timezone="America/Los_Angeles")
    team_id, kenji_id = kenji.team_id, kenji.id
    assert drill_all(kenji, clock)  # Monday 2 March, 18:00 in Tokyo: he learns the skills
    assert drill_all(lars, clock)  # Monday 2 March, 01:00 in Los Angeles
    clock.set(datetime(2026, 3, 11, 22, 30, tzinfo=timezone.utc))  # Thursday 12 March 07:30 in Tokyo; 23:30 Wed in Berlin
    assert drill_all(kenji, clock)  # after seven working days without a drill (3 to 11 March)
    kaito = make_user("rep", team="East", name="Kaito", timezone="Asia/Tokyo")  # joins on his Thursday, drills at once
    assert drill_all(kaito, clock)
    auth.login(manager.email)
    rows = {row[0]: row for row in read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]}
    assert rows["Kenji"][5] == "2026-03-12" and rows["Kenji"][7] == "2026-03-12"  # last drill, counted until
    assert rows["Kenji"][1:3] == ["2", "9"]  # 2 to 12 March in his days: 9 working days, 2 drilled
    assert rows["Kaito"][1:3] == ["1", "1"] and rows["Kaito"][5:8] == ["2026-03-12", "2026-03-12", "2026-03-12"]
    # Los Angeles is on Wednesday 11 March, 15:40: not drilled yet, so the day is under way, not missed
    assert rows["Lars"][5] == "2026-03-02" and rows["Lars"][7] == "2026-03-11" and rows["Lars"][1:3] == ["1", "7"]
    at_risk = read_csv(client, f"/team/{team_id}/data/at-risk.csv")
    # Kenji is back: not inactive; Lars's Wednesday is under way, so six of his working days are idle, not seven
    assert [row[1] for row in at_risk[1:] if row[0] == "rep"] == []
    weekly = read_csv(client, f"/team/{team_id}/data/weekly.csv")
    assert [row[0] for row in weekly[1:]] == ["2026-03-09"]  # his first reviews of Thursday, in the week of 9 March
    page = " ".join(client.get(f"/team/{team_id}").get_data(as_text=True).split())
    assert "Kenji" in page and "12 Mar 2026" in page
    # a range that ends before the manager's today ends there for everyone: his Thursday is not in it
    past = {row[0]: row for row in read_csv(client, f"/team/{team_id}/data/participation.csv?start=2026-03-02&end=2026-03-10")[1:]}
    assert past["Kenji"][5] == "2026-03-02" and past["Kenji"][7] == "2026-03-10"
    assert db.session.get(User, kenji_id).timezone == "Asia/Tokyo"


def test_a_reps_day_under_way_is_due_once_they_drill_on_it(content, make_user, clock, auth, client):
    """Before, a rep's today counted as a working day missed from its first minute: at 09:00 a rep who drills in the
    evening read 0 of 1; east of the manager, every rep dropped in the manager's afternoon."""
    from datetime import datetime, timezone

    manager = make_user("manager", team="North", timezone="Europe/Berlin")
    rep = make_user("rep", team="North", name="Rosa", timezone="Europe/Berlin")
    team_id = rep.team_id
    clock.set(datetime(2026, 3, 3, 8, 0, tzinfo=timezone.utc))  # Tuesday 09:00 in Berlin; she joined on Monday
    auth.login(manager.email)
    (row,) = read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]
    assert row[1:3] == ["0", "1"] and row[7] == "2026-03-03"  # Monday missed; Tuesday under way, not yet due
    drill_all(rep, clock)
    (row,) = read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]
    assert row[1:3] == ["1", "2"] and row[5] == "2026-03-03"


def test_the_skill_page_counts_a_west_reps_evening_answers_on_the_ranges_last_day(content, make_user, clock, auth, client):
    """Its answers were read up to midnight UTC after the range's last day: a rep in Los Angeles answering at 20:00
    there on that day (04:00 UTC the next day) was left out."""
    from datetime import datetime, timezone

    manager = make_user("manager", team="West", timezone="Europe/Berlin")
    rep = make_user("rep", team="West", name="Lou", timezone="America/Los_Angeles")
    team_id = rep.team_id
    clock.set(datetime(2026, 3, 4, 3, 0, tzinfo=timezone.utc))  # Tuesday 3 March, 19:00 in Los Angeles
    assert drill_all(rep, clock)
    skill = db.session.scalars(db.select(Attempt.skill_id)).first()
    n = db.session.scalar(db.select(db.func.count(Attempt.id)).where(Attempt.skill_id == skill))
    clock.set(datetime(2026, 3, 6, 12, 0, tzinfo=timezone.utc))
    auth.login(manager.email)
    page = " ".join(client.get(f"/team/{team_id}/skill/{skill}?start=2026-03-02&end=2026-03-03").get_data(as_text=True).split())
    assert f"{n} answers from Mon 02 Mar 2026 to Tue 03 Mar 2026" in page


def test_a_reps_day_under_way_is_not_an_idle_day_on_the_inactive_list_either(content, make_user, clock, auth, client):
    """Participation does not count a rep's today, still under way, as missed; the inactive list counted it as idle, so
    a rep east of the manager was listed from the manager's afternoon on their seventh day, beside a participation
    row saying six working days were missed."""
    from datetime import datetime, timezone

    manager = make_user("manager", team="East", timezone="Europe/Berlin")
    rep = make_user("rep", team="East", name="Toshi", timezone="Asia/Tokyo")
    team_id = rep.team_id
    assert drill_all(rep, clock)  # Monday 2 March, 18:00 in Tokyo
    clock.set(datetime(2026, 3, 10, 16, 30, tzinfo=timezone.utc))  # Wednesday 11 March 01:30 in Tokyo; 17:30 Tue in Berlin
    auth.login(manager.email)
    (row,) = read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]
    assert row[1:3] == ["1", "7"]  # 3 to 10 March missed: six working days; Wednesday 11 March under way
    at_risk = read_csv(client, f"/team/{team_id}/data/at-risk.csv")
    assert [row[1] for row in at_risk[1:] if row[0] == "rep"] == []
    clock.set(datetime(2026, 3, 11, 15, 30, tzinfo=timezone.utc))  # Thursday 12 March 00:30 in Tokyo: Wednesday missed
    (row,) = read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]
    assert row[1:3] == ["1", "8"]
    at_risk = read_csv(client, f"/team/{team_id}/data/at-risk.csv")
    assert [row[1] for row in at_risk[1:] if row[0] == "rep"] == ["Toshi"]


def test_a_refused_change_of_working_days_focuses_the_field_in_error(content, make_user, auth, client):
    # before, no field took the focus (the page lands on #working-days, where browsers skip autofocus), and the day field
    # was marked invalid when no weekday was ticked
    import re

    manager, rep = make_user("manager", team="North"), make_user("rep", team="North")
    auth.login(manager.email)
    token = csrf_token(client, f"/team/rep/{rep.id}")
    no_day = client.post(f"/team/rep/{rep.id}/working-days", data={"since": "", "csrf_token": token})
    assert no_day.status_code == 400
    page = no_day.get_data(as_text=True)
    boxes = re.findall(r'<input type="checkbox" name="day"[^>]*>', page)
    assert len(boxes) == 7 and "autofocus" in boxes[0] and 'aria-invalid="true"' in boxes[0]
    assert not any("autofocus" in box for box in boxes[1:])
    assert "aria-invalid" not in re.search(r'<input type="date" name="since"[^>]*>', page).group(0)
    bad_day = client.post(f"/team/rep/{rep.id}/working-days", data={"day": ["0"], "since": "soon", "csrf_token": token})
    page = bad_day.get_data(as_text=True)
    since = re.search(r'<input type="date" name="since"[^>]*>', page).group(0)
    assert bad_day.status_code == 400 and "autofocus" in since and 'aria-invalid="true"' in since
    assert "autofocus" not in " ".join(re.findall(r'<input type="checkbox" name="day"[^>]*>', page))


def test_csvs_name_each_skill_by_its_title_beside_its_id(org, auth, client, clock):
    """Before: the CSVs named skills by id only (days-out), while the pages show titles (walk-through)."""
    from learnapp.models import Skill

    titles = {s.id: s.title for s in db.session.scalars(db.select(Skill))}
    auth.login(org["manager"].email)
    team = org["rep"].team_id
    clock.advance(timedelta(days=120))  # recall has fallen: skills at risk
    recall = read_csv(client, f"/team/{team}/data/recall.csv")
    ids = recall[0][1:]
    assert recall[0][0] == "rep" and ids and set(ids) <= set(titles)  # the header keeps the ids
    assert [row[0] for row in recall[1:]] == ["Paco", "Rita"]  # a line per rep, no line of titles among them
    at_risk = read_csv(client, f"/team/{team}/data/at-risk.csv")
    assert at_risk[0] == ["kind", "who or what", "title", "mean predicted recall", "reps under 70% / note"]
    skills = [row for row in at_risk[1:] if row[0] == "skill"]
    assert skills and all(row[2] == titles[row[1]] for row in skills)


def test_a_new_teams_first_dashboard_does_not_say_everyone_drilled(content, make_user, clock, auth, client):
    """A team imported this morning, one rep of three through their first drill: the dashboard said "Everyone drilled
    in the last 7 working days." Now it says nobody has gone that long without one, and how many have not begun."""
    manager = make_user("manager", team="Field North")
    first, *others = [make_user("rep", team="Field North", name=name) for name in ("Anna", "Ben", "Clara")]
    while (item := drill.current_item(first, clock.now())) is not None:
        drill.submit_answer(first, item.presentation.token, right_answer(item), clock.now())
    auth.login(manager.email)
    page = " ".join(client.get(f"/team/{first.team_id}").get_data(as_text=True).split())
    assert "Everyone drilled" not in page
    assert ("Nobody has gone 7 working days without a drill; 2 of 3 reps have not drilled in this range yet "
            '(see <a href="#participation">Participation</a>).') in page
    # their minutes per drilled day: none, not "0.0" minutes (the CSV keeps its number)
    assert re.search(r'>Ben</a></td><td>[^<]*<span class="muted">[^<]*</span></td> <td>–</td><td>–</td></tr>', page), page
    assert re.search(r'>Anna</a></td><td>1 / 1 \(100%\) <span class="muted">since [^<]*</span></td> <td>\d+\.\d</td>', page)
    for rep in others:
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, wrong_answer(item), clock.now())
    page = " ".join(client.get(f"/team/{first.team_id}").get_data(as_text=True).split())
    assert "Nobody has gone 7 working days without a drill.</p>" in page
