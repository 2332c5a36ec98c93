"""Small database helpers shared by services."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from learnapp.extensions import db


def begin_write() -> None:
    """Start the session's transaction as a writer (BEGIN IMMEDIATE on SQLite, a plain BEGIN elsewhere).

    Call first in a service that reads then writes, so concurrent writers wait on SQLite's
    busy_timeout instead of failing with "database is locked" when they upgrade their lock.
    A read-only transaction already open (loading the current user, say) is ended first; pending
    writes would be committed with it, so call this before changing anything.
    """
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={"learnapp_immediate": True})


def now() -> datetime:
    """The current time from the app's clock (timezone-aware UTC)."""
    return current_app.extensions["learnapp.clock"].now()
