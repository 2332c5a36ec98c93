"""The item analytics' rollups: kept on every answer, rebuilt from the attempts, the same figures as counting rows."""

import random
from datetime import timedelta

from learnapp.domain.analytics import ItemAttempt, item_stats, median_of_counts
from learnapp.extensions import db
from learnapp.models import Attempt, ItemRepRollup, ItemTimeRollup, ItemWrongRollup, Scenario, User
from learnapp.services import analytics, drill
from learnapp.services.db import begin_write
from tests.helpers import right_answer, wrong_answer


def _from_rows():
    query = db.select(Attempt.user_id, Attempt.scenario_id, Attempt.skill_id, Attempt.answered_at, Attempt.correct,
                      Attempt.duration_ms, Attempt.verdict)
    return item_stats([ItemAttempt(u, s, k, at, bool(c), ms, (v or {}).get("chosen"))
                       for u, s, k, at, c, ms, v in db.session.execute(query)])


def _same(rolled, counted):
    assert rolled.keys() == counted.keys() and rolled
    for item, expected in counted.items():
        got = rolled[item]
        assert abs(got.median_seconds - expected.median_seconds) <= 0.05 + 1e-9, item  # tenths of a second
        got.median_seconds = expected.median_seconds
        assert got == expected, item


def _rollup_rows():
    return {model.__tablename__: sorted(tuple(getattr(r, c.name) for c in model.__table__.columns)
                                        for r in db.session.scalars(db.select(model)))
            for model in (ItemRepRollup, ItemTimeRollup, ItemWrongRollup)}


def _drill(ids, days, rng, clock):
    for _day in range(days):
        for user_id in ids:
            rep = db.session.get(User, user_id)
            skill = 0.3 + 0.08 * ids.index(user_id)  # reps from weak to strong: the discrimination has something to rank
            while (item := drill.current_item(rep, clock.now())) is not None:
                clock.advance(timedelta(seconds=rng.randint(3, 40), milliseconds=rng.randint(0, 999)))
                answer = right_answer(item) if rng.random() < skill else wrong_answer(item)
                drill.submit_answer(rep, item.presentation.token, answer, clock.now())
        clock.advance(timedelta(days=1))


def test_rollups_kept_on_each_answer_and_rebuilt_give_the_figures_of_every_attempt(content, make_user, clock):
    rng = random.Random(7)
    ids = [make_user("rep", team="North").id for _ in range(9)]
    _drill(ids, 6, rng, clock)
    counted = _from_rows()
    assert any(s.top_wrong for s in counted.values()) and any(s.discrimination is not None for s in counted.values())
    assert any(s.later_right is not None for s in counted.values())
    _same(analytics.all_item_stats()[0], counted)
    kept = _rollup_rows()
    counts = analytics.rebuild()
    assert _rollup_rows() == kept  # the rebuild finds exactly what the answers added up to
    assert counts == {**{name: len(rows) for name, rows in kept.items()}, "item_discrimination": len(counted)}
    _same(analytics.all_item_stats()[0], counted)


def test_a_scenario_moved_to_another_skill_gives_the_figures_of_every_attempt(content, make_user, clock):
    """Reps who answered it under both skills count once for it, with their earliest answer; each skill's reps are
    ranked on the answers given under that skill."""
    rng = random.Random(11)
    ids = [make_user("rep", team="North").id for _ in range(9)]
    _drill(ids, 3, rng, clock)
    moved, old_skill = db.session.execute(db.select(Attempt.scenario_id, Attempt.skill_id).order_by(Attempt.id)).first()
    new_skill = db.session.scalars(db.select(Attempt.skill_id).where(Attempt.skill_id != old_skill)  # one they practise
                                   .order_by(Attempt.id)).first()
    db.session.execute(db.update(Scenario).where(Scenario.id == moved).values(skill_id=new_skill))
    db.session.commit()
    _drill(ids, 6, rng, clock)
    skills = db.session.execute(db.select(ItemRepRollup.user_id, ItemRepRollup.skill_id)
                                .where(ItemRepRollup.scenario_id == moved)).all()
    assert {old_skill, new_skill} <= {skill for _, skill in skills}
    assert len(skills) > len({user for user, _ in skills})  # some reps answered it under both skills
    counted = _from_rows()
    assert counted[moved].skill_id == old_skill and any(s.discrimination is not None for s in counted.values())
    _same(analytics.all_item_stats()[0], counted)
    analytics.rebuild()
    _same(analytics.all_item_stats()[0], counted)


def test_an_earlier_answer_arriving_later_becomes_the_first(content, make_user, clock):
    """Answers are added as they are stored; a rep's first answer is the earliest answered, whatever came first."""
    user_id = make_user("rep").id
    at = clock.now()
    begin_write()
    for when, correct in ((at + timedelta(minutes=5), False), (at, True), (at + timedelta(minutes=9), False)):
        analytics.record(scenario_id="x", user_id=user_id, skill_id="s", answered_at=when, correct=correct,
                         duration_ms=12_345, chosen=None if correct else "send-offer")
    db.session.commit()
    row = db.session.scalars(db.select(ItemRepRollup)).one()
    assert (row.answers, row.right, row.first_correct, row.first_at) == (3, 1, True, at)
    stats = analytics.all_item_stats()[0]["x"]
    assert (stats.first_right, stats.later_right, stats.top_wrong, stats.median_seconds) == (1.0, 0.0, "send-offer", 12.35)


def test_median_of_counts_is_the_median_of_the_values():
    rng = random.Random(3)
    import statistics
    for _ in range(200):
        values = [rng.randint(0, 20) for _ in range(rng.randint(1, 30))]
        counts = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        assert median_of_counts(counts) == statistics.median(values)


def test_with_few_rep_rows_to_rank_the_discrimination_is_live(content, make_user, clock):
    """A small organisation ranks its reps on every view (it costs little): no "as of", the figures of every attempt."""
    rng = random.Random(5)
    ids = [make_user("rep", team="North").id for _ in range(9)]
    _drill(ids, 3, rng, clock)
    analytics.all_item_stats()
    _drill(ids, 3, rng, clock)
    view = analytics.all_item_stats()
    assert view.discrimination_as_of is None
    _same(view.stats, _from_rows())


def test_with_many_rep_rows_to_rank_the_discrimination_is_the_nightly_one(content, make_user, clock, monkeypatch):
    """Past LIVE_RANKING_ROWS rows to rank, each item's discrimination index is read from item_discrimination, as of
    when it was computed: on the first view if it never was, then by every rebuild (the nightly job's). The other
    figures stay live."""
    from learnapp import jobs

    monkeypatch.setattr(analytics, "LIVE_RANKING_ROWS", 0)
    rng = random.Random(5)
    ids = [make_user("rep", team="North").id for _ in range(9)]
    _drill(ids, 3, rng, clock)
    first_view, counted = clock.now(), _from_rows()
    view = analytics.all_item_stats()
    assert view.discrimination_as_of == first_view  # never computed: computed now, and stored
    _same(view.stats, counted)
    _drill(ids, 3, rng, clock)
    later = _from_rows()
    view = analytics.all_item_stats()
    assert view.discrimination_as_of == first_view
    assert any(later[item].discrimination != counted[item].discrimination for item in counted)  # it moved meanwhile
    for item, expected in later.items():
        got = view.stats[item]
        assert (got.attempts, got.first_right, got.later_right, got.top_wrong) == \
            (expected.attempts, expected.first_right, expected.later_right, expected.top_wrong)  # live
        assert got.discrimination == (counted[item].discrimination if item in counted else None)  # as of first_view
    run = jobs.nightly_maintenance(clock.now())
    assert run.status == "ok" and "item_discrimination" in run.detail, run.detail
    view = analytics.all_item_stats()
    assert view.discrimination_as_of == clock.now()
    _same(view.stats, later)


def test_the_stored_discriminations_are_rebuilt_from_the_attempts(content, make_user, clock, monkeypatch):
    """Derived data: wrong or missing rows of item_discrimination are replaced by the rebuild."""
    from learnapp.models import ItemDiscrimination

    monkeypatch.setattr(analytics, "LIVE_RANKING_ROWS", 0)
    ids = [make_user("rep", team="North").id for _ in range(9)]
    _drill(ids, 4, random.Random(9), clock)
    analytics.all_item_stats()
    rows = db.session.scalars(db.select(ItemDiscrimination)).all()
    assert rows and any(row.discrimination is not None for row in rows)
    begin_write()
    db.session.execute(db.update(ItemDiscrimination).values(discrimination=0.5))
    db.session.execute(db.delete(ItemDiscrimination).where(ItemDiscrimination.scenario_id == rows[0].scenario_id))
    db.session.commit()
    counts = analytics.rebuild()
    assert counts["item_discrimination"] == len(rows)
    _same(analytics.all_item_stats().stats, _from_rows())
