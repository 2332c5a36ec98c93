"""The rep's daily drill: plan the session, show the next item, grade and store answers."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy.exc import IntegrityError

from learnapp.domain import grading, scheduling
from learnapp.domain.model import Kind, Option, Scenario, StageModel, Verdict
from learnapp.extensions import db
from learnapp.models import Attempt, DrillSession, MemoryStateRow, Presentation, ScenarioVersion, Skill, User
from learnapp.models import Scenario as ScenarioRow
from learnapp.services import content as content_service
from learnapp.services import rollups
from learnapp.services.db import begin_write

RECENT_DURATIONS = 50  # the rep's usual answer time is the median of this many latest answers


class DrillError(Exception):
    """An answer that cannot be accepted (not this rep's item, malformed); the message is for the rep."""


@dataclass
class DrillItem:
    """What the drill page shows: one scenario in the rep's option order, and where it is in the session."""

    presentation: Presentation
    scenario: Scenario
    options: list[Option]
    position: int
    total: int


@dataclass
class Summary:
    """The end-of-drill summary: today's score, the streak of days drilled and when the next drill is due."""

    answered: int
    correct: int
    score: float
    streak: int
    next_due: datetime | None


def local_day(user: User, when: datetime) -> date:
    """The rep's calendar day at ``when`` in their own timezone."""
    return when.astimezone(user_zone(user)).date()


def user_zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def scheduler():
    return scheduling.make_scheduler(current_app.config["DESIRED_RETENTION"])


def memory_states(user_id: int) -> dict[str, scheduling.MemoryState]:
    """The rep's memory states by skill id."""
    rows = db.session.scalars(db.select(MemoryStateRow).filter_by(user_id=user_id))
    return {row.skill_id: state_from_row(row) for row in rows}


def state_from_row(row: MemoryStateRow) -> scheduling.MemoryState:
    return scheduling.MemoryState(
        skill=row.skill_id, stability=row.stability, difficulty=row.difficulty, due=row.due,
        last_review=row.last_review, state=row.state, step=row.step, reviews=row.reviews, lapses=row.lapses,
    )


def usual_answer_seconds(user_id: int) -> float | None:
    """The median of the rep's latest answer times, or None until enough are known."""
    durations = db.session.scalars(
        db.select(Attempt.duration_ms).where(Attempt.user_id == user_id).order_by(Attempt.id.desc()).limit(RECENT_DURATIONS)
    ).all()
    return scheduling.median_answer_seconds([d / 1000 for d in durations])


def drillable_skills() -> list[str]:
    """Skills in course order that have at least one active scenario."""
    active = db.select(ScenarioRow.skill_id).filter_by(status="active").distinct()
    return list(db.session.scalars(db.select(Skill.id).where(Skill.id.in_(active)).order_by(Skill.position, Skill.id)))


def today_session(user: User, now: datetime) -> DrillSession:
    """Today's session for the rep, planned on first call: due skills by lowest recall, then a few new ones."""
    day = local_day(user, now)
    session = db.session.scalars(db.select(DrillSession).filter_by(user_id=user.id, day=day)).first()
    if session is not None:
        return session
    begin_write()
    session = db.session.scalars(db.select(DrillSession).filter_by(user_id=user.id, day=day)).first()
    if session is not None:
        return session
    states = memory_states(user.id)
    introduced_today = sum(1 for row in db.session.scalars(
        db.select(MemoryStateRow).filter_by(user_id=user.id, introduced_on=day)))
    plan = scheduling.plan_session(
        states, drillable_skills(), now, scheduler(),
        median_seconds=usual_answer_seconds(user.id), new_introduced_today=introduced_today,
        new_per_day=current_app.config["NEW_SKILLS_PER_DAY"], budget_seconds=current_app.config["SESSION_SECONDS"],
    )
    session = DrillSession(user_id=user.id, day=day, started_at=now,
                           plan=[{"skill": p.skill, "reason": p.reason, "recall": p.recall} for p in plan])
    db.session.add(session)
    try:
        db.session.commit()
    except IntegrityError:  # another tab planned the same day first: use theirs
        db.session.rollback()
        session = db.session.scalars(db.select(DrillSession).filter_by(user_id=user.id, day=day)).one()
    return session


def practise_more(user: User, now: datetime) -> int:
    """Add another five minutes to today's drill when nothing is left: started skills, lowest recall first.

    Reviewing before the due date is allowed in FSRS (a right answer then adds less stability),
    so a rep who wants to practise more is never told to come back tomorrow. Returns the items added.
    """
    if current_item(user, now) is not None:
        return 0
    begin_write()
    session = today_session(user, now)
    states = memory_states(user.id)
    sched = scheduler()
    ranked = sorted(states.values(), key=lambda s: scheduling.predicted_recall(s, now, sched) or 0.0)
    capacity = scheduling.session_capacity(usual_answer_seconds(user.id), current_app.config["SESSION_SECONDS"])
    active = set(drillable_skills())
    extra = [{"skill": s.skill, "reason": "extra", "recall": scheduling.predicted_recall(s, now, sched)}
             for s in ranked if s.skill in active][:capacity]
    session.plan = list(session.plan) + extra
    session.finished_at = None
    db.session.commit()
    return len(extra)


def current_item(user: User, now: datetime) -> DrillItem | None:
    """The item the rep should answer next, or None when today's drill is done.

    Showing the same slot again (refresh, back button) returns the same presentation, so the rep
    cannot reroll an item and the answer time counts from the first showing.
    """
    session = today_session(user, now)
    answered = _answered_positions(session.id)
    position = next((i for i in range(len(session.plan)) if i not in answered), None)
    if position is None:
        return None
    presentation = db.session.scalars(db.select(Presentation).filter_by(session_id=session.id, position=position)).first()
    if presentation is None:
        presentation = _present(user, session, position, now)
        if presentation is None:  # the skill lost its scenarios since planning: skip the slot
            session.plan = [p for i, p in enumerate(session.plan) if i != position]
            db.session.commit()
            return current_item(user, now)
    return _item(presentation, len(session.plan))


def _answered_positions(session_id: int) -> set[int]:
    rows = db.session.scalars(
        db.select(Presentation.position).join(Attempt, Attempt.presentation_id == Presentation.id)
        .where(Presentation.session_id == session_id)
    )
    return set(rows)


def _present(user: User, session: DrillSession, position: int, now: datetime) -> Presentation | None:
    begin_write()
    existing = db.session.scalars(db.select(Presentation).filter_by(session_id=session.id, position=position)).first()
    if existing is not None:
        return existing
    skill = session.plan[position]["skill"]
    variants = list(db.session.scalars(db.select(ScenarioRow).filter_by(skill_id=skill, status="active").order_by(ScenarioRow.id)))
    if not variants:
        return None
    last_seen = dict(db.session.execute(
        db.select(Attempt.scenario_id, db.func.max(Attempt.answered_at))
        .where(Attempt.user_id == user.id, Attempt.skill_id == skill).group_by(Attempt.scenario_id)
    ).all())
    chosen_id = scheduling.pick_variant([v.id for v in variants], last_seen)
    row = next(v for v in variants if v.id == chosen_id)
    version = content_service.current_version(row)
    scenario = content_service.scenario_from_version(version)
    token = secrets.token_hex(16)
    state = memory_states(user.id).get(skill)
    presentation = Presentation(
        token=token, session_id=session.id, user_id=user.id, position=position, skill_id=skill,
        scenario_id=row.id, scenario_version_id=version.id, option_order=_option_order(scenario, token),
        predicted_recall=scheduling.predicted_recall(state, now, scheduler()), shown_at=now,
    )
    db.session.add(presentation)
    try:
        db.session.commit()
    except IntegrityError:  # a second tab showed this slot first
        db.session.rollback()
        presentation = db.session.scalars(db.select(Presentation).filter_by(session_id=session.id, position=position)).one()
    return presentation


def _option_order(scenario: Scenario, token: str) -> list[str]:
    """Options shuffled per showing; order-steps never starts in the right order."""
    keys = [o.key for o in scenario.options]
    shuffled = keys[:]
    rng = random.Random(token)
    rng.shuffle(shuffled)
    if scenario.kind is Kind.ORDER_STEPS and shuffled == keys and len(keys) > 1:
        shuffled = shuffled[1:] + shuffled[:1]
    return shuffled


def _item(presentation: Presentation, total: int) -> DrillItem:
    scenario = content_service.scenario_from_version(db.session.get(ScenarioVersion, presentation.scenario_version_id))
    by_key = {o.key: o for o in scenario.options}
    return DrillItem(presentation=presentation, scenario=scenario,
                     options=[by_key[k] for k in presentation.option_order],
                     position=presentation.position, total=total)


def presentation_for(user: User, token: str) -> Presentation | None:
    """The rep's own presentation by token; another rep's token finds nothing."""
    return db.session.scalars(db.select(Presentation).filter_by(token=token, user_id=user.id)).first()


def submit_answer(user: User, token: str, answer: str | list[str], now: datetime, *, hint: bool = False) -> Attempt:
    """Grade an answer, update the memory state and store the attempt, exactly once per presentation.

    Answering the same presentation again (double click, refresh, a second tab) returns the first
    attempt and records nothing new.
    """
    begin_write()
    presentation = presentation_for(user, token)
    if presentation is None:
        raise DrillError("This drill item is not yours or no longer exists.")
    existing = attempt_for(presentation.id)
    if existing is not None:
        return existing
    scenario = content_service.scenario_from_version(db.session.get(ScenarioVersion, presentation.scenario_version_id))
    model = content_service.current_stage_model()
    try:
        verdict = grading.grade(scenario, answer, model)
    except grading.InvalidAnswer as exc:
        raise DrillError(str(exc)) from None
    try:
        attempt = _record(user, presentation, scenario, answer, verdict, now, hint)
        db.session.commit()
    except IntegrityError:  # the same answer arrived twice at once: the first one counts
        db.session.rollback()
        attempt = attempt_for(presentation.id)
    return attempt


def _record(user, presentation, scenario, answer, verdict: Verdict, now, hint) -> Attempt:
    answered_at = max(now, presentation.shown_at)
    seconds = (answered_at - presentation.shown_at).total_seconds()
    rating = scheduling.rating_for(verdict, seconds, usual_answer_seconds(user.id), hint=hint)
    row = db.session.get(MemoryStateRow, (user.id, presentation.skill_id))
    previous = state_from_row(row) if row else None
    rollups.record(rollups.AnswerFacts(
        user_id=user.id, team_id=user.team_id, day=local_day(user, answered_at),
        learned=row.introduced_on if row else None,
        previous_day=local_day(user, previous.last_review) if previous and previous.last_review else None,
        correct=verdict.correct, predicted_recall=presentation.predicted_recall, duration_ms=int(seconds * 1000)))
    state = scheduling.review(previous, presentation.skill_id, rating, answered_at, scheduler())
    if row is None:
        row = MemoryStateRow(user_id=user.id, skill_id=presentation.skill_id, introduced_on=local_day(user, answered_at))
        db.session.add(row)
    _copy_state(row, state)
    attempt = Attempt(
        presentation_id=presentation.id, user_id=user.id, skill_id=presentation.skill_id,
        scenario_id=presentation.scenario_id, scenario_version_id=presentation.scenario_version_id,
        shown_at=presentation.shown_at, answered_at=answered_at, duration_ms=int(seconds * 1000),
        answer=answer, correct=verdict.correct, score=verdict.score, verdict=verdict.to_dict(),
        rating=int(rating), predicted_recall=presentation.predicted_recall, first_exposure=previous is None,
    )
    db.session.add(attempt)
    db.session.flush()
    _finish_if_done(presentation.session_id, answered_at)
    return attempt


def _copy_state(row: MemoryStateRow, state: scheduling.MemoryState) -> None:
    row.stability, row.difficulty, row.due, row.last_review = state.stability, state.difficulty, state.due, state.last_review
    row.state, row.step, row.reviews, row.lapses = state.state, state.step, state.reviews, state.lapses


def _finish_if_done(session_id: int, when: datetime) -> None:
    session = db.session.get(DrillSession, session_id)
    if len(_answered_positions(session_id)) >= len(session.plan) and session.finished_at is None:
        session.finished_at = when


def attempt_for(presentation_id: int) -> Attempt | None:
    return db.session.scalars(db.select(Attempt).filter_by(presentation_id=presentation_id)).first()


def feedback(user: User, token: str) -> tuple[Attempt, Scenario, StageModel] | None:
    """The rep's own graded attempt for a presentation, with the scenario version they were shown."""
    presentation = presentation_for(user, token)
    if presentation is None:
        return None
    attempt = attempt_for(presentation.id)
    if attempt is None:
        return None
    scenario = content_service.scenario_from_version(db.session.get(ScenarioVersion, attempt.scenario_version_id))
    return attempt, scenario, content_service.current_stage_model()


def summary(user: User, now: datetime) -> Summary:
    """Today's score, the streak of consecutive days drilled and the next due date."""
    session = today_session(user, now)
    attempts = list(db.session.scalars(
        db.select(Attempt).join(Presentation, Attempt.presentation_id == Presentation.id)
        .where(Presentation.session_id == session.id)))
    correct = sum(1 for a in attempts if a.correct)
    return Summary(answered=len(attempts), correct=correct,
                   score=(sum(a.score for a in attempts) / len(attempts)) if attempts else 0.0,
                   streak=streak(user, now), next_due=scheduling.next_due(memory_states(user.id)))


def streak(user: User, now: datetime) -> int:
    """Consecutive local days with at least one answer, ending today (or yesterday if not yet drilled today)."""
    since = now - timedelta(days=400)
    times = db.session.scalars(db.select(Attempt.answered_at).where(Attempt.user_id == user.id).where(Attempt.answered_at >= since))
    days = {local_day(user, t) for t in times}
    day = local_day(user, now)
    if day not in days:
        day -= timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count
