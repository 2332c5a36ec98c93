"""A rep's progress: each skill with predicted recall now, next due date and recent results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from learnapp.domain import scheduling
from learnapp.extensions import db
from learnapp.models import Attempt, Skill, User
from learnapp.services.drill import (drillable_skills, first_day_at_work, is_partly_right, local_day, memory_states,
                                     scheduler, streak, work_calendar)

RECENT_RESULTS = 5


@dataclass(frozen=True)
class Result:
    """One recent answer as the rep sees it: right, partly right (wrong but rated Hard, as the drill's feedback said) or wrong.

    A wrong order keeps its score (the share of step pairs in order) for the tooltip, partly right or not.
    """

    correct: bool
    score: float
    rating: int

    @property
    def kind(self) -> str:
        if self.correct:
            return "right"
        return "partly right" if is_partly_right(self.correct, self.rating) else "wrong"


@dataclass
class SkillProgress:
    skill_id: str
    title: str
    recall: float | None  # None: not started yet
    due: datetime | None
    reviews: int
    lapses: int
    recent: list[Result] = field(default_factory=list)  # newest last
    # reviewed today, in the rep's own day: FSRS puts recall at 100% right after any review, right or wrong,
    # so the page says "practised today" rather than a number that reads as mastery
    practised_today: bool = False
    # False: every scenario of the skill is retired, so no drill brings it back (until one is active again)
    drilled: bool = True
    # the due day, in the rep's own days, against their today: "overdue" (an earlier day), "today" or None (later)
    due_when: str | None = None
    # the skill waits for the rep's return from a vacation: it fell due on a day they are away (``due`` is then their
    # first day back at work, when the drill brings it), or it is overdue and they are away today
    after_vacation: bool = False


@dataclass
class RepProgress:
    user: User
    skills: list[SkillProgress]
    attempts: int
    correct: int
    streak: int

    @property
    def started(self) -> list[SkillProgress]:
        return [s for s in self.skills if s.recall is not None]


def rep_progress(user: User, now: datetime) -> RepProgress:
    """Every skill of the course for one rep, in course order, with recall now and the last few results.

    A skill whose scenarios are all retired is listed only if the rep practised it, as no longer drilled."""
    states = memory_states(user.id)
    sched = scheduler()
    recent = _recent_results(user.id)
    today = local_day(user, now)
    drilled = set(drillable_skills())
    due, after_vacation = _comes_back(user, states, today)
    skills = []
    for skill in db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)):
        state = states.get(skill.id)
        if skill.id not in drilled and state is None:
            continue
        skills.append(SkillProgress(
            skill_id=skill.id, title=skill.title,
            recall=scheduling.recall_now(state, now, sched) if state else None,
            due=due.get(skill.id), reviews=state.reviews if state else 0,
            lapses=state.lapses if state else 0, recent=recent.get(skill.id, []),
            practised_today=bool(state and state.last_review and local_day(user, state.last_review) == today),
            drilled=skill.id in drilled, due_when=_due_when(user, due[skill.id], today) if state else None,
            after_vacation=skill.id in after_vacation,
        ))
    totals = db.session.execute(
        db.select(db.func.count(Attempt.id), db.func.sum(db.case((Attempt.correct, 1), else_=0))).where(Attempt.user_id == user.id)
    ).one()
    return RepProgress(user=user, skills=skills, attempts=totals[0] or 0, correct=int(totals[1] or 0),
                       streak=streak(user, now))


def _comes_back(user: User, states: dict, today: date) -> tuple[dict[str, datetime], set[str]]:
    """Each started skill's due moment as the drill will bring it, and the skills that wait for the rep's return from a
    vacation.

    A due day from today on that the rep is away or off moves to the start of their first day back at work, by the drill
    summary's own rule (first_day_at_work; a rep's only, as there). An overdue skill keeps its day (it is waiting
    already); on a day the rep is away it is marked too, as it comes back when they do."""
    due = {skill_id: state.due for skill_id, state in states.items()}
    if user.role != "rep" or not due:
        return due, set()
    calendar = work_calendar(user, today, max(today, *(local_day(user, moment) for moment in due.values())))
    after_vacation = set()
    for skill_id, moment in due.items():
        day = local_day(user, moment)
        if day < today:
            if today in calendar[1]:
                after_vacation.add(skill_id)
            continue
        due[skill_id] = first_day_at_work(user, moment, calendar)
        skipped = range(day.toordinal(), local_day(user, due[skill_id]).toordinal())
        if any(date.fromordinal(ordinal) in calendar[1] for ordinal in skipped):
            after_vacation.add(skill_id)
    return due, after_vacation


def _due_when(user: User, due: datetime, today: date) -> str | None:
    """'overdue' when a skill fell due on a day before the rep's today, 'today' on it, else None."""
    day = local_day(user, due)
    return "overdue" if day < today else "today" if day == today else None


def _recent_results(user_id: int) -> dict[str, list[Result]]:
    """The last few results per skill, oldest first, from one ranked query."""
    ranked = (
        db.select(Attempt.skill_id, Attempt.correct, Attempt.score, Attempt.rating, Attempt.id,
                  db.func.row_number().over(partition_by=Attempt.skill_id, order_by=Attempt.id.desc()).label("n"))
        .where(Attempt.user_id == user_id).subquery()
    )
    rows = db.session.execute(
        db.select(ranked.c.skill_id, ranked.c.correct, ranked.c.score, ranked.c.rating).where(ranked.c.n <= RECENT_RESULTS).order_by(ranked.c.id)
    )
    results: dict[str, list[Result]] = {}
    for skill_id, correct, score, rating in rows:
        results.setdefault(skill_id, []).append(Result(bool(correct), float(score or 0.0), int(rating)))
    return results


@dataclass(frozen=True)
class AnswerRecord:
    """One of a rep's answers as they can download it: when, what was asked, what they answered, how it went."""
    answered_at: datetime
    skill: str
    scenario_id: str
    prompt: str
    answer: str
    result: str  # right, partly right, wrong
    score: float
    seconds: float


def answers_of(user: User) -> list[AnswerRecord]:
    """Every answer of one rep, oldest first, with the item as it was shown and their answer by its names then (the
    stage rules it was graded by: a stage renamed or a move renamed since keeps the name the feedback gave it)."""
    from learnapp.domain.model import answer_label
    from learnapp.models import Presentation, ScenarioVersion
    from learnapp.services.content import shown_moment, stage_model_shown_under, stage_model_version
    from learnapp.services.drill import _scenario  # parsed once per content hash

    titles = dict(db.session.execute(db.select(Skill.id, Skill.title)).all())
    model_id, model_hash = stage_model_shown_under(Presentation.stage_model_id,
                                                   shown_moment(Attempt.shown_at, ScenarioVersion.created_at))
    query = (db.select(Attempt.answered_at, Attempt.skill_id, Attempt.scenario_id, Attempt.scenario_version_id,
                       ScenarioVersion.content_hash, Attempt.verdict, Attempt.correct, Attempt.rating, Attempt.score,
                       Attempt.duration_ms, model_id, model_hash)
             .join(ScenarioVersion, ScenarioVersion.id == Attempt.scenario_version_id)
             .join(Presentation, Presentation.id == Attempt.presentation_id)
             .where(Attempt.user_id == user.id).order_by(Attempt.answered_at, Attempt.id))
    records = []
    for at, skill, scenario_id, version_id, digest, verdict, correct, rating, score, ms, *in_force in db.session.execute(query):
        scenario = _scenario(version_id, digest)
        model = stage_model_version(*in_force)
        chosen = str((verdict or {}).get("chosen") or "")
        answer = answer_label(scenario, chosen, model) if chosen else ""
        result = "right" if correct else "partly right" if is_partly_right(bool(correct), int(rating)) else "wrong"
        records.append(AnswerRecord(at, titles.get(skill, skill), scenario_id, scenario.prompt, answer, result,
                                    float(score or 0.0), ms / 1000))
    return records
