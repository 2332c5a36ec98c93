"""Helpers shared by service and web tests."""

from __future__ import annotations

import re
import shutil
import sqlite3
from datetime import timedelta

from learnapp.domain import grading
from learnapp.extensions import db
from learnapp.models import Presentation, Scenario
from learnapp.services import content as content_service
from learnapp.services import drill


def right_answer(item: drill.DrillItem):
    answer = grading.correct_answer(item.scenario, content_service.current_stage_model())
    return list(answer) if isinstance(answer, tuple) else answer


def wrong_answer(item: drill.DrillItem):
    right = right_answer(item)
    if isinstance(right, list):
        return right[1:] + right[:1]
    return next(o.key for o in item.options if o.key != right)


def drill_all(rep, clock, answer=right_answer) -> int:
    """Answer every item of the rep's drill now, 30 seconds each (right by default); how many there were."""
    done = 0
    while (item := drill.current_item(rep, clock.now())) is not None:
        clock.advance(timedelta(seconds=30))
        drill.submit_answer(rep, item.presentation.token, answer(item), clock.now())
        done += 1
    return done


def form_for(page: str, answer, token: str | None = None) -> dict:
    """The form fields a browser would send for this answer on the drill page."""
    token = token or re.search(r'name="token" value="([0-9a-f]+)"', page).group(1)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    data = {"token": token, "csrf_token": csrf}
    presentation = db.session.scalars(db.select(Presentation).filter_by(token=token)).one()
    if isinstance(answer, list):
        data["order"] = " ".join(str(presentation.option_order.index(k) + 1) for k in answer)
    else:
        data["choice"] = answer
    return data


def sqlite_write_lock_free(path: str) -> bool:
    """Whether another connection to the SQLite file could take the write lock now, without waiting."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        other.close()


def copy_content(tmp_path):
    """The shipped lessons and scenarios copied into ``tmp_path``, to change and import: (lessons, scenarios)."""
    from tests.conftest import ROOT

    shutil.copytree(ROOT / "lessons", tmp_path / "lessons")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    return tmp_path / "lessons", tmp_path / "scenarios"


def drop_quantify_results(tmp_path, clock) -> list:
    """quantify-results leaves the catalogue and every stage rule; the scenarios that offer it are retired first.
    Their files (in the copy under ``tmp_path``), which still offer it."""
    lessons, scenarios = copy_content(tmp_path)
    offering = [p for p in scenarios.rglob("*.md") if "quantify-results" in p.read_text()]
    db.session.execute(db.update(Scenario).where(Scenario.id.in_([p.stem for p in offering])).values(status="retired"))
    db.session.commit()
    moves = lessons / "moves.md"
    moves.write_text(re.sub(r"  - id: quantify-results\n(    .*\n)+", "", moves.read_text()))
    for stage in (lessons / "stages").glob("*.md"):
        stage.write_text("".join(l for l in stage.read_text().splitlines(keepends=True) if "quantify-results:" not in l))
    report = content_service.import_content([str(lessons)], clock.now())
    assert report.ok and report.stage_model_changed, report.errors
    return offering


def empty_database(url: str) -> None:
    """Drop every table of the database at ``url``, the migration history included, for a test that starts as an
    operator does, from an empty database and `flask db upgrade`."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    metadata = MetaData()
    metadata.reflect(engine)
    metadata.drop_all(engine)
    engine.dispose()
