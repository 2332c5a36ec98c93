"""Item analytics for the trainer's list: rollups kept on every answer, the maths in domain.analytics.

Reading every attempt for the list made it slower with every answer given (2.9 s with 200,000 attempts). Three
rollups hold what the statistics need instead, each updated in the answer's own transaction and rebuildable from
the attempts: each rep's answers per item and whether their first one was right (for the shares and the
discrimination index), answers per item and tenth of a second (for the median time), and each wrong answer's count.
What the list reads does not grow with the answers given: the database sums each item's rows, and Python reads one
row per rep and item only where a discrimination index has reps to rank. Those rows grow with reps times items, so
past LIVE_RANKING_ROWS of them the list shows the discrimination indexes of the last rebuild (nightly), as of then,
from a fourth derived table (item_discrimination); the other figures stay live.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Iterable, NamedTuple

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from learnapp.domain.analytics import (ItemCounts, ItemStats, RepItem, discriminations, item_counts, item_stats_from_sums,
                                      median_of_counts, skill_summary)
from learnapp.extensions import db
from learnapp.models import Attempt, ItemDiscrimination, ItemRepRollup, ItemTimeRollup, ItemWrongRollup, Scenario
from learnapp.services.db import begin_write, now

MAX_CHOSEN = 255  # ItemWrongRollup.chosen


def record(*, scenario_id: str, user_id: int, skill_id: str, answered_at: datetime, correct: bool, duration_ms: int,
           chosen: str | None) -> None:
    """Add one answer to the item rollups, in the caller's transaction (the answer's own)."""
    dialect = db.session.get_bind().dialect.name
    db.session.execute(_pair_upsert(dialect), {
        "scenario_id": scenario_id, "user_id": user_id, "skill_id": skill_id, "answers": 1, "right": int(correct),
        "first_at": answered_at, "first_correct": bool(correct)})
    db.session.execute(_count_upsert(ItemTimeRollup, dialect),
                       {"scenario_id": scenario_id, "tenths": max(0, duration_ms) // 100, "n": 1})
    if not correct and chosen:
        db.session.execute(_count_upsert(ItemWrongRollup, dialect),
                           {"scenario_id": scenario_id, "chosen": chosen[:MAX_CHOSEN], "n": 1})


def _insert(model, dialect: str):
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model.__table__)


@lru_cache(maxsize=None)
def _pair_upsert(dialect: str):
    """Counts add up; the first answer is the earlier of the stored one and this one."""
    stmt, table = _insert(ItemRepRollup, dialect), ItemRepRollup.__table__
    earlier = stmt.excluded.first_at < table.c.first_at
    return stmt.on_conflict_do_update(
        index_elements=["scenario_id", "user_id", "skill_id"],
        set_={"answers": table.c.answers + stmt.excluded.answers, "right": table.c.right + stmt.excluded.right,
              "first_correct": db.case((earlier, stmt.excluded.first_correct), else_=table.c.first_correct),
              "first_at": db.case((earlier, stmt.excluded.first_at), else_=table.c.first_at)})


@lru_cache(maxsize=None)
def _count_upsert(model, dialect: str):
    stmt, table = _insert(model, dialect), model.__table__
    keys = [c.name for c in table.primary_key.columns]
    return stmt.on_conflict_do_update(index_elements=keys, set_={"n": table.c.n + stmt.excluded.n})


def rebuild() -> dict[str, int]:
    """Recompute the item rollups from the attempts (nightly, and after a bulk load), then the stored discrimination
    indexes from them (refresh_discriminations()); returns row counts.

    One scenario per write transaction, so an answer arriving meanwhile waits for one scenario's counts at most
    (the counting runs in the database: no attempt is read into Python). On PostgreSQL the transaction locks the
    three tables against writes, so an answer cannot add a row between the delete and the insert (on SQLite the
    write transaction does that already)."""
    db.session.commit()
    scenarios = set(db.session.scalars(db.select(Scenario.id))) | set(db.session.scalars(db.select(ItemTimeRollup.scenario_id).distinct()))
    postgres = db.session.get_bind().dialect.name == "postgresql"
    for scenario_id in sorted(scenarios):
        begin_write()
        if postgres:  # answers wait (for this transaction only) rather than add a row between the delete and the insert
            db.session.execute(db.text("LOCK TABLE rollup_item_rep, rollup_item_time, rollup_item_wrong "
                                       "IN SHARE ROW EXCLUSIVE MODE"))
        for model in (ItemRepRollup, ItemTimeRollup, ItemWrongRollup):
            db.session.execute(db.delete(model).where(model.scenario_id == scenario_id))
            select = _COUNTS[model](scenario_id)
            db.session.execute(db.insert(model).from_select([c.name for c in select.selected_columns], select))
        db.session.commit()
    counts = {model.__tablename__: db.session.scalar(db.select(db.func.count()).select_from(model))
              for model in (ItemRepRollup, ItemTimeRollup, ItemWrongRollup)}
    return {**counts, ItemDiscrimination.__tablename__: refresh_discriminations()}


def _pairs_of(scenario_id: str):
    mine = Attempt.scenario_id == scenario_id
    order = db.func.row_number().over(partition_by=(Attempt.user_id, Attempt.skill_id),
                                      order_by=(Attempt.answered_at, Attempt.id)).label("n")
    ranked = db.select(Attempt.user_id, Attempt.skill_id, Attempt.answered_at,
                       db.case((Attempt.correct, 1), else_=0).label("right"), order).where(mine).subquery()
    return (db.select(db.literal(scenario_id, db.String).label("scenario_id"), ranked.c.user_id, ranked.c.skill_id,
                      db.func.count().label("answers"), db.func.sum(ranked.c.right).label("right"),
                      db.func.min(ranked.c.answered_at).label("first_at"),
                      (db.func.max(db.case((ranked.c.n == 1, ranked.c.right), else_=0)) == 1).label("first_correct"))
            .group_by(ranked.c.user_id, ranked.c.skill_id))


def _times_of(scenario_id: str):
    tenths = (Attempt.duration_ms // 100).label("tenths")
    return (db.select(Attempt.scenario_id, tenths, db.func.count().label("n"))
            .where(Attempt.scenario_id == scenario_id).group_by(Attempt.scenario_id, tenths))


def _wrong_of(scenario_id: str):
    chosen = db.func.substr(Attempt.verdict["chosen"].as_string(), 1, MAX_CHOSEN).label("chosen")
    return (db.select(Attempt.scenario_id, chosen, db.func.count().label("n"))
            .where(Attempt.scenario_id == scenario_id, db.not_(Attempt.correct), chosen.is_not(None), chosen != "")
            .group_by(Attempt.scenario_id, chosen))


_COUNTS = {ItemRepRollup: _pairs_of, ItemTimeRollup: _times_of, ItemWrongRollup: _wrong_of}


LIVE_RANKING_ROWS = 20_000  # rep rows the list ranks on each view, at most (about 0.1 s here); past them, the stored index


class ItemAnalytics(NamedTuple):
    """What the trainer's list shows: statistics per scenario, a summary per skill, and when the discrimination
    indexes were computed (None: on this view, from the rollups as they are)."""
    stats: dict[str, ItemStats]
    by_skill: dict[str, dict]
    discrimination_as_of: datetime | None


def all_item_stats() -> ItemAnalytics:
    """Statistics per scenario and a summary per skill, over every attempt (from the item rollups).

    The database sums each item's answers. The discrimination index ranks reps, one rollup row per rep and item of
    every skill answered on two items or more: up to LIVE_RANKING_ROWS rows (a small organisation) they are read as
    plain tuples and ranked on each view (domain.analytics.discriminations); past that, every view would pay for
    them (2,000 reps answering five items per skill: 287,000 rows, 1.3 s), so the list reads the indexes the last
    rebuild stored (refresh_discriminations(), nightly) and says as of when; if none were ever stored (just after
    the upgrade), this view computes and stores them. Every statement is a prebuilt Core one: rows come back as
    tuples."""
    items, items_of_skill = _item_counts()
    ranked_skills = _ranked_skills(items, items_of_skill)
    to_rank = sum(counts.reps for counts in items.values() if counts.skill_id in ranked_skills)  # about the rows
    if to_rank <= LIVE_RANKING_ROWS:
        discrimination, as_of = _discriminations(items, ranked_skills), None
    else:
        discrimination, as_of = _stored_discriminations()
        if as_of is None:  # never computed: once, now
            as_of = now()
            discrimination = _store_discriminations(items, _discriminations(items, ranked_skills), as_of)
    medians = {}
    for item, packed in db.session.execute(_TIMES):
        values = map(int, packed.replace(":", ",").split(","))  # tenths, n, tenths, n, ...
        medians[item] = (median_of_counts(dict(zip(values, values))) + 0.5) / 10  # a tenth's middle
    wrong: dict[str, dict[str, int]] = {}
    for item, chosen, n in db.session.execute(_WRONG):
        wrong.setdefault(item, {})[chosen] = n
    stats = item_stats_from_sums(items.values(), discrimination, medians, wrong)
    return ItemAnalytics(stats, skill_summary(stats.values()), as_of)


def refresh_discriminations() -> int:
    """Compute every answered item's discrimination index from the item rollups and store it, replacing what was
    stored (the nightly rebuild, after the rollups'); returns the rows stored (one per item with answers)."""
    db.session.commit()  # a fresh read of the rollups
    items, items_of_skill = _item_counts()
    discrimination = _discriminations(items, _ranked_skills(items, items_of_skill))
    _store_discriminations(items, discrimination, now())
    return len(items)


def _ranked_skills(items: dict[str, ItemCounts], items_of_skill: dict[str, int]) -> list[str]:
    """The skills whose items' discrimination has reps to rank: those answered on two items or more."""
    return sorted({counts.skill_id for counts in items.values() if items_of_skill[counts.skill_id] > 1})


def _discriminations(items: dict[str, ItemCounts], ranked_skills: list[str]) -> dict[str, float]:
    rows = db.session.execute(_RANKED, {"skills": ranked_skills}).all() if ranked_skills else []
    return discriminations(rows, {item: counts.skill_id for item, counts in items.items()})


def _stored_discriminations() -> tuple[dict[str, float], datetime | None]:
    """The stored indexes (items without one left out) and when they were computed (None: never)."""
    rows = db.session.execute(_STORED).all()
    return {item: value for item, value, _ in rows if value is not None}, max((at for *_, at in rows), default=None)


def _store_discriminations(items: Iterable[str], discrimination: dict[str, float], at: datetime) -> dict[str, float]:
    """Replace the stored indexes with these, computed at ``at``: a row per item (None where it has no index), so
    that a table with rows was computed. In its own write transaction; returns ``discrimination``."""
    begin_write()
    if db.session.get_bind().dialect.name == "postgresql":  # two refreshes at once take turns instead of colliding
        db.session.execute(db.text("LOCK TABLE item_discrimination IN SHARE ROW EXCLUSIVE MODE"))
    db.session.execute(db.delete(ItemDiscrimination))
    rows = [{"scenario_id": item, "discrimination": discrimination.get(item), "computed_at": at} for item in items]
    if rows:
        db.session.execute(db.insert(ItemDiscrimination), rows)
    db.session.commit()
    return discrimination


def _item_counts() -> tuple[dict[str, ItemCounts], dict[str, int]]:
    """Each item's counts, by scenario id in id order; and on how many items each skill has answers.

    An item answered under one skill (the rule) is summed by the database: one rollup row per rep. An item answered
    under two skills or more (its skill changed) counts each rep once, with their earliest pair: those items' rows
    are read and counted by domain.analytics.item_counts (a tie on the earliest answer goes to the lower skill id)."""
    sums = db.session.execute(_ITEM_SUMS).all()
    several = [item for item, _, skill, other_skill, *_ in sums if skill != other_skill]
    pairs = [RepItem(user, item, skill, answers, right, bool(first), first_at)
             for item, user, skill, answers, right, first, first_at in db.session.execute(_PAIRS, {"items": several})
             ] if several else []
    counted = item_counts(pairs)
    items: dict[str, ItemCounts] = {}
    skills_of_item: dict[str, set[str]] = {}
    for item, reps, skill, other_skill, answers, right, first_right in sums:
        if skill == other_skill:
            items[item], skills_of_item[item] = ItemCounts(item, skill, answers, right, reps, first_right), {skill}
        elif item in counted:
            items[item], skills_of_item[item] = counted[item], {p.skill_id for p in pairs if p.scenario_id == item}
    items_of_skill: dict[str, int] = {}
    for skills in skills_of_item.values():
        for skill in skills:
            items_of_skill[skill] = items_of_skill.get(skill, 0) + 1
    return items, items_of_skill


_REP, _TIME, _WRONG_TABLE = ItemRepRollup.__table__, ItemTimeRollup.__table__, ItemWrongRollup.__table__
_ITEM_SUMS = (  # per item: reps (one row each under one skill), its skills' bounds, answers, right, first ones right
    db.select(_REP.c.scenario_id, db.func.count(), db.func.min(_REP.c.skill_id), db.func.max(_REP.c.skill_id),
              db.func.sum(_REP.c.answers), db.func.sum(_REP.c.right), db.func.sum(db.case((_REP.c.first_correct, 1), else_=0)))
    .group_by(_REP.c.scenario_id).order_by(_REP.c.scenario_id))
_PAIRS = (db.select(_REP.c.scenario_id, _REP.c.user_id, _REP.c.skill_id, _REP.c.answers, _REP.c.right, _REP.c.first_correct,
                    _REP.c.first_at)
          .where(_REP.c.scenario_id.in_(db.bindparam("items", expanding=True)))
          .order_by(_REP.c.scenario_id, _REP.c.user_id, _REP.c.skill_id))
_RANKED = (  # in the key's order: by item, then rep, as discriminations() needs
    db.select(_REP.c.scenario_id, _REP.c.user_id, _REP.c.skill_id, _REP.c.answers, _REP.c.right)
    .where(_REP.c.skill_id.in_(db.bindparam("skills", expanding=True)))
    .order_by(_REP.c.scenario_id, _REP.c.user_id, _REP.c.skill_id))
_STORED = db.select(ItemDiscrimination.scenario_id, ItemDiscrimination.discrimination, ItemDiscrimination.computed_at)
_TIMES = (  # each item's answer times as one string, "tenths:n,tenths:n,...": one row per item to fetch, not one per
    # item and tenth of a second (111,079 for 200 items: 0.1 to 0.2 s of the list's view here, a quarter of that packed)
    db.select(_TIME.c.scenario_id, db.func.aggregate_strings(
        db.cast(_TIME.c.tenths, db.String).concat(":").concat(db.cast(_TIME.c.n, db.String)), ","))
    .group_by(_TIME.c.scenario_id))
_WRONG = db.select(_WRONG_TABLE.c.scenario_id, _WRONG_TABLE.c.chosen, _WRONG_TABLE.c.n)
