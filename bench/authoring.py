"""Authoring speed: validating one scenario while typing, and importing 1,000 scenario files.

    python bench/authoring.py

Prints the median and p99 server time of POST /author/validate (the editor's check as the trainer
types) over 200 calls, and the median of 3 imports of 1,000 scenario files into a fresh SQLite
database (targets: validation median under 50 ms, import under 3 s).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from learnapp.app import create_app  # noqa: E402
from learnapp.domain.clock import FixedClock  # noqa: E402
from learnapp.extensions import db  # noqa: E402
from learnapp.models import Scenario  # noqa: E402
from learnapp.services import authoring  # noqa: E402
from learnapp.services.content import import_content  # noqa: E402
from learnapp.services.users import create_user  # noqa: E402

NOW = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)


def fresh_app(directory: Path):
    os.environ.setdefault("SECRET_KEY", "bench")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.sqlite'}", "CLOCK": FixedClock(NOW),
                      "WTF_CSRF_ENABLED": False})
    with app.app_context():
        db.create_all()
    return app


def bench_validation(directory: Path) -> None:
    app = fresh_app(directory)
    with app.app_context():
        import_content([str(ROOT / "lessons"), str(ROOT / "scenarios")], NOW)
        trainer = create_user("trainer@bench.test", "Trainer", "bench-pass-1", "trainer", now=NOW)
        text = authoring.scenario_text(db.session.get(Scenario, "days-out-priya-brochure"))
        trainer_id = trainer.get_id()  # "<id>:<session token>", what Flask-Login keeps in the session
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = trainer_id, True
    times = []
    for i in range(201):
        edited = text.replace("next spring", f"next spring ({i})")
        started = time.perf_counter()
        response = client.post("/author/validate", json={"text": edited})
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200 and response.get_json()["ok"]
        if i:
            times.append(elapsed)
    times.sort()
    print(f"validate one scenario: median {statistics.median(times):.1f} ms, p99 {times[int(0.99 * (len(times) - 1))]:.1f} ms "
          f"({len(times)} calls)")


def thousand_files(directory: Path) -> Path:
    shutil.copytree(ROOT / "lessons", directory / "lessons")
    sources = sorted((ROOT / "scenarios").rglob("*.md"))
    out = directory / "scenarios"
    for i in range(1000):
        source = sources[i % len(sources)]
        text = source.read_text()
        original = next(line for line in text.splitlines() if line.startswith("id: "))[4:]
        target = out / source.parent.name / f"{original}-{i:04d}.md"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace(f"id: {original}\n", f"id: {original}-{i:04d}\n", 1))
    return directory


def bench_import(directory: Path) -> None:
    content = thousand_files(directory / "content")
    runs = []
    for n in range(3):
        run_dir = directory / f"db{n}"
        run_dir.mkdir()
        app = fresh_app(run_dir)
        with app.app_context():
            started = time.perf_counter()
            report = import_content([str(content / "lessons"), str(content / "scenarios")], NOW)
            runs.append(time.perf_counter() - started)
            assert report.ok and report.scenarios == 1000, report.errors[:3]
    print(f"import 1,000 scenario files: median {statistics.median(runs):.2f} s (runs: {', '.join(f'{r:.2f}' for r in runs)})")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "v").mkdir()
        bench_validation(Path(tmp) / "v")
        bench_import(Path(tmp))
