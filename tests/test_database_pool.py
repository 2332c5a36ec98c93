"""PostgreSQL connections in the pool: one the server dropped while it sat idle is replaced unseen;
one dropped while in use costs that request a 503 page, and the next request works."""

import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from learnapp.extensions import db


def _drop_the_apps_connections(app) -> int:
    """What a server restart or a proxy's idle timeout does to the app's pooled connections."""
    with app.app_context():
        url = db.engine.url
    admin = create_engine(url, poolclass=NullPool)
    with admin.connect() as conn:
        dropped = conn.execute(text("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                                    "where datname = current_database() and pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    return dropped


@pytest.fixture
def rep_client(app, content, make_user, auth, client):
    if db.engine.dialect.name == "sqlite":
        pytest.skip("a SQLite file has no server to drop a connection")
    auth.login(make_user("rep").email)
    db.session.remove()  # the test's own session gives its connection back to the pool too
    assert client.get("/drill/").status_code == 200  # the pool now holds the connections these requests used
    return client


def test_a_connection_dropped_while_idle_in_the_pool_is_replaced_before_use(app, rep_client):
    time.sleep(app.config["DB_PING_IDLE_SECONDS"] + 0.2)
    assert _drop_the_apps_connections(app) >= 1
    response = rep_client.get("/drill/")
    assert response.status_code == 200 and "Item 1 of" in response.get_data(as_text=True)


def test_a_connection_dropped_in_use_gives_one_503_then_the_app_recovers(app, rep_client):
    assert _drop_the_apps_connections(app) >= 1  # at once: the pool hands the connection out without a ping
    failed = rep_client.get("/drill/")
    assert failed.status_code == 503 and failed.headers["Retry-After"] == "5"
    assert rep_client.get("/drill/").status_code == 200


def test_a_connection_lost_after_the_last_query_still_answers_the_page(tmp_path):
    """PostgreSQL restarting between a request's last query and the end of its transaction: the page is made,
    and ending the session must not turn it into a 500 outside the error handlers (gunicorn's bare 500)."""
    from learnapp.app import create_app
    from tests.conftest import database_url

    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path)})
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a SQLite file has no server to drop a connection")

    @app.get("/_lost_after_reading")
    def lost_after_reading():
        db.session.execute(text("select 1")).scalar()
        _drop_the_apps_connections(app)
        time.sleep(0.1)  # the server has closed it by now
        return "made"

    client = app.test_client()  # no app context around it: each request ends its own session, as in production
    for _ in range(2):
        response = client.get("/_lost_after_reading")
        assert response.status_code == 200 and response.get_data(as_text=True) == "made"
    with app.app_context():
        db.engine.dispose()


def test_a_session_that_fails_to_end_gives_its_connection_back(tmp_path, monkeypatch):
    """Any database: a rollback failing at the end of a request leaves no connection checked out of the pool
    (with the garbage collector off, as it may run late: 15 failed requests used to exhaust the pool)."""
    import gc

    from learnapp.app import create_app
    from tests.conftest import database_url

    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": database_url(tmp_path)})
    with app.app_context():
        engine = db.engine
    failures = []
    real_rollback = engine.dialect.do_rollback

    def failing_rollback(dbapi_connection):
        if failures:
            failures.pop()
            raise engine.dialect.loaded_dbapi.OperationalError("disk I/O error")  # as the driver would raise one
        return real_rollback(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_rollback", failing_rollback)

    @app.get("/_rollback_fails")
    def rollback_fails():
        db.session.execute(text("select 1")).scalar()
        failures.append(1)
        return "made"

    client = app.test_client()
    gc.disable()
    try:
        for _ in range(20):
            assert client.get("/_rollback_fails").get_data(as_text=True) == "made"
        assert engine.pool.checkedout() == 0
    finally:
        gc.enable()
        engine.dispose()
