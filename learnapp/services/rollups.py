"""Keeping the dashboard rollups: one increment per answer, and a full rebuild from attempts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
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
    """Recompute every rollup from attempts (e.g. nightly, or after a bulk load): the dashboards' (below), then the
    item analytics' (services.analytics.rebuild); returns row counts per table."""
    from learnapp.services import analytics

    counts = _rebuild_dashboards(batch)
    return {**counts, **analytics.rebuild()}


def _rebuild_dashboards(batch: int) -> dict[str, int]:
    """Recompute the dashboard rollups from attempts; returns row counts.

    One team at a time, each in its own short write transaction: the team's rows and its reps' daily
    rows, from its reps' attempts. Then, in a last one, the organisation's rows: the sum of the teams'
    plus what the reps without a team add, whose daily rows are rebuilt there too. So an answer arriving
    meanwhile waits for one team's transaction at most (on SQLite within busy_timeout; on PostgreSQL
    the deleted rows are locked until commit), never for the whole run, and its increment lands on rows
    that already include, or are about to include, its attempt. This holds while every rep stays in
    their team: the last transaction checks that no rep joined, left or changed team since the start,
    and if one did (their answers may sit under a team rebuilt without them), it rebuilds everything
    at once instead, as one transaction. Memory stays bounded by one team's rows and one rep's history
    (attempts are streamed per rep in answer order).
    """
    from learnapp.models import Team

    db.session.commit()  # nothing of the caller's is pending; each step below is its own transaction
    counts = {model.__tablename__: 0 for model in KEYS}
    teams_at_start = _membership()
    for team_id in list(db.session.scalars(db.select(Team.id).order_by(Team.id))):
        begin_write()
        members = User.team_id == team_id
        db.session.execute(delete(RetentionRollup).where(RetentionRollup.team_id == team_id))
        db.session.execute(delete(CalibrationRollup).where(CalibrationRollup.team_id == team_id))
        totals = _totals(members, batch, with_organisation=False)
        _replace(totals, members, batch, counts)
        db.session.commit()
    begin_write()
    if _membership() != teams_at_start:
        return _rebuild_at_once(batch)
    _rebuild_organisation(batch, counts)
    db.session.commit()
    return counts


def _rebuild_organisation(batch: int, counts: dict[str, int]) -> None:
    """The organisation's rows: the sum of the teams' plus what the reps without a team add, whose daily rows are
    rebuilt here too (in the caller's write transaction)."""
    from learnapp.models import Team

    teamless = User.team_id.is_(None)
    for model in (RetentionRollup, CalibrationRollup):  # the organisation's, and those of teams deleted since
        db.session.execute(delete(model).where((model.team_id == ORGANISATION)
                                               | model.team_id.not_in(db.select(Team.id))))
    totals = _totals(teamless, batch, with_organisation=True)
    for model, sums in ((RetentionRollup, ("n", "right")), (CalibrationRollup, ("n", "right", "predicted"))):
        names = KEYS[model][1:]  # the key without team_id
        query = (db.select(*(model.__table__.c[n] for n in names), *(db.func.sum(model.__table__.c[n]) for n in sums))
                 .group_by(*(model.__table__.c[n] for n in names)))
        for row in db.session.execute(query):
            bucket = totals[model][(ORGANISATION, *row[:len(names)])]
            for name, value in zip(sums, row[len(names):]):
                bucket[name] += value
    _replace(totals, teamless, batch, counts)


def rebuild_teams(team_ids: Iterable[int], *, organisation: bool = False, batch: int = 50_000) -> None:
    """Recompute these teams' rollup rows (and their reps' daily rows) from the attempts of their present members,
    and with ``organisation`` the organisation's rows too, in the caller's write transaction, which commits.

    After an admin moves a rep, the rep's history moves with them at once, as the nightly rebuild would book it
    (the organisation's rows do not change); after a timezone correction their answers' days move, in their
    team's rows and the organisation's.
    """
    counts = {model.__tablename__: 0 for model in KEYS}
    for team_id in set(team_ids):
        members = User.team_id == team_id
        db.session.execute(delete(RetentionRollup).where(RetentionRollup.team_id == team_id))
        db.session.execute(delete(CalibrationRollup).where(CalibrationRollup.team_id == team_id))
        _replace(_totals(members, batch, with_organisation=False), members, batch, counts)
    if organisation:
        _rebuild_organisation(batch, counts)


def _membership() -> dict[int, int | None]:
    """Every user's team, as the rebuild sees it."""
    return {user_id: team_id for user_id, team_id in db.session.execute(db.select(User.id, User.team_id))}


def _rebuild_at_once(batch: int) -> dict[str, int]:
    """Every rollup from every attempt in the caller's write transaction, which this commits."""
    everyone = User.id.is_not(None)
    for model in KEYS:
        db.session.execute(delete(model))
    counts = {model.__tablename__: 0 for model in KEYS}
    _replace(_totals(everyone, batch, with_organisation=True), everyone, batch, counts)
    db.session.commit()
    return counts


def _totals(members, batch: int, *, with_organisation: bool) -> dict[type, dict[tuple, dict]]:
    """The rollup rows the attempts of the users matching ``members`` add up to; the organisation's only if asked."""
    from learnapp.services.drill import zone_named

    totals: dict[type, dict[tuple, dict]] = {model: defaultdict(lambda: defaultdict(float)) for model in KEYS}
    users = {u.id: (u.team_id, zone_named(u.timezone)) for u in db.session.execute(
        db.select(User.id, User.team_id, User.timezone).where(members))}
    learned: dict[tuple[int, str], date] = {}
    previous: dict[tuple[int, str], date] = {}
    query = (db.select(Attempt.user_id, Attempt.skill_id, Attempt.answered_at, Attempt.correct,
                       Attempt.predicted_recall, Attempt.duration_ms)
             .where(Attempt.user_id.in_(db.select(User.id).where(members)))
             .order_by(Attempt.user_id, Attempt.answered_at, Attempt.id).execution_options(yield_per=batch))
    for user_id, skill, answered_at, correct, recall, ms in db.session.execute(query):
        team_id, zone = users[user_id]
        day = answered_at.astimezone(zone).date()
        key = (user_id, skill)
        facts = AnswerFacts(user_id, team_id, day, learned.get(key), previous.get(key), bool(correct), recall, ms)
        learned.setdefault(key, day)
        previous[key] = day
        for model, k, incs in increments(facts):
            if not with_organisation and k.get("team_id") == ORGANISATION:
                continue
            bucket = totals[model][tuple(k[name] for name in KEYS[model])]
            for name, value in incs.items():
                bucket[name] += value
    return totals


def _replace(totals: dict[type, dict[tuple, dict]], members, batch: int, counts: dict[str, int]) -> None:
    """Write the computed rows; the daily rows of the users matching ``members`` are replaced as a whole."""
    db.session.execute(delete(RepDayRollup).where(RepDayRollup.user_id.in_(db.select(User.id).where(members))))
    for model, rows in totals.items():
        names = KEYS[model]
        mappings = [{**dict(zip(names, k)), **{n: (v if n == "predicted" else int(v)) for n, v in incs.items()}}
                    for k, incs in rows.items()]
        for i in range(0, len(mappings), batch):
            db.session.execute(db.insert(model), mappings[i:i + batch])
        counts[model.__tablename__] += len(mappings)
