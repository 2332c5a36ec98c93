"""Rollups kept on every answer give the same numbers as the maths on raw attempts, and a rebuild reproduces them."""

from datetime import date, datetime, timedelta, timezone

import pytest

from learnapp.domain import retention
from learnapp.extensions import db
from learnapp.models import CalibrationRollup, RepDayRollup, RetentionRollup
from learnapp.services import dashboard, drill, rollups
from tests.helpers import right_answer, wrong_answer


def _practise(make_user, clock):
    reps = [make_user("rep", team="North", timezone="America/New_York"), make_user("rep", team="North"),
            make_user("rep", team="South")]
    for day in range(40):
        for i, rep in enumerate(reps):
            if (day + i) % 3 == 0:
                continue
            while (item := drill.current_item(rep, clock.now())) is not None:
                clock.advance(timedelta(seconds=20 + 7 * i))
                answer = wrong_answer if (day * 7 + i + item.position) % 4 == 0 else right_answer
                drill.submit_answer(rep, item.presentation.token, answer(item), clock.now())
        clock.set(datetime(2026, 3, 2, 9 + day % 5, tzinfo=timezone.utc) + timedelta(days=day + 1))
    return reps


def _snapshot():
    return {model.__tablename__: sorted(tuple(getattr(r, c.name) for c in model.__table__.columns if c.name != "predicted")
                                        + (round(getattr(r, "predicted", 0.0), 9),)
                                        for r in db.session.scalars(db.select(model)))
            for model in (RetentionRollup, CalibrationRollup, RepDayRollup)}


def test_rollup_dashboard_matches_the_maths_on_raw_attempts(content, make_user, clock):
    reps = _practise(make_user, clock)
    team = reps[0].team
    span = dashboard.DateRange(date(2026, 3, 2), date(2026, 4, 30))
    board = dashboard.team_dashboard(team, span, clock.now())
    rows = dashboard.attempt_rows([r.id for r in reps[:2]], clock.now())
    assert board.curve_team == retention.retention_curve(rows, since=span.start)
    assert sum(p.n for p in board.curve_team) > 20
    assert board.weekly == retention.true_retention_by_week(rows)
    expected = retention.calibration(rows)
    assert [(b.n, b.actual) for b in board.calibration] == [(b.n, b.actual) for b in expected]
    assert [b.predicted for b in board.calibration] == [pytest.approx(b.predicted) if b.n else None for b in expected]
    assert board.participation == retention.participation(rows, [u.id for u in board.reps], span.start, span.end)
    everyone = dashboard.attempt_rows(None, clock.now())
    assert board.curve_org == retention.retention_curve(everyone, since=span.start)


def test_rebuild_reproduces_the_incremental_rollups(content, make_user, clock):
    _practise(make_user, clock)
    before = _snapshot()
    assert all(before.values())
    counts = rollups.rebuild(batch=100)
    assert _snapshot() == before
    assert counts == {name: len(rows) for name, rows in before.items()}
