"""The application factory."""

from __future__ import annotations

import os

from flask import Flask, render_template
from sqlalchemy import event
from sqlalchemy.engine import Engine

from learnapp import config as config_module
from learnapp.domain.clock import SystemClock
from learnapp.extensions import csrf, db, limiter, login_manager, migrate

MAX_ROW_ID = 2**31 - 1  # the largest value of an Integer column on PostgreSQL (int4)
MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "migrations")


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app: settings, extensions, blueprints, CLI commands and error pages."""
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    env = dict(os.environ)
    if test_config and "SECRET_KEY" in test_config:
        env.setdefault("SECRET_KEY", test_config["SECRET_KEY"])
    app.config.from_mapping(_settings(env, app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    app.extensions["learnapp.clock"] = app.config.get("CLOCK") or SystemClock()
    db.init_app(app)
    _end_sessions_quietly(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see that page."

    with app.app_context():
        _tune_sqlite(db.engine)
        _ping_idle_connections(db.engine, app.config.get("DB_PING_IDLE_SECONDS", 1.0))

    _register_url_converters(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_error_pages(app)
    _register_security_headers(app)
    _register_input_guard(app)

    hops = app.config.get("PROXY_HOPS", 0)
    if hops:  # behind a reverse proxy: trust its X-Forwarded-* headers for this many hops
        from werkzeug.middleware.proxy_fix import ProxyFix

        # X-Forwarded-Prefix prefixes every URL the app builds (redirects, script src): a client could send
        # "//evil.example" through a proxy that passes the header on, so it is trusted only when asked for
        prefix_hops = hops if app.config.get("PROXY_PREFIX") else 0
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=prefix_hops)

    from learnapp import cli

    cli.register(app)
    return app


def _settings(env: dict, instance_path: str) -> dict:
    """The config mapping from the environment; inside a flask command a bad setting is a one-line error.

    click prints a ClickException as "Error: <message>" and exits 1, where a ConfigError raised while
    flask loads the app would print a traceback. gunicorn.conf.py and wsgi.py do the same for the server.
    """
    try:
        return config_module.from_env(env, instance_path)
    except config_module.ConfigError as exc:
        import click

        if click.get_current_context(silent=True) is not None:
            raise click.ClickException(str(exc)) from None
        raise


def _tune_sqlite(engine: Engine) -> None:
    """WAL, busy_timeout and foreign keys on every SQLite connection; BEGIN IMMEDIATE on request.

    A transaction that reads then writes asks for an immediate begin (see services.db.begin_write)
    so two writers queue on busy_timeout instead of failing with "database is locked".
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("learnapp_immediate")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _register_url_converters(app: Flask) -> None:
    """``<id:...>`` in a route: a row id, matched only from 1 to 2**31 - 1 (a larger one is a 404).

    Werkzeug's ``int`` matches any number of digits; a longer one than the database's integer
    (PostgreSQL's ends at 2**31 - 1, SQLite's at 2**63 - 1) failed the query with a 500.
    """
    from werkzeug.routing import IntegerConverter

    class RowIdConverter(IntegerConverter):
        def __init__(self, url_map, *args, **kwargs):
            super().__init__(url_map, min=1, max=MAX_ROW_ID)

    app.url_map.converters["id"] = RowIdConverter


def _end_sessions_quietly(app: Flask) -> None:
    """End each request's database session, even when its connection died after the request's last query.

    Flask-SQLAlchemy's own teardown ends it too, but a rollback on a connection the server closed in the
    meantime (PostgreSQL restarting) raises there, outside every error handler: gunicorn then answers
    500 for a response already made. Registered after it, this teardown runs first; what is left of the
    transaction is gone with the connection (a write had committed before its response), so it is logged,
    and the connection is discarded: a session whose rollback failed would otherwise keep it checked out
    of the pool until the garbage collector came by (15 such requests used to exhaust a worker's pool).
    """
    from sqlalchemy.exc import DBAPIError

    @app.teardown_appcontext
    def _end_session(_error):
        if not db.session.registry.has():
            return
        session = db.session.registry()
        # held here: a session whose rollback fails forgets its connection without giving it back to the pool
        connection = session.connection() if session.in_transaction() else None
        try:
            session.close()
        except DBAPIError as exc:
            app.logger.warning("ending the request's database session failed after its response was made: %s", exc.orig)
            if connection is not None and not connection.invalidated:
                connection.invalidate()  # discarded, and its place in the pool freed
                connection.close()
        finally:
            db.session.registry.clear()


def _ping_idle_connections(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection that sat idle for ``idle_seconds`` or more before handing it out (not SQLite).

    SQLAlchemy's pool_pre_ping checks every checkout: a round trip on every request, paid for nothing
    under load, when connections go straight back to work. A connection the server dropped while it sat
    in the pool (a restart, an idle timeout in a proxy) has been idle, so it is still found and replaced
    before a request uses it. A restart while requests run fails those requests with the 503 page, and
    the pool then renews every connection made before it (SQLAlchemy invalidates the pool on a disconnect).
    """
    if engine.dialect.name == "sqlite":
        return
    import time

    from sqlalchemy.exc import DisconnectionError

    @event.listens_for(engine, "checkin")
    def _idle_from_now(_dbapi_connection, record):
        record.info["learnapp_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        since = record.info.pop("learnapp_idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # unusable, whatever the cause: the pool retries with a new connection
            raise DisconnectionError(f"a pooled connection was gone: {exc}") from exc


def _register_blueprints(app: Flask) -> None:
    from learnapp.web import admin, auth, author, drill, lessons, main, progress, settings, team, vacations

    for module in (main, auth, drill, lessons, progress, team, author, admin, settings, vacations):
        app.register_blueprint(module.bp)


def _is_disconnect(error) -> bool:
    """True when the database connection failed (server down or restarting), not when a query was wrong."""
    from sqlalchemy.exc import OperationalError

    return isinstance(error, OperationalError) and not _is_locked(error)


def _is_locked(error) -> bool:
    """SQLite's "database is locked" (or "database table is locked"): a writer waited past busy_timeout."""
    from sqlalchemy.exc import OperationalError

    text = str(getattr(error, "orig", error)).lower()
    return isinstance(error, OperationalError) and ("database is locked" in text or "database table is locked" in text)


def _register_template_helpers(app: Flask) -> None:
    from markupsafe import Markup

    from learnapp.rendering import render_markdown

    app.add_template_filter(lambda text, cache=True: Markup(render_markdown(text, cache=cache)), "markdown")
    app.add_template_filter(lambda value: "–" if value is None else f"{value * 100:.0f}%", "percent")
    app.add_template_filter(_day, "day")


def _day(value, user=None) -> str:
    """A date, or the day of a moment in the viewer's own timezone (a skill due 20:00 UTC is tomorrow in Auckland),
    or in ``user``'s: a rep's page shows the rep's own days to their manager (a skill due at 00:30 on a Friday in
    Kiritimati comes back in that Friday's drill, while it is still Wednesday in Pago Pago)."""
    from datetime import datetime

    from flask_login import current_user

    if value is None:
        return "–"
    whose = user if user is not None else (current_user if current_user.is_authenticated else None)
    if isinstance(value, datetime) and value.tzinfo is not None and whose is not None:
        from learnapp.services.drill import user_zone

        value = value.astimezone(user_zone(whose))
    return value.strftime("%a %d %b %Y")


def _too_many_message(error) -> str:
    """The 429 page's text: what was limited (each limit's ``error_message``) and how long that limit still holds.

    The wait is the one the Retry-After header gives, from the limit this request breached, rounded up to minutes.
    """
    import math
    import time

    from learnapp.extensions import limiter

    limit = getattr(error, "limit", None)  # flask_limiter's RateLimitExceeded names the limit it hit
    # the description is the limit's error_message, or without one only its figures ("10 per 15 minute")
    what = error.description if limit is not None and limit.error_message else "Too many attempts."
    breached = limiter.current_limit
    if breached is None:
        return f"{what} Wait a few minutes, then try again."
    # whole seconds, as Flask-Limiter's Retry-After counts them: its reset time is rounded up to the next second, so
    # the fraction would make a refusal right after the first attempt "about 16 minutes" of a 15-minute limit
    minutes = max(1, math.ceil(int(breached.reset_at - time.time()) / 60))
    return f"{what} Try again in {'about ' if minutes > 1 else ''}{minutes} minute{'s' if minutes > 1 else ''}."


def _register_error_pages(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    def page(code: int, title: str, message: str):
        return render_template("error.html", code=code, title=title, message=message), code

    app.register_error_handler(400, lambda e: page(400, "Bad request", getattr(e, "description", "")))
    app.register_error_handler(CSRFError, lambda e: page(400, "Form expired", "The form was open too long or came from elsewhere. Go back, reload and try again."))
    app.register_error_handler(403, lambda e: page(403, "Not yours", "You do not have access to this page."))
    app.register_error_handler(404, lambda e: page(404, "Not found", "There is nothing here."))
    app.register_error_handler(405, lambda e: page(405, "Not allowed", "That action is not available here."))
    app.register_error_handler(413, lambda e: page(413, "Too large", "What you sent is larger than learnapp accepts."))
    app.register_error_handler(429, lambda e: page(429, "Too many attempts", _too_many_message(e)))
    app.register_error_handler(500, lambda e: page(500, "Something went wrong", "The error was logged. Try again in a moment."))

    from sqlalchemy.exc import DBAPIError

    def database_unavailable(error):
        # the database went away (restart, failover): nothing was half-written, the transaction is gone
        app.logger.warning("database unavailable: %s", error)
        db.session.remove()
        # a plain page: the usual layout would look up the logged-in user in the database that just went away
        body = ("<!doctype html><html lang=en><meta charset=utf-8><title>Back in a moment</title>"
                "<h1>Back in a moment</h1><p>The database is restarting. Your last answer is safe; reload in a few seconds.</p></html>")
        return body, 503, {"Retry-After": "5", "Content-Type": "text/html; charset=utf-8"}

    def database_error(error):
        from flask import request

        if error.connection_invalidated or _is_disconnect(error):
            return database_unavailable(error)
        # what the request had not committed is dropped; rolled back rather than removed, so the objects it loaded (the
        # logged-in user the layout reads) load again instead of being detached, which failed the error page itself
        try:
            db.session.rollback()
        except DBAPIError:  # the connection went with it: the page that reads nothing from the database
            return database_unavailable(error)
        if _is_locked(error):  # SQLite: another writer held the write lock for longer than busy_timeout
            app.logger.warning("database busy: %s", error.orig)
            body, code = page(503, "Busy", "Many changes arrived at once and this one waited too long. Try again in a moment.")
            return body, code, {"Retry-After": "5"}
        # a handled exception is not logged by Flask: without this the page would promise a log that has nothing
        # a password link's path is its secret: the route names it instead
        where = request.url_rule.rule if request.endpoint == "auth.set_password" and request.url_rule else request.path
        app.logger.error("database error on %s %s", request.method, where, exc_info=error)
        return page(500, "Something went wrong", "The error was logged. Try again in a moment.")

    app.register_error_handler(DBAPIError, database_error)


def _register_input_guard(app: Flask) -> None:
    """Refuse NUL characters anywhere in a request: no field needs them and PostgreSQL text cannot hold them."""
    from flask import abort, request

    @app.before_request
    def _no_nul_bytes():
        values = [request.path, *(v for vs in request.args.listvalues() for v in vs),
                  *(v for vs in request.form.listvalues() for v in vs)]  # every value of a repeated field
        if any("\x00" in v for v in values):
            abort(400, "The request contains a NUL character.")


def _register_security_headers(app: Flask) -> None:
    from flask import current_app, request

    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        # an HTTPS deployment (its cookies Secure) tells browsers to use nothing else, so an address typed without
        # https:// never goes out in the clear first. Only over HTTPS (behind a proxy, X-Forwarded-Proto through
        # LEARNAPP_PROXY_HOPS), where browsers heed it; no includeSubDomains: other hosts of the domain are not ours
        seconds = current_app.config.get("HSTS_SECONDS", 0)
        if seconds and request.is_secure and current_app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", f"max-age={seconds}")
        return response
