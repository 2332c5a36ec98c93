"""Admins manage people in the app: add accounts and teams, change a role or team, deactivate, replace a password."""

from learnapp.extensions import db
from learnapp.models import Team, User
from learnapp.services import drill
from tests.conftest import csrf_token
from tests.helpers import right_answer, sqlite_write_lock_free


def _post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def test_only_admins_see_people_and_every_change_needs_a_csrf_token(make_user, auth, client):
    admin, rep = make_user("admin", team=None), make_user("rep")
    rep_id, team_id = rep.id, rep.team_id
    for role in ("rep", "trainer", "manager"):
        auth.login(make_user(role, team=None).email)
        assert client.get("/admin/people").status_code == 403
        assert client.get(f"/admin/people/{rep_id}").status_code == 403
        assert client.get(f"/admin/teams/{team_id}").status_code == 403
        assert _post(client, f"/admin/teams/{team_id}/delete", "/settings").status_code == 403
        assert _post(client, f"/admin/people/{rep_id}", "/settings", name="x", role="admin", active="y").status_code == 403
        assert "/admin/people" not in client.get("/settings").get_data(as_text=True)
    auth.login(admin.email)
    assert 'href="/admin/people">People</a>' in client.get("/settings").get_data(as_text=True)
    assert client.post(f"/admin/people/{rep_id}", data={"name": "x", "role": "admin", "active": "y"}).status_code == 400
    assert client.post("/admin/teams", data={"name": "Sneaky"}).status_code == 400
    assert db.session.get(User, rep_id).role == "rep" and db.session.scalars(db.select(Team).filter_by(name="Sneaky")).first() is None
    assert client.get("/admin/people/999999").status_code == 404


def test_an_admin_adds_a_team_and_a_rep_who_can_log_in_and_drill(content, make_user, auth, client):
    auth.login(make_user("admin", team=None).email)
    response = _post(client, "/admin/teams", "/admin/people", name="  Field   North ")
    assert response.status_code == 303 and "Team Field North created" in _text(client.get(response.headers["Location"]))
    response = _post(client, "/admin/teams", "/admin/people", name="field north")
    assert response.status_code == 400 and "A team named field north exists already." in _text(response)
    team_id = db.session.scalars(db.select(Team.id).filter_by(name="Field North")).one()
    response = _post(client, "/admin/people", "/admin/people", email="New.Rep@Example.com", name="Nia", role="rep",
                     team=str(team_id), timezone="Europe/Berlin", password="first-pass-123")
    assert response.status_code == 303
    assert "Nia (new.rep@example.com) can now log in as a rep." in _text(client.get(response.headers["Location"]))
    nia = db.session.scalars(db.select(User).filter_by(email="new.rep@example.com")).one()
    assert (nia.team.name, nia.timezone, nia.role) == ("Field North", "Europe/Berlin", "rep")
    auth.login("new.rep@example.com", "first-pass-123")
    assert client.get("/drill/").status_code == 200


def test_a_bad_new_account_is_refused_with_the_form_as_typed(make_user, auth, client):
    auth.login(make_user("admin", team=None).email)
    existing = make_user("rep").email
    cases = [
        (dict(email="not-an-email", name="A", role="rep", team="", timezone="UTC", password="long-enough-1"), "is not an email address."),
        (dict(email=existing, name="A", role="rep", team="", timezone="UTC", password="long-enough-1"), "exists already."),
        (dict(email="a@example.com", name="A", role="rep", team="", timezone="UTC", password="short"), "at least 8 characters."),
        (dict(email="a@example.com", name="A", role="boss", team="", timezone="UTC", password="long-enough-1"), "Not a valid choice."),
        (dict(email="a@example.com", name="A", role="rep", team="999", timezone="UTC", password="long-enough-1"), "Not a valid choice."),
        (dict(email="a@example.com", name="A", role="rep", team="", timezone="Mars/Base", password="long-enough-1"), "Not a valid choice."),
        (dict(email="a@example.com", name="", role="rep", team="", timezone="UTC", password="long-enough-1"), "Give a name."),
        (dict(email="a@example.com", name="A" * 121, role="rep", team="", timezone="UTC", password="long-enough-1"), "120 characters"),
    ]
    before = db.session.scalar(db.select(db.func.count()).select_from(User))
    for data, message in cases:
        response = _post(client, "/admin/people", "/admin/people", **data)
        page = _text(response)
        assert response.status_code == 400 and message in page, (data, message)
        assert f'value="{data["email"]}"' in page  # as typed
    assert db.session.scalar(db.select(db.func.count()).select_from(User)) == before


def test_a_deactivated_rep_is_logged_out_and_leaves_the_dashboard(content, make_user, auth, client, clock):
    from learnapp.web.main import load_user

    admin, manager = make_user("admin", team=None), make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Leaving Lou")
    rep_id, rep_email, team_id, manager_email, admin_email = rep.id, rep.email, rep.team_id, manager.email, admin.email
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    their_login = rep.get_id()  # what their browser's session holds
    assert load_user(their_login) is not None
    auth.login(admin_email)
    response = _post(client, f"/admin/people/{rep_id}", f"/admin/people/{rep_id}", name="Leaving Lou", role="rep",
                     team=str(team_id))  # "active" unticked
    assert response.status_code == 303
    assert "They are logged out and can no longer log in." in _text(client.get(response.headers["Location"]))
    assert load_user(their_login) is None  # the session they had ended
    page = _text(client.get("/admin/people"))
    assert "Leaving Lou</a></th><td>" in page and "<td>deactivated</td>" in page
    response = auth.login(rep_email)
    assert response.status_code == 400
    auth.login(manager_email)
    assert "Leaving Lou" not in client.get(f"/team/{team_id}").get_data(as_text=True)
    assert client.get(f"/team/rep/{rep_id}").status_code == 200  # their history is still there to look at


def test_an_admin_moves_people_between_teams_and_roles(make_user, auth, client):
    admin = make_user("admin", team=None)
    rep, manager = make_user("rep", team="North", name="Rosa"), make_user("manager", team="North")
    south = make_user("rep", team="South").team_id
    north = rep.team_id
    rep_id, manager_id, manager_email = rep.id, manager.id, manager.email
    auth.login(admin.email)
    page = f"/admin/people/{rep_id}"
    assert _post(client, page, page, name="Rosa", role="rep", team=str(south), active="y").status_code == 303
    assert db.session.get(User, rep_id).team_id == south
    # Rosa becomes a manager leading both teams: she leads them and is no team's member
    assert _post(client, page, page, name="Rosa M", role="manager", team="", leads=[str(north), str(south)], active="y").status_code == 303
    rosa = db.session.get(User, rep_id)
    assert (rosa.name, rosa.role, rosa.team_id, sorted(t.id for t in rosa.led_teams)) == ("Rosa M", "manager", None, sorted([north, south]))
    # the old manager steps down to rep in North: he leads nothing any more
    page = f"/admin/people/{manager_id}"
    assert _post(client, page, page, name="Max", role="rep", team=str(north), active="y").status_code == 303
    auth.login(manager_email)
    assert client.get(f"/team/{north}").status_code == 403
    for data, message in ((dict(name="", role="rep", team="", active="y"), "Give a name."),
                          (dict(name="Max", role="rep", team="12345", active="y"), "Not a valid choice"),
                          (dict(name="Max", role="manager", leads=["12345"], active="y"), "not a valid choice")):
        auth.login(admin.email)
        response = _post(client, page, page, **data)
        assert response.status_code == 400 and message in _text(response), data
    assert db.session.get(User, manager_id).name == "Max"


def test_an_admin_cannot_lock_themself_out(make_user, auth, client):
    admin = make_user("admin", team=None, name="Ada")
    admin_id = admin.id
    auth.login(admin.email)
    page = f"/admin/people/{admin_id}"
    for data in (dict(name="Ada", role="rep", team=""), dict(name="Ada", role="admin", team="")):  # demoted, or not active
        response = _post(client, page, page, **data)
        assert response.status_code == 400 and "You cannot take your own admin role or deactivate yourself" in _text(response)
    db.session.expire_all()
    assert (db.session.get(User, admin_id).role, db.session.get(User, admin_id).active) == ("admin", True)


def test_an_admin_replaces_a_lost_password_and_every_old_login_ends(make_user, auth, client):
    from learnapp.web.main import load_user

    admin, rep = make_user("admin", team=None), make_user("rep", name="Pat")
    rep_id, rep_email = rep.id, rep.email
    old_login = rep.get_id()
    auth.login(admin.email)
    page = f"/admin/people/{rep_id}"
    response = client.post(f"{page}/password", data={"password": "short", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 400 and "at least 8 characters" in _text(response)
    response = client.post(f"{page}/password", data={"password": "brand-new-pass", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 303
    assert "Pat&#39;s password is replaced" in _text(client.get(response.headers["Location"]))
    assert load_user(old_login) is None
    auth.login(rep_email, "brand-new-pass")
    assert client.get("/drill/").status_code == 200
    assert db.session.get(User, rep_id).active


def test_people_are_found_by_name_or_email_and_search_text_is_taken_literally(make_user, auth, client):
    auth.login(make_user("admin", team=None).email)
    make_user("rep", name="Zoë 100%_sure")
    make_user("rep", name="Other")
    page = _text(client.get("/admin/people?q=100%25_"))
    assert "Zoë 100%_sure" in page and ">Other<" not in page
    assert "Nobody matches" in _text(client.get("/admin/people?q=%25%25nobody"))
    assert client.get("/admin/people?q=" + "x" * 5000).status_code == 200


def _edit(client, user_id, **data):
    page = f"/admin/people/{user_id}"
    return _post(client, page, page, **data)


def test_a_rep_moved_to_another_team_takes_their_history_along_at_once(content, make_user, auth, client, clock):
    """Answers are booked to the rep's team as they come, and the nightly rebuild books a rep's whole history to their
    present team: after a move the two disagreed until the night, when both teams' curves jumped (review)."""
    from datetime import timedelta

    from learnapp.services import rollups
    from tests.services.test_rollups import _snapshot

    admin = make_user("admin", team=None)
    mover, stayer = make_user("rep", team="North", name="Mo"), make_user("rep", team="North")
    south = make_user("rep", team="South").team_id
    mover_id, admin_email = mover.id, admin.email

    def drill_days(n):
        for _ in range(n):
            for rep_id in (mover_id, stayer.id):
                rep = db.session.get(User, rep_id)
                while (item := drill.current_item(rep, clock.now())) is not None:
                    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
            clock.advance(timedelta(days=1))

    drill_days(6)
    auth.login(admin_email)
    assert _edit(client, mover_id, name="Mo", email=db.session.get(User, mover_id).email, role="rep", timezone="UTC",
                 team=str(south), active="y").status_code == 303
    drill_days(3)
    db.session.expire_all()
    live = _snapshot()
    rollups.rebuild()
    assert _snapshot() == live  # what the dashboards show now is what the night's rebuild gives


def test_a_team_for_a_manager_or_teams_to_lead_for_anyone_else_are_refused_not_dropped(make_user, auth, client):
    admin, manager, rep = make_user("admin", team=None), make_user("manager", team="North"), make_user("rep", team="North")
    north = rep.team_id
    manager_id, manager_email, rep_id, rep_email = manager.id, manager.email, rep.id, rep.email
    auth.login(admin.email)
    response = _edit(client, manager_id, name="M", email=manager_email, role="manager", timezone="UTC", team=str(north), active="y")
    assert response.status_code == 400 and "A manager leads teams rather than belonging to one" in _text(response)
    response = _edit(client, rep_id, name="R", email=rep_email, role="rep", timezone="UTC", team=str(north),
                     leads=[str(north)], active="y")
    assert response.status_code == 400 and "Only a manager leads teams" in _text(response)
    db.session.expire_all()
    assert [t.id for t in db.session.get(User, manager_id).led_teams] == [north]
    auth.login(manager_email)
    assert "1 rep ·" in _text(client.get("/team/", follow_redirects=True))  # reps only, not the manager himself


def test_a_manager_made_a_rep_or_a_rep_back_is_not_charged_for_the_days_between(content, make_user, auth, client, clock):
    """Counted from the day the account was made, a manager of two months made a rep today showed 0 of 40 working days
    and was on the inactive list at once; so was a rep back after two months away (review). The days between are a
    pause now (a vacation): not due, and nothing of what came before is lost."""
    from datetime import timedelta

    from learnapp.models import Vacation

    admin, manager = make_user("admin", team=None), make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Back Bo")
    admin_email, manager_id, manager_email, rep_id, rep_email, north = (admin.email, manager.id, manager.email, rep.id,
                                                                        rep.email, rep.team_id)
    for _ in range(5):  # Monday 2 to Friday 6 March, every day drilled
        rep = db.session.get(User, rep_id)
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    clock.advance(timedelta(days=2))  # Monday 9 March: deactivated
    auth.login(admin_email)
    assert _edit(client, rep_id, name="Back Bo", email=rep_email, role="rep", timezone="UTC", team=str(north)).status_code == 303
    clock.advance(timedelta(days=59))  # Thursday 7 May: back
    assert _edit(client, rep_id, name="Back Bo", email=rep_email, role="rep", timezone="UTC", team=str(north),
                 active="y").status_code == 303
    make_user("manager", team="North")  # North keeps a manager
    assert _edit(client, manager_id, name="Ex Manager", email=manager_email, role="rep", timezone="UTC", team=str(north),
                 active="y").status_code == 303
    pauses = db.session.scalars(db.select(Vacation).order_by(Vacation.user_id)).all()
    assert [(v.user_id, v.start.isoformat(), v.end.isoformat()) for v in pauses] == [
        (manager_id, "2026-03-02", "2026-05-06"), (rep_id, "2026-03-09", "2026-05-06")]
    rows = {row[0]: row for row in _csv(client, f"/team/{north}/data/participation.csv")[1:]}
    # his first week; today, under way and not drilled yet, is not due yet (not missed either)
    assert rows["Back Bo"][1:3] == ["5", "5"] and rows["Back Bo"][7] == "2026-05-07"
    assert rows["Ex Manager"][1:3] == ["0", "0"]  # today only, not due yet
    first_week = {row[0]: row for row in _csv(client, f"/team/{north}/data/participation.csv?start=2026-03-02&end=2026-03-06")[1:]}
    assert first_week["Back Bo"][1:3] == ["5", "5"]  # kept (the first try counted him from his return: 0 of 0)
    # not on the inactive list, either of them; Ex Manager has not drilled yet
    assert "Nobody has gone 7 working days without a drill; 1 of 2 reps has not drilled" in _text(client.get(f"/team/{north}"))


def test_deactivating_by_mistake_and_ticking_active_again_the_same_day_changes_nothing(content, make_user, auth, client, clock):
    from learnapp.models import Vacation

    admin, rep = make_user("admin", team=None), make_user("rep", team="North", name="Oops")
    rep_id, rep_email, north = rep.id, rep.email, rep.team_id
    auth.login(admin.email)
    for active in ({}, {"active": "y"}):
        assert _edit(client, rep_id, name="Oops", email=rep_email, role="rep", timezone="UTC", team=str(north),
                     **active).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, rep_id).left_on is None
    assert db.session.scalar(db.select(db.func.count()).select_from(Vacation)) == 0


def test_correcting_a_reps_timezone_moves_their_answers_days_at_once(content, make_user, auth, client, clock):
    """The rollups keep each answer under the rep's local day: a timezone corrected in the app left them as they were
    until the nightly rebuild moved them (review)."""
    from datetime import timedelta

    from learnapp.services import rollups
    from tests.services.test_rollups import _snapshot

    admin, rep = make_user("admin", team=None), make_user("rep", team="North", name="Zed")
    rep_id, rep_email, north = rep.id, rep.email, rep.team_id
    for _ in range(4):
        clock.advance(timedelta(hours=14))  # answers at every hour of the day, so some change day in Tokyo
        rep = db.session.get(User, rep_id)
        if drill.current_item(rep, clock.now()) is None:
            drill.practise_more(rep, clock.now())
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    auth.login(admin.email)
    assert _edit(client, rep_id, name="Zed", email=rep_email, role="rep", timezone="Asia/Tokyo", team=str(north),
                 active="y").status_code == 303
    db.session.expire_all()
    live = _snapshot()
    rollups.rebuild()
    assert _snapshot() == live


def _csv(client, url):
    import csv
    import io

    return list(csv.reader(io.StringIO(client.get(url).get_data(as_text=True))))


def test_two_admins_cannot_leave_the_organisation_without_one(make_user, clock):
    """Each may demote the other, one after the other: the second finds they are no admin any more (review)."""
    import pytest

    from learnapp.services.users import UserError, update_account

    a, b = make_user("admin", team=None), make_user("admin", team=None)
    fields = dict(role="rep", timezone="UTC", team_id=None, leads=[], active=True, now=clock.now())
    update_account(b, name=b.name, email=b.email, by=a, **fields)
    with pytest.raises(UserError, match="Only an active admin can change accounts."):
        update_account(a, name=a.name, email=a.email, by=db.session.get(User, b.id), **fields)
    db.session.expire_all()
    assert db.session.get(User, a.id).role == "admin"


def test_an_admin_fixes_a_mistyped_email_and_a_timezone_but_not_their_own_password_here(make_user, auth, client):
    admin, rep, other = make_user("admin", team=None), make_user("rep", name="Typo"), make_user("rep")
    admin_id, rep_id, other_email = admin.id, rep.id, other.email
    auth.login(admin.email)
    response = _edit(client, rep_id, name="Typo", email=other_email, role="rep", timezone="UTC", team="", active="y")
    assert response.status_code == 400 and f"An account for {other_email} exists already." in _text(response)
    response = _edit(client, rep_id, name="Typo", email="Fixed@Example.com", role="rep", timezone="Asia/Tokyo", team="", active="y")
    assert response.status_code == 303
    db.session.expire_all()
    assert (db.session.get(User, rep_id).email, db.session.get(User, rep_id).timezone) == ("fixed@example.com", "Asia/Tokyo")
    response = client.post(f"/admin/people/{admin_id}/password",
                           data={"password": "a-new-one-123", "csrf_token": csrf_token(client, f"/admin/people/{admin_id}")})
    assert response.status_code == 400 and "Change your own password under Settings" in _text(response)
    auth.login("fixed@example.com")
    assert client.get("/drill/").status_code == 200


def test_search_folds_case_beyond_ascii(make_user, auth, client):
    auth.login(make_user("admin", team=None).email)
    make_user("rep", name="Élodie Ødegaard")
    assert "Élodie Ødegaard" in _text(client.get("/admin/people?q=élodie"))
    assert "Élodie Ødegaard" in _text(client.get("/admin/people?q=ØDEGAARD"))


def test_a_rep_who_left_stays_in_the_participation_of_the_ranges_they_worked_in(content, make_user, auth, client, clock):
    """Deactivated reps dropped out of every range, so a team's March participation changed when someone left in
    April (review). They are counted up to the day before they left; a range after that has no row for them."""
    from datetime import timedelta

    admin, manager = make_user("admin", team=None), make_user("manager", team="North")
    leaver = make_user("rep", team="North", name="Lea")
    leaver_id, leaver_email, north, admin_email, manager_email = leaver.id, leaver.email, leaver.team_id, admin.email, manager.email
    for _ in range(5):  # Monday 2 to Friday 6 March, every day drilled
        rep = db.session.get(User, leaver_id)
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    clock.advance(timedelta(days=2))  # Monday 9 March: she leaves
    auth.login(admin_email)
    assert _edit(client, leaver_id, name="Lea", email=leaver_email, role="rep", timezone="UTC", team=str(north)).status_code == 303
    auth.login(manager_email)
    rows = _csv(client, f"/team/{north}/data/participation.csv?start=2026-03-02&end=2026-03-13")
    assert rows[0][7] == "working days counted until"
    assert [r[:3] + r[6:8] for r in rows[1:]] == [["Lea", "5", "5", "2026-03-02", "2026-03-08"]]  # not 5 of 10
    page = _text(client.get(f"/team/{north}?start=2026-03-02&end=2026-03-13"))
    assert "until Sun 08 Mar 2026 (left on Mon 09 Mar 2026)" in page and "0 reps" in page  # in the table, not in today's
    page = _text(client.get(f"/team/{north}?start=2026-03-02&end=2026-03-06"))
    assert "Lea</a>" in page and "(left on" not in page  # a range that ended before she left: nothing to say
    assert _csv(client, f"/team/{north}/data/participation.csv?start=2026-03-09&end=2026-03-13")[1:] == []
    auth.login(admin_email)  # back again: counted from the day she came back, no 'left' any more
    assert _edit(client, leaver_id, name="Lea", email=leaver_email, role="rep", timezone="UTC", team=str(north),
                 active="y").status_code == 303
    db.session.expire_all()
    assert db.session.get(User, leaver_id).left_on is None


def test_an_admin_renames_a_team_and_deletes_it_once_nobody_is_in_it(content, make_user, auth, client, clock):
    from learnapp.models import RetentionRollup
    from learnapp.services import users as users_service

    admin = make_user("admin", team=None)
    rep, gone = make_user("rep", team="North", name="Rita Rep"), make_user("rep", team="North", name="Gus Gone")
    manager = make_user("manager", team="North", name="Mia Manager")
    make_user("rep", team="South")
    north_id, rep_id, gone_id, manager_id = rep.team_id, rep.id, gone.id, manager.id
    item = drill.current_item(rep, clock.now())  # an answer, so North has rollups
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    auth.login(admin.email)
    page = f"/admin/teams/{north_id}"
    assert f'href="{page}">North</a>' in _text(client.get("/admin/people"))
    shown = _text(client.get(page))
    assert f'Led by <a href="/admin/people/{manager_id}">Mia Manager</a>' in shown
    assert "Rita Rep</a> · rep" in shown and "Gus Gone</a> · rep" in shown

    taken = _post(client, page, page, name="  south ")
    assert taken.status_code == 400 and "A team named south exists already." in _text(taken)
    assert _post(client, page, page, name="").status_code == 400
    renamed = _post(client, page, page, name=" North   East ")
    assert renamed.status_code == 303 and "North is now North East." in _text(client.get(renamed.headers["Location"]))
    assert db.session.get(Team, north_id).name == "North East" and db.session.get(User, rep_id).team_id == north_id

    refused = _post(client, f"{page}/delete", page)
    assert refused.status_code == 400
    assert "North East still has 2 members and is led by Mia Manager: move them" in _text(refused)
    gone_user = db.session.get(User, gone_id)
    gone_user.active = False
    db.session.commit()
    assert "still has 2 members (1 deactivated) and is led by" in _text(_post(client, f"{page}/delete", page))
    assert client.post(f"{page}/delete").status_code == 400  # no CSRF token
    for user_id, data in ((rep_id, dict(role="rep", team="")), (gone_id, dict(role="rep", team=""))):
        person = db.session.get(User, user_id)
        _post(client, f"/admin/people/{user_id}", f"/admin/people/{user_id}", name=person.name, email=person.email,
              timezone="UTC", active="y" if user_id == rep_id else "", **data)
    refused = _post(client, f"{page}/delete", page)
    assert "North East is still led by Mia Manager: move them" in _text(refused)
    users_service.update_account(db.session.get(User, manager_id), name="Mia Manager", email="manager3@example.com",
                                 role="manager", timezone="UTC", team_id=None, leads=[], active=True,
                                 by=db.session.get(User, admin.id), now=clock.now())
    deleted = _post(client, f"{page}/delete", page)
    assert deleted.status_code == 303 and "Team North East is deleted." in _text(client.get(deleted.headers["Location"]))
    assert db.session.get(Team, north_id) is None
    assert db.session.scalars(db.select(RetentionRollup).filter_by(team_id=north_id)).first() is None
    assert client.get(page).status_code == 404


def test_a_moved_rep_counts_in_each_team_only_for_the_days_they_were_in_it(content, make_user, auth, client, clock):
    """A rep moved to another team dropped out of the old team's past ranges and counted in the new one's ranges
    from before they joined it (review): each team now counts them for their days in it."""
    from datetime import timedelta

    admin = make_user("admin", team=None)
    north_manager, south_manager = make_user("manager", team="North"), make_user("manager", team="South")
    mover = make_user("rep", team="North", name="Mo")
    south = make_user("rep", team="South", name="Sia").team_id
    mover_id, mover_email, north = mover.id, mover.email, mover.team_id
    admin_email, north_email, south_email = admin.email, north_manager.email, south_manager.email

    def drill_week():  # Monday to Friday drilled, the weekend not
        for _ in range(5):
            rep = db.session.get(User, mover_id)
            if drill.current_item(rep, clock.now()) is None:  # nothing due today: five minutes more
                drill.practise_more(rep, clock.now())
            while (item := drill.current_item(rep, clock.now())) is not None:
                drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
            clock.advance(timedelta(days=1))
        clock.advance(timedelta(days=2))

    drill_week()  # 2 to 6 March in North
    auth.login(admin_email)  # Monday 9 March: to South
    assert _edit(client, mover_id, name="Mo", email=mover_email, role="rep", timezone="UTC", team=str(south),
                 active="y").status_code == 303
    drill_week()  # 9 to 13 March in South
    both_weeks = "start=2026-03-02&end=2026-03-13"

    auth.login(north_email)
    rows = _csv(client, f"/team/{north}/data/participation.csv?{both_weeks}")
    assert [r[:3] + r[6:8] for r in rows[1:]] == [["Mo", "5", "5", "2026-03-02", "2026-03-08"]]
    page = _text(client.get(f"/team/{north}?{both_weeks}"))
    assert "until Sun 08 Mar 2026 (moved to South on Mon 09 Mar 2026)" in page
    assert f'/team/rep/{mover_id}' not in page  # no link: he is not this manager's rep any more
    assert _csv(client, f"/team/{north}/data/participation.csv?start=2026-03-09&end=2026-03-13")[1:] == []

    auth.login(south_email)
    rows = {r[0]: r[:3] + r[6:8] for r in _csv(client, f"/team/{south}/data/participation.csv?{both_weeks}")[1:]}
    assert rows["Mo"] == ["Mo", "5", "5", "2026-03-09", "2026-03-13"]  # not 10 of 10, nor 5 of 10
    first_week = _csv(client, f"/team/{south}/data/participation.csv?start=2026-03-02&end=2026-03-06")
    assert "Mo" not in [r[0] for r in first_week[1:]] and "Sia" in [r[0] for r in first_week[1:]]

    auth.login(admin_email)  # and back to North: North counts both stints, not the week in South
    assert _edit(client, mover_id, name="Mo", email=mover_email, role="rep", timezone="UTC", team=str(north),
                 active="y").status_code == 303
    drill_week()  # 16 to 20 March in North
    auth.login(north_email)
    rows = _csv(client, f"/team/{north}/data/participation.csv?start=2026-03-02&end=2026-03-20")
    assert [r[:3] + r[6:8] for r in rows[1:]] == [["Mo", "10", "10", "2026-03-02", "2026-03-20"]]


def test_each_label_on_the_people_page_focuses_its_own_field(make_user, auth, client):
    import re

    auth.login(make_user("admin", team=None).email)
    page = client.get("/admin/people").get_data(as_text=True)
    ids = [i for i in re.findall(r'\sid="([^"]+)"', page) if i != "csrf_token"]  # hidden: no label points at it
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert '<label for="team-name">Team name</label>' in page
    long_name = _post(client, "/admin/teams", "/admin/people", name="T" * 121)
    assert long_name.status_code == 400 and "Use at most 120 characters." in _text(long_name)


def _account_writable_now(user_id: int) -> bool:
    """Whether another connection could change the account now, without waiting: SQLite's write lock free, or on
    PostgreSQL the account's row not locked."""
    from sqlalchemy.exc import OperationalError

    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        return sqlite_write_lock_free(url.database)
    with db.engine.connect() as other:
        try:
            other.execute(db.text("SELECT id FROM user_account WHERE id = :id FOR UPDATE NOWAIT"), {"id": user_id})
            return True
        except OperationalError:
            return False
        finally:
            other.rollback()


def test_a_refused_account_change_lets_go_of_the_write_lock(make_user, clock):
    """update_account raised its refusals (an address taken, teams not on the list, no admin left) with its write
    transaction still open: the admins' rows and the account stayed locked (PostgreSQL), or the whole database
    (SQLite: every drill answer waited), while the person's page was rendered again, until the request ended."""
    import pytest

    from learnapp.services.users import UserError, update_account

    admin, rep, other = make_user("admin", team=None), make_user("rep"), make_user("rep")
    rep_id, rep_name, team_id, taken = rep.id, rep.name, rep.team_id, other.email
    changes = [dict(email=taken, team_id=team_id), dict(email=rep.email, team_id=10_000)]
    for change in changes:
        assert _account_writable_now(rep_id)
        with pytest.raises(UserError):
            update_account(db.session.get(User, rep_id), name=rep_name, role="rep", timezone="UTC", leads=[], active=True,
                           by=admin, now=clock.now(), **change)
        assert _account_writable_now(rep_id), change


def test_a_working_days_change_that_changes_nothing_lets_go_of_the_write_lock(make_user, clock):
    """set_working_days returned "nothing changed" (the days saved again as they were) with its write transaction
    open, the rep's row locked (PostgreSQL) or the database (SQLite), until the request ended."""
    from learnapp.services.users import set_working_days

    manager, rep = make_user("manager", team="North"), make_user("rep", team="North")
    rep_id = rep.id
    assert set_working_days(rep, ["0", "2", "4"], by=manager, now=clock.now()).changed
    assert _account_writable_now(rep_id)
    assert not set_working_days(db.session.get(User, rep_id), ["0", "2", "4"], by=manager, now=clock.now()).changed
    assert _account_writable_now(rep_id)


def test_a_refused_team_name_lets_go_of_the_write_lock(make_user):
    """create_team and rename_team refused a name (none, too long) with SQLite's write lock still held, so every
    rep's drill answer waited until the admin's page had been rendered again."""
    import pytest

    from learnapp.services.users import UserError, create_team, rename_team

    rep = make_user("rep", team="North")
    rep_id, team_id = rep.id, rep.team_id
    for refused in (lambda: create_team("  "), lambda: rename_team(db.session.get(Team, team_id), "x" * 500)):
        with pytest.raises(UserError):
            refused()
        assert _account_writable_now(rep_id)


def test_the_first_admins_first_page_points_to_people_not_to_teams_they_do_not_lead(make_user, auth, client):
    """The first admin, made on the command line as the docs say, logged in to "Your teams: You do not lead a team
    yet." and nothing else: nothing said that teams come from People (admins see every team, and there were none)."""
    admin = make_user("admin", team=None)
    auth.login(admin.email)
    page = " ".join(client.get("/", follow_redirects=True).get_data(as_text=True).split())
    assert "You do not lead a team yet" not in page
    assert ('There are no teams yet. Add people and their teams under <a href="/admin/people">People</a>, one by one '
            'or with <a href="/admin/people/import">Import a list (CSV)</a>.') in page
    manager = make_user("manager", team=None)  # a manager without a team is told just that
    auth.logout()
    auth.login(manager.email)
    assert "You do not lead a team yet." in client.get("/", follow_redirects=True).get_data(as_text=True)
