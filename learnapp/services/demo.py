"""The demo: two seeded teams with twelve weeks of practice, simulated through the real drill services.

Every simulated answer goes through ``drill.current_item`` and ``drill.submit_answer``, so the
plans, grading, FSRS schedules and attempts in the demo are exactly what real reps would produce.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from learnapp.domain import grading
from learnapp.domain.clock import FixedClock
from learnapp.domain.model import Kind
from learnapp.extensions import db
from learnapp.models import User
from learnapp.models.user import WEEKDAYS
from learnapp.services import content as content_service
from learnapp.services import drill
from learnapp.services.users import create_user, set_working_days

DEMO_PASSWORD = "demo-pass-2026"
DEMO_DOMAIN = "demo.learnapp.test"
FIRST_NAMES = ["Ana", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kemi", "Luca",
               "Mira", "Noah", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara"]
FIRST_TEAM = "Field Sales North"  # the demo manager leads it
SECOND_TEAM = "Inside Sales South"  # a second, steadier team, so the organisation line differs from the manager's team
SECOND_TEAM_REPS = 6


@dataclass(frozen=True)
class RepProfile:
    """How a simulated rep practises: share of working days drilled, skill, speed, and breaks (week ranges)."""

    name: str
    diligence: float
    ability: float
    seconds: float
    breaks: tuple[tuple[int, int], ...] = ()
    team: str = ""
    shift: tuple[int, tuple[int, ...]] | None = None  # (week, weekdays): works these days from that week on

    def weekdays(self, week: int) -> tuple[int, ...]:
        return self.shift[1] if self.shift is not None and week >= self.shift[0] else WEEKDAYS


def profiles(count: int, weeks: int, rng: random.Random, team: str = "") -> list[RepProfile]:
    """A mix of diligent, average and patchy reps; some take a holiday, one stopped three weeks ago, one after a month,
    and one moved to Tuesday-Saturday four weeks ago (their manager changed their working days)."""
    result = []
    for i in range(count):
        diligence = [0.95, 0.85, 0.7, 0.5][i % 4]
        breaks: tuple[tuple[int, int], ...] = ()
        if i % 5 == 3:
            breaks = ((weeks // 2, weeks // 2 + 2),)  # a two-week holiday
        if i == count - 2:
            breaks = ((weeks - 3, weeks + 1),)  # stopped three weeks ago
        if i == count - 1:
            breaks = ((min(4, weeks - 1), weeks + 1),)  # drilled for a month, then stopped
        shift = (max(1, weeks - 4), (1, 2, 3, 4, 5)) if i == 1 and weeks > 1 else None
        result.append(RepProfile(name=FIRST_NAMES[i % len(FIRST_NAMES)] + ("" if i < len(FIRST_NAMES) else str(i)),
                                 diligence=diligence, ability=rng.uniform(0.4, 0.95),
                                 seconds=rng.uniform(15, 40), breaks=breaks, team=team, shift=shift))
    return result


def second_team(first: int, rng: random.Random) -> list[RepProfile]:
    """Steady reps in another team, named after the first team's."""
    return [RepProfile(name=FIRST_NAMES[(first + i) % len(FIRST_NAMES)] + ("" if first + i < len(FIRST_NAMES) else str(first + i)),
                       diligence=0.9, ability=rng.uniform(0.7, 0.95), seconds=rng.uniform(15, 30), team=SECOND_TEAM)
            for i in range(SECOND_TEAM_REPS)]


def demo_teams(reps: int, team_name: str = FIRST_TEAM) -> dict[str, int]:
    """The teams ``build_demo`` makes, with their number of reps: the manager's team of ``reps`` and the second team."""
    return {team_name: reps, SECOND_TEAM: SECOND_TEAM_REPS}


def build_demo(clock: FixedClock, content_paths: list[str], *, reps: int = 12, weeks: int = 12, seed: int = 7,
               team_name: str = FIRST_TEAM) -> dict[str, str]:
    """Import content, create the accounts and simulate ``weeks`` of practice ending yesterday.

    Returns the logins (email -> role). The clock must already stand at the moment the demo is
    built; it is moved back to the start of the history and ends where it began.
    """
    end = clock.now()
    start_day = (end - timedelta(weeks=weeks)).date()
    clock.set(datetime.combine(start_day, time(7, 0), tzinfo=timezone.utc))
    report = content_service.import_content(content_paths, clock.now())
    if not report.ok:
        raise RuntimeError("demo content does not pass the check:\n" + "\n".join(map(str, report.errors)))
    rng = random.Random(seed)
    people = profiles(reps, weeks, rng, team_name) + second_team(reps, rng)
    logins = _accounts(clock.now(), people, team_name)
    users = {u.name: u for u in db.session.scalars(db.select(User).filter_by(role="rep"))}
    manager = db.session.scalars(db.select(User).filter_by(email=f"manager@{DEMO_DOMAIN}")).one()
    day = start_day
    while day < end.date():
        week = (day - start_day).days // 7
        for profile in people:
            if profile.shift is not None and day == start_day + timedelta(weeks=profile.shift[0]):
                # the manager changes the days the evening before: they count from the rep's next day
                clock.set(datetime.combine(day - timedelta(days=1), time(23, 0), tzinfo=timezone.utc))
                set_working_days(users[profile.name], map(str, profile.shift[1]), by=manager, now=clock.now())
            if day.weekday() in profile.weekdays(week) and _drills_today(profile, week, rng):
                clock.set(datetime.combine(day, time(8, 0), tzinfo=timezone.utc) + timedelta(minutes=rng.randint(0, 600)))
                simulate_drill(users[profile.name], profile, clock, rng)
        day += timedelta(days=1)
    clock.set(end)
    return logins


def _accounts(now: datetime, people: list[RepProfile], team_name: str) -> dict[str, str]:
    logins = {}
    for role, name in (("manager", "Maria Manager"), ("trainer", "Tom Trainer"), ("admin", "Ada Admin")):
        email = f"{role}@{DEMO_DOMAIN}"
        create_user(email, name, DEMO_PASSWORD, role, team=team_name if role == "manager" else None, now=now)
        logins[email] = role
    for profile in people:
        email = f"{profile.name.lower()}@{DEMO_DOMAIN}"
        create_user(email, profile.name, DEMO_PASSWORD, "rep", team=profile.team or team_name, now=now)
        logins[email] = "rep"
    return logins


def _drills_today(profile: RepProfile, week: int, rng: random.Random) -> bool:
    if any(first <= week < last for first, last in profile.breaks):
        return False
    return rng.random() < profile.diligence


def simulate_drill(user: User, profile: RepProfile, clock: FixedClock, rng: random.Random) -> int:
    """Answer today's whole drill as this rep would; returns the number of answers."""
    model = content_service.current_stage_model()
    answered = 0
    while (item := drill.current_item(user, clock.now())) is not None:
        recall = item.presentation.predicted_recall
        chance = 0.35 + 0.3 * profile.ability if recall is None else 0.1 + 0.85 * recall * (0.7 + 0.3 * profile.ability)
        right = grading.correct_answer(item.scenario, model)
        answer = right if rng.random() < chance else _wrong_answer(item, right, rng)
        clock.advance(timedelta(seconds=max(4.0, rng.gauss(profile.seconds, profile.seconds / 4))))
        drill.submit_answer(user, item.presentation.token, list(answer) if isinstance(answer, tuple) else answer, clock.now())
        answered += 1
    return answered


def _wrong_answer(item: drill.DrillItem, right, rng: random.Random):
    if item.scenario.kind is Kind.ORDER_STEPS:
        order = list(right)
        i = rng.randrange(len(order) - 1)
        order[i], order[i + 1] = order[i + 1], order[i]
        return order
    return rng.choice([o.key for o in item.options if o.key != right])
