"""Online backup and restore of the SQLite database (PostgreSQL uses pg_dump; see docs/deploy.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from learnapp.extensions import db


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why."""


def sqlite_path() -> Path:
    """The file of the app's SQLite database; a clear error on PostgreSQL."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database:
        raise BackupError("backup and restore work on SQLite; for PostgreSQL use pg_dump and pg_restore (docs/deploy.md)")
    return Path(url.database)


def backup(target: Path) -> int:
    """Copy the live database to ``target`` with SQLite's online backup API (safe while the app runs); returns bytes."""
    source_path = sqlite_path()
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source_path) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target.stat().st_size


def restore(source: Path) -> None:
    """Replace the live database with a backup, after checking it is one of ours (stop the app first)."""
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    try:
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as check:
            tables = {row[0] for row in check.execute("select name from sqlite_master where type = 'table'")}
            integrity = check.execute("pragma integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{source} is not a SQLite database: {exc}") from None
    if not {"attempt", "user_account", "skill"} <= tables:
        raise BackupError(f"{source} is not a learnapp backup (tables missing)")
    if integrity != "ok":
        raise BackupError(f"{source} failed SQLite's integrity check: {integrity}")
    db.session.remove()
    db.engine.dispose()
    with sqlite3.connect(source) as backup_db, sqlite3.connect(sqlite_path()) as live:
        backup_db.backup(live)
