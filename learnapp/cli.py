"""Flask CLI commands: content check/import, users, demo."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from learnapp.extensions import db, migrate
from learnapp.services import content as content_service
from learnapp.services.db import now

content_cli = AppGroup("content", help="Check and import lessons, stage rules and scenarios.")
users_cli = AppGroup("users", help="Manage accounts.")
bench_cli = AppGroup("bench", help="Benchmark helpers.")
rollups_cli = AppGroup("rollups", help="Derived dashboard data.")
jobs_cli = AppGroup("jobs", help="Run a background job by hand.")


# `flask db` commands that open a connection (with --sql they only print SQL)
_DATABASE_COMMANDS = {"upgrade", "downgrade", "current", "stamp", "check", "migrate"}


class DatabaseUnreachable(RuntimeError):
    """The database cannot be opened; Flask-Migrate prints a RuntimeError as one "Error: ..." line."""


@migrate.configure
def _check_database_reachable(config):
    """Before `flask db upgrade` and its kin, one line saying the database cannot be reached, not a traceback."""
    from sqlalchemy.exc import OperationalError

    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name not in _DATABASE_COMMANDS or ctx.params.get("sql"):
        return config
    try:
        with db.engine.connect():
            pass
    except OperationalError as exc:
        raise DatabaseUnreachable(_cannot_open(" ".join(str(exc.orig).split()))) from None
    return config


def _cannot_open(reason: str) -> str:
    return f"cannot open the database {_database_named()} (DATABASE_URL): {reason}"


def _database_named() -> str:
    """The database as the admin named it in DATABASE_URL (password hidden), not as routed to a driver
    (``postgresql://`` runs as ``postgresql+psycopg://``); the engine's own URL when it came from elsewhere."""
    from sqlalchemy.engine import make_url

    from learnapp.config import database_url

    engine_url = db.engine.url.render_as_string(hide_password=False)
    given = os.environ.get("DATABASE_URL", "").strip()
    try:
        if given and database_url(os.environ, current_app.instance_path) == engine_url:
            return make_url(given).render_as_string(hide_password=True)
    except Exception:  # an unparsable DATABASE_URL never made this engine: name the engine's
        pass
    return db.engine.url.render_as_string(hide_password=True)


def _require_migrated_database() -> None:
    """Before running jobs (or any command that reads or writes the app's tables), one line when the database
    cannot be opened or was never migrated.

    Otherwise the scheduler said "running" and then printed a traceback at every check, forever, a `content import`
    before `db upgrade` printed a traceback, and each created an empty database file at a SQLite path that did not exist.
    """
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import DBAPIError

    upgrade_first = "check DATABASE_URL or run `flask --app learnapp db upgrade` first"
    not_migrated = f"the database {_database_named()} (DATABASE_URL) is not migrated ({{}}); {upgrade_first}"
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:") and not url.query.get("uri"):
        path = Path(url.database)
        if not path.is_file():  # checked before connecting: connecting would create it
            raise click.ClickException(_cannot_open(f"the file {path} does not exist; {upgrade_first}"))
        if path.stat().st_size == 0:  # connecting would write a database header into it (WAL is set on connect)
            raise click.ClickException(not_migrated.format("an empty file"))
    try:
        with db.engine.connect() as connection:
            migrated = inspect(connection).has_table("job_run")
            revisions = ([row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))]
                         if inspect(connection).has_table("alembic_version") else [])
    except DBAPIError as exc:
        raise click.ClickException(_cannot_open(" ".join(str(exc.orig).split()))) from None
    finally:
        db.engine.dispose()
    if not migrated:
        raise click.ClickException(not_migrated.format("no job_run table"))
    _require_this_releases_schema(revisions)


def _require_this_releases_schema(revisions: list[str]) -> None:
    """One line when the database is at an older migration than this release's: the new code was started before
    `db upgrade`. Before, the scheduler started and its nightly job failed with "relation ... does not exist".

    A database without a revision (built by the tests' create_all) or at one this code does not know is left alone.
    """
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    head = script.get_current_head()
    known = {rev.revision for rev in script.walk_revisions()}
    behind = [rev for rev in revisions if rev != head and rev in known]
    if behind:
        raise click.ClickException(
            f"the database {_database_named()} (DATABASE_URL) is at migration {behind[0]}, and this release needs "
            f"{head}: run `flask --app learnapp db upgrade` first")


def register(app: Flask) -> None:
    app.cli.add_command(content_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(bench_cli)
    app.cli.add_command(backup_command)
    app.cli.add_command(scheduler_command)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(restore_command)
    app.cli.add_command(rollups_cli)


def _require_lasting_secret_key(what: str = "jobs sign links in emails (unsubscribe) that the web app must verify, "
                                            "so run them") -> None:
    """Refuse to sign links with a key made up for this process: the web app would not verify them."""
    if current_app.config.get("SECRET_KEY_IS_TEMPORARY"):
        raise click.ClickException(
            f"SECRET_KEY is not set: {what} with the web app's SECRET_KEY (the demo, LEARNAPP_DEMO=1, keeps its own)")


@click.command("scheduler")
def scheduler_command() -> None:
    """Run the background jobs (one process; web workers never run jobs). SIGTERM or Ctrl+C stops it
    after the jobs running at that moment have finished."""
    import signal
    import sys

    from learnapp.jobs import make_scheduler

    _require_lasting_secret_key()
    _require_migrated_database()
    scheduler = make_scheduler(current_app._get_current_object())
    # service managers stop with SIGTERM; a shell started in the background may ignore SIGINT
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo("scheduler running: " + ", ".join(job.id for job in scheduler.get_jobs()) + " (Ctrl+C to stop)")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        click.echo("scheduler stopped")


@jobs_cli.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Run one job now (still at most once per occurrence: a quarter hour, a day or a week)."""
    from learnapp.jobs import JOBS

    if name not in JOBS:
        raise click.BadParameter(f"unknown job (known: {', '.join(JOBS)})")
    _require_lasting_secret_key()
    _require_migrated_database()
    run = JOBS[name]()
    click.echo("already ran for this occurrence (day, week or quarter hour): nothing done" if run is None else f"{run.status} in {run.seconds:.2f} s: {run.detail}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False))
@with_appcontext
def backup_command(path: str) -> None:
    """Back up the SQLite database to PATH while the app keeps running (PostgreSQL: use pg_dump)."""
    from learnapp.services.backup import BackupError, backup

    if not path.strip():  # an unset shell variable: Path("") is the current folder
        raise click.ClickException("no backup file given (PATH is empty); nothing was written")
    try:
        size = backup(Path(path))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"backed up to {path} ({size:,} bytes)")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path: str, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH (stop the app first); an older backup is upgraded."""
    from learnapp.services.backup import BackupError, restore

    if not yes:
        click.confirm(f"Replace the current database with {path}? Everything since that backup is lost", abort=True)
    try:
        restored = restore(Path(path))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if restored.before == "nothing":  # a new machine, or a typo in DATABASE_URL: either way, say where it went
        click.echo(f"there was no database at {restored.database} (DATABASE_URL): created a new one there, "
                   f"restored from {path}")
    elif restored.before == "an empty file":
        click.echo(f"the database file {restored.database} (DATABASE_URL) was empty: restored {path} into it")
    else:
        click.echo(f"restored from {path}")
    if restored.upgraded:
        click.echo(f"the backup was at migration {restored.backup_revision}: upgraded the database to "
                   f"{restored.revision} (as flask db upgrade does)")


@bench_cli.command("generate")
@click.option("--reps", default=1000, show_default=True, help="Reps in the synthetic organisation.")
@click.option("--days", default=365, show_default=True, help="Days of practice, ending today.")
@click.option("--seed", default=1, show_default=True)
@click.option("--variants", default=1, show_default=True,
              help="Scenarios per skill the reps answer (more gives the item analytics' discrimination reps to rank).")
def bench_generate(reps: int, days: int, seed: int, variants: int) -> None:
    """Fill the database with a synthetic organisation (teams of 8-50 reps, 40 skills) in bulk."""
    import time

    from learnapp.services.benchgen import generate

    if reps < 1 or days < 1 or variants < 1:
        raise click.BadParameter("reps, days and variants must be positive")
    started = time.perf_counter()
    report = generate(reps, days, now(), seed, variants)
    click.echo(f"{report.teams} teams, {report.reps} reps, {report.sessions} sessions, {report.attempts} attempts "
               f"in {time.perf_counter() - started:.1f} s")


@rollups_cli.command("rebuild")
def rollups_rebuild() -> None:
    """Recompute the dashboard and item analytics rollups from attempts."""
    _require_migrated_database()
    from learnapp.services.rollups import rebuild

    for table, count in rebuild().items():
        click.echo(f"{table}: {count} rows")


def _content_targets(paths: tuple[str, ...]) -> list[str]:
    """The paths given, or lessons/ and scenarios/; a missing one is reported as `path:1: ...` and exits 1."""
    targets = list(paths) or content_service.default_paths()
    missing = [p for p in targets if not os.path.exists(p)]
    if missing:
        for p in missing:
            click.echo(f"{p}:1: no such file or directory")
        sys.exit(1)
    return targets


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@content_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path())
def content_check(paths: tuple[str, ...]) -> None:
    """Validate content files (default: lessons/ and scenarios/); exit 1 on any problem."""
    targets = _content_targets(paths)
    result, against = content_service.check_against(targets)
    for error in result.errors:
        click.echo(str(error))
    problems = sum(1 for e in result.errors if not e.note)  # a note says which checks an error made skip
    given = set(result.files)  # the lessons it was checked against are not counted as given
    lessons = sum(1 for lesson in result.lessons.values() if lesson.path in given)
    summary = (f"{_count(lessons, 'lesson')}, {_count(len(result.scenarios), 'scenario')}, {_count(problems, 'error')} "
               f"in {_count(len(result.files), 'file')}")
    if against:
        summary += (f"; checked against the stage rules and {_count(len(result.lessons) - lessons, 'lesson')} "
                    f"under {', '.join(against)}")
    click.echo(summary)
    sys.exit(1 if result.errors else 0)


@content_cli.command("import")
@click.argument("paths", nargs=-1, type=click.Path())
def content_import(paths: tuple[str, ...]) -> None:
    """Import content files in one transaction; on any error nothing is written."""
    _require_migrated_database()
    targets = _content_targets(paths)
    report = content_service.import_content(targets, now())
    for error in report.errors:
        click.echo(str(error))
    if not report.ok:
        click.echo(f"import refused: {sum(1 for e in report.errors if not e.note)} errors, nothing was written")
        sys.exit(1)
    for line in report.created + report.updated:
        click.echo(("new " if line in report.created else "updated ") + line)
    for line in report.kept:
        click.echo("kept " + line)
    for scenario_id in report.retired:
        click.echo(f"retired: scenario {scenario_id} stays out of the drills (an import never makes a scenario active "
                   "again): make it active again under Content in the app")
    for line in report.not_in_files:
        click.echo(f"still active, not in the files: scenario {line}; an import never retires a scenario: retire it "
                   "under Content in the app to take it out of the drills")
    click.echo(f"imported {report.lessons} lessons and {report.scenarios} scenarios: {len(report.created)} new, "
               f"{len(report.updated)} updated" + (f", {len(report.kept)} kept newer" if report.kept else "")
               + (", stage model updated" if report.stage_model_changed else "")
               + (f"; {len(report.not_in_files)} still active but not in the files" if report.not_in_files else ""))


@content_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False), default="export")
def content_export(directory: str) -> None:
    """Write the current content back to Markdown files under DIRECTORY (default: ./export)."""
    _require_migrated_database()
    try:
        files = content_service.export_content(Path(directory))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {len(files)} files under {directory}")


def _write_bank_files(files: list[tuple[str, str]], out: Path, problems) -> None:
    out.mkdir(parents=True, exist_ok=True)
    taken = [name for name, _ in files if (out / name).exists()]
    if taken:
        raise click.ClickException(f"{out} already holds {', '.join(taken[:5])}: choose another --out; nothing was written")
    for name, text in files:
        (out / name).write_text(text, encoding="utf-8")
    for problem in problems:
        click.echo(f"not converted: {problem}")
    click.echo(f"wrote {len(files)} scenario files to {out}; {len(problems)} not converted. "
               f"Fill in any 'TODO-move', then: flask --app learnapp content check {out}")


def _read_text(path: str) -> str:
    data = Path(path).read_bytes()
    if len(data) > 5 * 1024 * 1024:
        raise click.ClickException(f"{path} is larger than 5 MB")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{path}: not UTF-8 text (byte at offset {exc.start})") from None


@content_cli.command("import-gift")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--skill", required=True, help="Skill of the new scenarios.")
@click.option("--stage", required=True, help="The leads' stage for these next-step scenarios.")
@click.option("--map", "mappings", multiple=True, metavar="TEXT=MOVE",
              help="Answers containing TEXT become MOVE (repeatable); others get TODO-move.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Folder for the files (default scenarios/SKILL).")
def content_import_gift(file: str, skill: str, stage: str, mappings: tuple[str, ...], out: str | None) -> None:
    """Convert Moodle GIFT multiple-choice questions into scenario files."""
    from learnapp.domain.banks import gift_to_scenarios, parse_gift
    from learnapp.domain.content import ID_PATTERN, MAX_ID

    if not ID_PATTERN.fullmatch(skill) or len(skill) > MAX_ID:  # it names the default folder: "../x" wrote elsewhere
        raise click.BadParameter(f"must be a skill id like 'days-out' (lower-case letters, digits and hyphens), "
                                 f"got {skill!r}", param_hint="--skill")
    mapping = {}
    for item in mappings:
        fragment, sep, move = item.rpartition("=")
        if not sep or not fragment or not move:
            raise click.BadParameter(f"'{item}' is not TEXT=MOVE", param_hint="--map")
        mapping[fragment] = move
    questions, problems = parse_gift(_read_text(file))
    files = gift_to_scenarios(questions, skill=skill, stage=stage, mapping=mapping)
    _write_bank_files(files, Path(out) if out else content_service.PROJECT_ROOT / "scenarios" / skill, problems)


@content_cli.command("import-csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", type=click.Path(file_okay=False), required=True, help="Folder for the files.")
def content_import_csv(file: str, out: str) -> None:
    """Convert a CSV question bank (header: id,skill,kind,stage,days_out,lead,prompt,move_1,text_1,...) into scenario files."""
    from learnapp.domain.banks import csv_to_scenarios

    files, problems = csv_to_scenarios(_read_text(file))
    _write_bank_files(files, Path(out), problems)


def _migrated_first(ctx: click.Context, param: click.Parameter, value):
    """An option's callback that checks the database first: before click prompts for the options not given.

    Options are read before the command's app context is pushed (the `flask` command has one already, a test
    runner's app.cli does not)."""
    from flask import has_app_context
    from flask.cli import ScriptInfo

    if has_app_context():
        _require_migrated_database()
    else:
        with ctx.ensure_object(ScriptInfo).load_app().app_context():
            _require_migrated_database()
    return value


@users_cli.command("create")
@click.option("--email", required=True, callback=_migrated_first)
@click.option("--name", default="")
@click.option("--role", type=click.Choice(["rep", "trainer", "manager", "admin"]), default="rep", show_default=True)
@click.option("--team", default=None, help="Team to join (a manager leads it instead).")
@click.option("--timezone", "tz", default="UTC", show_default=True)
@click.password_option("--password", help="Prompted for when not given.")
def users_create(email: str, name: str, role: str, team: str | None, tz: str, password: str) -> None:
    """Create an account."""
    from learnapp.models import Team
    from learnapp.services.people_import import similar_team
    from learnapp.services.users import UserError, create_user

    new_team = False
    if team:  # a name typed by hand: a near miss of a team's name would quietly make a second team
        teams = list(db.session.scalars(db.select(Team)))
        if not any(t.name == team for t in teams):
            like = similar_team(team, teams)
            if like:
                raise click.ClickException(f"there is no team {team!r}; did you mean {like!r}? Give the name exactly "
                                           "(a new team named this close to it: add it under People in the app first)")
            new_team = True
    try:
        user = create_user(email, name, password, role, team=team, timezone=tz, now=now())
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created {user.role} {user.email}" + (f" in team {team}" if team else "") + (" (a new team)" if new_team else ""))


@users_cli.command("erase")
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def users_erase(email: str, yes: bool) -> None:
    """Erase the personal data of someone who left (deactivate them first): their name and address become
    placeholders, their answers stay in their team's figures. Cannot be undone."""
    _require_migrated_database()
    from learnapp.services.users import UserError, erase_person, user_by_email

    user = user_by_email(email.strip().lower())
    if user is None:
        raise click.ClickException(f"no account for {email}")
    if user.active and user.erased_at is None:  # no command deactivates: say where it is done
        raise click.ClickException(f"{user.email} is active. Deactivate the account first, on their page under People in "
                                   "the app (untick Active, Save): only someone who left can be erased.")
    if not yes:
        click.confirm(f"Erase the personal data of {user.name} <{user.email}>? This cannot be undone.", abort=True)
    user_id = user.id
    try:
        erase_person(user, by=None, now=now())
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"erased the personal data of account {user_id}: it is now {user.name} <{user.email}>")


@users_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--timezone", "tz", default="UTC", show_default=True, help="For lines that name none.")
@click.option("--invite/--no-invite", default=True, show_default=True,
              help="Email each new person an invitation link (when SMTP_HOST is set).")
@click.option("--print-links", is_flag=True, help="Print each new person's invitation link (to hand over yourself).")
def users_import(file: str, tz: str, invite: bool, print_links: bool) -> None:
    """Add everyone a CSV file lists (columns email, name, role, team, timezone), all or nothing."""
    from learnapp.domain.people_csv import valid_timezone
    from learnapp.services import password_links, people_import

    if not valid_timezone(tz):
        raise click.BadParameter(f"unknown timezone {tz!r}", param_hint="--timezone")
    _require_migrated_database()
    if print_links or (invite and password_links.mail_configured()):  # checked before anyone is imported
        _require_lasting_secret_key("invitation links are signed, and open in the web app only if signed "
                                    "with its key: import with --no-invite (each person's page then makes their link), or run it")
    try:
        text = people_import.decode(Path(file).read_bytes(), file)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    report = people_import.import_people(text, file, default_timezone=tz, now=now())
    if not report.ok:
        for problem in report.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"nothing imported: {len(report.problems)} problem(s)")
    click.echo(f"imported {len(report.created)} people" + (f"; new teams: {', '.join(report.new_teams)}" if report.new_teams else ""))
    if invite and password_links.mail_configured():
        invitations = people_import.invite(report.created, by=None)
        failed = [i for i in invitations if not i.sent]
        click.echo(f"invitations emailed: {len(invitations) - len(failed)}")
        for i in failed:
            click.echo(f"not sent to {i.user.email}: {i.failure}", err=True)
    elif invite:
        click.echo("no invitations emailed: SMTP_HOST is not set (use --print-links, or each person's page)")
    if print_links:
        for user in report.created:
            click.echo(f"{user.email} {password_links.url(user, password_links.INVITE)}")


@click.command("demo")
@click.option("--no-serve", is_flag=True, help="Build the demo database and exit.")
@click.option("--reps", default=12, show_default=True,
              help="Reps in the manager's demo team (at least 10); a second team of 6 is added.")
@click.option("--weeks", default=12, show_default=True, help="Weeks of simulated practice.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--path", "db_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite file for the demo (default: demo.sqlite in the instance folder).")
def demo_command(no_serve: bool, reps: int, weeks: int, host: str, port: int, db_path: str | None) -> None:
    """Build a fresh demo (SQLite in the instance folder) with weeks of practice, then serve it."""
    from flask_migrate import upgrade

    from learnapp.app import create_app
    from learnapp.domain.clock import FixedClock, SystemClock
    from learnapp.services.demo import DEMO_PASSWORD, build_demo, demo_teams

    if reps < 10 or weeks < 1:
        raise click.BadParameter("the demo needs at least 10 reps and 1 week")
    path = Path(db_path) if db_path else Path(current_app.instance_path) / "demo.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.environ["LEARNAPP_DEMO"] = "1"
    clock = FixedClock(SystemClock().now())
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "CLOCK": clock}
    if not os.environ.get("LEARNAPP_BASE_URL", "").strip():  # links handed over point at the demo being served
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else (f"[{host}]" if ":" in host else host)
        settings["BASE_URL"] = f"http://{shown_host}:{port}"
    app = create_app(settings)
    teams = demo_teams(reps)
    click.echo(f"building the demo in {path} ({sum(teams.values())} reps in {len(teams)} teams: "
               + ", ".join(f"{count} in {name}" for name, count in teams.items()) + f"; {weeks} weeks of practice)...")
    with app.app_context():
        upgrade()
        logins = build_demo(clock, content_service.default_paths(), reps=reps, weeks=weeks)
    app.extensions["learnapp.clock"] = SystemClock()
    click.echo(f"\nlog in with any of these (password: {DEMO_PASSWORD}):")
    for email, role in logins.items():
        click.echo(f"  {role:8} {email}")
    if no_serve:
        return
    click.echo(f"\nserving the demo on http://{host}:{port}/ (Ctrl+C to stop)")
    from werkzeug.serving import run_simple

    # app.run() refuses to start inside a flask CLI command; the demo is one process on purpose
    run_simple(host, port, app, threaded=True, use_reloader=False)
