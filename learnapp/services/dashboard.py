"""The manager's team dashboard: reads attempts and memory states, hands plain rows to domain.retention."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from learnapp.domain import retention
from learnapp.domain.retention import AttemptRow, Point, WorkingWeek
from learnapp.domain.scheduling import MemoryState
from learnapp.extensions import db
from learnapp.models import (ORGANISATION, Attempt, CalibrationRollup, MemoryStateRow, RepDayRollup, RetentionRollup, Skill,
                             Team, TeamMove, User)
from learnapp.services.drill import drillable_skills, local_day, scheduler, user_zone, zone_named
from learnapp.models.user import WEEKDAYS
from learnapp.services.users import weekday_span, working_weeks
from learnapp.services.vacations import vacation_days

DEFAULT_WEEKS = 26
INACTIVE_AFTER = 7  # working days without a drill (vacation days are not working days) before a rep is flagged


@dataclass
class DateRange:
    start: date
    end: date

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date) -> tuple["DateRange", str | None]:
        """The range from query parameters, or the last 26 weeks; a bad value falls back with a message."""
        default = cls(today - timedelta(weeks=DEFAULT_WEEKS), today)
        try:
            chosen = cls(date.fromisoformat(start) if start else default.start, date.fromisoformat(end) if end else today)
        except ValueError:
            return default, "Dates must look like 2026-03-02; showing the last 26 weeks."
        if chosen.start > chosen.end:
            return default, "The start date is after the end date; showing the last 26 weeks."
        return chosen, None


@dataclass
class Dashboard:
    """Everything the team dashboard shows, already computed."""

    team: Team
    range: DateRange
    reach: date  # the last day read: the range's end, or everyone's own today for a range through the viewer's today
    reps: list[User]
    skills: list[Skill]
    curve_team: list[Point]
    curve_org: list[Point]
    reference: list[Point]
    weekly: list[Point]
    recall: dict[int, dict[str, float]]
    participation: list[retention.Participation]
    inactive: list[User]
    forecast: list[tuple[int, float | None, float | None]]
    calibration: list[retention.CalibrationBin]
    # skills at risk, lowest team mean first: (skill, team mean, reps under 70% with their recall, lowest first)
    at_risk_skills: list[tuple[Skill, float, list[tuple[User, float]]]] = field(default_factory=list)
    # by rep, the skills practised today in the rep's own day: FSRS puts recall at 100% right after any
    # review, right or wrong, so the heat map says "today" for them and the means leave them out
    practised_today: dict[int, set[str]] = field(default_factory=dict)
    # by rep, their working days over the range in words ("" for Monday to Friday throughout): see works_label()
    works: dict[int, str] = field(default_factory=dict)
    # everyone in the participation table by id: the reps, and those who left during the range
    people: dict[int, User] = field(default_factory=dict)
    # reps shown who moved to another team since: the day they moved and their team now (None: no team)
    moved: dict[int, tuple[date, str | None]] = field(default_factory=dict)
    # the viewer's today, and each rep's own today (a rep far east of the viewer may be two dates ahead)
    today: date | None = None
    rep_today: dict[int, date] = field(default_factory=dict)

    def day_note(self, user_id: int, day: date | None) -> str:
        """"their today" (or "their yesterday") for a day of a rep's own that is not the viewer's day of that name: a
        rep east of the viewer shows a drill dated the viewer's tomorrow, or even the day after, in the hour a day a
        rep at UTC+14 is two dates ahead of a viewer at UTC-11; "" when the date speaks for itself."""
        own = self.rep_today.get(user_id)
        if day is None or own is None or self.today is None or own == self.today:
            return ""
        if day == own:
            return "their today"
        return "their yesterday" if day == own - timedelta(days=1) and day > self.today else ""

    @property
    def ahead_to(self) -> date | None:
        """The furthest rep's own today past the range's end, for a range through the viewer's today (its figures count
        each rep's days through their own today); None when no rep is past it."""
        furthest = max((self.rep_today[u.id] for u in self.reps if u.id in self.rep_today), default=None)
        return furthest if furthest is not None and furthest > self.range.end and self.reach > self.range.end else None

    @property
    def reps_by_id(self) -> dict[int, User]:
        return {u.id: u for u in self.reps}

    def shown_recall(self, user_id: int) -> dict[str, float]:
        """A rep's predicted recall by skill, without the skills practised today (whose number means nothing yet)."""
        today = self.practised_today.get(user_id, ())
        return {skill: r for skill, r in self.recall.get(user_id, {}).items() if skill not in today}

    def mean_recall_of_rep(self, user_id: int) -> float | None:
        values = list(self.shown_recall(user_id).values())
        return sum(values) / len(values) if values else None

    def mean_recall_of_skill(self, skill_id: str) -> float | None:
        values = [r[skill_id] for u in self.recall if skill_id in (r := self.shown_recall(u))]
        return sum(values) / len(values) if values else None


def team_leavers(team: Team, span: DateRange) -> list[User]:
    """The team's members who stopped counting as its reps (deactivated, or given another role) after the range
    began: they worked part of it, so its participation still shows them, up to the day before they left."""
    return sorted((u for u in team.members if not (u.role == "rep" and u.active) and u.left_on is not None
                   and u.left_on > span.start), key=lambda u: u.name.lower())


def team_moves(team: Team) -> dict[User, tuple[list[retention.Stint], str | None]]:
    """Everyone who moved into or out of the team, with their spans in it (retention.team_stints) and the name of the
    team they went to when they last left it (None: no team, or never left; a deleted team says so). The reps among
    those who moved out still count in the ranges they were in it, up to the day before they moved."""
    moves: dict[int, list] = {}
    involved = db.select(TeamMove.user_id).where((TeamMove.from_team_id == team.id) | (TeamMove.to_team_id == team.id))
    for move in db.session.scalars(db.select(TeamMove).where(TeamMove.user_id.in_(involved))
                                   .order_by(TeamMove.day, TeamMove.id)):
        moves.setdefault(move.user_id, []).append((move.day, move.from_team_id, move.to_team_id))
    if not moves:
        return {}
    users = {u.id: u for u in db.session.scalars(db.select(User).where(User.id.in_(list(moves))))}
    moved_to = {u: next((to for _, before, to in reversed(m) if before == team.id and to != team.id), None)
                for u, m in moves.items()}
    wanted = {t for t in moved_to.values() if t is not None}
    names = dict(db.session.execute(db.select(Team.id, Team.name).where(Team.id.in_(wanted))).all()) if wanted else {}
    return {users[u]: (retention.team_stints(m, team.id),
                       None if moved_to[u] is None else names.get(moved_to[u], "a team since deleted"))
            for u, m in moves.items()}


def team_reps(team: Team) -> list[User]:
    """The team's active reps (a deactivated rep has left: their history stays in the team's curves)."""
    return sorted((u for u in team.members if u.role == "rep" and u.active), key=lambda u: u.name.lower())


def attempt_rows(user_ids: list[int] | None, until: datetime, skill_id: str | None = None) -> list[AttemptRow]:
    """Attempts as plain rows with each rep's local day; None means the whole organisation."""
    query = (db.select(Attempt.user_id, Attempt.skill_id, Attempt.answered_at, Attempt.correct,
                       Attempt.predicted_recall, Attempt.duration_ms, User.timezone)
             .join(User, User.id == Attempt.user_id).where(Attempt.answered_at <= until))
    if user_ids is not None:
        query = query.where(Attempt.user_id.in_(user_ids))
    if skill_id is not None:
        query = query.where(Attempt.skill_id == skill_id)
    zones: dict[str, ZoneInfo] = {}
    rows = []
    for user_id, skill, answered_at, correct, recall, ms, tz in db.session.execute(query):
        zone = zones.setdefault(tz or "UTC", zone_named(tz))
        rows.append(AttemptRow(user_id, skill, answered_at, answered_at.astimezone(zone).date(), bool(correct), recall, ms))
    return rows


def team_states(user_ids: list[int]) -> dict[int, dict[str, MemoryState]]:
    """Memory states by rep and skill, read as plain rows (no ORM objects: a team has thousands)."""
    states: dict[int, dict[str, MemoryState]] = {u: {} for u in user_ids}
    m = MemoryStateRow
    query = db.select(m.user_id, m.skill_id, m.stability, m.difficulty, m.due, m.last_review, m.state, m.step,
                      m.reviews, m.lapses).where(m.user_id.in_(user_ids))
    for user_id, skill, *fields in db.session.execute(query):
        states[user_id][skill] = MemoryState(skill, *fields)
    return states


def _in_range(rows: list[AttemptRow], span: DateRange) -> list[AttemptRow]:
    return [r for r in rows if span.start <= r.day <= span.end]


def team_dashboard(team: Team, span: DateRange, now: datetime, *, today: date | None = None) -> Dashboard:
    """Compute every panel of the team dashboard for a date range, from the daily rollups and memory states.

    Its days are each rep's own local days. ``today`` is the viewer's day (default: now's UTC date). A range that
    runs through it (the default range ends on it) runs through each rep's own today (reach_of): a rep east of the
    viewer, already in their next day, has their drill of that day counted at once, in participation, last drill,
    the inactive list and the retention and calibration figures; for a rep west of the viewer the viewer's today has
    not begun, and it is not counted. A range that ends before the viewer's today ends on its own last day for
    everyone. No day after a rep's own today is ever due, and their own today, still under way, is due only once
    they have drilled on it: a day is missed when it is over without a drill, so a rep's share does not drop when
    their day begins, as it does for every rep east of the manager in the manager's afternoon."""
    reps, left = team_reps(team), team_leavers(team, span)
    movers = team_moves(team)
    stints = {u.id: spans for u, (spans, _) in movers.items()}
    moved_to = {u.id: to for u, (_, to) in movers.items()}
    # reps who moved to another team (or were reps once: left_on) and were in this one during the range
    moved_out = [u for u, (spans, _) in movers.items()
                 if u.team_id != team.id and (u.role == "rep" or u.left_on is not None)
                 and spans and spans[-1][1] is not None and spans[-1][1] >= span.start and u not in left]
    left = left + moved_out
    ids = [u.id for u in reps]
    # a skill whose scenarios are all retired has left the drill: no rep can practise it, so its recall, which only
    # falls from now on, is neither shown nor at risk; it is back with its first active scenario
    drilled = set(drillable_skills())
    states = {u: {k: s for k, s in by_skill.items() if k in drilled} for u, by_skill in team_states(ids).items()}
    sched = scheduler()
    viewer_today = today or now.date()
    through_today = span.end >= viewer_today
    reach = reach_of(span, through_today, now)
    read = DateRange(span.start, reach)  # the days read from the rollups
    rep_days = _rep_days(ids + [u.id for u in left], read)
    last_days: dict[int, date] = {}
    for user_id, day in rep_days:
        last_days[user_id] = max(day, last_days.get(user_id, day))
    # one read of the vacations for both: the days of the range, and back to each rep's last drill
    since = {u.id: _since(u, last_days.get(u.id)) for u in reps}
    away = vacation_days(ids + [u.id for u in left], min([span.start, *since.values()]), reach)
    weekdays = working_weeks(reps + left)  # each rep's own working days, as their manager changed them over time
    starts = rep_starts(reps + left)
    # the day before they stopped counting as a rep, wherever that was: stint_bounds keeps the earlier of it and
    # the day before they moved out (deactivated in this team, then moved to No team: their last day is here)
    ends = {u.id: u.left_on - timedelta(days=1) for u in left if u.left_on is not None}
    for u in reps + left:  # their days in this team only: from moving in, to the day before moving out
        starts[u.id], end, between = retention.stint_bounds(stints.get(u.id, []), starts[u.id], ends.get(u.id))
        if end is not None:
            ends[u.id] = end
        away[u.id] = away.get(u.id, set()) | between
    # a rep who moved out drills for their new team from the day of the move: this team sees none of it (not even
    # as their last drill); a drill on the day a rep was deactivated stays theirs here (their last day is the day before)
    moved_end = {u.id: stints[u.id][-1][1] for u in moved_out}
    rep_days = {(user, day): ms for (user, day), ms in rep_days.items() if day <= moved_end.get(user, day)}
    # each rep's last day of the range: never after their own today (west of the viewer, the viewer's today has not
    # begun for them); a range through the viewer's today runs to it (east of the viewer, it is the viewer's tomorrow)
    local_today = {u.id: local_day(u, now) for u in reps + left}
    last_day = {u: day if through_today else min(span.end, day) for u, day in local_today.items()}
    # left before a day of theirs counted, or in the team only after the range: not shown
    left = [u for u in left if ends.get(u.id, span.end) >= starts[u.id] and starts[u.id] <= span.end]
    # in the participation table: who belonged to the team on a day of the range (not a rep who came after it; a rep
    # who joined in their own today, east of the viewer's, belongs to a range through the viewer's today)
    counted = sorted([u for u in reps if starts[u.id] <= last_day[u.id]] + left, key=lambda u: u.name.lower())
    until = {u.id: min(ends.get(u.id, last_day[u.id]), last_day[u.id]) for u in counted}
    # a rep's today, still under way, is due once they drilled on it; not before (it is not missed yet)
    due_away = {u: away[u] | {day} if day == local_today[u] and (u, day) not in rep_days else away[u]
                for u, day in until.items()}
    people = retention.participation_from_days(rep_days, [u.id for u in counted], span.start, reach, away=due_away,
                                               starts=starts, weekdays_of=weekdays, ends=until)
    # idle days as participation counts missed ones: a rep's today, still under way (not drilled: since is after a
    # drill today), is not idle yet
    inactive_ids = {u.id for u in reps if (day := last_day[u.id]) not in away[u.id]
                    and _idle_working_days(since[u.id], day - timedelta(days=day == local_today[u.id]), away[u.id],
                                           weekdays[u.id]) >= INACTIVE_AFTER}
    board = Dashboard(
        team=team, range=span, reach=reach, reps=reps, skills=list(db.session.scalars(db.select(Skill).where(Skill.id.in_(list(drilled))).order_by(Skill.position, Skill.id))),
        curve_team=retention_curve(team.id, read), curve_org=retention_curve(ORGANISATION, read),
        reference=retention.one_day_training_reference(),
        # the viewer's weeks: a rep already in the viewer's next week (east of them, on the viewer's Sunday) adds
        # no point for a week that has not begun for the viewer
        weekly=retention.weekly_from_days(_retention_by_day(team.id, read),
                                          last_week=retention.week_start(viewer_today) if through_today else None),
        recall=retention.recall_matrix(states, now, sched), participation=people,
        inactive=[u for u in reps if u.id in inactive_ids],
        forecast=team_forecast(team.id, states, now),
        calibration=retention.calibration_from_counts(_calibration_counts(team.id, read)),
        practised_today={u.id: _practised_today(u, states[u.id], now) for u in reps},
        works={u.id: works_label(weekdays[u.id], DateRange(max(span.start, starts[u.id]), min(span.end, ends.get(u.id, span.end))))
               for u in counted},
        people={u.id: u for u in counted}, today=viewer_today, rep_today=local_today,
        moved={u.id: (stints[u.id][-1][1] + timedelta(days=1), moved_to.get(u.id)) for u in left if u in moved_out},
    )
    board.at_risk_skills = _at_risk_skills(board)
    return board


EASTERNMOST = timezone(timedelta(hours=14))  # Pacific/Kiritimati, UTC+14: nobody's today is later than the day there
WESTERNMOST = timezone(timedelta(hours=-12))  # Etc/GMT+12: nobody's day ends later than there


def reach_of(span: DateRange, through_today: bool, now: datetime) -> date:
    """The last day the dashboard reads from the rollups: the range's end, or, for a range through the viewer's today,
    everyone's own today (the day at UTC+14: no rep's rows lie after their own today, so each is read to it)."""
    return max(span.end, now.astimezone(EASTERNMOST).date()) if through_today else span.end


def _practised_today(rep: User, states: dict[str, MemoryState], now: datetime) -> set[str]:
    """The skills the rep reviewed today, in their own day."""
    today = local_day(rep, now)
    return {skill for skill, s in states.items() if s.last_review is not None and local_day(rep, s.last_review) == today}


def works_label(week: WorkingWeek, span: DateRange) -> str:
    """A rep's working days over a range (from the day they joined, if later) in words, "" when Monday to Friday throughout.

    Each period of the range with the day it began ("Monday to Friday; Tuesday to Saturday from Tue 10 Mar 2026"),
    so the label of a past range matches the days its participation was counted on.
    """
    periods = [(None, week.weekdays_on(span.start))] + [(since, days) for since, days in week.changes if span.start < since <= span.end]
    if len(periods) == 1:
        return "" if periods[0][1] == WEEKDAYS else weekday_span(periods[0][1])
    return "; ".join(weekday_span(days) + (f" from {since:%a %d %b %Y}" if since else "") for since, days in periods)


def rep_starts(reps: list[User]) -> dict[int, date]:
    """Each rep's first day, from which their working days count: the local day their account was made.

    A manager measures a rep from the day they joined, and the account is made when they join (the
    data keeps no separate team-joining date). A rep who has not drilled yet still counts from that
    day, so "0 of 12" shows; a drill before that day (history imported or loaded later) moves the start back to it.
    """
    ids = [u.id for u in reps]
    first = dict(db.session.execute(
        db.select(RepDayRollup.user_id, db.func.min(RepDayRollup.day)).where(RepDayRollup.user_id.in_(ids))
        .group_by(RepDayRollup.user_id)).all()) if ids else {}
    starts = {}
    for rep in reps:
        joined = rep.created_at.astimezone(user_zone(rep)).date()
        starts[rep.id] = min(joined, first[rep.id]) if rep.id in first else joined
    return starts


def _since(rep: User, last_day: date | None) -> date:
    """The day from which a rep's days without a drill count: after their last drill, else from the day they joined
    (the days they were away, deactivated or not a rep included, are vacation days: not counted)."""
    if last_day is not None:
        return last_day + timedelta(days=1)
    return rep.created_at.astimezone(user_zone(rep)).date()


def _idle_working_days(since: date, today: date, away: set[date], week: WorkingWeek = WorkingWeek(),
                       enough: int = INACTIVE_AFTER) -> int:
    """The rep's working days from ``since`` to ``today`` (inclusive), vacation days not counted; at most ``enough``.

    Counted back from today and stopped at ``enough``, so a rep whose last drill is years ago costs
    no more than one who drilled last week.
    """
    count, day = 0, today
    while day >= since and count < enough:
        if day not in away and week.works_on(day):
            count += 1
        day -= timedelta(days=1)
    return count


def retention_curve(team_id: int, span: DateRange) -> list[Point]:
    """The retention curve of a team (ORGANISATION for everyone) over a date range, from the rollup."""
    rows = db.session.execute(
        db.select(RetentionRollup.week, db.func.sum(RetentionRollup.n), db.func.sum(RetentionRollup.right))
        .where(RetentionRollup.team_id == team_id, RetentionRollup.day.between(span.start, span.end))
        .group_by(RetentionRollup.week))
    return retention.curve_from_counts({week: (int(n), int(right)) for week, n, right in rows})


def _retention_by_day(team_id: int, span: DateRange) -> dict[date, tuple[int, int]]:
    rows = db.session.execute(
        db.select(RetentionRollup.day, db.func.sum(RetentionRollup.n), db.func.sum(RetentionRollup.right))
        .where(RetentionRollup.team_id == team_id, RetentionRollup.day.between(span.start, span.end))
        .group_by(RetentionRollup.day))
    return {day: (int(n), int(right)) for day, n, right in rows}


def _calibration_counts(team_id: int, span: DateRange) -> dict[int, tuple[int, int, float]]:
    rows = db.session.execute(
        db.select(CalibrationRollup.bin, db.func.sum(CalibrationRollup.n), db.func.sum(CalibrationRollup.right),
                  db.func.sum(CalibrationRollup.predicted))
        .where(CalibrationRollup.team_id == team_id, CalibrationRollup.day.between(span.start, span.end))
        .group_by(CalibrationRollup.bin))
    return {b: (int(n), int(right), float(pred)) for b, n, right, pred in rows}


def _rep_days(ids: list[int], span: DateRange) -> dict[tuple[int, date], int]:
    """Milliseconds per (rep, day) in the range, plus each rep's last day before it (for "last drill")."""
    rows = db.session.execute(
        db.select(RepDayRollup.user_id, RepDayRollup.day, RepDayRollup.ms)
        .where(RepDayRollup.user_id.in_(ids), RepDayRollup.day.between(span.start, span.end)))
    result = {(u, d): ms for u, d, ms in rows}
    earlier = db.session.execute(
        db.select(RepDayRollup.user_id, db.func.max(RepDayRollup.day))
        .where(RepDayRollup.user_id.in_(ids), RepDayRollup.day < span.start).group_by(RepDayRollup.user_id))
    for user, day in earlier:
        result.setdefault((user, day), 0)
    return result


_FORECASTS: dict[tuple, list] = {}


def team_forecast(team_id: int, states: dict[int, dict[str, MemoryState]], now: datetime) -> list:
    """The 30-day forecast, computed once per team, day and latest review (it simulates FSRS reviews)."""
    flat = [s for by_skill in states.values() for s in by_skill.values()]
    latest = max((s.last_review for s in flat if s.last_review), default=None)
    key = (str(db.engine.url), team_id, now.date(), latest, len(flat))
    if key not in _FORECASTS:
        if len(_FORECASTS) > 256:
            _FORECASTS.clear()
        _FORECASTS[key] = retention.forecast(flat, now, scheduler())
    return _FORECASTS[key]


def _at_risk_skills(board: Dashboard) -> list[tuple[Skill, float, list[tuple[User, float]]]]:
    """Skills whose team mean or some rep's predicted recall is under 70%, with those reps (retention.at_risk)."""
    result = []
    for skill in board.skills:
        mean = board.mean_recall_of_skill(skill.id)
        if mean is None:
            continue
        under = sorted(((u, r) for u in board.reps if (r := board.shown_recall(u.id).get(skill.id)) is not None
                        and retention.at_risk(r)), key=lambda t: t[1])
        if retention.at_risk(mean) or under:
            result.append((skill, mean, under))
    return sorted(result, key=lambda t: t[1])


@dataclass
class SkillDetail:
    curve: list[Point]
    recall_by_rep: list[tuple[User, float | None]]
    answers: int
    share_right: float | None
    # False: every scenario of the skill is retired (the dashboard leaves it out); ``practised`` are the reps who
    # had started it, so the page says "no longer drilled" for them rather than "not started"
    drilled: bool = True
    practised: set[int] = field(default_factory=set)


def skill_detail(team: Team, skill: Skill, board: Dashboard) -> SkillDetail:
    """One skill across the team: its retention curve and each rep's predicted recall now (none for a skill that
    has left the drill: the reps who had started it are named in ``practised``)."""
    ids = [u.id for u in board.reps]
    drilled = any(s.id == skill.id for s in board.skills)
    practised = set() if drilled or not ids else set(db.session.scalars(
        db.select(MemoryStateRow.user_id).where(MemoryStateRow.skill_id == skill.id, MemoryStateRow.user_id.in_(ids))))
    # the last instant anyone's day can still be board.reach: its end at UTC-12, the westernmost timezone
    until = datetime.combine(board.reach + timedelta(days=1), datetime.min.time(), tzinfo=WESTERNMOST)
    rows = [r for r in attempt_rows(ids, until, skill_id=skill.id) if r.day <= board.reach]
    in_range = _in_range(rows, DateRange(board.range.start, board.reach))
    return SkillDetail(
        curve=retention.retention_curve(rows, since=board.range.start),
        recall_by_rep=sorted(((u, board.recall.get(u.id, {}).get(skill.id)) for u in board.reps),
                             key=lambda t: (t[1] is None, t[1] or 0)),
        answers=len(in_range),
        share_right=sum(r.correct for r in in_range) / len(in_range) if in_range else None,
        drilled=drilled, practised=practised,
    )
