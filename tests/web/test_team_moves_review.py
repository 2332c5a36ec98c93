"""Review of team moves (0014) and the dashboard's today: each test is a defect found by the review."""

from datetime import date, datetime, timedelta, timezone

from learnapp.extensions import db
from learnapp.models import Team, User
from learnapp.services import drill
from learnapp.services import users as users_service
from learnapp.services.dashboard import DateRange, team_dashboard
from tests.helpers import right_answer


def _drill_today(user_id, clock):
    rep = db.session.get(User, user_id)
    if drill.current_item(rep, clock.now()) is None:
        drill.practise_more(rep, clock.now())
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())


def _drill_week(user_id, clock):  # Monday to Friday drilled, then to the next Monday
    for _ in range(5):
        _drill_today(user_id, clock)
        clock.advance(timedelta(days=1))
    clock.advance(timedelta(days=2))


def _change(user_id, admin_id, clock, *, team_id, active=True, role="rep"):
    user = db.session.get(User, user_id)
    users_service.update_account(user, name=user.name, email=user.email, role=role, timezone=user.timezone,
                                 team_id=team_id, leads=[], active=active, by=db.session.get(User, admin_id),
                                 now=clock.now())


def _team_id(name):
    return db.session.scalars(db.select(Team.id).filter_by(name=name)).one()


def _row(board, user_id):
    return next((p for p in board.participation if p.user_id == user_id), None)


def test_a_rep_deactivated_then_moved_out_counts_in_the_old_team_only_until_they_left(content, make_user, clock, auth, client):
    """Deactivated on 9 March, moved to No team on 16 March (as delete_team asks): North counted the week they
    were gone as missed, 5 of 10 instead of 5 of 5, 'until 15 Mar (moved to no team)' instead of until 8 Mar."""
    admin = make_user("admin", team=None)
    manager_email = make_user("manager", team="North").email
    mo = make_user("rep", team="North", name="Mo")
    mo_id, admin_id, north = mo.id, admin.id, mo.team_id
    _drill_week(mo_id, clock)  # 2 to 6 March
    _change(mo_id, admin_id, clock, team_id=north, active=False)  # Monday 9 March: deactivated, still in North
    clock.advance(timedelta(days=7))
    _change(mo_id, admin_id, clock, team_id=None, active=False)  # Monday 16 March: to No team
    clock.advance(timedelta(days=4))
    board = team_dashboard(db.session.get(Team, north), DateRange(date(2026, 3, 2), date(2026, 3, 20)), clock.now())
    row = _row(board, mo_id)
    assert (row.days_drilled, row.working_days, row.counted_until) == (5, 5, date(2026, 3, 8))
    auth.login(manager_email)
    page = " ".join(client.get(f"/team/{north}?start=2026-03-02&end=2026-03-20").get_data(as_text=True).split())
    assert "until Sun 08 Mar 2026 (left on Mon 09 Mar 2026)" in page


def test_a_rep_who_was_in_the_team_only_after_the_range_has_no_row(content, make_user, clock):
    """In North from 9 to 15 March only: North's range of 2 to 6 March showed him with 0 of 0 working days."""
    admin = make_user("admin", team=None)
    make_user("rep", team="North", name="Nel")
    make_user("rep", team="East", name="Eve")
    mo = make_user("rep", team="South", name="Mo")
    mo_id, admin_id, north, east = mo.id, admin.id, _team_id("North"), _team_id("East")
    clock.advance(timedelta(days=7))
    _change(mo_id, admin_id, clock, team_id=north)  # Monday 9 March
    clock.advance(timedelta(days=7))
    _change(mo_id, admin_id, clock, team_id=east)  # Monday 16 March
    board = team_dashboard(db.session.get(Team, north), DateRange(date(2026, 3, 2), date(2026, 3, 6)), clock.now())
    assert mo_id not in board.people and _row(board, mo_id) is None


def test_moved_to_names_the_team_they_moved_to_not_their_team_now(content, make_user, clock):
    """North to South on 9 March, South to East on 16 March: North said 'moved to East on Mon 09 Mar'."""
    admin = make_user("admin", team=None)
    make_user("rep", team="South", name="Sia")
    make_user("rep", team="East", name="Eve")
    mo = make_user("rep", team="North", name="Mo")
    mo_id, admin_id, north, south, east = mo.id, admin.id, mo.team_id, _team_id("South"), _team_id("East")
    clock.advance(timedelta(days=7))
    _change(mo_id, admin_id, clock, team_id=south)
    clock.advance(timedelta(days=7))
    _change(mo_id, admin_id, clock, team_id=east)
    board = team_dashboard(db.session.get(Team, north), DateRange(date(2026, 3, 2), date(2026, 3, 20)), clock.now())
    assert board.moved[mo_id] == (date(2026, 3, 9), "South")


def test_a_rep_west_of_the_manager_is_not_due_on_a_day_that_has_not_begun_for_them(content, make_user, clock, auth, client):
    """The manager's today (Tuesday in Kiritimati) capped every rep: a Los Angeles rep, still on his Monday, was
    due on Tuesday already: 1 of 2 and 'counted until 10 Mar' after drilling every working day he had had."""
    import csv
    import io

    manager = make_user("manager", team="Line Islands", timezone="Pacific/Kiritimati")  # UTC+14
    rep = make_user("rep", team="Line Islands", name="Lou", timezone="America/Los_Angeles")
    team_id, manager_email = rep.team_id, manager.email
    clock.set(datetime(2026, 3, 9, 16, 0, tzinfo=timezone.utc))  # Monday 09:00 in LA; Tuesday 06:00 in Kiritimati
    db.session.get(User, rep.id).created_at = clock.now()
    db.session.commit()
    _drill_today(rep.id, clock)
    auth.login(manager_email)
    rows = list(csv.reader(io.StringIO(client.get(f"/team/{team_id}/data/participation.csv").get_data(as_text=True))))
    lou = next(r for r in rows[1:] if r[0] == "Lou")
    assert lou[1:3] == ["1", "1"] and lou[7] == "2026-03-09"


def test_a_new_team_does_not_inherit_the_moves_of_a_deleted_team(content, make_user, clock):
    """Moves keep team ids without a foreign key; SQLite (the default) gives a new team the id of the last team
    deleted, so the new team's dashboard showed a rep who had passed through the deleted one, counted on days
    before the new team existed ('moved to East')."""
    admin = make_user("admin", team=None)
    make_user("rep", team="East", name="Eve")
    mo = make_user("rep", team="North", name="Mo")
    mo_id, admin_id, east = mo.id, admin.id, _team_id("East")
    gone = users_service.create_team("Gone").id
    clock.advance(timedelta(days=7))
    _change(mo_id, admin_id, clock, team_id=gone)  # 9 March
    clock.advance(timedelta(days=7))
    _change(mo_id, admin_id, clock, team_id=east)  # 16 March
    users_service.delete_team(db.session.get(Team, gone))
    fresh = users_service.create_team("Fresh")
    board = team_dashboard(fresh, DateRange(date(2026, 3, 2), date(2026, 3, 20)), clock.now())
    assert mo_id not in board.people
    north = team_dashboard(db.session.get(Team, _team_id("North")), DateRange(date(2026, 3, 2), date(2026, 3, 20)),
                           clock.now())
    assert _row(north, mo_id).counted_until == date(2026, 3, 8)  # the old team still ends his days there


def test_the_dashboard_reads_the_moves_in_a_fixed_number_of_queries(content, make_user, clock, auth, client):
    """'moved to …' read each destination team lazily: one query per team the movers went to."""
    from sqlalchemy import event

    admin = make_user("admin", team=None)
    manager = make_user("manager", team="North")
    movers = [make_user("rep", team="North") for _ in range(6)]
    for i in range(6):
        make_user("rep", team=f"T{i}")
    north, admin_id, manager_email = movers[0].team_id, admin.id, manager.email
    clock.advance(timedelta(days=3))
    auth.login(manager_email)

    def queries():
        db.session.expire_all()
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(f"/team/{north}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    _change(movers[0].id, admin_id, clock, team_id=_team_id("T0"))
    one_team = queries()
    for i, rep in enumerate(movers[1:], start=1):
        _change(rep.id, admin_id, clock, team_id=_team_id(f"T{i}"))
    assert queries() == one_team


def test_moved_out_on_the_day_they_joined_and_back_later_counts_from_coming_back():
    """Made in North on 2 March and moved to South that day (a mistake put right), back in North on 9 March: North
    counted him 'from 2 March' (CSV, the 'since' note, the works label), his week in South a gap."""
    from learnapp.domain.retention import stint_bounds, team_stints

    north, south = 1, 2
    moves = [(date(2026, 3, 2), north, south), (date(2026, 3, 9), south, north)]
    assert stint_bounds(team_stints(moves, north), date(2026, 3, 2), None) == (date(2026, 3, 9), None, set())
    # only a stint before their first day: nothing counted (the last day before the first)
    start, end, _ = stint_bounds(team_stints(moves[:1], north), date(2026, 3, 2), None)
    assert end < start


def test_the_old_team_does_not_see_a_moved_out_rep_drill_for_the_new_team(content, make_user, clock, auth, client):
    """North to South on Monday 9 March, then a week of drills in South: North's 'last drill' for him said
    Fri 13 Mar, a day of South's, though North's row counted him only until 8 March."""
    admin = make_user("admin", team=None)
    make_user("rep", team="South", name="Sia")
    manager_email = make_user("manager", team="North").email
    mo = make_user("rep", team="North", name="Mo")
    mo_id, admin_id, north, south = mo.id, admin.id, mo.team_id, _team_id("South")
    _drill_week(mo_id, clock)  # 2 to 6 March, in North
    _change(mo_id, admin_id, clock, team_id=south)  # Monday 9 March
    _drill_week(mo_id, clock)  # 9 to 13 March, in South
    span = DateRange(date(2026, 3, 2), date(2026, 3, 13))
    row = _row(team_dashboard(db.session.get(Team, north), span, clock.now()), mo_id)
    assert (row.days_drilled, row.working_days, row.last_day) == (5, 5, date(2026, 3, 6))
    assert _row(team_dashboard(db.session.get(Team, south), span, clock.now()), mo_id).last_day == date(2026, 3, 13)
    auth.login(manager_email)
    import csv
    import io
    text = client.get(f"/team/{north}/data/participation.csv?start=2026-03-02&end=2026-03-13").get_data(as_text=True)
    mo_row = next(r for r in csv.reader(io.StringIO(text)) if r[0] == "Mo")
    assert mo_row[1:3] + mo_row[5:8] == ["5", "5", "2026-03-06", "2026-03-02", "2026-03-08"]
