"""Spaced scheduling per rep and skill, wrapping py-fsrs.

A verdict becomes an FSRS rating, FSRS turns the rating into the next memory state, and the
daily plan is sized to five minutes of the rep's own answer time. No scheduling maths is written
here: stability, difficulty, intervals and retrievability all come from ``fsrs``.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, Sequence

from fsrs import Card, Rating, Scheduler, State

from learnapp.domain.clock import ensure_utc
from learnapp.domain.model import Verdict

DEFAULT_SECONDS = 30.0  # answer time assumed until the rep's own median is known
SESSION_SECONDS = 300  # a five-minute drill
EASY_FACTOR = 0.5  # "clearly faster": at most half the rep's usual time


def _utc(dt: datetime) -> datetime:
    """``dt`` checked by ensure_utc and expressed in ``timezone.utc``.

    ensure_utc accepts any zero-offset tzinfo (``ZoneInfo("UTC")`` too), but py-fsrs insists on
    ``tzinfo == timezone.utc``; normalising here keeps the two rules from disagreeing.
    """
    return ensure_utc(dt).astimezone(timezone.utc)


@dataclass(frozen=True)
class MemoryState:
    """The scheduler's state for one rep and one skill."""

    skill: str
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    state: int
    step: int | None
    reviews: int = 0
    lapses: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "skill": self.skill, "stability": self.stability, "difficulty": self.difficulty,
            "due": self.due.isoformat(), "last_review": self.last_review.isoformat() if self.last_review else None,
            "state": self.state, "step": self.step, "reviews": self.reviews, "lapses": self.lapses,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MemoryState":
        return cls(
            skill=d["skill"], stability=d["stability"], difficulty=d["difficulty"],
            due=ensure_utc(datetime.fromisoformat(d["due"])),
            last_review=ensure_utc(datetime.fromisoformat(d["last_review"])) if d.get("last_review") else None,
            state=d["state"], step=d.get("step"), reviews=d.get("reviews", 0), lapses=d.get("lapses", 0),
        )

    def to_card(self) -> Card:
        return Card(card_id=0, state=State(self.state), step=self.step, stability=self.stability,
                    difficulty=self.difficulty, due=_utc(self.due),
                    last_review=_utc(self.last_review) if self.last_review else None)

    @classmethod
    def from_card(cls, skill: str, card: Card, reviews: int, lapses: int) -> "MemoryState":
        return cls(skill=skill, stability=card.stability, difficulty=card.difficulty, due=card.due,
                   last_review=card.last_review, state=card.state.value, step=card.step,
                   reviews=reviews, lapses=lapses)


def make_scheduler(desired_retention: float = 0.9) -> Scheduler:
    """An FSRS scheduler for daily drills: no minute-level learning steps, no fuzz (reproducible plans)."""
    if not 0.7 < desired_retention <= 0.99:
        raise ValueError(f"desired retention must be above 0.7 and at most 0.99, got {desired_retention}")
    return Scheduler(desired_retention=desired_retention, learning_steps=(), relearning_steps=(),
                     enable_fuzzing=False)


def rating_for(verdict: Verdict, answer_seconds: float, usual_seconds: float | None, *, hint: bool = False) -> Rating:
    """The FSRS rating for a graded answer.

    Wrong is Again, except an order-steps answer whose only slip is two neighbouring steps swapped,
    which is Hard; right with a hint is Hard; right in at most half the rep's usual time is Easy;
    else Good. Hard counts as remembered in FSRS, so a step moved further (the offer pulled to the
    front, the classic mistake the lessons warn about) is Again whatever its partial credit.
    """
    if not verdict.correct:
        return Rating.Hard if verdict.near_miss else Rating.Again
    if hint:
        return Rating.Hard
    if usual_seconds and usual_seconds > 0 and answer_seconds <= EASY_FACTOR * usual_seconds:
        return Rating.Easy
    return Rating.Good


def new_state(skill: str, now: datetime) -> MemoryState:
    """The state of a skill never reviewed: due now, no stability yet."""
    return MemoryState(skill=skill, stability=None, difficulty=None, due=_utc(now), last_review=None,
                       state=State.Learning.value, step=0)


def review(state: MemoryState | None, skill: str, rating: Rating, when: datetime, scheduler: Scheduler) -> MemoryState:
    """The memory state after one review; ``state`` None means the skill's first review."""
    when = _utc(when)
    before = state or new_state(skill, when)
    card, _log = scheduler.review_card(before.to_card(), rating, when)
    lapsed = state is not None and state.reviews > 0 and rating == Rating.Again
    return MemoryState.from_card(skill, card, before.reviews + 1, before.lapses + (1 if lapsed else 0))


def replay(skill: str, reviews: Iterable[tuple[datetime, Rating | int]], scheduler: Scheduler) -> MemoryState | None:
    """The memory state that a skill's reviews (answer time, rating; oldest first) lead to; None for no review.

    The same steps as answering them one by one, so a stored state can be checked against its attempts.
    """
    state = None
    for when, rating in reviews:
        state = review(state, skill, Rating(rating), when, scheduler)
    return state


def predicted_recall(state: MemoryState | None, now: datetime, scheduler: Scheduler) -> float | None:
    """FSRS retrievability: the probability the rep gets the skill right now; None if never reviewed."""
    now = _utc(now)
    if state is None or state.last_review is None:
        return None
    return scheduler.get_card_retrievability(state.to_card(), now)


def forgetting_curve(scheduler: Scheduler) -> Callable[[MemoryState, datetime], float]:
    """FSRS's forgetting curve as a plain function of (state, when): R = (1 + F * t / S) ** -w20, with the time t
    since the last review in fractional days (0.0 for a skill never reviewed). Built once for many states.

    py-fsrs's retrievability (predicted_recall) counts whole days, so for the first 24 hours after any review,
    right or wrong, it says 100%: a skill failed last night read as mastered this morning. This curve falls from
    the moment of the review; on whole days the two agree (a test checks it).
    """
    decay = -scheduler.parameters[20]
    factor = 0.9 ** (1 / decay) - 1

    def recall(state: MemoryState, when: datetime) -> float:
        if state.last_review is None or state.stability is None:
            return 0.0
        elapsed = max(0.0, (_utc(when) - _utc(state.last_review)).total_seconds() / 86400)
        return (1 + factor * elapsed / state.stability) ** decay

    return recall


def recall_now(state: MemoryState | None, now: datetime, scheduler: Scheduler) -> float | None:
    """The recall people are shown as "now" (forgetting_curve); None for a skill never reviewed.

    What the pages, the dashboard, the digest and "practise more" use; the drill's daily plan and the
    prediction stored with each answer keep py-fsrs's own value (predicted_recall).
    """
    if state is None or state.last_review is None or state.stability is None:
        return None
    return forgetting_curve(scheduler)(state, now)


def median_answer_seconds(durations: Sequence[float], minimum: int = 5) -> float | None:
    """The rep's usual answer time, or None until ``minimum`` answers are known."""
    if len(durations) < minimum:
        return None
    return float(statistics.median(durations))


def pick_variant(variant_ids: Sequence[str], last_seen: Mapping[str, datetime]) -> str:
    """The variant this rep has seen least recently: never-seen first (in given order), then the oldest."""
    if not variant_ids:
        raise ValueError("a skill needs at least one scenario variant")
    never = [v for v in variant_ids if v not in last_seen]
    if never:
        return never[0]
    return min(variant_ids, key=lambda v: (ensure_utc(last_seen[v]), variant_ids.index(v)))


@dataclass(frozen=True)
class PlannedItem:
    """One slot of a session plan: the skill, why it is there, and its predicted recall when planned."""

    skill: str
    reason: str  # "due" or "new"
    recall: float | None


def session_capacity(median_seconds: float | None, budget_seconds: int = SESSION_SECONDS) -> int:
    """How many items fit the time budget at the rep's usual pace (30 s per item until known)."""
    return max(1, math.floor(budget_seconds / (median_seconds or DEFAULT_SECONDS)))


def plan_session(states: Mapping[str, MemoryState], skills: Sequence[str], now: datetime, scheduler: Scheduler, *,
                 median_seconds: float | None, new_introduced_today: int, new_per_day: int = 3,
                 budget_seconds: int = SESSION_SECONDS, due_by: datetime | None = None) -> list[PlannedItem]:
    """Today's plan: due skills, lowest predicted recall first, then new skills, within five minutes.

    A skill is due when it falls due by now or before ``due_by``, the end of the rep's day: the day is
    planned once, so a skill due later in the day belongs to it, not to the next drill. Intervals are whole days
    from the time of the last review, and a rep who drills an hour earlier than last time would otherwise get
    every skill a day late. Only if a whole day has passed since its last review, though: FSRS counts whole days
    (py-fsrs takes ``timedelta.days``), and a review less than a day after the last one is a same-day review to
    it, which barely strengthens the memory and schedules it again soon, so a rep drilling a little earlier each
    morning would see the same skill day after day (about twice the reviews over 90 days in a simulation with
    answers 70% right and drill times varying by half an hour).
    """
    ensure_utc(now)
    due_by = max(ensure_utc(due_by), now) if due_by is not None else now
    capacity = session_capacity(median_seconds, budget_seconds)
    order = {skill: i for i, skill in enumerate(skills)}
    due = [
        PlannedItem(skill, "due", predicted_recall(states[skill], now, scheduler))
        for skill in skills if skill in states and _falls_due(states[skill], now, due_by)
    ]
    due.sort(key=lambda item: (item.recall if item.recall is not None else 0.0, order[item.skill]))
    fresh_allowed = max(0, new_per_day - new_introduced_today)
    fresh = [PlannedItem(skill, "new", None) for skill in skills if skill not in states][:fresh_allowed]
    return (due + fresh)[:capacity]


def fallen_due_since(states: Mapping[str, MemoryState], skills: Sequence[str], planned_at: datetime, now: datetime,
                     scheduler: Scheduler, *, due_by: datetime, limit: int) -> list[PlannedItem]:
    """The skills that fell due since the day was planned at ``planned_at``: due by plan_session's rule at ``now`` but
    not at ``planned_at``; lowest predicted recall first, at most ``limit``.

    The day is planned once, and a skill due later that day joins it only once a whole day has passed since its last
    review. So a drill opened just after midnight leaves out a skill reviewed at 08:00 yesterday and due at 08:00
    today (16 hours had passed); opened again at 10:00, the skill is due, and this is what joins the day's drill then.
    A skill that was due when planned but left out for time (a backlog spread over the coming days) is not in it, nor
    one answered since ``planned_at`` (left_out_when_planned): it was not left out.
    """
    for moment in (planned_at, now, due_by):
        ensure_utc(moment)
    order = {skill: i for i, skill in enumerate(skills)}
    fallen = [PlannedItem(skill, "due", predicted_recall(states[skill], now, scheduler))
              for skill in skills if skill in states and left_out_when_planned(states[skill], planned_at)
              and _falls_due(states[skill], now, max(due_by, now))
              and not _falls_due(states[skill], planned_at, max(due_by, planned_at))]
    fallen.sort(key=lambda item: (item.recall if item.recall is not None else 0.0, order[item.skill]))
    return fallen[:max(0, limit)]


def left_out_when_planned(state: MemoryState, planned_at: datetime) -> bool:
    """Whether a skill may join the day's drill planned at ``planned_at`` as fallen due: not answered since then.

    A skill answered in the day's drill (or a round after it) is due again a whole day later at the soonest, after
    the day's end on an ordinary day; on a day longer than 24 hours (clocks going back, a rep moving their timezone
    west) a skill answered just after midnight would fall due again before it ends, and come back the same day.
    """
    return state.last_review is None or ensure_utc(state.last_review) < ensure_utc(planned_at)


def joins_the_day_at(state: MemoryState, due_by: datetime) -> datetime:
    """The moment a skill becomes due by plan_session's rule for a day ending at ``due_by``: its due time, or, when
    that falls within the day, as soon as a whole day has passed since its last review if that comes earlier."""
    due = ensure_utc(state.due)
    if due < ensure_utc(due_by) and state.last_review is not None:
        return min(due, ensure_utc(state.last_review) + timedelta(days=1))
    return due


def _falls_due(state: MemoryState, now: datetime, due_by: datetime) -> bool:
    due = ensure_utc(state.due)
    if due <= now:
        return True
    return due < due_by and (state.last_review is None or (now - ensure_utc(state.last_review)).days >= 1)


def next_due(states: Mapping[str, MemoryState]) -> datetime | None:
    """The earliest due date over the rep's skills, or None before any skill was started."""
    return min((s.due for s in states.values()), default=None)
