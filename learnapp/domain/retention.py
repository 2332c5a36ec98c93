"""Retention maths on plain rows: curves, true retention, calibration, participation, forecasts.

Pure: the service layer passes lists of AttemptRow and MemoryState; nothing here reads a database.
"Retention" is measured (answers), "predicted recall" is the model's (FSRS retrievability); the
calibration table compares the two so anyone can see whether the model is honest.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping, Sequence

from fsrs import Rating, Scheduler

from learnapp.domain.clock import ensure_utc
from learnapp.domain.scheduling import MemoryState, forgetting_curve, review

MAX_WEEK = 26
AT_RISK_RECALL = 0.7
AT_RISK_PERCENT = 70


def recall_percent(recall: float) -> int:
    """A predicted recall as the whole percent people are shown: rounded down.

    Rounded down so that the shown number and the at-risk rule never disagree: 0.6984 shows as 69
    and is at risk (rounded it would show 70 and still be counted under 70%), and only a certain
    recall shows as 100. at_risk() and the heat map's colours use this same number.
    """
    return max(0, min(100, math.floor(recall * 100 + 1e-9)))  # 1e-9: 0.29 * 100 is 28.999999999999996


def at_risk(recall: float) -> bool:
    """Whether a predicted recall is under the at-risk line (70%), judged on the number shown."""
    return recall_percent(recall) < AT_RISK_PERCENT


@dataclass(frozen=True)
class AttemptRow:
    """What the maths needs of one attempt; ``day`` is the rep's local calendar day."""

    user_id: int
    skill_id: str
    answered_at: datetime
    day: date
    correct: bool
    predicted_recall: float | None = None
    duration_ms: int = 0


@dataclass(frozen=True)
class Point:
    """One point of a curve: x (a week number or a date), how many answers, and the share right (None if none)."""

    x: int | date
    n: int
    value: float | None


def first_tries(rows: Iterable[AttemptRow]) -> list[tuple[AttemptRow, date]]:
    """The first answer per rep, skill and day, after the day the skill was first learned, with that first day.

    The learning day itself is excluded: an answer on the day a skill is met measures learning, not retention.
    """
    first_day: dict[tuple[int, str], date] = {}
    seen: set[tuple[int, str, date]] = set()
    result = []
    for row in sorted(rows, key=lambda r: (r.answered_at, r.user_id, r.skill_id)):
        key = (row.user_id, row.skill_id)
        learned = first_day.setdefault(key, row.day)
        if row.day <= learned or (row.user_id, row.skill_id, row.day) in seen:
            continue
        seen.add((row.user_id, row.skill_id, row.day))
        result.append((row, learned))
    return result


def retention_week(learned: date | None, previous_day: date | None, day: date) -> int | None:
    """The weeks-since-learned bucket of one answer if it counts for retention, else None.

    It counts when it is the rep's first answer on that skill that day (``previous_day`` is the day
    of their answer before it) and the skill was learned on an earlier day. Same rule as first_tries().
    """
    if learned is None or day <= learned or previous_day == day:
        return None
    return (day - learned).days // 7


def calibration_bin(recall: float | None, bins: int = 10) -> int | None:
    """The equal-width bin of a predicted recall, as calibration() uses; None without a prediction."""
    return None if recall is None else min(bins - 1, int(recall * bins))


def retention_curve(rows: Iterable[AttemptRow], max_week: int = MAX_WEEK, since: date | None = None) -> list[Point]:
    """Share of first tries answered right, by whole weeks since the skill was first learned (0..max_week).

    Week 0 holds days 1-6 after learning, week 1 days 7-13, and so on. With ``since``, only tries
    from that day on count, while learning days still come from the whole history given.
    """
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for row, learned in first_tries(rows):
        if since is None or row.day >= since:
            bucket = counts[(row.day - learned).days // 7]
            bucket[0] += 1
            bucket[1] += row.correct
    return curve_from_counts(counts, max_week)


def curve_from_counts(counts: Mapping[int, Sequence[int]], max_week: int = MAX_WEEK) -> list[Point]:
    """Points for weeks 0..max_week from (first tries, right) per week."""
    points = []
    for week in range(max_week + 1):
        n, right = counts.get(week, (0, 0))
        points.append(Point(week, n, right / n if n else None))
    return points


def week_start(day: date) -> date:
    """The Monday of the day's ISO week."""
    return day - timedelta(days=day.weekday())


def true_retention_by_week(rows: Iterable[AttemptRow]) -> list[Point]:
    """By calendar week: the share right of first reviews per day of skills learned at least a day earlier."""
    by_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for row, _learned in first_tries(rows):
        by_day[row.day][0] += 1
        by_day[row.day][1] += row.correct
    return weekly_from_days(by_day)


def weekly_from_days(by_day: Mapping[date, Sequence[int]], last_week: date | None = None) -> list[Point]:
    """Calendar-week points from (first reviews, right) per day.

    ``last_week`` (a Monday) is the last week shown: the viewer's own week. Each rep's days are their local days, so
    on a Sunday a rep east of the viewer, already in Monday, has answers in a week that has not begun for the viewer;
    they join the curve when the viewer's week begins, rather than adding a point dated in the viewer's future.
    """
    counts: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, (n, right) in by_day.items():
        if last_week is not None and week_start(day) > last_week:
            continue
        counts[week_start(day)][0] += n
        counts[week_start(day)][1] += right
    return [Point(week, n, right / n) for week, (n, right) in sorted(counts.items()) if n]


def one_day_training_reference(max_week: int = MAX_WEEK, baseline: float = 0.55, peak: float = 0.85,
                               residue: float = 0.04, weeks_to_fade: float = 8.0) -> list[Point]:
    """A model (not data) of a one-day training: recall starts at ``peak`` and falls back towards a
    baseline slightly above the one before the event within about ``weeks_to_fade`` weeks."""
    tau = weeks_to_fade / 3  # after three time constants 95% of the gain is gone
    floor = baseline + residue
    return [Point(w, 0, floor + (peak - floor) * math.exp(-w / tau)) for w in range(max_week + 1)]


@dataclass(frozen=True)
class CalibrationBin:
    low: float
    high: float
    n: int
    predicted: float | None  # mean predicted recall in the bin
    actual: float | None  # share answered right


def calibration(rows: Iterable[AttemptRow], bins: int = 10) -> list[CalibrationBin]:
    """Predicted recall against what reps answered, in equal-width bins over [0, 1]."""
    sums: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    for row in rows:
        i = calibration_bin(row.predicted_recall, bins)
        if i is not None:
            sums[i][0] += 1
            sums[i][1] += row.correct
            sums[i][2] += row.predicted_recall
    return calibration_from_counts(sums, bins)


def calibration_from_counts(sums: Mapping[int, Sequence[float]], bins: int = 10) -> list[CalibrationBin]:
    """Bins from (answers, right, sum of predicted recall) per bin."""
    result = []
    for i in range(bins):
        n, right, predicted = sums.get(i, (0, 0, 0.0))
        result.append(CalibrationBin(i / bins, (i + 1) / bins, int(n), predicted / n if n else None,
                                     right / n if n else None))
    return result


@dataclass(frozen=True)
class WorkingWeek:
    """The weekdays a rep works (Monday 0), as their manager changed them over time.

    ``changes`` holds (first day, weekdays from that day on), oldest first; days before the first change
    keep ``before``. A rep whose days never changed has no changes, and ``before`` holds for every day,
    so a change made today leaves every earlier week counted as it was.
    """

    before: tuple[int, ...] = (0, 1, 2, 3, 4)
    changes: tuple[tuple[date, tuple[int, ...]], ...] = ()

    def weekdays_on(self, day: date) -> tuple[int, ...]:
        weekdays = self.before
        for since, changed in self.changes:
            if day < since:
                break
            weekdays = changed
        return weekdays

    def works_on(self, day: date) -> bool:
        return day.weekday() in self.weekdays_on(day)

    def changed(self, since: date, weekdays: Sequence[int]) -> WorkingWeek:
        """This week with ``weekdays`` worked from ``since`` on: changes from that day on are replaced. Changes that
        no longer change anything are dropped, so setting the days back to what they were undoes a change."""
        periods = [(day, days) for day, days in self.changes if day < since] + [(since, tuple(sorted(set(weekdays))))]
        kept, current = [], self.before
        for day, days in periods:
            if days != current:
                kept.append((day, days))
                current = days
        return WorkingWeek(self.before, tuple(kept))


Weekdays = Sequence[int] | WorkingWeek  # the same weekdays every week, or a rep's WorkingWeek


def _week(weekdays: Weekdays) -> WorkingWeek:
    return weekdays if isinstance(weekdays, WorkingWeek) else WorkingWeek(tuple(weekdays))


def working_days(start: date, end: date, weekdays: Weekdays = (0, 1, 2, 3, 4)) -> list[date]:
    """The working days from start to end inclusive (Monday-Friday unless told otherwise)."""
    week = _week(weekdays)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)
            if week.works_on(start + timedelta(days=i))]


def streak(drilled: set[date], today: date, away: set[date] = frozenset(), weekdays: Weekdays = (0, 1, 2, 3, 4)) -> int:
    """Consecutive days drilled, counted back from today (from yesterday while today is not drilled yet).

    Only a working day without a drill ends the streak: weekends and vacation days pause it (a drill on
    one still counts), so a rep back from two weeks away keeps the streak they left with.
    """
    if not drilled:
        return 0
    week = _week(weekdays)
    first = min(drilled)
    day = today if today in drilled else today - timedelta(days=1)
    count = 0
    while day >= first:
        if day in drilled:
            count += 1
        elif week.works_on(day) and day not in away:
            break
        day -= timedelta(days=1)
    return count


@dataclass(frozen=True)
class Participation:
    user_id: int
    days_drilled: int
    working_days: int
    minutes_per_day: float  # average minutes on the days drilled
    last_day: date | None
    counted_from: date | None = None  # the first day counted: the range's start, or the rep's start if later
    counted_until: date | None = None  # the last day counted: the range's end, or the day before the rep left if earlier

    @property
    def share(self) -> float:
        return self.days_drilled / self.working_days if self.working_days else 0.0


def participation(rows: Iterable[AttemptRow], user_ids: Iterable[int], start: date, end: date,
                  weekdays: Weekdays = (0, 1, 2, 3, 4), starts: Mapping[int, date] | None = None) -> list[Participation]:
    """Working days drilled out of working days, and minutes per drilled day, per rep, between start and end.

    A drill on a day off is welcome but does not count as a working day drilled, so the share stays at most 1.
    ``starts`` as in participation_from_days().
    """
    millis: dict[tuple[int, date], int] = defaultdict(int)
    for row in rows:
        millis[(row.user_id, row.day)] += row.duration_ms
    return participation_from_days(millis, user_ids, start, end, weekdays, starts=starts)


def participation_from_days(millis: Mapping[tuple[int, date], int], user_ids: Iterable[int], start: date, end: date,
                            weekdays: Weekdays = (0, 1, 2, 3, 4),
                            away: Mapping[int, set[date]] | None = None,
                            starts: Mapping[int, date] | None = None,
                            weekdays_of: Mapping[int, Weekdays] | None = None,
                            ends: Mapping[int, date] | None = None) -> list[Participation]:
    """Participation from milliseconds spent per (rep, day drilled); days after ``end`` are ignored.

    ``away`` holds each rep's vacation days: they are not working days for that rep. ``starts`` holds
    each rep's first day (the day they joined): a rep's working days count from the later of ``start``
    and that day, so a rep who joined mid-range is not measured against days before they existed.
    ``weekdays_of`` gives a rep their own working weekdays (Tuesday to Saturday, say, or a WorkingWeek
    whose days changed during the range) instead of ``weekdays``. ``ends`` holds the last day of a rep who
    left (the day before they were deactivated): no working day after it is due.
    """
    starts = starts or {}
    ends = ends or {}
    away = away or {}
    weeks = {u: _week(w) for u, w in (weekdays_of or {}).items()}
    everyone = _week(weekdays)
    days: dict[int, set[date]] = defaultdict(set)
    spent: dict[int, int] = defaultdict(int)
    last: dict[int, date] = {}
    for (user, day), ms in millis.items():
        if day > end:
            continue
        last[user] = max(last.get(user, day), day)  # their last drill, also one after the last day counted
        if day > ends.get(user, end):
            continue
        if max(start, starts.get(user, start)) <= day and weeks.get(user, everyone).works_on(day):
            days[user].add(day)
            spent[user] += ms
    result = []
    for u in user_ids:
        since, until = max(start, starts.get(u, start)), min(end, ends.get(u, end))
        due = set(working_days(since, until, weeks.get(u, everyone))) - away.get(u, set())
        drilled = days[u] - away.get(u, set())
        result.append(Participation(u, len(drilled), len(due), spent[u] / 60000 / len(days[u]) if days[u] else 0.0,
                                    last.get(u), since, until))
    return result


Stint = tuple[date | None, date | None]  # first and last day in a team; None: since they joined, or still there


def team_stints(moves: Iterable[tuple[date, int | None, int | None]], team_id: int) -> list[Stint]:
    """The spans someone belonged to a team, from their moves (day, from team, to team) in the order made.

    A move's day is the first day in the new team. Before a first move out of the team they were in it since
    they joined (start None); after the last move into it they are still there (end None). Moved in and out
    on one day: no span. No move involving the team: no span (their present team alone says where they are).
    """
    stints: list[Stint] = []
    start: date | None = None
    inside = None  # unknown until the first move involving the team
    for day, from_team, to_team in moves:
        if from_team == to_team:
            continue
        if from_team == team_id and inside is not False:
            if start is None or start <= day - timedelta(days=1):
                stints.append((start, day - timedelta(days=1)))
            inside, start = False, None
        elif to_team == team_id:
            inside, start = True, day
    if inside:
        stints.append((start, None))
    return stints


def stint_bounds(stints: list[Stint], first: date, last: date | None) -> tuple[date, date | None, set[date]]:
    """A rep's first and last day counted for a team (their own ``first`` and ``last``, narrowed by their stints in
    it) and the days between two stints (in another team then: not due here). No stints: ``first`` and ``last``."""
    if not stints:
        return first, last, set()
    # a stint over before their first day (moved out on the day they joined, and back later) counts no day
    stints = [s for s in stints if s[1] is None or s[1] >= first] or [(first, first - timedelta(days=1))]
    start, end = stints[0][0], stints[-1][1]
    gaps: set[date] = set()
    for (_, before_end), (after_start, _) in zip(stints, stints[1:]):
        day = before_end + timedelta(days=1)
        while day < after_start:
            gaps.add(day)
            day += timedelta(days=1)
    start = first if start is None else max(first, start)
    end = last if end is None else (end if last is None else min(last, end))
    return start, end, gaps


def first_day_in_team(moves: Iterable[tuple[date, int | None, int | None]], team_id: int, joined: date) -> date | None:
    """Someone's first day counted in a team that their moves (day, from team, to team, in the order made) involve, as the
    dashboards count it (team_stints narrowed by stint_bounds to their days from ``joined``, the day their account was
    made): ``joined`` when they were made in it, else the day of their first move into it. None when no day of theirs
    counts there (moved in and out on one day; moved out on the day they joined, never back)."""
    stints = team_stints(moves, team_id)
    if not stints:
        return None
    start, end, _ = stint_bounds(stints, joined, None)
    return start if end is None or end >= start else None


def inactive(last_days: dict[int, date | None], today: date, working: int = 7) -> list[int]:
    """Reps with no drill in the last ``working`` working days (today included)."""
    recent = working_days(today - timedelta(days=working * 2 + 7), today)[-working:]
    return [u for u, last in last_days.items() if last is None or last < recent[0]]


def recall_matrix(states: dict[int, dict[str, MemoryState]], now: datetime, scheduler: Scheduler) -> dict[int, dict[str, float]]:
    """Predicted recall now for every rep and started skill (scheduling.recall_now: from the moment of the review)."""
    ensure_utc(now)
    curve = forgetting_curve(scheduler)  # built once for the whole team, not per state
    return {u: {skill: None if s.last_review is None or s.stability is None else curve(s, now)
                for skill, s in by_skill.items()}
            for u, by_skill in states.items()}


def forecast(states: Sequence[MemoryState], now: datetime, scheduler: Scheduler, days: int = 30) -> list[tuple[int, float | None, float | None]]:
    """Mean predicted recall for each of the next ``days`` days: if practice stops, and if it goes on.

    Day d is the instant ``now`` + d days. "Goes on" assumes each skill is reviewed when it falls due (one
    already overdue: at once, now) and answered right (rated Good), which is what the schedule asks of a rep
    who keeps drilling; day d counts the reviews before its instant, so on day 0 nothing has been practised
    yet and both lines are the team's recall now. Reviews go through fsrs; the daily recall of thousands of
    states uses fsrs's forgetting curve with the scheduler's own parameters, from the moment of each review
    as recall now is shown (scheduling.forgetting_curve).
    """
    ensure_utc(now)
    if not states:
        return [(d, None, None) for d in range(days + 1)]
    curve = forgetting_curve(scheduler)
    going = list(states)
    result = []
    for d in range(days + 1):
        when = now + timedelta(days=d)
        stopped = sum(curve(s, when) for s in states) / len(states)
        going = [_practised(s, now, when, scheduler) for s in going]
        continued = sum(curve(s, when) for s in going) / len(going)
        result.append((d, stopped, continued))
    return result


def _practised(state: MemoryState, now: datetime, until: datetime, scheduler: Scheduler) -> MemoryState:
    """The state after the reviews a rep who keeps drilling from ``now`` does before ``until``: each when the skill
    falls due, or at once for one already overdue, answered right."""
    while max(state.due, now) < until:
        state = review(state, state.skill, Rating.Good, max(state.due, now), scheduler)
    return state
