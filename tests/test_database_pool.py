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
