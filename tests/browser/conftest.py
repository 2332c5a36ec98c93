"""What the browser tests share: the app served on a free port, and Debian's Chromium through Playwright."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("LEARNAPP_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def server(app, content):
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(timeout=5)


@contextmanager
def chromium_page(**context_options):
    """A page in a fresh headless Chromium (test tools cannot download browsers here: Debian's is used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"],
        )
        try:
            yield browser.new_context(**context_options).new_page()
        finally:
            browser.close()
