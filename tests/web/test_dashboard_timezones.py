"""Managers and reps far apart: a manager at UTC-11 (Pago Pago) and a rep at UTC+14 (Kiritimati) are 25 hours apart, so
for an hour a day the rep is two dates ahead of the manager. Each rep's days are the rep's own local days; the manager's
"this week" is the manager's. Also: the pages a manager of one team (or of none) can reach all open."""

import re
from datetime import datetime, timedelta, timezone

from learnapp.extensions import db
from learnapp.models import Attempt, MemoryStateRow, User
from learnapp.services import drill
from learnapp.services.drill import local_day
from tests.helpers import drill_all
from tests.web.test_dashboard import read_csv

MANAGER_ZONE, REP_ZONE = "Pacific/Pago_Pago", "Pacific/Kiritimati"  # UTC-11 and UTC+14, no daylight saving


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def _two_dates_ahead(make_user, clock):
    """Tara at UTC+14 drills on her Monday 2 March and on her Friday 6 March at 00:30, while her manager at UTC-11 is on
    Wednesday 4 March, 23:30 (10:30 UTC on Thursday 5 March)."""
    manager = make_user("manager", team="Dateline", timezone=MANAGER_ZONE)
    rep = make_user("rep", team="Dateline", name="Tara", timezone=REP_ZONE)  # Monday 2 March, 23:00 in Kiritimati
    assert drill_all(rep, clock)  # her Monday 2 March
    clock.set(datetime(2026, 3, 5, 10, 30, tzinfo=timezone.utc))
    assert local_day(rep, clock.now()).isoformat() == "2026-03-06" and local_day(manager, clock.now()).isoformat() == "2026-03-04"
    assert drill_all(rep, clock)  # her Friday 6 March, 00:30
    return manager, rep


def test_a_rep_two_dates_ahead_shows_their_own_days_on_the_dashboard(content, make_user, clock, auth, client):
    """The dashboard and participation count the rep's own days, Friday's drill included; the last drill read
    "Fri 06 Mar 2026" on the manager's Wednesday with nothing saying it is the rep's today, not a day to come."""
    manager, rep = _two_dates_ahead(make_user, clock)
    team_id = rep.team_id
    auth.login(manager.email)
    (row,) = read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]
    # her Monday and Friday drilled, Tuesday to Thursday missed (all over in Kiritimati); counted to her Friday
    assert row[1:3] == ["2", "5"] and row[5] == "2026-03-06" and row[7] == "2026-03-06"
    recall = read_csv(client, f"/team/{team_id}/data/recall.csv")
    assert "today" in recall[1]  # the skills of her Friday drill are "practised today", her today
    page = _text(client.get(f"/team/{team_id}"))
    assert "Fri 06 Mar 2026 <span class=\"muted\">(their today)</span>" in page
    assert "to Wed 04 Mar 2026 (to Fri 06 Mar 2026 for reps already past it, in their own days)</p>" in page
    # a range ending before the manager's today ends there for her too: her last drill is on its last day, no note
    past = _text(client.get(f"/team/{team_id}?start=2026-03-01&end=2026-03-03"))
    assert "Mon 02 Mar 2026</td>" in past and "(their today)" not in past and "already past it" not in past


def test_the_skill_page_says_its_answers_run_to_the_own_today_of_a_rep_ahead(content, make_user, clock, auth, client):
    """It said "answers from ... to Wed 04 Mar 2026" while counting the answers of the rep's Friday 6 March."""
    manager, rep = _two_dates_ahead(make_user, clock)
    team_id = rep.team_id
    skill = db.session.scalars(db.select(Attempt.skill_id).order_by(Attempt.id.desc())).first()
    n = db.session.scalar(db.select(db.func.count(Attempt.id)).where(Attempt.skill_id == skill))
    auth.login(manager.email)
    page = _text(client.get(f"/team/{team_id}/skill/{skill}"))
    assert f"{n} answers from " in page and "to Wed 04 Mar 2026 (to Fri 06 Mar 2026 for reps already past it, in their own days)," in page
    past = _text(client.get(f"/team/{team_id}/skill/{skill}?start=2026-03-01&end=2026-03-03"))
    assert "to Tue 03 Mar 2026, " in past and "already past it" not in past


def test_a_last_drill_on_a_reps_yesterday_still_ahead_of_the_manager_says_so(content, make_user, clock, auth, client):
    manager = make_user("manager", team="Dateline", timezone=MANAGER_ZONE)
    rep = make_user("rep", team="Dateline", name="Tara", timezone=REP_ZONE)
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc))  # her Thursday 5 March, 00:00; Tuesday 23:00 in Pago Pago
    assert drill_all(rep, clock)
    clock.set(datetime(2026, 3, 5, 10, 30, tzinfo=timezone.utc))  # her Friday 00:30, not drilled; the manager's Wednesday
    auth.login(manager.email)
    page = _text(client.get(f"/team/{rep.team_id}"))
    assert "Thu 05 Mar 2026 <span class=\"muted\">(their yesterday)</span>" in page


def test_the_participation_csv_says_whose_day_a_last_drill_is_as_the_page_does(content, make_user, clock, auth, client):
    """The page notes "(their today)" beside a last drill dated after the manager's today; the CSV had the bare date
    under "last drill", a day still to come to a manager reading it in a spreadsheet. Now its header says the days are
    the rep's own, and each row gives the rep's timezone and their today when it was exported (a note relative to the
    export would be wrong once the file is read later): the last drill is the rep's today exactly when the page says so."""
    manager, rep = _two_dates_ahead(make_user, clock)
    near = make_user("rep", team="Dateline", name="Ursula", timezone=MANAGER_ZONE)
    assert drill_all(near, clock)  # her (and the manager's) Wednesday 4 March
    auth.login(manager.email)
    header, *rows = read_csv(client, f"/team/{rep.team_id}/data/participation.csv")
    assert header[5] == "last drill (rep's own day)" and header[9:] == ["rep's timezone", "rep's today at export"]
    rows = {row[0]: row for row in rows}
    assert rows["Tara"][5] == "2026-03-06" and rows["Tara"][9:] == [REP_ZONE, "2026-03-06"]
    assert rows["Ursula"][5] == "2026-03-04" and rows["Ursula"][9:] == [MANAGER_ZONE, "2026-03-04"]
    page = _text(client.get(f"/team/{rep.team_id}"))
    assert "Fri 06 Mar 2026 <span class=\"muted\">(their today)</span>" in page
    assert "Wed 04 Mar 2026</td>" in page  # the manager's today too: no note, on the page as in the file
    assert "<th scope=\"col\">rep&#39;s timezone</th>" in page  # the page's table view is the file's


def test_a_last_drill_on_a_reps_yesterday_reads_one_day_before_their_today_in_the_csv(content, make_user, clock, auth,
                                                                                         client):
    manager = make_user("manager", team="Dateline", timezone=MANAGER_ZONE)
    rep = make_user("rep", team="Dateline", name="Tara", timezone=REP_ZONE)
    clock.set(datetime(2026, 3, 4, 10, 0, tzinfo=timezone.utc))  # her Thursday 5 March, 00:00
    assert drill_all(rep, clock)
    clock.set(datetime(2026, 3, 5, 10, 30, tzinfo=timezone.utc))  # her Friday 00:30; the manager's Wednesday
    auth.login(manager.email)
    (row,) = read_csv(client, f"/team/{rep.team_id}/data/participation.csv")[1:]
    assert row[5] == "2026-03-05" and row[9:] == [REP_ZONE, "2026-03-06"]  # the page: "(their yesterday)"


def test_a_reps_page_shows_next_due_days_in_the_reps_own_days(content, make_user, clock, auth, client):
    """The rep's page showed the manager each skill's next due day in the manager's timezone: two dates before the day
    the skill comes back in the rep's drill (a skill due at 00:30 on her Sunday read as the manager's Friday)."""
    manager, rep = _two_dates_ahead(make_user, clock)
    rep_id = rep.id
    auth.login(manager.email)
    rep_user = db.session.get(User, rep_id)
    states = db.session.scalars(db.select(MemoryStateRow).where(MemoryStateRow.user_id == rep_id)).all()
    days = {local_day(rep_user, s.due if s.due.tzinfo else s.due.replace(tzinfo=timezone.utc)) for s in states}
    assert any(day.weekday() == 6 for day in days)  # her Sunday: a day off, so the page shows her Monday, as the drill does
    hers = {f"{day + timedelta(days=7 - day.weekday() if day.weekday() >= 5 else 0):%a %d %b %Y}" for day in days}
    page = _text(client.get(f"/team/rep/{rep_id}"))
    shown = set(re.findall(r"<td>(\w{3} \d\d \w{3} \d{4})</td>", page))
    assert shown == hers and "Next due <span class=\"muted\">(Tara's day)</span>" in page


def test_a_week_not_begun_for_the_manager_adds_no_weekly_point(content, make_user, clock, auth, client):
    """On Sunday evening in Berlin a rep in Tokyo is in Monday already: his first reviews of Monday made a point for the
    week of 9 March on the true-retention-by-week chart, a week that had not begun for the manager, dated in the
    future. The week's points are the manager's weeks: his Monday joins the curve when the manager's Monday comes,
    while participation and the retention-since-learning curve show his drill at once."""
    manager = make_user("manager", team="East", timezone="Europe/Berlin")
    rep = make_user("rep", team="East", name="Kenji", timezone="Asia/Tokyo")
    team_id = rep.team_id
    assert drill_all(rep, clock)  # Monday 2 March, 18:00 in Tokyo: he learns the skills
    clock.set(datetime(2026, 3, 4, 0, 30, tzinfo=timezone.utc))  # Wednesday 09:30 in Tokyo: first reviews
    assert drill_all(rep, clock)
    clock.set(datetime(2026, 3, 8, 22, 30, tzinfo=timezone.utc))  # Sunday 23:30 in Berlin, Monday 9 March 07:30 in Tokyo
    assert drill_all(rep, clock)
    auth.login(manager.email)
    weekly = read_csv(client, f"/team/{team_id}/data/weekly.csv")
    assert [row[0] for row in weekly[1:]] == ["2026-03-02"]
    (row,) = read_csv(client, f"/team/{team_id}/data/participation.csv")[1:]
    assert row[5] == "2026-03-09"  # his Monday's drill is in participation at once
    retention_before = sum(int(r[1]) for r in read_csv(client, f"/team/{team_id}/data/retention.csv")[1:])
    assert retention_before > int(weekly[1][1])  # and in the retention since learning
    # an explicit range into the next week: still the manager's weeks only
    ahead = read_csv(client, f"/team/{team_id}/data/weekly.csv?start=2026-03-01&end=2026-03-15")
    assert [row[0] for row in ahead[1:]] == ["2026-03-02"]
    clock.set(datetime(2026, 3, 8, 23, 30, tzinfo=timezone.utc))  # Monday 00:30 in Berlin: the week has begun
    weekly = read_csv(client, f"/team/{team_id}/data/weekly.csv")
    assert [row[0] for row in weekly[1:]] == ["2026-03-02", "2026-03-09"]


def test_a_rep_ahead_of_the_manager_gets_todays_drill_in_their_own_morning(content, make_user, clock, auth, client):
    """An older note said a rep east of the manager saw no drill until the manager's day turned. At 10:30 UTC on
    Monday it is Tuesday 00:30 in Kiritimati and still Sunday in Pago Pago: Tuesday's drill is there (new skills, as
    Monday's three were introduced on Monday)."""
    make_user("manager", team="Dateline", timezone=MANAGER_ZONE)
    rep = make_user("rep", team="Dateline", name="Tara", timezone=REP_ZONE)
    assert drill_all(rep, clock)  # Monday 2 March, 23:00 in Kiritimati
    auth.login(rep.email)
    assert 'name="token"' not in client.get("/drill/").get_data(as_text=True)  # Monday's drill is done
    clock.set(datetime(2026, 3, 2, 10, 30, tzinfo=timezone.utc))
    page = client.get("/drill/")
    assert page.status_code == 200
    assert 'name="token"' in page.get_data(as_text=True)  # a question to answer, not the summary of Monday
    assert drill.current_item(rep, clock.now()) is not None


def _crawl(client, start: str, limit: int = 200) -> dict[str, int]:
    """GET every link of the team pages reachable from ``start`` (following redirects), within the site: {url: status}."""
    seen: dict[str, int] = {}
    queue = [start]
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen:
            continue
        response = client.get(url, follow_redirects=True)
        seen[url] = response.status_code
        if response.mimetype != "text/html" or not (url.startswith("/team") or url == "/"):
            continue
        for href in re.findall(r'href="(/[^"#]*)', response.get_data(as_text=True)):
            href = href.replace("&amp;", "&")
            if not href.startswith("/static/") and "/data/" not in href and href not in seen:
                queue.append(href)
    return seen


def test_a_manager_of_one_team_reaches_no_dead_end(content, make_user, clock, auth, client):
    """A manager of one team has no team list (it opens their dashboard): every link of the dashboard, the rep and skill
    pages, and the way back from them, opens a page; none leads to a 403 or 404. A rep who left and one who moved
    to another team are on the participation table too."""
    from learnapp.services.users import update_account

    admin = make_user("admin", team=None)
    manager = make_user("manager", team="North")
    rita, lea, mo, pia, tom = (make_user("rep", team="North", name=name) for name in ("Rita", "Lea", "Mo", "Pia", "Tom"))
    south = make_user("rep", team="South", name="Sven").team_id
    for rep in (rita, lea, mo, pia, tom):
        assert drill_all(rep, clock)
    clock.advance(timedelta(days=2))
    update_account(lea, name="Lea", email=lea.email, role="rep", timezone=lea.timezone, team_id=lea.team_id, leads=[],
                   active=False, by=admin, now=clock.now())
    update_account(mo, name="Mo", email=mo.email, role="rep", timezone=mo.timezone, team_id=south, leads=[],
                   active=True, by=admin, now=clock.now())
    update_account(pia, name="Pia", email=pia.email, role="manager", timezone=pia.timezone, team_id=None, leads=[south],
                   active=True, by=admin, now=clock.now())  # promoted: she leads South now
    update_account(tom, name="Tom", email=tom.email, role="trainer", timezone=tom.timezone, team_id=tom.team_id, leads=[],
                   active=True, by=admin, now=clock.now())
    clock.advance(timedelta(days=1))
    auth.login(manager.email)
    assert client.get("/team/").headers["Location"].endswith(f"/team/{rita.team_id}")
    seen = _crawl(client, "/")
    board = _text(client.get(f"/team/{rita.team_id}"))
    participation = board[board.index('id="participation"'):]
    assert all(name in participation for name in ("Rita", "Lea", "Mo", "Pia", "Tom"))
    for page in (f"/team/rep/{rita.id}?", f"/team/rep/{lea.id}?", f"/team/{rita.team_id}/skill/"):
        assert any(url.startswith(page) for url in seen)
    assert {url: status for url, status in seen.items() if status != 200} == {}


def test_a_manager_of_no_team_sees_a_clear_page(content, make_user, auth, client):
    manager = make_user("manager", team=None)
    other = make_user("rep", team="South", name="Sven")
    auth.login(manager.email)
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200
    text = _text(page)
    assert "You do not lead a team yet" in text and "an admin" in text.lower()
    assert client.get(f"/team/{other.team_id}").status_code == 404 and client.get(f"/team/rep/{other.id}").status_code == 404
    seen = _crawl(client, "/")
    assert {url: status for url, status in seen.items() if status != 200} == {}
