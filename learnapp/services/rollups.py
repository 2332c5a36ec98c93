"""Keeping the dashboard rollups: one increment per answer, and a full rebuild from attempts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from datetime import date

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from learnapp.domain.retention import calibration_bin, retention_week
from learnapp.extensions import db
from learnapp.models import ORGANISATION, Attempt, CalibrationRollup, RepDayRollup, RetentionRollup, User
from learnapp.services.db import begin_write

KEYS = {
    RetentionRollup: ("team_id", "day", "week"),
    CalibrationRollup: ("team_id", "day", "bin"),
    RepDayRollup: ("user_id", "day"),
}


@dataclass(frozen=True)
class AnswerFacts:
    """What the rollups need to know about one answer (days are the rep's local days)."""

    user_id: int
    team_id: int | None
    day: date
    learned: date | None  # None: this answer is the first exposure to the skill
    previous_day: date | None
    correct: bool
    predicted_recall: float | None
    duration_ms: int


def increments(facts: AnswerFacts) -> list[tuple[type, dict, dict]]:
    """The (rollup, key, increments) rows one answer adds to, for its team and for the organisation."""
    rows: list[tuple[type, dict, dict]] = [
        (RepDayRollup, {"user_id": facts.user_id, "day": facts.day},
         {"answers": 1, "right": int(facts.correct), "ms": facts.duration_ms})]
    teams = [ORGANISATION] + ([facts.team_id] if facts.team_id else [])
    week = retention_week(facts.learned, facts.previous_day, facts.day)
    bin_ = calibration_bin(facts.predicted_recall)
    for team in teams:
        if week is not None:
            rows.append((RetentionRollup, {"team_id": team, "day": facts.day, "week": week},
                         {"n": 1, "right": int(facts.correct)}))
        if bin_ is not None:
            rows.append((CalibrationRollup, {"team_id": team, "day": facts.day, "bin": bin_},
                         {"n": 1, "right": int(facts.correct), "predicted": facts.predicted_recall}))
    return rows


def record(facts: AnswerFacts) -> None:
    """Add one answer to the rollups inside the caller's transaction: one atomic upsert per rollup table."""
    by_model: dict[type, list[dict]] = defaultdict(list)
    for model, key, incs in increments(facts):
        by_model[model].append({**key, **incs})
    dialect = db.session.get_bind().dialect.name
    for model, rows in by_model.items():
        db.session.execute(_upsert(model, dialect), rows)


@lru_cache(maxsize=None)
def _upsert(model, dialect: str):
    """INSERT ... ON CONFLICT DO UPDATE adding the new row's counts to the stored ones (built once per table)."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(model.__table__)
    counts = [c.name for c in model.__table__.columns if c.name not in KEYS[model]]
    return stmt.on_conflict_do_update(index_elements=list(KEYS[model]),
                                      set_={name: model.__table__.c[name] + stmt.excluded[name] for name in counts})


def rebuild(batch: int = 50_000) -> dict[str, int]:
    """Recompute every rollup from attempts (e.g. nightly, or after a bulk load); returns row counts.

    Attempts are streamed per rep in answer order, so memory stays bounded by one rep's history.
    The whole rebuild is one transaction, a writer from the start: an answer arriving meanwhile
    waits for it (on SQLite, within busy_timeout) and then adds to the rebuilt rows.
    """
    from learnapp.services.dashboard import _zone

    begin_write()
    for model in KEYS:
        db.session.execute(delete(model))
    totals: dict[type, dict[tuple, dict]] = {model: defaultdict(lambda: defaultdict(float)) for model in KEYS}
    users = {u.id: (u.team_id, _zone(u.timezone)) for u in db.session.scalars(db.select(User))}
    learned: dict[tuple[int, str], date] = {}
    previous: dict[tuple[int, str], date] = {}
    query = (db.select(Attempt.user_id, Attempt.skill_id, Attempt.answered_at, Attempt.correct,
                       Attempt.predicted_recall, Attempt.duration_ms)
             .order_by(Attempt.user_id, Attempt.answered_at, Attempt.id).execution_options(yield_per=batch))
    for user_id, skill, answered_at, correct, recall, ms in db.session.execute(query):
        team_id, zone = users[user_id]
        day = answered_at.astimezone(zone).date()
        key = (user_id, skill)
        facts = AnswerFacts(user_id, team_id, day, learned.get(key), previous.get(key), bool(correct), recall, ms)
        learned.setdefault(key, day)
        previous[key] = day
        for model, k, incs in increments(facts):
            bucket = totals[model][tuple(k[name] for name in KEYS[model])]
            for name, value in incs.items():
                bucket[name] += value
    counts = {}
    for model, rows in totals.items():
        names = KEYS[model]
        mappings = [{**dict(zip(names, k)), **{n: (v if n == "predicted" else int(v)) for n, v in incs.items()}}
                    for k, incs in rows.items()]
        for i in range(0, len(mappings), batch):
            db.session.execute(db.insert(model), mappings[i:i + batch])
        counts[model.__tablename__] = len(mappings)
    db.session.commit()
    return counts
