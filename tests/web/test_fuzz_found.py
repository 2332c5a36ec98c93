"""Defects a fuzzing pass of the web layer found: each request here once returned a 500."""

import pytest

from tests.conftest import PASSWORD, csrf_token

# PostgreSQL's integer ids end at 2**31 - 1, SQLite's at 2**63 - 1: a larger id in a URL failed the query
HUGE_IDS = ["2147483648", "9223372036854775808", "99999999999999999999"]


@pytest.fixture
def people(content, make_user):
    return {"rep": make_user("rep", team="North"), "manager": make_user("manager", team="North"),
            "admin": make_user("admin", team=None)}


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize("url", ["/team/{huge}", "/team/rep/{huge}", "/team/{huge}/data/retention.csv",
                                 "/team/{huge}/chart/retention.svg", "/team/{huge}/skill/x"])
def test_a_huge_id_in_a_team_url_is_404(people, auth, client, url, huge):
    auth.login(people["admin"].email)
    assert client.get(url.format(huge=huge)).status_code == 404


@pytest.mark.parametrize("huge", HUGE_IDS)
def test_a_huge_id_in_a_vacation_url_is_404(people, auth, client, huge):
    rep = people["rep"]
    auth.login(rep.email)
    token = csrf_token(client, "/settings")
    dates = {"start": "2026-03-10", "end": "2026-03-12", "csrf_token": token}
    assert client.post(f"/vacations/{huge}", data=dates).status_code == 404
    assert client.post(f"/vacations/{rep.id}/{huge}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/vacations/{huge}/1/delete", data={"csrf_token": token}).status_code == 404
    assert client.get("/settings").status_code == 200  # and the next request is fine


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: x=1", "/drill/\nX: y"])
def test_a_next_parameter_with_a_line_break_logs_in_to_the_front_page(people, client, target):
    from urllib.parse import quote

    response = client.post(f"/login?next={quote(target, safe='')}", data={
        "email": people["rep"].email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/drill/").status_code == 200


def test_a_csv_of_a_team_with_a_non_latin_name_downloads(content, make_user, auth, client):
    """HTTP headers are Latin-1: a team named in another script broke the download (the server dropped the
    connection), and a quote in the name ended the filename early."""
    from urllib.parse import quote

    name = 'Zespół "Północ" 東京'
    manager = make_user("manager", team=name)
    auth.login(manager.email)
    response = client.get(f"/team/{manager.led_teams[0].id}/data/recall.csv")
    disposition = response.headers["Content-Disposition"]
    assert response.status_code == 200 and disposition.isascii()
    simple = disposition.split('filename="')[1].split('"')[0]
    assert simple.startswith("zespo-") and simple.endswith(".csv") and '"' not in simple and "\\" not in simple
    assert f"filename*=UTF-8''{quote(name.lower().replace(' ', '-'), safe='')}-recall-" in disposition


def test_a_csv_of_a_plain_team_keeps_its_simple_filename(content, make_user, auth, client):
    manager = make_user("manager", team="North Sales")
    auth.login(manager.email)
    response = client.get(f"/team/{manager.led_teams[0].id}/data/recall.csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="north-sales-recall-2025-09-01-2026-03-02.csv"'


@pytest.fixture
def trainer_client(content, make_user, auth, client):
    auth.login(make_user("trainer", team=None).email)
    return client


def _lesson_base(client) -> str:
    import re

    page = client.get("/author/lessons/answer-when-asked/edit").get_data(as_text=True)
    return re.search(r'name="base"[^>]*value="(\d+)"', page).group(1)


@pytest.mark.parametrize("old, new, message", [
    ("position: 9", "position: 99999999999999999999", "'position' must be a whole number between"),
    ("position: 9", "position: 2147483648", "'position' must be a whole number between"),
    ("title: Answer when asked, not before", "title: " + "T" * 201, "'title' must be at most 200 characters"),
    ("summary: Hold", "summary: " + "S" * 501, "'summary' must be at most 500 characters"),
])
def test_a_lesson_field_too_large_for_its_column_rerenders_the_editor(trainer_client, old, new, message):
    """POST /author/lessons/<id>/edit with position 2**31 or more failed the insert with a 500 (on SQLite from 2**63);
    on PostgreSQL a title over 200 or a summary over 500 characters did too."""
    from tests.conftest import ROOT

    text = (ROOT / "lessons" / "answer-when-asked.md").read_text().replace(old, new)
    token = csrf_token(trainer_client, "/author/")
    response = trainer_client.post("/author/lessons/answer-when-asked/edit",
                                   data={"text": text, "base": _lesson_base(trainer_client), "csrf_token": token})
    assert response.status_code == 400 and message in response.get_data(as_text=True).replace("&#39;", "'")
    assert trainer_client.get("/author/lessons/answer-when-asked/edit").status_code == 200


def test_a_scenario_id_longer_than_its_column_rerenders_the_editor(trainer_client):
    """POST /author/scenarios/new with an 81-character id: PostgreSQL refused the insert (500); SQLite stored it."""
    from learnapp.extensions import db
    from learnapp.models import Scenario
    from tests.conftest import ROOT

    text = (ROOT / "scenarios" / "answer-when-asked" / "answer-mei-comparing.md").read_text()
    token = csrf_token(trainer_client, "/author/")
    response = trainer_client.post("/author/scenarios/new", data={
        "text": text.replace("id: answer-mei-comparing", "id: " + "a" * 81), "csrf_token": token})
    assert response.status_code == 400 and "'id' must be at most 80 characters" in response.get_data(as_text=True).replace("&#39;", "'")
    assert db.session.get(Scenario, "a" * 81) is None
    response = trainer_client.post("/author/scenarios/new", data={
        "text": text.replace("id: answer-mei-comparing", "id: " + "a" * 80), "csrf_token": token})
    assert response.status_code == 303


def test_repeated_reminder_days_are_stored_once(content, make_user, auth, client):
    """POST /settings with reminder_days=0 sent 11 times: PostgreSQL refused the 21 characters "0,0,...,0" (500)."""
    from werkzeug.datastructures import MultiDict

    from learnapp.extensions import db

    rep = make_user("rep")
    auth.login(rep.email)
    token = csrf_token(client, "/settings")
    response = client.post("/settings", data=MultiDict(
        [("reminder_days", "0")] * 11 + [("reminder_days", "4")] * 11 + [("reminder_days", "2"),
         ("reminder_time", "09:00"), ("timezone", "UTC"), ("csrf_token", token)]))
    assert response.status_code == 303
    db.session.refresh(rep)
    assert rep.reminder_days == "0,2,4"


@pytest.mark.parametrize("body", ["some text", 1, [{"text": "x"}], True])
def test_live_validation_of_json_that_is_not_an_object_is_400(trainer_client, body):
    """POST /author/validate with a JSON body like "some text" or [...] failed on payload.get (500)."""
    token = csrf_token(trainer_client, "/author/scenarios/new")
    response = trainer_client.post("/author/validate", json=body, headers={"X-CSRFToken": token})
    assert response.status_code == 400 and response.get_json()["ok"] is False


@pytest.mark.parametrize("body", ["[" * 1000, '{"text": ' + "[" * 1000])
def test_live_validation_of_deeply_nested_json_is_400(trainer_client, body):
    """A thousand '[' made the JSON decoder raise RecursionError, which get_json(silent=True) lets through (500)."""
    token = csrf_token(trainer_client, "/author/scenarios/new")
    response = trainer_client.post("/author/validate", data=body, content_type="application/json", headers={"X-CSRFToken": token})
    assert response.status_code == 400 and response.get_json()["ok"] is False


@pytest.mark.parametrize("line, value", [("lead: 2026-02-30", "2026-02-30"), ("title: 0000-01-01", "0000-01-01"),
                                         ("note: 2026-01-01 25:00:00", "2026-01-01 25:00:00")])
def test_a_date_no_calendar_has_in_the_front_matter_is_an_error_at_its_line(trainer_client, line, value):
    """YAML reads 2026-02-30 as a date and failed to build it with ValueError: a 500 in the editor, a crash in check."""
    token = csrf_token(trainer_client, "/author/scenarios/new")
    text = f"---\ntype: scenario\nid: bad-date\n{line}\n---\nbody\n"
    response = trainer_client.post("/author/validate", json={"text": text}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    result = response.get_json()
    assert result["ok"] is False and result["errors"][0]["line"] == 4, result
    assert f"'{value}' reads as a date but is not a real one" in result["errors"][0]["message"]
    response = trainer_client.post("/author/scenarios/new", data={"text": text, "csrf_token": token})
    assert response.status_code == 400 and "reads as a date but is not a real one" in response.get_data(as_text=True)


def _raising(error):
    def fail(*args, **kwargs):
        raise error
    return fail


def test_a_database_error_is_logged_as_the_error_page_says(people, auth, client, monkeypatch, caplog):
    """The DBAPIError handler showed "The error was logged" and logged nothing: Flask logs only unhandled errors."""
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    from learnapp.services import drill

    monkeypatch.setattr(drill, "current_item", _raising(IntegrityError("INSERT ...", {}, sqlite3.IntegrityError("UNIQUE constraint failed: x"))))
    auth.login(people["rep"].email)
    with caplog.at_level("ERROR", logger=client.application.logger.name):
        response = client.get("/drill/")
    assert response.status_code == 500 and "The error was logged" in response.get_data(as_text=True)
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert logged and "GET /drill/" in logged[0].getMessage() and logged[0].exc_info[0] is IntegrityError


def test_a_write_that_waited_past_sqlites_busy_timeout_gets_a_busy_page_not_a_500(people, auth, client, monkeypatch, caplog):
    """"database is locked" after busy_timeout (another writer held the lock 10 s) was a 500 and was not logged."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from learnapp.services import drill

    monkeypatch.setattr(drill, "current_item", _raising(OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked"))))
    auth.login(people["rep"].email)
    with caplog.at_level("WARNING", logger=client.application.logger.name):
        response = client.get("/drill/")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "waited too long. Try again in a moment." in response.get_data(as_text=True)
    assert any("database busy" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    assert client.get("/drill/").status_code == 200  # the next request is fine


def test_an_error_at_commit_still_renders_the_error_page_for_the_logged_in_user(people, auth, client, monkeypatch, caplog):
    """A failed flush expires what the session loaded; removing the session then detached the logged-in user, and the
    error page's layout failed on it (DetachedInstanceError: gunicorn's bare 500), found in review."""
    from learnapp.extensions import db
    from learnapp.models import User
    from learnapp.services import drill

    taken = people["manager"].email

    def duplicate_email(*args, **kwargs):
        db.session.add(User(email=taken, name="Copy", password_hash="x", role="rep", created_at=people["rep"].created_at))
        db.session.commit()  # the unique email refuses it at the flush

    auth.login(people["rep"].email)
    monkeypatch.setattr(drill, "current_item", duplicate_email)
    with caplog.at_level("ERROR", logger=client.application.logger.name):
        response = client.get("/drill/")
    page = response.get_data(as_text=True)
    assert response.status_code == 500 and "The error was logged" in page and "Log out" in page  # the layout, logged in
    assert any(r.levelname == "ERROR" and "GET /drill/" in r.getMessage() for r in caplog.records)


def test_only_sqlites_lock_timeout_is_the_busy_page(people, auth, client, monkeypatch):
    """Any database error whose text held "locked" got the busy page: a unique key 'unlocked@x.com' on PostgreSQL, say."""
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    from learnapp.services import drill

    error = IntegrityError("INSERT ...", {}, sqlite3.IntegrityError('duplicate key: Key (email)=(unlocked@x.com) already exists'))
    monkeypatch.setattr(drill, "current_item", _raising(error))
    auth.login(people["rep"].email)
    response = client.get("/drill/")
    assert response.status_code == 500 and "Retry-After" not in response.headers
