"""Small database helpers shared by services."""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import text

from learnapp.extensions import db


def begin_write(*, keep_loaded: bool = False) -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite).

    Call first in a service that reads then writes, so concurrent writers wait on SQLite's
    busy_timeout instead of failing with "database is locked" when they upgrade their lock.
    On SQLite a read-only transaction already open (loading the current user, say) is ended
    first; pending writes would be committed with it, so call this before changing anything.
    Ending it expires every loaded object, so each is read again on next use. ``keep_loaded``
    keeps them as read instead (one query less per object): only for callers that read nothing
    through those objects which another request may have changed in between.

    PostgreSQL needs none of this (a read transaction may write; each statement reads the latest
    committed rows), so there an open transaction simply goes on, two round trips saved; loaded
    objects are still expired unless ``keep_loaded``, as they would be on SQLite.
    """
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        if not keep_loaded:
            session.expire_all()
        return
    if not session.in_transaction():
        session.connection(execution_options={"learnapp_immediate": True})
        return
    # SQLite only: end the read snapshot and take the write lock on the same connection. For
    # SQLAlchemy its transaction simply goes on (it commits or rolls back at the end as usual);
    # that costs two statements instead of a session commit, a trip through the pool and a begin.
    session.flush()  # what is pending was meant to be written: it commits with the read transaction, as before
    connection = session.connection()
    connection.exec_driver_sql("COMMIT")
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    if not keep_loaded:
        session.expire_all()


CONTENT_LOCK = 0x6C6E636F  # "lnco": the PostgreSQL advisory lock every content write takes


def begin_content_write() -> None:
    """Start a write transaction that holds the content lock until it ends: for checks and writes of content.

    An import (or an editor save) reads what is stored, checks the new content against it, then writes: another
    content write landing in between made the import fail with an IntegrityError traceback. On SQLite the write
    lock (BEGIN IMMEDIATE) already keeps every other writer out; PostgreSQL lets writers run side by side, so there
    content writers queue on one transaction-scoped advisory lock (drills and other writers are not held up).
    """
    begin_write()
    session = db.session()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CONTENT_LOCK})


def commit(*, keep_loaded: bool = False) -> None:
    """Commit the session; ``keep_loaded`` leaves loaded objects as they are instead of expiring them.

    Kept objects hold what this transaction read and wrote, which is what a page rendered right
    after the commit needs; a later request gets a new session anyway.
    """
    session = db.session()
    previous = session.expire_on_commit
    session.expire_on_commit = previous and not keep_loaded
    try:
        session.commit()
    finally:
        session.expire_on_commit = previous


def now() -> datetime:
    """The current time from the app's clock (timezone-aware UTC)."""
    return current_app.extensions["learnapp.clock"].now()
