"""Settings from the environment: SECRET_KEY, DATABASE_URL, SQLite pragmas."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from learnapp.app import create_app
from learnapp.config import ConfigError, database_url, from_env, secret_key
from learnapp.extensions import db
from tests.conftest import ROOT, free_port


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


def proxied_app(tmp_path, **config):
    return create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite'}",
                       "PROXY_HOPS": 1, **config})


def test_a_forwarded_prefix_moves_no_redirect_and_no_script_elsewhere(tmp_path):
    client = proxied_app(tmp_path).test_client()
    headers = {"X-Forwarded-Prefix": "//evil.example", "X-Forwarded-Proto": "https"}
    redirect = client.get("/drill/", headers=headers)
    assert redirect.status_code == 302
    assert redirect.headers["Location"].startswith(("/login", "https://localhost/login")), redirect.headers["Location"]
    page = client.get("/login", headers=headers).get_data(as_text=True)
    assert 'src="/static/app.js' in page and "evil.example" not in page


def test_a_forwarded_prefix_is_trusted_when_learnapp_proxy_prefix_is_set(tmp_path, monkeypatch):
    monkeypatch.setenv("LEARNAPP_PROXY_PREFIX", "1")
    client = proxied_app(tmp_path).test_client()
    redirect = client.get("/drill/", headers={"X-Forwarded-Prefix": "/learn"})
    assert redirect.headers["Location"].startswith(("/learn/login", "http://localhost/learn/login"))
    assert 'src="/learn/static/app.js' in client.get("/login", headers={"X-Forwarded-Prefix": "/learn"}).get_data(as_text=True)


@pytest.mark.parametrize("value", ["not a url", "postgress://u@h/db", "postgresql://u:secret@h:port/db"])
def test_a_malformed_database_url_names_database_url(tmp_path, value):
    with pytest.raises(ConfigError, match="^DATABASE_URL is not a database URL") as error:
        from_env({"SECRET_KEY": "k", "DATABASE_URL": value}, str(tmp_path))
    assert "secret" not in str(error.value)  # a password in the URL is never echoed


def run(command, tmp_path, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in {"SECRET_KEY", "DATABASE_URL", "FLASK_RUN_FROM_CLI", "FLASK_DEBUG", "LEARNAPP_DEMO"}}
    environment.update(PYTHONPATH=str(ROOT), LEARNAPP_BIND=f"127.0.0.1:{free_port()}", **env)
    result = subprocess.run([sys.executable, "-m", *command], env=environment, cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    return result.returncode, (result.stdout + result.stderr).strip()


FLASK_DB_UPGRADE = ["flask", "--app", "learnapp", "db", "upgrade"]
FLASK_HELP = ["flask", "--app", "learnapp", "--help"]  # flask loads the app to list its commands, outside any command
GUNICORN = ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]


@pytest.mark.parametrize("command, env, expected", [
    (FLASK_DB_UPGRADE, {"DATABASE_URL": "not a url"}, "Error: DATABASE_URL is not a database URL"),
    (FLASK_DB_UPGRADE, {"LEARNAPP_DESIRED_RETENTION": "abc"}, "Error: LEARNAPP_DESIRED_RETENTION must be a number"),
    (FLASK_HELP, {"SECRET_KEY": "x", "DATABASE_URL": "nonsense"}, "Error: DATABASE_URL is not a database URL"),
    (FLASK_HELP, {"LEARNAPP_SESSION_SECONDS": "abc"}, "Error: LEARNAPP_SESSION_SECONDS must be a whole number, got 'abc'"),
    (GUNICORN, {"SECRET_KEY": "k", "LEARNAPP_WORKERS": "abc"}, "learnapp: LEARNAPP_WORKERS must be a whole number"),
    (GUNICORN, {"LEARNAPP_WORKERS": "2"}, "learnapp: SECRET_KEY is not set"),
    (GUNICORN, {"SECRET_KEY": "k", "DATABASE_URL": "not a url"}, "learnapp: DATABASE_URL is not a database URL"),
])
def test_a_bad_setting_stops_the_command_with_one_line(tmp_path, command, env, expected):
    code, output = run(command, tmp_path, **{"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}", **env})
    assert code != 0
    assert output.startswith(expected) and "\n" not in output and "Traceback" not in output, output


def test_db_upgrade_on_a_database_that_cannot_be_opened_says_so_in_one_line(tmp_path):
    from sqlalchemy.engine import make_url

    if os.environ.get("TEST_DATABASE_URL"):
        url = make_url(os.environ["TEST_DATABASE_URL"]).set(database="learnapp_no_such_database")
        url, reason = url.render_as_string(hide_password=False), 'database "learnapp_no_such_database" does not exist'
    else:
        url, reason = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.sqlite'}", "unable to open database file"
    code, output = run(FLASK_DB_UPGRADE, tmp_path, DATABASE_URL=url)
    assert code != 0
    assert output.startswith("Error: cannot open the database") and reason in output and "\n" not in output, output


@pytest.mark.parametrize("value", ["learn.example.com", "ftp://learn.example.com", "https://", "https://learn.example.com/?a=1",
                                   "https://learn.example.com:port", "javascript:alert(1)"])
def test_a_base_url_that_is_not_an_http_address_is_refused(tmp_path, value):
    """Without a scheme the unsubscribe links and List-Unsubscribe header in every email were not URLs (found by an audit)."""
    with pytest.raises(ConfigError, match="^LEARNAPP_BASE_URL must be the address reps open"):
        from_env({"SECRET_KEY": "k", "LEARNAPP_BASE_URL": value}, str(tmp_path))


def test_a_base_url_keeps_its_path_without_the_last_slash(tmp_path):
    config = from_env({"SECRET_KEY": "k", "LEARNAPP_BASE_URL": " https://example.com/learn/ "}, str(tmp_path))
    assert config["BASE_URL"] == "https://example.com/learn"
    assert from_env({"SECRET_KEY": "k"}, str(tmp_path))["BASE_URL"] == "http://127.0.0.1:5000"


@pytest.mark.parametrize("env, secure", [
    ({}, False),  # the demo and the tests: http://127.0.0.1:5000
    ({"LEARNAPP_BASE_URL": "http://learn.example.com"}, False),
    ({"LEARNAPP_BASE_URL": "https://learn.example.com"}, True),
    ({"LEARNAPP_BASE_URL": "HTTPS://learn.example.com"}, True),
    ({"LEARNAPP_BASE_URL": "https://learn.example.com", "LEARNAPP_SECURE_COOKIES": "0"}, False),
    ({"LEARNAPP_BASE_URL": "https://learn.example.com", "LEARNAPP_SECURE_COOKIES": " False "}, False),
    ({"LEARNAPP_BASE_URL": "https://learn.example.com", "LEARNAPP_SECURE_COOKIES": ""}, True),
    ({"LEARNAPP_SECURE_COOKIES": "1"}, True),
    ({"LEARNAPP_SECURE_COOKIES": "yes"}, True),
])
def test_cookies_are_secure_by_default_when_the_base_url_is_https(tmp_path, env, secure):
    """An HTTPS deployment that did not also set LEARNAPP_SECURE_COOKIES=1 sent its session over plain HTTP too."""
    config = from_env({"SECRET_KEY": "k", **env}, str(tmp_path))
    assert config["SESSION_COOKIE_SECURE"] is secure and config["REMEMBER_COOKIE_SECURE"] is secure


@pytest.mark.parametrize("value", ["2", "maybe", "ture"])
def test_a_bad_secure_cookies_value_is_a_clear_error(tmp_path, value):
    """A typo read as "off" before: cookies went out without Secure on an HTTPS site and nothing said so."""
    with pytest.raises(ConfigError, match=f"^LEARNAPP_SECURE_COOKIES must be 1 or 0 .*got '{value}'"):
        from_env({"SECRET_KEY": "k", "LEARNAPP_BASE_URL": "https://learn.example.com", "LEARNAPP_SECURE_COOKIES": value},
                 str(tmp_path))


@pytest.mark.parametrize("name, key", [("SMTP_STARTTLS", "SMTP_STARTTLS"), ("SMTP_SSL", "SMTP_SSL"),
                                       ("LEARNAPP_PROXY_PREFIX", "PROXY_PREFIX")])
def test_the_other_on_off_settings_are_read_strictly_too(tmp_path, name, key):
    """A typo ("ture", "yes please") read as "off": mail went out without TLS, and nothing said so."""
    assert from_env({"SECRET_KEY": "k"}, str(tmp_path))[key] is False
    assert from_env({"SECRET_KEY": "k", name: "On"}, str(tmp_path))[key] is True
    assert from_env({"SECRET_KEY": "k", name: "0"}, str(tmp_path))[key] is False
    with pytest.raises(ConfigError, match=f"^{name} must be 1 or 0 .*got 'ture'"):
        from_env({"SECRET_KEY": "k", name: "ture"}, str(tmp_path))


@pytest.mark.parametrize("value", ["-1", "a year", "1.5"])
def test_a_bad_hsts_seconds_value_is_a_clear_error(tmp_path, value):
    with pytest.raises(ConfigError, match="^LEARNAPP_HSTS_SECONDS must be"):
        from_env({"SECRET_KEY": "k", "LEARNAPP_HSTS_SECONDS": value}, str(tmp_path))
