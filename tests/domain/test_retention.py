"""Retention maths on small hand-made attempt lists, with exact expected values."""

from datetime import date, datetime, timedelta, timezone

import pytest
from fsrs import Rating

from learnapp.domain.retention import (
    AttemptRow, calibration, first_tries, forecast, inactive, one_day_training_reference, participation,
    participation_from_days, at_risk, recall_percent,
    WorkingWeek, retention_curve, streak, true_retention_by_week, weekly_from_days, working_days,
)
from learnapp.domain.scheduling import forgetting_curve, make_scheduler, review

D0 = date(2026, 3, 2)  # a Monday


def row(user, skill, day_offset, correct, hour=9, recall=None, ms=20_000):
    day = D0 + timedelta(days=day_offset)
    return AttemptRow(user, skill, datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc), day, correct,
                      recall, ms)


ROWS = [
    row(1, "a", 0, False),            # learning day: not a retention measure
    row(1, "a", 0, True, hour=10),
    row(1, "a", 2, True),             # week 0, first try of the day
    row(1, "a", 2, False, hour=10),   # second try that day: ignored
    row(1, "a", 9, False),            # week 1
    row(2, "a", 1, True),             # rep 2 learns on day 1
    row(2, "a", 8, True),             # week 1 for rep 2
    row(2, "b", 3, True),             # learning
    row(2, "b", 20, True),            # week 2
]


def test_first_tries_skip_the_learning_day_and_repeats():
    tries = [(r.user_id, r.skill_id, (r.day - D0).days, learned) for r, learned in first_tries(ROWS)]
    assert tries == [(1, "a", 2, D0), (2, "a", 8, D0 + timedelta(days=1)), (1, "a", 9, D0),
                     (2, "b", 20, D0 + timedelta(days=3))]


def test_retention_curve_by_week_since_learning():
    curve = retention_curve(ROWS, max_week=3)
    assert [(p.x, p.n, p.value) for p in curve] == [(0, 1, 1.0), (1, 2, 0.5), (2, 1, 1.0), (3, 0, None)]


def test_true_retention_by_calendar_week():
    weeks = true_retention_by_week(ROWS)
    assert [(p.x, p.n, p.value) for p in weeks] == [(D0, 1, 1.0), (D0 + timedelta(days=7), 2, 0.5),
                                                    (D0 + timedelta(days=14), 1, 1.0)]


def test_weekly_points_stop_at_the_viewers_week():
    # a rep already in Monday 9 March while the viewer is on Sunday 8 March: that week has not begun for the viewer
    by_day = {date(2026, 3, 4): (2, 1), date(2026, 3, 8): (1, 1), date(2026, 3, 9): (3, 3)}
    assert [(p.x, p.n) for p in weekly_from_days(by_day)] == [(date(2026, 3, 2), 3), (date(2026, 3, 9), 3)]
    assert [(p.x, p.n, p.value) for p in weekly_from_days(by_day, last_week=date(2026, 3, 2))] == [(date(2026, 3, 2), 3, 2 / 3)]


def test_reference_training_curve_fades_to_near_baseline_within_eight_weeks():
    ref = one_day_training_reference()
    assert ref[0].value == pytest.approx(0.85)
    assert ref[8].value - 0.59 < 0.05 * (0.85 - 0.59) + 1e-9
    assert all(a.value > b.value for a, b in zip(ref, ref[1:]))


def test_calibration_bins_compare_predicted_with_actual():
    rows = [row(1, "a", 1, True, recall=0.95), row(1, "a", 2, False, recall=0.91), row(1, "a", 3, True, recall=0.55),
            row(1, "a", 4, True, recall=None)]
    bins = {(round(b.low, 1), b.n): (b.predicted, b.actual) for b in calibration(rows) if b.n}
    assert bins == {(0.9, 2): (pytest.approx(0.93), 0.5), (0.5, 1): (pytest.approx(0.55), 1.0)}


def test_participation_counts_days_and_minutes():
    result = participation(ROWS, [1, 2, 3], D0, D0 + timedelta(days=13))
    by_user = {p.user_id: p for p in result}
    assert (by_user[1].days_drilled, by_user[1].working_days) == (3, 10)
    assert by_user[1].minutes_per_day == pytest.approx(5 * 20 / 60 / 3)
    assert by_user[2].days_drilled == 3 and by_user[2].last_day == D0 + timedelta(days=8)  # day 20 is after the range
    assert (by_user[3].days_drilled, by_user[3].share, by_user[3].last_day) == (0, 0.0, None)


def test_a_rep_who_joined_mid_range_is_measured_from_the_day_they_joined():
    start, end = D0 - timedelta(weeks=12), D0 + timedelta(days=13)  # 12 weeks before rep 1 existed, then two weeks
    result = participation(ROWS, [1, 2], start, end, starts={1: D0})
    by_user = {p.user_id: p for p in result}
    assert (by_user[1].days_drilled, by_user[1].working_days, by_user[1].counted_from) == (3, 10, D0)
    assert by_user[1].share == pytest.approx(0.3)  # not 3 of 70
    assert (by_user[2].working_days, by_user[2].counted_from) == (70, start)  # no start given: the whole range


def test_a_rep_who_joined_after_the_range_has_no_working_days_due_and_vacations_still_come_off():
    millis = {(1, D0 + timedelta(days=7)): 60_000, (1, D0 + timedelta(days=9)): 60_000}
    away = {1: {D0 + timedelta(days=8)}}  # Tuesday of the second week
    (rep,) = participation_from_days(millis, [1], D0, D0 + timedelta(days=13), away=away, starts={1: D0 + timedelta(days=7)})
    assert (rep.days_drilled, rep.working_days) == (2, 4)
    (late,) = participation_from_days({}, [1], D0, D0 + timedelta(days=4), starts={1: D0 + timedelta(days=30)})
    assert (late.days_drilled, late.working_days, late.share) == (0, 0, 0.0)


def test_inactive_means_no_drill_in_the_last_seven_working_days():
    today = date(2026, 3, 20)  # a Friday; seven working days back starts on Wed 12 March
    last = {1: date(2026, 3, 12), 2: date(2026, 3, 11), 3: None}
    assert inactive(last, today) == [2, 3]
    assert working_days(date(2026, 3, 12), today)[0] == date(2026, 3, 12)


def test_forecast_stopping_decays_and_going_on_holds():
    scheduler = make_scheduler(0.9)
    now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    states = [review(None, "a", Rating.Good, now - timedelta(days=1), scheduler),
              review(None, "b", Rating.Good, now - timedelta(days=2), scheduler)]
    days = forecast(states, now, scheduler, days=30)
    assert days[0][2] == days[0][1]  # day 0 is now, before any practice
    assert days[30][1] == pytest.approx(0.6628904368634467) and days[30][2] == pytest.approx(0.9502955987919111)
    assert all(a[1] >= b[1] for a, b in zip(days, days[1:]))
    assert forecast([], now, scheduler, days=2) == [(0, None, None), (1, None, None), (2, None, None)]


def test_the_forecasts_two_lines_start_together_from_today():
    """Day 0 is the instant now, before anyone practises: both lines are the team's recall now. The "goes on" line
    counted every overdue skill as reviewed and answered right at that very instant (the demo's Field Sales North:
    32 of 108 skills overdue, 92.0% if practice stops against 96.4% if it goes on, on day 0)."""
    scheduler = make_scheduler(0.9)
    now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    curve = forgetting_curve(scheduler)
    overdue = review(None, "a", Rating.Good, now - timedelta(days=20), scheduler)  # due about 17 days ago
    due_tonight = review(None, "b", Rating.Good, now - timedelta(days=2) + timedelta(hours=10), scheduler)
    assert overdue.due < now < due_tonight.due < now + timedelta(days=1)
    days = forecast([overdue, due_tonight], now, scheduler, days=2)
    recall_now = (curve(overdue, now) + curve(due_tonight, now)) / 2
    assert days[0] == (0, pytest.approx(recall_now), pytest.approx(recall_now))
    # from day 1 on, the overdue skill was reviewed today (now) and the other at its due time tonight, both answered right
    tomorrow = now + timedelta(days=1)
    reviewed = [review(overdue, "a", Rating.Good, now, scheduler), review(due_tonight, "b", Rating.Good, due_tonight.due, scheduler)]
    assert days[1][2] == pytest.approx(sum(curve(s, tomorrow) for s in reviewed) / 2)
    assert days[1][1] == pytest.approx((curve(overdue, tomorrow) + curve(due_tonight, tomorrow)) / 2)
    assert days[1][1] < days[1][2]


def test_retention_curve_since_a_day_keeps_learning_days_from_history():
    curve = retention_curve(ROWS, max_week=2, since=D0 + timedelta(days=8))
    assert [(p.x, p.n, p.value) for p in curve] == [(0, 0, None), (1, 2, 0.5), (2, 1, 1.0)]


def test_the_forecasts_forgetting_curve_is_recall_now_and_fsrs_retrievability_on_whole_days():
    """The forecast's day 0 counted whole days (100% for a skill practised last evening) while the heat map did not."""
    from learnapp.domain.scheduling import forgetting_curve, predicted_recall, recall_now

    for retention_target in (0.8, 0.9, 0.95):
        scheduler = make_scheduler(retention_target)
        curve = forgetting_curve(scheduler)
        now = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
        state = review(review(None, "a", Rating.Good, now, scheduler), "a", Rating.Again, now + timedelta(days=3), scheduler)
        for days in (0, 1, 2, 7, 30, 400):
            whole = now + timedelta(days=3 + days)  # whole days after the last review
            assert curve(state, whole) == pytest.approx(predicted_recall(state, whole, scheduler), rel=1e-12)
            between = whole + timedelta(hours=5)
            assert curve(state, between) == pytest.approx(recall_now(state, between, scheduler), rel=1e-12)
            assert curve(state, between) < curve(state, whole)
        morning = now + timedelta(days=3, hours=14)  # 14 hours after the failed review: the forecast's day 0
        (day0, stopped, _), *_ = forecast([state], morning, scheduler, days=1)
        assert day0 == 0 and stopped < 0.95 and predicted_recall(state, morning, scheduler) == 1.0


def test_a_streak_counts_days_drilled_back_from_today_or_yesterday():
    days = {D0 + timedelta(days=i) for i in (0, 1, 2, 3)}  # Monday to Thursday
    assert streak(days, D0 + timedelta(days=3)) == 4
    assert streak(days, D0 + timedelta(days=4)) == 4  # Friday, not drilled yet: the streak is still on
    assert streak(days, D0 + timedelta(days=7)) == 0  # Friday went by without a drill (Monday the 9th now)
    assert streak(set(), D0) == 0


def test_weekends_and_vacations_pause_a_streak_without_ending_it():
    drilled = {D0 + timedelta(days=i) for i in (0, 1, 2, 3, 4)}  # Monday 2 to Friday 6 March
    drilled |= {D0 + timedelta(days=7 + 14)}  # back on Monday 23 March after a two-week vacation
    away = {D0 + timedelta(days=i) for i in range(7, 21)}  # 9 to 22 March
    today = D0 + timedelta(days=21)
    assert streak(drilled, today, away) == 6
    assert streak(drilled, today) == 1  # without the vacation, the missed working days end it
    weekend = drilled | {D0 + timedelta(days=5)}  # a drill on Saturday counts
    assert streak(weekend, today, away) == 7


@pytest.mark.parametrize("recall, shown, risky", [
    (0.6984, 69, True),   # rounded it showed "70" while counted under 70%
    (0.69999, 69, True), (0.7, 70, False), (0.29, 29, True), (0.8961, 89, False), (0.9042, 90, False),
    (0.996, 99, False),   # not "100%" unless certain
    (1.0, 100, False), (0.0, 0, True),
])
def test_the_shown_percent_and_the_at_risk_rule_agree(recall, shown, risky):
    assert (recall_percent(recall), at_risk(recall)) == (shown, risky)


def test_every_recall_shown_under_70_is_at_risk_and_no_other():
    for i in range(100_001):
        recall = i / 100_000
        assert at_risk(recall) == (recall_percent(recall) < 70) == (recall < 0.7), recall


def test_each_rep_is_measured_against_their_own_working_days():
    """A rep working Tuesday to Saturday was measured Monday to Friday: Mondays missed, Saturdays not counted."""
    tue_to_sat = (1, 2, 3, 4, 5)
    days = [D0 + timedelta(days=d) for d in range(1, 6)]  # Tue 3 to Sat 7 March
    millis = {(u, day): 60_000 for u in (1, 2) for day in days}
    shift, office = participation_from_days(millis, [1, 2], D0, D0 + timedelta(days=6), weekdays_of={1: tue_to_sat})
    assert (shift.days_drilled, shift.working_days, shift.share) == (5, 5, 1.0)
    assert (office.days_drilled, office.working_days) == (4, 5)  # Monday missed; Saturday welcome but not a working day
    # the streak of the Tuesday-to-Saturday rep: Sunday and Monday are days off and pause it
    drilled = set(days) | {D0 + timedelta(days=8)}  # and Tuesday 10 March
    assert streak(drilled, D0 + timedelta(days=8), weekdays=tue_to_sat) == 6
    assert streak(drilled, D0 + timedelta(days=8)) == 1  # Monday to Friday: Monday 9 March broke it


def test_a_change_of_working_days_counts_from_its_day_and_earlier_days_keep_the_old_ones():
    """A rep moved from Monday-Friday to Tuesday-Saturday on Monday 9 March: the week before is still counted Monday
    to Friday (its Monday drilled counts, its Saturday is no missed day), the week after Tuesday to Saturday."""
    week = WorkingWeek((0, 1, 2, 3, 4), ((D0 + timedelta(days=7), (1, 2, 3, 4, 5)),))
    assert [week.works_on(D0 + timedelta(days=d)) for d in (0, 5, 7, 12)] == [True, False, False, True]
    assert week.weekdays_on(D0 - timedelta(days=30)) == (0, 1, 2, 3, 4)  # before the first change: its "before"
    assert len(working_days(D0, D0 + timedelta(days=13), week)) == 10
    drilled = {D0 + timedelta(days=d) for d in (0, 1, 2, 3, 4, 8, 9, 10, 11, 12)}  # Mon-Fri, then Tue-Sat
    rep, = participation_from_days({(1, day): 60_000 for day in drilled}, [1], D0, D0 + timedelta(days=13),
                                   weekdays_of={1: week})
    assert (rep.days_drilled, rep.working_days) == (10, 10)
    assert streak(drilled, D0 + timedelta(days=13), weekdays=week) == 10  # Sat 7, Sun 8 and Mon 9 March were days off
    # the same drills against only the new days, as before the change was dated: two missed days, one not counted
    rep, = participation_from_days({(1, day): 60_000 for day in drilled}, [1], D0, D0 + timedelta(days=13),
                                   weekdays_of={1: (1, 2, 3, 4, 5)})
    assert (rep.days_drilled, rep.working_days) == (9, 10)
    # two changes: the days in force on each day are those of the latest change on or before it
    twice = WorkingWeek((0, 1, 2, 3, 4), ((D0 + timedelta(days=7), (5, 6)), (D0 + timedelta(days=14), (0,))))
    assert [twice.weekdays_on(D0 + timedelta(days=d)) for d in (6, 7, 13, 14, 40)] == [
        (0, 1, 2, 3, 4), (5, 6), (5, 6), (0,), (0,)]


def test_a_change_of_working_days_can_be_dated_before_between_or_after_the_others():
    mon_fri, tue_sat, mon_wed_fri = (0, 1, 2, 3, 4), (1, 2, 3, 4, 5), (0, 2, 4)
    week = WorkingWeek(mon_fri).changed(D0 + timedelta(days=8), tue_sat)  # from Tuesday 10 March
    assert week.changes == ((D0 + timedelta(days=8), tue_sat),)
    assert week.changed(D0 + timedelta(days=8), mon_fri) == WorkingWeek(mon_fri)  # back to what it was: undone
    assert week.changed(D0 + timedelta(days=8), tue_sat) == week  # the same again: nothing changes
    # dated earlier, to the same days: "he moved on the 3rd, not the 10th" absorbs the later change
    assert week.changed(D0 + timedelta(days=1), tue_sat).changes == ((D0 + timedelta(days=1), tue_sat),)
    # dated between two changes: from then on, the later one replaced
    between = week.changed(D0 + timedelta(days=3), mon_wed_fri)
    assert between.changes == ((D0 + timedelta(days=3), mon_wed_fri),)
    assert [between.weekdays_on(D0 + timedelta(days=d)) for d in (2, 3, 8, 40)] == [mon_fri, mon_wed_fri, mon_wed_fri, mon_wed_fri]
    # one to come, after the others: they stay
    later = week.changed(D0 + timedelta(days=30), mon_fri)
    assert later.changes == ((D0 + timedelta(days=8), tue_sat), (D0 + timedelta(days=30), mon_fri))


def test_team_stints_follow_moves_in_and_out_of_a_team():
    from datetime import date as d

    from learnapp.domain.retention import stint_bounds, team_stints

    north, south = 1, 2
    moves = [(d(2026, 3, 9), north, south), (d(2026, 3, 16), south, north), (d(2026, 3, 23), north, None)]
    assert team_stints(moves, north) == [(None, d(2026, 3, 8)), (d(2026, 3, 16), d(2026, 3, 22))]
    assert team_stints(moves, south) == [(d(2026, 3, 9), d(2026, 3, 15))]
    assert team_stints(moves, 3) == []
    assert team_stints([(d(2026, 3, 9), None, north)], north) == [(d(2026, 3, 9), None)]  # still there
    # in and out on one day: no span; a no-op move changes nothing
    assert team_stints([(d(2026, 3, 9), south, north), (d(2026, 3, 9), north, south)], north) == []
    assert team_stints([(d(2026, 3, 9), north, north)], north) == []

    start, end, gaps = stint_bounds(team_stints(moves, north), d(2026, 3, 2), None)
    assert (start, end) == (d(2026, 3, 2), d(2026, 3, 22)) and gaps == {d(2026, 3, 9) + timedelta(days=i) for i in range(7)}
    # a leaver's own last day stands when it comes first; no stints: the rep's own bounds
    assert stint_bounds([(d(2026, 3, 9), None)], d(2026, 3, 2), d(2026, 3, 20)) == (d(2026, 3, 9), d(2026, 3, 20), set())
    assert stint_bounds([], d(2026, 3, 2), None) == (d(2026, 3, 2), None, set())


def test_first_day_in_team_is_the_first_day_the_dashboards_count_there():
    from datetime import date as d

    from learnapp.domain.retention import first_day_in_team

    north, south = 1, 2
    joined = d(2026, 3, 2)
    moves = [(d(2026, 3, 9), north, south), (d(2026, 3, 16), south, north)]
    assert first_day_in_team(moves, north, joined) == joined  # made in it
    assert first_day_in_team(moves, south, joined) == d(2026, 3, 9)  # moved in
    assert first_day_in_team(moves, 3, joined) is None  # never there by its moves
    # in and out on one day, or out on the day they joined and never back: no day there
    assert first_day_in_team([(d(2026, 3, 9), south, north), (d(2026, 3, 9), north, south)], north, joined) is None
    assert first_day_in_team([(joined, north, south)], north, joined) is None
    # out on the day they joined, back a week later: from the day they came back
    assert first_day_in_team([(joined, north, south), (d(2026, 3, 9), south, north)], north, joined) == d(2026, 3, 9)


def test_a_leavers_last_drill_is_their_last_drill_even_on_the_day_they_left():
    """Deactivated the day they drilled: that day is not counted (they left on it), yet it was their last drill
    (exploratory test: "Last drill" went back to the drill before)."""
    from learnapp.domain.retention import participation_from_days

    millis = {(1, date(2026, 3, 3)): 60_000, (1, date(2026, 3, 5)): 60_000}
    (p,) = participation_from_days(millis, [1], date(2026, 3, 2), date(2026, 3, 13), ends={1: date(2026, 3, 4)})
    assert (p.days_drilled, p.working_days, p.counted_until, p.last_day) == (1, 3, date(2026, 3, 4), date(2026, 3, 5))
