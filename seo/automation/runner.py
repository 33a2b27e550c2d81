"""Run a job now: take its file lock, record the run in `runs`, skip what isn't configured.

A manual run (`seo run JOB`), a cron line and the scheduler all come through `run_job`, so the
same job never runs twice at once: the per-job lock is an fcntl lock on a file next to the store,
and a run that finds it held is recorded as skipped ("already running") instead of queueing.

The weekly pipeline runs each step through the same lock and record, in order; a step that is
not configured is skipped and says so, a step that fails does not stop the others.

SIGTERM: the step in progress finishes, the steps not started are recorded as interrupted; a
second SIGTERM (or Ctrl-C) interrupts the step itself, recorded as interrupted. A run left
"running" by a process that was killed outright is marked interrupted by the next run of that job.
"""

from __future__ import annotations

import fcntl
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa

from ..api import Project
from ..errors import CredentialsRejected, ExternalError, NotConfigured, UserError, one_line
from ..redact import redact
from ..store import Store, runs, sqlite_path
from .schedule import JOBS, Schedule, load_schedule

log = logging.getLogger("seo.jobs")

# job name -> "module:function"; each function is `run(project, ctx) -> JobResult`.
REGISTRY: dict[str, str] = {name: f"jobs.{name}:run" for name in JOBS}

Echo = Callable[[str], None]


class Interrupted(BaseException):
    """Raised in the main thread by a second SIGTERM: stop the running step now."""


STOP = threading.Event()  # set by the first SIGTERM: finish the running step, start nothing new


@dataclass
class JobResult:
    """What a job hands back: counts for the runs table, lines for people, and whether it failed."""

    counts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    error: str = ""  # non-empty: the run is recorded as failed (a partial failure)
    status: str = ""  # override (the pipeline: interrupted)


@dataclass
class Outcome:
    job: str
    status: str  # ok, failed, skipped, interrupted
    run_id: int
    message: str = ""
    counts: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def line(self) -> str:
        return one_line(redact(self._line()))

    def _line(self) -> str:
        text = f"{self.job}: {self.status}"
        if self.message:
            text += f": {self.message}" if self.status != "skipped" else f" ({self.message})"
            if self.message.startswith("not configured"):
                text = f"{self.job}: {self.message}"
        return text


@dataclass
class JobContext:
    """Handed to every job: how it was started, the schedule, and a way to run pipeline steps."""

    project: Project
    schedule: Schedule
    trigger: str = "manual"
    today: date | None = None
    echo: Echo = lambda _line: None

    def run_steps(self, steps: list[str]) -> JobResult:
        return run_pipeline(self, steps)


def lock_dir(project: Project) -> Path:
    """Locks live next to a SQLite store; for other stores in the project's build folder."""
    path = sqlite_path(str(project.store.engine.url))
    folder = path.parent / "locks" if path is not None else project.site.root / "build" / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def file_lock(path: Path) -> Iterator[str | None]:
    """Hold an exclusive fcntl lock on `path`; yields None when held, else who holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
        os.close(fd)
        yield f"pid {holder}" if holder else "another process"
        return
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield None
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def resolve(name: str) -> Callable[[Project, JobContext], JobResult]:
    if name not in REGISTRY:
        raise UserError(f"unknown job {name!r} (known: {', '.join(REGISTRY)})", key="JOB")
    module, attr = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def _close_stale(store: Store, job: str) -> int:
    """Rows still 'running' for a job whose lock we hold belong to a process that died."""
    with store.begin() as conn:
        result = conn.execute(runs.update().where(runs.c.job == job, runs.c.status == "running")
                              .values(status="interrupted", error="process ended during the run",
                                      finished_at=sa.func.coalesce(runs.c.finished_at,
                                                                   runs.c.started_at)))
        return int(result.rowcount or 0)


_active: dict[int, tuple[Store, str]] = {}
_active_cond = threading.Condition()


def active_runs() -> list[str]:
    with _active_cond:
        return [job for _, job in _active.values()]


def wait_idle(timeout: float | None = None) -> bool:
    with _active_cond:
        return _active_cond.wait_for(lambda: not _active, timeout)


def interrupt_active(reason: str) -> None:
    """Record every run still in progress in this process as interrupted (we are about to exit)."""
    with _active_cond:
        items = list(_active.items())
    for run_id, (store, _job) in items:
        store.finish_run(run_id, "interrupted", error=reason)


def run_step(ctx: JobContext, name: str) -> Outcome:
    """Run one job under its lock and record it; never raises for a job's own failure."""
    project, store = ctx.project, ctx.project.store
    fn = resolve(name)
    with file_lock(lock_dir(project) / f"{name}.lock") as holder:
        if holder is not None:
            run_id = store.start_run(name, ctx.trigger)
            store.finish_run(run_id, "skipped", error=f"already running ({holder})")
            return Outcome(name, "skipped", run_id, f"already running ({holder})")
        stale = _close_stale(store, name)
        if stale:
            log.warning("%s: %d earlier run(s) left running by a process that ended; "
                        "recorded as interrupted", name, stale)
        run_id = store.start_run(name, ctx.trigger)
        with _active_cond:
            _active[run_id] = (store, name)
        try:
            result = fn(project, ctx)
        except CredentialsRejected as exc:  # set up, but the token was refused: needs a person
            msg = f"not configured: {exc}"
            store.finish_run(run_id, "failed", error=msg)
            return Outcome(name, "failed", run_id, msg)
        except NotConfigured as exc:
            msg = f"not configured: {exc}"
            store.finish_run(run_id, "skipped", error=msg)
            return Outcome(name, "skipped", run_id, msg)
        except (Interrupted, KeyboardInterrupt):
            store.finish_run(run_id, "interrupted", error="interrupted by a signal")
            raise
        except (UserError, ExternalError) as exc:
            store.finish_run(run_id, "failed", error=str(exc))
            return Outcome(name, "failed", run_id, str(exc))
        except Exception as exc:
            msg = one_line(redact(f"{type(exc).__name__}: {exc}"))[:500]
            log.exception("%s failed", name)
            store.finish_run(run_id, "failed", error=msg)
            return Outcome(name, "failed", run_id, msg)
        finally:
            with _active_cond:
                _active.pop(run_id, None)
                _active_cond.notify_all()
        status = result.status or ("failed" if result.error else "ok")
        store.finish_run(run_id, status, result.counts, result.error)
        summary = result.error or ", ".join(f"{k} {v}" for k, v in result.counts.items()
                                            if not isinstance(v, dict | list))
        return Outcome(name, status, run_id, summary, result.counts, result.lines)


def run_pipeline(ctx: JobContext, steps: list[str]) -> JobResult:
    """The weekly pipeline: every step in order, each under its own lock and run record."""
    ctx = replace(ctx, trigger="weekly")  # the steps' rows say they ran inside the pipeline
    statuses: dict[str, str] = {}
    failed: list[str] = []
    stopped = False
    for name in steps:
        if STOP.is_set():
            stopped = True
            run_id = ctx.project.store.start_run(name, ctx.trigger)
            ctx.project.store.finish_run(run_id, "interrupted", error="not started: stopping (SIGTERM)")
            statuses[name] = "interrupted"
            ctx.echo(f"{name}: interrupted (not started: stopping)")
            continue
        outcome = run_step(ctx, name)
        statuses[name] = outcome.status
        ctx.echo(outcome.line())
        for line in outcome.lines:
            ctx.echo(f"  {line}")
        if outcome.status == "failed":
            failed.append(name)
    error = f"failed: {', '.join(failed)}" if failed else ""
    return JobResult({"steps": statuses}, error=error, status="interrupted" if stopped and not failed
                     else "")


def run_job(name: str, root: Path | str = ".", *, trigger: str = "manual", echo: Echo | None = None,
            today: date | None = None, project: Project | None = None) -> Outcome:
    """Run job `name` now (the whole pipeline for "weekly"). Config errors raise UserError."""
    resolve(name)
    project = project or Project.open(root)
    ctx = JobContext(project, load_schedule(project.site.root), trigger=trigger, today=today,
                     echo=echo or (lambda line: log.info("%s", line)))
    return run_step(ctx, name)


def scheduled(name: str, root: str) -> None:
    """The function the scheduler stores (importable, plain arguments): run a job on schedule."""
    outcome = run_job(name, root, trigger="schedule")
    if outcome.status == "failed":
        log.error("%s", outcome.line())
    else:
        log.info("%s", outcome.line())


def install_signal_handlers(on_stop: Callable[[], None] | None = None) -> None:
    """First SIGTERM: finish the running step, start nothing new (`on_stop` tells the scheduler).
    Second SIGTERM, or SIGINT: interrupt now."""

    def handle(signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGTERM and not STOP.is_set():
            STOP.set()
            busy = active_runs()
            print(f"SIGTERM: stopping; letting {', '.join(busy) or 'nothing'} finish "
                  "(send SIGTERM again to interrupt)", file=sys.stderr, flush=True)
            if on_stop is not None:
                on_stop()
            return
        STOP.set()
        raise Interrupted()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
