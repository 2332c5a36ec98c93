"""The rep's daily drill: plan the session, show the next item, grade and store answers."""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from learnapp.domain import grading, scheduling
from learnapp.domain.retention import WorkingWeek
from learnapp.domain.model import Kind, Option, Scenario, StageModel, Verdict
from learnapp.extensions import db
from learnapp.models import (Attempt, DrillSession, MemoryStateRow, Presentation, ScenarioVersion, Skill,
                             StageModelVersion, User, Vacation)
from learnapp.models import Scenario as ScenarioRow
from learnapp.services import analytics
from learnapp.services import content as content_service
from learnapp.services import rollups
from learnapp.services.db import begin_write, commit

RECENT_DURATIONS = 50  # the rep's usual answer time is the median of this many latest answers

# The drill's own requests (show an item, answer it, see the feedback) run on every rep's every
# day, so they use these prebuilt Core statements on the tables: a few rows each, no ORM objects
# to build or refresh. Everything else in this module uses the ORM.
_SESSIONS, _SHOWN, _ATTEMPTS = DrillSession.__table__, Presentation.__table__, Attempt.__table__
_VERSIONS, _SCENARIOS, _STATES = ScenarioVersion.__table__, ScenarioRow.__table__, MemoryStateRow.__table__
_VACATIONS = Vacation.__table__
_VACATION_END = (  # the last day of the rep's vacation holding the day, if any (vacations do not overlap)
    select(_VACATIONS.c.end).where(_VACATIONS.c.user_id == bindparam("user_id"), _VACATIONS.c.start <= bindparam("day"),
                                   _VACATIONS.c.end >= bindparam("day")).order_by(_VACATIONS.c.start).limit(1))
# the vacation rides along in the session's statement: the drill's first item says so, and a statement of its own
# cost that page 0.3 of its 1.4 ms (python bench/hot_pages.py)
_SESSION_OF_DAY = select(_SESSIONS.c.id, _SESSIONS.c.plan, _VACATION_END.scalar_subquery().label("away_until")).where(
    _SESSIONS.c.user_id == bindparam("user_id"), _SESSIONS.c.day == bindparam("day"))
_SLOT_ANSWERS = (  # each shown slot of a session: its position and its attempt's id (None: not answered yet)
    select(_SHOWN.c.position, _ATTEMPTS.c.id.label("attempt_id"))
    .select_from(_SHOWN.outerjoin(_ATTEMPTS, _ATTEMPTS.c.presentation_id == _SHOWN.c.id))
    .where(_SHOWN.c.session_id == bindparam("session_id")))
_SLOT = (select(_SHOWN, _VERSIONS.c.content_hash)  # one shown slot in full, with its version's hash
         .select_from(_SHOWN.join(_VERSIONS, _VERSIONS.c.id == _SHOWN.c.scenario_version_id))
         .where(_SHOWN.c.session_id == bindparam("session_id"), _SHOWN.c.position == bindparam("position")))
_VERSION_DATA = select(_VERSIONS.c.data).where(_VERSIONS.c.id == bindparam("id"))
_VARIANTS = (  # a skill's active scenarios with their current version, when this rep last answered each,
    # and the rep's memory state of the skill (the same on every row; none before the first answer)
    select(_SCENARIOS.c.id, _VERSIONS.c.id.label("version_id"), _VERSIONS.c.content_hash,
           select(func.max(_ATTEMPTS.c.answered_at))
           .where(_ATTEMPTS.c.user_id == bindparam("user_id"), _ATTEMPTS.c.scenario_id == _SCENARIOS.c.id)
           .scalar_subquery().label("last_seen"),
           # the newest stage rules, read with the current versions: recorded with the showing, they grade it
           select(func.max(StageModelVersion.__table__.c.id)).scalar_subquery().label("newest_model_id"),
           *[c for c in _STATES.columns])  # no name clashes with the scenario's: state_from_row reads them
    .select_from(_SCENARIOS.join(_VERSIONS, (_VERSIONS.c.scenario_id == _SCENARIOS.c.id)
                                 & (_VERSIONS.c.number == _SCENARIOS.c.current_number))
                 .outerjoin(_STATES, (_STATES.c.user_id == bindparam("user_id"))
                            & (_STATES.c.skill_id == _SCENARIOS.c.skill_id)))
    .where(_SCENARIOS.c.skill_id == bindparam("skill"), _SCENARIOS.c.status == "active")
    .order_by(_SCENARIOS.c.id))
_STATE = select(_STATES).where(_STATES.c.user_id == bindparam("user_id"), _STATES.c.skill_id == bindparam("skill"))
_DURATIONS = (select(_ATTEMPTS.c.duration_ms).where(_ATTEMPTS.c.user_id == bindparam("user_id"))
              .order_by(_ATTEMPTS.c.answered_at.desc()).limit(RECENT_DURATIONS))  # read off ix_attempt_user_answered


def _model_in_force():
    """The stage model a shown item is graded by (content.stage_model_shown_under), as ``model_id`` and ``model_hash``."""
    moment = content_service.shown_moment(_SHOWN.c.shown_at, _VERSIONS.c.created_at)
    version_id, digest = content_service.stage_model_shown_under(_SHOWN.c.stage_model_id, moment)
    return version_id.label("model_id"), digest.label("model_hash")


_TO_ANSWER = (select(_SHOWN, _ATTEMPTS.c.id.label("attempt_id"), _VERSIONS.c.content_hash, _SESSIONS.c.usual_seconds,
                     _SESSIONS.c.day.label("session_day"),
                     *_model_in_force())
              .select_from(_SHOWN.join(_VERSIONS, _VERSIONS.c.id == _SHOWN.c.scenario_version_id)
                           .join(_SESSIONS, _SESSIONS.c.id == _SHOWN.c.session_id)
                           .outerjoin(_ATTEMPTS, _ATTEMPTS.c.presentation_id == _SHOWN.c.id))
              .where(_SHOWN.c.token == bindparam("token"), _SHOWN.c.user_id == bindparam("user_id")))
_ANSWERED = (select(_ATTEMPTS, _VERSIONS.c.content_hash,
                    *_model_in_force(), *content_service.newest_stage_model_columns())
             .select_from(_SHOWN.join(_ATTEMPTS, _ATTEMPTS.c.presentation_id == _SHOWN.c.id)
                          .join(_VERSIONS, _VERSIONS.c.id == _ATTEMPTS.c.scenario_version_id))
             .where(_SHOWN.c.token == bindparam("token"), _SHOWN.c.user_id == bindparam("user_id")))
# writes: built once too; each execution passes its values as parameters (a fresh .values()
# per call costs more to build and to look up in the compiled cache than the write itself)
_INSERT_SHOWN, _INSERT_ATTEMPT, _INSERT_STATE = insert(_SHOWN), insert(_ATTEMPTS), insert(_STATES)
_STATE_FIELDS = ("stability", "difficulty", "due", "last_review", "state", "step", "reviews", "lapses")
_UPDATE_STATE = (update(_STATES)
                 .where(_STATES.c.user_id == bindparam("key_user_id"), _STATES.c.skill_id == bindparam("key_skill_id"))
                 .values({name: bindparam(name) for name in _STATE_FIELDS}))
_FINISH_IF_DONE = (  # the session is finished once each planned slot has an answer: one statement per answer
    update(_SESSIONS)
    .where(_SESSIONS.c.id == bindparam("key_id"), _SESSIONS.c.finished_at.is_(None),
           select(func.count()).select_from(_SHOWN.join(_ATTEMPTS, _ATTEMPTS.c.presentation_id == _SHOWN.c.id))
           .where(_SHOWN.c.session_id == _SESSIONS.c.id).scalar_subquery()
           >= func.json_array_length(_SESSIONS.c.plan))
    .values(finished_at=bindparam("finished_at")))


class DrillError(Exception):
    """An answer that cannot be accepted (not this rep's item, malformed); the message is for the rep."""


class UnknownItem(DrillError):
    """The token names no item of this rep (another rep's, or made up)."""


class StaleItem(DrillError):
    """The item belongs to the drill of an earlier local day (a tab left open since): the answer is not recorded."""


# An answer to an item of an earlier day's drill still counts when it arrives less than this long after that day
# ended (the rep's midnight): a rep who answers at 23:59:59 and whose answer arrives at 00:00:01, or who took a few
# minutes over the last item of the evening, is answering the drill they are doing, however long ago the item was
# first shown (a reload shows the same item). A tab left open overnight answers hours later.
LATE_ANSWER_GRACE = timedelta(minutes=10)


@dataclass(frozen=True)
class Shown:
    """One presentation as the drill uses it: a plain copy of its row."""

    id: int
    token: str
    session_id: int
    user_id: int
    position: int
    skill_id: str
    scenario_id: str
    scenario_version_id: int
    option_order: list[str]
    predicted_recall: float | None
    shown_at: datetime
    stage_model_id: int | None  # the newest stage rules when shown, which grade it (None: shown before migration 0018)

    @classmethod
    def from_row(cls, row) -> Shown:
        return cls(**{name: getattr(row, name) for name in cls.__dataclass_fields__})


@dataclass
class DrillItem:
    """What the drill page shows: one scenario in the rep's option order, and where it is in the session."""

    presentation: Shown
    scenario: Scenario
    options: list[Option]
    position: int
    total: int
    round: int = 0  # 0: the day's planned drill; 1, 2, ...: each "practise five more minutes" after it
    round_position: int = 0  # where the item is within its round, so an extra round counts from 1 again
    round_total: int = 0
    fell_due: bool = False  # a round of skills that fell due since the day was planned (join_fallen_due), not extra
    away_until: date | None = None  # on the day's first item only: the last day of the rep's vacation holding today


@dataclass(frozen=True)
class Answered:
    """What submit_answer_once did: the attempt that counts, and whether this answer made it."""

    attempt: Attempt
    new: bool  # False: the item had been answered before; the first answer counts and this one was not stored


@dataclass
class Summary:
    """The end-of-drill summary: today's score, the streak of days drilled and when the next drill is due."""

    answered: int
    correct: int
    score: float
    streak: int
    next_due: datetime | None
    partly: int = 0  # not right but rated Hard: an order with two neighbouring steps swapped
    can_practise_more: bool = True  # a started skill is still drilled: "practise more" would add items
    later_today: time | None = None  # the rep's local time when a skill falls due and joins today's drill (reopened)


def is_partly_right(correct: bool, rating: int) -> bool:
    """Whether an answer counts as partly right: wrong, yet rated Hard, so the scheduler took it as remembered.

    Only an order with two neighbouring steps swapped is rated so (older attempts: an order with at
    least half its steps in a run). Any other wrong answer is Again, forgotten, whatever its partial
    credit, so the rep is never told they half-knew a skill the schedule treats as forgotten.
    """
    return not correct and rating == scheduling.Rating.Hard


def local_day(user: User, when: datetime) -> date:
    """The rep's calendar day at ``when`` in their own timezone."""
    return when.astimezone(user_zone(user)).date()


def user_zone(user: User) -> ZoneInfo:
    return zone_named(user.timezone)


def zone_named(name: str | None) -> ZoneInfo:
    """The timezone of that name; UTC for none or one this system does not know."""
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def scheduler():
    retention = current_app.config["DESIRED_RETENTION"]
    if retention not in _SCHEDULERS:  # fsrs schedulers hold only their settings: one per retention serves all
        _SCHEDULERS[retention] = scheduling.make_scheduler(retention)
    return _SCHEDULERS[retention]


_SCHEDULERS: dict[float, scheduling.Scheduler] = {}


def memory_states(user_id: int) -> dict[str, scheduling.MemoryState]:
    """The rep's memory states by skill id."""
    rows = db.session.scalars(db.select(MemoryStateRow).filter_by(user_id=user_id))
    return {row.skill_id: state_from_row(row) for row in rows}


def state_from_row(row) -> scheduling.MemoryState:
    """The domain state of a memory_state row (an ORM object or a Core row)."""
    return scheduling.MemoryState(
        skill=row.skill_id, stability=row.stability, difficulty=row.difficulty, due=row.due,
        last_review=row.last_review, state=row.state, step=row.step, reviews=row.reviews, lapses=row.lapses,
    )


def usual_answer_seconds(user_id: int) -> float | None:
    """The median of the rep's latest answer times, or None until enough are known."""
    durations = db.session.scalars(_DURATIONS, {"user_id": user_id}).all()
    return scheduling.median_answer_seconds([d / 1000 for d in durations])


def drillable_skills() -> list[str]:
    """Skills in course order that have at least one active scenario."""
    active = db.select(ScenarioRow.skill_id).filter_by(status="active").distinct()
    return list(db.session.scalars(db.select(Skill.id).where(Skill.id.in_(active)).order_by(Skill.position, Skill.id)))


def plan_for(user: User, day: date, at: datetime, *, median_seconds: float | None,
             skills: list[str] | None = None) -> list[scheduling.PlannedItem]:
    """The plan the drill of the rep's local ``day`` would get if it were planned ``at`` (the planner's rule and settings).

    ``skills`` is drillable_skills(), passed in by callers that ask for many reps.
    """
    introduced_today = db.session.scalar(db.select(db.func.count()).select_from(MemoryStateRow)
                                         .where(MemoryStateRow.user_id == user.id, MemoryStateRow.introduced_on == day))
    config = current_app.config
    return scheduling.plan_session(
        memory_states(user.id), drillable_skills() if skills is None else skills, at, scheduler(),
        median_seconds=median_seconds, new_introduced_today=introduced_today,
        new_per_day=config["NEW_SKILLS_PER_DAY"], budget_seconds=config["SESSION_SECONDS"],
        due_by=day_end(user, day),
    )


def move_learning_days(user: User) -> None:
    """After the rep's timezone changed: each skill's day learned (memory_state.introduced_on) becomes the day of its
    first answer in the new zone, in the caller's write transaction.

    Their answers' days move with the zone (the rollups are rebuilt so); the day learned is where the next answers'
    weeks since learning count from, and the rebuild counts it from the first answer's day too. Left in the old zone,
    the live rollups and the nightly rebuild put the same answers in different weeks.
    """
    firsts = db.session.execute(select(Attempt.skill_id, func.min(Attempt.answered_at))
                                .where(Attempt.user_id == user.id).group_by(Attempt.skill_id)).all()
    for skill, first in firsts:
        db.session.execute(update(_STATES).where(_STATES.c.user_id == user.id, _STATES.c.skill_id == skill)
                           .values(introduced_on=local_day(user, first)))


def day_end(user: User, day: date) -> datetime:
    """The UTC moment the rep's local ``day`` ends (their next midnight)."""
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=user_zone(user)).astimezone(timezone.utc)


def today_session(user: User, now: datetime) -> DrillSession:
    """Today's session for the rep, planned on first call: due skills by lowest recall, then a few new ones.

    Call it outside a write transaction: planning takes the write lock and ends that transaction before returning,
    whether it planned the day or found it planned meanwhile (another tab), so on SQLite the lock is never held for
    the rest of the request. A caller that writes afterwards takes the lock itself (practise_more).
    """
    day = local_day(user, now)
    session = db.session.scalars(db.select(DrillSession).filter_by(user_id=user.id, day=day)).first()
    if session is not None:
        return session
    begin_write()
    session = db.session.scalars(db.select(DrillSession).filter_by(user_id=user.id, day=day)).first()
    if session is not None:  # another tab planned the day while this one waited for the lock: let go of it
        commit(keep_loaded=True)  # nothing was written under it; the session as read is what the caller needs
        return session
    usual = usual_answer_seconds(user.id)
    plan = plan_for(user, day, now, median_seconds=usual)
    session = DrillSession(user_id=user.id, day=day, started_at=now, usual_seconds=usual or 0.0,
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
    so a rep who wants to practise more is never told to come back tomorrow. Returns the items added: none when,
    under the write lock, the drill has items left (two clicks at once add one round, not two), and none when no
    started skill has an active scenario (the finished drill is left as it was).
    """
    if current_item(user, now) is not None:
        return 0
    session_id = today_session(user, now).id  # planned by current_item: read outside the write, which it would end
    begin_write()
    session = _locked_session(session_id)
    answered = {position for position, attempt_id in db.session.execute(_SLOT_ANSWERS, {"session_id": session.id})
                if attempt_id is not None}
    if any(position not in answered for position in range(len(session.plan))):
        # another request (a double click) added a round since the check above: this one adds none
        db.session.rollback()  # nothing written: let go of the write lock
        return 0
    states = memory_states(user.id)
    sched = scheduler()
    # lowest recall first, as the pages show it (from the moment of the review: py-fsrs's whole days tie every
    # skill practised in the last 24 hours at 100%)
    ranked = sorted(states.values(), key=lambda s: scheduling.recall_now(s, now, sched) or 0.0)
    capacity = scheduling.session_capacity(usual_answer_seconds(user.id), current_app.config["SESSION_SECONDS"])
    active = set(drillable_skills())
    round_number = max((_round_number(p) for p in session.plan), default=0) + 1
    extra = [{"skill": s.skill, "reason": "extra", "recall": scheduling.recall_now(s, now, sched),
              "round": round_number}
             for s in ranked if s.skill in active][:capacity]
    if not extra:  # no started skill can be drilled (none yet, or their scenarios were retired): the day stays done
        db.session.rollback()
        return 0
    session.plan = list(session.plan) + extra
    session.finished_at = None
    db.session.commit()
    return len(extra)


def current_item(user: User, now: datetime) -> DrillItem | None:
    """The item the rep should answer next, or None when today's drill is done.

    Showing the same slot again (refresh, back button) returns the same presentation, so the rep
    cannot reroll an item and the answer time counts from the first showing.
    """
    user_id, day = user.id, local_day(user, now)
    found = db.session.execute(_SESSION_OF_DAY, {"user_id": user_id, "day": day}).first()
    whole_pause = found is None  # the vacation in the session's statement is the one holding today only
    if found is None:
        planned = today_session(user, now)
        found = (planned.id, planned.plan, _pause_until(user_id, day))
    session_id, plan, away_until = found
    answers = dict(db.session.execute(_SLOT_ANSWERS, {"session_id": session_id}).all())
    position = next((i for i in range(len(plan)) if answers.get(i) is None), None)
    if position is None:
        if join_fallen_due(user, session_id, now):
            return current_item(user, now)
        return None
    if position in answers:  # shown but not answered (a refresh, the back button, another tab)
        item = _shown_item(session_id, position, plan)
    else:
        item = _present(user, session_id, plan, position, now)
    if item is None:  # the skill lost its scenarios since planning: skip the slot
        begin_write()
        session = _locked_session(session_id)
        shown = db.session.scalar(select(_SHOWN.c.id).where(_SHOWN.c.session_id == session_id,
                                                             _SHOWN.c.position == position))
        if shown is None and session.plan[position:position + 1] == plan[position:position + 1]:
            session.plan = [p for i, p in enumerate(session.plan) if i != position]
        # else another tab skipped this slot (or showed it) meanwhile: skipping it again would drop the next one
        db.session.commit()
        return current_item(user, now)
    if item.position == 0 and not item.round:
        # the vacation holding today came with the session; a pause of vacations following each other (a leave longer
        # than a vacation may be) ends with the last of them, read only on such a day
        item.away_until = _pause_until(user_id, day) if away_until is not None and not whole_pause else away_until
    return item


def _pause_until(user_id: int, day: date) -> date | None:
    """The last day of the rep's pause holding ``day`` (vacations.away_until), or None."""
    from learnapp.services.vacations import away_until  # vacations imports this module

    return away_until(user_id, day)


def fallen_due(user: User, session: DrillSession, now: datetime,
               skills: list[str] | None = None) -> list[scheduling.PlannedItem]:
    """The skills that fell due since the rep's drill of the day was planned (scheduling.fallen_due_since), at most
    five minutes of them. ``skills`` is drillable_skills(), passed in by callers that ask for many reps."""
    capacity = scheduling.session_capacity(session.usual_seconds or None, current_app.config["SESSION_SECONDS"])
    skills = drillable_skills() if skills is None else skills
    return scheduling.fallen_due_since(memory_states(user.id), skills, session.started_at, now, scheduler(),
                                       due_by=day_end(user, session.day), limit=capacity)


def join_fallen_due(user: User, session_id: int, now: datetime) -> bool:
    """Add to the finished drill of the day, as its next round, the skills that fell due since it was planned.

    A drill opened just after midnight holds what was due then (and what fell due later that day a whole day after
    its last review); a skill reviewed at 08:00 yesterday and due at 08:00 today was not in it. Before, such a skill
    waited for the next day's drill; now it joins today's when the rep opens it again after 08:00.
    Returns whether the drill has items to answer now: those added, or a round another tab added meanwhile.
    """
    session = db.session.get(DrillSession, session_id)
    if not fallen_due(user, session, now):  # the usual case, read without the write lock
        return False
    begin_write()
    session = _locked_session(session_id)
    answered = {position for position, attempt_id in db.session.execute(_SLOT_ANSWERS, {"session_id": session_id})
                if attempt_id is not None}
    if any(position not in answered for position in range(len(session.plan))):
        db.session.rollback()  # another tab added a round meanwhile: nothing written, the drill has items
        return True
    fallen = fallen_due(user, session, now)
    if not fallen:
        db.session.rollback()
        return False
    round_number = max((_round_number(p) for p in session.plan), default=0) + 1
    session.plan = list(session.plan) + [{"skill": p.skill, "reason": "due", "recall": p.recall,
                                          "round": round_number} for p in fallen]
    session.finished_at = None
    db.session.commit()
    return True


def _locked_session(session_id: int) -> DrillSession:
    """The drill session read afresh and locked until the transaction ends, for a change to its plan.

    A plan is read, changed and written back whole (a JSON column): two tabs doing so at once on PostgreSQL, which
    lets both read it, each wrote their own version and the last one won (a round of items lost, an item on screen
    sitting in a slot of another round). SELECT ... FOR UPDATE makes the second wait for the first's commit and read
    its plan. SQLite has no FOR UPDATE (SQLAlchemy leaves it out): there the write lock, taken first, does the same.
    """
    return db.session.get(DrillSession, session_id, with_for_update=True, populate_existing=True)


def _shown_item(session_id: int, position: int, plan: list[dict]) -> DrillItem:
    """The item already shown in a slot, as it was shown."""
    row = db.session.execute(_SLOT, {"session_id": session_id, "position": position}).one()
    return _item(Shown.from_row(row), _scenario(row.scenario_version_id, row.content_hash), plan)


def _scenario(version_id: int, digest: str) -> Scenario:
    """A scenario version as the domain sees it, parsed once per process.

    Cached by content hash: the hash is taken over the stored data, so it names that content
    whichever database or version row it came from and the cache can never serve a stale item.
    Scenario objects are frozen, so one object can serve every request.
    """
    scenario = _PARSED.get(digest)
    if scenario is None:
        scenario = Scenario.from_dict(db.session.execute(_VERSION_DATA, {"id": version_id}).scalar_one())
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.clear()
        _PARSED[digest] = scenario
    return scenario


_PARSED: dict[str, Scenario] = {}
_PARSED_MAX = 4096  # scenario versions; a company's whole catalogue is a few hundred


def _present(user: User, session_id: int, plan: list[dict], position: int, now: datetime) -> DrillItem | None:
    """Show the slot's skill: its variant seen least recently, options in a fresh order. None if it has none."""
    user_id, skill = user.id, plan[position]["skill"]
    variants = db.session.execute(_VARIANTS, {"skill": skill, "user_id": user_id}).all()
    if not variants:
        return None
    last_seen = {v.id: v.last_seen for v in variants if v.last_seen is not None}
    chosen = scheduling.pick_variant([v.id for v in variants], last_seen)
    variant = next(v for v in variants if v.id == chosen)
    scenario = _scenario(variant.version_id, variant.content_hash)
    state = state_from_row(variant) if variant.skill_id is not None else None  # None: the skill's first showing
    token = secrets.token_hex(16)
    values = dict(token=token, session_id=session_id, user_id=user_id, position=position, skill_id=skill,
                  scenario_id=variant.id, scenario_version_id=variant.version_id,
                  option_order=option_order(scenario, token),
                  predicted_recall=scheduling.predicted_recall(state, now, scheduler()),
                  shown_at=now, stage_model_id=variant.newest_model_id)
    # only the insert holds the write lock; the unique slot stops a second tab's insert
    begin_write(keep_loaded=True)  # what was read is only used for ids and the choice of variant
    try:
        new_id = db.session.execute(_INSERT_SHOWN, values).inserted_primary_key[0]
        commit(keep_loaded=True)
    except IntegrityError:  # a second tab showed this slot first: show theirs
        db.session.rollback()
        return _shown_item(session_id, position, plan)
    return _item(Shown(id=new_id, **values), scenario, plan)


def option_order(scenario: Scenario, token: str) -> list[str]:
    """Options shuffled per showing; order-steps never starts in the right order."""
    keys = [o.key for o in scenario.options]
    shuffled = keys[:]
    rng = random.Random(token)
    rng.shuffle(shuffled)
    if scenario.kind is Kind.ORDER_STEPS and shuffled == keys and len(keys) > 1:
        shuffled = shuffled[1:] + shuffled[:1]
    return shuffled


def _item(shown: Shown, scenario: Scenario, plan: list[dict]) -> DrillItem:
    by_key = {o.key: o for o in scenario.options}
    number, start, size = _round_of(plan, shown.position)
    return DrillItem(presentation=shown, scenario=scenario, options=[by_key[k] for k in shown.option_order],
                     position=shown.position, total=len(plan), round=number, round_position=shown.position - start,
                     round_total=size, fell_due=number > 0 and plan[shown.position].get("reason") == "due")


def _round_of(plan: list[dict], position: int) -> tuple[int, int, int]:
    """The round of a slot (0: the planned drill, then one per "practise more"), its first slot and its size."""
    mine = _round_number(plan[position])
    slots = [i for i, entry in enumerate(plan) if _round_number(entry) == mine]
    return mine, slots[0], len(slots)


def _round_number(entry: dict) -> int:
    """The round of one plan slot; extra slots planned before rounds were numbered carry none: round 1."""
    return entry.get("round", 1 if entry.get("reason") == "extra" else 0)


Answer = str | list[str]


def submit_answer(user: User, token: str, answer: Answer | Callable[[list[str]], Answer], now: datetime, *,
                  hint: bool = False) -> Attempt:
    """Grade an answer, update the memory state and store the attempt, exactly once per presentation.

    ``answer`` is an option key, the option keys in order, or a function reading one of those from
    the option order the rep was shown (it raises DrillError for a malformed answer). Answering the
    same presentation again (double click, refresh, a second tab) returns the first attempt and
    records nothing new. Raises UnknownItem for a token that is not this rep's, and StaleItem, recording
    nothing, for an item of a drill of an earlier local day (the rep's timezone) answered LATE_ANSWER_GRACE or
    more after that day ended: a tab left open since yesterday does not add to yesterday's drill. An item
    answered just after midnight still counts (on the drill it was shown in).
    """
    return submit_answer_once(user, token, answer, now, hint=hint).attempt


def submit_answer_once(user: User, token: str, answer: Answer | Callable[[list[str]], Answer], now: datetime, *,
                       hint: bool = False, _conflicts_left: int = 1) -> Answered:
    """submit_answer, also telling whether this answer was stored or the item had been answered before.

    The drill page uses it to tell a rep who went Back and answered again that the first answer counts.
    """
    user_id = user.id
    row = db.session.execute(_TO_ANSWER, {"token": token, "user_id": user_id}).first()
    if row is None:
        raise UnknownItem("This drill item is not yours or no longer exists.")
    if row.attempt_id is not None:
        return Answered(db.session.get(Attempt, row.attempt_id), new=False)
    shown = Shown.from_row(row)
    if is_stale(user, row.session_day, now, shown.shown_at):
        raise StaleItem("That item belongs to the drill of an earlier day; nothing was recorded.")
    if callable(answer):
        answer = answer(shown.option_order)
    scenario = _scenario(shown.scenario_version_id, row.content_hash)
    try:
        verdict = grading.grade(scenario, answer, content_service.stage_model_version(row.model_id, row.model_hash))
    except grading.InvalidAnswer as exc:
        raise DrillError(str(exc)) from None
    # the rep's usual answer time as of planning the day (sessions planned before migration 0008: now)
    usual = row.usual_seconds if row.usual_seconds is not None else usual_answer_seconds(user_id)
    # The write lock is held from here to the commit only: if a second tab's answer got in since
    # the read above, the attempt's unique presentation refuses this one and nothing is written.
    begin_write(keep_loaded=True)  # loaded: the user (id, team, timezone), read-only here
    try:
        attempt = _record(user, shown, answer, verdict, now, hint, usual)
        db.session.commit()
    except IntegrityError:  # the same answer arrived twice at once: the first one counts
        db.session.rollback()
        attempt = attempt_for(shown.id)
        if attempt is None:
            # not a second answer: another writer created a row this answer meant to create (on PostgreSQL, the
            # nightly check restoring this skill's memory state between our read and our insert). Answer again
            # over what is there now, once; a second conflict is an error, never an answer acknowledged unstored.
            if not _conflicts_left:
                raise
            return submit_answer_once(user, token, answer, now, hint=hint, _conflicts_left=_conflicts_left - 1)
        return Answered(attempt, new=False)
    return Answered(attempt, new=True)


def is_stale(user: User, session_day: date, now: datetime, shown_at: datetime) -> bool:
    """Whether an answer arriving ``now`` to an item of the drill of ``session_day`` comes too late: that day ended
    (the rep's midnight) LATE_ANSWER_GRACE or more before ``now``. An item shown after that end (the rep moved their
    timezone ahead since the drill began, so the day they were drilling ended hours ago by the new clock) gets the
    same grace from its showing: the rep was answering what was on their screen."""
    if session_day >= local_day(user, now):
        return False
    return now - max(day_end(user, session_day), shown_at) >= LATE_ANSWER_GRACE


def _record(user: User, shown: Shown, answer: Answer, verdict: Verdict, now: datetime, hint: bool,
            usual_seconds: float | None) -> Attempt:
    """Store the attempt (its unique presentation refuses a second answer) and update the derived rows."""
    answered_at = max(now, shown.shown_at)
    seconds = (answered_at - shown.shown_at).total_seconds()
    rating = scheduling.rating_for(verdict, seconds, usual_seconds, hint=hint)
    row = db.session.execute(_STATE, {"user_id": user.id, "skill": shown.skill_id}).first()
    previous = state_from_row(row) if row else None
    attempt = Attempt(
        presentation_id=shown.id, user_id=user.id, skill_id=shown.skill_id,
        scenario_id=shown.scenario_id, scenario_version_id=shown.scenario_version_id,
        shown_at=shown.shown_at, answered_at=answered_at, duration_ms=int(seconds * 1000),
        answer=answer, correct=verdict.correct, score=verdict.score, verdict=verdict.to_dict(),
        rating=int(rating), predicted_recall=shown.predicted_recall, first_exposure=previous is None,
    )
    columns = {c.name: getattr(attempt, c.name) for c in _ATTEMPTS.columns if c.name != "id"}
    attempt.id = db.session.execute(_INSERT_ATTEMPT, columns).inserted_primary_key[0]
    day = local_day(user, answered_at)
    rollups.record(rollups.AnswerFacts(
        user_id=user.id, team_id=user.team_id, day=day, learned=row.introduced_on if row else None,
        previous_day=local_day(user, previous.last_review) if previous and previous.last_review else None,
        correct=verdict.correct, predicted_recall=shown.predicted_recall, duration_ms=attempt.duration_ms))
    analytics.record(scenario_id=shown.scenario_id, user_id=user.id, skill_id=shown.skill_id, answered_at=answered_at,
                     correct=verdict.correct, duration_ms=attempt.duration_ms, chosen=verdict.chosen)
    state = scheduling.review(previous, shown.skill_id, rating, answered_at, scheduler())
    fields = {name: getattr(state, name) for name in _STATE_FIELDS}
    if row is None:
        db.session.execute(_INSERT_STATE, dict(user_id=user.id, skill_id=shown.skill_id, introduced_on=day, **fields))
    else:
        db.session.execute(_UPDATE_STATE, dict(key_user_id=user.id, key_skill_id=shown.skill_id, **fields))
    _finish_if_done(shown.session_id, answered_at)
    return attempt


def _finish_if_done(session_id: int, when: datetime) -> None:
    db.session.execute(_FINISH_IF_DONE, {"key_id": session_id, "finished_at": when})


def attempt_for(presentation_id: int) -> Attempt | None:
    return db.session.scalars(db.select(Attempt).filter_by(presentation_id=presentation_id)).first()


def answered_by(user: User, token: str) -> bool:
    """Whether ``token`` is a drill item the user has answered: a lesson opened from its feedback links back to it."""
    if not (0 < len(token) <= 32 and token.isalnum()):
        return False
    query = (select(_SHOWN.c.id).select_from(_SHOWN.join(_ATTEMPTS, _ATTEMPTS.c.presentation_id == _SHOWN.c.id))
             .where(_SHOWN.c.token == token, _SHOWN.c.user_id == user.id))
    return db.session.execute(query).first() is not None


def feedback(user: User, token: str) -> tuple[Any, Scenario, StageModel, StageModel] | None:
    """The rep's own graded attempt for a presentation (its row), with the scenario version they were shown, the stage
    rules it was graded by and the current ones (the stage pages the feedback links to show those)."""
    row = db.session.execute(_ANSWERED, {"token": token, "user_id": user.id}).first()
    if row is None:
        return None
    return (row, _scenario(row.scenario_version_id, row.content_hash),
            content_service.stage_model_version(row.model_id, row.model_hash),
            content_service.stage_model_version(row.current_id, row.current_hash))


def summary(user: User, now: datetime) -> Summary:
    """Today's score, the streak of consecutive days drilled and the next due date."""
    session = today_session(user, now)
    attempts = list(db.session.scalars(
        db.select(Attempt).join(Presentation, Attempt.presentation_id == Presentation.id)
        .where(Presentation.session_id == session.id)))
    correct = sum(1 for a in attempts if a.correct)
    drilled = set(drillable_skills())  # a skill whose scenarios are all retired comes back in no drill
    started = {k: s for k, s in memory_states(user.id).items() if k in drilled}
    next_due = scheduling.next_due(started)
    end = day_end(user, session.day)
    # a skill falling due later today that was not due when the day was planned joins today's drill then
    # (join_fallen_due): the next drill is today, not tomorrow
    since = max(session.started_at, now)
    joining = [moment for s in started.values() if scheduling.left_out_when_planned(s, session.started_at)
               and since < (moment := scheduling.joins_the_day_at(s, end)) < end]
    later_today = min(joining, default=None)
    if later_today is not None:
        next_due = later_today
    elif next_due is not None:
        # today's drill is done: skills still overdue (a backlog spread over the coming days) come tomorrow
        next_due = max(next_due, day_end(user, local_day(user, now)))
        if user.role == "rep":
            next_due = first_day_at_work(user, next_due)
    return Summary(answered=len(attempts), correct=correct,
                   score=(sum(a.score for a in attempts) / len(attempts)) if attempts else 0.0,
                   streak=streak(user, now), next_due=next_due,
                   partly=sum(1 for a in attempts if is_partly_right(a.correct, a.rating)),
                   can_practise_more=bool(started),
                   later_today=later_today.astimezone(user_zone(user)).time() if later_today is not None else None)


NEXT_DRILL_LOOKAHEAD = 200  # days: longer than the longest vacation (vacations.MAX_DAYS), with room for two


def work_calendar(user: User, first: date, last: date) -> tuple[WorkingWeek, set[date]]:
    """The rep's working week and the days they are away from ``first`` to ``last`` plus NEXT_DRILL_LOOKAHEAD days:
    what first_day_at_work reads, loaded once for a page that moves several due days (the progress page)."""
    from learnapp.services.users import working_weeks
    from learnapp.services.vacations import vacation_days

    away = vacation_days([user.id], first, last + timedelta(days=NEXT_DRILL_LOOKAHEAD)).get(user.id, set())
    return working_weeks([user])[user.id], away


def first_day_at_work(user: User, when: datetime, calendar: tuple[WorkingWeek, set[date]] | None = None) -> datetime:
    """``when``, or the start of the rep's first day after it that they work and are not away: the next drill is not
    announced for a day off, which neither reminders nor participation count. ``calendar`` (from work_calendar, covering
    ``when``'s day) saves its two queries."""
    day = local_day(user, when)
    week, away = calendar or work_calendar(user, day, day)
    for offset in range(NEXT_DRILL_LOOKAHEAD + 1):
        candidate = day + timedelta(days=offset)
        if week.works_on(candidate) and candidate not in away:
            return when if offset == 0 else day_end(user, candidate - timedelta(days=1))
    return when


def streak(user: User, now: datetime) -> int:
    """Consecutive local days drilled up to today; days off (the rep's own working days decide) and vacation days
    pause the streak (retention.streak)."""
    from learnapp.domain.retention import streak as days_streak
    from learnapp.services.users import working_weeks
    from learnapp.services.vacations import vacation_days

    since = now - timedelta(days=400)
    times = db.session.scalars(db.select(Attempt.answered_at).where(Attempt.user_id == user.id).where(Attempt.answered_at >= since))
    today = local_day(user, now)
    away = vacation_days([user.id], today - timedelta(days=400), today).get(user.id, set())
    return days_streak({local_day(user, t) for t in times}, today, away, working_weeks([user])[user.id])
