"""Two tabs changing the day's plan at once: each change is made on the plan as it stands, none is lost.

On SQLite the write lock (BEGIN IMMEDIATE) already serialised them; PostgreSQL lets two transactions read the same
plan and write it back, the last write winning, unless the session row is locked (SELECT ... FOR UPDATE)."""

import threading
from datetime import datetime, timezone

from learnapp.extensions import db
from learnapp.models import DrillSession, Presentation, User
from learnapp.services import drill
from tests.helpers import drill_all, wrong_answer


def _in_another_tab_during(app, monkeypatch, step: str, request, *, after_calls: int = 1):
    """Run ``request`` from another connection, once, right after the main thread's ``after_calls``-th call of
    ``step``. Returns the list its result lands in and the hook (its ``thread`` to join). A request that has to wait
    for the main one's lock is waited for a second at most here, then the main request goes on and commits, and the
    other one runs after it."""
    done, results = threading.Event(), []

    def other_tab():
        try:
            with app.app_context():
                results.append(request())
                db.session.remove()
        except Exception as error:  # reported by the test's assertions, not lost in the thread
            results.append(error)
        finally:
            done.set()

    real, calls = getattr(drill, step), []

    def step_then_the_other_tab(*args, **kwargs):
        value = real(*args, **kwargs)
        if threading.current_thread() is threading.main_thread():
            calls.append(1)
        if threading.current_thread() is threading.main_thread() and len(calls) == after_calls:
            thread = threading.Thread(target=other_tab)
            thread.start()
            done.wait(timeout=1)
            step_then_the_other_tab.thread = thread
        return value

    monkeypatch.setattr(drill, step, step_then_the_other_tab)
    return results, step_then_the_other_tab


def _a_day_with_skills_falling_due_at_eight(make_user, clock):
    """A rep who answered every skill wrong at 08:00 yesterday and drilled today just after midnight: those skills fall
    due at 08:00 today. The rep, a moment before 08:00 and one after (10:00)."""
    rep = make_user("rep")
    clock.set(datetime(2026, 3, 2, 8, tzinfo=timezone.utc))
    drill_all(rep, clock, answer=wrong_answer)
    clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=timezone.utc))
    drill_all(rep, clock)
    return rep, datetime(2026, 3, 3, 7, 59, tzinfo=timezone.utc), datetime(2026, 3, 3, 10, tzinfo=timezone.utc)


def _slots_match_what_was_shown(session_id: int) -> None:
    plan = db.session.get(DrillSession, session_id).plan
    shown = db.session.scalars(db.select(Presentation).filter_by(session_id=session_id)).all()
    assert [(p.position, plan[p.position]["skill"]) for p in shown] == [(p.position, p.skill_id) for p in shown]


def test_a_round_that_fell_due_joining_in_one_tab_while_another_adds_practice_is_not_lost(app, content, make_user,
                                                                                            clock, monkeypatch):
    """Tab A asks to practise more just before 08:00; tab B opens the drill just after, when skills answered wrong at
    08:00 yesterday fell due: B adds them as a round and shows its first item. On PostgreSQL A then wrote its plan
    over B's: B's round was gone, the item on B's screen sat in a slot of A's round that named another skill (A's
    first extra skill was never shown), and a reload of the same item told the rep it was extra practice, item 1 of
    a round of a different size. Now B waits for A's plan and finds A's round to answer."""
    rep, before, after = _a_day_with_skills_falling_due_at_eight(make_user, clock)
    rep_id, session_id, planned = rep.id, drill.today_session(rep, before).id, len(drill.today_session(rep, before).plan)
    assert drill.current_item(rep, before) is None and drill.fallen_due(rep, drill.today_session(rep, after), after)
    results, hook = _in_another_tab_during(
        app, monkeypatch, "usual_answer_seconds",  # A has read the plan and is sizing its round
        lambda: drill.current_item(db.session.get(User, rep_id), after))
    added = drill.practise_more(db.session.get(User, rep_id), before)
    hook.thread.join(timeout=30)
    assert len(results) == 1 and isinstance(results[0], drill.DrillItem), results
    on_b = results[0]
    db.session.expire_all()
    _slots_match_what_was_shown(session_id)
    plan = db.session.get(DrillSession, session_id).plan
    assert added > 0 and len(plan) == planned + added  # A's round stands, B added none over it ...
    again = drill.current_item(db.session.get(User, rep_id), after)  # ... and showed A's first item: a reload agrees
    assert (again.presentation.token, again.round, again.round_total, again.fell_due) == (
        on_b.presentation.token, on_b.round, on_b.round_total, on_b.fell_due)
    _drill_to_the_end_each_slot_answered_once(rep_id, session_id, after)


def _drill_to_the_end_each_slot_answered_once(rep_id: int, session_id: int, now) -> None:
    from learnapp.models import Attempt
    from tests.helpers import right_answer

    user = db.session.get(User, rep_id)
    while (item := drill.current_item(user, now)) is not None:
        drill.submit_answer(user, item.presentation.token, right_answer(item), now)
    db.session.expire_all()
    session = db.session.get(DrillSession, session_id)
    answered = db.session.scalars(
        db.select(Presentation.position).join(Attempt, Attempt.presentation_id == Presentation.id)
        .where(Presentation.session_id == session_id)).all()
    assert sorted(answered) == list(range(len(session.plan))) and session.finished_at is not None


def test_a_slot_skipped_in_two_tabs_at_once_is_skipped_once(app, content, make_user, clock, monkeypatch):
    """The first slot's skill lost its scenarios since the day was planned: both tabs find it has nothing to show and
    skip it. Before, the slot to drop was chosen before the write lock, by position, so the second tab dropped the
    slot after it too, the very one the first tab had just shown (on SQLite as well): the item on its screen sat
    in the slot of another skill, and that skill was never shown. Now a slot is dropped only if it is still the one
    found empty."""
    from learnapp.models import Scenario

    rep = make_user("rep")
    rep_id, now = rep.id, clock.now()
    plan = drill.today_session(rep, now).plan
    session_id = drill.today_session(rep, now).id
    db.session.execute(db.update(Scenario).filter_by(skill_id=plan[0]["skill"]).values(status="retired"))
    db.session.commit()
    results, hook = _in_another_tab_during(app, monkeypatch, "_present",
                                           lambda: drill.current_item(db.session.get(User, rep_id), now))
    mine = drill.current_item(db.session.get(User, rep_id), now)
    hook.thread.join(timeout=30)
    assert len(results) == 1 and isinstance(results[0], drill.DrillItem), results
    db.session.expire_all()
    _slots_match_what_was_shown(session_id)
    assert [p["skill"] for p in db.session.get(DrillSession, session_id).plan] == [p["skill"] for p in plan[1:]]
    assert mine.presentation.token == results[0].presentation.token  # both tabs show the same item


def test_practice_added_in_one_tab_while_a_round_that_fell_due_joins_in_another_is_not_lost(app, content, make_user,
                                                                                              clock, monkeypatch):
    """The other order: tab B, opening the drill, adds the skills that fell due as a round; tab A asks to practise more
    and shows the first extra item meanwhile. On PostgreSQL B then wrote its plan over A's: A was told its round was
    added, its item sat in a slot of B's round (labelled 'Due since your drill began', item 1 of B's round), and the
    rest of A's round was gone. Now A waits for B's plan, finds B's round to answer and adds none."""
    rep, before, after = _a_day_with_skills_falling_due_at_eight(make_user, clock)
    rep_id, session_id, planned = rep.id, drill.today_session(rep, before).id, len(drill.today_session(rep, before).plan)

    def practise_more_in_tab_a():
        user = db.session.get(User, rep_id)
        return drill.practise_more(user, before), drill.current_item(user, before)

    results, hook = _in_another_tab_during(app, monkeypatch, "fallen_due", practise_more_in_tab_a,
                                           after_calls=2)  # B's second look, under its lock, before it writes
    on_b = drill.current_item(db.session.get(User, rep_id), after)
    hook.thread.join(timeout=30)
    assert len(results) == 1 and not isinstance(results[0], Exception), results
    added, on_a = results[0]
    db.session.expire_all()
    _slots_match_what_was_shown(session_id)
    plan = db.session.get(DrillSession, session_id).plan
    assert added == 0 and len(plan) > planned and {p["reason"] for p in plan[planned:]} == {"due"}
    assert (on_a.presentation.token, on_a.round_total, on_a.fell_due) == (
        on_b.presentation.token, on_b.round_total, on_b.fell_due)
    _drill_to_the_end_each_slot_answered_once(rep_id, session_id, after)
