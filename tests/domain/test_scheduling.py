"""Scheduling with py-fsrs: ratings, reviews, recall, variants, the five-minute plan. Exact values."""

from datetime import datetime, timedelta, timezone

import pytest
from fsrs import Rating

from learnapp.domain.model import Verdict
from learnapp.domain.scheduling import (
    MemoryState, make_scheduler, median_answer_seconds, next_due, pick_variant, plan_session, predicted_recall,
    rating_for, review, session_capacity,
)

T = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SCHED = make_scheduler(0.9)


def verdict(correct: bool, score: float | None = None) -> Verdict:
    return Verdict(correct=correct, score=score if score is not None else float(correct), chosen=None, expected=None,
                   fit=None, reason="", lesson="x")


@pytest.mark.parametrize(
    "correct, score, seconds, usual, hint, expected",
    [
        (False, 0.0, 20, 30, False, Rating.Again),
        (False, 0.0, 5, 30, False, Rating.Again),  # fast but wrong is still wrong
        (False, 0.5, 20, 30, False, Rating.Hard),  # half the steps in place
        (False, 0.25, 20, 30, False, Rating.Again),
        (True, 1.0, 20, 30, True, Rating.Hard),  # right, but the rep was unsure
        (True, 1.0, 15, 30, False, Rating.Easy),  # at most half the usual time
        (True, 1.0, 16, 30, False, Rating.Good),
        (True, 1.0, 5, None, False, Rating.Good),  # usual time unknown: never Easy
        (True, 1.0, 60, 30, False, Rating.Good),
    ],
)
def test_rating_for_each_verdict(correct, score, seconds, usual, hint, expected):
    assert rating_for(verdict(correct, score), seconds, usual, hint=hint) == expected


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


def test_plan_is_empty_when_nothing_is_due_and_no_new_skill_is_allowed():
    states = {"s4": review(None, "s4", Rating.Good, T, SCHED)}
    assert plan_session(states, ["s4", "s5"], T, SCHED, median_seconds=None, new_introduced_today=3) == []
    assert next_due(states) == datetime(2026, 3, 4, 9, tzinfo=timezone.utc)
    assert next_due({}) is None
