"""Online backup and restore of the SQLite database (PostgreSQL uses pg_dump; see docs/deploy.md)."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing, suppress
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from learnapp.extensions import db


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why."""


LEARNAPP_TABLES = {"attempt", "user_account", "skill"}  # a database without them is not one of ours


@dataclass(frozen=True)
class Restored:
    """What a restore did: the backup's migration revision and the one the database is at now.

    ``before`` says what was at ``database`` (DATABASE_URL's file): "a database" it replaced, "nothing" (a new
    database was created there) or "an empty file" (no tables) it filled.
    """

    backup_revision: str
    revision: str
    database: Path | None = None
    before: str = "a database"

    @property
    def upgraded(self) -> bool:
        return self.backup_revision != self.revision


def sqlite_path() -> Path:
    """The file of the app's SQLite database; a clear error on PostgreSQL."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError("backup and restore work on SQLite; for PostgreSQL use pg_dump and pg_restore (docs/deploy.md)")
    return Path(url.database)


def backup(target: Path) -> int:
    """Copy the live database to ``target`` with SQLite's online backup API (safe while the app runs); returns bytes.

    The copy is one self-contained file (rollback journal, not WAL), so it can be moved or opened alone. It is
    written next to ``target`` under a temporary name and renamed when complete: a failed backup leaves nothing.
    """
    source_path = sqlite_path()
    if not source_path.is_file():
        # sqlite3.connect would create an empty database here and "back up" nothing
        raise BackupError(f"the database file {source_path} does not exist; check DATABASE_URL or run "
                          "`flask --app learnapp db upgrade` first (nothing was written)")
    with closing(sqlite3.connect(source_path)) as source:  # the file exists: connecting creates nothing
        _check_source(source, source_path)
        created = _make_folders(target)
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        try:
            with suppress(OSError):
                partial.unlink()  # left by a process with this id that was killed mid-backup
            try:
                partial.open("xb").close()  # the OS's own reason when the folder takes no new file (/proc, read-only)
            except OSError as exc:
                raise BackupError(f"cannot write {target}: the folder {target.parent} takes no new file "
                                  f"({exc.strerror}); nothing was written") from None
            try:
                with closing(sqlite3.connect(partial)) as copy:
                    source.backup(copy)
                    copy.execute("pragma journal_mode=delete")
            except sqlite3.Error as exc:
                raise BackupError(f"writing {target} failed: {exc} (nothing was written)") from None
            _rename_new(partial, target)
        except BaseException:
            with suppress(OSError):
                for leftover in (partial, partial.with_name(partial.name + "-journal")):
                    leftover.unlink(missing_ok=True)
                for folder in reversed(created):
                    folder.rmdir()
            raise
    return target.stat().st_size


def _schema(connection: sqlite3.Connection) -> tuple[set[str], list[str]]:
    """The tables of an open SQLite database and its migration revisions (alembic_version's rows; none without it)."""
    tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
    versions = ([row[0] for row in connection.execute("select version_num from alembic_version")]
                if "alembic_version" in tables else [])
    return tables, versions


def _check_source(source: sqlite3.Connection, path: Path) -> None:
    """Refuse to back up a file that is not a migrated learnapp database (a wrong DATABASE_URL, a file a failed job left)."""
    where = f"the database file {path} (DATABASE_URL)"
    try:
        tables, versions = _schema(source)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{where} is not a SQLite database ({exc}); check DATABASE_URL (nothing was written)") from None
    if not tables:
        raise BackupError(f"{where} is empty (no tables); check DATABASE_URL or run `flask --app learnapp db upgrade` "
                          "first (nothing was written)")
    if not LEARNAPP_TABLES <= tables:
        raise BackupError(f"{where} is not a learnapp database (tables missing); check DATABASE_URL (nothing was written)")
    if len(versions) != 1:
        raise BackupError(f"{where} records no migration revision (no alembic_version row), so its backup could not be "
                          "restored; stamp it with `flask --app learnapp db stamp head` once `flask --app learnapp db "
                          "check` finds its schema current (nothing was written)")


def _make_folders(target: Path) -> list[Path]:
    """Check ``target`` is a new file name and create its missing folders; returns the folders created, outermost first."""
    if not target.name or target.is_dir():
        raise BackupError(f"{target} is a folder; give the backup a file name (nothing was written)")
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} exists already; choose a new file name")
    missing = []
    folder = target.parent
    while not folder.exists():
        missing.insert(0, folder)
        folder = folder.parent
    if not folder.is_dir():
        raise BackupError(f"cannot write {target}: {folder} is a file, not a folder (nothing was written)")
    created: list[Path] = []
    for folder in missing:
        try:
            folder.mkdir()
        except OSError as exc:
            for made in reversed(created):
                made.rmdir()
            raise BackupError(f"cannot create the folder {folder} ({exc.strerror}); nothing was written") from None
        created.append(folder)
    return created


def _rename_new(partial: Path, target: Path) -> None:
    """Give the finished copy its name, never over a file that appeared meanwhile."""
    try:
        os.link(partial, target)  # fails if target exists, unlike a rename
    except FileExistsError:
        raise BackupError(f"{target} exists already; choose a new file name") from None
    except OSError:  # a file system without hard links
        if target.exists():
            raise BackupError(f"{target} exists already; choose a new file name") from None
        os.replace(partial, target)
    else:
        partial.unlink()


def _open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection to ``path`` that creates no file: the path is escaped into a file: URI.

    Without a -wal file the main file holds everything, so it is opened immutable (no -shm or -wal is
    created next to it); with one, the -wal's committed pages must be read, so SQLite manages it as usual.
    """
    wal = path.with_name(path.name + "-wal")
    options = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    return sqlite3.connect(f"{path.resolve().as_uri()}?{options}", uri=True)


def _migration_script():
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def _check_backup(source: Path) -> str:
    """Refuse anything but a sound learnapp backup at a migration this code knows; returns its revision."""
    try:
        with closing(_open_read_only(source)) as check:
            tables, versions = _schema(check)
            integrity = check.execute("pragma integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite database: {exc}") from None
    if not LEARNAPP_TABLES <= tables:
        raise BackupError(f"{source} is not a learnapp backup (tables missing)")
    if integrity != "ok":
        raise BackupError(f"{source} failed SQLite's integrity check: {integrity}")
    if len(versions) != 1:
        raise BackupError(f"{source} records no migration revision (no alembic_version row), so its schema is unknown; "
                          "nothing was restored")
    script = _migration_script()
    if versions[0] not in {rev.revision for rev in script.walk_revisions()}:
        raise BackupError(f"{source} is at migration {versions[0]}, which this version of learnapp does not know "
                          f"(its newest is {script.get_current_head()}): the backup comes from a newer learnapp; "
                          "restore it with that version. Nothing was restored")
    return versions[0]


def restore(source: Path) -> Restored:
    """Replace the live database with a backup, after checking it is one of ours (stop the app first).

    A backup from an older learnapp is then upgraded to the current schema, exactly as
    ``flask db upgrade`` does; a backup from a newer learnapp is refused before anything changes.
    Where DATABASE_URL names no file yet (a new machine) the database is created there; a file there that is
    not a learnapp database (other than an empty one) is refused.
    """
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    backup_revision = _check_backup(source)
    live_path = sqlite_path()
    before = _check_restore_target(live_path)
    db.session.remove()
    db.engine.dispose()
    try:
        with closing(_open_read_only(source)) as backup_db, closing(sqlite3.connect(live_path)) as live:
            backup_db.backup(live)
    except sqlite3.Error as exc:
        if before == "nothing":
            for leftover in ("", "-journal", "-wal", "-shm"):
                Path(f"{live_path}{leftover}").unlink(missing_ok=True)
        raise BackupError(f"cannot write the database file {live_path} (DATABASE_URL): {exc}") from None
    head = _migration_script().get_current_head()
    if backup_revision != head:
        _upgrade(source, backup_revision, head)
    return Restored(backup_revision=backup_revision, revision=head, database=live_path, before=before)


def _check_restore_target(path: Path) -> str:
    """What is at the live database's path: "a database" of ours, "nothing" or "an empty file"; anything else is refused."""
    where = f"the database file {path} (DATABASE_URL)"
    if path.is_dir():
        raise BackupError(f"{where} is a folder; check DATABASE_URL (nothing was restored)")
    if not path.exists():
        if not path.parent.is_dir():
            raise BackupError(f"there is no folder {path.parent} for {where}; check DATABASE_URL or create the folder "
                              "(nothing was restored)")
        return "nothing"
    if path.stat().st_size == 0:
        return "an empty file"
    try:
        with closing(_open_read_only(path)) as live:
            tables, _ = _schema(live)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{where} is not a SQLite database ({exc}); check DATABASE_URL (nothing was restored)") from None
    if not tables:
        return "an empty file"
    if not LEARNAPP_TABLES <= tables:
        raise BackupError(f"{where} is not a learnapp database (it holds other tables); check DATABASE_URL "
                          "(nothing was restored)")
    return "a database"


def _upgrade(source: Path, backup_revision: str, head: str) -> None:
    from alembic import command

    try:
        command.upgrade(current_app.extensions["migrate"].migrate.get_config(), "head")
    except Exception as exc:  # the restore itself is done: say so, and how to finish it
        raise BackupError(f"restored {source} (migration {backup_revision}), but upgrading it to {head} failed: {exc}; "
                          "fix the cause and run `flask --app learnapp db upgrade`") from exc
    finally:
        db.engine.dispose()
