"""The flask commands a trainer or an admin types: content check / import, users create, demo, jobs."""

import os
import shutil
import sqlite3
import subprocess
import sys

from learnapp.extensions import db
from learnapp.models import Scenario, Skill, Team, User
from learnapp.models import JobRun
from tests.conftest import CONTENT, ROOT, database_url


def test_content_check_passes_on_the_shipped_content(app):
    result = app.test_cli_runner().invoke(args=["content", "check", *CONTENT])
    assert result.exit_code == 0, result.output
    assert "9 lessons, 45 scenarios, 0 errors" in result.output


def test_content_check_prints_path_line_message_and_fails(app, tmp_path):
    bad = tmp_path / "scenarios" / "bad.md"
    bad.parent.mkdir()
    bad.write_text("---\nid: bad-one\nskill: days-out\nkind: next-step\nstage: alerted\noptions:\n"
                   "  - move: send-ofer\n    text: Call.\n  - move: share-education\n    text: Guide.\n---\nPrompt.\n")
    result = app.test_cli_runner().invoke(args=["content", "check", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:7: unknown move 'send-ofer'" in result.output
    assert result.output.splitlines()[-1].startswith("0 lessons, 0 scenarios, 1 error in 1 file;")


def test_content_check_of_one_scenario_counts_that_file_not_the_lessons_it_is_checked_against(app, tmp_path):
    """Checking one scenario file printed "9 lessons, 0 scenarios, ... in 1 files": the shipped lessons it was only
    checked against were counted as if given. The summary counts what it was given and names what it checked against."""
    good = tmp_path / "scenarios" / "days-out" / "good.md"
    good.parent.mkdir(parents=True)
    shutil.copy(ROOT / "scenarios" / "days-out" / "days-out-priya-brochure.md", good)
    result = app.test_cli_runner().invoke(args=["content", "check", str(good)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == (
        f"0 lessons, 1 scenario, 0 errors in 1 file; checked against the stage rules and 9 lessons under {ROOT / 'lessons'}")


def test_content_check_reports_a_missing_path(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["content", "check", str(tmp_path / "nope.md")])
    assert result.exit_code == 1 and "nope.md:1: no such file or directory" in result.output


def test_content_import_is_all_or_nothing(app, tmp_path):
    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    (tmp_path / "scenarios" / "broken.md").write_bytes(b"---\nid: x\n\xff\xfe---\n")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "import", str(tmp_path / "lessons"), str(tmp_path / "scenarios")])
    assert result.exit_code == 1
    assert "broken.md:3: not UTF-8" in result.output and "nothing was written" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Skill.id))) == 0
    result = runner.invoke(args=["content", "import", *CONTENT])
    assert result.exit_code == 0, result.output
    assert "imported 9 lessons and 45 scenarios: 54 new" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Scenario.id))) == 45


def test_users_create_hashes_the_password_and_refuses_bad_input(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--email", "Lea@Example.com", "--name", "Lea", "--role", "manager",
                                 "--team", "North", "--password", "s3cret-enough"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalars(db.select(User)).one()
        assert user.email == "lea@example.com" and user.password_hash != "s3cret-enough"
        assert [t.name for t in user.led_teams] == ["North"]
    again = runner.invoke(args=["users", "create", "--email", "lea@example.com", "--password", "s3cret-enough"])
    assert again.exit_code != 0 and "exists already" in again.output
    short = runner.invoke(args=["users", "create", "--email", "x@example.com", "--password", "short"])
    assert short.exit_code != 0 and "at least 8 characters" in short.output
    for bad in ("Mars/Olympus", "localtime", "Factory"):  # the last two: the server's own zone and a placeholder
        zone = runner.invoke(args=["users", "create", "--email", "y@example.com", "--password", "long-enough",
                                   "--timezone", bad])
        assert zone.exit_code != 0 and "unknown timezone" in zone.output, bad


def test_demo_builds_twice_with_history_and_logins(app, tmp_path):
    path = tmp_path / "demo.sqlite"
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["demo", "--no-serve", "--reps", "10", "--weeks", "3", "--path", str(path)])
        assert result.exit_code == 0, result.output
    assert "manager@demo.learnapp.test" in result.output and "demo-pass-2026" in result.output
    # the banner counts what is built: the listed rep logins, in both teams
    assert "(16 reps in 2 teams: 10 in Field Sales North, 6 in Inside Sales South; 3 weeks of practice)" in result.output
    assert sum(1 for line in result.output.splitlines() if line.strip().startswith("rep ")) == 16
    with sqlite3.connect(path) as conn:
        reps = conn.execute("select count(*) from user_account where role = 'rep'").fetchone()[0]
        days = conn.execute("select count(distinct date(answered_at)) from attempt").fetchone()[0]
        people = conn.execute("select count(distinct user_id) from attempt").fetchone()[0]
    assert reps == 10 + 6 and people == 15  # a second team of six; the rep who stopped three weeks ago never drilled
    assert days >= 12  # three weeks of working days, minus the odd day nobody drilled


def test_the_demo_on_another_port_hands_over_links_to_that_port(app, tmp_path, monkeypatch):
    # before, "Make a link to hand over" in a demo served with --port 5731 gave http://127.0.0.1:5000/password/...,
    # a page that does not answer
    import werkzeug.serving

    from learnapp.models import User
    from learnapp.services import password_links

    served = {}
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda host, port, app, **kw: served.update(app=app, port=port))
    monkeypatch.delenv("LEARNAPP_BASE_URL", raising=False)
    result = app.test_cli_runner().invoke(args=["demo", "--reps", "10", "--weeks", "1", "--port", "5731",
                                                "--path", str(tmp_path / "demo.sqlite")])
    assert result.exit_code == 0, result.output
    assert served["port"] == 5731
    with served["app"].app_context():
        rep = db.session.scalars(db.select(User).filter_by(email="ana@demo.learnapp.test")).one()
        assert password_links.url(rep, password_links.INVITE).startswith("http://127.0.0.1:5731/password/")
        served["app"].extensions["sqlalchemy"].engine.dispose()


def test_import_gift_writes_scenarios_that_pass_the_check_once_mapped(app, tmp_path):
    gift = tmp_path / "bank.gift"
    gift.write_text("::Early::Priya decides next spring. Next step? {=Send a guide ~Call with a discount}\n\n"
                    "::TF:: Offers always fit. {T}\n")
    runner = app.test_cli_runner()
    out = tmp_path / "out"
    result = runner.invoke(args=["content", "import-gift", str(gift), "--skill", "days-out", "--stage", "alerted",
                                 "--map", "guide=share-education", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "not converted: line 3: a true/false question" in result.output
    assert "wrote 1 scenario files" in result.output
    check = runner.invoke(args=["content", "check", str(out)])
    assert check.exit_code == 1 and "unknown move 'TODO-move'" in check.output  # the discount answer is unmapped
    (out / "gift-early.md").write_text((out / "gift-early.md").read_text().replace("TODO-move", "send-offer"))
    assert runner.invoke(args=["content", "check", str(out)]).exit_code == 0
    again = runner.invoke(args=["content", "import-gift", str(gift), "--skill", "days-out", "--stage", "alerted", "--out", str(out)])
    assert again.exit_code != 0 and "nothing was written" in again.output


def test_import_gift_refuses_a_skill_that_is_not_an_id(app, tmp_path, monkeypatch):
    """--skill names the default folder (scenarios/SKILL): '../x' would write outside scenarios/."""
    from learnapp.services import content as content_service

    monkeypatch.setattr(content_service, "PROJECT_ROOT", tmp_path / "project")
    gift = tmp_path / "bank.gift"
    gift.write_text("::Early::Priya decides next spring. Next step? {=Send a guide ~Call with a discount}\n")
    for skill in ("../escaped", str(tmp_path / "abs"), "Days Out", "days-out\n"):
        result = app.test_cli_runner().invoke(args=["content", "import-gift", str(gift), "--skill", skill,
                                                    "--stage", "alerted"])
        assert result.exit_code == 2 and "--skill" in result.output, result.output
    assert not any((tmp_path / d).exists() for d in ("project", "escaped", "abs"))


def test_backup_and_restore_round_trip(app, tmp_path, make_user, content):
    runner = app.test_cli_runner()
    make_user("rep", name="Before Backup")
    backup_file = tmp_path / "copy.sqlite"
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        result = runner.invoke(args=["backup", str(backup_file)])
        assert result.exit_code != 0 and "pg_dump" in result.output
        return
    stamp = runner.invoke(args=["db", "stamp", "head"])  # the fixture's create_all() is the schema at head
    assert stamp.exit_code == 0, stamp.output
    result = runner.invoke(args=["backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["backup", str(backup_file)]).exit_code != 0  # never overwrites
    make_user("rep", name="After Backup")
    not_ours = tmp_path / "other.sqlite"
    sqlite3.connect(not_ours).execute("create table x (y)")
    refused = runner.invoke(args=["restore", "--yes", str(not_ours)])
    assert refused.exit_code != 0 and "not a learnapp backup" in refused.output
    result = runner.invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        names = set(db.session.scalars(db.select(User.name)))
        assert "Before Backup" in names and "After Backup" not in names
        assert db.session.scalar(db.select(db.func.count(Scenario.id))) == 45


def flask_command(tmp_path, *args, timeout=120, **env):
    """Run `flask --app learnapp ARGS` as an admin does, on the test database (unless DATABASE_URL is given), with
    exactly the given extra settings."""
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "LEARNAPP_DEMO", "FLASK_DEBUG"}}
    environment.update({"DATABASE_URL": database_url(tmp_path), "PYTHONPATH": str(ROOT), **env})
    return subprocess.run([sys.executable, "-m", "flask", "--app", "learnapp", *args], env=environment, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_jobs_refuse_to_start_without_a_secret_key_other_commands_do_not(app, tmp_path):
    for args in (["scheduler"], ["jobs", "run", "weekly-digest"]):
        refused = flask_command(tmp_path, *args)
        assert refused.returncode != 0
        assert refused.stdout == "" and refused.stderr.count("\n") == 1, refused.stderr
        assert refused.stderr.startswith("Error: SECRET_KEY is not set: jobs sign links in emails")
    with app.app_context():
        assert db.session.scalars(db.select(JobRun)).all() == []  # nothing ran
    assert flask_command(tmp_path, "db", "current").returncode == 0  # commands that sign nothing still work
    ran = flask_command(tmp_path, "jobs", "run", "nightly-maintenance", SECRET_KEY="the-web-apps-key")
    assert ran.returncode == 0 and "ok in" in ran.stdout, ran.stdout + ran.stderr


def test_jobs_run_in_the_demo_without_a_secret_key(app, tmp_path):
    ran = flask_command(tmp_path, "jobs", "run", "nightly-maintenance", LEARNAPP_DEMO="1")
    assert ran.returncode == 0 and "ok in" in ran.stdout, ran.stdout + ran.stderr


def unusable_databases(tmp_path):
    """DATABASE_URLs an admin gets wrong, each with the file it names (None on PostgreSQL) and the line expected."""
    upgrade = "check DATABASE_URL or run `flask --app learnapp db upgrade` first"
    missing, empty, bare = tmp_path / "typo.sqlite", tmp_path / "empty.sqlite", tmp_path / "bare.sqlite"
    empty.write_bytes(b"")
    sqlite3.connect(bare).execute("pragma journal_mode=wal").fetchone()  # a database without tables
    cases = [
        (f"sqlite:///{missing}", missing,
         f"cannot open the database sqlite:///{missing} (DATABASE_URL): the file {missing} does not exist; {upgrade}"),
        (f"sqlite:///{empty}", empty, f"the database sqlite:///{empty} (DATABASE_URL) is not migrated (an empty file); {upgrade}"),
        (f"sqlite:///{bare}", bare, f"the database sqlite:///{bare} (DATABASE_URL) is not migrated (no job_run table); {upgrade}"),
    ]
    url = database_url(tmp_path)
    if url.startswith("postgresql"):
        from sqlalchemy.engine import make_url

        nowhere = make_url(url).set(database="learnapp_no_such_database")
        cases.append((nowhere.render_as_string(hide_password=False), None,
                      f"cannot open the database {nowhere.render_as_string(hide_password=True)} (DATABASE_URL): "))
    return cases


def test_scheduler_and_jobs_run_refuse_a_database_they_cannot_use_in_one_line(tmp_path):
    """The scheduler said "running" and then printed dozens of traceback lines at every check, forever; a job run on
    a SQLite path that did not exist created an empty database file there."""
    for url, path, line in unusable_databases(tmp_path):
        before = path.read_bytes() if path is not None and path.exists() else None
        for args in (["scheduler"], ["jobs", "run", "nightly-maintenance"]):
            refused = flask_command(tmp_path, *args, DATABASE_URL=url, SECRET_KEY="the-web-apps-key", timeout=60)
            assert refused.returncode != 0 and refused.stdout == "", (args, refused.stdout, refused.stderr)
            assert refused.stderr.startswith("Error: " + line) and refused.stderr.count("\n") == 1, (args, refused.stderr)
            if path is not None:  # left as it was: no database created or written to
                assert (path.read_bytes() if path.exists() else None) == before, args



def test_jobs_and_content_import_refuse_a_database_an_upgrade_has_not_reached_yet(tmp_path):
    """The new release's scheduler, started before `flask db upgrade` (or with it forgotten), said "running", and
    its nightly job failed with 'relation "item_discrimination" does not exist' in the job history."""
    from alembic.script import ScriptDirectory

    from learnapp.app import create_app

    path = tmp_path / "last-release.sqlite"
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    head = script.get_current_head()
    previous = script.get_revision(head).down_revision
    assert app.test_cli_runner().invoke(args=["db", "upgrade", previous]).exit_code == 0
    url = f"sqlite:///{path}"
    for args in (["scheduler"], ["jobs", "run", "nightly-maintenance"], ["content", "import"]):
        refused = flask_command(tmp_path, *args, DATABASE_URL=url, SECRET_KEY="the-web-apps-key", timeout=60)
        assert refused.returncode != 0 and refused.stdout == "", (args, refused.stdout, refused.stderr)
        assert refused.stderr == (f"Error: the database {url} (DATABASE_URL) is at migration {previous}, and this "
                                  f"release needs {head}: run `flask --app learnapp db upgrade` first\n"), args
    assert flask_command(tmp_path, "db", "upgrade", DATABASE_URL=url).returncode == 0
    ran = flask_command(tmp_path, "jobs", "run", "nightly-maintenance", DATABASE_URL=url, SECRET_KEY="the-web-apps-key")
    assert ran.returncode == 0 and "ok in" in ran.stdout, ran.stdout + ran.stderr


def test_content_check_counts_errors_not_the_note_about_skipped_checks(app, tmp_path):
    """A broken stage file gives its error and a note saying which checks were skipped: one error, not two."""
    lessons = tmp_path / "lessons"
    shutil.copytree(ROOT / "lessons", lessons)
    stage = lessons / "stages" / "2-engaged.md"
    stage.write_text(stage.read_text().replace("position: 2", "position: 1", 1))
    result = app.test_cli_runner().invoke(args=["content", "check", str(lessons), str(ROOT / "scenarios")])
    assert result.exit_code == 1
    printed = result.output.splitlines()
    assert any(": note: " in line for line in printed)
    assert printed[-1].split(" scenarios, ")[1].startswith("1 error in ")


def test_a_people_import_that_would_sign_invitation_links_needs_the_web_apps_secret_key(app, tmp_path):
    """Run without SECRET_KEY (a shell without the service's environment), `users import --print-links` printed
    links signed with a key made up for that process: every one of them opened "link not valid" in the web app
    (and with SMTP set, that is what each new person was emailed)."""
    people = tmp_path / "people.csv"
    people.write_text("email,name\nlinky@example.com,Linky\n")
    refused = flask_command(tmp_path, "users", "import", str(people), "--print-links")
    assert refused.returncode != 0 and "http" not in refused.stdout
    assert refused.stderr.startswith("Error: SECRET_KEY is not set: invitation links"), refused.stderr
    with app.app_context():
        assert db.session.scalars(db.select(User).filter_by(email="linky@example.com")).first() is None  # nothing imported
    # without links to sign, the import goes ahead: each person's page makes their link with the web app's key
    quiet = flask_command(tmp_path, "users", "import", str(people), "--no-invite")
    assert quiet.returncode == 0 and "imported 1 people" in quiet.stdout, quiet.stdout + quiet.stderr


def test_commands_on_a_database_never_migrated_say_so_in_one_line_and_create_no_file(tmp_path):
    """`content import` before `db upgrade` (the README's next line), or with DATABASE_URL mistyped, printed a
    60-line traceback ending in "no such table", and left an empty database file at the path it was given."""
    people = tmp_path / "people.csv"
    people.write_text("email,name\nlinky@example.com,Linky\n")
    missing = tmp_path / "nowhere.sqlite"
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as connection:
        connection.execute("create table notes (id integer)")
    commands = (["content", "import"], ["content", "export", str(tmp_path / "out")], ["rollups", "rebuild"],
                ["users", "create", "--email", "boss@example.com", "--role", "admin", "--password", "long-enough-1"],
                ["users", "import", str(people), "--no-invite"], ["users", "erase", "boss@example.com", "--yes"])
    for args in commands:
        refused = flask_command(tmp_path, *args, DATABASE_URL=f"sqlite:///{missing}")
        assert refused.returncode != 0 and refused.stderr.count("\n") == 1, (args, refused.stderr)
        assert refused.stderr.startswith("Error: cannot open the database") and "does not exist" in refused.stderr, args
        assert not missing.exists(), args
        unmigrated = flask_command(tmp_path, *args, DATABASE_URL=f"sqlite:///{other}")
        assert unmigrated.returncode != 0 and unmigrated.stderr.count("\n") == 1, (args, unmigrated.stderr)
        assert "is not migrated" in unmigrated.stderr and "db upgrade" in unmigrated.stderr, args


def test_users_create_with_a_team_name_like_an_existing_one_asks_for_the_exact_name(app):
    """`users create --team "field sales north"` (or "Field Sales Nrth") quietly made a second team beside
    "Field Sales North", and the rep landed on no manager's dashboard; the output did not even say the team was new."""
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "create", "--email", "m@example.com", "--role", "manager",
                                "--team", "Field Sales North", "--password", "s3cret-enough"])
    assert first.exit_code == 0 and "in team Field Sales North (a new team)" in first.output, first.output
    for typed in ("field sales north", "Field Sales Nrth"):
        refused = runner.invoke(args=["users", "create", "--email", "r@example.com", "--team", typed,
                                      "--password", "s3cret-enough"])
        assert refused.exit_code != 0 and "did you mean 'Field Sales North'" in refused.output, refused.output
    joined = runner.invoke(args=["users", "create", "--email", "r@example.com", "--team", "Field Sales North",
                                 "--password", "s3cret-enough"])
    assert joined.exit_code == 0 and "in team Field Sales North\n" in joined.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Team.id))) == 1


def test_content_check_of_a_large_company_catalogue_and_one_over_its_limit(app, tmp_path):
    """120 moves in moves.md (34 KB) and 12 stage files naming them all pass; a moves.md whose front matter is one byte
    over 64 KB is refused as path:line: message."""
    from tests.big_content import big_content

    lessons, scenarios = big_content(tmp_path)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["content", "check", str(lessons), str(scenarios)])
    assert result.exit_code == 0, result.output[-2000:]
    assert result.output.splitlines()[-1].startswith("40 lessons, 400 scenarios, 0 errors")
    moves = lessons / "moves.md"
    text = moves.read_text()
    front = text[len("---\n"):text.index("\n---\n")]
    entry = "- id: one-more\n  name: One more\n  description: "
    room = 64 * 1024 + 1 - len(front.encode()) - len(entry) - 1
    moves.write_text(text.replace("moves:\n", f"moves:\n{entry}{'x' * room}\n", 1))
    result = runner.invoke(args=["content", "check", str(lessons)])
    assert result.exit_code == 1
    assert f"{moves}:1: front matter is larger than 64 KB, the limit of the move catalogue or a stage file" in result.output
