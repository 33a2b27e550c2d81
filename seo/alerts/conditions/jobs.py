"""job_failed and job_silent (dead-man), from the store's `runs` table and config/schedule.yaml.

job_failed: a scheduled job's last `failures` (2) finished runs all failed. job_silent: a job the
schedule runs (on its own slot or inside `weekly`) has not started for `factor` (2) times its
longest interval between runs; for a job that never ran, counted from the first run recorded in
the store. The watch job cannot report its own silence: watch it from outside (see README).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from ...automation.schedule import Schedule
from ...settings import JobFailedAlert, JobSilentAlert
from ...tables import runs
from ..model import Finding, WatchContext, aware, clean

HORIZON = timedelta(days=15)
MAX_FIRES = 2000


def check_failed(ctx: WatchContext, cfg: JobFailedAlert) -> list[Finding]:
    out = []
    with ctx.project.store.engine.connect() as conn:
        for job in ctx.schedule.jobs:
            last = conn.execute(sa.select(runs.c.status, runs.c.started_at, runs.c.error)
                                .where(runs.c.job == job, runs.c.status.in_(("ok", "failed")))
                                .order_by(runs.c.started_at.desc(), runs.c.id.desc())
                                .limit(cfg.failures)).all()
            if len(last) < cfg.failures or any(r.status != "failed" for r in last):
                continue
            when = aware(last[0].started_at).astimezone(ctx.tz)
            error = clean(str(last[0].error).splitlines()[0] if last[0].error else "no error recorded")
            out.append(Finding(job, f"Job {job} failed {cfg.failures} times in a row",
                               [f"last run {when:%a %d %b %H:%M %Z}: {error}",
                                f"see `seo run {job}` or the runs in the weekly report"],
                               {}, "warning"))
    return out


def intervals(schedule: Schedule, now: datetime) -> dict[str, timedelta]:
    """Each job the schedule runs -> its longest gap between runs over the next two weeks (the
    union of its own slot and the `weekly` slot when it is a step of an enabled `weekly`)."""
    weekly = schedule.jobs.get("weekly")
    steps = set(weekly.spec.steps) if weekly and weekly.enabled else set()
    out = {}
    for name, job in schedule.jobs.items():
        sources = ([name] if job.enabled else []) + (["weekly"] if name in steps else [])
        fires: set[datetime] = set()
        for src in sources:
            fires |= _fires(schedule, src, now)
        if len(fires) >= 2:
            ordered = sorted(fires)
            out[name] = max(b - a for a, b in pairwise(ordered))
    return out


def _fires(schedule: Schedule, name: str, now: datetime) -> set[datetime]:
    trigger = schedule.trigger(name)
    found: set[datetime] = set()
    prev: Any = None
    moment = aware(now).astimezone(schedule.tz)
    end = moment + HORIZON
    for _ in range(MAX_FIRES):
        nxt = trigger.get_next_fire_time(prev, moment)
        if nxt is None or nxt > end:
            break
        found.add(nxt)
        prev, moment = nxt, nxt + timedelta(seconds=1)
    return found


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours < 72 else f"{hours / 24:.0f} days"


def check_silent(ctx: WatchContext, cfg: JobSilentAlert) -> list[Finding]:
    now = ctx.store_now
    every = intervals(ctx.schedule, ctx.now)
    with ctx.project.store.engine.connect() as conn:
        latest = dict(conn.execute(sa.select(runs.c.job, sa.func.max(runs.c.started_at))
                                   .group_by(runs.c.job)).all())
        first = conn.execute(sa.select(sa.func.min(runs.c.started_at))).scalar()
    out = []
    for job in ctx.schedule.jobs:
        if job not in every or job == "watch":
            continue
        limit = every[job] * cfg.factor
        last = latest.get(job)
        since = last or first
        if since is None or now - since <= limit:
            continue
        said = f"last run {aware(last).astimezone(ctx.tz):%a %d %b %H:%M %Z}" if last else \
            f"no run recorded since monitoring began {aware(first).astimezone(ctx.tz):%a %d %b}"
        out.append(Finding(job, f"Job {job} has not run for {_hours(now - since)} "
                                f"(it runs at least every {_hours(every[job])})",
                           [said, "is the scheduler running? `seo schedule list` shows the next runs"],
                           {}, "warning"))
    return out
