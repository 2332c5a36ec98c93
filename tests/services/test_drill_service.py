"""The drill services: sizing, attempts, idempotency, variant rotation, scheduling."""

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fsrs import Rating

from learnapp.extensions import db
from learnapp.models import Attempt, DrillSession, MemoryStateRow, Presentation, Scenario, ScenarioVersion
from learnapp.services import drill
from tests.helpers import right_answer, wrong_answer


def _answer_all(rep, clock, answer=right_answer, seconds=20):
    count = 0
    while (item := drill.current_item(rep, clock.now())) is not None:
        clock.advance(timedelta(seconds=seconds))
        drill.submit_answer(rep, item.presentation.token, answer(item), clock.now())
        count += 1
    return count


def test_first_session_introduces_a_few_new_skills(content, make_user, clock, app):
    rep = make_user("rep")
    session = drill.today_session(rep, clock.now())
    assert [p["reason"] for p in session.plan] == ["new"] * app.config["NEW_SKILLS_PER_DAY"]


def test_attempt_stores_everything_a_retention_curve_needs(content, make_user, clock):
    rep = make_user("rep")
    item = drill.current_item(rep, clock.now())
    shown = clock.now()
    clock.advance(timedelta(seconds=12))
    drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    attempt = db.session.scalars(db.select(Attempt)).one()
    version = db.session.get(ScenarioVersion, attempt.scenario_version_id)
    assert (attempt.user_id, attempt.skill_id, attempt.scenario_id) == (rep.id, item.scenario.skill, item.scenario.id)
    assert version.scenario_id == item.scenario.id and version.number == 1
    assert attempt.shown_at == shown and attempt.answered_at == shown + timedelta(seconds=12)
    assert attempt.duration_ms == 12_000
    assert attempt.correct is True and attempt.score == 1.0 and attempt.verdict["correct"] is True
    assert attempt.rating == int(Rating.Good)
    assert attempt.predicted_recall is None  # a new skill has no prediction yet
    assert attempt.first_exposure is True


def test_submitting_twice_records_one_attempt(content, make_user, clock):
    rep = make_user("rep")
    item = drill.current_item(rep, clock.now())
    first = drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    second = drill.submit_answer(rep, item.presentation.token, wrong_answer(item), clock.now())
    assert first.id == second.id and second.correct is True
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1
    assert db.session.get(MemoryStateRow, (rep.id, item.scenario.skill)).reviews == 1


def test_submit_answer_once_tells_a_new_answer_from_a_repeated_one(content, make_user, clock):
    rep = make_user("rep")
    item = drill.current_item(rep, clock.now())
    first = drill.submit_answer_once(rep, item.presentation.token, right_answer(item), clock.now())
    again = drill.submit_answer_once(rep, item.presentation.token, wrong_answer(item), clock.now())
    assert first.new is True and again.new is False
    assert again.attempt.id == first.attempt.id and again.attempt.correct is True
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1


def test_extra_rounds_are_numbered_and_count_from_one(content, make_user, clock):
    rep = make_user("rep")
    assert drill.current_item(rep, clock.now()).round == 0
    planned = _answer_all(rep, clock)
    added = drill.practise_more(rep, clock.now())
    item = drill.current_item(rep, clock.now())
    assert (item.round, item.round_position, item.round_total) == (1, 0, added)
    assert (item.position, item.total) == (planned, planned + added)
    _answer_all(rep, clock)
    drill.practise_more(rep, clock.now())
    item = drill.current_item(rep, clock.now())
    assert (item.round, item.round_position) == (2, 0)


def test_an_extra_round_after_one_planned_before_rounds_were_numbered_is_round_2(content, make_user, clock):
    """Before: a legacy extra slot (no "round", counted as round 1) and the new round both got number 1,
    so the new round's first item read "Extra practice: item 3 of 3" instead of "item 1 of 1"."""
    rep = make_user("rep")
    _answer_all(rep, clock)
    drill.practise_more(rep, clock.now())
    session = drill.today_session(rep, clock.now())
    session.plan = [{k: v for k, v in p.items() if k != "round"} for p in session.plan]  # as stored before the deploy
    db.session.commit()
    legacy = _answer_all(rep, clock)
    added = drill.practise_more(rep, clock.now())
    item = drill.current_item(rep, clock.now())
    assert legacy and added
    assert (item.round, item.round_position, item.round_total) == (2, 0, added)


def test_the_summary_counts_as_partly_right_only_what_the_scheduler_rated_hard(content, make_user, clock, app):
    """Before: every wrong order with some credit (B C D E A, 60%, rated Again) counted as partly right."""
    app.config["NEW_SKILLS_PER_DAY"] = 99  # every skill, order-steps ones included

    def answer(item):
        keys = right_answer(item)
        return [*keys[1:], keys[0]] if isinstance(keys, list) else keys  # orders: the first step moved to the end

    _answer_all(rep := make_user("rep"), clock, answer)
    wrong = db.session.scalars(db.select(Attempt).filter_by(correct=False)).all()
    assert wrong and all(a.score > 0 and a.rating == int(Rating.Again) for a in wrong)
    summary = drill.summary(rep, clock.now())
    assert (summary.partly, summary.answered - summary.correct) == (0, len(wrong))
    wrong[0].rating = int(Rating.Hard)  # an older order, rated Hard with half its steps in a run
    db.session.commit()
    assert drill.summary(rep, clock.now()).partly == 1


def test_wrong_answer_is_rated_again_and_comes_back_sooner(content, make_user, clock):
    good, bad = make_user("rep"), make_user("rep")
    for rep, answer in ((good, right_answer), (bad, wrong_answer)):
        item = drill.current_item(rep, clock.now())
        drill.submit_answer(rep, item.presentation.token, answer(item), clock.now())
    skill = db.session.scalars(db.select(Attempt.skill_id)).first()
    due_good = db.session.get(MemoryStateRow, (good.id, skill)).due
    due_bad = db.session.get(MemoryStateRow, (bad.id, skill)).due
    assert due_bad < due_good


def test_due_skills_come_back_and_the_least_recently_seen_variant_is_shown(content, make_user, clock):
    rep = make_user("rep")
    for _ in range(30):  # wrong answers bring a skill back within days
        _answer_all(rep, clock, answer=wrong_answer)
        clock.advance(timedelta(days=1))
    first_skill = db.session.scalars(db.select(Attempt.skill_id).order_by(Attempt.id)).first()
    shown = db.session.scalars(db.select(Attempt.scenario_id).filter_by(skill_id=first_skill).order_by(Attempt.id)).all()
    variants = db.session.scalar(db.select(db.func.count(Scenario.id)).filter_by(skill_id=first_skill))
    assert len(shown) > variants  # the skill came back more often than it has variants
    # every variant is shown once before any repeats, then the rotation starts again in the same order
    assert len(set(shown[:variants])) == variants
    assert shown[variants:] == shown[: len(shown) - variants]


def test_due_reviews_come_first_lowest_recall_first(content, make_user, clock):
    rep = make_user("rep")
    _answer_all(rep, clock, answer=wrong_answer)
    clock.advance(timedelta(days=3))
    session = drill.today_session(rep, clock.now())
    due = [p for p in session.plan if p["reason"] == "due"]
    assert due and session.plan[: len(due)] == due
    recalls = [p["recall"] for p in due]
    assert recalls == sorted(recalls)


def test_session_size_follows_the_reps_median_answer_time(content, make_user, clock, app):
    app.config["NEW_SKILLS_PER_DAY"] = 20
    newcomer, slow = make_user("rep"), make_user("rep")
    # 30 s per item until the rep's own median is known: ten items fit five minutes (nine skills exist)
    assert len(drill.today_session(newcomer, clock.now()).plan) == min(10, len(drill.drillable_skills()))
    _answer_all(slow, clock, answer=wrong_answer, seconds=100)  # nine answers at 100 s each
    clock.advance(timedelta(days=2))
    plan = drill.today_session(slow, clock.now()).plan
    assert 1 <= len(plan) <= 3  # 300 s / 100 s


def test_a_day_in_the_reps_timezone(content, make_user, clock):
    rep = make_user("rep", timezone="Pacific/Auckland")  # UTC+13 in March
    drill.today_session(rep, clock.now())
    session = db.session.scalars(db.select(DrillSession)).one()
    assert session.day == (clock.now() + timedelta(hours=13)).date()


def test_two_tabs_asking_for_the_same_slot_get_the_same_presentation(content, make_user, clock):
    rep = make_user("rep")
    first = drill.current_item(rep, clock.now())
    second = drill.current_item(rep, clock.now())
    assert first.presentation.token == second.presentation.token
    assert db.session.scalar(db.select(db.func.count(Presentation.id))) == 1


def test_practise_more_adds_started_skills_lowest_recall_first(content, make_user, clock):
    rep = make_user("rep")
    first = _answer_all(rep, clock)
    assert drill.current_item(rep, clock.now()) is None
    added = drill.practise_more(rep, clock.now())
    assert added == first  # every started skill, since fewer than ten fit
    session = drill.today_session(rep, clock.now())
    extra = [p for p in session.plan if p["reason"] == "extra"]
    assert [p["recall"] for p in extra] == sorted(p["recall"] for p in extra)
    assert _answer_all(rep, clock) == added
    assert drill.practise_more(rep, clock.now()) == added  # and again, as often as the rep likes


def test_the_session_is_finished_by_its_last_planned_answer_and_reopened_by_practise_more(content, make_user, clock):
    rep = make_user("rep")
    session = drill.today_session(rep, clock.now())
    planned = len(session.plan)
    for _ in range(planned - 1):
        item = drill.current_item(rep, clock.now())
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(seconds=30))
    assert db.session.get(DrillSession, session.id).finished_at is None
    item = drill.current_item(rep, clock.now())
    drill.submit_answer(rep, item.presentation.token, wrong_answer(item), clock.now())
    db.session.expire_all()
    assert db.session.get(DrillSession, session.id).finished_at == clock.now()

    added = drill.practise_more(rep, clock.now())
    assert added > 0 and db.session.get(DrillSession, session.id).finished_at is None
    clock.advance(timedelta(minutes=5))
    assert _answer_all(rep, clock) == added
    db.session.expire_all()
    assert db.session.get(DrillSession, session.id).finished_at == clock.now()


def test_answers_are_rated_against_the_usual_time_as_of_planning_the_day(content, make_user, clock, app):
    app.config["NEW_SKILLS_PER_DAY"] = 20
    rep = make_user("rep")
    first_day = drill.today_session(rep, clock.now())
    assert first_day.usual_seconds == 0.0  # a newcomer's usual time is not known yet: never Easy
    assert _answer_all(rep, clock, seconds=40) >= 5  # nine answers of 40 s each
    clock.advance(timedelta(days=2))
    session = drill.today_session(rep, clock.now())
    assert session.usual_seconds == 40.0

    assert len(session.plan) >= 6, session.plan
    ratings = []
    for seconds in (10, 10, 10, 10, 10, 30):  # five quick answers today do not move today's bar
        item = drill.current_item(rep, clock.now())
        clock.advance(timedelta(seconds=seconds))
        ratings.append(drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now()).rating)
    assert ratings == [int(Rating.Easy)] * 5 + [int(Rating.Good)]  # 30 s is more than half of 40 s


def test_a_session_planned_before_the_usual_time_was_kept_rates_against_the_latest_answers(content, make_user, clock, app):
    app.config["NEW_SKILLS_PER_DAY"] = 20
    rep = make_user("rep")
    _answer_all(rep, clock, seconds=40)
    clock.advance(timedelta(days=2))
    session = drill.today_session(rep, clock.now())
    session.usual_seconds = None  # as migration 0008 leaves the sessions planned before it
    db.session.commit()
    item = drill.current_item(rep, clock.now())
    clock.advance(timedelta(seconds=15))
    assert drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now()).rating == int(Rating.Easy)
    item = drill.current_item(rep, clock.now())
    clock.advance(timedelta(seconds=25))
    assert drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now()).rating == int(Rating.Good)


def test_a_refresh_after_some_answers_shows_the_same_open_item_again(content, make_user, clock):
    rep = make_user("rep")
    first = drill.current_item(rep, clock.now())
    drill.submit_answer(rep, first.presentation.token, right_answer(first), clock.now())
    second = drill.current_item(rep, clock.now())
    clock.advance(timedelta(minutes=3))
    again = drill.current_item(rep, clock.now())
    assert second.position == 1 and again.presentation == second.presentation
    assert [o.key for o in again.options] == [o.key for o in second.options]
    assert db.session.scalar(db.select(db.func.count(Presentation.id))) == 2


def test_a_skill_falling_due_later_today_is_in_todays_drill(content, make_user, clock):
    # before, the day's plan took only skills due by the moment it was planned: a rep who drilled at 09:00 one day
    # and at 08:00 on the due day did not get the skill that day (their progress page said it was due that day, and
    # the summary said the next drill was tomorrow), so every interval ran a day long whenever they drilled earlier
    rep = make_user("rep", timezone="America/New_York")  # UTC-5: the local day ends at 05:00 UTC
    clock.set(datetime(2026, 3, 3, 2, tzinfo=timezone.utc))  # 21:00 on Monday in New York, already Tuesday in UTC
    _answer_all(rep, clock, answer=right_answer)
    skill, due = min(((s.skill, s.due) for s in drill.memory_states(rep.id).values()), key=lambda pair: pair[1])
    due_day = drill.local_day(rep, due)
    clock.set(datetime.combine(due_day, time(8), tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc))
    assert clock.now() < due and due.date() > due_day  # due at 21:00 local, the next day in UTC
    plan = drill.today_session(rep, clock.now()).plan
    assert (skill, "due") in [(p["skill"], p["reason"]) for p in plan]


def test_a_skill_due_tomorrow_is_not_in_todays_drill(content, make_user, clock):
    rep = make_user("rep", timezone="America/New_York")
    clock.set(datetime(2026, 3, 3, 2, tzinfo=timezone.utc))
    _answer_all(rep, clock, answer=right_answer)
    first_due = min(s.due for s in drill.memory_states(rep.id).values())
    day_before = drill.local_day(rep, first_due) - timedelta(days=1)
    clock.set(datetime.combine(day_before, time(23, 30), tzinfo=ZoneInfo("America/New_York")).astimezone(timezone.utc))
    assert [p for p in drill.today_session(rep, clock.now()).plan if p["reason"] == "due"] == []


def test_the_next_drill_falls_on_a_day_the_rep_works_and_is_not_away(content, make_user, clock):
    # before, a rep working Monday to Friday finished Friday's drill and read "Next drill due: Sat", a day off that
    # neither reminders nor participation count
    from learnapp.services.vacations import add_vacation

    rep = make_user("rep")  # works Monday to Friday
    _answer_all(rep, clock)  # Monday 2 March
    saturday = datetime(2026, 3, 7, 10, tzinfo=timezone.utc)
    db.session.execute(db.update(MemoryStateRow).where(MemoryStateRow.user_id == rep.id).values(due=saturday))
    db.session.commit()
    clock.set(datetime(2026, 3, 6, 12, tzinfo=timezone.utc))  # Friday
    assert drill.local_day(rep, drill.summary(rep, clock.now()).next_due) == date(2026, 3, 9)  # Monday
    add_vacation(rep, date(2026, 3, 9), date(2026, 3, 10), by=rep, now=clock.now())
    assert drill.local_day(rep, drill.summary(rep, clock.now()).next_due) == date(2026, 3, 11)  # back on Wednesday


def _state_rows(rep) -> list[tuple]:
    return [(r.skill_id, r.reviews, r.due) for r in db.session.scalars(db.select(MemoryStateRow).filter_by(user_id=rep.id))]


def test_an_answer_from_a_tab_left_open_since_an_earlier_day_is_not_recorded(content, make_user, clock):
    """Before: recorded against yesterday's drill, which a rep answering this morning never meant to add to."""
    rep = make_user("rep", timezone="America/New_York")  # the local day ends at 05:00 UTC
    item = drill.current_item(rep, clock.now())
    yesterday = drill.today_session(rep, clock.now())
    clock.advance(timedelta(days=1))
    before = _state_rows(rep)
    with pytest.raises(drill.StaleItem):  # the answer from yesterday's tab is not recorded
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 0
    assert _state_rows(rep) == before
    db.session.refresh(yesterday)
    assert yesterday.finished_at is None


def test_an_item_from_an_earlier_day_answered_before_still_says_the_first_answer_counts(content, make_user, clock):
    rep = make_user("rep")
    item = drill.current_item(rep, clock.now())
    first = drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    clock.advance(timedelta(days=1))
    again = drill.submit_answer_once(rep, item.presentation.token, wrong_answer(item), clock.now())
    assert again.new is False and again.attempt.id == first.id
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1


def test_an_item_shown_just_before_midnight_is_answered_just_after_it(content, make_user, clock):
    """A rep answering at 23:59:59 whose answer arrives at 00:00:01 is doing the drill they were shown."""
    rep = make_user("rep", timezone="America/New_York")
    midnight = drill.day_end(rep, drill.local_day(rep, clock.now()))
    clock.set(midnight - timedelta(minutes=1))
    item = drill.current_item(rep, clock.now())
    clock.set(midnight + timedelta(seconds=1))
    answered = drill.submit_answer_once(rep, item.presentation.token, right_answer(item), clock.now())
    assert answered.new and answered.attempt.presentation_id == item.presentation.id


def test_the_grace_after_midnight_counts_from_midnight_not_from_the_showing(content, make_user, clock):
    """An item first shown at 23:40 and still on the screen at 23:59 (a reload shows the same item) was refused when
    its answer arrived at 00:00:01: the grace counted from the first showing, and README promises that answer."""
    rep, other = make_user("rep", timezone="America/New_York"), make_user("rep", timezone="America/New_York")
    midnight = drill.day_end(rep, drill.local_day(rep, clock.now()))
    clock.set(midnight - timedelta(minutes=20))
    shown = drill.current_item(rep, clock.now())
    clock.set(midnight - timedelta(minutes=1))
    assert drill.current_item(rep, clock.now()).presentation.token == shown.presentation.token  # the reload
    clock.set(midnight - timedelta(seconds=30))
    late = drill.current_item(other, clock.now())  # another rep's item, shown at 23:59:30
    clock.set(midnight + timedelta(seconds=1))
    assert drill.submit_answer_once(rep, shown.presentation.token, right_answer(shown), clock.now()).new
    clock.set(midnight + drill.LATE_ANSWER_GRACE)
    with pytest.raises(drill.StaleItem):  # the grace after that day's end is over, however recent the showing
        drill.submit_answer(other, late.presentation.token, right_answer(late), clock.now())
    assert db.session.scalar(db.select(db.func.count(Attempt.id))) == 1


def test_a_day_planned_by_another_tab_meanwhile_lets_go_of_the_write_lock(content, make_user, clock, monkeypatch):
    """Before: today_session returned the other tab's session with its own write transaction still open, so on
    SQLite the database's write lock (which every other rep's answer needs) stayed held until the request ended."""
    from tests.helpers import sqlite_write_lock_free

    rep = make_user("rep")
    real_begin_write = drill.begin_write

    def other_tab_plans_first(**kwargs):  # the other tab's plan lands between the first read and the lock
        with db.engine.begin() as other:
            other.execute(db.insert(DrillSession.__table__).values(
                user_id=rep.id, day=drill.local_day(rep, clock.now()), started_at=clock.now(), usual_seconds=0.0,
                plan=[{"skill": "days-out", "reason": "new", "recall": None}]))
        real_begin_write(**kwargs)

    monkeypatch.setattr(drill, "begin_write", other_tab_plans_first)
    session = drill.today_session(rep, clock.now())
    assert session.plan == [{"skill": "days-out", "reason": "new", "recall": None}]  # theirs, not a second plan
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        assert sqlite_write_lock_free(url.database)
    assert not db.session().in_transaction()


def test_two_practise_more_clicks_at_once_add_one_round(content, make_user, clock, monkeypatch):
    """A double click on "Practise more": both requests find the drill done before either takes the write lock (here:
    the second one's check is made to miss the first one's round). Before, each added a round (ten minutes, not five);
    now the second, under the lock, finds slots still to answer and adds none."""
    rep = make_user("rep")
    _answer_all(rep, clock)
    added = drill.practise_more(rep, clock.now())
    assert added > 0
    planned = len(drill.today_session(rep, clock.now()).plan)
    monkeypatch.setattr(drill, "current_item", lambda user, now: None)  # its check ran before the first round landed
    assert drill.practise_more(rep, clock.now()) == 0
    db.session.expire_all()
    assert len(drill.today_session(rep, clock.now()).plan) == planned


def test_an_item_answered_just_after_the_rep_moved_their_timezone_a_day_ahead_still_counts(content, make_user, clock):
    """A rep in Honolulu shown an item at 22:00, who sets their timezone to Kiritimati (a day ahead: 22:00 there
    ended 10 hours earlier) and answers a minute later, was refused: the grace counted from a midnight long past,
    before the item was even shown. The grace counts from the later of the day's end and the showing."""
    rep = make_user("rep", timezone="Pacific/Honolulu")
    clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=timezone.utc))  # 22:00 in Honolulu
    item = drill.current_item(rep, clock.now())
    rep.timezone = "Pacific/Kiritimati"
    db.session.commit()
    clock.advance(timedelta(minutes=1))
    assert drill.submit_answer_once(rep, item.presentation.token, right_answer(item), clock.now()).new
    other = make_user("rep", timezone="Pacific/Honolulu")  # the same, answered only after the grace: refused
    clock.set(datetime(2026, 3, 5, 8, 0, tzinfo=timezone.utc))  # 22:00 in Honolulu
    late = drill.current_item(other, clock.now())
    other.timezone = "Pacific/Kiritimati"
    db.session.commit()
    clock.advance(drill.LATE_ANSWER_GRACE)
    with pytest.raises(drill.StaleItem):
        drill.submit_answer(other, late.presentation.token, right_answer(late), clock.now())


def _at(rep, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(rep.timezone)).astimezone(timezone.utc)


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati"])
def test_skills_falling_due_after_a_drill_opened_just_after_midnight_join_it_when_opened_again(content, make_user,
                                                                                              clock, zone):
    # before, a rep who drilled at 08:00 one day (wrong: due again at 08:00 the next day) and opened the next day's
    # drill at 00:05 did not get those skills (only 16 hours had passed since their review: a same-day review to
    # FSRS); opened again at 10:00 the drill was done ("next drill due tomorrow"), and they waited for the next day's
    rep = make_user("rep", timezone=zone)
    monday, tuesday = date(2026, 3, 2), date(2026, 3, 3)
    clock.set(_at(rep, monday, 8))
    _answer_all(rep, clock, answer=wrong_answer)
    failed = set(drill.memory_states(rep.id))
    assert all(drill.local_day(rep, s.due) == tuesday for s in drill.memory_states(rep.id).values())
    clock.set(_at(rep, tuesday, 0, 5))
    _answer_all(rep, clock)
    assert not failed & {p["skill"] for p in drill.today_session(rep, clock.now()).plan}  # a same-day review: not yet
    summary = drill.summary(rep, clock.now())
    assert summary.later_today is not None and summary.later_today.hour == 8  # not "tomorrow"
    assert drill.local_day(rep, summary.next_due) == tuesday
    clock.set(_at(rep, tuesday, 10))
    item = drill.current_item(rep, clock.now())
    assert item is not None and item.round == 1 and item.fell_due and item.round_total == len(failed)
    before = db.session.scalar(db.select(db.func.count(Attempt.id)))
    _answer_all(rep, clock)
    answered = db.session.scalars(db.select(Attempt.skill_id).order_by(Attempt.id).offset(before)).all()
    assert set(answered) == failed and len(answered) == len(failed)
    assert drill.current_item(rep, clock.now()) is None  # reviewed: due again days later, not today
    assert drill.summary(rep, clock.now()).later_today is None


def test_a_backlog_left_for_later_days_does_not_join_the_drill_when_opened_again(content, make_user, clock, app):
    # the day's drill leaves overdue skills beyond five minutes for the coming days; reopening it does not add them
    rep = make_user("rep")
    _answer_all(rep, clock)  # Monday: three skills
    db.session.execute(db.update(MemoryStateRow).where(MemoryStateRow.user_id == rep.id)
                       .values(due=datetime(2026, 3, 3, 6, tzinfo=timezone.utc)))
    db.session.commit()
    app.config.update(SESSION_SECONDS=30, NEW_SKILLS_PER_DAY=0)  # one item a drill
    clock.set(datetime(2026, 3, 4, 8, tzinfo=timezone.utc))
    assert _answer_all(rep, clock) == 1
    clock.set(datetime(2026, 3, 4, 20, tzinfo=timezone.utc))
    assert drill.current_item(rep, clock.now()) is None


def test_a_rep_who_drills_at_23_55_and_again_at_00_05(content, make_user, clock):
    # the drill opened at 00:05 does not review again what was answered ten minutes earlier (a same-day review to
    # FSRS); those skills fall due at 23:55 that evening and join that day's drill when it is opened again then
    rep = make_user("rep")
    clock.set(datetime(2026, 3, 2, 23, 55, tzinfo=timezone.utc))
    _answer_all(rep, clock, answer=wrong_answer)
    evening = set(drill.memory_states(rep.id))
    clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=timezone.utc))
    _answer_all(rep, clock)
    assert not evening & {p["skill"] for p in drill.today_session(rep, clock.now()).plan}
    clock.set(datetime(2026, 3, 3, 22, tzinfo=timezone.utc))
    assert drill.current_item(rep, clock.now()) is None
    assert drill.summary(rep, clock.now()).later_today.hour == 23
    clock.set(datetime(2026, 3, 3, 23, 58, tzinfo=timezone.utc))
    item = drill.current_item(rep, clock.now())
    assert item is not None and item.fell_due and item.presentation.skill_id in evening


@pytest.mark.parametrize("zone, day, moved_to", [
    ("Europe/Berlin", date(2026, 10, 25), None),  # clocks go back at 03:00: a day of 25 hours
    ("America/New_York", date(2026, 11, 1), None),  # at 02:00
    ("Europe/Berlin", date(2026, 3, 3), "America/New_York"),  # the day in Berlin goes on six hours longer in New York
])
def test_a_skill_answered_in_the_days_drill_does_not_join_it_again_the_same_day(content, make_user, clock, zone, day,
                                                                                 moved_to):
    # only a skill left out when the day was planned joins it later as fallen due. Before, a skill answered wrong at
    # 00:05 on a day longer than 24 hours (clocks going back, or the rep moving their timezone west) fell due again
    # at 23:05 the same day: the summary said "Done for now, next drill due today from 23:05" the minute the drill
    # was done, and the drill brought it back that evening as "Due since your drill began"
    rep = make_user("rep", timezone=zone)
    clock.set(_at(rep, day - timedelta(days=1), 9))
    _answer_all(rep, clock)
    clock.set(_at(rep, day, 0, 5))
    assert _answer_all(rep, clock, answer=wrong_answer) > 0
    if moved_to:  # 18:05 the day before in New York: the drill of ``day`` is the one done, and its day ends later
        rep.timezone = moved_to
        db.session.commit()
    clock.set(_at(rep, day, 10))
    assert drill.current_item(rep, clock.now()) is None
    summary = drill.summary(rep, clock.now())
    assert summary.later_today is None
    assert drill.local_day(rep, summary.next_due) > day
    clock.set(_at(rep, day, 23, 30))
    assert drill.local_day(rep, clock.now()) == day
    assert drill.current_item(rep, clock.now()) is None
    clock.set(_at(rep, day + timedelta(days=1), 0, 5))  # the next day's drill brings them back
    assert drill.current_item(rep, clock.now()) is not None
