"""Reminders and digests over a real local SMTP server (aiosmtpd): recipients, subject, body, once only."""

import smtplib
import ssl
import subprocess
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from itertools import count

import pytest
from aiosmtpd.controller import Controller

from learnapp import jobs
from learnapp.extensions import db
from learnapp.models import JobRun, Notification, User
from learnapp.services import dashboard, drill, notify
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
    assert run.status == "ok" and run.detail == "1 reminder sent"
    (recipients, text), = inbox.messages
    assert recipients == [due.email]
    assert "Subject: Your five-minute drill is ready" in text and "https://learn.example.com/drill/" in text
    assert "List-Unsubscribe: <https://learn.example.com/unsubscribe/" in text
    # Dana has never drilled: her drill holds new skills only (before: "A few skills are due today")
    assert "new skills to learn" in text and "due" not in " ".join(text.split()).split("drill/")[1].split("Change")[0]

    assert jobs.reminders() is None  # the same quarter of an hour: claimed already
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "0 reminders sent"  # Dana had hers today
    clock.set(datetime(2026, 3, 2, 14, 5, tzinfo=timezone.utc))  # 09:05 in New York
    assert jobs.reminders().detail == "1 reminder sent"
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


def test_a_forged_unsubscribe_post_is_refused_before_it_takes_the_write_lock(make_user, client, monkeypatch):
    from learnapp.web import settings as settings_view

    writes = []
    monkeypatch.setattr(settings_view, "begin_write", lambda *a, **k: writes.append(a))
    rep = make_user("rep")
    forged = notify.unsubscribe_token(rep, notify.REMINDER)[:-2] + "xx"
    for token in ("forged-token", forged, "Imxvbmci.bm90LXNpZ25lZA"):
        assert client.post(f"/unsubscribe/{token}").status_code == 404
    assert writes == []
    assert db.session.get(User, rep.id).reminders_on is True


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
        assert jobs.reminders().detail == "1 reminder sent"
        assert [m[0] for m in handler.messages] == [[rep.email]]
    finally:
        controller.stop()


class Refusing(Inbox):
    """A relay that answers some addresses with a refusal, at RCPT or at DATA, and counts each address's tries."""

    def __init__(self, refuse: dict[str, str], stage: str = "RCPT"):
        super().__init__()
        self.refuse, self.stage, self.tried = refuse, stage, Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.tried[address] += 1
        if self.stage == "RCPT" and address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        refusals = [self.refuse[address] for address in envelope.rcpt_tos if address in self.refuse]
        if self.stage == "DATA" and refusals:
            return refusals[0]
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def relay(app):
    """Starts a real SMTP server (aiosmtpd) with the given handler and points the app at it."""
    controllers = []

    def start(handler, **options):
        controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **options)
        controller.start()
        controllers.append(controller)
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, BASE_URL="https://learn.example.com")
        return handler

    yield start
    for controller in controllers:
        controller.stop()


def refusals():
    return dict(db.session.execute(db.select(Notification.user_id, Notification.refused)).all())


def mail_error(run) -> str:
    """A failed mail run's detail: the MailError's message, which says which emails failed and why (no traceback)."""
    assert run.status == "error" and "Traceback" not in run.detail and "\n" not in run.detail, run.detail
    return run.detail


@pytest.mark.parametrize("stage, reply", [("RCPT", "550 5.1.1 no such mailbox"), ("DATA", "554 5.7.1 message refused")])
def test_a_digest_the_relay_refuses_for_good_is_reported_once_and_not_tried_again_all_week(relay, content, make_user,
                                                                                          clock, stage, reply):
    gone = make_user("manager", team="North", name="Gone Gil")
    here = make_user("manager", team="South", name="Here Hana")
    make_user("rep", team="North"), make_user("rep", team="South")
    handler = relay(Refusing({gone.email: reply}, stage))
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    run = jobs.weekly_digest()
    assert run.status == "error" and mail_error(run) == (f"1 digest sent, 1 refused for good by the mail relay, "
                                                         f"not tried again (check the address): {gone.email}: {reply}")
    (recipients, text), = handler.messages  # the other manager's digest is sent as usual, and only theirs
    assert recipients == [here.email]
    assert f"To: Here Hana <{here.email}>" in text and "Subject: Weekly learnapp digest: 2 to 8 Mar 2026" in text
    assert "Hello Here Hana" in text and "South\n- participation:" in text.replace("\r\n", "\n") and "North" not in text
    assert refusals() == {gone.id: reply, here.id: None}  # the claim is kept, marked refused

    for _ in range(24):  # the hourly checks of the next day
        clock.advance(timedelta(hours=1))
        jobs.weekly_digest()
    assert [r.status for r in db.session.scalars(db.select(JobRun).order_by(JobRun.id))] == ["error"]  # nothing due after it
    assert handler.tried == {gone.email: 1, here.email: 1} and len(handler.messages) == 1


def test_a_reminder_the_relay_refuses_for_good_is_not_tried_again_that_day(relay, content, make_user, clock):
    gone = make_user("rep", name="Gone Gus")
    here = make_user("rep", name="Here Hal")
    handler = relay(Refusing({gone.email: "550 5.1.1 no such mailbox"}))
    clock.set(MONDAY_0905)
    run = jobs.reminders()
    assert run.status == "error" and mail_error(run) == (f"1 reminder sent, 1 refused for good by the mail relay, not tried "
                                                         f"again (check the address): {gone.email}: 550 5.1.1 no such mailbox")
    (recipients, text), = handler.messages
    assert recipients == [here.email] and f"To: Here Hal <{here.email}>" in text and "Hello Here Hal" in text
    assert "Subject: Your five-minute drill is ready" in text
    assert refusals() == {gone.id: "550 5.1.1 no such mailbox", here.id: None}
    for _ in range(8):  # the quarter-hourly checks of the next two hours
        clock.advance(timedelta(minutes=15))
        assert jobs.reminders().detail == "0 reminders sent"
    assert handler.tried == {gone.email: 1, here.email: 1}
    clock.set(MONDAY_0905 + timedelta(days=1))  # the next day's reminder is a new email: tried (the address may be fixed)
    assert jobs.reminders().status == "error" and handler.tried[gone.email] == 2


def test_a_recipient_refused_for_now_is_tried_again_at_the_next_check(relay, content, make_user, clock):
    busy = make_user("rep")
    here = make_user("rep")
    handler = relay(Refusing({busy.email: "450 4.2.1 mailbox busy, try later"}))
    clock.set(MONDAY_0905)
    run = jobs.reminders()
    assert mail_error(run) == f"1 reminder sent, 1 failed: {busy.email}: 450 4.2.1 mailbox busy, try later"
    assert refusals() == {here.id: None}  # the claim was given back
    handler.refuse.clear()
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "1 reminder sent"
    assert [recipients for recipients, _ in handler.messages] == [[here.email], [busy.email]]
    assert refusals() == {here.id: None, busy.id: None}


@pytest.mark.parametrize("error, permanent", [
    (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"5.1.1 no such\r\nmailbox")}), "550 5.1.1 no such mailbox"),
    (smtplib.SMTPRecipientsRefused({"a@example.com": (450, b"4.2.1 busy")}), None),
    (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"gone"), "b@example.com": (451, b"later")}), None),
    (smtplib.SMTPDataError(554, b"5.7.1 spam"), "554 5.7.1 spam"),
    (smtplib.SMTPDataError(451, b"4.3.0 local error"), None),
    (smtplib.SMTPSenderRefused(553, b"5.7.1 sender not allowed", "learnapp@localhost"), "553 5.7.1 sender not allowed"),
    (smtplib.SMTPSenderRefused(421, b"closing", "learnapp@localhost"), None),
    (smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"), None),  # the relay's settings: every email fails
    (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), None),
    (ConnectionRefusedError(111, "Connection refused"), None),
    (TimeoutError("timed out"), None),
    (notify.AddressNotSupported(), notify.NO_SMTPUTF8),  # a non-ASCII recipient address, a relay without SMTPUTF8
    (smtplib.SMTPNotSupportedError("STARTTLS extension not supported by server."), None),  # the relay's settings
])
def test_only_5xx_replies_about_the_email_are_permanent(error, permanent):
    from learnapp.services.notify import permanent_refusal

    assert permanent_refusal(error) == permanent


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
    assert run.status == "ok" and run.detail == "1 digest sent"
    (recipients, text), = inbox.messages
    assert recipients == [manager.email] and "Subject: Weekly learnapp digest: 2 to 8 Mar 2026" in text
    assert "North" in text and "participation:" in text and "skills at risk:" in text
    assert jobs.weekly_digest() is None
    assert db.session.scalar(db.select(db.func.count(JobRun.id))) == 1


def test_the_digests_retention_trend_is_the_last_three_weeks_in_order_and_participation_the_past_week(inbox, content,
                                                                                                     make_user, clock):
    """send_digests gave the dashboard the past seven days, so "true retention, last weeks" always had one value: the
    trend was never a trend. Now it is the three calendar weeks before the manager's Monday, oldest first."""
    from learnapp.domain.retention import week_start
    from learnapp.models import RetentionRollup
    from tests.helpers import wrong_answer

    clock.set(datetime(2026, 2, 9, 8, 0, tzinfo=timezone.utc))  # a Monday, four weeks before the digest of 2-8 March
    rep = make_user("rep", team="North", name="Rita")
    manager = make_user("manager", team="North")
    answers = count()
    skipped = {date(2026, 2, 18), date(2026, 3, 6)}  # a Wednesday three weeks back, the Friday of the digest's week
    while clock.now() < datetime(2026, 3, 7, tzinfo=timezone.utc):
        if clock.now().weekday() < 5 and clock.now().date() not in skipped:
            if drill.current_item(rep, clock.now()) is None:
                drill.practise_more(rep, clock.now())  # nothing due today: she practises anyway
            while (item := drill.current_item(rep, clock.now())) is not None:
                wrong = next(answers) % {7: 5, 8: 2, 9: 4, 10: 8}[clock.now().isocalendar().week] == 0  # a share a week
                drill.submit_answer(rep, item.presentation.token, wrong_answer(item) if wrong else right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    by_week: dict[date, list[int]] = {}
    for day, n, right in db.session.execute(db.select(RetentionRollup.day, RetentionRollup.n, RetentionRollup.right)
                                            .filter_by(team_id=rep.team_id)):
        counts = by_week.setdefault(week_start(day), [0, 0])
        counts[0], counts[1] = counts[0] + n, counts[1] + right
    weeks = [date(2026, 2, 16), date(2026, 2, 23), date(2026, 3, 2)]
    assert set(by_week) == {date(2026, 2, 9), *weeks}
    percents = [f"{by_week[week][1] / by_week[week][0] * 100:.0f}%" for week in weeks]
    assert len(set(percents)) == 3, percents  # three different values: the order shows
    expected = "".join(f"\n  - week of {week.day} {week:%b}: {percent} of {by_week[week][0]} first tries"
                       for week, percent in zip(weeks, percents))

    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "1 digest sent"
    (recipients, text), = inbox.messages
    text = text.replace("\r\n", "\n")
    assert recipients == [manager.email] and "your team's week, Monday 2 to Sunday 8 Mar 2026:" in text
    assert f"- true retention, last 3 weeks (first tries right on skills learned earlier):{expected}\n" in text
    assert "- participation: 4 of 5 working days drilled (80%)\n" in text  # the week's, not the three weeks' 13 of 15


def test_the_digests_trend_names_each_figure_by_its_week_in_the_managers_timezone(inbox, content, make_user, clock):
    """The trend read "90% -> no reviews -> 75%": a manager could not tell which week each figure belonged to, nor what it
    measured. Now each week is a line named by its Monday in the manager's own calendar (Auckland's Monday 06:00 is
    Sunday in UTC: a UTC calendar would have named the weeks of 9, 16 and 23 Feb), with what the figure counts."""
    from learnapp.models import RetentionRollup

    make_user("rep", team="North")
    manager = make_user("manager", team="North", timezone="Pacific/Auckland")
    team_id = manager.led_teams[0].id
    db.session.add_all([RetentionRollup(team_id=team_id, day=date(2026, 2, 18), week=1, n=10, right=9),
                        RetentionRollup(team_id=team_id, day=date(2026, 3, 4), week=2, n=1, right=1)])
    db.session.commit()
    clock.set(datetime(2026, 3, 8, 17, 0, tzinfo=timezone.utc))  # Monday 9 March, 06:00 in Auckland
    assert jobs.weekly_digest().detail == "1 digest sent"
    (_, text), = inbox.messages
    assert ("- true retention, last 3 weeks (first tries right on skills learned earlier):\n"
            "  - week of 16 Feb: 90% of 10 first tries\n"
            "  - week of 23 Feb: no reviews\n"
            "  - week of 2 Mar: 100% of 1 first try\n"
            "- skills at risk:") in text.replace("\r\n", "\n")
    assert "->" not in text


def test_the_digest_counts_a_new_reps_working_days_from_the_day_they_joined(inbox, content, make_user, clock):
    manager = make_user("manager", team="North")
    clock.set(datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc))  # Wednesday: Nora's first day
    nora = make_user("rep", team="North", name="Nora")
    for _ in range(3):  # Wednesday to Friday, every day she has been here
        if drill.current_item(nora, clock.now()) is None:
            drill.practise_more(nora, clock.now())
        while (item := drill.current_item(nora, clock.now())) is not None:
            drill.submit_answer(nora, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))  # the digest of 2-8 March
    assert jobs.weekly_digest().detail == "1 digest sent"
    (recipients, text), = inbox.messages
    assert recipients == [manager.email]
    assert "- participation: 3 of 3 working days drilled (100%)" in text.replace("\r\n", "\n")  # not 3 of 5


def test_the_digest_names_the_reps_at_risk_with_the_percents_the_dashboard_shows(inbox, content, make_user, clock,
                                                                                 monkeypatch):
    from learnapp.models import Skill

    luca, ben = make_user("rep", team="North", name="Luca"), make_user("rep", team="North", name="Ben")
    make_user("manager", team="North")
    skill = db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)).first()
    recall = {luca.id: {skill.id: 0.6984}, ben.id: {skill.id: 0.9042}}
    monkeypatch.setattr(dashboard.retention, "recall_matrix", lambda states, now, scheduler: recall)
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "1 digest sent"
    (_, text), = inbox.messages
    assert f"- skills at risk: 1\n  - {skill.title} (team 80%; under 70%: Luca 69%)\n" in text.replace("\r\n", "\n")


def test_each_manager_gets_the_digest_at_monday_six_in_their_own_timezone(inbox, content, make_user, clock):
    zones = {"Pacific/Auckland": "North", "Asia/Kolkata": "South", "America/Los_Angeles": "West"}
    managers = {make_user("manager", team=team, timezone=zone).email: zone for zone, team in zones.items()}
    for team in zones.values():
        make_user("rep", team=team)
    clock.set(datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc))  # Sunday noon UTC
    assert jobs.weekly_digest() is None  # new here since Monday: no digest of the week before, which they were not there for
    clock.advance(timedelta(minutes=15))
    got: dict[str, list[datetime]] = {}
    while clock.now() < datetime(2026, 3, 10, 0, 0, tzinfo=timezone.utc):  # the scheduler's quarter-hour checks
        before = len(inbox.messages)
        jobs.weekly_digest()
        for recipients, text in inbox.messages[before:]:
            got.setdefault(managers[recipients[0]], []).append(clock.now())
            assert "Subject: Weekly learnapp digest: 2 to 8 Mar 2026" in text and "Monday 2 to Sunday 8 Mar 2026" in text
        clock.advance(timedelta(minutes=15))
    assert got == {  # Monday 06:00 local, once each
        "Pacific/Auckland": [datetime(2026, 3, 8, 17, 0, tzinfo=timezone.utc)],  # NZDT, UTC+13: still Sunday in UTC
        "Asia/Kolkata": [datetime(2026, 3, 9, 0, 30, tzinfo=timezone.utc)],  # UTC+5:30
        "America/Los_Angeles": [datetime(2026, 3, 9, 13, 0, tzinfo=timezone.utc)],  # PDT since 8 March, UTC-7
    }
    runs = db.session.scalars(db.select(JobRun).order_by(JobRun.id)).all()
    assert [(r.run_key, r.detail) for r in runs] == [  # one run per digest time, not one per check
        ("2026-03-08T17:00Z", "1 digest sent"), ("2026-03-09T00:30Z", "1 digest sent"), ("2026-03-09T13:00Z", "1 digest sent")]


def test_a_manager_moving_to_a_timezone_whose_monday_has_passed_gets_that_weeks_digest(inbox, content, make_user, clock):
    clock.set(datetime(2026, 2, 20, 12, 0, tzinfo=timezone.utc))  # here since the week before
    london = make_user("manager", team="North", timezone="Europe/London")
    traveller = make_user("manager", team="South", timezone="America/New_York")
    make_user("rep", team="North"), make_user("rep", team="South")
    clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "2 digests sent"  # new here: the week before, caught up
    inbox.messages.clear()
    clock.set(datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "1 digest sent"  # London's Monday 06:00 (New York's is 11:00 UTC)
    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc))
    traveller.timezone = "Europe/London"  # changed in settings before New York's 06:00 came
    db.session.commit()
    assert jobs.weekly_digest().detail == "1 digest sent"  # at the next check, not never (found in review)
    assert sorted(r[0][0] for r in inbox.messages) == sorted([london.email, traveller.email])
    assert all("Subject: Weekly learnapp digest: 23 Feb to 1 Mar 2026" in text for _, text in inbox.messages)
    clock.set(datetime(2026, 3, 2, 11, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest() is None  # New York's 06:00 brings nothing twice


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


def test_without_an_smtp_host_jobs_skip_and_claim_nothing_so_reminders_go_out_once_it_is_set(app, inbox, content,
                                                                                              make_user, clock):
    clock.set(datetime(2026, 2, 20, 9, 0, tzinfo=timezone.utc))  # here since the week the digest reports
    rep = make_user("rep", team="North")
    manager = make_user("manager", team="North")
    host = app.config["SMTP_HOST"]
    app.config["SMTP_HOST"] = ""  # the default: SMTP_HOST unset
    clock.set(MONDAY_0905)
    for run in (jobs.reminders(), jobs.weekly_digest()):
        assert run.status == "skipped" and run.detail == "no SMTP host configured (SMTP_HOST unset)"
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0
    app.config["SMTP_HOST"] = host  # configured later the same morning
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "1 reminder sent"
    assert jobs.weekly_digest().detail == "1 digest sent"  # the skipped week is not lost
    assert sorted(m[0][0] for m in inbox.messages) == sorted([rep.email, manager.email])


def test_reminders_wait_for_the_web_apps_writes_instead_of_failing(inbox, content, make_user, clock, monkeypatch):
    """A web request commits between the job's reads and its claim (on SQLite: "database is locked" at once before)."""
    from sqlalchemy import update

    from learnapp.services import notify

    reps = [make_user("rep") for _ in range(3)]
    checked, renames = notify.drilled_today, count(1)

    def a_request_writes_meanwhile(user, now):
        with db.engine.begin() as other:  # another connection, as a web worker's: a rep renames themself
            other.execute(update(User).where(User.id == reps[0].id).values(name=f"Renamed {next(renames)}"))
        return checked(user, now)

    monkeypatch.setattr(notify, "drilled_today", a_request_writes_meanwhile)
    clock.set(MONDAY_0905)
    run = jobs.reminders()
    assert run.status == "ok", run.detail
    assert run.detail == "3 reminders sent" and len(inbox.messages) == 3


def _drill_week(rep, clock):
    for _ in range(5):  # Monday 2 to Friday 6 March
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))


def test_the_digest_does_not_count_vacation_days_as_missed_or_due(inbox, content, make_user, clock):
    from learnapp.services.users import get_or_create_team
    from learnapp.services.vacations import add_vacation

    rep = make_user("rep", team="North", name="Vera")
    manager = make_user("manager", team="North")
    manager.led_teams.append(get_or_create_team("Empty"))
    db.session.commit()
    _drill_week(rep, clock)
    add_vacation(rep, date(2026, 3, 9), date(2026, 3, 20), by=manager, now=clock.now())  # two working weeks away
    clock.set(datetime(2026, 3, 23, 6, 0, tzinfo=timezone.utc))  # the Monday she is back: the digest of 16-22 March
    assert jobs.weekly_digest().detail == "1 digest sent"
    (_, text), = inbox.messages
    text = text.replace("\r\n", "\n")
    empty, north = text[text.index("Empty\n"):text.index("North\n")], text[text.index("North\n"):]
    assert "- no reps in this team during the week: nothing to report" in empty
    assert "- participation: no working days due (everyone away)" in north
    assert "- no drill in 7 working days: none" in north


def test_the_dashboard_counts_a_reps_idle_working_days_around_a_vacation(content, make_user, clock, auth, client):
    from learnapp.services.vacations import add_vacation

    back = make_user("rep", team="North", name="Back Bea")  # drilled Friday, away the next week: 4 working days idle
    idle = make_user("rep", team="North", name="Idle Ivo")  # drilled Monday only, same vacation: 8 working days idle
    manager = make_user("manager", team="North")
    _drill_week(back, clock)
    clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc))
    while (item := drill.current_item(idle, clock.now())) is not None:
        drill.submit_answer(idle, item.presentation.token, right_answer(item), clock.now())
    for rep in (back, idle):
        add_vacation(rep, date(2026, 3, 9), date(2026, 3, 13), by=manager, now=clock.now())
    clock.set(datetime(2026, 3, 19, 18, 0, tzinfo=timezone.utc))  # Thursday after the vacation
    board = dashboard.team_dashboard(back.team, dashboard.DateRange(date(2026, 3, 2), date(2026, 3, 19)), clock.now())
    assert [u.name for u in board.inactive] == ["Idle Ivo"]
    # 2 to 19 March less the vacation week: 9 working days, of which Thursday 19 March is under way and not drilled,
    # so not due yet
    assert [(p.days_drilled, p.working_days) for p in board.participation] == [(5, 8), (1, 8)]
    auth.login(manager.email)
    page = client.get(f"/team/{back.team_id}?start=2026-03-16&end=2026-03-19").get_data(as_text=True)
    assert "No drill in the last 7 working days:" in page and "Idle Ivo</a></p>" in page and "Back Bea</a>," not in page


@pytest.fixture
def relay_certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1 (openssl), as a private mail relay would have."""
    cert, key = tmp_path / "relay.pem", tmp_path / "relay.key"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                        "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
    except FileNotFoundError:
        pytest.skip("openssl is not installed")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


@pytest.mark.parametrize("mode", ["SMTP_SSL", "SMTP_STARTTLS"])
def test_mail_goes_over_tls_only_to_a_relay_whose_certificate_checks_out(app, content, make_user, clock, relay_certificate, mode):
    cert, server_context = relay_certificate
    handler = Inbox()
    tls = {"ssl_context": server_context} if mode == "SMTP_SSL" else {"tls_context": server_context, "require_starttls": True}
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **tls)
    controller.start()
    try:
        rep = make_user("rep", team="North")
        app.config.update({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port, "SMTP_SSL": False, "SMTP_STARTTLS": False, mode: True})
        clock.set(MONDAY_0905)
        untrusted = jobs.reminders()  # the system's CAs do not know this relay: no mail, nothing claimed
        assert untrusted.status == "error" and "CERTIFICATE_VERIFY_FAILED" in untrusted.detail and handler.messages == []
        assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0
        app.config["SMTP_CA_FILE"] = str(cert)
        assert jobs.reminders().detail == "1 reminder sent"
        assert [recipients for recipients, _ in handler.messages] == [[rep.email]]
    finally:
        controller.stop()


_RENAMES = count(1)


def _another_request_writes(user_id: int) -> None:
    """Another connection, as another web worker's, commits a change (a rep renames themself) if it can right now.

    On SQLite it does not wait for a write lock this request already holds (it would wait for itself): then no
    other write can come in between anyway.
    """
    from sqlalchemy import update
    from sqlalchemy.exc import OperationalError

    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as other:
        if sqlite:
            other.exec_driver_sql("PRAGMA busy_timeout=0")
        try:
            other.execute(update(User).where(User.id == user_id).values(name=f"Renamed {next(_RENAMES)}"))
            other.commit()
        except OperationalError:
            assert sqlite  # "database is locked": this request holds the write lock
            other.rollback()
        finally:
            if sqlite:
                other.exec_driver_sql("PRAGMA busy_timeout=10000")
                other.commit()


def test_saving_settings_and_unsubscribing_wait_for_other_writes_instead_of_failing(app, content, make_user, auth, client,
                                                                                    monkeypatch):
    """Another request commits between the page's reads and its write (on SQLite: "database is locked", a 500, before)."""
    from flask import g

    from learnapp.services import notify
    from learnapp.web import settings as settings_web

    rep, peer = make_user("rep"), make_user("rep")
    rep_id, peer_id, token = rep.id, peer.id, notify.unsubscribe_token(rep, notify.REMINDER)
    auth.login(rep.email)
    csrf = csrf_token(client, "/settings")
    form, named = settings_web.settings_form, settings_web.user_for_token
    monkeypatch.setattr(settings_web, "settings_form", lambda **kw: (form(**kw), _another_request_writes(peer_id))[0])
    monkeypatch.setattr(settings_web, "user_for_token", lambda t: (named(t), _another_request_writes(peer_id))[0])
    saved = client.post("/settings", data={"csrf_token": csrf, "reminders_on": "y", "reminder_time": "07:15",
                                           "reminder_days": ["1", "3"], "timezone": "Europe/Berlin"})
    assert saved.status_code == 303
    db.session.expire_all()
    rep = db.session.get(User, rep_id)
    assert (rep.reminder_time, rep.reminder_days, rep.timezone) == ("07:15", "1,3", "Europe/Berlin")
    db.session.remove()  # the link is opened in a mail client, logged out: a request that has read nothing yet
    g.pop("_login_user", None)  # (the test's app context, shared by the client's requests, had the rep logged in)
    assert app.test_client().post(f"/unsubscribe/{token}").status_code == 200
    db.session.expire_all()
    assert db.session.get(User, rep_id).reminders_on is False


@pytest.mark.parametrize("token", ["forged-token", "MQ.J9c3iI5JeGwTIP26qKXpe25im2", "MQ"])
def test_a_damaged_unsubscribe_link_says_how_to_stop_the_emails_instead_of_nothing_here(content, make_user, client, token):
    """A link cut short by a mail program, or signed with a key since changed: 404, and the way to stop the emails."""
    make_user("rep")
    for response in (client.get(f"/unsubscribe/{token}"), client.post(f"/unsubscribe/{token}")):
        page = " ".join(response.get_data(as_text=True).split())
        assert response.status_code == 404
        assert "This unsubscribe link does not work" in page and "There is nothing here" not in page
        assert 'href="/settings"' in page  # log in and switch the reminders off there
    assert db.session.scalar(db.select(User.reminders_on)) is True


def test_every_email_carries_rfc_8058_one_click_headers_that_work_logged_out(inbox, content, make_user, clock, client):
    """Reminder and digest: List-Unsubscribe (the https link) and List-Unsubscribe-Post; the mail provider's POST
    of "List-Unsubscribe=One-Click", without cookies or CSRF token, stops the emails, and again is harmless."""
    import re

    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))  # Monday: the week's digest
    jobs.weekly_digest()
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc))
    jobs.reminders()
    by_person = {to[0]: text for to, text in inbox.messages}
    assert set(by_person) == {rep.email, manager.email}
    for person in (rep, manager):
        text = by_person[person.email]
        assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in text
        path = re.search(r"^List-Unsubscribe: <https://learn\.example\.com(/unsubscribe/[^>]+)>$", text, re.M).group(1)
        assert path in text.split("\n\n", 1)[1]  # the same link in the body, for mail programs without the button
        for _ in range(2):
            response = client.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
            assert response.status_code == 200 and "Unsubscribed" in response.get_data(as_text=True)
        db.session.expire_all()
        assert db.session.get(User, person.id).reminders_on is False



def _jose(role: str, clock, team: str = "Team A") -> User:
    from learnapp.services.users import create_user

    return create_user("josé@example.com", "José", "correct-horse-1", role, team=team, now=clock.now())


NO_SMTPUTF8 = "the mail relay does not take addresses with non-ASCII characters (it lacks SMTPUTF8)"


def test_a_reminder_to_an_address_the_relay_cannot_take_is_refused_once_not_retried_all_day(relay, content, make_user, clock):
    """A non-ASCII address needs SMTPUTF8, which this relay lacks (as aiosmtpd's SMTP class by default): smtplib raises
    SMTPNotSupportedError. It was taken for a failure for now: every quarter hour's run was an error and tried again."""
    handler = relay(Refusing({}), enable_SMTPUTF8=False)
    clock.set(MONDAY_0905)
    jose, here = _jose("rep", clock), make_user("rep")
    run = jobs.reminders()
    assert mail_error(run) == ("1 reminder sent, 1 refused for good by the mail relay, not tried again (check the address): "
                               f"josé@example.com: {NO_SMTPUTF8}")
    assert [recipients for recipients, _ in handler.messages] == [[here.email]]
    assert refusals() == {jose.id: NO_SMTPUTF8, here.id: None}  # the claim is kept, marked refused
    later = make_user("rep", timezone="America/Sao_Paulo")  # 09:00 there is 12:00 UTC
    for _ in range(16):  # the next four hours' checks: not tried again, and the runs for others are no errors
        clock.advance(timedelta(minutes=15))
        assert jobs.reminders().status == "ok"
    assert [recipients for recipients, _ in handler.messages] == [[here.email], [later.email]]
    assert handler.tried == {here.email: 1, later.email: 1}  # José's never reached the relay: refused by smtplib


def test_a_digest_to_an_address_the_relay_cannot_take_is_refused_once_not_retried_all_week(relay, content, clock, make_user):
    relay(Refusing({}), enable_SMTPUTF8=False)
    jose = _jose("manager", clock, team="North")
    make_user("rep", team="North")
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    run = jobs.weekly_digest()
    assert mail_error(run) == ("0 digests sent, 1 refused for good by the mail relay, not tried again (check the address): "
                               f"josé@example.com: {NO_SMTPUTF8}")
    for _ in range(24):
        clock.advance(timedelta(hours=1))
        assert jobs.weekly_digest() is None  # nothing due: the week's digest to José is claimed, as refused
    assert refusals() == {jose.id: NO_SMTPUTF8}


def test_a_relay_with_smtputf8_gets_the_non_ascii_address(relay, content, clock):
    handler = relay(Inbox(), enable_SMTPUTF8=True)
    clock.set(MONDAY_0905)
    _jose("rep", clock)
    assert jobs.reminders().detail == "1 reminder sent"
    assert [recipients for recipients, _ in handler.messages] == [["josé@example.com"]]


def test_every_email_has_a_date_and_its_own_message_id(inbox, content, make_user, clock):
    """RFC 5322 requires a Date; without it and a Message-ID, mail programs sorted the reminder by whatever time the
    relay or the reader's program made up, and spam filters count both missing against the sender."""
    import email
    import email.policy
    from email.utils import parsedate_to_datetime

    make_user("rep"), make_user("rep")
    clock.set(MONDAY_0905)
    assert jobs.reminders().detail == "2 reminders sent"
    headers = [email.message_from_string(text, policy=email.policy.default) for _, text in inbox.messages]
    assert [parsedate_to_datetime(m["Date"]) for m in headers] == [MONDAY_0905, MONDAY_0905]
    ids = [m["Message-ID"] for m in headers]
    assert all(i and i.startswith("<") and i.endswith("@localhost>") for i in ids) and len(set(ids)) == 2


def test_the_digest_names_the_week_it_covers_in_dates_with_the_year(inbox, content, make_user, clock):
    """The subject said 'Weekly learnapp digest, 2026-W02', the ISO week of the Monday it was sent, while the body covered
    the week before ('(29 Dec to 04 Jan)', no year): a manager filing digests read the wrong week's number."""
    clock.set(datetime(2025, 12, 20, 12, 0, tzinfo=timezone.utc))
    make_user("rep", team="North"), make_user("manager", team="North")
    clock.set(datetime(2026, 1, 5, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "1 digest sent"
    (_, text), = inbox.messages
    assert "Subject: Weekly learnapp digest: 29 Dec 2025 to 4 Jan 2026\n" in text
    assert "your team's week, Monday 29 Dec 2025 to Sunday 4 Jan 2026:" in text
    assert "- true retention, last 3 weeks (first tries right on skills learned earlier): no reviews" in text
    assert "W02" not in text and "W01" not in text


def test_the_digest_lists_each_skill_at_risk_on_its_own_line_and_says_how_many_more(inbox, content, make_user, clock,
                                                                                     monkeypatch):
    """The skills at risk ran together on one line of 400 characters and more, cut after the fifth without a word:
    a manager with seven skills at risk read of five."""
    from learnapp.models import Skill

    luca = make_user("rep", team="North", name="Luca")
    make_user("manager", team="North")
    skills = db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)).all()[:7]
    recall = {luca.id: {s.id: 0.40 + 0.02 * n for n, s in enumerate(skills)}}
    monkeypatch.setattr(dashboard.retention, "recall_matrix", lambda states, now, scheduler: recall)
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "1 digest sent"
    (_, text), = inbox.messages
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines.index("- skills at risk: 7")
    assert lines[start + 1:start + 7] == [f"  - {s.title} (team {40 + 2 * n}%; under 70%: Luca {40 + 2 * n}%)"
                                          for n, s in enumerate(skills[:5])] + ["  - and 2 more on the dashboard"]
    assert max(len(line) for line in lines if not line.startswith(("List-Unsubscribe", "Stop this"))) <= 100


def test_the_digest_says_plainly_that_a_team_without_reps_has_nothing_to_report(inbox, content, make_user, clock):
    """A manager leading a new team with nobody in it yet read four lines ending 'no drill in 7 working days: none',
    as if everyone there had drilled."""
    from learnapp.services.users import create_team

    make_user("rep", team="North", name="Rita")
    manager = make_user("manager", team="North")
    manager.led_teams = manager.led_teams + [create_team("New Hires")]
    db.session.commit()
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "1 digest sent"
    (_, text), = inbox.messages
    body = text.replace("\r\n", "\n").split("\n\n", 1)[1]
    assert "your teams' week, Monday 2 to Sunday 8 Mar 2026:" in body
    assert "\n\nNew Hires\n- no reps in this team during the week: nothing to report\n\nNorth\n- participation:" in body
    assert body.count("no drill in 7 working days") == 1  # North's


def test_the_reminder_and_invitation_give_the_drill_length_the_install_set(app, inbox, content, make_user, clock):
    """With LEARNAPP_SESSION_SECONDS=600 the drills last ten minutes, but the reminder still promised 'Your five-minute
    drill is ready' and the invitation 'a five-minute daily drill'."""
    from learnapp.services import password_links
    from learnapp.services.users import create_user

    app.config["SESSION_SECONDS"] = 600
    make_user("rep")
    clock.set(MONDAY_0905)
    assert jobs.reminders().detail == "1 reminder sent"
    invited = create_user("ivo@example.com", "Ivo", None, "rep", team="Team A", now=clock.now())
    password_links.send(invited, password_links.INVITE)
    (_, reminder), (_, invitation) = inbox.messages
    assert "Subject: Your ten-minute drill is ready\n" in reminder and "your ten-minute drill is ready:" in reminder
    assert "a ten-minute daily drill" in " ".join(invitation.split()) and "five" not in reminder + invitation
    app.config["SESSION_SECONDS"] = 90
    assert notify.reminder_mail(invited).subject == "Your two-minute drill is ready"  # 1.5 rounds up, not to 'zero'


def test_a_reminder_says_skills_are_due_when_the_drill_brings_some_back(inbox, content, make_user, clock):
    """Only then: a drill of new skills only is announced as such (before, every reminder said skills were due)."""
    clock.set(MONDAY_0905)
    rep = make_user("rep")
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    clock.set(MONDAY_0905 + timedelta(days=10))  # Thursday 12 March: Monday's skills are due again
    assert jobs.reminders().detail == "1 reminder sent"
    (_, text), = inbox.messages
    assert "A few skills are due today; answering them now keeps them from fading." in " ".join(text.split())
    assert "new skills to learn" not in text


def test_emails_are_addressed_to_the_persons_name_encoded_for_any_mail_program(app, content, make_user, clock):
    """The To header held the bare address ('To: rep1@example.com'), so the reader's inbox and a shared mailbox
    showed no name; a name such as 'Müller, Zoë' must be encoded (RFC 2047) and quoted, not read as two addresses."""
    import email
    import email.policy

    class Raw:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content))
            return "250 OK"

    handler = Raw()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port)
        zoe = make_user("rep", name="Müller, Zoë")
        clock.set(MONDAY_0905)
        assert jobs.reminders().detail == "1 reminder sent"
    finally:
        controller.stop()
    (recipients, raw), = handler.messages
    assert recipients == [zoe.email]
    header = raw.split(b"\r\n\r\n", 1)[0]
    assert header.isascii() and b"Content-Type: text/plain; charset=\"utf-8\"" in header
    message = email.message_from_bytes(raw, policy=email.policy.default)
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Müller, Zoë", zoe.email)
    assert "Hello Müller, Zoë," in message.get_content()


def test_the_unsubscribe_link_in_the_body_does_not_promise_what_the_page_does_not_do(inbox, content, make_user, clock,
                                                                                      client):
    """The body said 'Stop these reminders with one click', but the link opens a page that asks to confirm (a GET must
    not unsubscribe: link scanners open every link): a rep who clicked and closed the page kept getting reminders."""
    make_user("rep"), make_user("manager")
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    jobs.weekly_digest()
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc))
    jobs.reminders()
    assert len(inbox.messages) == 2
    for _, text in inbox.messages:
        body = text.split("\n\n", 1)[1].replace("\r\n", "\n")
        line = next(line for line in body.split("\n") if "/unsubscribe/" in line)
        assert "one click" not in line and "confirm" in line
        path = line[line.index("/unsubscribe/"):]
        page = client.get(path).get_data(as_text=True)
        assert "Stop the emails?" in page and '<button type="submit"' in page


def test_an_unsubscribe_link_opened_again_says_the_emails_are_stopped_already(make_user, client):
    """Someone who had unsubscribed (with the mail program's button, or the link once) and opened the link again was
    asked 'Stop the emails?' as if they still came; now the page says they are stopped and where to switch them on."""
    rep = make_user("rep")
    path = f"/unsubscribe/{notify.unsubscribe_token(rep, notify.REMINDER)}"
    assert client.post(path).status_code == 200
    page = " ".join(client.get(path).get_data(as_text=True).split())
    assert "Stop the emails?" not in page and "<button" not in page
    assert f"{rep.email} gets no drill reminders already" in page and 'href="/settings"' in page


def test_the_digests_trend_gives_the_year_of_a_week_in_another_year():
    from learnapp.domain.retention import Point
    from learnapp.services.dashboard import DateRange

    span = DateRange(date(2025, 12, 15), date(2026, 1, 4))
    weekly = [Point(date(2025, 12, 15), 4, 0.75), Point(date(2025, 12, 29), 2, 0.5)]
    assert notify.retention_trend(weekly, span).split("\n") == [
        "  - week of 15 Dec 2025: 75% of 4 first tries", "  - week of 22 Dec 2025: no reviews",
        "  - week of 29 Dec 2025: 50% of 2 first tries"]


def _everything_about(*users) -> dict:
    """Every stored column of these users, read afresh: what an unsubscribe could have changed."""
    from sqlalchemy import inspect

    db.session.expire_all()
    keys = [a.key for a in inspect(User).column_attrs]
    return {u.id: {k: getattr(db.session.get(User, u.id), k) for k in keys} for u in users}


def _header_link(text: str) -> str:
    import re

    return re.search(r"^List-Unsubscribe: <https://learn\.example\.com(/unsubscribe/[^>]+)>$", text, re.M).group(1)


def test_each_recurring_emails_link_stops_that_email_for_its_recipient_and_nothing_else(inbox, content, make_user, clock,
                                                                                        client):
    """The reminder's and the digest's links carried the person alone, and stopped whatever one setting meant for
    them at the time they were opened; now each link names the email it came with, and its POST (RFC 8058) switches off
    exactly that for its recipient: no other setting, nobody else."""
    rep, manager = make_user("rep", team="North"), make_user("manager", team="North")
    trainer, admin = make_user("trainer", team=None), make_user("admin", team=None)
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    jobs.weekly_digest()
    clock.set(datetime(2026, 3, 9, 9, 0, tzinfo=timezone.utc))
    jobs.reminders()
    by_person = {to[0]: text for to, text in inbox.messages}
    assert set(by_person) == {rep.email, manager.email}  # trainers and admins get no recurring email
    for person, kind in ((rep, notify.REMINDER), (manager, notify.DIGEST)):
        path = _header_link(by_person[person.email])
        assert notify.kind_for_token(path.rsplit("/", 1)[1]) == kind
        before = _everything_about(rep, manager, trainer, admin)
        response = client.post(path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
        page = " ".join(response.get_data(as_text=True).split())
        assert response.status_code == 200 and f"{person.email} gets no more {notify.RECURRING_WORDS[kind]}" in page
        after = _everything_about(rep, manager, trainer, admin)
        assert before[person.id]["reminders_on"] is True and after[person.id]["reminders_on"] is False
        before[person.id]["reminders_on"] = False
        assert after == before  # nothing else of theirs, nobody else's


def test_an_old_reminder_link_leaves_the_digest_of_a_rep_since_made_manager(inbox, content, make_user, clock, client):
    """One setting switches a rep's reminders and a manager's digest: a rep made manager who opened the link of an old
    reminder (or a mail program that posted it) had their weekly digest switched off, which the link never offered."""
    rep = make_user("rep", team="North")
    clock.set(MONDAY_0905)
    jobs.reminders()
    path = _header_link(inbox.messages[0][1])
    rep.role = "manager"
    db.session.commit()
    for response in (client.get(path), client.post(path)):
        page = " ".join(response.get_data(as_text=True).split())
        assert response.status_code == 200 and "Nothing to stop" in page and "<button" not in page
        assert f"This link was for the drill reminders, which {rep.email} no longer gets" in page
    assert _everything_about(rep)[rep.id]["reminders_on"] is True
    digest_link = f"/unsubscribe/{notify.unsubscribe_token(make_user('rep'), notify.DIGEST)}"
    assert "Nothing to stop" in client.post(digest_link).get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count()).where(User.reminders_on.is_(False))) == 0


def test_a_link_from_before_links_named_their_email_still_unsubscribes(make_user, client, app):
    """Emails already in inboxes carry a token of the person alone: it keeps stopping their recurring email."""
    from itsdangerous import URLSafeSerializer

    rep = make_user("rep")
    token = URLSafeSerializer(app.config["SECRET_KEY"], salt=notify.SALT).dumps(rep.id)
    assert "Stop drill reminders to" in " ".join(client.get(f"/unsubscribe/{token}").get_data(as_text=True).split())
    assert client.post(f"/unsubscribe/{token}").status_code == 200
    assert _everything_about(rep)[rep.id]["reminders_on"] is False


@pytest.mark.parametrize("role, purpose, line, header", [
    ("rep", "reset", "To stop learnapp's drill reminders to you (a page asks you to confirm): ", True),
    ("manager", "invite", "To stop learnapp's weekly team digest to you (a page asks you to confirm): ", True),
    ("trainer", "reset", "learnapp sends you no regular emails, only links like this one when you or an administrator "
                         "ask. To make sure none start (a page asks you to confirm): ", False),
    ("admin", "invite", "learnapp sends you no regular emails", False),
])
def test_a_password_or_invitation_emails_link_stops_the_recurring_email_its_recipient_gets(
        inbox, content, make_user, client, role, purpose, line, header):
    """A password link or an invitation is asked for, by its recipient or an admin: nobody can unsubscribe from it. Its
    link said "To stop learnapp's reminders and digests" to trainers and admins, who get neither, and its
    List-Unsubscribe header gave them a mail program button that stopped nothing. Now the link stops what does come
    regularly to its recipient and says which; a trainer's or admin's says none comes, and carries no header."""
    from learnapp.services import password_links

    person, other = make_user(role, team="North" if role in ("rep", "manager") else None), make_user("rep", team="North")
    password_links.send(person, purpose)
    (_, text), = inbox.messages
    body = " ".join(text.split("\n\n", 1)[1].split())
    assert line in body
    assert ("List-Unsubscribe:" in text) is header and ("List-Unsubscribe-Post:" in text) is header
    path = body[body.index("/unsubscribe/"):].split()[0]
    if header:
        assert _header_link(text) == path
    assert notify.kind_for_token(path.rsplit("/", 1)[1]) == notify.ALL
    page = " ".join(client.get(path).get_data(as_text=True).split())
    assert "Stop the emails?" in page
    if not header:
        assert "no regular emails now" in page
    before = _everything_about(person, other)
    assert client.post(path).status_code == 200
    after = _everything_about(person, other)
    assert before[person.id]["reminders_on"] is True and after[person.id]["reminders_on"] is False
    before[person.id]["reminders_on"] = False
    assert after == before


def test_job_outcomes_count_in_the_singular_and_plural(inbox, content, make_user, clock):
    """Before, the scheduler's log and the admin Jobs page read "1 reminders sent" and "1 digests sent"."""
    clock.set(MONDAY_0905)
    make_user("rep")
    assert jobs.reminders().detail == "1 reminder sent"
    make_user("rep")
    make_user("rep")
    clock.set(datetime(2026, 3, 3, 9, 5, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "3 reminders sent"
    assert notify.counted(0, "digest") == "0 digests" and notify.counted(1, "digest") == "1 digest"


def test_no_digest_about_a_week_before_the_manager_or_their_team_was_there(inbox, content, make_user, clock):
    """A new install: people imported on Saturday 28 Nov, the scheduler started minutes later. Before, both managers got
    the digest of 16-22 Nov at once ("participation: no reps", "no reviews"), a week before their teams existed. Now the
    first digest is the one of their first week, 23-29 Nov, on Monday 30 Nov; a team whose reps did not drill still gets it."""
    clock.set(datetime(2026, 11, 28, 10, 0, tzinfo=timezone.utc))  # a Saturday
    north, south = make_user("manager", team="North"), make_user("manager", team="South")
    make_user("rep", team="North"), make_user("rep", team="South")
    clock.advance(timedelta(minutes=5))
    assert jobs.weekly_digest() is None
    clock.set(datetime(2026, 11, 30, 5, 45, tzinfo=timezone.utc))
    assert jobs.weekly_digest() is None
    assert inbox.messages == []
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "2 digests sent"
    assert sorted(to for (to,), _ in inbox.messages) == sorted([north.email, south.email])
    assert all("Subject: Weekly learnapp digest: 23 to 29 Nov 2026" in text and "participation:" in text
               for _, text in inbox.messages)


def test_a_manager_given_a_new_team_gets_no_digest_about_the_week_before_it_had_anyone(inbox, content, make_user, clock):
    """A manager here for months who is given a new team on a Wednesday gets no digest of the week before it; a
    manager made after a week ended gets none about that week, even of a team that was there."""
    clock.set(datetime(2026, 11, 4, 10, 0, tzinfo=timezone.utc))
    make_user("rep", team="North")
    veteran = make_user("manager", team=None)
    clock.set(datetime(2026, 11, 25, 10, 0, tzinfo=timezone.utc))  # a Wednesday
    newcomer = make_user("manager", team="North")  # leads a team that had reps for weeks
    from learnapp.models import Team
    from learnapp.services.users import create_user

    east = Team(name="East")
    db.session.add(east)
    veteran.led_teams.append(east)
    db.session.commit()
    create_user("e1@example.com", "Eve East", "correct-horse-1", "rep", team="East", now=clock.now())
    assert jobs.weekly_digest() is None  # the week of 16-22 Nov: neither was there for it
    clock.set(datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "2 digests sent"
    assert sorted(to for (to,), _ in inbox.messages) == sorted([veteran.email, newcomer.email])


@pytest.mark.parametrize("change", ["moved", "made manager"])
def test_a_team_whose_reps_all_left_in_the_week_still_gets_its_digest(inbox, content, make_user, clock, change):
    from learnapp.models import Team
    from learnapp.services import users as users_service

    clock.set(datetime(2026, 2, 20, 12, 0, tzinfo=timezone.utc))  # all here since the week before
    north = make_user("manager", team="North", name="North Nell")
    make_user("manager", team="South", name="South Sam")
    admin = make_user("admin", team=None)
    rep = make_user("rep", team="North")
    make_user("rep", team="South")
    clock.set(datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc))  # Wednesday: North's only rep leaves it
    south_id = db.session.scalars(db.select(Team.id).filter_by(name="South")).one()
    role, team_id = ("rep", south_id) if change == "moved" else ("manager", None)
    users_service.update_account(rep, name=rep.name, email=rep.email, role=role, timezone=rep.timezone,
                                 team_id=team_id, leads=[], active=True, by=admin, now=clock.now())
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))  # the digest of 2-8 March: the rep was in North Mon-Tue
    assert jobs.weekly_digest().detail == "2 digests sent"
    assert north.email in {recipients[0] for recipients, _ in inbox.messages}


def test_no_digest_about_a_week_before_a_reps_first_day_in_the_team_by_the_days_the_digest_counts(inbox, content,
                                                                                                   make_user, clock):
    """A new team's first rep, in Tokyo, moved in on their Monday 9 March (still Sunday 8 March in Los Angeles): the
    digest of 2-8 March counts reps by their own days, so it had nobody in it, yet its manager in Los Angeles got it
    ('no reps'): the team counted as begun when the rep's account was made, in February in another team (and a move's
    day was taken as a UTC midnight, hours before that manager's week ended)."""
    from learnapp.models import Team
    from learnapp.services import users as users_service

    clock.set(datetime(2026, 2, 20, 12, 0, tzinfo=timezone.utc))
    admin = make_user("admin", team=None)
    make_user("manager", team="East", timezone="America/Los_Angeles")
    rep = make_user("rep", team="North", timezone="Asia/Tokyo")
    clock.set(datetime(2026, 3, 8, 16, 0, tzinfo=timezone.utc))  # Monday 01:00 in Tokyo, Sunday 09:00 in Los Angeles
    east_id = db.session.scalars(db.select(Team.id).filter_by(name="East")).one()
    users_service.update_account(rep, name=rep.name, email=rep.email, role="rep", timezone=rep.timezone,
                                 team_id=east_id, leads=[], active=True, by=admin, now=clock.now())
    clock.set(datetime(2026, 3, 9, 13, 0, tzinfo=timezone.utc))  # Monday 06:00 in Los Angeles
    assert jobs.weekly_digest() is None and inbox.messages == []


def test_no_digest_about_a_week_a_new_team_had_a_rep_moved_in_and_out_of_it_on_one_day(inbox, content, make_user, clock):
    """A rep moved into a new team by mistake and back within the day: the dashboards count no day of theirs there, so
    the team had nobody that week; before, the digest's rule took the move in as the team's first day and its manager
    got the digest of that week ('no reps')."""
    from learnapp.models import Team
    from learnapp.services import users as users_service

    clock.set(datetime(2026, 2, 20, 12, 0, tzinfo=timezone.utc))
    admin = make_user("admin", team=None)
    make_user("manager", team="East")
    rep = make_user("rep", team="North")
    north_id, east_id = (db.session.scalars(db.select(Team.id).filter_by(name=name)).one() for name in ("North", "East"))
    clock.set(datetime(2026, 3, 4, 12, 0, tzinfo=timezone.utc))  # a Wednesday
    for team_id in (east_id, north_id):
        users_service.update_account(rep, name=rep.name, email=rep.email, role="rep", timezone=rep.timezone,
                                     team_id=team_id, leads=[], active=True, by=admin, now=clock.now())
        clock.advance(timedelta(minutes=10))
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))  # the digest of 2-8 March
    assert jobs.weekly_digest() is None and inbox.messages == []


def test_a_digest_link_opened_by_a_manager_whose_team_was_taken_away_still_stops_the_digest(inbox, content, make_user,
                                                                                               clock, client):
    """A manager whose team was given to someone else, opening the unsubscribe link of a digest they got, read
    'Nothing to stop' and nothing changed: given a team again, the digest they had asked to stop came back."""
    manager = make_user("manager", team="North")
    path = f"/unsubscribe/{notify.unsubscribe_token(manager, notify.DIGEST)}"
    north = manager.led_teams[0]
    manager.led_teams = []
    db.session.commit()
    page = " ".join(client.get(path).get_data(as_text=True).split())
    assert "Nothing to stop" not in page and f"Stop weekly team digests to {manager.email}" in page
    assert client.post(path).status_code == 200
    db.session.refresh(manager)
    assert manager.reminders_on is False
    manager.led_teams = [north]
    make_user("rep", team="North")
    db.session.commit()
    clock.advance(timedelta(days=14))
    assert jobs.weekly_digest() is None and inbox.messages == []


class Connections(Inbox):
    """A relay that counts its connections (SMTP sessions) and the messages each carried; with ``limit``, it refuses
    the sender after that many messages on one connection (421, as relays limiting messages per connection do); with
    ``drop_after_each``, it closes the connection after each message's reply (an idle timeout, a restart)."""

    def __init__(self, limit: int | None = None, drop_after_each: bool = False):
        super().__init__()
        self.limit, self.drop_after_each, self.sessions = limit, drop_after_each, Counter()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.limit is not None and self.sessions[id(session)] >= self.limit:
            return "421 4.3.2 too many messages on this connection"
        self.sessions[id(session)] += 1
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        reply = await super().handle_DATA(server, session, envelope)
        if self.drop_after_each:
            import asyncio

            asyncio.get_running_loop().call_soon(server.transport.close)  # once the reply is written
        return reply


def _reps_due(make_user, clock, n: int) -> list:
    clock.set(MONDAY_0905)
    return [make_user("rep", name=f"Rep {i}") for i in range(n)]


def test_a_runs_reminders_go_over_one_connection(relay, content, make_user, clock):
    """Each email opened a connection of its own (with TLS and a login on a real relay, 100 ms or more): a company's
    reminders due at the same quarter hour did not fit in it (bench/jobs_scale.py)."""
    reps = _reps_due(make_user, clock, 4)
    handler = relay(Connections())
    assert jobs.reminders().detail == "4 reminders sent"
    assert sorted(m[0][0] for m in handler.messages) == sorted(r.email for r in reps)
    assert list(handler.sessions.values()) == [4]


def test_a_relay_limiting_messages_per_connection_gets_each_reminder_once(relay, content, make_user, clock):
    reps = _reps_due(make_user, clock, 5)
    handler = relay(Connections(limit=2))
    assert jobs.reminders().detail == "5 reminders sent"
    assert sorted(m[0][0] for m in handler.messages) == sorted(r.email for r in reps)
    assert sorted(handler.sessions.values()) == [1, 2, 2]


def test_a_connection_the_relay_closed_between_emails_is_replaced_before_the_next(relay, content, make_user, clock):
    reps = _reps_due(make_user, clock, 3)
    handler = relay(Connections(drop_after_each=True))
    assert jobs.reminders().detail == "3 reminders sent"
    assert sorted(m[0][0] for m in handler.messages) == sorted(r.email for r in reps)
    assert list(handler.sessions.values()) == [1, 1, 1]


def test_an_unreachable_relay_stops_the_run_after_one_try_and_the_next_check_sends_all(app, content, make_user, clock,
                                                                                       relay, monkeypatch):
    """Each email tried a connection of its own: with a relay that does not answer, each waited the 30-second
    timeout, and a company's 09:00 reminders held the job for hours."""
    reps = _reps_due(make_user, clock, 3)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens there
    tries, real_open = [], notify._open
    monkeypatch.setattr(notify, "_open", lambda config: tries.append(1) or real_open(config))
    run = jobs.reminders()
    assert len(tries) == 1
    assert mail_error(run).startswith("0 reminders sent, 1 failed: ")
    assert run.detail.endswith("Connection refused. The mail relay could not be reached, so the run stopped there: any "
                               "other reminder due now goes at the next check")
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0  # every claim given back
    handler = relay(Connections())
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "3 reminders sent"
    assert sorted(m[0][0] for m in handler.messages) == sorted(r.email for r in reps)


def test_digests_go_over_one_connection(relay, content, make_user, clock):
    for team in ("North", "South", "East"):
        make_user("manager", team=team, name=f"Manager {team}")
        make_user("rep", team=team)
    handler = relay(Connections())
    clock.set(datetime(2026, 3, 9, 6, 0, tzinfo=timezone.utc))
    assert jobs.weekly_digest().detail == "3 digests sent"
    assert list(handler.sessions.values()) == [3]


def _page_text(page: str, element_id: str) -> str:
    import html
    import re

    match = re.search(rf'id="{element_id}">(.*?)</', page, re.S)
    assert match, f"no #{element_id} on the page"
    return html.unescape(match.group(1))


def test_the_digest_page_shows_the_email_the_job_sends_and_sends_nothing(inbox, content, make_user, clock, auth, client):
    """Managers got the digest by email only: nobody could see in the app what Monday's email says. The page builds it
    with the job's own code (notify.digest_mail): the body and subject are the email's, to the character."""
    rep = make_user("rep", team="North", name="Rita")
    manager = make_user("manager", team="North")
    make_user("rep", team="South", name="Sam"), make_user("manager", team="South")
    for _ in range(3):
        item = drill.current_item(rep, clock.now())
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=1))
    clock.set(datetime(2026, 3, 9, 6, 5, tzinfo=timezone.utc))
    auth.login(manager.email)
    dashboard_page = client.get(f"/team/{manager.led_teams[0].id}").get_data(as_text=True)
    assert 'href="/team/digest" id="digest-link"' in dashboard_page
    page = client.get("/team/digest").get_data(as_text=True)
    assert "not sent yet" in _page_text(page, "digest-status")
    assert inbox.messages == [] and db.session.scalar(db.select(db.func.count(Notification.id))) == 0  # read-only
    assert jobs.weekly_digest().detail == "2 digests sent"  # North's manager's and South's
    text, = [text for recipients, text in inbox.messages if recipients == [manager.email]]
    shown = client.get("/team/digest").get_data(as_text=True)
    body = _page_text(shown, "digest-body")
    assert "North" in body and "South" not in body and "Sam" not in body  # their own teams only
    assert text.replace("\r\n", "\n").endswith("\n\n" + body) and f"Subject: {_page_text(shown, 'digest-subject')}\n" in text
    assert _page_text(shown, "digest-status") == "sent Monday 9 Mar 2026, 06:05 (UTC)"


def test_an_admin_sees_any_managers_digest_and_a_manager_only_their_own(content, make_user, clock, auth, client):
    north, south = make_user("manager", team="North", name="Nora"), make_user("manager", team="South", name="Sven")
    make_user("rep", team="North"), make_user("rep", team="South")
    admin = make_user("admin", team=None)
    clock.advance(timedelta(days=10))
    auth.login(north.email)
    assert client.get(f"/team/digest/{south.id}").status_code == 404
    assert "Weekly digest of" not in client.get(f"/team/digest/{north.id}").get_data(as_text=True)  # their own
    auth.logout()
    auth.login(admin.email)
    listing = client.get("/team/digest").get_data(as_text=True)
    assert f'href="/team/digest/{north.id}">Nora</a>' in listing and f'href="/team/digest/{south.id}">Sven</a>' in listing
    page = client.get(f"/team/digest/{south.id}").get_data(as_text=True)
    assert "Weekly digest of Sven" in page and "South" in _page_text(page, "digest-body")
    # all but Sven's unsubscribe link, which would stop his email: the admin reads where it goes, not the link
    assert "/unsubscribe" not in page and "(their own unsubscribe link)" in _page_text(page, "digest-body")
    assert "no mail relay is configured" in _page_text(page, "digest-status")  # no SMTP_HOST in this test
    assert client.get(f"/team/digest/{admin.id}").status_code == 404  # not a manager: no digest
    teamless = make_user("manager", team=None, name="Tess")
    assert "no digest: they lead no team" in _page_text(client.get(f"/team/digest/{teamless.id}").get_data(as_text=True),
                                                         "digest-status")
    team_page = client.get(f"/team/{south.led_teams[0].id}").get_data(as_text=True)
    assert f'<a href="/team/digest/{south.id}">Sven</a>' in team_page


def test_a_login_smtplib_cannot_send_stops_the_run_and_loses_no_email(app, relay, content, make_user, clock):
    """SMTP login with a password of non-ASCII characters ('Pässwort'): smtplib cannot encode it (UnicodeEncodeError,
    neither an SMTP nor a socket error). The run failed with a traceback after claiming the first rep's reminder and
    kept the claim: that rep's reminder of the day was never sent, and each check lost one more. Now no connection can
    be opened, as with a refused login: the run stops, gives the claim back, and once the setting is fixed the
    reminders go."""
    from aiosmtpd.smtp import AuthResult

    reps = _reps_due(make_user, clock, 2)
    handler = relay(Connections(), authenticator=lambda *args: AuthResult(success=True), auth_require_tls=False)
    app.config.update(SMTP_USER="learnapp", SMTP_PASSWORD="Pässwort")
    run = jobs.reminders()
    assert mail_error(run).startswith("0 reminders sent, 1 failed: ")
    assert "the SMTP settings hold characters smtplib cannot send" in run.detail
    assert r"\xe4" not in run.detail and "ä" not in run.detail  # nothing of the password in the job history
    assert "The mail relay could not be reached, so the run stopped there" in run.detail
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0  # the claim given back
    assert handler.messages == []
    app.config.update(SMTP_PASSWORD="Passwort")
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "2 reminders sent"
    assert sorted(m[0][0] for m in handler.messages) == sorted(r.email for r in reps)


class Stalling(Connections):
    """A relay that takes connections and the envelope, then stops answering after the message's data (a content filter
    or a full disk behind it): each message waits for the client's timeout."""

    async def handle_DATA(self, server, session, envelope):
        import asyncio

        await asyncio.sleep(3)
        return "250 OK"


def test_a_relay_that_stops_answering_stops_the_run_after_one_timeout(relay, content, make_user, clock, monkeypatch):
    """A relay that answers the connection but not the message: each email waited the whole timeout (30 s) and the run
    went on to the next, a new connection each, so a company's 09:00 reminders held the job for hours as with a relay
    that cannot be reached, which 'stops the run at its first email'. Now a timeout stops the run there too; its claim
    is given back and the reminders go at the next check."""
    monkeypatch.setattr(notify, "SMTP_TIMEOUT", 0.5)
    reps = _reps_due(make_user, clock, 3)
    handler = relay(Stalling())
    run = jobs.reminders()
    assert mail_error(run).startswith("0 reminders sent, 1 failed: ")
    assert "the mail relay stopped answering" in run.detail
    assert "The mail relay could not be reached, so the run stopped there" in run.detail
    assert sum(handler.sessions.values()) == 1  # one email tried, not each
    assert db.session.scalar(db.select(db.func.count(Notification.id))) == 0  # every claim given back
    handler = relay(Connections())
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "3 reminders sent"
    assert sorted(m[0][0] for m in handler.messages) == sorted(r.email for r in reps)
