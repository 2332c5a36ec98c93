"""Erasing the personal data of someone who left: placeholders everywhere, their answers still counted."""

from datetime import date, timedelta

import sqlalchemy as sa

from learnapp.extensions import db
from learnapp.models import Attempt, JobRun, Notification, Team, User
from learnapp.services import drill
from learnapp.services import users as users_service
from learnapp.services.authoring import save_lesson
from learnapp.services.dashboard import DateRange, team_dashboard
from learnapp.services.vacations import add_vacation
from tests.conftest import PASSWORD, csrf_token
from tests.helpers import right_answer


def _post(client, url, page, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def _text(response) -> str:
    return " ".join(response.get_data(as_text=True).split())


def _drill_today(rep_id, clock):
    rep = db.session.get(User, rep_id)
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())


def _deactivate(user_id, admin_id, clock):
    user = db.session.get(User, user_id)
    users_service.update_account(user, name=user.name, email=user.email, role=user.role, timezone=user.timezone,
                                 team_id=user.team_id, leads=[t.id for t in user.led_teams], active=False,
                                 by=db.session.get(User, admin_id), now=clock.now())


def _every_text_in_the_database() -> str:
    texts = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text))]
        if columns:
            for row in db.session.execute(sa.select(*columns)):
                texts.extend(str(v) for v in row if v is not None)
    return "\n".join(texts)


def test_an_admin_erases_someone_who_left_and_nothing_of_their_name_or_address_stays(content, make_user, clock, auth, client):
    admin = make_user("admin", team=None)
    manager = make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Zelda Quist")
    trainer = make_user("trainer", team=None, name="Tomasz Ulm")
    admin_id, admin_email, rep_id, rep_email, team_id = admin.id, admin.email, rep.id, rep.email, rep.team_id
    trainer_id, trainer_email = trainer.id, trainer.email
    for _ in range(3):
        _drill_today(rep_id, clock)
        clock.advance(timedelta(days=1))
    add_vacation(db.session.get(User, rep_id), date(2026, 3, 16), date(2026, 3, 18), by=db.session.get(User, rep_id),
                 now=clock.now())  # made by the rep: their address is its author
    users_service.set_working_days(db.session.get(User, rep_id), ["0", "1", "2", "3"], by=manager, now=clock.now())
    lesson = open("lessons/days-out.md").read()
    assert save_lesson(lesson + "\nOne more line.\n", "days-out", base_number=1, actor=trainer_email, now=clock.now()).ok
    db.session.add(JobRun(job="reminders", run_key="2026-03-04", status="error", started_at=clock.now(),
                          detail=f"SMTP refused {rep_email}: 550 no such mailbox; also {trainer_email}_x"))
    db.session.add(Notification(user_id=rep_id, kind="reminder", run_key="2026-03-04", sent_at=clock.now(),
                                refused=f"550 5.1.1 <{rep_email}>: Recipient address rejected"))
    db.session.commit()
    _deactivate(rep_id, admin_id, clock)
    _deactivate(trainer_id, admin_id, clock)
    span = DateRange(date(2026, 3, 2), date(2026, 3, 6))
    before = next(p for p in team_dashboard(db.session.get(Team, team_id), span, clock.now()).participation if p.user_id == rep_id)
    assert (before.days_drilled, before.working_days) == (3, 3)
    answers = db.session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(Attempt.user_id == rep_id))

    auth.login(admin_email)
    page = _text(client.get(f"/admin/people/{rep_id}"))
    assert "Erase their personal data" in page and "Type their email address to confirm" in page
    response = _post(client, f"/admin/people/{rep_id}/erase", f"/admin/people/{rep_id}", confirm=f" {rep_email.upper()} ")
    assert response.status_code == 303
    page = _text(client.get(response.headers["Location"]))
    assert f"Zelda Quist&#39;s personal data is erased: this account is now Erased person {rep_id}" in page
    assert "cannot be used again" in page and "Replace password" not in page and 'name="email"' not in page
    assert _post(client, f"/admin/people/{trainer_id}/erase", f"/admin/people/{trainer_id}", confirm=trainer_email).status_code == 303

    everything = _every_text_in_the_database()
    for gone in (rep_email, "Zelda Quist", trainer_email, "Tomasz Ulm"):
        assert gone not in everything, gone
    erased = db.session.get(User, rep_id)
    assert (erased.name, erased.email, erased.active, erased.reminders_on) == (
        f"Erased person {rep_id}", f"erased-{rep_id}@erased.invalid", False, False)
    assert not users_service.has_password(erased) and erased.erased_at == clock.now()
    # their answers still count: the team's past range is the same, under the placeholder
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt).where(Attempt.user_id == rep_id)) == answers
    after = next(p for p in team_dashboard(db.session.get(Team, team_id), span, clock.now()).participation if p.user_id == rep_id)
    assert (after.days_drilled, after.working_days, after.last_day) == (before.days_drilled, before.working_days, before.last_day)
    # nobody logs in with the old address, and the address is free for a new account
    auth.logout()
    assert client.post("/login", data={"email": rep_email, "password": PASSWORD}).status_code != 303
    assert users_service.create_user(rep_email, "Zelda Quist", PASSWORD, "rep", team="North", now=clock.now()).id != rep_id


def test_erasing_is_refused_for_someone_still_active_for_a_wrong_confirmation_and_for_oneself(make_user, auth, client):
    admin, other_admin = make_user("admin", team=None), make_user("admin", team=None)
    rep = make_user("rep", name="Still Here")
    admin_id, admin_email, rep_id, rep_email = admin.id, admin.email, rep.id, rep.email
    auth.login(admin_email)
    assert "Deactivate the account and save first" in _text(client.get(f"/admin/people/{rep_id}"))
    response = _post(client, f"/admin/people/{rep_id}/erase", f"/admin/people/{rep_id}", confirm=rep_email)
    assert response.status_code == 400 and "Deactivate the account and save first" in _text(response)
    assert db.session.get(User, rep_id).name == "Still Here"
    _deactivate(rep_id, admin_id, type("C", (), {"now": staticmethod(lambda: db.session.get(User, rep_id).created_at)}))
    response = _post(client, f"/admin/people/{rep_id}/erase", f"/admin/people/{rep_id}", confirm="someone@example.com")
    assert response.status_code == 400 and f"That is not Still Here&#39;s email address: type {rep_email}" in _text(response)
    response = _post(client, f"/admin/people/{rep_id}/erase", f"/admin/people/{rep_id}", confirm="")
    assert response.status_code == 400 and "Type their email address." in _text(response)
    assert client.post(f"/admin/people/{rep_id}/erase", data={"confirm": rep_email}).status_code == 400  # no CSRF token
    assert db.session.get(User, rep_id).erased_at is None
    assert "You cannot erase your own account" in _text(client.get(f"/admin/people/{admin_id}"))
    assert client.get(f"/admin/people/{rep_id}/erase").status_code == 405
    auth.login(make_user("manager", team="Team A").email)
    assert _post(client, f"/admin/people/{rep_id}/erase", "/settings", confirm=rep_email).status_code == 403
    assert db.session.get(User, rep_id).erased_at is None and other_admin.active


def test_an_erased_account_cannot_be_changed_given_a_password_or_a_link(make_user, clock, auth, client):
    admin = make_user("admin", team=None)
    manager = make_user("manager", team="North")
    admin_id, admin_email, manager_id = admin.id, admin.email, manager.id
    _deactivate(manager_id, admin_id, clock)
    users_service.erase_person(db.session.get(User, manager_id), by=db.session.get(User, admin_id), now=clock.now())
    erased = db.session.get(User, manager_id)
    assert erased.led_teams == []
    auth.login(admin_email)
    response = _post(client, f"/admin/people/{manager_id}", f"/admin/people/{admin_id}", name="Back Again",
                     email="back@example.com", role="manager", timezone="UTC", team="", active="y")
    assert response.status_code == 400 and "the account cannot be used again" in _text(response)
    response = _post(client, f"/admin/people/{manager_id}/password", f"/admin/people/{admin_id}", password="another-pass-1")
    assert response.status_code == 400 and "the account cannot be used again" in _text(response)
    response = _post(client, f"/admin/people/{manager_id}/link", f"/admin/people/{admin_id}")
    assert "the account cannot be used again" in _text(client.get(response.headers["Location"]))
    response = _post(client, f"/admin/people/{manager_id}/erase", f"/admin/people/{admin_id}", confirm=erased.email)
    assert response.status_code == 400
    erased = db.session.get(User, manager_id)
    assert (erased.name, erased.active, users_service.has_password(erased)) == (f"Erased person {manager_id}", False, False)


def test_the_cli_erases_after_asking(app, make_user, clock):
    admin = make_user("admin", team=None)
    rep = make_user("rep", name="Cli Person")
    rep_id, rep_email = rep.id, rep.email
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "erase", rep_email, "--yes"])
    # the command cannot deactivate: it says where that is done (it said "Deactivate the account and save first")
    assert result.exit_code != 0 and "Deactivate the account first, on their page under People" in result.output
    _deactivate(rep_id, admin.id, clock)
    result = runner.invoke(args=["users", "erase", rep_email], input="n\n")
    assert result.exit_code != 0 and db.session.get(User, rep_id).erased_at is None
    result = runner.invoke(args=["users", "erase", rep_email], input="y\n")
    assert result.exit_code == 0, result.output
    assert f"it is now Erased person {rep_id} <erased-{rep_id}@erased.invalid>" in result.output
    assert runner.invoke(args=["users", "erase", "nobody@example.com", "--yes"]).exit_code != 0


def test_a_page_of_several_forms_repeats_no_id(make_user, auth, client):
    """Each form's hidden CSRF field had id="csrf_token": the person page repeated it five times."""
    import re
    from collections import Counter

    admin = make_user("admin", team=None)
    rep_id = make_user("rep").id
    auth.login(admin.email)
    for url in (f"/admin/people/{rep_id}", "/admin/people", "/settings"):
        page = client.get(url).get_data(as_text=True)
        repeated = [i for i, n in Counter(re.findall(r'\bid="([^"]+)"', page)).items() if n > 1]
        assert not repeated, (url, repeated)
        assert page.count('name="csrf_token"') >= 2


def _erase_elsewhere(app, user_id, admin_id, clock):
    """Another admin's request: its own session, committed before this one writes."""
    with app.app_context():
        users_service.erase_person(db.session.get(User, user_id), by=db.session.get(User, admin_id), now=clock.now())
        db.session.remove()


def test_an_edit_or_password_sent_from_a_page_loaded_before_the_erasure_does_not_bring_the_person_back(app, make_user, clock):
    """Two admins: one erases, the other saves the person's page they had open (with the real name and address)."""
    import pytest

    admin, other_admin = make_user("admin", team=None), make_user("admin", team=None)
    rep = make_user("rep", team="North", name="Zelda Quist")
    rep_id, rep_email, admin_id = rep.id, rep.email, admin.id
    _deactivate(rep_id, admin_id, clock)
    stale = db.session.get(User, rep_id)
    assert stale.erased_at is None  # the page was read before the erasure
    _erase_elsewhere(app, rep_id, other_admin.id, clock)
    with pytest.raises(users_service.UserError, match="erased"):
        users_service.update_account(stale, name="Zelda Quist", email=rep_email, role="rep", timezone="UTC",
                                     team_id=stale.team_id, leads=[], active=True, by=db.session.get(User, admin_id),
                                     now=clock.now())
    db.session.rollback()
    with pytest.raises(users_service.UserError, match="erased"):
        users_service.reset_password(db.session.get(User, rep_id), "another-pass-1", by=db.session.get(User, admin_id))
    db.session.rollback()
    erased = db.session.get(User, rep_id)
    assert (erased.name, erased.email, erased.active) == (f"Erased person {rep_id}", f"erased-{rep_id}@erased.invalid", False)
    assert not users_service.has_password(erased)
    assert rep_email not in _every_text_in_the_database() and "Zelda Quist" not in _every_text_in_the_database()


def test_a_reset_from_a_page_loaded_before_the_erasure_sets_no_password(app, make_user, clock):
    import pytest

    admin, other_admin = make_user("admin", team=None), make_user("admin", team=None)
    rep_id, admin_id = make_user("rep").id, admin.id
    _deactivate(rep_id, admin_id, clock)
    stale = db.session.get(User, rep_id)
    assert stale.erased_at is None
    _erase_elsewhere(app, rep_id, other_admin.id, clock)
    with pytest.raises(users_service.UserError, match="erased"):
        users_service.reset_password(stale, "another-pass-1", by=db.session.get(User, admin_id))
    db.session.rollback()
    assert not users_service.has_password(db.session.get(User, rep_id))


def test_what_someone_did_under_an_earlier_address_is_erased_too(content, make_user, clock):
    """An admin corrected the person's address once; the vacations, working days, team moves and content versions
    they made before still named the old one, which the erasure did not know."""
    admin = make_user("admin", team=None)
    manager = make_user("manager", team="North")
    rep = make_user("rep", team="North", name="Zelda Quist")
    rep_id, old_email, admin_id = rep.id, rep.email, admin.id
    add_vacation(rep, date(2026, 3, 16), date(2026, 3, 18), by=rep, now=clock.now())
    lesson = open("lessons/days-out.md").read()
    assert save_lesson(lesson + "\nOne more line.\n", "days-out", base_number=1, actor=old_email, now=clock.now()).ok
    rep = db.session.get(User, rep_id)
    users_service.update_account(rep, name=rep.name, email="zelda.quist@example.org", role="manager", timezone="UTC",
                                 team_id=None, leads=[db.session.get(User, manager.id).led_teams[0].id], active=True,
                                 by=db.session.get(User, admin_id), now=clock.now())
    rep = db.session.get(User, rep_id)
    # as a manager now, they change someone's working days under the new address
    other = make_user("rep", team="North")
    users_service.set_working_days(other, ["0", "1", "2"], by=db.session.get(User, rep_id), now=clock.now())
    _deactivate(rep_id, admin_id, clock)
    users_service.erase_person(db.session.get(User, rep_id), by=db.session.get(User, admin_id), now=clock.now())
    everything = _every_text_in_the_database()
    for gone in (old_email, "zelda.quist@example.org", "Zelda Quist"):
        assert gone not in everything, gone


def test_a_team_whose_only_member_left_and_was_erased_can_be_deleted(make_user, clock):
    """An erased account can no longer be edited, so it cannot be moved to No team as delete_team asked."""
    admin = make_user("admin", team=None)
    rep = make_user("rep", team="Gone")
    rep_id, team_id = rep.id, rep.team_id
    _deactivate(rep_id, admin.id, clock)
    users_service.erase_person(db.session.get(User, rep_id), by=db.session.get(User, admin.id), now=clock.now())
    users_service.delete_team(db.session.get(Team, team_id))
    assert db.session.get(Team, team_id) is None
    assert db.session.get(User, rep_id).team_id is None and db.session.get(User, rep_id).erased_at is not None


def test_placeholder_addresses_are_no_one_s_address(make_user, clock):
    """Taken by a new account (typed, or a line of an imported file), erased-N@erased.invalid made erasing account N
    fail on the unique address; and nobody can be emailed or log in at an .invalid address anyway."""
    import pytest

    from learnapp.services.people_import import import_people

    admin = make_user("admin", team=None)
    rep = make_user("rep", team="North")
    future = rep.id + 1
    with pytest.raises(users_service.UserError):
        users_service.create_user(f"erased-{future}@erased.invalid", "Someone", PASSWORD, "rep", now=clock.now())
    db.session.rollback()
    report = import_people(f"email,name\nerased-{future}@Erased.invalid,Someone\n", "people.csv",
                           default_timezone="UTC", now=clock.now())
    assert not report.ok and "erased.invalid" in " ".join(report.problems)
    db.session.rollback()
    with pytest.raises(users_service.UserError):
        users_service.update_account(rep, name=rep.name, email=f"erased-{future}@erased.invalid", role="rep",
                                     timezone="UTC", team_id=rep.team_id, leads=[], active=True, by=admin, now=clock.now())
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count()).select_from(User).where(User.email.like("%erased.invalid"))) == 0


def test_job_details_lose_the_address_in_any_case_and_keep_other_people_s(make_user, clock):
    """The relay may echo an address in capitals; another address may end with the erased one (jimbo@ and bo@)."""
    admin = make_user("admin", team=None)
    bo = users_service.create_user("bo@example.com", "Bo Erased", PASSWORD, "rep", team="North", now=clock.now())
    users_service.create_user("jimbo@example.com", "Jim Bo", PASSWORD, "rep", team="North", now=clock.now())
    bo_id = bo.id
    db.session.add(JobRun(job="reminders", run_key="2026-03-04", status="error", started_at=clock.now(),
                          detail="0 reminders sent, 2 failed: jimbo@example.com: 451 try later; "
                                 "bo@example.com: 550 5.1.1 <Bo@Example.com>: no such mailbox"))
    db.session.commit()
    _deactivate(bo_id, admin.id, clock)
    users_service.erase_person(db.session.get(User, bo_id), by=db.session.get(User, admin.id), now=clock.now())
    detail = db.session.scalars(db.select(JobRun.detail)).one()
    assert "bo@example.com" not in detail.lower().replace("jimbo@example.com", "")
    assert "jimbo@example.com: 451 try later" in detail and f"Erased person {bo_id}: 550" in detail


def _limiter_keys() -> str:
    """Every key the limiter's in-process (memory://) storage holds, as one text."""
    from learnapp.extensions import limiter

    storage = limiter.storage
    return "\n".join(str(k) for table in (storage.storage, storage.expirations, storage.events) for k in table)


def _refused_logins_and_a_password_email(client, *emails):
    for email in emails:
        for address in ("10.3.0.1", "10.3.0.2"):
            data = {"email": email.upper(), "password": "wrong-password", "csrf_token": csrf_token(client)}
            assert client.post("/login", data=data, environ_base={"REMOTE_ADDR": address}).status_code == 400
        client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token(client)})  # counted with or without mail


def test_erasing_someone_clears_the_login_limiters_counts_of_their_address_and_only_theirs(make_user, clock, auth, client):
    """The login and password-email limits count per address for up to an hour: after the erasure the limiter's
    storage still held login:<their address> and forgot:<their address>."""
    admin = make_user("admin", team=None)
    rep, other = make_user("rep", team="North"), make_user("rep", team="North")
    admin_id, admin_email, rep_id, rep_email, other_email = admin.id, admin.email, rep.id, rep.email, other.email
    _refused_logins_and_a_password_email(client, rep_email, other_email)
    held = _limiter_keys()
    assert f"login:{rep_email}/" in held and f"forgot:{rep_email}/" in held and f"login:{other_email}/" in held
    _deactivate(rep_id, admin_id, clock)
    auth.login(admin_email)
    assert _post(client, f"/admin/people/{rep_id}/erase", f"/admin/people/{rep_id}", confirm=rep_email).status_code == 303
    held = _limiter_keys()
    assert rep_email not in held
    assert f"login:{other_email}/" in held and f"forgot:{other_email}/" in held  # nobody else's counts go
    assert f"login:{admin_email}/" in held  # the admin's own login is counted too (before its password is checked)


def test_erasing_someone_leaves_no_count_under_an_address_they_had_earlier(make_user, clock, client):
    """The limiter's keys hold the address itself for up to an hour: the erasure cleared only the current one's, and
    login:<the address an admin corrected> stayed in the storage after the person was erased."""
    admin = make_user("admin", team=None)
    rep = make_user("rep", team="North")
    admin_id, rep_id, old_email = admin.id, rep.id, rep.email
    _refused_logins_and_a_password_email(client, old_email)
    assert f"login:{old_email}/" in _limiter_keys() and f"forgot:{old_email}/" in _limiter_keys()
    rep = db.session.get(User, rep_id)
    users_service.update_account(rep, name=rep.name, email="corrected@example.org", role=rep.role, timezone=rep.timezone,
                                 team_id=rep.team_id, leads=[], active=True, by=db.session.get(User, admin_id),
                                 now=clock.now())
    _refused_logins_and_a_password_email(client, "corrected@example.org")
    _deactivate(rep_id, admin_id, clock)
    users_service.erase_person(db.session.get(User, rep_id), by=db.session.get(User, admin_id), now=clock.now())
    held = _limiter_keys()
    assert old_email not in held and "corrected@example.org" not in held


def test_erasing_someone_clears_their_addresss_counts_in_a_shared_redis_store(tmp_path, clock):
    """LEARNAPP_RATELIMIT_STORAGE=redis://...: every worker's counts are in Redis, and the erasure clears them there."""
    import secrets
    import socket

    import redis

    from learnapp.app import create_app
    from learnapp.extensions import limiter
    from tests.conftest import database_url

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        import pytest

        pytest.skip("no Redis server on 127.0.0.1:6379")
    prefix = f"learnapp-test-{secrets.token_hex(4)}"  # this run's counters only
    # Flask-Limiter keeps the first key prefix it was given for every later app of the process (the extension is
    # one object): given back at the end, or another test's own prefix would be ignored
    previous_prefix = limiter._key_prefix
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
                      "CLOCK": clock, "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379", "RATELIMIT_KEY_PREFIX": prefix})
    store = redis.Redis.from_url("redis://127.0.0.1:6379")
    try:
        with app.app_context():
            db.create_all()
            admin = users_service.create_user("admin@example.com", "Admin", PASSWORD, "admin", team=None, now=clock.now())
            rep = users_service.create_user("gone@example.com", "Gone", PASSWORD, "rep", team="A", now=clock.now())
            other = users_service.create_user("stays@example.com", "Stays", PASSWORD, "rep", team="A", now=clock.now())
            _refused_logins_and_a_password_email(app.test_client(), rep.email, other.email)
            keys = lambda: " ".join(k.decode() for k in store.scan_iter(f"*{prefix}*"))  # noqa: E731
            assert "login:gone@example.com/" in keys() and "forgot:gone@example.com/" in keys()
            _deactivate(rep.id, admin.id, clock)
            users_service.erase_person(db.session.get(User, rep.id), by=db.session.get(User, admin.id), now=clock.now())
            assert "gone@example.com" not in keys() and "login:stays@example.com/" in keys()
    finally:
        for key in store.scan_iter(f"*{prefix}*"):
            store.delete(key)
        limiter._key_prefix = previous_prefix
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def test_an_erased_account_is_listed_as_erased_not_as_waiting_for_its_password(content, make_user, clock, auth, client):
    """After an erasure the People list said "deactivated · no password yet" and the person's page "no password yet
    (invited)": what the list says of someone whose invitation is still to be sent or used."""
    admin = make_user("admin", team=None)
    rep = make_user("rep")
    _deactivate(rep.id, admin.id, clock)
    users_service.erase_person(db.session.get(User, rep.id), by=admin, now=clock.now())
    auth.login(admin.email)
    listed = _text(client.get("/admin/people"))
    row = listed[listed.index(f"Erased person {rep.id}"):]
    row = row[:row.index("</tr>")]
    assert "erased" in row.split("erased.invalid", 1)[1] and "no password yet" not in row
    assert "no password yet" not in _text(client.get(f"/admin/people/{rep.id}"))
