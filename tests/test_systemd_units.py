"""The systemd units shipped in deploy/systemd: systemd's own checker accepts them, and their commands, run as
systemd would run them (working directory, environment file, stop signal), serve a drill's /healthz and run the
scheduler, and stop within the unit's stop timeout."""

import configparser
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, database_url, free_port
from tests.helpers import empty_database

UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
VENV_BIN = Path(sys.executable).parent


def _installed(unit: Path, tmp_path: Path, env_file: Path) -> Path:
    """The unit as installed on this machine: the documented paths replaced by this checkout's."""
    text = (unit.read_text().replace("/opt/learnapp/venv/bin", str(VENV_BIN))
            .replace("/opt/learnapp/src", str(ROOT)).replace("/etc/learnapp/env", str(env_file)))
    target = tmp_path / unit.name
    target.write_text(text)
    return target


def _service(unit: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(unit)
    return parser["Service"]


def _env_file(tmp_path: Path, url: str, port: int) -> Path:
    path = tmp_path / "env"
    path.write_text(f"DATABASE_URL={url}\nSECRET_KEY=systemd-test-secret\nLEARNAPP_BIND=127.0.0.1:{port}\n"
                    "LEARNAPP_WORKERS=1\n")
    return path


def _environment(env_file: Path) -> dict:
    """What systemd gives the process: its own environment file (KEY=value lines), nothing of the caller's
    Flask settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "LEARNAPP_", "DATABASE_URL", "SECRET_KEY"))}
    for line in env_file.read_text().splitlines():
        key, _, value = line.partition("=")
        env[key] = value
    return env


def test_units_are_shipped_for_the_web_and_the_scheduler():
    assert [unit.name for unit in UNITS] == ["learnapp-scheduler.service", "learnapp-web.service"]
    for unit in UNITS:
        service = _service(unit)
        assert service["User"] == "learnapp" and service["EnvironmentFile"] == "/etc/learnapp/env"
        assert service["ExecStart"].startswith("/opt/learnapp/venv/bin/")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(tmp_path):
    env_file = _env_file(tmp_path, "sqlite:////nonexistent.sqlite", 8000)
    installed = [str(_installed(unit, tmp_path, env_file)) for unit in UNITS]
    done = subprocess.run(["systemd-analyze", "verify", *installed], capture_output=True, text=True, timeout=60)
    # a misspelt key or value is only a warning: any line about the units is a defect
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done.stdout + done.stderr


def _run_like_systemd(unit: Path, env_file: Path, log: Path) -> tuple[subprocess.Popen, configparser.SectionProxy]:
    service = _service(unit)
    process = subprocess.Popen(shlex.split(service["ExecStart"]), cwd=service["WorkingDirectory"],
                               env=_environment(env_file), stdout=log.open("w"), stderr=subprocess.STDOUT)
    return process, service


def _stop_like_systemd(process: subprocess.Popen, service: configparser.SectionProxy) -> None:
    process.send_signal(getattr(signal, service.get("KillSignal", "SIGTERM")))
    try:
        process.wait(timeout=int(service.get("TimeoutStopSec", "90")))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_the_units_commands_serve_and_schedule_and_stop_in_time(tmp_path):
    url, port = database_url(tmp_path), free_port()
    env_file = _env_file(tmp_path, url, port)
    empty_database(url)
    try:
        _serve_and_schedule(tmp_path, env_file, port)
    finally:
        empty_database(url)


def _serve_and_schedule(tmp_path: Path, env_file: Path, port: int) -> None:
    upgrade = subprocess.run([str(VENV_BIN / "flask"), "--app", "learnapp", "db", "upgrade"], cwd=ROOT,
                             env=_environment(env_file), capture_output=True, text=True, timeout=300)
    assert upgrade.returncode == 0, upgrade.stdout + upgrade.stderr
    web_unit, scheduler_unit = (_installed(ROOT / "deploy" / "systemd" / name, tmp_path, env_file)
                                for name in ("learnapp-web.service", "learnapp-scheduler.service"))
    web_log, scheduler_log = tmp_path / "web.log", tmp_path / "scheduler.log"
    web, web_service = _run_like_systemd(web_unit, env_file, web_log)
    scheduler, scheduler_service = _run_like_systemd(scheduler_unit, env_file, scheduler_log)
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and status is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    status = response.status
            except OSError:
                time.sleep(0.2)
        while time.monotonic() < deadline and "scheduler running" not in scheduler_log.read_text():
            time.sleep(0.2)
    finally:
        started = time.monotonic()
        _stop_like_systemd(web, web_service)
        _stop_like_systemd(scheduler, scheduler_service)
        stopped_in = time.monotonic() - started
    web_out, scheduler_out = web_log.read_text(), scheduler_log.read_text()
    assert status == 200, web_out
    assert "scheduler running" in scheduler_out and scheduler_out.endswith("scheduler stopped\n"), scheduler_out
    assert web.returncode == 0 and scheduler.returncode == 0, (web_out, scheduler_out)
    assert "Traceback" not in web_out + scheduler_out
    assert stopped_in < int(web_service["TimeoutStopSec"]) + int(scheduler_service["TimeoutStopSec"])
