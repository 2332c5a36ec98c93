"""Rollups kept on every answer give the same numbers as the maths on raw attempts, and a rebuild reproduces them."""

from datetime import date, datetime, timedelta, timezone

import pytest

from learnapp.domain import retention
from learnapp.extensions import db
from learnapp.models import CalibrationRollup, RepDayRollup, RetentionRollup, ItemRepRollup, ItemTimeRollup, ItemWrongRollup
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
            for model in (RetentionRollup, CalibrationRollup, RepDayRollup, ItemRepRollup, ItemTimeRollup, ItemWrongRollup)}


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
    # no day after today is due (the dashboard's today, 4ea7f3a): the range runs to 30 April, the clock is at 11 April
    today = clock.now().date()
    assert today < span.end
    assert board.participation == retention.participation(rows, [u.id for u in board.reps], span.start, today)
    everyone = dashboard.attempt_rows(None, clock.now())
    assert board.curve_org == retention.retention_curve(everyone, since=span.start)


def test_rebuild_reproduces_the_incremental_rollups(content, make_user, clock):
    _practise(make_user, clock)
    before = _snapshot()
    assert all(before.values())
    counts = rollups.rebuild(batch=100)
    assert _snapshot() == before
    answered = {row[0] for row in before["rollup_item_rep"]}  # each answered item's stored discrimination index
    assert counts == {**{name: len(rows) for name, rows in before.items()}, "item_discrimination": len(answered)}


def test_rebuild_counts_reps_without_a_team_and_drops_deleted_teams(content, make_user, clock):
    from learnapp.models import Team

    reps = _practise(make_user, clock)
    loner = make_user("trainer", team=None)  # everyone may practise: a trainer's answers count for the organisation only
    for _ in range(3):
        while (item := drill.current_item(loner, clock.now())) is not None:
            drill.submit_answer(loner, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=2))
    before = _snapshot()
    rollups.rebuild(batch=100)
    assert _snapshot() == before
    south = reps[2].team_id
    db.session.delete(db.session.get(Team, south))  # its rep has no team now: their answers stay in the organisation's rows
    db.session.commit()
    rollups.rebuild(batch=100)
    after = _snapshot()
    for table in ("rollup_retention", "rollup_calibration"):
        assert after[table] == [row for row in before[table] if row[0] != south]
    assert after["rollup_rep_day"] == before["rollup_rep_day"]


def test_an_answer_during_the_rebuild_waits_for_one_team_at_most(app, content, make_user, clock, monkeypatch):
    """Each team is its own write transaction: between two, another worker's answer goes through at once."""
    import threading

    from learnapp.models import Attempt, User

    reps = _practise(make_user, clock)
    clock.advance(timedelta(days=2))
    south_rep_id = reps[2].id
    answered = []

    def answer_in_another_worker():
        with app.app_context():
            rep = db.session.get(User, south_rep_id)
            item = drill.current_item(rep, clock.now())
            answered.append(drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now()).id)
            db.session.remove()

    real_begin_write, calls = rollups.begin_write, []

    def between_transactions(**options):
        calls.append(1)
        if len(calls) == 2:  # the first team is committed, the second not begun
            thread = threading.Thread(target=answer_in_another_worker)
            thread.start()
            thread.join(timeout=30)
        return real_begin_write(**options)

    monkeypatch.setattr(rollups, "begin_write", between_transactions)
    rollups.rebuild(batch=100)
    assert len(answered) == 1
    monkeypatch.setattr(rollups, "begin_write", real_begin_write)
    db.session.expire_all()
    once = _snapshot()
    rollups.rebuild(batch=100)
    assert _snapshot() == once  # the answer is in the rebuilt rows exactly once
    answers = sum(r.answers for r in db.session.scalars(db.select(RepDayRollup)))
    assert answers == db.session.scalar(db.select(db.func.count(Attempt.id)))


@pytest.mark.parametrize("mover", [0, 2])  # 0: a North rep moves to South after North is rebuilt; 2: South to North
def test_a_rep_moving_team_during_the_rebuild_is_counted_once(app, content, make_user, clock, monkeypatch, mover):
    from sqlalchemy import text

    reps = _practise(make_user, clock)
    organisation = [row for row in _snapshot()["rollup_retention"] if row[0] == 0]
    rep_id, target = reps[mover].id, reps[2 - mover].team_id
    real_begin_write, calls = rollups.begin_write, []

    def between_transactions(**options):
        calls.append(1)
        if len(calls) == 2:  # the first team is committed, the second not begun: an admin moves a rep meanwhile
            with db.engine.begin() as conn:
                conn.execute(text("update user_account set team_id = :t where id = :u"), {"t": target, "u": rep_id})
        return real_begin_write(**options)

    monkeypatch.setattr(rollups, "begin_write", between_transactions)
    rollups.rebuild(batch=100)
    monkeypatch.setattr(rollups, "begin_write", real_begin_write)
    db.session.expire_all()
    during = _snapshot()
    assert [row for row in during["rollup_retention"] if row[0] == 0] == organisation  # before: counted twice, or not at all
    rollups.rebuild(batch=100)
    assert _snapshot() == during  # and the teams' rows are what a quiet rebuild gives


def test_answers_after_a_timezone_change_add_to_the_rollups_as_the_rebuild_counts_them(content, make_user, clock):
    """A rep's timezone change moves their answers' days; the day each skill was learned moves with them. Before, the
    memory state kept the day learned in the old zone, so the rep's next answers were booked in the live rollups a week
    of learning apart from where the nightly rebuild put them: the team's retention curve changed overnight."""
    from learnapp.models import MemoryStateRow
    from learnapp.services.users import update_account
    from tests.helpers import drill_all

    admin = make_user("admin", team=None)
    rep = make_user("rep", team="North", timezone="Pacific/Tongatapu")  # 2 Mar 09:00 UTC is 22:00 on 2 Mar in Tonga
    assert drill_all(rep, clock) > 0
    clock.advance(timedelta(hours=1))
    update_account(rep, name=rep.name, email=rep.email, role="rep", timezone="Pacific/Honolulu", team_id=rep.team_id,
                   leads=[], active=True, by=admin, now=clock.now())  # 23:00 on 1 Mar in Honolulu: learned on 1 Mar
    learned = set(db.session.scalars(db.select(MemoryStateRow.introduced_on).filter_by(user_id=rep.id)))
    assert learned == {date(2026, 3, 1)}
    clock.set(datetime(2026, 3, 8, 20, 0, tzinfo=timezone.utc))  # 10:00 on 8 Mar in Honolulu: a week after learning
    assert drill_all(rep, clock) > 0
    weeks = set(db.session.scalars(db.select(RetentionRollup.week).where(RetentionRollup.day == date(2026, 3, 8))))
    assert weeks == {1}
    live = _snapshot()
    rollups.rebuild()
    assert _snapshot() == live
