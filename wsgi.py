"""WSGI entry point: ``gunicorn wsgi:app``."""

import sys

from learnapp.app import create_app
from learnapp.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    if "gunicorn" in sys.modules:
        # gunicorn prints an AppImportError as its message alone and stops, instead of rebooting workers
        from gunicorn.errors import AppImportError

        raise AppImportError(f"learnapp: {exc}") from None
    raise SystemExit(f"learnapp: {exc}") from None
