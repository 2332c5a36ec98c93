"""Reminders and digests over a real local SMTP server (aiosmtpd): recipients, subject, body, once only."""

from datetime import datetime, timedelta, timezone

from aiosmtpd.controller import Controller

from learnapp import jobs
from learnapp.extensions import db
from learnapp.models import JobRun, Notification, User
from learnapp.services import drill
from tests.conftest import Inbox, csrf_token, free_port
from tests.helpers import right_answer

MONDAY_0905 = datetime(2026, 3, 2, 9, 5, tzinfo=timezone.utc)


def test_reminders_go_to_reps_with_due_drills_at_their_time_once(inbox, content, make_user, clock):
    clock.set(MONDAY_0905)
    due = make_user("rep", name="Due Dana")
    drilled = make_user("rep", name="Done Dora")
    off = make_user("rep", name="Off Olaf")
    later = make_user("rep", name="Later Lou", timezone="America/New_York")  # 04:05 there
    off.reminders_on = False
    db.session.commit()
    item = drill.current_item(drilled, clock.now())
    drill.submit_answer(drilled, item.presentation.token, right_answer(item), clock.now())

    run = jobs.reminders()
    assert run.status == "ok" and run.detail == "1 reminders sent"
    (recipients, text), = inbox.messages
    assert recipients == [due.email]
    assert "Subject: Your five-minute drill is ready" in text and "https://learn.example.com/drill/" in text
    assert "List-Unsubscribe: <https://learn.example.com/unsubscribe/" in text

    assert jobs.reminders() is None  # the same quarter of an hour: claimed already
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "0 reminders sent"  # Dana had hers today
    clock.set(datetime(2026, 3, 2, 14, 5, tzinfo=timezone.utc))  # 09:05 in New York
    assert jobs.reminders().detail == "1 reminders sent"
    assert inbox.messages[-1][0] == [later.email]
    clock.set(datetime(2026, 3, 7, 10, 0, tzinfo=timezone.utc))  # a Saturday: not a reminder day
    assert jobs.reminders().detail == "0 reminders sent"


def test_the_unsubscribe_link_works_in_one_click_and_forged_tokens_do_not(inbox, content, make_user, clock, client):
    clock.set(MONDAY_0905)
    rep = make_user("rep")
    jobs.reminders()
    url = next(line for line in inbox.messages[0][1].splitlines() if "/unsubscribe/" in line and "https" in line)
    path = url[url.index("/unsubscribe/"):].strip().strip("<>")
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 200  # no CSRF token: mail clients post it as is
    assert db.session.get(User, rep.id).reminders_on is False
    assert client.post("/unsubscribe/forged-token").status_code == 404


def test_a_failing_mail_server_sends_later_and_never_twice(app, content, make_user, clock):
    clock.set(MONDAY_0905)
    rep = make_user("rep")
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens there
    run = jobs.reminders()
    assert run.status == "error" and "0 reminders sent, 1 failed" in run.detail
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0  # the claim was released
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(SMTP_PORT=controller.port)
        clock.advance(timedelta(minutes=15))
        assert jobs.reminders().detail == "1 reminders sent"
        assert [m[0] for m in handler.messages] == [[rep.email]]
    finally:
        controller.stop()


def test_managers_get_a_weekly_digest_of_their_teams(inbox, content, make_user, clock):
    rep = make_user("rep", team="North", name="Rita")
    manager = make_user("manager", team="North")
    make_user("manager", team=None)  # leads no team: no digest
    for _ in range(3):
        item = drill.current_item(rep, clock.now())
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    run = jobs.weekly_digest()
    assert run.status == "ok" and run.detail == "1 digests sent"
    (recipients, text), = inbox.messages
    assert recipients == [manager.email] and "Subject: Weekly learnapp digest, 2026-W11" in text
    assert "North" in text and "participation:" in text and "skills at risk:" in text
    assert jobs.weekly_digest() is None
    assert db.session.scalar(db.select(db.func.count(JobRun.id))) == 1


def test_reps_choose_their_reminder_time_days_and_timezone(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    token = csrf_token(client, "/settings")
    bad = client.post("/settings", data={"csrf_token": token, "reminder_time": "25:00", "timezone": "UTC"})
    assert bad.status_code == 400 and "Use a time like 09:00" in bad.get_data(as_text=True)
    ok = client.post("/settings", data={"csrf_token": token, "reminders_on": "y", "reminder_time": "17:30",
                                        "reminder_days": ["0", "2"], "timezone": "Europe/Berlin"})
    assert ok.status_code == 303
    user = db.session.get(User, rep.id)
    db.session.refresh(user)
    assert (user.reminder_time, user.reminder_days, user.timezone) == ("17:30", "0,2", "Europe/Berlin")
    assert client.post("/settings", data={"csrf_token": token, "reminder_time": "09:00", "timezone": "Mars/Base"}).status_code == 400
