"""A real installation's data through every migration, one step at a time (SQLite, or PostgreSQL through
TEST_DATABASE_URL): from head down to 0001 and back up, and up from its rows written at 0001's, 0008's and 0015's
schema. At every step no row of a table that exists on both sides is lost, and no value of a column both sides have
changes; `flask db check` passes at head, and the app works on the result (a rep answers the item shown before the
migrations, the manager's dashboard and the trainer's list and lesson history show, the nightly job finds no memory
state to repair).

The installation: the bench generator's reps and weeks of answers (learnapp.services.benchgen), the demo's reps drilled
through the real services (their verdicts, stage rules shown under, working-day changes), and the rows the demo and
the admins add: vacations, a team move, a rep who left, an erased person, notifications (one refused), job runs,
edited content (second versions) and the item rollups.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from learnapp.app import create_app
from learnapp.domain.clock import FixedClock
from learnapp.extensions import db
from learnapp.services.content import content_hash
from tests.conftest import CONTENT, START, Auth, RequestClient, database_url
from tests.helpers import copy_content, empty_database, form_for, right_answer

# What a downgrade below a column's revision loses for good (the column goes; back up, it holds its default, as in a
# database upgraded from before that revision): the reason to restore a backup rather than `db downgrade`. Tables
# dropped by a downgrade come back empty, except the item rollups (0016 fills them from the attempts) and
# lesson_version (0003: version 1 of each lesson as it stands). user_account.erased_at comes back for erased
# accounts, with the upgrade's time (0015). The dashboards' rollups (0002) are empty until the nightly rebuild.
ADDED_COLUMNS = {  # the columns added after 0001, and the revision that adds each
    ("skill", "current_number"): "0003",  # back to 1, the version 0003 writes
    ("user_account", "reminders_on"): "0005", ("user_account", "reminder_time"): "0005",
    ("user_account", "reminder_days"): "0005",  # reminders on, at 09:00, Monday to Friday
    ("drill_session", "usual_seconds"): "0008",  # NULL, computed per answer as for sessions before 0008
    ("notification", "refused"): "0009",  # NULL: the claim stays, so the email is still not sent again
    ("user_account", "session_token"): "0010",  # a new token each, every login ends once
    ("user_account", "working_days"): "0011",  # Monday to Friday
    ("user_account", "left_on"): "0013",  # NULL: a rep who left drops out of past ranges too, as before 0013
    ("presentation", "stage_model_id"): "0018",  # NULL, chosen by time as before 0018
    ("scenario_version", "stage_model_id"): "0019",  # NULL, the editor's history chooses by time as before 0019
}
BACKFILLS = {"0015": {("user_account", "reminders_on")}}  # values an upgrade may change: an erased person's reminders go off
DERIVED_TABLES = {"rollup_item_rep", "rollup_item_time", "rollup_item_wrong"}  # 0016 fills them from the attempts


def _revisions(app) -> list[str]:
    """Every revision, oldest first."""
    scripts = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    return [r.revision for r in reversed(list(scripts.walk_revisions()))]


def _app(tmp_path, clock):
    url = database_url(tmp_path)
    empty_database(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url, "CLOCK": clock,
                      "CONTENT_DIRS": CONTENT})
    app.test_client_class = RequestClient
    return app


@pytest.fixture
def migrating(tmp_path, clock):
    app = _app(tmp_path, clock)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()
    empty_database(database_url(tmp_path))


@dataclass
class Installation:
    rows: dict[str, list[dict]]  # every table's rows, as reflection reads them
    head: dict  # and as _snapshot compares them
    people: dict[str, str]


@pytest.fixture(scope="module")
def installation(tmp_path_factory) -> Installation:
    """Built once per database: each test writes its rows into the schema it starts from (_write_rows)."""
    tmp_path = tmp_path_factory.mktemp("installation")
    app = _app(tmp_path, FixedClock(START))
    with app.app_context():
        people = _installation(tmp_path, app.config["CLOCK"])
        head = _snapshot()
        rows = _rows(set(head))
        db.engine.dispose()
    empty_database(database_url(tmp_path))
    return Installation(rows, head, people)


def _installation(tmp_path, clock) -> dict:
    """A working installation at head, as a company's would be after some weeks; returns a few of its people."""
    from learnapp import jobs
    from learnapp.models import Notification, Team, User
    from learnapp.services import benchgen, demo, drill
    from learnapp.services.content import import_content
    from learnapp.services.users import erase_person, update_account
    from learnapp.services.vacations import add_vacation

    upgrade()
    end = clock.now()
    logins = demo.build_demo(clock, CONTENT, reps=5, weeks=2)  # real answers, working-day changes
    benchgen.generate(24, 21, clock.now(), seed=3, variants=2)  # bulk history in two more teams
    admin = db.session.scalars(sa.select(User).filter_by(role="admin")).one()
    reps = list(db.session.scalars(sa.select(User).filter_by(role="rep").where(User.email.in_(logins)).order_by(User.id)))
    mover, leaver, erased, resting = reps[0], reps[1], reps[2], reps[3]
    other = db.session.scalars(sa.select(Team).where(Team.name == demo.SECOND_TEAM)).one()
    update_account(mover, name=mover.name, email=mover.email, role="rep", timezone=mover.timezone, team_id=other.id,
                   leads=(), active=True, by=admin, now=clock.now())
    update_account(leaver, name=leaver.name, email=leaver.email, role="rep", timezone=leaver.timezone,
                   team_id=leaver.team_id, leads=(), active=False, by=admin, now=clock.now())
    update_account(erased, name=erased.name, email=erased.email, role="rep", timezone=erased.timezone,
                   team_id=erased.team_id, leads=(), active=False, by=admin, now=clock.now())
    erase_person(erased, by=admin, now=clock.now())
    today = end.date()
    add_vacation(resting, today + timedelta(days=7), today + timedelta(days=11), by=admin, now=clock.now())
    db.session.add_all([Notification(user_id=reps[4].id, kind="reminder", run_key=(today - timedelta(days=d)).isoformat(),
                                     sent_at=end - timedelta(days=d)) for d in range(1, 4)])
    db.session.add(Notification(user_id=reps[4].id, kind="digest", run_key="2026-W09", sent_at=end,
                                refused="550 5.1.1 no such mailbox"))
    db.session.commit()
    lessons, scenarios = copy_content(tmp_path)  # a trainer's edits: second versions of a lesson and a scenario
    lesson = sorted(lessons.rglob("*.md"))[0]
    lesson.write_text(lesson.read_text() + "\nOne more paragraph, added after the first import.\n")
    scenario = sorted(scenarios.rglob("*.md"))[0]
    scenario.write_text(scenario.read_text().replace("\n---\n", "\n---\nEdited. ", 1))
    report = import_content([str(lessons), str(scenarios)], clock.now(), actor=admin.email)
    assert report.ok, report.errors
    run = jobs.nightly_maintenance(clock.now())  # a job run, the rollups and item discriminations rebuilt
    assert run.status == "ok", run.detail
    shown = drill.current_item(reps[4], clock.now())  # today's drill open on the rep's screen while the admin upgrades
    db.session.commit()
    return {"rep": reps[4].email, "manager": f"manager@{demo.DEMO_DOMAIN}", "trainer": f"trainer@{demo.DEMO_DOMAIN}",
            "shown": shown.presentation.token}


def _value(value):
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


def _snapshot() -> dict[str, dict[tuple, dict]]:
    """Every row of every table, by primary key (all columns, when a table has none)."""
    db.session.remove()
    metadata = sa.MetaData()
    metadata.reflect(db.engine)
    result = {}
    with db.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            key = [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]
            rows = {}
            for row in connection.execute(sa.select(table)).mappings():
                rows[tuple(_value(row[k]) for k in key)] = {k: _value(v) for k, v in row.items()}
            result[table.name] = rows
    return result


def _schema() -> dict[str, tuple]:
    """Each table's columns (type, nullability, default), primary key, foreign keys (with ON DELETE), indexes and
    unique constraints, as the database reports them."""
    db.session.remove()
    inspector = sa.inspect(db.engine)
    return {table: (sorted((c["name"], str(c["type"]), c["nullable"], str(c.get("default"))) for c in inspector.get_columns(table)),
                    inspector.get_pk_constraint(table)["constrained_columns"],
                    sorted((f["constrained_columns"], f["referred_table"], f["referred_columns"], sorted(f["options"].items()))
                           for f in inspector.get_foreign_keys(table)),
                    sorted((i["name"], i["column_names"], i["unique"]) for i in inspector.get_indexes(table)),
                    sorted(u["column_names"] for u in inspector.get_unique_constraints(table)))
            for table in inspector.get_table_names()}


def _differences(before: dict, after: dict, *, ignore: set = frozenset()) -> list[str]:
    """Rows of a table on both sides missing or added after, and values of a column on both sides that changed."""
    found = []
    for table in sorted(set(before) & set(after)):
        old, new = before[table], after[table]
        if missing := set(old) - set(new):
            found.append(f"{table}: {len(missing)} of {len(old)} rows lost, e.g. {sorted(missing, key=str)[:3]}")
        if added := set(new) - set(old):
            found.append(f"{table}: {len(added)} rows added, e.g. {sorted(added, key=str)[:3]}")
        if not old or not new:
            continue
        columns = set(next(iter(old.values()))) & set(next(iter(new.values())))
        for column in sorted(columns):
            if (table, column) in ignore:
                continue
            changed = [k for k in set(old) & set(new) if old[k][column] != new[k][column]]
            if changed:
                k = changed[0]
                found.append(f"{table}.{column}: {len(changed)} values changed, e.g. {k}: {old[k][column]!r} -> {new[k][column]!r}")
    return found


def _step_through(revisions: list[str], migrate, snapshot: dict) -> dict:
    """Migrate one revision at a time, checking that each step keeps what both sides hold; the last snapshot."""
    for revision in revisions:
        db.session.remove()
        migrate(revision=revision)
        if db.engine.dialect.name == "sqlite":  # PostgreSQL enforces them at every statement
            with db.engine.connect() as connection:
                assert not connection.exec_driver_sql("PRAGMA foreign_key_check").all(), revision
        after = _snapshot()
        changed = _differences(snapshot, after, ignore=BACKFILLS.get(revision, set()) if migrate is upgrade else set())
        assert not changed, (revision, changed)
        snapshot = after
    return snapshot


def _only_the_added_columns_lost(head: dict, back: dict, first: set[str], since: str = "0001") -> None:
    """Back at head, every table of revision ``since`` (``first``) holds the same rows, and only columns a later
    revision added lost values; from before 0003, lesson_version holds version 1 of each lesson as it stands (0003's
    backfill), and from before 0015 an erased person is erased again."""
    differences = _differences({t: head[t] for t in first}, back, ignore={("user_account", "erased_at")})
    assert not [d for d in differences if "." not in d.split(":")[0]], differences
    lost = {tuple(d.split(":")[0].split(".")) for d in differences}
    added = {column for column, revision in ADDED_COLUMNS.items() if revision > since}
    assert lost <= added, lost - added
    # an erased person stays erased (0015 marks the placeholder addresses again; when is lost): no admin edits them,
    # and their reminders stay off
    erased = {k for k, row in head["user_account"].items() if row["erased_at"] is not None}
    assert erased and erased == {k for k, row in back["user_account"].items() if row["erased_at"] is not None}
    assert not any(back["user_account"][k]["reminders_on"] for k in erased)
    if since >= "0003":
        return
    assert sorted((v["skill_id"], v["number"]) for v in back["lesson_version"].values()) == sorted((s, 1) for (s,) in back["skill"])
    imported = [v for v in back["lesson_version"].values() if v["content_hash"]]  # benchgen's skills have no hash
    assert imported and all(content_hash(json.loads(v["data"])) == v["content_hash"] for v in imported)  # as an import's


def _app_works(app, clock, people: dict) -> None:
    """`flask db check`, then a rep drills, the manager's dashboard and trainer's list show, the nightly job repairs
    nothing."""
    from learnapp import jobs
    from learnapp.models import Scenario, Skill, User
    from learnapp.services import drill
    from learnapp.services.demo import DEMO_PASSWORD

    db.session.remove()
    check = app.test_cli_runner().invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output
    client = app.test_client()
    auth = Auth(client)
    assert auth.login(people["rep"], DEMO_PASSWORD).status_code == 302
    page = client.get("/drill/").get_data(as_text=True)
    rep = db.session.scalars(sa.select(User).filter_by(email=people["rep"])).one()
    item = drill.current_item(rep, clock.now())
    # the item shown before the upgrade, answered after it (0018's stage_model_id and 0008's usual_seconds were lost
    # with the downgrade, or never there: NULL, read as before those revisions)
    assert item is not None and item.presentation.token == people["shown"], page
    answered = client.post("/drill/answer", data=form_for(page, right_answer(item)), follow_redirects=True)
    assert answered.status_code == 200 and "The rule:" in answered.get_data(as_text=True)
    assert client.get("/progress/").status_code == 200
    assert client.get(f"/lessons/{item.presentation.skill_id}").status_code == 200
    auth.logout()
    assert auth.login(people["manager"], DEMO_PASSWORD).status_code == 302
    dashboard = client.get("/team/", follow_redirects=True)
    assert dashboard.status_code == 200 and "Field Sales North" in dashboard.get_data(as_text=True)
    auth.logout()
    assert auth.login(people["trainer"], DEMO_PASSWORD).status_code == 302
    assert client.get("/author/").status_code == 200
    for skill in db.session.scalars(sa.select(Skill.id).order_by(Skill.current_number.desc(), Skill.position).limit(3)):
        assert client.get(f"/author/lessons/{skill}/edit").status_code == 200
        assert client.get(f"/author/lessons/{skill}/history").status_code == 200
    scenario = db.session.scalars(sa.select(Scenario.id).order_by(Scenario.current_number.desc())).first()
    assert client.get(f"/author/scenarios/{scenario}/history").status_code == 200
    db.session.remove()
    clock.advance(timedelta(days=1))  # the next night (tonight's ran before the upgrade)
    run = jobs.nightly_maintenance(clock.now())
    assert run.status == "ok", run.detail
    assert "0 repaired, 0 restored, 0 removed" in run.detail, run.detail


def test_an_installation_goes_down_to_0001_and_back_up_step_by_step_losing_only_the_dropped_columns(installation, migrating, clock):
    upgrade()
    _write_rows(installation.rows)
    head = _snapshot()
    assert not _differences(installation.head, head)  # the installation as built
    revisions = _revisions(migrating)
    schema = _schema()
    assert len(head["attempt"]) > 2000 and all(head[t] for t in (
        "vacation", "team_move", "working_days_change", "notification", "job_run", "lesson_version",
        "rollup_item_rep", "rollup_item_wrong", "item_discrimination"))
    assert {v["number"] for v in head["lesson_version"].values()} == {v["number"] for v in head["scenario_version"].values()} == {1, 2}
    assert sum(v["stage_model_id"] is not None for v in head["presentation"].values()) > 100  # shown since 0018
    assert any(v["stage_model_id"] is not None for v in head["scenario_version"].values())  # saved since 0019
    bottom = _step_through(list(reversed(revisions[:-1])), downgrade, head)
    assert set(bottom) == {"skill", "stage_model_version", "team", "scenario", "user_account", "drill_session",
                           "memory_state", "scenario_version", "team_manager", "presentation", "attempt"}
    back = _step_through(revisions[1:], upgrade, bottom)
    assert _schema() == schema  # what `db check` compares, and ON DELETE too (SQLite rebuilds tables in batches)
    assert not _differences(bottom, back)
    assert {t for t in head if head[t] and not back[t]} == set(head) - set(bottom) - DERIVED_TABLES - {"lesson_version"}
    assert not _differences({t: head[t] for t in DERIVED_TABLES}, back)
    _only_the_added_columns_lost(head, back, set(bottom))
    _app_works(migrating, clock, installation.people)


def _rows(names: set[str]) -> dict[str, list[dict]]:
    """The rows of these tables as Python values (what reflection reads), to write into an older schema."""
    db.session.remove()
    metadata = sa.MetaData()
    metadata.reflect(db.engine, only=sorted(names))
    with db.engine.connect() as connection:
        return {t.name: [dict(r) for r in connection.execute(sa.select(t)).mappings()] for t in metadata.sorted_tables}


def _write_rows(rows: dict[str, list[dict]]) -> None:
    """Write the rows into the tables as they are now (only the columns they have), parents first."""
    metadata = sa.MetaData()
    metadata.reflect(db.engine)
    with db.engine.begin() as connection:
        for table in metadata.sorted_tables:
            if rows.get(table.name):
                connection.execute(table.insert(), [{c.name: row[c.name] for c in table.columns} for row in rows[table.name]])
                if connection.dialect.name == "postgresql" and isinstance(table.c.get("id", sa.Column(sa.String)).type, sa.Integer):
                    connection.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), (SELECT max(id) FROM {table.name}))")


@pytest.mark.parametrize("since", ["0001", "0008", "0015"])  # the first release; notifications and vacations but no
# refusals (0009) or tokens (0010); team moves and erasures but no item rollups (0016)
def test_an_installation_upgrades_step_by_step_to_head_keeping_every_row(installation, migrating, clock, since):
    """The installation's rows written into a database at an older revision's schema (its tables, its columns), as a
    company that installed that release would hold them, then `db upgrade` one revision at a time."""
    revisions = _revisions(migrating)
    head = installation.head
    upgrade(revision=since)
    _write_rows(installation.rows)
    start = _snapshot()
    assert {t: len(r) for t, r in start.items()} == {t: len(head[t]) for t in start} and len(start["attempt"]) > 2000
    back = _step_through(revisions[revisions.index(since) + 1:], upgrade, start)
    assert not _differences({t: head[t] for t in DERIVED_TABLES}, back)
    _only_the_added_columns_lost(head, back, set(start), since)
    _app_works(migrating, clock, installation.people)
