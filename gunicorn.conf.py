"""gunicorn settings for learnapp: `gunicorn -c gunicorn.conf.py wsgi:app` (see docs/deploy.md).

Every value can be overridden from the environment. Web workers never start a job scheduler.
"""

import multiprocessing
import os
import sys


def _whole_number(name: str, default: int) -> int:
    """An integer setting; a bad one stops gunicorn with one line (sys.exit passes through its config loader)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        sys.exit(f"learnapp: {name} must be a whole number, got {raw!r}")


def _check_learnapp_settings() -> None:
    """Read the app's settings once in the master: a missing SECRET_KEY or a bad DATABASE_URL stops gunicorn
    with one line here, instead of a traceback in every worker that tries to boot."""
    from flask import Flask

    from learnapp.config import ConfigError, from_env

    try:
        from_env(os.environ, Flask("learnapp.app", instance_relative_config=True).instance_path)
    except ConfigError as exc:
        sys.exit(f"learnapp: {exc}")


_check_learnapp_settings()
bind = os.environ.get("LEARNAPP_BIND", "127.0.0.1:8000")
workers = _whole_number("LEARNAPP_WORKERS", multiprocessing.cpu_count() * 2 + 1)
threads = _whole_number("LEARNAPP_THREADS", 1)
timeout = _whole_number("LEARNAPP_TIMEOUT", 30)
graceful_timeout = 30
keepalive = 5
# Recycling workers guards against memory leaks but costs a restart (about a second of CPU) each
# time: off by default (gunicorn's own default); set e.g. 100000 if a worker's memory keeps growing.
max_requests = _whole_number("LEARNAPP_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10  # so workers do not restart together
accesslog = os.environ.get("LEARNAPP_ACCESS_LOG", "-") or None  # empty: no access log (the proxy keeps one)
access_log_format = os.environ.get("LEARNAPP_ACCESS_LOG_FORMAT",
                                   '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(D)sus')
errorlog = "-"
forwarded_allow_ips = os.environ.get("LEARNAPP_FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = False  # each worker opens its own database connections
# gunicorn 25+ opens a control socket for `gunicornc` in $XDG_RUNTIME_DIR or ~/.gunicorn. learnapp does not use it, and
# a service user without a writable home logged "[ERROR] Control server error: Permission denied" at every start.
# LEARNAPP_CONTROL_SOCKET=PATH opens it at PATH. (Older gunicorns ignore both names.)
control_socket_disable = not os.environ.get("LEARNAPP_CONTROL_SOCKET", "").strip()
if not control_socket_disable:
    control_socket = os.environ["LEARNAPP_CONTROL_SOCKET"].strip()
