"""`flask backup` and `flask restore` on SQLite databases built by `flask db upgrade`, as an admin runs them."""

import os
import sqlite3

import pytest
from alembic.script import ScriptDirectory

from learnapp.app import create_app
from tests.conftest import ROOT

HEAD = ScriptDirectory(str(ROOT / "migrations")).get_current_head()


def live_app(path):
    return create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})


def migrated(path, revision="head"):
    """An app on a SQLite file at ``revision``, built the way an admin builds one."""
    app = live_app(path)
    result = app.test_cli_runner().invoke(args=["db", "upgrade", revision])
    assert result.exit_code == 0, result.output
    return app


def add_user(app, email):
    result = app.test_cli_runner().invoke(args=["users", "create", "--email", email, "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output


def query(path, sql):
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute(sql)]
    finally:
        connection.close()


def test_backup_refuses_when_the_live_database_file_does_not_exist(tmp_path):
    live, target = tmp_path / "live.sqlite", tmp_path / "backups" / "copy.sqlite"
    result = live_app(live).test_cli_runner().invoke(args=["backup", str(target)])
    assert result.exit_code != 0
    assert f"the database file {live} does not exist" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no empty live database, no backup, no folder


@pytest.mark.parametrize("name", ["week#9.sqlite", "why?.sqlite", "100%.sqlite", "a%23b.sqlite"])
def test_restore_takes_backups_whose_names_hold_uri_characters_and_leaves_no_stray_files(tmp_path, name):
    live = tmp_path / "live.sqlite"
    app = migrated(live)
    add_user(app, "before@example.com")
    backups = tmp_path / "backups"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["backup", str(backups / name)])
    assert result.exit_code == 0, result.output
    add_user(app, "after@example.com")
    result = runner.invoke(args=["restore", "--yes", str(backups / name)])
    assert result.exit_code == 0, result.output
    assert "upgraded" not in result.output
    assert query(live, "select email from user_account") == ["before@example.com"]
    assert sorted(p.name for p in backups.iterdir()) == [name]


def test_restore_upgrades_a_backup_from_an_older_migration_to_the_current_schema(tmp_path):
    old = migrated(tmp_path / "old.sqlite", "0005")
    backup_file = tmp_path / "old-backup.sqlite"
    assert old.test_cli_runner().invoke(args=["backup", str(backup_file)]).exit_code == 0
    app = migrated(tmp_path / "live.sqlite")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert f"the backup was at migration 0005: upgraded the database to {HEAD}" in result.output
    assert query(tmp_path / "live.sqlite", "select version_num from alembic_version") == [HEAD]
    check = runner.invoke(args=["db", "check"])  # the schema is the one the code expects
    assert check.exit_code == 0, check.output
    add_user(app, "after-restore@example.com")  # and the app writes to it


def test_restore_refuses_a_backup_from_a_newer_learnapp_and_changes_nothing(tmp_path):
    live = tmp_path / "live.sqlite"
    app = migrated(live)
    add_user(app, "kept@example.com")
    backup_file = tmp_path / "future.sqlite"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(backup_file)]).exit_code == 0
    connection = sqlite3.connect(backup_file)
    connection.execute("update alembic_version set version_num = '0099'")
    connection.execute("delete from user_account")
    connection.commit()
    connection.close()
    result = runner.invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code != 0
    assert "at migration 0099, which this version of learnapp does not know" in result.output
    assert "Nothing was restored" in result.output
    assert query(live, "select email from user_account") == ["kept@example.com"]
    assert query(live, "select version_num from alembic_version") == [HEAD]


def test_restore_refuses_a_database_without_a_migration_revision(tmp_path):
    app = migrated(tmp_path / "live.sqlite")
    backup_file = tmp_path / "unstamped.sqlite"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", str(backup_file)]).exit_code == 0
    connection = sqlite3.connect(backup_file)
    connection.execute("drop table alembic_version")
    connection.commit()
    connection.close()
    result = runner.invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code != 0 and "records no migration revision" in result.output


def one_error_line(result):
    """The command failed with one "Error: ..." line, not a traceback."""
    assert result.exit_code not in (0, None) and isinstance(result.exception, SystemExit), result.exception
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    return result.output


def empty_sqlite(path):
    """What a job run on a wrong DATABASE_URL left behind: a 4 KB SQLite database without tables."""
    connection = sqlite3.connect(path)
    connection.execute("pragma journal_mode=wal")
    connection.close()
    assert path.stat().st_size == 4096


def unstamped(path):
    migrated(path)
    connection = sqlite3.connect(path)
    connection.execute("drop table alembic_version")
    connection.close()


def other_tables(path):
    connection = sqlite3.connect(path)
    connection.execute("create table invoice (id integer primary key)")
    connection.close()


@pytest.mark.parametrize("make, problem", [
    (lambda path: path.write_bytes(b""), "is empty (no tables)"),
    (empty_sqlite, "is empty (no tables)"),
    (lambda path: path.write_text("DATABASE_URL=sqlite:///learnapp.sqlite\n"), "is not a SQLite database"),
    (other_tables, "is not a learnapp database"),
    (unstamped, "records no migration revision"),
], ids=["zero-bytes", "4-kb-empty-database", "text-file", "other-tables", "no-alembic-version"])
def test_backup_refuses_a_database_file_that_is_not_a_migrated_learnapp_database(tmp_path, make, problem):
    """It printed "backed up ... (4,096 bytes)" and exited 0: a wrong DATABASE_URL went unseen every night."""
    live = tmp_path / "live.sqlite"
    make(live)
    backups = tmp_path / "backups"
    output = one_error_line(live_app(live).test_cli_runner().invoke(args=["backup", str(backups / "copy.sqlite")]))
    assert output.startswith(f"Error: the database file {live} (DATABASE_URL) {problem}"), output
    assert "nothing was written" in output
    assert not backups.exists()


@pytest.mark.parametrize("destination, problem", [
    ("", "no backup file given (PATH is empty); nothing was written"),
    ("{tmp}/notes.txt/copy.sqlite", "cannot write {tmp}/notes.txt/copy.sqlite: {tmp}/notes.txt is a file, not a folder"),
    ("{tmp}/notes.txt/week/copy.sqlite", "cannot write {tmp}/notes.txt/week/copy.sqlite: {tmp}/notes.txt is a file, not a folder"),
    ("/proc/copy.sqlite", "cannot write /proc/copy.sqlite: the folder /proc takes no new file"),
    ("/proc/backups/copy.sqlite", "cannot create the folder /proc/backups"),
], ids=["empty", "under-a-file", "folders-under-a-file", "proc", "folder-in-proc"])
def test_backup_to_a_destination_that_cannot_be_written_is_one_line_and_leaves_nothing(tmp_path, destination, problem):
    """A traceback (sqlite3.OperationalError, FileExistsError) or ". exists already" before."""
    if destination.startswith("/proc") and not os.path.isdir("/proc/self"):
        pytest.skip("no /proc here")
    app = migrated(tmp_path / "live.sqlite")
    (tmp_path / "notes.txt").write_text("not a folder")
    before = sorted(tmp_path.rglob("*"))
    output = one_error_line(app.test_cli_runner().invoke(args=["backup", destination.format(tmp=tmp_path)]))
    assert output.startswith("Error: " + problem.format(tmp=tmp_path)), output
    assert sorted(tmp_path.rglob("*")) == before


def test_a_backup_that_fails_half_way_leaves_no_file_and_no_folder(tmp_path, monkeypatch):
    """The copy is written under a temporary name and renamed when complete; a failed one is removed."""
    live = tmp_path / "live.sqlite"
    app = migrated(live)
    connect = sqlite3.connect

    class FullDisk:
        def __init__(self, connection):
            self.connection = connection

        def backup(self, *args, **kwargs):
            raise sqlite3.OperationalError("database or disk is full")

        def __getattr__(self, name):
            return getattr(self.connection, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.connection.__exit__(*exc)

    def connect_live_on_a_full_disk(database, *args, **kwargs):
        connection = connect(database, *args, **kwargs)
        return FullDisk(connection) if str(database) == str(live) else connection

    monkeypatch.setattr(sqlite3, "connect", connect_live_on_a_full_disk)
    target = tmp_path / "backups" / "weekly" / "copy.sqlite"
    output = one_error_line(app.test_cli_runner().invoke(args=["backup", str(target)]))
    assert output == f"Error: writing {target} failed: database or disk is full (nothing was written)\n"
    assert not (tmp_path / "backups").exists()  # neither the half copy nor the folders made for it
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == ["live.sqlite"]


def test_restore_where_no_database_exists_creates_one_and_says_so(tmp_path):
    """Restoring onto a new machine is fine, but "restored from ..." hid a typo in DATABASE_URL."""
    app = migrated(tmp_path / "live.sqlite")
    add_user(app, "kept@example.com")
    backup_file = tmp_path / "copy.sqlite"
    assert app.test_cli_runner().invoke(args=["backup", str(backup_file)]).exit_code == 0
    fresh = tmp_path / "new-machine.sqlite"
    result = live_app(fresh).test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"there was no database at {fresh} (DATABASE_URL): created a new one there, "
                                    f"restored from {backup_file}\n"), result.output
    assert query(fresh, "select email from user_account") == ["kept@example.com"]


@pytest.mark.parametrize("make", [lambda path: path.write_bytes(b""), empty_sqlite], ids=["zero-bytes", "4-kb-empty-database"])
def test_restore_into_an_empty_file_fills_it_and_says_it_was_empty(tmp_path, make):
    app = migrated(tmp_path / "live.sqlite")
    backup_file = tmp_path / "copy.sqlite"
    assert app.test_cli_runner().invoke(args=["backup", str(backup_file)]).exit_code == 0
    empty = tmp_path / "empty.sqlite"
    make(empty)
    result = live_app(empty).test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert f"the database file {empty} (DATABASE_URL) was empty: restored {backup_file} into it" in result.output
    assert query(empty, "select version_num from alembic_version") == [HEAD]


def test_restore_refuses_a_database_path_in_a_folder_that_does_not_exist(tmp_path):
    """sqlite3.OperationalError: unable to open database file, as a traceback, before."""
    app = migrated(tmp_path / "live.sqlite")
    backup_file = tmp_path / "copy.sqlite"
    assert app.test_cli_runner().invoke(args=["backup", str(backup_file)]).exit_code == 0
    wrong = tmp_path / "typo" / "live.sqlite"
    output = one_error_line(live_app(wrong).test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)]))
    assert output.startswith(f"Error: there is no folder {wrong.parent} for the database file {wrong} (DATABASE_URL)")
    assert not wrong.parent.exists()


@pytest.mark.parametrize("make, problem", [
    (lambda path: path.write_text("keep me\n"), "is not a SQLite database"),
    (other_tables, "is not a learnapp database"),
], ids=["text-file", "other-tables"])
def test_restore_refuses_to_overwrite_a_file_that_is_not_a_learnapp_database(tmp_path, make, problem):
    app = migrated(tmp_path / "live.sqlite")
    backup_file = tmp_path / "copy.sqlite"
    assert app.test_cli_runner().invoke(args=["backup", str(backup_file)]).exit_code == 0
    other = tmp_path / "other.sqlite"
    make(other)
    content = other.read_bytes()
    output = one_error_line(live_app(other).test_cli_runner().invoke(args=["restore", "--yes", str(backup_file)]))
    assert output.startswith(f"Error: the database file {other} (DATABASE_URL) {problem}") and "nothing was restored" in output
    assert other.read_bytes() == content
