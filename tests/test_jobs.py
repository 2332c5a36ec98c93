"""Background jobs: once per key across processes, errors recorded, admins see the history."""

import os
import subprocess
import sys

from learnapp import jobs
from learnapp.extensions import db
from learnapp.models import JobRun, RetentionRollup
from tests.conftest import ROOT, database_url


def test_a_job_runs_once_per_key(ctx, content):
    calls = []
    first = jobs.run_once("demo-job", "2026-03-02", lambda: calls.append(1) or "did it")
    second = jobs.run_once("demo-job", "2026-03-02", lambda: calls.append(2) or "again")
    assert first.status == "ok" and first.detail == "did it" and second is None and calls == [1]
    assert jobs.run_once("demo-job", "2026-03-03", lambda: "next day").status == "ok"


def test_a_failing_job_is_recorded_with_its_error(ctx, content):
    def broken():
        raise RuntimeError("the mail server said no")

    run = jobs.run_once("broken-job", "2026-03-02", broken)
    assert run.status == "error" and "the mail server said no" in run.detail and run.finished_at is not None


def test_two_scheduler_processes_run_the_nightly_job_once(app, tmp_path, content):
    env = {**os.environ, "DATABASE_URL": database_url(tmp_path), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "flask", "--app", "learnapp", "jobs", "run", "nightly-maintenance"]
    processes = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for _ in range(2)]
    outputs = [p.communicate(timeout=120)[0] for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    assert sum("ok in" in out for out in outputs) == 1, outputs
    assert sum("already ran" in out for out in outputs) == 1, outputs
    with app.app_context():
        runs = db.session.scalars(db.select(JobRun)).all()
        assert [(r.job, r.status) for r in runs] == [("nightly-maintenance", "ok")]


def test_nightly_maintenance_rebuilds_the_rollups(ctx, content, make_user, clock):
    from datetime import timedelta

    from learnapp.services import drill
    from tests.helpers import right_answer

    rep = make_user("rep")
    for _ in range(5):
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=2))
    before = db.session.scalar(db.select(db.func.sum(RetentionRollup.n)))
    db.session.execute(db.delete(RetentionRollup))
    db.session.commit()
    run = jobs.nightly_maintenance()
    assert run.status == "ok" and "rollup_retention" in run.detail
    assert db.session.scalar(db.select(db.func.sum(RetentionRollup.n))) == before > 0


def test_the_scheduler_coalesces_missed_runs(app):
    scheduler = jobs.make_scheduler(app, blocking=False)
    scheduler.start(paused=True)  # job defaults apply once the scheduler starts; paused, nothing runs
    try:
        job = scheduler.get_job("nightly-maintenance")
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 6 * 3600
    finally:
        scheduler.shutdown(wait=False)


def test_only_admins_see_the_job_history(content, make_user, auth, client):
    with client.application.app_context():
        jobs.run_once("demo-job", "2026-03-02", lambda: "did it")
    auth.login(make_user("manager").email)
    assert client.get("/admin/jobs").status_code == 403
    auth.login(make_user("admin", team=None).email)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "demo-job" in page and "did it" in page
