"""A small company over sixteen weeks on a fake clock: reps in six timezones drill (or not), one goes on vacation, one
moves teams, one crosses the date line, one is deactivated and back, content is re-imported with a changed scenario
and scenarios are retired, and the scheduler's jobs run as the scheduler calls them (the reminders and digest checks
at the reps' and managers' times, the nightly job every few nights), sending email to a local SMTP server. After
every simulated day the invariants the docs promise are checked against figures computed here, independently, from
the attempts table: the reminders and digests received, the nightly rebuild changing nothing, the day's plan, and
the figures of the progress page, the dashboard's CSVs and the digest.

Deterministic (a seeded random); about a minute on SQLite, two and a half on PostgreSQL. SIMULATION_DAYS sets the
length (112 days by default).
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from learnapp import jobs
from learnapp.domain import scheduling
from learnapp.domain.retention import first_tries, AttemptRow, recall_percent, week_start
from learnapp.extensions import db
from learnapp.models import (Attempt, CalibrationRollup, DrillSession, ItemRepRollup, ItemTimeRollup, ItemWrongRollup,
                             MemoryStateRow, Presentation, RepDayRollup, RetentionRollup, ScenarioVersion, Team, User)
from learnapp.services import drill, notify
from learnapp.services.content import import_content
from learnapp.services.users import create_user, set_working_days, update_account
from learnapp.services.vacations import add_vacation
from tests.conftest import CONTENT, PASSWORD, csrf_token
from tests.helpers import right_answer, wrong_answer

DAYS = int(os.environ.get("SIMULATION_DAYS", "112"))  # 16 weeks
UTC = timezone.utc


@dataclass
class Rep:
    name: str
    zone: str
    team: str
    drill_at: time  # local time of their drill
    p_drill: float  # chance of drilling on a working day
    p_right: float
    seconds: tuple[int, int]  # answer time range
    working: tuple[int, ...] = (0, 1, 2, 3, 4)
    reminder_at: str = "09:00"
    user: User | None = None
    client: object = None

    def __post_init__(self):
        self.home = self.team
        self.changes: list[tuple[date, tuple[int, ...]]] = []  # (from this day of theirs, the days worked)

    def works_on(self, day: date) -> bool:
        """Whether the rep works on this day of theirs, by the working days in force then."""
        days = self.working
        for since, weekdays in self.changes:
            if day >= since:
                days = weekdays
        return day.weekday() in days


REPS = [
    Rep("Ana Alvarez", "America/Los_Angeles", "North", time(10, 7), 0.8, 0.75, (15, 40)),
    Rep("Ben Becker", "Europe/Berlin", "North", time(8, 37), 0.7, 0.8, (15, 35), working=(1, 2, 3, 4, 5)),
    Rep("Chandra Chhetri", "Asia/Kathmandu", "North", time(17, 23), 0.9, 0.7, (50, 75), reminder_at="16:45"),
    Rep("Dana Taufa", "Pacific/Tongatapu", "South", time(19, 11), 0.75, 0.8, (20, 40), reminder_at="18:30"),
    Rep("Eli Evans", "UTC", "South", time(23, 57), 0.85, 0.65, (20, 45)),  # drills across midnight
    Rep("Fay Ferreira", "America/Sao_Paulo", "South", time(9, 52), 0.6, 0.7, (20, 40), reminder_at="08:15"),
]
MANAGERS = [("Mia Moore", "America/Los_Angeles", "North"), ("Noah Nash", "Pacific/Auckland", "South")]
VACATION = ("Chandra Chhetri", 30, 72)  # the rep, first and last simulated day of the vacation (their local days)
MOVE = ("Eli Evans", "North", 60)  # moves to this team on this simulated day
REMINDERS_OFF = ("Fay Ferreira", 40)
DEACTIVATED = ("Fay Ferreira", 88, 96)  # deactivated by an admin on the first day, active again on the second
BUSY = ("Ana Alvarez", 84, 99)
WORKDAYS_CHANGE = ("Ana Alvarez", 50, (0, 1, 2, 3), 10)  # her manager sets Monday to Thursday, from 10 days back
RETIRED = (55, 70, 100)  # one scenario retired on the first day, active again on the second; a whole skill on the third
TIME_CHANGE = ("Ben Becker", 23, time(10, 0), "21:30")  # reminded at 09:00, no drill, sets an evening time at 10:00  # no drill on these simulated days, and no vacation recorded: idle on the dashboard
ZONE_CHANGE = ("Dana Taufa", "Pacific/Honolulu", 80)  # from UTC+13 to UTC-10: the same date comes round again
REIMPORT_DAY = 45
REIMPORTED = "knowledge-amira-turnover"
NIGHTLY_EVERY = 5  # the nightly job every fifth night (a scheduler down for days catches up): it is the slowest


class Failures(list):
    def check(self, ok: bool, message: str) -> None:
        if not ok:
            self.append(message)


def local(rep_or_user, at: datetime) -> datetime:
    zone = rep_or_user.timezone if isinstance(rep_or_user, User) else rep_or_user.zone
    return at.astimezone(ZoneInfo(zone))


def answers_of(user_id: int) -> list:
    """The rep's attempts, oldest first, as plain rows."""
    return db.session.execute(db.select(Attempt.skill_id, Attempt.answered_at, Attempt.correct, Attempt.rating)
                              .where(Attempt.user_id == user_id).order_by(Attempt.answered_at, Attempt.id)).all()


def snapshot() -> dict:
    """The derived tables as rows, to compare before and after the nightly rebuild."""
    def rows(model, skip=()):
        cols = [c for c in model.__table__.columns if c.name not in skip]
        return sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in row)
                      for row in db.session.execute(db.select(*cols)))
    return {m.__tablename__: rows(m) for m in (MemoryStateRow, RetentionRollup, CalibrationRollup, RepDayRollup,
                                                 ItemRepRollup, ItemTimeRollup, ItemWrongRollup)}


class Simulation:
    def __init__(self, app, clock, inbox, tmp_path):
        self.app, self.clock, self.inbox, self.tmp = app, clock, inbox, tmp_path
        self.rng = random.Random(20260302)
        self.failures = Failures()
        self.seen_messages = 0
        self.reminders: dict[tuple[int, date], list[datetime]] = defaultdict(list)
        self.digests: dict[tuple[int, str], list[datetime]] = defaultdict(list)
        self.expected_reminders: dict[tuple[int, date], str] = {}
        self.teams_of: dict[int, set[int]] = defaultdict(set)  # team id: every rep ever in it
        self.stats = defaultdict(int)
        self.zone_of: dict[tuple[int, datetime], str] = {}
        self._vacations: dict | None = None
        self._answers: dict[int, list] = {}
        self.retired: set[str] = set()
        self.retired_skill: str | None = None
        self.last_reminder: dict[int, datetime] = {}
        self.vacation_return: date | None = None
        self.overdue_at_return: set[str] = set()

    # ---- set-up -------------------------------------------------------------------------------------------------
    def setup(self):
        now = self.clock.now()
        self.admin = create_user("admin@example.com", "Ada Admin", PASSWORD, "admin", now=now)
        self.managers = {}
        for name, zone, team in MANAGERS:
            self.managers[team] = create_user(f"{name.split()[0].lower()}@example.com", name, PASSWORD, "manager",
                                              team=team, timezone=zone, now=now)
        self.teams = {t.name: t for t in db.session.scalars(db.select(Team))}
        self.by_name = {}
        for rep in REPS:
            rep.user = create_user(f"{rep.name.split()[0].lower()}@example.com", rep.name, PASSWORD, "rep",
                                   team=rep.team, timezone=rep.zone, now=now)
            rep.user.reminder_time = rep.reminder_at
            rep.user.reminder_days = ",".join(map(str, rep.working))  # reminders on the days they work
            db.session.commit()
            if rep.working != (0, 1, 2, 3, 4):
                set_working_days(rep.user, [str(d) for d in rep.working], by=self.managers[rep.team], now=now,
                                 since=drill.local_day(rep.user, now))
            self.teams_of[rep.user.team_id].add(rep.user.id)
            self.by_name[rep.name] = rep
        for person in [self.admin, *self.managers.values(), *(r.user for r in REPS)]:
            client = self.app.test_client()
            response = client.post("/login", data={"email": person.email, "password": PASSWORD,
                                                   "csrf_token": csrf_token(client)})
            assert response.status_code in (302, 303), person.email
            person_client = client
            if person.role == "rep":
                next(r for r in REPS if r.user.id == person.id).client = person_client
            else:
                setattr(self, f"client_{person.id}", person_client)

    def client_of(self, user: User):
        return getattr(self, f"client_{user.id}")

    # ---- the timeline ---------------------------------------------------------------------------------------------
    def events_of_day(self, day: date) -> list[tuple[datetime, int, str, object]]:
        """Every event of a UTC day: (when, order, kind, subject)."""
        start = datetime.combine(day, time(0), tzinfo=UTC)
        events = []
        # the scheduler checks every quarter hour; checking at every rep's reminder time, every manager's Monday 06:00
        # and at midnight besides (catch-ups, second looks) keeps the run short
        for hour in (0,):
            events.append((start + timedelta(hours=hour), 0, "jobs", None))
        for manager in self.managers.values():
            monday = notify.digest_due(ZoneInfo(manager.timezone), start + timedelta(days=1))
            if monday.date() == day:
                events.append((monday, 0, "jobs", None))
        if self.day_number % NIGHTLY_EVERY == 0:
            events.append((start + timedelta(hours=jobs.NIGHTLY_AT[0], minutes=jobs.NIGHTLY_AT[1]), 1, "nightly", None))
        for rep in REPS:
            for local_date in (day - timedelta(days=1), day, day + timedelta(days=1)):
                instant = notify.reminder_instant(rep.user, local_date)
                if instant.date() == day:
                    events.append((instant, 2, "reminder-slot", (rep, local_date)))
                at = datetime.combine(local_date, rep.drill_at, tzinfo=ZoneInfo(rep.zone)).astimezone(UTC)
                if at.date() == day:
                    events.append((at, 3, "drill", (rep, local_date)))
        name, on, at, new_time = TIME_CHANGE
        if self.day_number == on:
            rep = self.by_name[name]
            local_date = (start + timedelta(hours=12)).astimezone(ZoneInfo(rep.zone)).date()
            for when, kind in ((at, "settings"), (time.fromisoformat(new_time), "jobs")):
                events.append((datetime.combine(local_date, when, tzinfo=ZoneInfo(rep.zone)).astimezone(UTC), 4, kind, rep))
        events.append((start + timedelta(hours=23, minutes=59), 9, "check", None))
        return sorted(events, key=lambda e: (e[0], e[1]))

    def run(self, days: int):
        self.started = self.clock.now()
        first = self.clock.now().date()
        for n in range(days):
            day = first + timedelta(days=n)
            self.day_number = n
            self.happenings(n)
            for at, _, kind, subject in self.events_of_day(day):
                if at < self.clock.now():
                    continue
                self.clock.set(at)
                getattr(self, "on_" + kind.replace("-", "_"))(subject)
        return self.failures

    def happenings(self, n: int):
        """What people decide on a day, at its start (UTC)."""
        now = self.clock.now()
        self._vacations = None
        name, first, last = VACATION
        rep = self.by_name[name]
        if n == first - 7:  # recorded a week ahead by the manager
            today = drill.local_day(rep.user, now)
            add_vacation(rep.user, today + timedelta(days=7), today + timedelta(days=last - first + 7),
                         by=self.managers[rep.team], now=now)
            self.vacation_return = today + timedelta(days=last - first + 8)
        name, team, on = MOVE
        if n == on:
            rep = self.by_name[name]
            u = rep.user
            update_account(u, name=u.name, email=u.email, role=u.role, timezone=u.timezone,
                           team_id=self.teams[team].id, leads=[], active=True, by=self.admin, now=now)
            rep.team = team
            self.move_day = drill.local_day(u, now)
            self.teams_of[u.team_id].add(u.id)
        name, zone, on = ZONE_CHANGE
        if n == on:
            rep = self.by_name[name]
            u = rep.user
            update_account(u, name=u.name, email=u.email, role=u.role, timezone=zone, team_id=u.team_id, leads=[],
                           active=True, by=self.admin, now=now)
            rep.zone = zone
        self._vacations = None
        name, off, on = DEACTIVATED
        if n in (off, on):
            rep = self.by_name[name]
            u = rep.user
            update_account(u, name=u.name, email=u.email, role=u.role, timezone=u.timezone, team_id=u.team_id, leads=[],
                           active=n == on, by=self.admin, now=now)
            if n == on:  # logged out everywhere when deactivated: logs in again
                response = rep.client.post("/login", data={"email": u.email, "password": PASSWORD,
                                                           "csrf_token": csrf_token(rep.client)})
                assert response.status_code in (302, 303)
        name, on, days, back = WORKDAYS_CHANGE
        if n == on:
            rep = self.by_name[name]
            since = drill.local_day(rep.user, now) - timedelta(days=back)
            set_working_days(rep.user, [str(d) for d in days], by=self.managers[rep.team], now=now, since=since)
            rep.changes.append((since, days))
        name, on = REMINDERS_OFF
        if n == on:
            u = self.by_name[name].user
            token = notify.unsubscribe_token(u, notify.REMINDER)
            response = self.by_name[name].client.post(f"/unsubscribe/{token}")
            assert response.status_code == 200
            db.session.refresh(u)
            assert not u.reminders_on
        if n == REIMPORT_DAY:
            self.reimport()
        from learnapp.models import Scenario as ScenarioRow
        from learnapp.services.authoring import set_status

        one, again, whole = RETIRED
        if n in (one, again):
            assert set_status(REIMPORTED, "retired" if n == one else "active", now) == []
            self.retired = {REIMPORTED} if n == one else set()
            self.retired_at = now
        if n == whole:
            skill = db.session.get(ScenarioRow, REIMPORTED).skill_id
            for scenario in db.session.scalars(db.select(ScenarioRow.id).filter_by(skill_id=skill)).all():
                assert set_status(scenario, "retired", now) == []
                self.retired.add(scenario)
            self.retired_skill, self.retired_at = skill, now

    def reimport(self):
        target = self.tmp / "content"
        paths = []
        for source in CONTENT:
            copy = target / os.path.basename(source)
            shutil.copytree(source, copy)
            paths.append(str(copy))
        changed = next((target / "scenarios").rglob(f"{REIMPORTED}.md"))
        text = changed.read_text()
        changed.write_text(text.replace("before the summer peak", "before the autumn peak"))
        before = db.session.scalar(db.select(db.func.count()).select_from(ScenarioVersion).filter_by(scenario_id=REIMPORTED))
        report = import_content(paths, self.clock.now())
        assert report.ok, report.errors
        after = db.session.scalar(db.select(db.func.count()).select_from(ScenarioVersion).filter_by(scenario_id=REIMPORTED))
        self.failures.check(after == before + 1, f"re-import: {REIMPORTED} has {after} versions, {before} before")
        self.reimported_at = self.clock.now()

    # ---- jobs ---------------------------------------------------------------------------------------------------------
    def on_jobs(self, _):
        self.run_jobs()

    def run_jobs(self):
        now = self.clock.now()
        run = jobs.reminders(now)
        self.failures.check(run is None or run.status == "ok", f"{now}: reminders {run and run.status}: {run and run.detail}")
        run = jobs.weekly_digest(now)
        self.failures.check(run is None or run.status == "ok", f"{now}: digest {run and run.status}: {run and run.detail}")
        self.read_inbox()

    def on_settings(self, rep: Rep):
        u = rep.user
        response = rep.client.post("/settings", data={
            "reminders_on": "y", "reminder_time": TIME_CHANGE[3], "reminder_days": [str(d) for d in rep.working],
            "timezone": u.timezone, "csrf_token": csrf_token(rep.client, "/settings")})
        assert response.status_code == 303
        db.session.refresh(u)
        rep.reminder_at = u.reminder_time

    def on_reminder_slot(self, subject):
        rep, local_date = subject
        u = rep.user
        db.session.refresh(u)
        now = self.clock.now()
        midnight = datetime.combine(local_date, time(0), tzinfo=ZoneInfo(u.timezone))
        drilled = db.session.scalar(db.select(db.func.count()).select_from(Attempt).where(
            Attempt.user_id == u.id, Attempt.answered_at >= midnight, Attempt.answered_at < now))
        # something to do: the day's drill, once planned (the rep opened it earlier), has an unanswered item or a skill
        # fell due since it was planned (it joins the drill when opened again: one opened after midnight and left empty
        # gets the skills due that morning); before it was opened, a skill is due
        session = db.session.scalars(db.select(DrillSession).filter_by(user_id=u.id, day=local_date)).first()
        if session is None:
            due_now = db.session.scalar(db.select(db.func.count()).select_from(MemoryStateRow).where(
                MemoryStateRow.user_id == u.id, MemoryStateRow.due <= now,
                MemoryStateRow.skill_id.in_(drill.drillable_skills())))
        else:
            answered = db.session.scalar(db.select(db.func.count()).select_from(Presentation).join(
                Attempt, Attempt.presentation_id == Presentation.id).where(Presentation.session_id == session.id))
            due_now = len(session.plan) - answered or db.session.scalar(
                db.select(db.func.count()).select_from(MemoryStateRow).where(
                    MemoryStateRow.user_id == u.id, MemoryStateRow.due > session.started_at, MemoryStateRow.due <= now,
                    MemoryStateRow.skill_id.in_(drill.drillable_skills())))
        away = self.on_vacation(u, local_date)
        if u.reminders_on and local_date.weekday() in notify.reminder_weekdays(u) and not away and not drilled \
                and due_now and u.active:
            self.expected_reminders[(u.id, local_date)] = f"{due_now} skills due at {now}"
        self.run_jobs()
        if (u.id, local_date) in self.expected_reminders:
            self.failures.check(bool(self.reminders.get((u.id, local_date))),
                                f"{u.name}: no reminder on {local_date} at {now} though {self.expected_reminders[(u.id, local_date)]}")

    def on_vacation(self, u: User, day: date) -> bool:
        from learnapp.models import Vacation

        if self._vacations is None:  # read again each day: vacations change only at the day's start (happenings)
            self._vacations = defaultdict(list)
            for v in db.session.scalars(db.select(Vacation)):
                self._vacations[v.user_id].append((v.start, v.end))
        return any(start <= day <= end for start, end in self._vacations[u.id])

    def answers_of(self, user_id: int) -> list:
        """The rep's attempts, oldest first (read again after every drill)."""
        if user_id not in self._answers:
            self._answers[user_id] = answers_of(user_id)
        return self._answers[user_id]

    def read_inbox(self):
        now = self.clock.now()
        users = {u.email: u for u in db.session.scalars(db.select(User))}
        for recipients, text in self.inbox.messages[self.seen_messages:]:
            u = users[recipients[0]]
            if "Subject: Weekly learnapp digest" in text:
                self.check_digest(u, text, now)
            else:
                self.check_reminder(u, text, now)
        self.seen_messages = len(self.inbox.messages)

    def check_reminder(self, u: User, text: str, now: datetime):
        self.stats["reminders"] += 1
        day = drill.local_day(u, now)
        f = self.failures.check
        f(u.role == "rep", f"a reminder to {u.name}, a {u.role}")
        # one a local day; a rep who moves west across the date line lives a date again, and may be reminded on it again
        # (the docs promise "at most one in 12 hours")
        self.reminders[(u.id, day)].append(now)
        same_zone = [t for t in self.reminders[(u.id, day)] if (u.id, t) in self.zone_of and self.zone_of[(u.id, t)] == u.timezone]
        f(len(same_zone) == 0, f"{u.name}: reminders at {self.reminders[(u.id, day)]} on {day} in {u.timezone}")
        self.zone_of[(u.id, now)] = u.timezone
        f(self.last_reminder.get(u.id, now - timedelta(days=1)) <= now - timedelta(hours=12),
          f"{u.name}: reminders at {self.last_reminder.get(u.id)} and {now}, less than 12 hours apart")
        self.last_reminder[u.id] = now
        f(u.reminders_on, f"{u.name}: a reminder at {now} after switching them off")
        f(u.active, f"{u.name}: a reminder at {now} while deactivated")
        f(day.weekday() in notify.reminder_weekdays(u), f"{u.name}: a reminder on {day:%A} {day}, not a reminder day")
        f(not self.on_vacation(u, day), f"{u.name}: a reminder on {day} while on vacation")
        instant = notify.reminder_instant(u, day)
        f(instant <= now < instant + timedelta(hours=6), f"{u.name}: the reminder of {day} at {now}, chosen {instant}")
        midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(u.timezone))
        drilled = db.session.scalar(db.select(db.func.count()).select_from(Attempt).where(
            Attempt.user_id == u.id, Attempt.answered_at >= midnight, Attempt.answered_at <= now))
        f(not drilled, f"{u.name}: a reminder at {now} after drilling that day ({drilled} answers)")
        day_end = drill.day_end(u, day)
        drillable = drill.drillable_skills()  # a skill whose scenarios were all retired is not practised
        due = db.session.scalar(db.select(db.func.count()).select_from(MemoryStateRow).where(
            MemoryStateRow.user_id == u.id, MemoryStateRow.due < day_end, MemoryStateRow.skill_id.in_(drillable)))
        started = db.session.scalar(db.select(db.func.count()).select_from(MemoryStateRow).where(
            MemoryStateRow.user_id == u.id, MemoryStateRow.skill_id.in_(drillable)))
        f(due or started < len(drillable), f"{u.name}: a reminder on {day} with nothing due that day")

    def check_digest(self, u: User, text: str, now: datetime):
        self.stats["digests"] += 1
        f = self.failures.check
        f(u.role == "manager", f"a digest to {u.name}, a {u.role}")
        local_now = local(u, now)
        monday = local_now.date() - timedelta(days=local_now.weekday())
        week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
        self.digests[(u.id, week)].append(now)
        f(len(self.digests[(u.id, week)]) == 1, f"{u.name}: digests at {self.digests[(u.id, week)]} in {week}")
        f(local_now.weekday() == 0 and local_now.time() >= time(6), f"{u.name}: a digest at {local_now} (their time)")
        mine = {i for t in u.led_teams for i in self.teams_of[t.id]}
        for other in db.session.scalars(db.select(User).where(User.role == "rep")):
            if other.id not in mine:
                f(other.name not in text, f"{u.name}'s digest of {week} names {other.name}, not of their team:\n{text}")
        for team in u.led_teams:
            f(team.name in text, f"{u.name}'s digest of {week} has no section for {team.name}")
            shown = re.search(re.escape(team.name) + r"\s+- participation: (\d+) of (\d+) working days drilled", text)
            expected = self.participation(team, monday - timedelta(days=7), monday - timedelta(days=1))
            reps = [m for m in team.members if m.role == "rep" and m.active]
            idle = {m.name for m in reps if self.idle(m, min(monday - timedelta(days=1), drill.local_day(m, now)))}
            listed = re.search(re.escape(team.name) + r"\s+- participation:.*?- no drill in 7 working days: ([^\r\n]*)", text, re.S)
            names = set() if listed is None or listed[1] == "none" else set(listed[1].split(", "))
            f(listed is not None and names == idle,
              f"{u.name}'s digest of {week}: {team.name}'s reps without a drill in 7 working days {names}, from the attempts {idle}")
            self.stats["idle in digests"] += len(idle)
            f(shown is not None and (int(shown[1]), int(shown[2])) == expected,
              f"{u.name}'s digest of {week}: {team.name} {shown and shown.group(0)!r}, from the attempts {expected}:\n{text}")

    def participation(self, team: Team, start: date, end: date, *, only: Rep | None = None) -> tuple[int, int]:
        """(days drilled, working days due) of the team's reps over start..end, each in their own days and only while
        in the team: their working days, vacation days not counted."""
        drilled = due = 0
        for rep in REPS if only is None else [only]:
            u = rep.user
            days = {a.answered_at.astimezone(ZoneInfo(u.timezone)).date() for a in self.answers_of(u.id)}
            joined = drill.local_day(u, u.created_at)
            db.session.refresh(u)
            last = min(end, u.left_on - timedelta(days=1)) if u.left_on is not None else end
            for k in range((last - start).days + 1):
                d = start + timedelta(days=k)
                if d < joined or not rep.works_on(d) or self.on_vacation(u, d) or self.team_on(rep, d) != team.name:
                    continue
                due += 1
                drilled += d in days
        return drilled, due

    def team_on(self, rep: Rep, day: date) -> str:
        name, team, _ = MOVE
        if rep.name == name and getattr(self, "move_day", None) is not None and day >= self.move_day:
            return team
        return rep.home

    # ---- the nightly job: its rebuild must change nothing the live updates wrote ---------------------------------------
    def on_nightly(self, _):
        before = snapshot()
        run = jobs.nightly_maintenance(self.clock.now())
        self.failures.check(run is not None and run.status == "ok", f"{self.clock.now()}: nightly {run and run.status} {run and run.detail}")
        if run is not None:
            self.failures.check("0 repaired, 0 restored, 0 removed" in run.detail,
                                f"{self.clock.now()}: the nightly check repaired memory states: {run.detail}")
        after = snapshot()
        for table in before:
            if before[table] != after[table]:
                gone = sorted(set(before[table]) - set(after[table]))[:5]
                new = sorted(set(after[table]) - set(before[table]))[:5]
                self.failures.check(False, f"{self.clock.now()}: the nightly rebuild changed {table}: "
                                           f"live {gone} rebuilt {new}")
        self.run_jobs()

    # ---- a rep's drill ------------------------------------------------------------------------------------------------
    def on_drill(self, subject):
        rep, local_date = subject
        u = rep.user
        self._answers.pop(u.id, None)
        db.session.refresh(u)
        works = rep.works_on(local_date)
        chance = rep.p_drill if works else 0.1
        busy = rep.name == BUSY[0] and BUSY[1] <= self.day_number <= BUSY[2] \
            or rep.name == TIME_CHANGE[0] and self.day_number == TIME_CHANGE[1]
        if not u.active or self.on_vacation(u, local_date) or self.rng.random() >= chance or busy:
            return
        if db.session.scalars(db.select(DrillSession).filter_by(user_id=u.id, day=local_date)).first() is None:
            self.check_plan(rep, local_date)
        stop_after = self.rng.choice([1, 2]) if self.rng.random() < 0.08 else None
        answered = self.answer_items(rep, stop_after)
        self.check_session(rep, local_date)
        if stop_after is None and answered and self.rng.random() < 0.15:
            added = drill.practise_more(u, self.clock.now())
            self.stats["practise more"] += 1
            self.failures.check(added > 0, f"{u.name}: practise more added nothing on {local_date}")
            self.answer_items(rep, None)

    def check_plan(self, rep: Rep, local_date: date):
        """The day's drill as planned when first opened: every skill overdue then is in it, or the drill is full of
        overdue skills of lower predicted recall (the backlog is spread, lowest recall first)."""
        u, now, sched = rep.user, self.clock.now(), drill.scheduler()
        states = drill.memory_states(u.id)
        drill.current_item(u, now)
        session = db.session.scalars(db.select(DrillSession).filter_by(user_id=u.id, day=local_date)).one()
        planned = {p["skill"] for p in session.plan}
        capacity = scheduling.session_capacity(session.usual_seconds or None, self.app.config["SESSION_SECONDS"])
        drillable = set(drill.drillable_skills())  # a skill whose scenarios were all retired is not practised
        overdue = {skill: scheduling.predicted_recall(s, now, sched) for skill, s in states.items()
                   if s.due <= now and skill in drillable}
        left_out = {skill: r for skill, r in overdue.items() if skill not in planned}
        if left_out:
            self.stats["overdue left for later"] += len(left_out)
            worst_in = max((overdue[p] for p in planned if p in overdue), default=None)
            self.failures.check(len(planned) >= capacity and worst_in is not None and worst_in <= min(left_out.values()),
                                f"{u.name} {local_date}: {sorted(left_out)} overdue but not planned; planned {sorted(planned)}"
                                f" (capacity {capacity})")

    def answer_items(self, rep: Rep, stop_after: int | None) -> int:
        u, done = rep.user, 0
        while (item := drill.current_item(u, self.clock.now())) is not None:
            if stop_after is not None and done >= stop_after:
                break
            self.clock.advance(timedelta(seconds=self.rng.randint(*rep.seconds)))
            answer = right_answer(item) if self.rng.random() < rep.p_right else wrong_answer(item)
            self.failures.check(item.presentation.scenario_id not in self.retired or item.presentation.shown_at < self.retired_at,
                                f"{u.name}: {item.presentation.scenario_id} shown at {item.presentation.shown_at}, retired")
            attempt = drill.submit_answer(u, item.presentation.token, answer, self.clock.now())
            if getattr(self, "reimported_at", None) and item.presentation.scenario_id == REIMPORTED \
                    and item.presentation.shown_at >= self.reimported_at:
                current = db.session.scalar(db.select(db.func.max(ScenarioVersion.id)).filter_by(scenario_id=REIMPORTED))
                self.failures.check(attempt.scenario_version_id == current,
                                    f"{u.name}: {REIMPORTED} shown after the re-import as version {attempt.scenario_version_id}")
            done += 1
            self.stats["answers"] += 1
            self._answers.pop(u.id, None)
        return done

    def check_session(self, rep: Rep, local_date: date):
        """The day's planned drill fits the session (capacity at the rep's usual pace), due skills lowest recall first;
        after the vacation every skill overdue at the return comes back within a few drills."""
        u = rep.user
        session = db.session.scalars(db.select(DrillSession).filter_by(user_id=u.id, day=local_date)).one()
        planned = [p for p in session.plan if p.get("round", 1 if p.get("reason") == "extra" else 0) == 0]
        capacity = scheduling.session_capacity(session.usual_seconds or None, self.app.config["SESSION_SECONDS"])
        f = self.failures.check
        f(len(planned) <= capacity, f"{u.name} {local_date}: {len(planned)} planned, capacity {capacity}")
        due = [p["recall"] if p["recall"] is not None else 0.0 for p in planned if p["reason"] == "due"]
        f(due == sorted(due), f"{u.name} {local_date}: due skills not lowest recall first: {due}")
        reasons = [p["reason"] for p in planned]
        f(reasons == sorted(reasons, key=lambda r: r != "due"), f"{u.name} {local_date}: new before due: {reasons}")
        if rep.name == VACATION[0] and self.vacation_return is not None:
            if local_date >= self.vacation_return and not self.overdue_at_return and not hasattr(self, "return_checked"):
                back = datetime.combine(self.vacation_return, time(0), tzinfo=ZoneInfo(u.timezone))
                self.overdue_at_return = {s.skill_id for s in db.session.scalars(db.select(MemoryStateRow).where(
                    MemoryStateRow.user_id == u.id, MemoryStateRow.due <= back))}
                self.overdue_drills = 0
                self.return_checked = True
                self.stats["overdue at return"] = len(self.overdue_at_return)
            if self.overdue_at_return:
                self.overdue_drills += 1
                back = datetime.combine(self.vacation_return, time(0), tzinfo=ZoneInfo(u.timezone))
                reviewed = set(db.session.scalars(db.select(Attempt.skill_id).where(
                    Attempt.user_id == u.id, Attempt.answered_at >= back)))
                self.overdue_at_return -= reviewed
                f(self.overdue_drills <= 4 or not self.overdue_at_return,
                  f"{u.name}: {sorted(self.overdue_at_return)} overdue at the return {self.vacation_return} "
                  f"still not back after {self.overdue_drills} drills")
                if self.overdue_drills > 4:
                    self.overdue_at_return = set()

    # ---- the day's end: pages and figures ----------------------------------------------------------------------------
    def on_check(self, _):
        f = self.failures.check
        now = self.clock.now()
        day = now.date()
        n = self.day_number
        for i, rep in enumerate(REPS):
            u = rep.user
            if (i + n) % 3 and day.weekday() != 0 or not u.active:  # each rep's pages every third day, all on Mondays
                continue
            for url in ("/drill/",) + (("/settings",) if day.weekday() == 0 else ()):
                response = rep.client.get(url)
                f(response.status_code == 200, f"{day}: {u.name} GET {url}: {response.status_code}")
            response = rep.client.get("/progress/")
            f(response.status_code == 200, f"{day}: {u.name} GET /progress/: {response.status_code}")
            page = " ".join(response.get_data(as_text=True).split())
            answers = self.answers_of(u.id)
            shown = re.search(r"<p>(\d+) answers, (\d+) right", page)
            f(shown is not None and (int(shown[1]), int(shown[2])) == (len(answers), sum(a.correct for a in answers)),
              f"{day}: {u.name}'s progress says {shown and shown.group(0)}; attempts: {len(answers)} answers, "
              f"{sum(a.correct for a in answers)} right")
            # the streak: days drilled back from today (from yesterday while today is not drilled yet); only a working
            # day without a drill ends it, days off and vacation days pause it
            drilled = {a.answered_at.astimezone(ZoneInfo(u.timezone)).date() for a in answers}
            today, streak = drill.local_day(u, now), 0
            d = today if today in drilled else today - timedelta(days=1)
            while drilled and d >= min(drilled):
                if d in drilled:
                    streak += 1
                elif rep.works_on(d) and not self.on_vacation(u, d):
                    break
                d -= timedelta(days=1)
            shown = re.search(r"streak (\d+) days?", page)
            f(shown is not None and int(shown[1]) == streak, f"{day}: {u.name}'s progress says {shown and shown.group(0)}, "
                                                             f"from the attempts {streak}")
            self.stats["longest streak"] = max(self.stats["longest streak"], streak)
        skills = drill.drillable_skills()
        for i, (team_name, manager) in enumerate(self.managers.items()):
            client = self.client_of(manager)
            team = self.teams[team_name]
            db.session.refresh(team)
            members = sorted(team.members, key=lambda u: u.id)
            mine = (n + i) % 2 == 0  # each manager's pages and figures every other day
            if not mine:
                continue
            urls = [f"/team/{team.id}"]
            urls += [f"/team/{team.id}/skill/{skills[n // 2 % len(skills)]}"] if n % 4 < 2 else \
                [f"/team/rep/{members[n // 2 % len(members)].id}"] if members else []
            if day.weekday() == 0:
                urls += [f"/team/{team.id}/chart/{name}.svg" for name in ("retention", "weekly", "forecast", "calibration")]
            for url in urls:
                response = client.get(url)
                f(response.status_code == 200, f"{day}: {manager.name} GET {url}: {response.status_code}")
            self.check_dashboard(manager, team, client, weekly=day.weekday() in (0, 3))

    def csv_of(self, client, team, name):
        response = client.get(f"/team/{team.id}/data/{name}.csv")
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.get_data(as_text=True))))[1:]

    def check_dashboard(self, manager, team, client, *, weekly: bool):
        now = self.clock.now()
        members = [u for u in team.members if u.role == "rep" and u.active]
        viewer_today = drill.local_day(manager, now)
        if weekly:
            self.check_weekly(team, client, members, viewer_today)
        self.check_at_risk(team, client, members)

    def check_weekly(self, team, client, members, viewer_today):
        now, f = self.clock.now(), self.failures.check
        # true retention by week: the first review per rep, skill and day of skills learned on an earlier day
        rows = []
        for u in team.members:  # a deactivated rep's history stays in the team's curves
            zone = ZoneInfo(u.timezone)
            rows += [AttemptRow(u.id, a.skill_id, a.answered_at, a.answered_at.astimezone(zone).date(), a.correct)
                     for a in self.answers_of(u.id)]
        weeks: dict[date, list[int]] = defaultdict(lambda: [0, 0])
        for row, _ in first_tries(rows):
            if week_start(row.day) <= week_start(viewer_today):
                weeks[week_start(row.day)][0] += 1
                weeks[week_start(row.day)][1] += row.correct
        mine = {w.isoformat(): (n, right / n) for w, (n, right) in weeks.items() if n}
        shown = {w: (int(n), float(share)) for w, n, share in self.csv_of(client, team, "weekly")}
        f(mine.keys() == shown.keys() and all(mine[w][0] == shown[w][0] and abs(mine[w][1] - shown[w][1]) < 1e-4 for w in mine),
          f"{now}: {team.name}'s true retention by week {shown}, from the attempts {mine}")
        # retention since learning: the same first tries, by whole weeks since the skill was first learned
        since: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        for row, learned in first_tries(rows):
            since[(row.day - learned).days // 7][0] += 1
            since[(row.day - learned).days // 7][1] += row.correct
        mine = {int(w): n for w, (n, _) in since.items()}
        shown = {int(row[0]): int(row[1]) for row in self.csv_of(client, team, "retention") if int(row[1])}
        f(mine == shown, f"{now}: {team.name}'s first tries by week since learning {shown}, from the attempts {mine}")
        # participation: each rep's working days in the team to their own today (counted once they drilled on it)
        shown = {row[0]: (int(row[1]), int(row[2])) for row in self.csv_of(client, team, "participation")}
        mine = {}
        for rep in REPS:
            u = rep.user
            today = drill.local_day(u, now)
            drilled_today = any(a.answered_at.astimezone(ZoneInfo(u.timezone)).date() == today for a in self.answers_of(u.id))
            start = drill.local_day(u, u.created_at)
            counted = self.participation(team, start, today if drilled_today else today - timedelta(days=1), only=rep)
            if counted[1] or self.team_on(rep, today) == team.name:
                mine[u.name] = counted
        f(mine == shown, f"{now}: {team.name}'s participation {shown}, from the attempts {mine}")

    def idle(self, u: User, last: date) -> bool:
        """Whether the rep went 7 working days without a drill as of ``last`` (a day of theirs): their working days
        since their last drill up to it, vacation days not counted, their today only once it is over; not while away."""
        today = drill.local_day(u, self.clock.now())
        days = {a.answered_at.astimezone(ZoneInfo(u.timezone)).date() for a in self.answers_of(u.id)}
        days = {d for d in days if d <= last}
        if self.on_vacation(u, last) or last in days:
            return False
        end = last - timedelta(days=1) if last == today else last
        since = max(days) + timedelta(days=1) if days else drill.local_day(u, u.created_at)
        rep = self.by_name[u.name]
        count = sum(1 for k in range((end - since).days + 1)
                    if rep.works_on(d := since + timedelta(days=k)) and not self.on_vacation(u, d))
        return count >= 7

    def check_at_risk(self, team, client, members):
        now, f = self.clock.now(), self.failures.check
        # at risk: a skill whose team mean or some rep's recall now (skills practised today left out) is under 70%
        sched = drill.scheduler()
        recall: dict[str, dict[int, float]] = defaultdict(dict)
        for u in members:
            by_skill = defaultdict(list)
            for a in self.answers_of(u.id):
                by_skill[a.skill_id].append((a.answered_at, a.rating))
            for skill, reviews in by_skill.items():
                state = scheduling.replay(skill, reviews, sched)
                if drill.local_day(u, state.last_review) == drill.local_day(u, now):
                    continue
                recall[skill][u.id] = scheduling.recall_now(state, now, sched)
        risky = {}
        for skill, by_rep in recall.items():
            mean = sum(by_rep.values()) / len(by_rep)
            under = [r for r in by_rep.values() if recall_percent(r) < 70]
            if recall_percent(mean) < 70 or under:
                risky[skill] = len(under)
        table = self.csv_of(client, team, "at-risk")
        listed = {row[1]: int(row[4]) for row in table if row[0] == "skill"}
        f(listed == risky, f"{now}: {team.name}'s skills at risk {listed}, from the attempts {risky}")
        # no drill in the last 7 working days: the rep's working days since their last drill (or since they joined),
        # vacation days not counted, their today only once it is over; nobody on vacation today
        idle = {u.name for u in members if self.idle(u, drill.local_day(u, now))}
        shown = {row[1] for row in table if row[0] == "rep"}
        f(shown == idle, f"{now}: {team.name}'s reps without a drill in 7 working days {shown}, from the attempts {idle}")
        self.stats["idle seen"] += len(idle)


@pytest.fixture
def simulation(app, ctx, content, clock, inbox, tmp_path):
    sim = Simulation(app, clock, inbox, tmp_path)
    sim.setup()
    return sim


@pytest.mark.simulation
def test_four_months_of_a_small_company(simulation):
    failures = simulation.run(DAYS)
    stats = dict(simulation.stats)
    print("simulation:", stats)
    # every manager had the digest of every week they led a team through (from the first Monday after the start)
    first, last = simulation.started.date(), simulation.clock.now()
    for manager in simulation.managers.values():
        monday = first + timedelta(days=7 - first.weekday())
        while notify.digest_due(ZoneInfo(manager.timezone), last) >= datetime.combine(monday, time(6), tzinfo=ZoneInfo(manager.timezone)):
            week = f"{monday.isocalendar().year}-W{monday.isocalendar().week:02d}"
            failures.check((manager.id, week) in simulation.digests, f"{manager.name}: no digest in {week}")
            monday += timedelta(days=7)
    assert not failures, f"{len(failures)} invariant(s) broken:\n" + "\n".join(failures[:40])
    assert stats["reminders"] > 100 and stats["digests"] >= 2 * (DAYS // 7 - 1) and stats["practise more"] > 0
