"""The one APScheduler service behind `seo schedule run`.

- Job store: APScheduler's SQLAlchemyJobStore in the project's own database (table
  `apscheduler_jobs`), so a pending run survives a restart.
- One scheduler per store: a file lock next to a SQLite database, or a lease row (with a
  heartbeat) in the database for any other URL. Two schedulers on one store would both fire
  every slot, so the second refuses to start.
- Jobs are added only when missing from the store (replace_existing=True would recompute
  next_run_time and silently drop a run missed while the scheduler was down), and rescheduled only
  when the cron expression or timezone changed, keeping a run that is already due.
- A missed run (down longer than the job's grace time) is recorded as skipped; a job's failure is
  recorded by the runner and the scheduler keeps going; coalesce=True runs a backlog once.
- The stored callable is `seo.automation.runner:scheduled` with plain arguments (job, root).
"""

from __future__ import annotations

import logging
import os
import shlex
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED, EVENT_SCHEDULER_START, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job as ApsJob
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from ..api import Project
from ..errors import UserError
from ..store import Store, sqlite_path
from ..store import now as store_now
from . import runner
from .schedule import Schedule

log = logging.getLogger("seo.schedule")

JOBS_TABLE = "apscheduler_jobs"
CALLABLE = "seo.automation.runner:scheduled"
LEASE_TTL = timedelta(seconds=90)
LEASE_BEAT = 30.0

lease_meta = sa.MetaData()
scheduler_lease = sa.Table(
    "scheduler_lease", lease_meta,
    sa.Column("name", sa.String(32), primary_key=True),
    sa.Column("owner", sa.String(200), nullable=False),
    sa.Column("heartbeat", sa.DateTime, nullable=False),
)


class AlreadyRunning(UserError):
    exit_code = 1


# -- one scheduler per store ----------------------------------------------------------------------

@contextmanager
def scheduler_lock(store: Store, *, lease: bool | None = None,
                   now: Callable[[], datetime] = store_now) -> Iterator[None]:
    """Hold the store's scheduler lock for the life of the block, or raise AlreadyRunning."""
    path = sqlite_path(str(store.engine.url))
    if lease is None:
        lease = path is None
    if not lease:
        assert path is not None
        lock_path = path.parent / (path.name + ".scheduler.lock")
        with runner.file_lock(lock_path) as holder:
            if holder is not None:
                raise AlreadyRunning(f"a scheduler is already running on this store ({holder}; lock "
                                     f"{lock_path}); run one `seo schedule run` per store")
            yield
        return
    owner = f"{socket.gethostname()}:{os.getpid()}:{id(store)}"
    take_lease(store, owner, now)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(LEASE_BEAT):
            if not renew_lease(store, owner, now):
                log.error("scheduler lease lost to another process; stopping")
                os.kill(os.getpid(), 15)
                return

    thread = threading.Thread(target=beat, name="seo-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        with store.begin() as conn:
            conn.execute(scheduler_lease.delete().where(scheduler_lease.c.name == "scheduler",
                                                        scheduler_lease.c.owner == owner))


def take_lease(store: Store, owner: str, now: Callable[[], datetime] = store_now) -> None:
    lease_meta.create_all(store.engine)
    t = now()
    with store.begin() as conn:
        row = conn.execute(sa.select(scheduler_lease).where(
            scheduler_lease.c.name == "scheduler")).first()
        if row is None:
            try:
                conn.execute(scheduler_lease.insert().values(name="scheduler", owner=owner, heartbeat=t))
                return
            except sa.exc.IntegrityError:
                pass
        elif row.heartbeat < t - LEASE_TTL or row.owner == owner:
            taken = conn.execute(scheduler_lease.update().where(
                scheduler_lease.c.name == "scheduler", scheduler_lease.c.owner == row.owner,
                scheduler_lease.c.heartbeat == row.heartbeat).values(owner=owner, heartbeat=t))
            if taken.rowcount == 1:
                return
        holder = row.owner if row is not None else "another process"
    raise AlreadyRunning(f"a scheduler is already running on this store ({holder}, lease in table "
                         "scheduler_lease); run one `seo schedule run` per store")


def renew_lease(store: Store, owner: str, now: Callable[[], datetime] = store_now) -> bool:
    with store.begin() as conn:
        done = conn.execute(scheduler_lease.update().where(
            scheduler_lease.c.name == "scheduler", scheduler_lease.c.owner == owner).values(
            heartbeat=now()))
        return done.rowcount == 1


# -- the scheduler -------------------------------------------------------------------------------

def job_store(store: Store) -> SQLAlchemyJobStore:
    return SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)


def make_scheduler(project: Project, schedule: Schedule, *,
                   cls: type[BaseScheduler] = BlockingScheduler, workers: int = 4,
                   clock: Callable[[], datetime] | None = None) -> BaseScheduler:
    """A scheduler on the project's store whose jobs are synced with the schedule when it starts.
    `clock` (tests) is the time the sync compares pending runs with; APScheduler reads its own."""
    root = str(project.site.root)
    scheduler = cls(jobstores={"default": job_store(project.store)},
                    executors={"default": ThreadPoolExecutor(workers)},
                    job_defaults={"coalesce": True, "max_instances": 1},
                    timezone=schedule.tz)

    def on_start(_event: Any) -> None:
        for line in sync_jobs(scheduler, schedule, root, clock() if clock else None):
            log.info("%s", line)

    def on_missed(event: JobExecutionEvent) -> None:
        job = schedule.jobs.get(event.job_id)
        grace = f"{job.grace_minutes} min" if job else "its grace time"
        when = event.scheduled_run_time.astimezone(schedule.tz).strftime("%Y-%m-%d %H:%M %Z")
        msg = f"missed the run due {when}: the scheduler was not running within {grace} of it"
        log.warning("%s: %s", event.job_id, msg)
        run_id = project.store.start_run(event.job_id, "schedule")
        project.store.finish_run(run_id, "skipped", error=msg)

    def on_error(event: JobExecutionEvent) -> None:
        # The runner records a job's own failures; this is a failure before it could (bad config).
        msg = f"{type(event.exception).__name__}: {event.exception}".splitlines()[0]
        log.error("%s: failed: %s", event.job_id, msg)
        try:
            run_id = project.store.start_run(event.job_id, "schedule")
            project.store.finish_run(run_id, "failed", error=msg)
        except Exception:  # the store itself is the problem: the log line above is what's left
            log.exception("cannot record the failure of %s", event.job_id)

    scheduler.add_listener(on_start, EVENT_SCHEDULER_START)
    scheduler.add_listener(on_missed, EVENT_JOB_MISSED)
    scheduler.add_listener(on_error, EVENT_JOB_ERROR)
    return scheduler


def _same_trigger(job: ApsJob, schedule: Schedule, name: str) -> bool:
    new = schedule.trigger(name)
    return str(job.trigger) == str(new) and str(job.trigger.timezone) == str(new.timezone)


def sync_jobs(scheduler: BaseScheduler, schedule: Schedule, root: str,
              now: datetime | None = None) -> list[str]:
    """Make the store's jobs match the schedule without losing a pending run. Returns what it did."""
    now = now or datetime.now(schedule.tz)
    done: list[str] = []
    wanted = {j.name: j for j in schedule.enabled()}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            done.append(f"{job.id}: removed (not enabled in config/schedule.yaml)")
    for name, spec in wanted.items():
        trigger = schedule.trigger(name)
        job = scheduler.get_job(name)
        options = {"misfire_grace_time": spec.grace_seconds, "coalesce": True, "max_instances": 1,
                   "args": [name, root], "name": name}
        if job is None:
            scheduler.add_job(CALLABLE, trigger, id=name, replace_existing=False, **options)
            done.append(f"{name}: added ({spec.cron})")
            continue
        changed = {k: v for k, v in options.items()
                   if (list(getattr(job, k)) if k == "args" else getattr(job, k)) != v}
        if not _same_trigger(job, schedule, name):
            pending = job.next_run_time
            fresh = trigger.get_next_fire_time(None, now)
            # a run already due (missed while down, within grace) is kept; later ones follow the
            # new expression
            keep = pending if pending is not None and pending <= now else fresh
            scheduler.modify_job(name, trigger=trigger, next_run_time=keep, **changed)
            done.append(f"{name}: rescheduled to {spec.cron}"
                        + (" (the run already due is kept)" if keep is pending else ""))
        elif changed:
            scheduler.modify_job(name, **changed)
            done.append(f"{name}: updated {', '.join(sorted(changed))}")
    return done


@dataclass
class NextRun:
    job: str
    cron: str
    enabled: bool
    next_run: datetime | None
    stored: bool  # the time comes from the job store (what the running scheduler will do)


def next_runs(project: Project, schedule: Schedule, now: datetime | None = None) -> list[NextRun]:
    """Every job's next run: from the job store when the scheduler has it, else from the cron."""
    now = now or datetime.now(schedule.tz)
    stored: dict[str, datetime | None] = {}
    if JOBS_TABLE in sa.inspect(project.store.engine).get_table_names():
        holder = BackgroundScheduler(timezone=schedule.tz)
        store = job_store(project.store)
        store.start(holder, "default")
        try:
            for job in store.get_all_jobs():
                stored[job.id] = job.next_run_time
        except LookupError:  # a stored callable that no longer imports
            pass
        finally:
            store.shutdown()
    out = []
    for job in schedule.jobs.values():
        if not job.enabled:
            out.append(NextRun(job.name, job.cron, False, None, False))
        elif job.name in stored:
            out.append(NextRun(job.name, job.cron, True, stored[job.name], True))
        else:
            out.append(NextRun(job.name, job.cron, True,
                               schedule.trigger(job.name).get_next_fire_time(None, now), False))
    return out


def cron_lines(schedule: Schedule, root: Path, seo: str) -> list[str]:
    """The equivalent crontab: one line per enabled job calling `seo run JOB`."""
    lines = [
        f"# seo jobs for {root} (from config/schedule.yaml); install with `crontab -e`.",
        "# Times are in the schedule's timezone: cronie honours CRON_TZ; on other crons set the",
        f"# machine's timezone to {schedule.timezone}. Cron does not catch up a run missed while",
        "# the machine was off (`seo schedule run` does, within each job's grace time).",
        f"CRON_TZ={schedule.timezone}",
    ]
    log_file = root / "build" / "seo-cron.log"

    def arg(text: str) -> str:  # quoted for the shell; `%` ends a crontab command unless escaped
        return shlex.quote(text).replace("%", "\\%")

    for job in schedule.enabled():
        lines.append(f"{' '.join(job.cron.split())} {seo} run {job.name} --root {arg(str(root))} "
                     f"--trigger cron >> {arg(str(log_file))} 2>&1")
    return lines


def serve(project: Project, schedule: Schedule, echo: Callable[[str], None]) -> int:
    """`seo schedule run`: one foreground scheduler until SIGTERM. Returns the exit code."""
    with scheduler_lock(project.store):
        scheduler = make_scheduler(project, schedule)

        def stop() -> None:
            scheduler.shutdown(wait=False)

        runner.install_signal_handlers(on_stop=stop)
        echo(f"scheduler started on {project.store.engine.url.render_as_string(hide_password=True)} "
             f"({schedule.timezone}); SIGTERM stops it after the running job")
        try:
            scheduler.start()
            runner.wait_idle()
        except runner.Interrupted:
            busy = runner.active_runs()
            runner.interrupt_active("interrupted by a second SIGTERM")
            echo(f"interrupted: {', '.join(busy) or 'nothing'} recorded as interrupted")
            os._exit(143)
        echo("scheduler stopped")
    return 0
