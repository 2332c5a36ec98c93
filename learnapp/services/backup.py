"""Online backup and restore of the SQLite database (PostgreSQL uses pg_dump; see docs/deploy.md)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from learnapp.extensions import db


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why."""


@dataclass(frozen=True)
class Restored:
    """What a restore did: the backup's migration revision and the one the database is at now."""

    backup_revision: str
    revision: str

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

    The copy is one self-contained file (rollback journal, not WAL), so it can be moved or opened alone.
    """
    source_path = sqlite_path()
    if not source_path.is_file():
        # sqlite3.connect would create an empty database here and "back up" nothing
        raise BackupError(f"the database file {source_path} does not exist; check DATABASE_URL or run "
                          "`flask --app learnapp db upgrade` first (nothing was written)")
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
        copy.execute("pragma journal_mode=delete")
    copy.close()
    source.close()
    return target.stat().st_size


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
        check = _open_read_only(source)
        try:
            tables = {row[0] for row in check.execute("select name from sqlite_master where type = 'table'")}
            integrity = check.execute("pragma integrity_check").fetchone()[0]
            versions = ([row[0] for row in check.execute("select version_num from alembic_version")]
                        if "alembic_version" in tables else [])
        finally:
            check.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite database: {exc}") from None
    if not {"attempt", "user_account", "skill"} <= tables:
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
    """
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    backup_revision = _check_backup(source)
    live_path = sqlite_path()
    db.session.remove()
    db.engine.dispose()
    backup_db = _open_read_only(source)
    try:
        with sqlite3.connect(live_path) as live:
            backup_db.backup(live)
        live.close()
    finally:
        backup_db.close()
    head = _migration_script().get_current_head()
    if backup_revision != head:
        _upgrade(source, backup_revision, head)
    return Restored(backup_revision=backup_revision, revision=head)


def _upgrade(source: Path, backup_revision: str, head: str) -> None:
    from alembic import command

    try:
        command.upgrade(current_app.extensions["migrate"].migrate.get_config(), "head")
    except Exception as exc:  # the restore itself is done: say so, and how to finish it
        raise BackupError(f"restored {source} (migration {backup_revision}), but upgrading it to {head} failed: {exc}; "
                          "fix the cause and run `flask --app learnapp db upgrade`") from exc
    finally:
        db.engine.dispose()
