"""Scheduling with py-fsrs: ratings, reviews, recall, variants, the five-minute plan. Exact values."""

import json
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from fsrs import Rating

from learnapp.domain.model import Verdict
from learnapp.domain.scheduling import (
    DEFAULT_SECONDS, SESSION_SECONDS, MemoryState, fallen_due_since, joins_the_day_at, left_out_when_planned, make_scheduler, median_answer_seconds, next_due, pick_variant, plan_session, predicted_recall,
    rating_for, review, session_capacity,
)

T = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SCHED = make_scheduler(0.9)


def verdict(correct: bool, score: float | None = None, near_miss: bool = False) -> Verdict:
    return Verdict(correct=correct, score=score if score is not None else float(correct), chosen=None, expected=None,
                   fit=None, reason="", lesson="x", near_miss=near_miss)


@pytest.mark.parametrize(
    "correct, score, near_miss, seconds, usual, hint, expected",
    [
        (False, 0.0, False, 20, 30, False, Rating.Again),
        (False, 0.0, False, 5, 30, False, Rating.Again),  # fast but wrong is still wrong
        (False, 0.9, True, 20, 30, False, Rating.Hard),  # only two neighbouring steps swapped
        (False, 0.8, False, 20, 30, False, Rating.Again),  # a step moved two places: partial credit, not remembered
        (False, 0.6, False, 20, 30, False, Rating.Again),  # the offer pulled to the front of five steps
        (True, 1.0, False, 20, 30, True, Rating.Hard),  # right, but the rep was unsure
        (True, 1.0, False, 15, 30, False, Rating.Easy),  # at most half the usual time
        (True, 1.0, False, 16, 30, False, Rating.Good),
        (True, 1.0, False, 5, None, False, Rating.Good),  # usual time unknown: never Easy
        (True, 1.0, False, 60, 30, False, Rating.Good),
        (False, 0.9, True, 5, 30, False, Rating.Hard),  # a near miss, however fast, is never better than Hard
        (False, 0.0, False, 20, 30, True, Rating.Again),  # a hint does not soften a wrong answer
        (True, 1.0, False, 5, 30, True, Rating.Hard),  # a hint beats speed
        (True, 1.0, False, 20, None, True, Rating.Hard),
        (True, 1.0, False, 0, 0, False, Rating.Good),  # a usual time of zero is no basis for Easy
    ],
)
def test_rating_for_each_verdict(correct, score, near_miss, seconds, usual, hint, expected):
    assert rating_for(verdict(correct, score, near_miss), seconds, usual, hint=hint) == expected


def test_first_review_good_gives_exact_state():
    state = review(None, "days-out", Rating.Good, T, SCHED)
    assert state.due == datetime(2026, 3, 4, 9, 0, tzinfo=timezone.utc)
    assert state.stability == pytest.approx(2.3065)
    assert state.difficulty == pytest.approx(2.118103970459016)
    assert (state.reviews, state.lapses, state.last_review) == (1, 0, T)


def test_again_after_a_review_is_a_lapse_and_comes_back_sooner():
    first = review(None, "days-out", Rating.Good, T, SCHED)
    lapsed = review(first, "days-out", Rating.Again, first.due, SCHED)
    assert (lapsed.reviews, lapsed.lapses) == (2, 1)
    assert review(lapsed, "days-out", Rating.Again, lapsed.due, SCHED).lapses == 2
    assert lapsed.stability == pytest.approx(0.6075801062519337)
    assert lapsed.due == datetime(2026, 3, 5, 9, 0, tzinfo=timezone.utc)
    kept = review(first, "days-out", Rating.Good, first.due, SCHED)
    assert kept.due > lapsed.due


def test_predicted_recall_is_about_the_desired_retention_at_the_due_date():
    first = review(None, "days-out", Rating.Good, T, SCHED)
    assert predicted_recall(first, T, SCHED) == pytest.approx(1.0)
    # a stability of 2.3 days gives a due date 2 whole days out, so recall there is a little above 0.9
    assert predicted_recall(first, first.due, SCHED) == pytest.approx(0.9094932559773545)
    second = review(first, "days-out", Rating.Good, first.due, SCHED)
    assert second.due == datetime(2026, 3, 15, 9, tzinfo=timezone.utc)
    assert predicted_recall(second, second.due, SCHED) == pytest.approx(0.9, abs=1e-3)
    assert predicted_recall(first, first.due + timedelta(days=30), SCHED) < 0.7
    assert predicted_recall(None, T, SCHED) is None


def test_recall_falls_as_time_passes():
    state = review(None, "days-out", Rating.Good, T, SCHED)
    recalls = [predicted_recall(state, T + timedelta(days=d), SCHED) for d in (0, 1, 2, 10, 60)]
    assert recalls == sorted(recalls, reverse=True) and len(set(recalls)) == 5


def test_desired_retention_is_a_setting():
    lax = review(None, "s", Rating.Good, T, make_scheduler(0.8)).due
    strict = review(None, "s", Rating.Good, T, make_scheduler(0.95)).due
    assert (lax, strict) == (datetime(2026, 3, 10, 9, tzinfo=timezone.utc), datetime(2026, 3, 3, 9, tzinfo=timezone.utc))


@pytest.mark.parametrize("retention", [0.5, 0.7, 1.0])
def test_desired_retention_outside_its_range_is_refused(retention):
    with pytest.raises(ValueError):
        make_scheduler(retention)


def test_again_on_the_first_review_is_not_a_lapse():
    state = review(None, "days-out", Rating.Again, T, SCHED)
    assert (state.reviews, state.lapses, state.due) == (1, 0, datetime(2026, 3, 3, 9, tzinfo=timezone.utc))
    assert state.stability == pytest.approx(0.212)


def test_memory_state_round_trip():
    state = review(None, "days-out", Rating.Good, T, SCHED)
    assert MemoryState.from_dict(state.to_dict()) == state
    assert state.to_dict()["due"] == "2026-03-04T09:00:00+00:00"
    lapsed = review(state, "days-out", Rating.Again, state.due, SCHED)
    assert MemoryState.from_dict(lapsed.to_dict()) == lapsed


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 3, 2, 9)
    with pytest.raises(ValueError):
        review(None, "s", Rating.Good, naive, SCHED)
    with pytest.raises(ValueError):
        predicted_recall(None, naive, SCHED)
    with pytest.raises(ValueError):
        plan_session({}, ["s"], naive, SCHED, median_seconds=None, new_introduced_today=0)
    state = review(None, "s", Rating.Good, T, SCHED)
    with pytest.raises(ValueError):
        predicted_recall(state, naive, SCHED)
    with pytest.raises(ValueError):
        review(state, "s", Rating.Good, naive, SCHED)


def test_pick_variant_rotates_least_recently_seen():
    ids = ["a", "b", "c"]
    assert pick_variant(ids, {}) == "a"
    assert pick_variant(ids, {"a": T}) == "b"
    assert pick_variant(ids, {"a": T, "b": T + timedelta(days=1)}) == "c"
    seen = {"a": T, "b": T + timedelta(days=1), "c": T + timedelta(days=2)}
    assert pick_variant(ids, seen) == "a"
    seen["a"] = T + timedelta(days=3)
    assert pick_variant(ids, seen) == "b"
    with pytest.raises(ValueError):
        pick_variant([], {})


def test_median_answer_seconds_needs_five_answers():
    assert median_answer_seconds([10, 20, 30, 40]) is None
    assert median_answer_seconds([10, 20, 30, 40, 100]) == 30.0
    assert median_answer_seconds([10, 20, 30, 40, 100, 200]) == 35.0
    assert median_answer_seconds([100, 10, 40, 20, 30]) == 30.0
    assert median_answer_seconds([]) is None


@pytest.mark.parametrize("median, capacity", [(None, 10), (30, 10), (60, 5), (20, 15), (400, 1)])
def test_five_minutes_at_the_reps_own_pace(median, capacity):
    assert session_capacity(median) == capacity


SKILLS = [f"s{i}" for i in range(12)]


def _states(now):
    """s0..s3 due with different recall, s4 not yet due; the rest are new."""
    states = {}
    for i, days_ago in enumerate([3, 10, 5, 2]):
        reviewed = now - timedelta(days=days_ago)
        state = review(None, f"s{i}", Rating.Good, reviewed, SCHED)
        states[f"s{i}"] = state
    states["s4"] = review(None, "s4", Rating.Easy, now, SCHED)
    return states


def test_plan_puts_due_skills_first_lowest_recall_first_then_new():
    states = _states(T)
    plan = plan_session(states, SKILLS, T, SCHED, median_seconds=None, new_introduced_today=0, new_per_day=3)
    assert [p.skill for p in plan] == ["s1", "s2", "s0", "s3", "s5", "s6", "s7"]
    assert [p.reason for p in plan] == ["due"] * 4 + ["new"] * 3
    assert "s4" not in [p.skill for p in plan]  # reviewed today, not due yet
    assert [p.recall for p in plan[4:]] == [None, None, None]
    recalls = [p.recall for p in plan[:4]]
    assert recalls == sorted(recalls)


def test_plan_respects_new_per_day_and_capacity():
    states = _states(T)
    assert [p.skill for p in plan_session(states, SKILLS, T, SCHED, median_seconds=None, new_introduced_today=2,
                                          new_per_day=3)][4:] == ["s5"]
    assert plan_session(states, SKILLS, T, SCHED, median_seconds=None, new_introduced_today=5, new_per_day=3)[4:] == []
    assert [p.skill for p in plan_session(states, SKILLS, T, SCHED, median_seconds=100, new_introduced_today=0)] == [
        "s1", "s2", "s0"]


def test_plan_fills_five_minutes_at_the_reps_pace():
    many = [f"n{i}" for i in range(20)]
    assert len(plan_session({}, many, T, SCHED, median_seconds=None, new_introduced_today=0, new_per_day=20)) == 10
    assert len(plan_session({}, many, T, SCHED, median_seconds=60, new_introduced_today=0, new_per_day=20)) == 5
    due_first = plan_session(_states(T), SKILLS, T, SCHED, median_seconds=60, new_introduced_today=0)
    assert [(p.skill, p.reason) for p in due_first] == [("s1", "due"), ("s2", "due"), ("s0", "due"), ("s3", "due"), ("s5", "new")]


def test_plan_takes_skills_falling_due_before_the_end_of_the_day():
    states = {"s4": review(None, "s4", Rating.Good, T, SCHED)}  # due 2026-03-04 09:00
    morning = datetime(2026, 3, 4, 8, tzinfo=timezone.utc)
    midnight = datetime(2026, 3, 5, tzinfo=timezone.utc)
    assert plan_session(states, ["s4"], morning, SCHED, median_seconds=None, new_introduced_today=3) == []
    planned = plan_session(states, ["s4"], morning, SCHED, median_seconds=None, new_introduced_today=3, due_by=midnight)
    assert [(p.skill, p.reason) for p in planned] == [("s4", "due")]
    day_before = plan_session(states, ["s4"], morning - timedelta(days=1), SCHED, median_seconds=None,
                              new_introduced_today=3, due_by=midnight - timedelta(days=1))
    assert day_before == []
    with pytest.raises(ValueError):
        plan_session(states, ["s4"], morning, SCHED, median_seconds=None, new_introduced_today=3,
                     due_by=midnight.replace(tzinfo=None))


def test_a_skill_due_later_in_the_day_waits_while_its_last_review_is_less_than_a_day_old():
    """FSRS counts whole days since the last review: brought forward within a day, a review is a same-day one that
    barely strengthens the memory, and the skill comes back the next day, and the next (simulated: twice the reviews)."""
    evening = datetime(2026, 3, 3, 20, tzinfo=timezone.utc)
    states = {"s4": review(None, "s4", Rating.Again, evening, SCHED)}  # due 2026-03-04 20:00, a day later
    assert states["s4"].due == evening + timedelta(days=1)
    midnight = datetime(2026, 3, 5, tzinfo=timezone.utc)
    for at in (datetime(2026, 3, 4, 8, tzinfo=timezone.utc), datetime(2026, 3, 4, 19, 59, tzinfo=timezone.utc)):
        assert plan_session(states, ["s4"], at, SCHED, median_seconds=None, new_introduced_today=3, due_by=midnight) == []
    due = plan_session(states, ["s4"], evening + timedelta(days=1), SCHED, median_seconds=None, new_introduced_today=3,
                       due_by=midnight)
    assert [p.skill for p in due] == ["s4"]


def test_what_fell_due_since_a_drill_planned_just_after_midnight():
    """A drill planned at 00:05 leaves out a skill reviewed at 08:00 the day before (16 hours ago); it falls due at
    08:00 and joins then. A skill that was due at planning (left out for time) and one due tomorrow do not."""
    yesterday = datetime(2026, 3, 3, 8, tzinfo=timezone.utc)
    states = {"owl": review(None, "owl", Rating.Again, yesterday, SCHED),  # due 2026-03-04 08:00
              "backlog": review(None, "backlog", Rating.Again, yesterday - timedelta(days=3), SCHED),
              "later": review(None, "later", Rating.Good, yesterday, SCHED)}  # due days later
    planned_at, midnight = datetime(2026, 3, 4, 0, 5, tzinfo=timezone.utc), datetime(2026, 3, 5, tzinfo=timezone.utc)
    skills = ["owl", "backlog", "later"]
    assert [p.skill for p in plan_session(states, skills, planned_at, SCHED, median_seconds=None, new_introduced_today=3,
                                          due_by=midnight)] == ["backlog"]
    assert joins_the_day_at(states["owl"], midnight) == yesterday + timedelta(days=1)
    for at, expected in ((datetime(2026, 3, 4, 7, 59, tzinfo=timezone.utc), []),
                         (datetime(2026, 3, 4, 10, tzinfo=timezone.utc), [("owl", "due")])):
        fallen = fallen_due_since(states, skills, planned_at, at, SCHED, due_by=midnight, limit=10)
        assert [(p.skill, p.reason) for p in fallen] == expected, at
    assert fallen_due_since(states, skills, planned_at, datetime(2026, 3, 4, 10, tzinfo=timezone.utc), SCHED,
                            due_by=midnight, limit=0) == []


def test_a_skill_answered_after_the_day_was_planned_does_not_fall_due_that_day_on_a_25_hour_day():
    """Berlin, 25 October 2026: clocks go back, the day ends 25 hours after it began. A skill answered wrong at 00:05
    in the day's drill is due at 23:05 the same day; it was not left out of the drill, so it does not join it again."""
    planned_at = datetime(2026, 10, 24, 22, 5, tzinfo=timezone.utc)  # 00:05 in Berlin
    day_end = datetime(2026, 10, 25, 23, tzinfo=timezone.utc)  # midnight in Berlin
    states = {"owl": review(None, "owl", Rating.Again, planned_at + timedelta(minutes=1), SCHED)}
    assert states["owl"].due < day_end
    late = datetime(2026, 10, 25, 22, 30, tzinfo=timezone.utc)
    assert fallen_due_since(states, ["owl"], planned_at, late, SCHED, due_by=day_end, limit=10) == []
    assert not left_out_when_planned(states["owl"], planned_at)
    assert left_out_when_planned(states["owl"], planned_at + timedelta(minutes=2))


def test_plan_is_empty_when_nothing_is_due_and_no_new_skill_is_allowed():
    states = {"s4": review(None, "s4", Rating.Good, T, SCHED)}
    assert plan_session(states, ["s4", "s5"], T, SCHED, median_seconds=None, new_introduced_today=3) == []
    assert next_due(states) == datetime(2026, 3, 4, 9, tzinfo=timezone.utc)
    assert next_due({}) is None


def test_constants():
    assert (DEFAULT_SECONDS, SESSION_SECONDS) == (30.0, 300)


def test_make_scheduler_has_daily_steps_and_no_fuzz():
    sched = make_scheduler(0.85)
    assert (sched.desired_retention, sched.learning_steps, sched.relearning_steps, sched.enable_fuzzing) == (
        0.85, (), (), False)
    assert make_scheduler(0.99).desired_retention == 0.99


def test_predicted_recall_at_the_due_date_is_the_desired_retention():
    # FSRS schedules the next review after `stability` days (the interval at which recall falls to 0.9);
    # with a whole-day stability there is no rounding, so recall at the due date is exactly 0.9.
    state = MemoryState(skill="days-out", stability=10.0, difficulty=5.0, due=T + timedelta(days=10), last_review=T,
                        state=2, step=None, reviews=3, lapses=0)
    assert predicted_recall(state, state.due, SCHED) == pytest.approx(0.9, abs=1e-6)
    assert predicted_recall(state, T, SCHED) == pytest.approx(1.0, abs=1e-12)
    assert predicted_recall(state, T + timedelta(days=20), SCHED) == pytest.approx(0.8458846451494336)


def test_utc_from_any_zero_offset_tzinfo_is_accepted_and_normalised():
    utc_zone = datetime(2026, 3, 2, 9, tzinfo=ZoneInfo("UTC"))
    state = review(None, "days-out", Rating.Good, utc_zone, SCHED)
    assert state.due == datetime(2026, 3, 4, 9, tzinfo=timezone.utc)
    assert state.due.tzinfo is timezone.utc and state.last_review.tzinfo is timezone.utc
    assert predicted_recall(state, datetime(2026, 3, 4, 9, tzinfo=ZoneInfo("UTC")), SCHED) == pytest.approx(
        0.9094932559773545)
    again = review(state, "days-out", Rating.Again, datetime(2026, 3, 4, 9, tzinfo=ZoneInfo("UTC")), SCHED)
    assert again.lapses == 1


def test_non_utc_offsets_are_refused():
    paris = datetime(2026, 3, 2, 10, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(ValueError, match="UTC"):
        review(None, "s", Rating.Good, paris, SCHED)
    with pytest.raises(ValueError):
        plan_session({}, ["s"], paris, SCHED, median_seconds=None, new_introduced_today=0)
    with pytest.raises(ValueError):
        pick_variant(["a", "b"], {"a": datetime(2026, 3, 2, 9), "b": T})


def test_memory_state_survives_json_exactly():
    state = review(None, "days-out", Rating.Good, T, SCHED)
    for _ in range(3):
        state = review(state, "days-out", Rating.Hard, state.due + timedelta(hours=7), SCHED)
    again = MemoryState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert again == state
    assert again.to_card().to_dict() == state.to_card().to_dict()
    assert MemoryState.from_card("days-out", state.to_card(), state.reviews, state.lapses) == state


def test_pick_variant_rotates_across_successive_reviews():
    ids = ["v1", "v2", "v3"]
    last_seen: dict[str, datetime] = {}
    shown = []
    for day in range(7):
        chosen = pick_variant(ids, last_seen)
        shown.append(chosen)
        last_seen[chosen] = T + timedelta(days=day)
    assert shown == ["v1", "v2", "v3", "v1", "v2", "v3", "v1"]
    # a variant seen at the same moment as another: the earlier one in the given order goes first
    assert pick_variant(ids, {"v1": T, "v2": T, "v3": T}) == "v1"
    # never-seen beats even a very old sighting
    assert pick_variant(ids, {"v1": T - timedelta(days=365), "v2": T}) == "v3"


def test_replay_gives_the_state_of_the_reviews_answered_one_by_one():
    from learnapp.domain.scheduling import replay

    reviews = [(T, Rating.Good), (T + timedelta(days=2), Rating.Again), (T + timedelta(days=3), int(Rating.Easy))]
    state = None
    for when, rating in reviews:
        state = review(state, "days-out", Rating(rating), when, SCHED)
    assert replay("days-out", reviews, SCHED) == state
    assert (state.reviews, state.lapses) == (3, 1)
    assert replay("days-out", [], SCHED) is None


def test_recall_now_falls_from_the_moment_of_the_review_and_agrees_with_fsrs_on_whole_days():
    """py-fsrs counts whole days: for 24 hours after any review, right or wrong, recall read 100% (a manager saw a
    skill failed last night as mastered this morning)."""
    from fsrs import Rating

    from learnapp.domain.scheduling import make_scheduler, predicted_recall, recall_now, review

    sched = make_scheduler()
    evening = datetime(2026, 3, 2, 19, 0, tzinfo=timezone.utc)
    learned = review(None, "a", Rating.Good, evening - timedelta(days=10), sched)
    failed = review(learned, "a", Rating.Again, evening, sched)
    morning = evening + timedelta(hours=14)
    assert predicted_recall(failed, morning, sched) == 1.0  # what the pages showed
    assert recall_now(failed, evening, sched) == pytest.approx(1.0)
    assert recall_now(failed, morning, sched) < 0.95
    assert recall_now(failed, morning, sched) < recall_now(failed, evening + timedelta(hours=2), sched)
    for days in (1, 3, 30):  # on whole days the two are the same curve
        assert recall_now(failed, evening + timedelta(days=days), sched) == pytest.approx(
            predicted_recall(failed, evening + timedelta(days=days), sched))
    assert recall_now(None, morning, sched) is None
