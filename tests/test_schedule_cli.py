"""`seo run` / `seo schedule` as real subprocesses: bad schedules (one line, exit 2), a second
scheduler on the same store refusing to start, SIGTERM, and a manual run overlapping another."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import HERE, MINI, REPO, run_seo, use_store
from schedule_support import run_rows, wait_for, write_schedule

from seo.api import Project
from seo.cli import main
from seo.tables import lock_holders

# A `seo` CLI whose jobs may be swapped for the test jobs in schedule_support (SEO_TEST_REGISTRY).
LAUNCH = ("import json, os, sys; sys.path.insert(0, " + repr(str(HERE)) + "); "
          "from seo.automation import runner; "
          "runner.REGISTRY.update(json.loads(os.environ.get('SEO_TEST_REGISTRY', '{}'))); "
          "from seo.cli import main; main(args=sys.argv[1:], prog_name='seo')")


def spawn(*args: str, registry: dict[str, str] | None = None, gate: Path | None = None,
          stderr: Any = subprocess.PIPE) -> subprocess.Popen[str]:
    env = {**os.environ, "SEO_TEST_REGISTRY": json.dumps(registry or {})}
    if gate is not None:
        env["SEO_TEST_GATE"] = str(gate)
    return subprocess.Popen([sys.executable, "-c", LAUNCH, *args], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=stderr)


@pytest.mark.parametrize(("text", "expected"), [
    ('timezone: Mars/Olympus\n', 'config/schedule.yaml:1: timezone: unknown timezone '
                                 "'Mars/Olympus' (an IANA name, e.g. America/Denver)"),
    ('jobs:\n  weekly:\n    cron: "61 5 * * 1"\n', "config/schedule.yaml:3: jobs.weekly.cron: "
                                                     "'61 5 * * 1' is not a valid cron expression"),
    ('jobs:\n  weekly:\n    cron: "5 * * 1"\n', "config/schedule.yaml:3: jobs.weekly.cron: "
                                                  "'5 * * 1' is not a cron expression: give 5 fields"),
    ('jobs:\n  backup:\n    cron: "0 1 * * *"\n', "config/schedule.yaml:2: jobs.backup: unknown job "
                                                    "'backup' (known: build_pages, audit_site"),
    ('jobs:\n  weekly:\n    cron: "0 1 * * *"\n    when: daily\n',
     "config/schedule.yaml:4: jobs.weekly.when: unknown key (check the spelling)"),
    ('jobs:\n  weekly:\n    steps: [build_pages, publish]\n',
     "config/schedule.yaml:3: jobs.weekly.steps[1]: Input should be"),
])
def test_bad_schedule_is_one_line_exit_2(mini: Path, text: str, expected: str) -> None:
    write_schedule(mini, text)
    for args in (["schedule", "list"], ["run", "build_pages"], ["schedule", "cron"],
                 ["schedule", "run"]):
        result = CliRunner().invoke(main, [*args, "--root", str(mini)])
        assert result.exit_code == 2, result.output
        assert result.stderr.startswith(f"error: {expected}"), result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert not (mini / "build/site").exists()


def test_bad_schedule_from_the_real_command(mini: Path) -> None:
    write_schedule(mini, 'jobs:\n  weekly:\n    cron: "0 25 * * 1"\n')
    result = run_seo("run", "weekly", "--root", str(mini))
    assert result.returncode == 2
    assert result.stderr.startswith("error: config/schedule.yaml:3: jobs.weekly.cron: '0 25 * * 1' is "
                                    "not a valid cron expression")


def test_list_and_cron_show_every_job(mini: Path) -> None:
    listed = run_seo("schedule", "list", "--root", str(mini))
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["build_pages", "audit_site", "publish_site",
                                                   "verify_live", "inspect_index", "check_rankings",
                                                   "check_grid", "sync_listing", "publish_posts",
                                                   "fetch_insights", "check_reviews", "weekly_report",
                                                   "weekly", "watch"]
    weekly = next(line for line in lines if line.startswith("weekly "))
    assert " Mon " in weekly and "05:30 M" in weekly  # MST or MDT: Denver time
    cron = run_seo("schedule", "cron", "--root", str(mini))
    assert cron.returncode == 0, cron.stderr
    assert "CRON_TZ=America/Denver" in cron.stdout
    assert "30 5 * * 1 " in cron.stdout and f" run weekly --root {mini} --trigger cron" in cron.stdout


def test_unknown_job_is_exit_2(mini: Path) -> None:
    result = run_seo("run", "backup", "--root", str(mini))
    assert result.returncode == 2 and "backup" in result.stderr


@pytest.mark.stores
def test_second_scheduler_on_the_same_store_refuses_to_start(mini: Path, store_kind: str) -> None:
    first = spawn("schedule", "run", "--root", str(mini))
    try:
        wait_for(lambda: _holds_lock(mini, store_kind) and first.poll() is None and _started(mini),
                 what="the first scheduler")
        second = spawn("schedule", "run", "--root", str(mini))
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 1, err
        assert "error: a scheduler is already running on this store (pid " in err
        assert first.poll() is None  # the first one is untouched
    finally:
        first.send_signal(signal.SIGTERM)
        _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert "scheduler stopped" in err
    # the jobs it added are in the store's own table, with their next runs
    listed = run_seo("schedule", "list", "--root", str(mini))
    assert "(scheduler)" in listed.stdout


def _holds_lock(root: Path, store_kind: str) -> bool:
    """The scheduler's lock: a file next to a SQLite store, an advisory lock on PostgreSQL."""
    if store_kind == "sqlite":
        return (root / "build/seo.sqlite3.scheduler.lock").exists()
    return _holder(root, "scheduler") is not None


def _holder(root: Path, name: str) -> str | None:
    try:
        with Project.open(root).store.engine.connect() as conn:
            return conn.execute(sa.select(lock_holders.c.holder)
                                .where(lock_holders.c.name == name)).scalar()
    except sa.exc.SQLAlchemyError:
        return None


def test_two_folders_on_one_postgresql_store_one_scheduler_and_no_stale_lock(
        tmp_path: Path, pg_url: str) -> None:
    """Two project folders (two machines, say) on one PostgreSQL store: the second scheduler
    refuses while the first runs, and takes over at once when the first is killed outright."""
    a, b = tmp_path / "a", tmp_path / "b"
    for root in (a, b):
        shutil.copytree(MINI, root, ignore=shutil.ignore_patterns("build"))
        use_store(root, pg_url)
    first = spawn("schedule", "run", "--root", str(a))
    try:
        wait_for(lambda: (_holder(a, "scheduler") or "").startswith(f"pid {first.pid} on "),
                 what="the first scheduler")
        second = spawn("schedule", "run", "--root", str(b))
        _out, err = second.communicate(timeout=60)
        assert second.returncode == 1, err
        assert f"error: a scheduler is already running on this store (pid {first.pid} on " in err
    finally:
        first.kill()  # SIGKILL: no clean-up runs; the server drops its lock with its connection
        first.communicate(timeout=60)
    third = spawn("schedule", "run", "--root", str(b))
    try:
        wait_for(lambda: (_holder(b, "scheduler") or "").startswith(f"pid {third.pid} on "),
                 what="the scheduler from the other folder")
    finally:
        third.send_signal(signal.SIGTERM)
        _out, err = third.communicate(timeout=60)
    assert third.returncode == 0, err
    assert _holder(b, "scheduler") is None  # a clean stop says so


def _started(root: Path) -> bool:
    try:
        from sqlalchemy import inspect
        return "apscheduler_jobs" in inspect(Project.open(root).store.engine).get_table_names()
    except Exception:
        return False


@pytest.mark.stores
def test_manual_runs_overlapping_in_two_processes_never_double(mini: Path, tmp_path: Path) -> None:
    registry = {"build_pages": "schedule_support:blocking_job"}
    first = spawn("run", "build_pages", "--root", str(mini), registry=registry, gate=tmp_path)
    wait_for(lambda: list(tmp_path.glob("started-*")), what="the first run")
    second = spawn("run", "build_pages", "--root", str(mini), "--trigger", "cron", registry=registry,
                   gate=tmp_path)
    out, err = second.communicate(timeout=60)
    assert second.returncode == 1
    assert out.startswith(f"build_pages: skipped (already running (pid {first.pid}")
    (tmp_path / "release").write_text("")
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    rows = run_rows(Project.open(mini).store.engine, "build_pages")
    assert [(r["trigger"], r["status"]) for r in rows] == [("manual", "ok"), ("cron", "skipped")]
    assert len(list(tmp_path.glob("started-*"))) == 1


def test_sigterm_lets_the_running_step_finish_and_stops_the_pipeline(mini: Path, tmp_path: Path) -> None:
    registry = {"build_pages": "schedule_support:blocking_job"}
    proc = spawn("run", "weekly", "--root", str(mini), registry=registry, gate=tmp_path)
    wait_for(lambda: list(tmp_path.glob("started-*")), what="the first step")
    proc.send_signal(signal.SIGTERM)
    assert proc.poll() is None
    (tmp_path / "release").write_text("")
    _out, err = proc.communicate(timeout=60)
    assert "SIGTERM: stopping; letting weekly, build_pages finish" in err
    assert proc.returncode == 143, err
    rows = {r["job"]: r for r in run_rows(Project.open(mini).store.engine)}
    assert rows["build_pages"]["status"] == "ok"
    assert rows["audit_site"]["status"] == "interrupted"
    assert rows["weekly_report"]["status"] == "interrupted"
    assert rows["weekly"]["status"] == "interrupted"


def test_second_sigterm_interrupts_and_records_it(mini: Path, tmp_path: Path) -> None:
    registry = {"build_pages": "schedule_support:blocking_job"}
    log = tmp_path / "stderr.txt"
    with log.open("w") as fh:
        proc = spawn("run", "build_pages", "--root", str(mini), registry=registry, gate=tmp_path,
                     stderr=fh)
        wait_for(lambda: list(tmp_path.glob("started-*")), what="the run")
        proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "SIGTERM: stopping" in log.read_text(), what="the first SIGTERM")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    err = log.read_text()
    assert proc.returncode == 143, err
    [row] = run_rows(Project.open(mini).store.engine, "build_pages")
    assert row["status"] == "interrupted" and row["finished_at"] is not None


@pytest.mark.stores
def test_run_left_running_by_a_killed_process_is_marked_interrupted(mini: Path, tmp_path: Path) -> None:
    registry = {"build_pages": "schedule_support:blocking_job"}
    proc = spawn("run", "build_pages", "--root", str(mini), registry=registry, gate=tmp_path)
    wait_for(lambda: list(tmp_path.glob("started-*")), what="the run")
    proc.kill()
    proc.communicate(timeout=60)
    (tmp_path / "release").write_text("")
    again = spawn("run", "build_pages", "--root", str(mini), registry=registry, gate=tmp_path)
    again.communicate(timeout=60)
    rows = run_rows(Project.open(mini).store.engine, "build_pages")
    assert [r["status"] for r in rows] == ["interrupted", "ok"]
    assert rows[0]["error"] == "process ended during the run"
