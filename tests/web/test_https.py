"""An HTTPS deployment (LEARNAPP_BASE_URL https://...): every cookie the app sets is Secure by default."""

import pytest

from learnapp.app import create_app
from learnapp.extensions import db
from tests.conftest import PASSWORD, csrf_token, database_url


def _app(monkeypatch, tmp_path, clock, **env):
    """The app as gunicorn builds it from the environment (no test overrides of the cookie settings)."""
    for name in ("LEARNAPP_BASE_URL", "LEARNAPP_SECURE_COOKIES", "LEARNAPP_PROXY_HOPS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path),
                       "CLOCK": clock})


@pytest.fixture
def served(monkeypatch, tmp_path, clock):
    """Makes an app from the given environment with one rep in it; its tables go at the end."""
    made = []

    def make(**env):
        from learnapp.services.users import create_user

        app = _app(monkeypatch, tmp_path, clock, **env)
        with app.app_context():
            db.drop_all()
            db.create_all()
            create_user("rep@example.com", "Rep", PASSWORD, "rep", team="A", now=clock.now())
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def _cookies_of_a_login(app, **request) -> dict[str, str]:
    """Each cookie a login with "keep me logged in" sets, by name: its Set-Cookie header."""
    client = app.test_client()
    data = {"email": "rep@example.com", "password": PASSWORD, "remember": "y", "csrf_token": csrf_token(client)}
    response = client.post("/login", data=data, **request)
    assert response.status_code == 302
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_an_https_base_url_makes_the_session_remember_and_device_cookies_secure(served):
    """Before, an HTTPS deployment that did not also set LEARNAPP_SECURE_COOKIES=1 let a browser send its login
    over plain HTTP (a link typed without https://, a network that rewrites it) for anyone on the path to read."""
    cookies = _cookies_of_a_login(served(LEARNAPP_BASE_URL="https://learn.example.com"))
    assert set(cookies) == {"session", "remember_token", "learnapp_device"}
    for name, header in cookies.items():
        assert "; Secure" in header, header


@pytest.mark.parametrize("env", [{}, {"LEARNAPP_BASE_URL": "https://learn.example.com", "LEARNAPP_SECURE_COOKIES": "0"}])
def test_on_http_or_turned_off_no_cookie_is_secure(served, env):
    """The demo and the tests run on http://127.0.0.1:5000, where a browser would drop a Secure cookie."""
    cookies = _cookies_of_a_login(served(**env))
    assert set(cookies) == {"session", "remember_token", "learnapp_device"}
    for header in cookies.values():
        assert "Secure" not in header, header
