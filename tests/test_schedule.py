"""The APScheduler service in-process, on a frozen clock: a missed slot runs exactly once after a
restart, a changed schedule keeps the pending run, a failing job is recorded and others still run,
a run later than its grace time is recorded as missed, a manual run never overlaps a scheduled one."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from conftest import MINI, use_store
from schedule_support import Clock, denver, frozen, run_rows, wait_for, write_schedule

from seo.api import Project
from seo.automation import runner
from seo.automation.schedule import load_schedule
from seo.automation.service import make_scheduler

pytestmark = pytest.mark.stores  # every test here: on SQLite and on PostgreSQL

WEEKLY_ONLY = """timezone: America/Denver
jobs:
  weekly: {cron: "30 5 * * 1", grace_minutes: 720}
  check_rankings: {enabled: false}
  sync_listing: {enabled: false}
"""
SUNDAY_NOON = denver(2026, 11, 22, 12, 0)
MONDAY_0900 = denver(2026, 11, 23, 9, 0)  # 3.5 h after the 05:30 slot


@pytest.fixture
def stub_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in runner.REGISTRY:
        monkeypatch.setitem(runner.REGISTRY, name, "schedule_support:ok_job")


def start(root: Path, clock: Clock) -> BackgroundScheduler:
    project = Project.open(root)
    scheduler = make_scheduler(project, load_schedule(root), cls=BackgroundScheduler, clock=clock.now)
    scheduler.start()
    return scheduler  # type: ignore[return-value]


def scheduled_runs(root: Path, job: str) -> list[dict]:
    rows = run_rows(Project.open(root).store.engine, job)
    return [r for r in rows if r["trigger"] == "schedule"]


def finished(root: Path, job: str, n: int) -> bool:
    rows = scheduled_runs(root, job)
    return len(rows) >= n and all(r["status"] != "running" for r in rows)


def test_missed_weekly_slot_runs_exactly_once_after_restart(mini: Path, stub_jobs: None) -> None:
    write_schedule(mini, WEEKLY_ONLY)
    with frozen(Clock(SUNDAY_NOON)) as clock:
        first = start(mini, clock)
        job = first.get_job("weekly")
        assert job.next_run_time == denver(2026, 11, 23, 5, 30)
        first.shutdown()  # down over the Monday 05:30 slot

        clock.set(MONDAY_0900)
        second = start(mini, clock)
        wait_for(lambda: finished(mini, "weekly", 1), what="the missed weekly run")
        second.wakeup()  # another look at the same instant: nothing more is due
        assert second.get_job("weekly").next_run_time == denver(2026, 11, 30, 5, 30)
        second.shutdown(wait=True)

        third = start(mini, clock)  # and another restart: still nothing owed
        third.wakeup()
        third.shutdown(wait=True)
    rows = scheduled_runs(mini, "weekly")
    assert [r["status"] for r in rows] == ["ok"]


def test_slots_missed_for_weeks_run_once_not_per_slot(mini: Path, stub_jobs: None) -> None:
    write_schedule(mini, WEEKLY_ONLY)
    with frozen(Clock(SUNDAY_NOON)) as clock:
        start(mini, clock).shutdown()
        clock.set(denver(2026, 12, 7, 9, 0))  # three Monday slots missed: one run, for the last
        s = start(mini, clock)
        wait_for(lambda: finished(mini, "weekly", 1), what="the coalesced run")
        s.shutdown(wait=True)
    assert len(scheduled_runs(mini, "weekly")) == 1


def test_run_later_than_grace_is_recorded_as_missed_not_run(mini: Path, stub_jobs: None) -> None:
    write_schedule(mini, WEEKLY_ONLY)
    with frozen(Clock(SUNDAY_NOON)) as clock:
        start(mini, clock).shutdown()
        clock.set(denver(2026, 11, 23, 18, 0))  # 12.5 h late; grace is 12 h
        s = start(mini, clock)
        wait_for(lambda: scheduled_runs(mini, "weekly"), what="the missed record")
        s.shutdown(wait=True)
    [row] = scheduled_runs(mini, "weekly")
    assert row["status"] == "skipped"
    assert "missed the run due 2026-11-23 05:30 MST" in row["error"]


def test_changed_schedule_keeps_the_pending_run_then_follows_the_new_one(mini: Path,
                                                                          stub_jobs: None) -> None:
    write_schedule(mini, WEEKLY_ONLY)
    with frozen(Clock(SUNDAY_NOON)) as clock:
        start(mini, clock).shutdown()
        clock.set(MONDAY_0900)
        write_schedule(mini, WEEKLY_ONLY.replace("30 5 * * 1", "0 8 * * 2"))  # now Tuesdays 08:00
        s = start(mini, clock)
        wait_for(lambda: finished(mini, "weekly", 1), what="the pending run")
        assert s.get_job("weekly").next_run_time == denver(2026, 11, 24, 8, 0)
        s.shutdown(wait=True)

        # changed while nothing is pending: the new expression decides the next run
        write_schedule(mini, WEEKLY_ONLY.replace("30 5 * * 1", "15 4 * * 3"))
        s = start(mini, clock)
        assert s.get_job("weekly").next_run_time == denver(2026, 11, 25, 4, 15)
        s.shutdown(wait=True)
    assert len(scheduled_runs(mini, "weekly")) == 1


def test_failing_job_is_recorded_and_the_next_job_still_runs(mini: Path, stub_jobs: None,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(runner.REGISTRY, "check_rankings", "schedule_support:failing_job")
    write_schedule(mini, """timezone: America/Denver
jobs:
  weekly: {enabled: false}
  check_rankings: {cron: "0 5 * * *"}
  sync_listing: {cron: "0 6 * * *"}
""")
    with frozen(Clock(denver(2026, 11, 23, 4, 0))) as clock:
        s = start(mini, clock)
        clock.set(denver(2026, 11, 23, 5, 0))
        s.wakeup()
        wait_for(lambda: finished(mini, "check_rankings", 1), what="the failing job")
        clock.set(denver(2026, 11, 23, 6, 0))
        s.wakeup()
        wait_for(lambda: finished(mini, "sync_listing", 1), what="the next job")
        clock.set(denver(2026, 11, 24, 5, 0))  # the scheduler kept going: the next day it runs again
        s.wakeup()
        wait_for(lambda: finished(mini, "check_rankings", 2), what="the next day's run")
        s.shutdown(wait=True)
    failed = scheduled_runs(mini, "check_rankings")
    assert [r["status"] for r in failed] == ["failed", "failed"]
    assert failed[0]["error"] == "RuntimeError: the provider answered nonsense"
    assert [r["status"] for r in scheduled_runs(mini, "sync_listing")] == ["ok"]


def test_manual_run_during_a_scheduled_run_is_skipped_not_queued(mini: Path, stub_jobs: None,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    monkeypatch.setitem(runner.REGISTRY, "sync_listing", "schedule_support:blocking_job")
    monkeypatch.setitem(runner.REGISTRY, "weekly", "jobs.weekly:run")
    monkeypatch.setenv("SEO_TEST_GATE", str(tmp_path))
    write_schedule(mini, """timezone: America/Denver
jobs:
  weekly: {enabled: false, steps: [sync_listing]}
  check_rankings: {enabled: false}
  sync_listing: {cron: "0 6 * * *"}
""")
    with frozen(Clock(denver(2026, 11, 23, 5, 0))) as clock:
        s = start(mini, clock)
        clock.set(denver(2026, 11, 23, 6, 0))
        s.wakeup()
        wait_for(lambda: list(tmp_path.glob("started-*")), what="the scheduled run to start")
        manual = runner.run_job("sync_listing", mini)  # by hand, at the same time
        assert manual.status == "skipped" and manual.message.startswith("already running (pid ")
        weekly = threading.Thread(target=runner.run_job, args=("weekly", mini))
        weekly.start()  # the pipeline's own sync_listing step is skipped the same way
        weekly.join(30)
        (tmp_path / "release").write_text("")
        wait_for(lambda: finished(mini, "sync_listing", 1), what="the scheduled run to finish")
        s.shutdown(wait=True)
    rows = run_rows(Project.open(mini).store.engine, "sync_listing")
    by_trigger = {r["trigger"]: (r["status"], r["error"].split(" (")[0]) for r in rows}
    assert by_trigger == {"schedule": ("ok", ""), "manual": ("skipped", "already running"),
                          "weekly": ("skipped", "already running")}
    assert len(list(tmp_path.glob("started-*"))) == 1  # the job body ran once


def test_lease_for_non_sqlite_stores_refuses_a_second_and_takes_over_a_dead_one(mini: Path) -> None:
    from datetime import datetime, timedelta

    from seo.automation.service import AlreadyRunning, scheduler_lock, take_lease

    store = Project.open(mini).store
    t = [datetime(2026, 11, 23, 12, 0)]
    with scheduler_lock(store, lease=True, now=lambda: t[0]):  # the row lease other databases use
        with pytest.raises(AlreadyRunning, match="already running on this store"):
            take_lease(store, "other-host:1", lambda: t[0])
        t[0] += timedelta(minutes=5)  # its heartbeat stopped (the process was killed): taken over
        take_lease(store, "other-host:1", lambda: t[0])
        with pytest.raises(AlreadyRunning, match="other-host:1"):
            take_lease(store, "third:2", lambda: t[0])


# -- two project folders sharing one PostgreSQL store ---------------------------------------------

def _shared(tmp_path: Path, url: str) -> tuple[Path, Path]:
    roots = []
    for name in ("a", "b"):
        root = tmp_path / name
        shutil.copytree(MINI, root, ignore=shutil.ignore_patterns("build"))
        use_store(root, url)
        write_schedule(root, WEEKLY_ONLY)
        roots.append(root)
    return roots[0], roots[1]


def test_two_folders_on_one_postgresql_store_run_each_slot_once(tmp_path: Path, pg_url: str,
                                                                stub_jobs: None) -> None:
    """One scheduler at a time across folders (the store's advisory lock); the one that takes over
    runs each slot once, from the job store they share."""
    from seo.automation.service import AlreadyRunning, scheduler_lock

    a, b = _shared(tmp_path, pg_url)
    with frozen(Clock(SUNDAY_NOON)) as clock:
        with scheduler_lock(Project.open(a).store):
            first = start(a, clock)
            with (pytest.raises(AlreadyRunning, match=r"already running on this store \(pid \d+ on "),
                  scheduler_lock(Project.open(b).store)):
                pass
            clock.set(denver(2026, 11, 23, 5, 30))
            first.wakeup()
            wait_for(lambda: finished(a, "weekly", 1), what="the first slot")
            first.shutdown(wait=True)
        with scheduler_lock(Project.open(b).store):  # released at once: b takes over
            clock.set(denver(2026, 11, 30, 9, 0))  # the next Monday's slot, missed by 3.5 h
            second = start(b, clock)
            wait_for(lambda: finished(b, "weekly", 2), what="the next slot, from b")
            second.wakeup()
            second.shutdown(wait=True)
    rows = scheduled_runs(a, "weekly")
    assert [r["status"] for r in rows] == ["ok", "ok"]  # one run per slot, in the one shared store


def test_a_job_running_from_one_folder_is_skipped_from_the_other(tmp_path: Path, pg_url: str,
                                                                  stub_jobs: None,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(runner.REGISTRY, "sync_listing", "schedule_support:blocking_job")
    monkeypatch.setenv("SEO_TEST_GATE", str(tmp_path))
    a, b = _shared(tmp_path, pg_url)
    first = threading.Thread(target=runner.run_job, args=("sync_listing", a))
    first.start()
    wait_for(lambda: list(tmp_path.glob("started-*")), what="the run from a")
    other = runner.run_job("sync_listing", b, trigger="cron")
    assert other.status == "skipped"
    assert other.message.startswith(f"already running (pid {os.getpid()} on ")
    (tmp_path / "release").write_text("")
    first.join(30)
    again = runner.run_job("sync_listing", b)  # released: b runs it now
    assert again.status == "ok"
    rows = run_rows(Project.open(b).store.engine, "sync_listing")
    assert [(r["trigger"], r["status"]) for r in rows] == [("manual", "ok"), ("cron", "skipped"),
                                                           ("manual", "ok")]
