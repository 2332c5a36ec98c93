"""Settings read from the environment.

Every setting has a safe default for one team on one box (SQLite in the instance folder), except
SECRET_KEY: a served production app refuses to start without it. Flask CLI commands (migrations,
content checks, the demo) and debug mode may run with a generated key because they sign nothing
that outlives the process, or, for the demo, keep their key in the instance folder. The commands
that do sign lasting things (the scheduler's emails) check ``SECRET_KEY_IS_TEMPORARY`` and refuse.

Every ConfigError message is one line naming the variable and what it expects: it is what an
admin sees when the app, a flask command or gunicorn refuses to start.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Mapping


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    """An on/off setting read strictly: anything but 1/true/yes/on or 0/false/no/off (any case) is a ConfigError,
    for a setting whose typo would otherwise quietly turn a safeguard off."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (or true/false, yes/no, on/off), got {raw!r}")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None


def database_url(env: Mapping[str, str], instance_path: str) -> str:
    """DATABASE_URL if set (``postgres://`` and ``postgresql://`` are routed to psycopg 3), else SQLite in the instance folder."""
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "learnapp.sqlite")
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
            break
    _check_database_url(url)
    return url


def _check_database_url(url: str) -> None:
    """A ConfigError naming DATABASE_URL unless SQLAlchemy can parse ``url`` and knows its database kind."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    expected = "expected e.g. postgresql://user:password@host:5432/learnapp or sqlite:////path/to/learnapp.sqlite"
    try:
        make_url(url).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        # the URL may hold a password: name the problem, never echo the value
        raise ConfigError(f"DATABASE_URL is not a database URL SQLAlchemy understands ({exc}); {expected}") from None


def secret_key(env: Mapping[str, str], instance_path: str, *, lenient: bool) -> str:
    """SECRET_KEY from the environment; in demo mode a key kept in the instance folder; in lenient mode a random one."""
    key = env.get("SECRET_KEY", "").strip()
    if key:
        return key
    if _bool(env.get("LEARNAPP_DEMO")):
        path = Path(instance_path) / "demo-secret-key"
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip()
    if lenient:
        return secrets.token_hex(32)
    raise ConfigError(
        "SECRET_KEY is not set: set it to a long random string before serving learnapp, e.g. "
        "export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')"
    )


def secret_key_is_temporary(env: Mapping[str, str]) -> bool:
    """True when ``secret_key`` generates a key for this process only (no SECRET_KEY, not the demo)."""
    return not env.get("SECRET_KEY", "").strip() and not _bool(env.get("LEARNAPP_DEMO"))


def from_env(env: Mapping[str, str], instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables."""
    debug = _bool(env.get("FLASK_DEBUG"))
    lenient = debug or env.get("FLASK_RUN_FROM_CLI") == "true"
    retention = _float(env, "LEARNAPP_DESIRED_RETENTION", 0.9)
    if not 0.7 < retention <= 0.99:
        raise ConfigError(f"LEARNAPP_DESIRED_RETENTION must be above 0.7 and at most 0.99, got {retention}")
    base = base_url(env)
    secure = secure_cookies(env, base)
    hsts = _int(env, "LEARNAPP_HSTS_SECONDS", 365 * 24 * 3600)
    if hsts < 0:
        raise ConfigError(f"LEARNAPP_HSTS_SECONDS must be 0 (off) or more seconds, got {hsts}")
    return {
        "SECRET_KEY": secret_key(env, instance_path, lenient=lenient),
        "SECRET_KEY_IS_TEMPORARY": secret_key_is_temporary(env),
        "SQLALCHEMY_DATABASE_URI": database_url(env, instance_path),
        # no ping on every checkout (a round trip per request); a connection idle for longer is pinged first,
        # so one the server dropped meanwhile (restart, idle timeout) is replaced unseen (not for SQLite)
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "DB_PING_IDLE_SECONDS": _float(env, "LEARNAPP_DB_PING_IDLE", 1.0),
        "DESIRED_RETENTION": retention,
        "NEW_SKILLS_PER_DAY": _int(env, "LEARNAPP_NEW_SKILLS_PER_DAY", 3),
        "SESSION_SECONDS": _int(env, "LEARNAPP_SESSION_SECONDS", 300),
        "CONTENT_DIRS": [p for p in env.get("LEARNAPP_CONTENT_DIRS", "").split(os.pathsep) if p],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # the known-device cookie (web/auth.py) follows SESSION_COOKIE_SECURE
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # Strict-Transport-Security's max-age on pages served over HTTPS when the cookies are Secure (app.py)
        "HSTS_SECONDS": hsts,
        # failed logins are counted per client address and per account (web/auth.py); in each process's memory
        # unless a shared store is named (redis://host:6379 with the [redis] extra), needed for several workers or hosts
        "RATELIMIT_STORAGE_URI": env.get("LEARNAPP_RATELIMIT_STORAGE", "memory://"),
        "RATELIMIT_SWALLOW_ERRORS": True,  # the store unreachable: log in unlimited rather than not at all
        "RATELIMIT_HEADERS_ENABLED": True,  # Retry-After on the 429 page
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "PROXY_HOPS": _int(env, "LEARNAPP_PROXY_HOPS", 0),
        # X-Forwarded-Prefix moves every generated URL (redirects, scripts): trusted only when the proxy sets it
        "PROXY_PREFIX": _flag(env, "LEARNAPP_PROXY_PREFIX", False),
        "SMTP_HOST": env.get("SMTP_HOST", ""),  # empty: no email is sent (reminders are logged as skipped)
        "SMTP_PORT": _int(env, "SMTP_PORT", 25),
        "SMTP_USER": env.get("SMTP_USER", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _flag(env, "SMTP_STARTTLS", False),
        "SMTP_SSL": _flag(env, "SMTP_SSL", False),  # TLS from the first byte (port 465) instead of STARTTLS
        "SMTP_CA_FILE": env.get("SMTP_CA_FILE", ""),  # a private CA for the relay's certificate (default: the system's)
        "MAIL_FROM": env.get("MAIL_FROM", "learnapp <learnapp@localhost>"),
        "BASE_URL": base,
    }


def secure_cookies(env: Mapping[str, str], base: str) -> bool:
    """Whether every cookie the app sets is Secure (sent over HTTPS only): LEARNAPP_SECURE_COOKIES if set, else
    whether the address reps open (``base``, LEARNAPP_BASE_URL) is an https:// one. An HTTPS site that forgot the
    setting would otherwise let a browser send its login over plain HTTP; the demo on http:// keeps working."""
    from urllib.parse import urlsplit

    return _flag(env, "LEARNAPP_SECURE_COOKIES", urlsplit(base).scheme == "https")


DEFAULT_BASE_URL = "http://127.0.0.1:5000"


def base_url(env: Mapping[str, str]) -> str:
    """LEARNAPP_BASE_URL, what links in emails start with: an http(s) address with a host, no query or fragment."""
    from urllib.parse import urlsplit

    raw = env.get("LEARNAPP_BASE_URL", "").strip()
    if not raw:
        return DEFAULT_BASE_URL
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 -- a port that is not a number raises here
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(f"LEARNAPP_BASE_URL must be the address reps open, like https://learn.example.com, got {raw!r}")
    return raw.rstrip("/")
