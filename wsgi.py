"""WSGI entry point: ``gunicorn wsgi:app``."""

from learnapp.app import create_app

app = create_app()
