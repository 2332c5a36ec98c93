"""Background jobs: once per key across processes, errors recorded, admins see the history."""

import os
import subprocess
import sys

from learnapp import jobs
from learnapp.extensions import db
from learnapp.models import JobRun, RetentionRollup
from tests.conftest import ROOT, database_url


def drill_every_other_day(rep, clock, times: int) -> None:
    """The rep answers every item of the day right, then two days pass; ``times`` over."""
    from datetime import timedelta

    from learnapp.services import drill
    from tests.helpers import right_answer

    for _ in range(times):
        while (item := drill.current_item(rep, clock.now())) is not None:
            drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
        clock.advance(timedelta(days=2))


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


def test_a_failed_run_gives_its_key_back_so_the_next_check_tries_again(ctx, content):
    def broken():
        raise RuntimeError("the mail server said no")

    failed = jobs.run_once("digest-like", "2026-W10", broken)
    retried = jobs.run_once("digest-like", "2026-W10", lambda: "sent")
    assert retried is not None and (retried.status, retried.run_key) == ("ok", "2026-W10")
    assert jobs.run_once("digest-like", "2026-W10", lambda: "again") is None  # done now: once
    history = db.session.scalars(db.select(JobRun).filter_by(job="digest-like").order_by(JobRun.id)).all()
    assert [(r.status, r.run_key) for r in history] == [("error", f"2026-W10 #{failed.id}"), ("ok", "2026-W10")]


def test_a_claim_whose_process_died_is_taken_over_after_the_lease(ctx, content, clock):
    from datetime import timedelta

    def claim(job, started_at):
        db.session.add(JobRun(job=job, run_key="2026-03-02", status="running", started_at=started_at, host="gone"))
        db.session.commit()

    claim("killed-job", clock.now() - jobs.LEASE - timedelta(minutes=1))
    claim("busy-job", clock.now() - timedelta(minutes=10))
    assert jobs.run_once("busy-job", "2026-03-02", lambda: "twice") is None  # still within its lease: it may be running
    run = jobs.run_once("killed-job", "2026-03-02", lambda: "done")
    assert run is not None and run.status == "ok"
    dead = db.session.scalars(db.select(JobRun).filter_by(job="killed-job", status="interrupted")).one()
    assert dead.run_key == f"2026-03-02 #{dead.id}" and dead.finished_at is not None


def test_a_run_killed_mid_way_is_shown_and_marked_interrupted_though_its_key_never_comes_back(content, make_user, clock,
                                                                                                auth, client, inbox):
    """Reminders and digests are keyed by the quarter hour: the key of a killed run is never claimed again, so the
    takeover at the next claim of the same key never came and its row said "running" forever."""
    from datetime import datetime, timedelta, timezone

    from learnapp.models import Notification

    killed_at = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
    rep, other = make_user("rep"), make_user("rep")
    # the process was killed while sending: both reminders claimed, the last one perhaps never sent
    db.session.add(JobRun(job="reminders", run_key="2026-03-02T09:00", status="running", started_at=killed_at, host="gone"))
    db.session.add_all([Notification(user_id=user.id, kind="reminder", run_key="2026-03-02T09:00Z", sent_at=killed_at)
                        for user in (rep, other)])
    db.session.commit()
    admin = make_user("admin", team=None)
    auth.login(admin.email)

    def page():
        return " ".join(client.get("/admin/jobs").get_data(as_text=True).split())

    clock.set(killed_at + timedelta(hours=1))
    assert "interrupted" not in page()  # within the lease: it may still be running
    clock.set(killed_at + jobs.LEASE + timedelta(minutes=1))
    stopped = ("stopped without finishing: the process ended (no end recorded within the 3-hour lease); it had claimed "
               f"2 reminders, the last to {other.email}, which may not have gone out: a claimed email is not sent again")
    assert f'<span class="error">interrupted</span>: <span class="muted">{stopped}</span>' in page()  # before any job ran
    assert db.session.scalars(db.select(JobRun.status)).all() == ["running"]

    jobs.nightly_maintenance()  # any job's next run marks it, not only a claim of the same key
    killed = db.session.scalars(db.select(JobRun).filter_by(job="reminders")).one()
    assert (killed.status, killed.run_key, killed.detail) == (
        "interrupted", f"2026-03-02T09:00 #{killed.id}", stopped + "; its key was given back")
    assert killed.finished_at == clock.now() and killed.seconds is None
    assert f'<span class="error">interrupted</span>: <span class="muted">{stopped}; its key was given back</span>' in page()
    assert jobs.mark_interrupted(clock.now()) == 0  # once


def test_a_claim_refused_to_a_second_scheduler_keeps_the_interrupted_mark(ctx, content, clock):
    from datetime import timedelta

    db.session.add(JobRun(job="weekly-digest", run_key="2026-02-23T06:00Z", status="running",
                          started_at=clock.now() - jobs.LEASE - timedelta(hours=1), host="gone"))
    db.session.commit()
    assert jobs.run_once("demo-job", "k", lambda: "done").status == "ok"
    db.session.add(JobRun(job="weekly-digest", run_key="2026-03-02T06:00Z", status="running",
                          started_at=clock.now() - jobs.LEASE - timedelta(minutes=1), host="gone"))
    db.session.commit()
    assert jobs.run_once("demo-job", "k", lambda: "again") is None  # claimed already: the sweep before it still counts
    assert db.session.scalars(db.select(JobRun.status).filter_by(job="weekly-digest")).all() == ["interrupted", "interrupted"]


def test_missed_occurrences_are_caught_up_once_with_the_latest_key(ctx, content, clock, inbox, make_user):
    from datetime import datetime, timezone

    def at(day, hour, minute=0):
        return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)  # 2 March 2026 is a Monday

    # nothing ran for days: the first check runs the latest occurrence due, once
    assert jobs.nightly_maintenance(at(4, 1)).run_key == "2026-03-03"  # before 02:15: yesterday's run was due
    assert jobs.nightly_maintenance(at(4, 2, 14)) is None
    assert jobs.nightly_maintenance(at(4, 2, 15)).run_key == "2026-03-04"
    assert jobs.nightly_maintenance(at(4, 23)) is None
    clock.set(datetime(2026, 2, 20, 9, 0, tzinfo=timezone.utc))  # here since the week the digest reports
    make_user("manager", team="North"), make_user("rep", team="North")  # in UTC: their digest is due on Mondays at 06:00 UTC
    assert jobs.weekly_digest(at(4, 12)).run_key == "2026-03-04T12:00Z"  # Wednesday: this week's Monday digest was missed
    assert jobs.weekly_digest(at(8, 23)) is None  # Sunday: sent already
    assert jobs.weekly_digest(at(9, 5, 59)) is None
    assert jobs.weekly_digest(at(9, 6)).run_key == "2026-03-09T06:00Z"
    assert [r.run_key for r in db.session.scalars(db.select(JobRun).order_by(JobRun.id))] == [
        "2026-03-03", "2026-03-04", "2026-03-04T12:00Z", "2026-03-09T06:00Z"]


def test_two_scheduler_processes_run_the_nightly_job_once(app, tmp_path, content):
    env = {**os.environ, "DATABASE_URL": database_url(tmp_path), "PYTHONPATH": str(ROOT), "SECRET_KEY": "test-secret"}
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


def test_nightly_maintenance_repairs_the_memory_states_from_the_attempts(ctx, content, make_user, clock):
    from datetime import timedelta

    from learnapp.models import MemoryStateRow
    from learnapp.services import drill

    rep = make_user("rep")
    drill_every_other_day(rep, clock, 4)
    states = drill.memory_states(rep.id)
    assert len(states) >= 3
    clean = jobs.nightly_maintenance(clock.now())
    assert clean.status == "ok" and f"{len(states)} checked, 0 repaired, 0 restored, 0 removed" in clean.detail, clean.detail
    wrong, lost = sorted(states)[:2]
    db.session.execute(db.update(MemoryStateRow).filter_by(user_id=rep.id, skill_id=wrong).values(stability=999.0, due=clock.now()))
    db.session.execute(db.delete(MemoryStateRow).filter_by(user_id=rep.id, skill_id=lost))
    newcomer = make_user("rep")  # no attempts: a state of theirs has nothing behind it
    db.session.add(MemoryStateRow(user_id=newcomer.id, skill_id=wrong, stability=1.0, difficulty=5.0, due=clock.now(), state=2,
                                  step=None, reviews=1, lapses=0, introduced_on=clock.now().date()))
    db.session.commit()
    run = jobs.nightly_maintenance(clock.now() + timedelta(days=1))
    assert run.status == "ok" and "1 repaired, 1 restored, 1 removed" in run.detail, run.detail
    db.session.expire_all()
    assert drill.memory_states(rep.id) == states and drill.memory_states(newcomer.id) == {}


def test_nightly_maintenance_rebuilds_the_rollups(ctx, content, make_user, clock):
    rep = make_user("rep")
    drill_every_other_day(rep, clock, 5)
    before = db.session.scalar(db.select(db.func.sum(RetentionRollup.n)))
    db.session.execute(db.delete(RetentionRollup))
    db.session.commit()
    run = jobs.nightly_maintenance()
    assert run.status == "ok" and "rollup_retention" in run.detail
    assert db.session.scalar(db.select(db.func.sum(RetentionRollup.n))) == before > 0


def test_a_skipped_run_gives_its_key_back(ctx, content):
    def no_relay():
        raise jobs.Skipped("no SMTP host configured")

    skipped = jobs.run_once("mail-like", "2026-W10", no_relay)
    assert (skipped.status, skipped.detail, skipped.run_key) == ("skipped", "no SMTP host configured", f"2026-W10 #{skipped.id}")
    assert jobs.run_once("mail-like", "2026-W10", lambda: "sent").status == "ok"


def test_the_scheduler_coalesces_missed_runs_and_catches_up_at_start(app):
    from datetime import datetime, timedelta, timezone

    scheduler = jobs.make_scheduler(app, blocking=False)
    scheduler.start(paused=True)  # job defaults apply once the scheduler starts; paused, nothing runs
    try:
        for job in scheduler.get_jobs():
            assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 6 * 3600
            assert job.next_run_time <= datetime.now(timezone.utc) + timedelta(seconds=1), job.id  # a first check right away
        assert {job.id for job in scheduler.get_jobs()} == set(jobs.JOBS)
    finally:
        scheduler.shutdown(wait=False)


def test_two_scheduler_processes_started_together_run_each_job_once(app, tmp_path, content, inbox, make_user):
    import signal
    import time

    make_user("manager", team="North")  # this week's digest is due for them: the digest job has work to do
    make_user("rep", team="North")  # (a digest is about a team that had someone)

    env = {**os.environ, "DATABASE_URL": database_url(tmp_path), "PYTHONPATH": str(ROOT), "SECRET_KEY": "test-secret",
           "PYTHONFAULTHANDLER": "1", "SMTP_HOST": app.config["SMTP_HOST"], "SMTP_PORT": str(app.config["SMTP_PORT"])}
    command = [sys.executable, "-m", "flask", "--app", "learnapp", "scheduler"]
    logs = [tmp_path / f"scheduler-{n}.log" for n in range(2)]
    processes = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT) for log in logs]
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # each scheduler checks every job once at start-up and logs a line for each
            if all(sum(f" {name}: " in line for line in log.read_text().splitlines() for name in jobs.JOBS) >= len(jobs.JOBS)
                   for log in logs):
                break
            time.sleep(0.5)
    finally:
        for p in processes:
            p.send_signal(signal.SIGTERM)  # how a service manager stops it
        for p in processes:
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGABRT)  # faulthandler writes every thread's stack to the log
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()  # never leave a scheduler behind: it would go on working on the test database
                    p.wait()
        outputs = [log.read_text() for log in logs]
    with app.app_context():
        db.session.remove()
        runs = db.session.scalars(db.select(JobRun)).all()
    assert all("scheduler running" in out and out.endswith("scheduler stopped\n") for out in outputs), outputs
    assert [p.returncode for p in processes] == [0, 0], outputs
    # the second scheduler found each occurrence claimed (two starts a moment apart may straddle a quarter
    # hour, and then each runs the reminders of its own quarter hour: still once per occurrence)
    assert sum(out.count("nothing to do (already run, or nothing due)") for out in outputs) >= len(jobs.JOBS) - 1, outputs
    assert {r.job for r in runs} == set(jobs.JOBS) and len(runs) <= len(jobs.JOBS) + 1, [(r.job, r.run_key) for r in runs]
    assert all(r.status == "ok" for r in runs), [(r.job, r.status, r.detail) for r in runs]


def test_only_admins_see_the_job_history(content, make_user, auth, client):
    with client.application.app_context():
        jobs.run_once("demo-job", "2026-03-02", lambda: "did it")
    auth.login(make_user("manager").email)
    assert client.get("/admin/jobs").status_code == 403
    auth.login(make_user("admin", team=None).email)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "demo-job" in page and "did it" in page


def test_the_memory_check_leaves_alone_a_state_an_answer_changed_while_it_ran(app, ctx, content, make_user, clock, monkeypatch):
    import threading
    from datetime import timedelta

    from learnapp.models import Attempt, MemoryStateRow, User
    from learnapp.services import drill, maintenance
    from tests.helpers import right_answer

    rep = make_user("rep")
    while (item := drill.current_item(rep, clock.now())) is not None:
        drill.submit_answer(rep, item.presentation.token, right_answer(item), clock.now())
    clock.advance(timedelta(days=3))
    item = drill.current_item(rep, clock.now())
    skill, token, answer, rep_id = item.presentation.skill_id, item.presentation.token, right_answer(item), rep.id
    db.session.execute(db.update(MemoryStateRow).filter_by(user_id=rep_id, skill_id=skill).values(stability=999.0))  # damaged
    db.session.commit()

    def answer_in_another_worker():
        with app.app_context():
            drill.submit_answer(db.session.get(User, rep_id), token, answer, clock.now())
            db.session.remove()

    real_begin_write = maintenance.begin_write

    def answer_then_write(**options):  # the rep answers after the check read the rows and before it writes
        thread = threading.Thread(target=answer_in_another_worker)
        thread.start()
        thread.join()
        monkeypatch.setattr(maintenance, "begin_write", real_begin_write)
        return real_begin_write(**options)

    monkeypatch.setattr(maintenance, "begin_write", answer_then_write)
    result = maintenance.verify_memory_states()
    assert (result.repaired, result.changed_meanwhile) == (0, 1)
    db.session.expire_all()
    attempts = db.session.scalar(db.select(db.func.count(Attempt.id)).filter_by(user_id=rep_id, skill_id=skill))
    assert db.session.get(MemoryStateRow, (rep_id, skill)).reviews == attempts  # the answer's state stands


def test_an_answer_racing_the_memory_check_restoring_its_state_is_stored_not_lost(app, ctx, content, make_user, clock, monkeypatch):
    """PostgreSQL: the check restores a missing state between the answer's read of it and its insert.

    The answer's insert then conflicts; before, it was taken for a second answer, rolled back and still
    acknowledged (303), so the attempt was lost. SQLite cannot race here: the answer holds the write lock.
    """
    import threading
    from datetime import timedelta

    import pytest

    from learnapp.models import Attempt, MemoryStateRow, User
    from learnapp.services import drill, maintenance
    from tests.helpers import right_answer

    if db.engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises the answer and the check on its write lock")
    rep = make_user("rep")
    drill_every_other_day(rep, clock, 1)
    clock.advance(timedelta(days=1))
    item = drill.current_item(rep, clock.now())
    skill, token, answer, rep_id = item.presentation.skill_id, item.presentation.token, right_answer(item), rep.id
    db.session.execute(db.delete(MemoryStateRow).filter_by(user_id=rep_id, skill_id=skill))  # lost: the check restores it
    db.session.commit()
    results = []

    def check_in_another_process():
        with app.app_context():
            results.append(maintenance.verify_memory_states())
            db.session.remove()

    real_record = drill.rollups.record

    def check_then_record(facts):  # the answer has read "no state" and is about to insert one
        if not results:
            thread = threading.Thread(target=check_in_another_process)
            thread.start()
            thread.join()
        return real_record(facts)

    monkeypatch.setattr(drill.rollups, "record", check_then_record)
    attempt = drill.submit_answer(db.session.get(User, rep_id), token, answer, clock.now())
    assert results and results[0].restored == 1
    db.session.expire_all()
    assert attempt is not None and db.session.get(Attempt, attempt.id).presentation_id == item.presentation.id
    attempts = db.session.scalar(db.select(db.func.count(Attempt.id)).filter_by(user_id=rep_id, skill_id=skill))
    assert db.session.get(MemoryStateRow, (rep_id, skill)).reviews == attempts == 2


def test_a_check_with_nothing_to_do_is_logged_at_start_and_then_once_an_hour(app, monkeypatch, capsys):
    """Every quarter hour two jobs logged "nothing to do": 200 lines a day burying the runs that did something."""
    from datetime import datetime, timedelta, timezone

    results = iter([None, None, JobRun(job="reminders", run_key="k", status="ok", seconds=0.5, detail="sent 3"), None, None])
    def reminders():
        return next(results)

    monkeypatch.setattr(jobs, "reminders", reminders)
    moments = iter([datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc) + timedelta(minutes=m) for m in (0, 15, 30, 45, 60)])

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return next(moments)

    scheduler = jobs.make_scheduler(app, blocking=False)
    monkeypatch.setattr(jobs, "datetime", Clock)  # the time each check's line is stamped with
    check = scheduler.get_job("reminders").func
    for _ in range(5):
        check()
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["2026-03-02T09:00:00Z reminders: nothing to do (already run, or nothing due)",
                     "2026-03-02T09:30:00Z reminders: ok in 0.50 s: sent 3",
                     "2026-03-02T10:00:00Z reminders: nothing to do (already run, or nothing due)"], lines


def test_a_failed_runs_log_line_says_what_went_wrong_and_the_job_history_keeps_the_traceback(app, content, make_user, auth,
                                                                                              client, monkeypatch, capsys):
    """The log line was the start of a traceback cut at 300 characters: "error in 0.08 s: Traceback (most recent call
    last): File ...", never reaching the cause. Now it is the exception's type and message; the page has the rest."""
    import re
    import socket

    from learnapp.services import notify
    from tests.conftest import free_port

    def skills_from_a_database_that_is_down():  # an unexpected error, deep in a library
        socket.create_connection(("127.0.0.1", free_port()), timeout=5)

    monkeypatch.setattr(notify, "drillable_skills", skills_from_a_database_that_is_down)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
    make_user("rep")
    jobs.make_scheduler(app, blocking=False).get_job("reminders").func()
    line, = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\S+Z reminders: error in \d+\.\d\d s: ConnectionRefusedError: \[Errno 111\] Connection refused", line), line
    with app.app_context():
        run = db.session.scalars(db.select(JobRun)).one()
        assert run.detail.startswith("ConnectionRefusedError: [Errno 111] Connection refused\n")
        assert "Traceback (most recent call last):" in run.detail and "skills_from_a_database_that_is_down" in run.detail
    auth.login(make_user("admin", team=None).email)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "Traceback (most recent call last):" in page and "in skills_from_a_database_that_is_down" in page
    assert "error: ConnectionRefusedError: [Errno 111] Connection refused</summary>" in page


def test_a_mail_failure_is_recorded_and_logged_as_its_message_not_as_a_traceback(app, content, make_user, clock, capsys):
    from datetime import datetime, timezone

    from tests.conftest import free_port

    clock.set(datetime(2026, 3, 2, 9, 5, tzinfo=timezone.utc))
    rep = make_user("rep")
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # the relay is down
    jobs.make_scheduler(app, blocking=False).get_job("reminders").func()
    message = f"0 reminders sent, 1 failed: {rep.email}: [Errno 111] Connection refused"
    run = db.session.scalars(db.select(JobRun)).one()
    assert (run.status, run.detail) == ("error", message)
    line, = capsys.readouterr().out.splitlines()
    assert line.endswith(f" reminders: error in {run.seconds:.2f} s: {message}"), line


def test_the_job_history_says_what_each_run_was_for_in_words(ctx, make_user, auth, client):
    """The "For" column showed internal keys: "2026-11-30T06:00Z #2" (a row id after a failed run) and reminders'
    "2026-11-28T10:15" without a zone. It now says the day, the quarter hour with its zone, or the week digested."""
    from datetime import datetime, timezone

    started = datetime(2026, 11, 30, 6, 1, tzinfo=timezone.utc)
    db.session.add_all([
        JobRun(job="reminders", run_key="2026-11-28T10:15", status="ok", started_at=started, host="h"),
        JobRun(job="weekly-digest", run_key="2026-11-30T06:00Z #2", status="error", detail="relay down",
               started_at=started, host="h"),
        JobRun(job="nightly-maintenance", run_key="2026-11-28", status="ok", started_at=started, host="h"),
    ])
    db.session.commit()
    auth.login(make_user("admin", team=None).email)
    page = " ".join(client.get("/admin/jobs").get_data(as_text=True).split())
    assert "Sat 28 Nov 2026, 10:15 to 10:30 UTC" in page
    assert "the week 23 to 29 Nov 2026 (Mon 30 Nov 2026, 06:00 UTC)" in page
    assert "the night of Sat 28 Nov 2026 (02:15 UTC)" in page
    for key in ("2026-11-28T10:15", "#2", "2026-11-30T06:00Z", ">2026-11-28<"):
        assert key not in page


def test_nightly_maintenance_counts_rows_in_the_singular_and_plural(ctx, content, monkeypatch):
    """Before, a table with one row read "retention: 1 rows" on the admin Jobs page."""
    from learnapp.services import rollups

    monkeypatch.setattr(rollups, "rebuild", lambda: {"one_table": 1, "two_table": 2, "none_table": 0})
    run = jobs.nightly_maintenance()
    assert run.status == "ok" and run.detail.startswith("one_table: 1 row, two_table: 2 rows, none_table: 0 rows;"), run.detail
