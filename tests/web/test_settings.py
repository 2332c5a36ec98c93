"""A user's own settings page: reminders and, for every logged-in user, changing the password."""

import re

import pytest

from learnapp.extensions import db
from learnapp.models import User
from tests.conftest import PASSWORD, csrf_token


@pytest.fixture
def rep(make_user, auth):
    user = make_user("rep")
    auth.login(user.email)
    return user


def _settings(client, **fields):
    data = {"reminder_time": "09:00", "timezone": "UTC", "csrf_token": csrf_token(client, "/settings"), **fields}
    return client.post("/settings", data=data)


def test_reminders_on_with_no_day_are_refused_and_nothing_changes(rep, client):
    response = _settings(client, reminders_on="y", reminder_time="17:30")  # no reminder_days ticked
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Settings saved" not in page
    assert 'id="reminder_days-error">Pick at least one day, or switch reminders off.</p>' in page
    db.session.expire_all()
    user = db.session.get(User, rep.id)
    assert (user.reminders_on, user.reminder_time, user.reminder_days) == (True, "09:00", "0,1,2,3,4")


def test_reminders_off_need_no_day_and_days_with_reminders_on_save(rep, client):
    assert _settings(client).status_code == 303  # reminders off, no day: fine
    db.session.expire_all()
    assert db.session.get(User, rep.id).reminders_on is False
    assert _settings(client, reminders_on="y", reminder_days=["0", "4"]).status_code == 303
    db.session.expire_all()
    user = db.session.get(User, rep.id)
    assert user.reminders_on is True and user.reminder_days == "0,4"


def _change(client, current, new, again=None):
    return client.post("/settings/password", data={
        "password-current": current, "password-new": new, "password-again": new if again is None else again,
        "password-csrf_token": csrf_token(client, "/settings")})


def test_every_user_can_change_their_password_and_other_logins_end(make_user, auth, client):
    from learnapp.web.main import load_user
    from tests.conftest import PASSWORD

    for role in ("rep", "trainer", "manager", "admin"):
        user = make_user(role, team=None)
        auth.login(user.email)
        page = client.get("/settings").get_data(as_text=True)
        assert "Change password" in page and 'autocomplete="current-password"' in page
        login_elsewhere = user.get_id()  # what a session or remember cookie on another device holds
        response = _change(client, PASSWORD, "a-new-passphrase")
        assert response.status_code == 303
        assert "Password changed." in client.get("/settings").get_data(as_text=True)  # still logged in here
        db.session.expire_all()
        assert load_user(login_elsewhere) is None  # the other device's login ended
        assert load_user(db.session.get(User, user.id).get_id()).id == user.id
        with client.session_transaction() as session:  # this browser was logged in again with the new token
            assert session["_user_id"] == db.session.get(User, user.id).get_id()
        auth.logout()
        assert auth.login(user.email).status_code == 400  # the old password no longer works
        assert auth.login(user.email, "a-new-passphrase").status_code == 302
        auth.logout()


def test_a_refused_password_change_says_why_and_changes_nothing(rep, client, auth):
    from tests.conftest import PASSWORD

    cases = [
        (("wrong-password", "a-new-passphrase"), "password-current-error\">That is not your current password."),
        ((PASSWORD, "short"), "password-new-error\">Use at least 8 characters."),
        ((PASSWORD, "a-new-passphrase", "a-new-passphrasf"), "password-again-error\">The two new passwords differ."),
        (("", "a-new-passphrase"), "password-current-error\">Type your current password."),
        # the login form takes at most 200 characters: a longer password could be set but never typed in again
        ((PASSWORD, "x" * 201), "password-new-error\">Use at most 200 characters."),
    ]
    for args, message in cases:
        response = _change(client, *args)
        page = response.get_data(as_text=True)
        assert response.status_code == 400 and message in page, message
        assert 'aria-invalid="true"' in page and "Password changed" not in page
    no_csrf = client.post("/settings/password", data={"password-current": PASSWORD, "password-new": "a-new-passphrase",
                                                       "password-again": "a-new-passphrase"})
    assert no_csrf.status_code == 400
    auth.logout()
    assert auth.login(rep.email).status_code == 302  # the password is unchanged


def test_a_refused_password_change_lands_on_its_section_with_the_error_in_focus(rep, client):
    """Before, the page came back scrolled to the top, the error ~1000 px below, and /settings/password gave 405."""
    page = _change(client, "wrong-password", "a-new-passphrase").get_data(as_text=True)
    assert '<section class="card" id="password">' in page
    assert 'action="/settings/password#password"' in page  # the browser keeps the fragment and scrolls to it
    focused = re.findall(r"<input [^>]*autofocus[^>]*>", page)
    assert len(focused) == 1 and 'id="password-current"' in focused[0]
    page = _change(client, PASSWORD, "short").get_data(as_text=True)
    assert 'id="password-new"' in re.findall(r"<input [^>]*autofocus[^>]*>", page)[0]
    revisited = client.get("/settings/password")  # a reload or a revisit of the address the form left
    assert revisited.status_code == 302 and revisited.headers["Location"] == "/settings#password"


def test_the_current_password_is_refused_as_the_new_one_and_other_logins_go_on(rep, client):
    from learnapp.web.main import load_user

    login_elsewhere = rep.get_id()
    response = _change(client, PASSWORD, PASSWORD)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Password changed" not in page
    assert 'id="password-new-error">That is your current password: choose a different one.</p>' in page
    db.session.expire_all()
    assert load_user(login_elsewhere) is not None  # the other devices stay logged in


def test_too_many_refused_password_changes_say_so_and_how_long_to_wait(rep, client):
    for _ in range(10):
        assert _change(client, "wrong-password", "a-new-passphrase").status_code == 400
    refused = _change(client, PASSWORD, "a-new-passphrase")
    assert refused.status_code == 429 and 840 < int(refused.headers["Retry-After"]) <= 900
    page = " ".join(refused.get_data(as_text=True).split())
    # before: "Too many failed logins from here or for this account. Wait a few minutes", to a logged-in user
    assert ("Too many refused password changes. Your password is unchanged, and you stay logged in. "
            "Try again in about 15 minutes.") in page
    assert "failed logins" not in page


def test_the_settings_page_and_the_command_line_share_the_password_rule():
    from learnapp.services.users import MIN_PASSWORD
    from learnapp.web.settings import PasswordForm

    assert MIN_PASSWORD == 8
    from learnapp.services.users import MAX_PASSWORD, UserError, check_new_password
    from learnapp.web.auth import LoginForm

    assert any(getattr(v, "max", None) == MAX_PASSWORD for v in PasswordForm.new.kwargs["validators"])
    assert any(getattr(v, "max", None) == MAX_PASSWORD for v in LoginForm.password.kwargs["validators"])
    check_new_password("x" * MAX_PASSWORD)
    with pytest.raises(UserError):
        check_new_password("x" * (MAX_PASSWORD + 1))
    assert any(getattr(v, "min", None) == MIN_PASSWORD for v in PasswordForm.new.kwargs["validators"])


def test_the_timezone_list_holds_real_places_and_refuses_the_servers_own(rep, client):
    """'localtime' (the server's zone) and 'Factory' were offered and saved (found by a fuzzing pass)."""
    page = client.get("/settings").get_data(as_text=True)
    offered = set(re.findall(r'<option[^>]*value="([^"]+)"', page[page.index('id="timezone"'):page.index("</select>", page.index('id="timezone"'))]))
    assert {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"} <= offered
    assert not offered & {"localtime", "Factory", "Etc/GMT+5", "US/Eastern", "Japan"}
    for bad in ("localtime", "Factory"):
        response = _settings(client, timezone=bad)
        assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, rep.id).timezone == "UTC"


def test_a_legacy_timezone_set_by_an_admin_stays_selectable(make_user, auth, client):
    user = make_user("rep", timezone="US/Eastern")
    auth.login(user.email)
    page = client.get("/settings").get_data(as_text=True)
    assert re.search(r'<option selected value="US/Eastern">|<option value="US/Eastern" selected', page)
    assert _settings(client, timezone="US/Eastern").status_code == 303


def test_a_manager_switches_the_weekly_digest_and_keeps_no_reminder_days(make_user, auth, client):
    """Managers saw only the reps' reminder switch, though it also switches their digest, and had to pick days for it."""
    manager = make_user("manager", team="North")
    auth.login(manager.email)
    page = client.get("/settings").get_data(as_text=True)
    assert "weekly digest" in page and 'name="reminder_days"' not in page and 'name="reminder_time"' not in page
    token = csrf_token(client, "/settings")
    assert client.post("/settings", data={"timezone": "Europe/Berlin", "csrf_token": token}).status_code == 303  # box unticked
    db.session.expire_all()
    user = db.session.get(User, manager.id)
    assert (user.reminders_on, user.timezone, user.reminder_days, user.reminder_time) == (False, "Europe/Berlin", "0,1,2,3,4", "09:00")
    assert client.post("/settings", data={"reminders_on": "y", "timezone": "UTC", "csrf_token": token}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, manager.id).reminders_on is True


@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_users_who_get_no_email_see_no_email_switch(make_user, auth, client, role):
    user = make_user(role, team=None)
    auth.login(user.email)
    page = client.get("/settings").get_data(as_text=True)
    assert 'name="reminders_on"' not in page and 'name="reminder_days"' not in page
    assert "This server sends no email." in page  # no SMTP_HOST
    response = client.post("/settings", data={"timezone": "Asia/Tokyo", "csrf_token": csrf_token(client, "/settings")})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).timezone == "Asia/Tokyo"


@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_trainers_and_admins_read_that_they_get_password_links_only(make_user, auth, client, inbox, role):
    """Before, the page told them "learnapp sends you no email", yet their invitation and password links come by email."""
    user = make_user(role, team=None)
    auth.login(user.email)
    page = " ".join(client.get("/settings").get_data(as_text=True).split())
    assert "sends you no email" not in page
    assert ("learnapp sends you no regular email (reminders go to reps, the weekly digest to managers): only a link to "
            "set your password, when you or an administrator ask for one.") in page


def test_a_rep_who_changes_their_timezone_moves_their_answers_days_on_the_dashboard_at_once(content, make_user, auth,
                                                                                            client, clock):
    """The team's figures jumped at the nightly rebuild, as an admin's correction did before it rebuilt at once
    (exploratory test)."""
    from datetime import timedelta

    from learnapp.services import drill, rollups
    from tests.helpers import right_answer
    from tests.services.test_rollups import _snapshot

    rep = make_user("rep", team="North")
    rep_id = rep.id
    for _ in range(3):
        clock.advance(timedelta(hours=13))  # answers at various hours, so a new zone moves some to another day
        user = db.session.get(User, rep_id)
        if drill.current_item(user, clock.now()) is None:
            drill.practise_more(user, clock.now())
        while (item := drill.current_item(user, clock.now())) is not None:
            drill.submit_answer(user, item.presentation.token, right_answer(item), clock.now())
    before = _snapshot()
    auth.login(rep.email)
    assert _settings(client, timezone="Pacific/Kiritimati", reminder_days=["0"]).status_code == 303
    db.session.expire_all()
    live = _snapshot()
    assert live != before  # some answers moved to the next day
    rollups.rebuild()
    assert _snapshot() == live  # what the dashboard shows now is what the night's rebuild gives


def test_a_rep_who_changes_their_timezone_learned_their_skills_on_their_new_days(content, make_user, auth, client, clock):
    """The day each skill was learned moves with the answers' days: before, it stayed in the old zone, and the rep's
    next answers went into the live rollups a week of learning off from where the nightly rebuild put them."""
    from datetime import date, datetime, timezone

    from learnapp.models import MemoryStateRow
    from learnapp.services import rollups
    from tests.helpers import drill_all
    from tests.services.test_rollups import _snapshot

    rep = make_user("rep", team="North", timezone="Pacific/Tongatapu")  # 2 Mar 09:00 UTC: 22:00 on 2 Mar in Tonga
    assert drill_all(rep, clock) > 0
    auth.login(rep.email)
    assert _settings(client, timezone="Pacific/Honolulu").status_code == 303  # 23:00 on 1 Mar in Honolulu
    assert set(db.session.scalars(db.select(MemoryStateRow.introduced_on).filter_by(user_id=rep.id))) == {date(2026, 3, 1)}
    clock.set(datetime(2026, 3, 8, 20, 0, tzinfo=timezone.utc))  # 10:00 on 8 Mar in Honolulu
    assert drill_all(db.session.get(User, rep.id), clock) > 0
    live = _snapshot()
    rollups.rebuild()
    assert _snapshot() == live


def test_a_rep_changes_their_timezone_a_few_times_an_hour_not_without_end(rep, client):
    """A rep's new timezone rebuilds their team's and the organisation's figures at once, inside the write transaction
    (0.3 s with 300 reps and 90 days of answers): a script switching zones without end kept the database's write lock
    held, and every answer waited for it. Other settings save as often as wanted."""
    zones = ["Europe/Berlin", "UTC"] * 5
    for zone in zones:
        assert _settings(client, timezone=zone).status_code == 303
    refused = _settings(client, timezone="Asia/Tokyo")
    page = " ".join(refused.get_data(as_text=True).split())
    assert refused.status_code == 429 and "You changed your timezone 10 times within the hour" in page, page[-600:]
    db.session.expire_all()
    assert db.session.get(User, rep.id).timezone == "UTC"
    assert _settings(client, timezone="UTC", reminders_on="y", reminder_days=["1"]).status_code == 303  # no change: fine
    db.session.expire_all()
    assert db.session.get(User, rep.id).reminder_days == "1"


@pytest.mark.parametrize("role, team", [("trainer", "North"), ("manager", None)])
def test_anyone_who_drills_and_changes_their_timezone_learned_their_skills_on_their_new_days(content, make_user, auth,
                                                                                             client, clock, role, team):
    """Trainers and managers drill too, and their answers count in the organisation's curve (and a trainer's in their
    team's). Their figures are recounted by the night's rebuild rather than at once, but the day each skill was
    learned moves with their zone as a rep's does: before, it stayed in the old zone, so every answer after the
    change was booked in the live rollups a week since learning off from where each night's rebuild put it."""
    from datetime import date, datetime, timezone

    from learnapp.models import MemoryStateRow
    from learnapp.services import rollups
    from tests.helpers import drill_all
    from tests.services.test_rollups import _snapshot

    person = make_user(role, team=team, timezone="Pacific/Tongatapu")  # 2 Mar 09:00 UTC: 22:00 on 2 Mar in Tonga
    assert drill_all(person, clock) > 0
    auth.login(person.email)
    assert _settings(client, timezone="Pacific/Honolulu").status_code == 303  # 23:00 on 1 Mar in Honolulu
    assert set(db.session.scalars(db.select(MemoryStateRow.introduced_on).filter_by(user_id=person.id))) == {date(2026, 3, 1)}
    rollups.rebuild()  # the night
    clock.set(datetime(2026, 3, 8, 20, 0, tzinfo=timezone.utc))  # 10:00 on 8 Mar in Honolulu: a week after learning
    assert drill_all(db.session.get(User, person.id), clock) > 0
    live = _snapshot()
    rollups.rebuild()
    assert _snapshot() == live
