"""Settings from the environment: SECRET_KEY, DATABASE_URL, SQLite pragmas."""

import pytest
from sqlalchemy import text

from learnapp.app import create_app
from learnapp.config import ConfigError, database_url, from_env, secret_key
from learnapp.extensions import db


def test_secret_key_is_required_when_serving(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        from_env({}, str(tmp_path))


def test_debug_and_cli_get_a_generated_key_and_the_demo_keeps_one(tmp_path):
    assert len(from_env({"FLASK_DEBUG": "1"}, str(tmp_path))["SECRET_KEY"]) == 64
    assert len(from_env({"FLASK_RUN_FROM_CLI": "true"}, str(tmp_path))["SECRET_KEY"]) == 64
    first = secret_key({"LEARNAPP_DEMO": "1"}, str(tmp_path), lenient=False)
    assert first == secret_key({"LEARNAPP_DEMO": "1"}, str(tmp_path), lenient=False)


def test_database_url_defaults_to_sqlite_in_the_instance_folder(tmp_path):
    assert database_url({}, str(tmp_path)) == f"sqlite:///{tmp_path}/learnapp.sqlite"
    assert database_url({"DATABASE_URL": "postgres://u@h/db"}, "x") == "postgresql+psycopg://u@h/db"
    assert database_url({"DATABASE_URL": "postgresql://u@h/db"}, "x") == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize("value", ["0.5", "1.2", "abc"])
def test_a_bad_desired_retention_is_a_clear_error(tmp_path, value):
    with pytest.raises(ConfigError, match="LEARNAPP_DESIRED_RETENTION"):
        from_env({"SECRET_KEY": "k", "LEARNAPP_DESIRED_RETENTION": value}, str(tmp_path))


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path):
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}"})
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 10000
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_behind_a_proxy_the_forwarded_scheme_and_client_are_trusted(tmp_path):
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}", "PROXY_HOPS": 1})

    @app.get("/_where")
    def where():
        from flask import request

        return f"{request.scheme} {request.remote_addr} {request.host}"

    body = app.test_client().get("/_where", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9",
                                                     "X-Forwarded-Host": "learn.example.com"}).get_data(as_text=True)
    assert body == "https 203.0.113.9 learn.example.com"


def test_a_lost_database_connection_gives_a_clean_503(tmp_path):
    from sqlalchemy.exc import OperationalError

    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'd.sqlite'}"})

    @app.get("/_down")
    def down():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    response = app.test_client().get("/_down")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "The database is restarting" in response.get_data(as_text=True)
