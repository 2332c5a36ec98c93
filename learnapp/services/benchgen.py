"""A synthetic organisation for benchmarks: thousands of reps, 40 skills, a year of practice, in bulk.

Running every answer through the drill services (as the demo does) takes about a millisecond per
answer, far too slow for ten million. This is the faithful bulk equivalent: each rep and skill
follows an expanding review schedule (the interval grows after a right answer and resets after a
wrong one, as FSRS's does), right answers are drawn with the recall the forgetting curve predicts,
and the rows written (sessions, presentations, attempts, memory states) have the same shape as the
app's own. Rollups are then rebuilt from the attempts, exactly as the nightly job would.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from werkzeug.security import generate_password_hash

from learnapp.domain import scheduling
from learnapp.extensions import db
from learnapp.models import Scenario, ScenarioVersion, Skill, Team, User
from learnapp.services import rollups
from learnapp.services.content import content_hash
from learnapp.services.drill import scheduler as drill_scheduler

SKILLS = 40
PASSWORD = "bench-pass-2026"


@dataclass
class GenerateReport:
    teams: int
    reps: int
    attempts: int
    sessions: int


def _skills(now: datetime, variants: int = 1) -> list[tuple[str, tuple[int, ...]]]:
    """The imported skills, topped up to 40 with copies of their scenarios; returns each skill with the version ids
    of up to ``variants`` of its scenarios (the skill's first one first)."""
    existing = list(db.session.scalars(db.select(Skill).order_by(Skill.position, Skill.id)))
    if not existing:
        raise RuntimeError("import the content first: flask --app learnapp content import")
    for i in range(len(existing), SKILLS):
        model = existing[i % len(existing)]
        skill_id = f"bench-{i:02d}-{model.id}"[:80]
        if db.session.get(Skill, skill_id) is None:
            db.session.add(Skill(id=skill_id, title=f"{model.title} ({i})", summary=model.summary, position=100 + i,
                                 lesson_md=model.lesson_md, updated_at=now))
            versions = db.select(ScenarioVersion).join(Scenario, Scenario.id == ScenarioVersion.scenario_id)
            source = db.session.scalars(versions.where(Scenario.skill_id == model.id)).first()
            more = db.session.scalars(versions.where(Scenario.skill_id == model.id, Scenario.id != source.scenario_id,
                                                     ScenarioVersion.number == 1)
                                      .order_by(ScenarioVersion.id).limit(variants - 1)).all() if variants > 1 else []
            for n, copied in enumerate([source, *more]):
                data = dict(copied.data, id=f"{skill_id}-s{n + 1 if n else ''}", skill=skill_id)
                db.session.add(Scenario(id=data["id"], skill_id=skill_id, kind=data["kind"], status="active", updated_at=now))
                db.session.flush()
                db.session.add(ScenarioVersion(scenario_id=data["id"], number=1, content_hash=content_hash(data), data=data,
                                               created_at=now, created_by="bench"))
    db.session.flush()
    firsts = db.session.execute(  # each scenario's first version
        db.select(Scenario.skill_id, db.func.min(ScenarioVersion.id)).join(ScenarioVersion, ScenarioVersion.scenario_id == Scenario.id)
        .group_by(Scenario.id)).all()
    by_skill: dict[str, list[int]] = {}
    for skill, version in firsts:
        by_skill.setdefault(skill, []).append(version)
    return sorted((skill, tuple(sorted(versions)[:variants])) for skill, versions in by_skill.items())[:SKILLS]


def _teams_and_reps(count: int, now: datetime, rng: random.Random) -> list[tuple[int, int]]:
    """Teams of 8 to 50 reps, each with a manager; returns (user id, team id) for every rep."""
    password = generate_password_hash(PASSWORD)  # one hash for all: hashing 10,000 passwords takes minutes
    made, team_no, result = 0, db.session.scalar(db.select(db.func.count(Team.id))) or 0, []
    while made < count:
        size = min(rng.randint(8, 50), count - made) if count - made >= 8 else count - made
        team_no += 1
        team = Team(name=f"Bench team {team_no:04d}")
        manager = User(email=f"manager{team_no:04d}@bench.test", name=f"Manager {team_no}", role="manager",
                       password_hash=password, created_at=now)
        team.managers.append(manager)
        db.session.add_all([team, manager])
        reps = [User(email=f"rep{made + i:05d}@bench.test", name=f"Rep {made + i:05d}", role="rep", team=team,
                     password_hash=password, created_at=now) for i in range(size)]
        db.session.add_all(reps)
        db.session.flush()
        result += [(r.id, team.id) for r in reps]
        made += size
    return result


def _rep_history(user_id: int, skills: list[tuple[str, tuple[int, ...]]], start: date, days: int, rng: random.Random):
    """Yield (day, skill, version, correct, recall, seconds) for one rep, plus final states per skill; the version is
    drawn among the skill's (no draw when there is one, so one variant per skill gives the data it always gave)."""
    diligence = rng.choice((0.95, 0.85, 0.7, 0.5))
    ability = rng.uniform(0.75, 1.0)
    pause = rng.randrange(days) if rng.random() < 0.2 else None
    speed = rng.uniform(12, 40)
    due: dict[str, int] = {}
    stability: dict[str, float] = {}
    last: dict[str, int] = {}
    order = list(skills)
    intro = 0
    events = []
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() >= 5 or rng.random() > diligence or (pause is not None and pause <= d < pause + 15):
            continue
        todays = [s for s in order[:intro] if due[s[0]] <= d][:10]
        for skill, versions in order[intro:intro + 3]:
            due[skill], stability[skill], last[skill] = d, 1.0, d
            todays.append((skill, versions))
        intro = min(len(order), intro + 3)
        for skill, versions in todays:
            elapsed = d - last[skill]
            recall = (1 + 0.98 * elapsed / stability[skill]) ** -0.1542 if elapsed else None
            correct = rng.random() < (recall or 0.7) * ability + (0.1 if recall else 0)
            stability[skill] = min(stability[skill] * (1.25 + 0.35 * ability), 40.0) if correct else max(0.5, stability[skill] * 0.3)
            last[skill] = d
            due[skill] = d + max(1, round(stability[skill] * 0.9))
            version = versions[0] if len(versions) == 1 else rng.choice(versions)
            events.append((day, skill, version, correct, recall, rng.lognormvariate(math.log(speed), 0.35)))
    states = [(skill, stability[skill], due[skill], last[skill]) for skill, _ in order[:intro]]
    return events, states


def generate(reps: int, days: int, now: datetime, seed: int = 1, variants: int = 1) -> GenerateReport:
    """Create teams, reps and ``days`` of practice ending today, then rebuild the rollups; each rep answers one of up
    to ``variants`` scenarios per skill."""
    rng = random.Random(seed)
    skills = _skills(now, variants)
    members = _teams_and_reps(reps, now, rng)
    db.session.commit()
    start = (now - timedelta(days=days)).date()
    session_id = (db.session.scalar(db.text("select coalesce(max(id), 0) from drill_session")) or 0)
    presentation_id = (db.session.scalar(db.text("select coalesce(max(id), 0) from presentation")) or 0)
    scenario_of = dict(db.session.execute(db.select(ScenarioVersion.id, ScenarioVersion.scenario_id)).all())
    buffers: dict[str, list] = {"drill_session": [], "presentation": [], "attempt": [], "memory_state": []}
    total = sessions = 0
    fsrs = drill_scheduler()
    for user_id, _team in members:
        events, _states = _rep_history(user_id, skills, start, days, rng)
        reviews: dict[str, list] = {}
        by_day: dict[date, list] = {}
        for event in events:
            by_day.setdefault(event[0], []).append(event)
        for day, todays in by_day.items():
            session_id += 1
            sessions += 1
            clock = datetime.combine(day, time(8), tzinfo=timezone.utc) + timedelta(minutes=rng.randint(0, 540))
            plan = [{"skill": e[1], "reason": "due", "recall": e[4]} for e in todays]
            buffers["drill_session"].append((session_id, user_id, day, json.dumps(plan), clock, clock))
            for position, (_, skill, version, correct, recall, seconds) in enumerate(todays):
                presentation_id += 1
                answered = clock + timedelta(seconds=seconds)
                buffers["presentation"].append((presentation_id, secrets.token_hex(16), session_id, user_id, position, skill,
                                                scenario_of[version], version, "[]", recall, clock))
                verdict = json.dumps({"correct": correct, "score": float(correct)})
                buffers["attempt"].append((presentation_id, user_id, skill, scenario_of[version], version, clock, answered,
                                           int(seconds * 1000), '"bench"', correct, float(correct), verdict,
                                           3 if correct else 1, recall, recall is None))
                reviews.setdefault(skill, []).append((answered, 3 if correct else 1))
                clock = answered
                total += 1
        for skill, answers in reviews.items():  # what the app would hold: FSRS over the rep's answers, in order
            state = scheduling.replay(skill, answers, fsrs)
            buffers["memory_state"].append((user_id, skill, state.stability, state.difficulty, state.due, state.last_review,
                                            state.state, state.step, state.reviews, state.lapses, answers[0][0].date()))
        if len(buffers["attempt"]) > 200_000:
            _flush(buffers)
    _flush(buffers)
    db.session.commit()
    rollups.rebuild()
    return GenerateReport(teams=len({t for _, t in members}), reps=len(members), attempts=total, sessions=sessions)


def _sqlite(value):
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


COLUMNS = {
    "drill_session": "id, user_id, day, plan, started_at, finished_at",
    "presentation": "id, token, session_id, user_id, position, skill_id, scenario_id, scenario_version_id, "
                    "option_order, predicted_recall, shown_at",
    "attempt": "presentation_id, user_id, skill_id, scenario_id, scenario_version_id, shown_at, answered_at, "
               "duration_ms, answer, correct, score, verdict, rating, predicted_recall, first_exposure",
    "memory_state": "user_id, skill_id, stability, difficulty, due, last_review, state, step, reviews, lapses, introduced_on",
}


def _flush(buffers: dict[str, list]) -> None:
    """Write buffered rows with the driver's fastest path (COPY on PostgreSQL, executemany on SQLite)."""
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    for table, rows in buffers.items():
        if not rows:
            continue
        if postgres:
            cursor = connection.connection.driver_connection.cursor()
            with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:  # the text format SQLAlchemy itself stores and reads on SQLite
            marks = ", ".join("?" for _ in COLUMNS[table].split(","))
            connection.connection.driver_connection.executemany(
                f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})", (tuple(_sqlite(v) for v in row) for row in rows))
        rows.clear()
    if postgres:
        for table in ("drill_session", "presentation", "attempt"):
            connection.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
