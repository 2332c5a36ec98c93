"""Fixtures: an app on a fresh database (SQLite, or TEST_DATABASE_URL), a client, and small factories."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
from datetime import datetime, timezone
from pathlib import Path

import pytest

from flask.testing import FlaskClient

from learnapp.app import create_app
from learnapp.domain.clock import FixedClock
from learnapp.extensions import db

ROOT = Path(__file__).resolve().parents[1]
CONTENT = [str(ROOT / "lessons"), str(ROOT / "scenarios")]
START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday
PASSWORD = "correct-horse-1"


def database_url(tmp_path: Path) -> str:
    return os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite'}"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


class RequestClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as on a server.

    Tests hold an app context for their factories (``ctx``); without this, every request of a test shared it, and
    with it ``g`` (Flask-Login's user, Flask-WTF's token) and the SQLAlchemy session: a request could see objects
    an earlier one loaded, and no request ended its session as a server's does. What the test has written is
    committed before each request, and the test's own transaction ends after it (what it loaded is read again), so
    the test sees what the request wrote, on SQLite as well (a read transaction keeps its snapshot).
    """

    def open(self, *args, **kwargs):
        outer = db.session() if _has_app_context() else None
        if outer is not None:
            outer.commit()
        try:
            with self.application.app_context():
                return super().open(*args, **kwargs)
        finally:
            if outer is not None:
                outer.commit()


def _has_app_context() -> bool:
    from flask import has_app_context

    return has_app_context()


@pytest.fixture
def app(tmp_path, clock):
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
        "CLOCK": clock, "CONTENT_DIRS": CONTENT,
    })
    app.test_client_class = RequestClient
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def content(ctx, clock):
    """The shipped content, imported."""
    from learnapp.services.content import import_content

    report = import_content(CONTENT, clock.now())
    assert report.ok, report.errors
    return report


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make_user(ctx, clock):
    from learnapp.services.users import create_user

    counter = iter(range(1, 10_000))

    def make(role: str = "rep", team: str | None = "Team A", name: str | None = None, **kwargs):
        n = next(counter)
        return create_user(f"{role}{n}@example.com", name or f"{role.title()} {n}", PASSWORD, role,
                           team=team, now=clock.now(), **kwargs)

    return make


def csrf_token(client, url: str = "/login") -> str:
    page = client.get(url, follow_redirects=True).get_data(as_text=True)  # /team/ leads one team's manager on
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'id="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


class Auth:
    """Logs a client in as a user, the way a person does: GET the form, POST it with its CSRF token."""

    def __init__(self, client):
        self.client = client

    def login(self, email: str, password: str = PASSWORD):
        return self.client.post("/login", data={"email": email, "password": password,
                                                "csrf_token": csrf_token(self.client)})

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": csrf_token(self.client, "/drill/")})


@pytest.fixture
def auth(client):
    return Auth(client)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        text = "\n".join(f"{k}: {str(v).strip()}" for k, v in message.items()) + "\n\n" + message.get_content()
        self.messages.append((envelope.rcpt_tos, text))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def inbox(app):
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives; the app sends to it."""
    from aiosmtpd.controller import Controller

    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, BASE_URL="https://learn.example.com")
    yield handler
    controller.stop()


