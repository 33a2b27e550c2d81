"""Helpers for the scheduler tests: a frozen clock for APScheduler, small jobs, a wait helper."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from seo.automation.runner import JobContext, JobResult
from seo.store import runs

DENVER = ZoneInfo("America/Denver")


class Clock:
    """The time APScheduler sees (its scheduler loop and its executors' misfire check)."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def set(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


@contextmanager
def frozen(clock: Clock) -> Iterator[Clock]:
    import apscheduler.executors.base as ex_base
    import apscheduler.schedulers.base as sched_base

    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            t = clock.t
            return t.astimezone(tz) if tz is not None else t.astimezone(UTC).replace(tzinfo=None)

    saved = sched_base.datetime, ex_base.datetime
    sched_base.datetime = ex_base.datetime = FrozenDatetime  # type: ignore[misc]
    try:
        yield clock
    finally:
        sched_base.datetime, ex_base.datetime = saved


def denver(*args: int) -> datetime:
    return datetime(*args, tzinfo=DENVER)  # type: ignore[misc]


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll briefly for something another thread or process does (never a timed sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def run_rows(engine: sa.Engine, job: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(runs).order_by(runs.c.id)
    if job is not None:
        query = query.where(runs.c.job == job)
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def write_schedule(root: Path, text: str) -> None:
    (root / "config/schedule.yaml").write_text(text, encoding="utf-8")


# -- jobs the tests register in seo.automation.runner.REGISTRY -----------------------------------

def ok_job(project: Any, ctx: JobContext) -> JobResult:
    return JobResult({"trigger": ctx.trigger})


def failing_job(project: Any, ctx: JobContext) -> JobResult:
    raise RuntimeError("the provider answered nonsense")


def blocking_job(project: Any, ctx: JobContext) -> JobResult:
    """Says it started (a file), then runs until a release file appears (set by the test)."""
    folder = Path(os.environ["SEO_TEST_GATE"])
    (folder / f"started-{os.getpid()}").write_text(json.dumps({"trigger": ctx.trigger}))
    while not (folder / "release").exists():
        time.sleep(0.02)
    return JobResult({"released": 1})
