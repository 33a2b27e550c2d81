"""Grid scans from the parent's side: plan points x keywords within the budget, run the rank
checks' own crawl child (`seo.rankings.serp_crawl`), store the points and the grids' scores.

Budget. The SERP provider's monthly budget (`integrations.serp.monthly_budget`) is shared with
rank checks; grid scans also have their own approved cap (`grid.monthly_budget`) inside it. Every
request is counted in `serp_spend` (grid batches are named `grid-...`), and the child is handed
the smaller of what is left of the two, which it never exceeds (retries included). A scan plans
whole grids (town x keyword): one that does not fit in what is left is not started, since half a
grid says little, and its points are stored as "not measured" with the reason.

Crash safety, as for rank checks: a batch folder (`build/grid/crawls/<batch>/`: job.json,
results.jsonl) is removed only once its points, scores and spend are in the store; the next scan
(or rank check) ingests leftovers first, and points already measured today are not fetched again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from ..childproc import child_env
from ..errors import NotConfigured
from ..rankings.observations import record_spend, spent
from ..rankings.serp import Provider, Task, get_provider, scrub
from ..rankings.serp.locations import serp_location
from ..rankings.serp.runner import (
    BUDGET_REASON,
    INTERRUPTED,
    _stop,
    batch_records,
    check_lock,
    target_for,
    wait_for_batch,
)
from ..rankings.serp.runner import ingest_leftovers as rank_leftovers
from ..site import Site
from ..store import Store
from ..tables import serp_spend
from .config import DEPTH, Grid, Point
from .scores import PointResult, clean, from_result
from .store import measured_points, rescore, save_points

BATCH_PREFIX = "grid-"
POLL = 0.5  # seconds between progress looks at the results file


@dataclass
class GridPlan:
    """One grid (town x keyword) of a scan and its points still to measure today."""

    grid: Grid
    keyword: str
    points: list[Point]


@dataclass
class GridOutcome:
    provider: str
    planned: list[GridPlan] = field(default_factory=list)  # fetched (or, dry run, to fetch)
    skipped: list[GridPlan] = field(default_factory=list)  # not started: over the budget
    already: int = 0  # points already measured today (not fetched again)
    requests: int = 0
    budget_left: int = 0  # the provider's monthly budget, shared with rank checks
    grid_budget_left: int = 0  # grid.monthly_budget
    measured: int = 0
    not_measured: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str = ""
    refused: bool = False
    touched: list[tuple[str, str]] = field(default_factory=list)  # (town, keyword) stored

    @property
    def planned_requests(self) -> int:
        return sum(len(p.points) for p in self.planned)

    @property
    def skipped_requests(self) -> int:
        return sum(len(p.points) for p in self.skipped)


def crawl_dir(site: Site) -> Path:
    return site.path("build/grid/crawls")


def grid_spent(store: Store, provider: str, month: str) -> int:
    """Requests grid scans spent this month (a part of `spent`, which counts every batch)."""
    q = (sa.select(sa.func.coalesce(sa.func.sum(serp_spend.c.requests), 0))
         .where(serp_spend.c.provider == provider, serp_spend.c.month == month,
                serp_spend.c.batch.like(f"{BATCH_PREFIX}%")))
    with store.engine.connect() as conn:
        return int(conn.execute(q).scalar() or 0)


def budget_left(site: Site, store: Store, provider: str, month: str) -> tuple[int, int]:
    """(shared SERP budget left, grid budget left) this month."""
    serp = site.config.integrations.serp
    grid = site.config.grid
    assert serp is not None and grid is not None
    return (max(0, serp.monthly_budget - spent(store, provider, month)),
            max(0, grid.monthly_budget - grid_spent(store, provider, month)))


def plan(grids: list[Grid], done: set[tuple[str, str, str, int, int]],
         budget: int) -> tuple[list[GridPlan], list[GridPlan], int]:
    """(to fetch, over the budget, already measured): whole grids, in order, while they fit."""
    todo: list[GridPlan] = []
    over: list[GridPlan] = []
    already = 0
    for grid in grids:
        for kw in grid.keywords:
            pending = [p for p in grid.points if (grid.town, kw, grid.key, p.row, p.col) not in done]
            already += len(grid.points) - len(pending)
            if not pending:
                continue
            if len(pending) <= budget:
                todo.append(GridPlan(grid, kw, pending))
                budget -= len(pending)
            else:
                over.append(GridPlan(grid, kw, pending))
    return todo, over, already


def _stored(store: Store, site: Site, outcome: GridOutcome, day: date, provider: str,
            groups: dict[tuple[str, str, str], list[PointResult]], totals: dict[str, int],
            run_id: int | None) -> None:
    name = site.config.business.name
    for (town, kw, key), points in groups.items():
        save_points(store, day=day, source=provider, town=town, keyword=kw, grid=key, points=points,
                    our_name=name, run_id=run_id)
        rescore(store, day=day, source=provider, town=town, keyword=kw, grid=key,
                total=totals[f"{town}|{kw}"], our_name=name, run_id=run_id)
        if (town, kw) not in outcome.touched:
            outcome.touched.append((town, kw))
        for p in points:
            if p.measured:
                outcome.measured += 1
            else:
                outcome.not_measured += 1
                outcome.reasons[p.reason] = outcome.reasons.get(p.reason, 0) + 1


def ingest(store: Store, site: Site, batch_dir: Path, run_id: int | None,
           outcome: GridOutcome | None = None, missing_reason: str = INTERRUPTED) -> GridOutcome:
    """Store a batch's points, scores and spend; a point without a result is "not measured"."""
    job = json.loads((batch_dir / "job.json").read_text(encoding="utf-8"))
    outcome = outcome or GridOutcome(job["provider"])
    day = date.fromisoformat(job["day"])
    results: dict[str, dict[str, Any]] = {}
    spend = 0
    for rec in batch_records(batch_dir):
        kind = rec.get("type")
        if kind == "fatal":  # the child stopped the check (credentials refused, provider down)
            outcome.error = outcome.error or str(rec.get("reason", ""))[:300]
            outcome.refused = outcome.refused or bool(rec.get("refused"))
            missing_reason = f"check stopped: {outcome.error}"
        elif kind == "spend":
            spend += 1
        elif kind in ("result", "failure") and rec.get("kind") == "maps" and (
                kind == "result" or rec["task"] not in results):
            results[rec["task"]] = rec  # a result wins over a failure of an earlier attempt
    groups: dict[tuple[str, str, str], list[PointResult]] = {}
    for tid, (town, kw, key, row, col, lat, lng) in job["points"].items():
        rec = results.get(tid)
        if rec is None:
            point = PointResult(row, col, lat, lng, False, reason=missing_reason)
        elif rec["type"] == "failure":
            point = PointResult(row, col, lat, lng, False, reason=clean(rec["reason"], 300))
        else:
            point = from_result(row, col, lat, lng, rec)
        groups.setdefault((town, kw, key), []).append(point)
    _stored(store, site, outcome, day, job["provider"], groups, job["totals"], run_id)
    record_spend(store, job["provider"], job["month"], spend, batch_dir.name)
    outcome.requests += spend
    shutil.rmtree(batch_dir)
    return outcome


def ingest_leftovers(store: Store, site: Site, run_id: int | None = None, wait: float = 0.0) -> int:
    """Batches a killed scan left behind: stored now (their spend counted once), after the crawl
    child that may still be finishing its requests in flight has let go of them (`wait`)."""
    folder = crawl_dir(site)
    n = 0
    for batch in sorted(folder.iterdir()) if folder.is_dir() else []:
        if (batch / "job.json").exists():
            wait_for_batch(batch, wait)
            ingest(store, site, batch, run_id)
            n += 1
    return n


def check_grid(site: Site, store: Store, grids: list[Grid], *, day: date, run_id: int | None,
               dry_run: bool = False, on_start: Callable[[int], None] | None = None,
               progress: Callable[[int, int], None] | None = None) -> GridOutcome:
    serp = site.config.integrations.serp
    if serp is None:
        raise NotConfigured("grid scans use the live SERP provider: set integrations.serp in "
                            "config/site.yaml (dataforseo or serpapi) and its credentials")
    provider: Provider = get_provider(serp.provider, serp.model_dump(), serp.base_url)
    provider.check_secrets()
    month = day.strftime("%Y-%m")
    if dry_run:
        return _outcome(site, store, grids, serp.provider, day, month)
    grace = serp.timeout * 2 + 5  # an orphan's requests in flight: one timeout, and a margin
    with check_lock(site):  # the rank checks' lock: one live check at a time, either kind
        rank_leftovers(store, site, run_id, wait=grace)  # their spend counts against the budget
        ingest_leftovers(store, site, run_id, wait=grace)
        outcome = _outcome(site, store, grids, serp.provider, day, month)
        if outcome.skipped:
            groups = {(p.grid.town, p.keyword, p.grid.key):
                      [PointResult(q.row, q.col, q.lat, q.lng, False, reason=BUDGET_REASON)
                       for q in p.points] for p in outcome.skipped}
            totals = {f"{p.grid.town}|{p.keyword}": len(p.grid.points) for p in outcome.skipped}
            _stored(store, site, outcome, day, serp.provider, groups, totals, run_id)
        if outcome.planned:
            _crawl(site, store, serp, provider, outcome, day, month, run_id, on_start, progress,
                   grace)
        outcome.budget_left, outcome.grid_budget_left = budget_left(site, store, serp.provider, month)
    return outcome


def _outcome(site: Site, store: Store, grids: list[Grid], provider: str, day: date,
             month: str) -> GridOutcome:
    shared, own = budget_left(site, store, provider, month)
    todo, over, already = plan(grids, measured_points(store, provider, day), min(shared, own))
    return GridOutcome(provider, todo, over, already, budget_left=shared, grid_budget_left=own)


def _crawl(site: Site, store: Store, serp: Any, provider: Provider, outcome: GridOutcome, day: date,
           month: str, run_id: int | None, on_start: Callable[[int], None] | None,
           progress: Callable[[int, int], None] | None, grace: float) -> None:
    batch = f"{BATCH_PREFIX}{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    batch_dir = crawl_dir(site) / batch
    batch_dir.mkdir(parents=True)
    tasks: list[dict[str, Any]] = []
    points: dict[str, list[Any]] = {}
    totals: dict[str, int] = {}
    for gp in outcome.planned:
        g = gp.grid
        totals[f"{g.town}|{gp.keyword}"] = len(g.points)
        town = site.town(g.town)
        place = serp_location(town.name, town.config.state, town.config.serp_location)
        for p in gp.points:
            tid = str(len(tasks))
            task = Task(tid, gp.keyword, g.town, p.lat, p.lng, place, ("maps",), g.zoom)
            tasks.append({**task.__dict__, "kinds": list(task.kinds)})
            points[tid] = [g.town, gp.keyword, g.key, p.row, p.col, p.lat, p.lng]
    shared, own = outcome.budget_left, outcome.grid_budget_left
    job = {"provider": serp.provider, "base_url": serp.base_url,
           "settings": {**serp.model_dump(), "depth": DEPTH}, "budget": min(shared, own),
           "day": day.isoformat(), "month": month, "target": {**target_for(site), "keep": DEPTH},
           "tasks": tasks, "points": points, "totals": totals,
           "out": str(batch_dir / "results.jsonl")}
    (batch_dir / "job.json").write_text(json.dumps(job, sort_keys=True), encoding="utf-8")
    if on_start:
        on_start(len(tasks))
    missing = INTERRUPTED
    try:
        code, timed_out = _run_child(batch_dir, serp.run_timeout, len(tasks), progress, grace)
    except BaseException:  # interrupted (Ctrl-C, a second SIGTERM): keep what was fetched
        ingest(store, site, batch_dir, run_id, outcome, INTERRUPTED)
        raise
    if timed_out:
        outcome.error = f"crawl stopped after run_timeout {serp.run_timeout:g}s"
        missing = f"{INTERRUPTED} (crawl timed out)"
    elif code != 0:
        err = (batch_dir / "stderr.log").read_text(encoding="utf-8", errors="replace")
        last = (err.strip().splitlines() or ["no output"])[-1]
        outcome.error = scrub(f"crawl process failed (exit {code}): {last}"[:300], provider.secrets())
        missing = f"{INTERRUPTED} (crawl process failed)"
    ingest(store, site, batch_dir, run_id, outcome, missing)


def _done_in(path: Path, offset: int) -> tuple[int, int]:
    """(points settled in the results file since `offset`, new offset)."""
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return 0, offset
    end = data.rfind(b"\n") + 1
    chunk = data[:end]
    return chunk.count(b'"type": "result"') + chunk.count(b'"type": "failure"'), offset + end


def _run_child(batch_dir: Path, timeout: float, total: int,
               progress: Callable[[int, int], None] | None,
               grace: float) -> tuple[int | None, bool]:
    """Run the crawl child on the batch: (exit code, timed out), reporting progress as results
    arrive. The child dies with this process (`child_env`); Ctrl-C stops it gracefully."""
    env = child_env({**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")] if p)})
    with open(batch_dir / "stderr.log", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "seo.rankings.serp_crawl",
                                 str(batch_dir / "job.json")], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    deadline = time.monotonic() + timeout
    done, offset = 0, 0
    try:
        while True:
            try:
                return proc.wait(min(POLL, max(0.01, deadline - time.monotonic()))), False
            except subprocess.TimeoutExpired:
                if time.monotonic() >= deadline:
                    _stop(proc, grace)
                    return None, True
            if progress:
                more, offset = _done_in(batch_dir / "results.jsonl", offset)
                if more:
                    done += more
                    progress(min(done, total), total)
    except BaseException:
        _stop(proc, grace)
        raise
