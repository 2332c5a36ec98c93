"""migrations/ builds the same schema as the models (SQLite here; .ci/run checks PostgreSQL too)."""

from learnapp.app import create_app


def test_db_upgrade_builds_the_models_schema(tmp_path):
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite'}"})
    runner = app.test_cli_runner()
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output


def _insert(connection, table: str, **values) -> None:
    """A row with the given values and a placeholder in every other NOT NULL column without a default."""
    for _, name, kind, notnull, default, pk in connection.execute(f"PRAGMA table_info({table})").fetchall():
        if notnull and default is None and not pk and name not in values:
            values[name] = 1 if "INT" in kind.upper() or "BOOL" in kind.upper() or kind.upper() in ("FLOAT", "REAL") else \
                "2026-01-05 09:00:00.000000" if "DATETIME" in kind.upper() or kind.upper() == "DATE" else "{}" if kind.upper() == "JSON" else "x"
    columns = ", ".join(f'"{c}"' for c in values)
    connection.execute(f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(values))})", list(values.values()))


def test_upgrading_a_sqlite_database_with_users_keeps_every_row_and_lets_them_log_in(tmp_path):
    """0010 once rebuilt user_account on SQLite: with foreign keys on, dropping the old table failed on users with
    attempts and silently deleted the rows that cascade (drill sessions, memory states) of the others."""
    import sqlite3

    from werkzeug.security import generate_password_hash

    path = tmp_path / "old.sqlite"
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "WTF_CSRF_ENABLED": False})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "0009"]).exit_code == 0
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA foreign_keys=OFF")  # only user_account's children matter here
        for user_id in (1, 2):
            _insert(connection, "user_account", id=user_id, email=f"rep{user_id}@example.com", name="Rep",
                    password_hash=generate_password_hash("old-pass-123"), role="rep", team_id=None, timezone="UTC",
                    active=1)
            _insert(connection, "drill_session", user_id=user_id, day=f"2026-01-0{user_id}", plan="[]")
        _insert(connection, "attempt", user_id=1, presentation_id=1)
    before = _counts(path)
    upgrade = runner.invoke(args=["db", "upgrade"])
    assert upgrade.exit_code == 0, upgrade.output
    assert _counts(path) == before == {"user_account": 2, "drill_session": 2, "attempt": 1}
    with sqlite3.connect(path) as connection:
        tokens = [t for (t,) in connection.execute("SELECT session_token FROM user_account")]
    assert len(set(tokens)) == 2 and all(len(t) >= 32 for t in tokens)
    assert runner.invoke(args=["db", "check"]).exit_code == 0
    # and back: the downgrade drops the column without rebuilding the table either
    downgrade = runner.invoke(args=["db", "downgrade", "0009"])
    assert downgrade.exit_code == 0, downgrade.output
    assert _counts(path) == before
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    client = app.test_client()
    login = client.post("/login", data={"email": "rep1@example.com", "password": "old-pass-123"})
    assert login.status_code == 302 and client.get("/progress/").status_code == 200


def _counts(path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("user_account", "drill_session", "attempt")}
