"""A manager's overview of one team: who drilled lately and whose memory is fading."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from learnapp.domain import scheduling
from learnapp.extensions import db
from learnapp.models import Attempt, MemoryStateRow, Team, User
from learnapp.services.drill import scheduler, state_from_row

AT_RISK_RECALL = 0.7


@dataclass
class RepRow:
    user: User
    last_answer: datetime | None
    answers_7d: int
    mean_recall: float | None
    skills_at_risk: int


def team_overview(team: Team, now: datetime) -> list[RepRow]:
    """One row per rep of the team with recent activity and predicted recall now."""
    reps = sorted((u for u in team.members if u.role == "rep"), key=lambda u: u.name.lower())
    ids = [u.id for u in reps]
    activity = dict(
        (row[0], (row[1], row[2])) for row in db.session.execute(
            db.select(Attempt.user_id, db.func.max(Attempt.answered_at),
                      db.func.sum(db.case((Attempt.answered_at >= now - timedelta(days=7), 1), else_=0)))
            .where(Attempt.user_id.in_(ids)).group_by(Attempt.user_id)
        )
    )
    recalls: dict[int, list[float]] = {}
    sched = scheduler()
    for row in db.session.scalars(db.select(MemoryStateRow).where(MemoryStateRow.user_id.in_(ids))):
        recalls.setdefault(row.user_id, []).append(scheduling.predicted_recall(state_from_row(row), now, sched))
    rows = []
    for rep in reps:
        last, week = activity.get(rep.id, (None, 0))
        values = recalls.get(rep.id, [])
        rows.append(RepRow(user=rep, last_answer=last, answers_7d=int(week or 0),
                           mean_recall=sum(values) / len(values) if values else None,
                           skills_at_risk=sum(1 for v in values if v < AT_RISK_RECALL)))
    return rows
