"""When a reminder goes out: at the rep's chosen time on the quarter hour, if today's drill has something to do then.

The reminders job checks every quarter hour (UTC). A rep's reminder instant for a local day is that day
at their chosen local time rounded down to the quarter hour; whether there is a drill to do is decided
as of that instant, with the drill planner's own rule, or from today's drill once the rep opened it.
"""

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from learnapp import jobs
from learnapp.extensions import db
from learnapp.models import MemoryStateRow, User
from learnapp.services import drill
from tests.conftest import csrf_token
from tests.helpers import right_answer, wrong_answer

EVERY_DAY = "0,1,2,3,4,5,6"


def drill_all(rep, clock, answer=right_answer):
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, answer(item), clock.now())


def earliest_due(rep) -> datetime:
    return min(db.session.scalars(db.select(MemoryStateRow.due).filter_by(user_id=rep.id)))


def sent_to(inbox) -> list[str]:
    return [recipients[0] for recipients, _ in inbox.messages]


@pytest.mark.parametrize("zone, chosen, fires_at", [
    ("UTC", "23:50", datetime(2026, 3, 2, 23, 45, tzinfo=timezone.utc)),  # stored before quarter hours: after the last check
    ("Asia/Kathmandu", "09:10", datetime(2026, 3, 2, 3, 15, tzinfo=timezone.utc)),  # +05:45: 09:00 there
    ("America/St_Johns", "07:59", datetime(2026, 3, 2, 11, 15, tzinfo=timezone.utc)),  # -03:30: 07:45 there
])
def test_a_reminder_fires_at_the_quarter_hour_check_at_or_before_the_chosen_time(inbox, content, make_user, clock,
                                                                                 zone, chosen, fires_at):
    rep = make_user("rep", timezone=zone)
    rep.reminder_time = chosen
    db.session.commit()
    clock.set(fires_at - timedelta(minutes=15))
    assert jobs.reminders().detail == "0 reminders sent"  # not yet
    clock.set(fires_at)
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [rep.email]


def test_a_skill_falling_due_later_in_the_day_is_reminded_at_the_chosen_time(inbox, content, make_user, clock, app):
    # the day's drill holds what falls due by the end of the day (drill.plan_for), so the 09:00 reminder announces it;
    # before, it waited for the next day's reminder, and the drill for the next day
    app.config["NEW_SKILLS_PER_DAY"] = 99
    clock.set(datetime(2026, 3, 2, 17, 0, tzinfo=timezone.utc))  # drills every skill in the evening
    rep = make_user("rep")
    rep.reminder_days = EVERY_DAY
    db.session.commit()
    drill_all(rep, clock)
    due = earliest_due(rep)
    assert due.hour == 17 and due.date() > clock.now().date()  # FSRS: the answer time plus whole days
    clock.set(due.replace(hour=8, minute=45))
    assert jobs.reminders().detail == "0 reminders sent"  # not the chosen time yet
    clock.set(due.replace(hour=9, minute=0))
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [rep.email]
    assert [p["skill"] for p in drill.today_session(rep, clock.now()).plan if p["reason"] == "due"]
    for hour in (12, 17, 18):  # once a day
        clock.set(due.replace(hour=hour, minute=0))
        assert jobs.reminders().detail == "0 reminders sent", hour


def test_a_late_run_reminds_as_the_run_at_the_reminder_time_would_have(inbox, content, make_user, clock, app):
    app.config["NEW_SKILLS_PER_DAY"] = 99
    early, late = make_user("rep", name="Early Eve"), make_user("rep", name="Late Leo")
    for rep, hour in ((early, 8), (late, 11)):  # the same answers: due again the same day, at 08:00 and at 11:00
        rep.reminder_days = EVERY_DAY
        db.session.commit()
        clock.set(datetime(2026, 3, 2, hour, 0, tzinfo=timezone.utc))
        drill_all(rep, clock)
    due_day = earliest_due(early).date()
    assert earliest_due(late) == earliest_due(early) + timedelta(hours=3)
    clock.set(datetime.combine(due_day, datetime.min.time(), tzinfo=timezone.utc).replace(hour=13))  # down at 09:00
    assert jobs.reminders().detail == "2 reminders sent"  # Leo's skill falls due at 11:00: that day's drill too
    assert sorted(sent_to(inbox)) == sorted([early.email, late.email])
    clock.advance(timedelta(minutes=15))
    assert jobs.reminders().detail == "0 reminders sent"  # once a day


def test_no_reminder_when_todays_drill_was_opened_and_is_empty(inbox, content, make_user, clock, app):
    empty, waiting = make_user("rep", name="Empty Emma"), make_user("rep", name="Waiting Will")
    for rep in (empty, waiting):
        rep.reminder_days = EVERY_DAY
    db.session.commit()
    app.config["NEW_SKILLS_PER_DAY"] = 1
    drill_all(empty, clock)  # Monday 09:00: one skill learned, due again days later
    clock.set(datetime(2026, 3, 3, 7, 0, tzinfo=timezone.utc))
    app.config["NEW_SKILLS_PER_DAY"] = 0
    assert drill.current_item(empty, clock.now()) is None  # opened early: today's drill is planned, and empty
    app.config["NEW_SKILLS_PER_DAY"] = 1  # raised since: the planner's rule alone would now give Emma a new skill
    assert drill.current_item(waiting, clock.now()) is not None  # opened, first item shown, not answered
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [waiting.email]


def test_no_reminder_on_a_day_already_drilled_even_by_a_late_run(inbox, content, make_user, clock):
    rep = make_user("rep")
    clock.set(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc))
    item = drill.current_item(rep, clock.now())
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())  # one answer before 09:00
    clock.set(datetime(2026, 3, 2, 13, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "0 reminders sent"
    assert inbox.messages == []


def test_the_settings_form_offers_the_quarter_hours_only(content, make_user, auth, client):
    rep = make_user("rep")
    auth.login(rep.email)
    page = client.get("/settings").get_data(as_text=True)
    times = re.search(r'<select id="reminder_time" name="reminder_time"[^>]*>(.*?)</select>', page, re.S).group(1)
    offered = re.findall(r'value="([^"]+)"', times)
    assert len(offered) == 96 and offered[:3] == ["00:00", "00:15", "00:30"] and offered[-1] == "23:45"
    assert '<option selected value="09:00">09:00</option>' in times  # the default

    token = csrf_token(client, "/settings")
    bad = client.post("/settings", data={"csrf_token": token, "reminder_time": "17:20", "timezone": "UTC"})
    assert bad.status_code == 400
    assert "on the quarter hour (:00, :15, :30 or :45)" in bad.get_data(as_text=True)
    assert db.session.scalar(db.select(User.reminder_time).filter_by(id=rep.id)) == "09:00"
    ok = client.post("/settings", data={"csrf_token": token, "reminder_time": "17:45", "timezone": "UTC",
                                        "reminder_days": ["0"]})
    assert ok.status_code == 303
    assert db.session.scalar(db.select(User.reminder_time).filter_by(id=rep.id)) == "17:45"
    odd_day = client.post("/settings", data={"csrf_token": token, "reminder_time": "18:00", "timezone": "UTC",
                                             "reminder_days": ["9"]})  # no such weekday: a tampered form
    assert odd_day.status_code == 400 and 'role="alert"' in odd_day.get_data(as_text=True)
    assert db.session.scalar(db.select(User.reminder_time).filter_by(id=rep.id)) == "17:45"


def test_a_time_stored_between_quarter_hours_shows_as_the_one_it_fires_at(content, make_user, auth, client):
    rep = make_user("rep")
    rep.reminder_time = "23:50"
    db.session.commit()
    auth.login(rep.email)
    page = client.get("/settings").get_data(as_text=True)
    assert '<option selected value="23:45">23:45</option>' in page


def test_a_rep_who_moves_west_gets_no_second_reminder_that_night_and_the_next_one_on_time(inbox, content, make_user, clock):
    rep = make_user("rep", timezone="Asia/Tokyo")
    rep.reminder_days, rep.reminder_time = EVERY_DAY, "09:00"
    db.session.commit()
    clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=timezone.utc))  # 09:00 in Tokyo
    assert jobs.reminders().detail == "1 reminder sent"
    rep.timezone = "America/Los_Angeles"  # where it is still the afternoon of 2 March, past 09:00
    db.session.commit()
    clock.set(datetime(2026, 3, 3, 0, 15, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "0 reminders sent"
    clock.set(datetime(2026, 3, 3, 17, 0, tzinfo=timezone.utc))  # 09:00 on 3 March in Los Angeles
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [rep.email, rep.email]


def test_switching_reminders_on_in_the_evening_does_not_send_the_mornings_reminder(inbox, content, make_user, clock):
    rep = make_user("rep")
    rep.reminder_days, rep.reminder_time, rep.reminders_on = EVERY_DAY, "09:00", False
    db.session.commit()
    clock.set(datetime(2026, 3, 2, 20, 0, tzinfo=timezone.utc))
    rep.reminders_on = True
    db.session.commit()
    assert jobs.reminders().detail == "0 reminders sent"
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "1 reminder sent"


def test_a_rep_who_moves_their_reminder_later_in_the_day_gets_no_second_one_that_day(inbox, content, make_user, auth,
                                                                                     client, clock):
    """One reminder a day: a rep reminded at 09:00 who sets 22:00 that morning gets the next one at 22:00 the next day.
    Before, the new time was a new instant more than 12 hours after the first, and the same day's reminder came twice."""
    rep = make_user("rep")
    rep.reminder_days, rep.reminder_time = EVERY_DAY, "09:00"
    db.session.commit()
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "1 reminder sent"
    clock.set(datetime(2026, 3, 3, 10, 0, tzinfo=timezone.utc))
    auth.login(rep.email)
    response = client.post("/settings", data={"reminders_on": "y", "reminder_time": "22:00", "reminder_days": list(EVERY_DAY.split(",")),
                                              "timezone": "UTC", "csrf_token": csrf_token(client, "/settings")})
    assert response.status_code == 303
    clock.set(datetime(2026, 3, 3, 22, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "0 reminders sent"
    clock.set(datetime(2026, 3, 4, 22, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [rep.email, rep.email]


def test_an_evening_reminder_missed_by_downtime_is_caught_up_that_evening_but_not_after_midnight(inbox, content,
                                                                                                 make_user, clock):
    # docs/deploy.md: after downtime up to 6 hours late, never past the rep's midnight (that is a new day of theirs)
    early, late = make_user("rep"), make_user("rep")
    early.reminder_time, late.reminder_time = "21:00", "22:00"
    early.reminder_days = late.reminder_days = EVERY_DAY
    db.session.commit()
    clock.set(datetime(2026, 3, 2, 20, 45, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "0 reminders sent"
    clock.set(datetime(2026, 3, 2, 21, 45, tzinfo=timezone.utc))  # down at 21:00, back at 21:45: caught up
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [early.email]
    clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc))  # down again from 21:50: at 01:00 the evening is over
    assert jobs.reminders().detail == "0 reminders sent"
    assert sent_to(inbox) == [early.email]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati"])
def test_a_drill_opened_just_after_midnight_and_left_empty_gets_the_reminder_for_skills_due_that_morning(
        inbox, content, make_user, clock, app, zone):
    # before, the drill opened at 00:05 held nothing (skills answered at 08:00 the day before were due at 08:00, only
    # 16 hours after their review) and the reminder read that plan: nothing to do, no reminder, and the skills waited
    # a day. They join the day's drill when it is opened again (drill.join_fallen_due), so 09:00 announces them. A rep
    # who answered anything at 00:05 drilled that day: no reminder (docs/deploy.md), the drill has them at 10:00.
    zone_info = ZoneInfo(zone)
    done, empty = make_user("rep", name="Owl Olga", timezone=zone), make_user("rep", name="Owl Otto", timezone=zone)
    for rep in (done, empty):
        rep.reminder_days = EVERY_DAY
        db.session.commit()
        clock.set(datetime(2026, 3, 2, 8, tzinfo=zone_info).astimezone(timezone.utc))
        drill_all(rep, clock, answer=wrong_answer)
    clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=zone_info).astimezone(timezone.utc))
    drill_all(done, clock)  # three new skills
    app.config["NEW_SKILLS_PER_DAY"] = 0
    assert drill.current_item(empty, clock.now()) is None  # opened: planned, and empty
    clock.set(datetime(2026, 3, 3, 9, tzinfo=zone_info).astimezone(timezone.utc))
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [empty.email]
    clock.set(datetime(2026, 3, 3, 10, tzinfo=zone_info).astimezone(timezone.utc))
    for rep in (done, empty):
        item = drill.current_item(rep, clock.now())
        assert item is not None and item.fell_due, rep.name


def test_answering_yesterdays_drill_just_after_midnight_is_not_drilling_today(inbox, content, make_user, clock):
    """An item of yesterday's drill answered within LATE_ANSWER_GRACE after midnight counts on yesterday's drill
    (drill.is_stale); it did not make today a drilled day, so today's reminder went unsent although today's drill
    had not been touched."""
    rep = make_user("rep")
    rep.reminder_days = EVERY_DAY
    db.session.commit()
    clock.set(datetime(2026, 3, 2, 23, 58, tzinfo=timezone.utc))
    item = drill.current_item(rep, clock.now())
    clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=timezone.utc))
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())  # within the grace: stored
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "1 reminder sent"
    assert sent_to(inbox) == [rep.email]


def test_answering_todays_drill_just_after_midnight_is_drilling_today(inbox, content, make_user, clock):
    rep = make_user("rep")
    rep.reminder_days = EVERY_DAY
    db.session.commit()
    clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=timezone.utc))
    item = drill.current_item(rep, clock.now())
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=timezone.utc))
    assert jobs.reminders().detail == "0 reminders sent"


def test_optional_practice_left_unanswered_is_not_reminded_as_skills_due(inbox, content, make_user, clock, app):
    """A rep whose drill of the day held nothing (opened early), who asked to practise more and left the extra round,
    got a reminder saying "A few skills are due today": nothing was, and a reminder about optional practice, which
    nobody asked them to finish, teaches reps to ignore reminders. Nothing due, no reminder (as on a day the drill is
    not opened); a skill that fell due since the drill was planned is still announced, as due."""
    zone = ZoneInfo("UTC")
    extra, due = make_user("rep", name="Keen Kim"), make_user("rep", name="Owl Otto")
    for rep in (extra, due):
        rep.reminder_days = EVERY_DAY
        db.session.commit()
        clock.set(datetime(2026, 3, 2, 8, tzinfo=zone))
        drill_all(rep, clock, answer=right_answer if rep is extra else wrong_answer)
    app.config["NEW_SKILLS_PER_DAY"] = 0
    clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=zone))  # Kim's skills are due days later, Otto's at 08:00
    for rep in (extra, due):
        assert drill.current_item(rep, clock.now()) is None  # opened: planned, and empty
        assert drill.practise_more(rep, clock.now()) > 0 and drill.current_item(rep, clock.now()) is not None
        assert {p["reason"] for p in drill.today_session(rep, clock.now()).plan} == {"extra"}
    clock.set(datetime(2026, 3, 3, 9, tzinfo=zone))
    assert jobs.reminders().detail == "1 reminder sent"
    (recipients, text), = inbox.messages
    assert recipients == [due.email] and "A few skills are due today" in " ".join(text.split())
