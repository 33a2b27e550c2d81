"""The grid library API: what `seo grid`, the scheduled job and the weekly report call."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .. import __version__
from ..atomic import atomic_write
from ..errors import ExternalError, NotConfigured
from .config import Grid, build_grids, settings
from .history import History, Series
from .history import load as load_history
from .run import GridOutcome, check_grid
from .store import load_points, load_scores
from .tiles import TileSource
from .views import GridDay, heatmap, latest

if TYPE_CHECKING:
    from ..api import Project

WEEKS_A_MONTH = 4.35
HEATMAPS = "build/grid/heatmaps"


@dataclass
class GridCheckReport:
    status: str  # ok, incomplete (some points not measured), failed, refused, dry run
    provider: str
    grids: list[Grid]
    outcome: GridOutcome
    approved: int  # grid.monthly_budget
    serp_budget: int  # integrations.serp.monthly_budget
    heatmaps: list[Path] = field(default_factory=list)
    message: str = ""
    tiles_note: str = ""  # why the heatmaps have no map background, when tiles are on

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "incomplete")

    def plan_lines(self) -> list[str]:
        """Points x keywords per town, and what a scan and a month of weekly scans cost."""
        o = self.outcome
        lines = []
        for g in self.grids:
            spread = f"{g.size}x{g.size}, {g.spacing_miles:g} mi apart"
            lines.append(f"{g.town}: {spread}, {len(g.points)} of {g.size * g.size} points inside "
                         f"{g.area.describe()} x {len(g.keywords)} keywords = {g.requests} requests")
        total = sum(g.requests for g in self.grids)
        scan = o.planned_requests + o.skipped_requests
        lines.append(f"a scan: {total} requests ({len(self.grids)} towns); {o.already} already "
                     f"measured today, {scan} to make")
        lines.append(f"budget this month: grid {o.grid_budget_left} of {self.approved} approved left; "
                     f"{self.provider} {o.budget_left} of {self.serp_budget} left (shared with rank "
                     "checks)")
        monthly = round(total * WEEKS_A_MONTH)
        verdict = "within" if monthly <= self.approved else "over"
        covers = f"; it covers {self.approved // total} full scan(s) a month" if total and \
            monthly > self.approved else ""
        lines.append(f"weekly scans: about {monthly} requests a month, {verdict} the approved "
                     f"{self.approved} (grid.monthly_budget){covers}")
        if o.skipped:
            lines.append(f"over the budget: {len(o.skipped)} of {len(o.skipped) + len(o.planned)} "
                         f"grids ({o.skipped_requests} requests) would not be scanned")
        return lines

    def lines(self) -> list[str]:
        o = self.outcome
        if self.status == "dry run":
            return [f"grid: would make {o.planned_requests} requests", *self.plan_lines()]
        if self.status == "refused":
            return [f"grid: {self.message}"]
        total = o.measured + o.not_measured
        if not total and not o.requests:
            return [f"grid: ok; nothing to fetch ({o.already} points already measured today); budget "
                    f"left this month: grid {o.grid_budget_left}, {self.provider} {o.budget_left}"]
        head = (f"grid: {self.status}; {o.measured} points measured, "
                f"{o.not_measured}{' of ' + str(total) if o.not_measured else ''} not measured, "
                f"{o.requests} requests; budget left this month: grid {o.grid_budget_left}, "
                f"{self.provider} {o.budget_left}")
        out = [head + (f"; {self.message}" if self.message else "")]
        out += [f"  not measured x{n}: {why}" for why, n in sorted(o.reasons.items())]
        return out


def check(project: Project, towns: list[str] | None = None, keywords: list[str] | None = None, *,
          dry_run: bool = False, today: date | None = None,
          progress: Callable[[str], None] | None = None) -> GridCheckReport:
    """Scan the grids (or, dry run, say what a scan would make and cost); write their heatmaps."""
    site, store = project.site, project.store
    cfg = settings(site)
    serp = site.config.integrations.serp
    if serp is None:
        raise NotConfigured("grid scans use the live SERP provider: set integrations.serp in "
                            "config/site.yaml (dataforseo or serpapi) and its credentials")
    today = today or project.today()  # the clinic's date: the report's days are the clinic's
    grids = build_grids(site, towns, keywords)
    run_id = None if dry_run else store.start_run("grid")

    def started(n: int) -> None:
        if progress:
            progress(f"grid: {n} requests to make")

    def step(done: int, total: int) -> None:
        if progress:
            progress(f"grid: {done}/{total} points")

    try:
        out = check_grid(site, store, grids, day=today, run_id=run_id, dry_run=dry_run,
                         on_start=started, progress=step)
    except (NotConfigured, ExternalError) as exc:
        if run_id is not None:
            store.finish_run(run_id, "failed", error=str(exc))
        raise
    except KeyboardInterrupt:  # what was fetched is stored (run.py); the run says it was cut short
        if run_id is not None:
            store.finish_run(run_id, "failed", error="interrupted")
        raise
    report = GridCheckReport("dry run", serp.provider, grids, out, cfg.monthly_budget,
                             serp.monthly_budget)
    if dry_run:
        return report
    assert run_id is not None
    report.status = ("refused" if out.refused else "failed" if out.error else
                     "incomplete" if out.not_measured else "ok")
    report.message = out.error
    store.finish_run(run_id, "ok" if report.status == "ok" else "failed",
                     {"measured": out.measured, "not_measured": out.not_measured,
                      "requests": out.requests, "grids": len(out.touched)},
                     out.error or (f"{out.not_measured} points not measured" if out.not_measured else ""))
    tiles = tile_source(project)
    report.heatmaps = write_heatmaps(project, [(t, k) for t, k in out.touched], grids, tiles=tiles)
    report.tiles_note = tiles.broken if tiles is not None else ""
    return report


def tile_source(project: Project) -> TileSource | None:
    cfg = project.site.config.grid
    if cfg is None or not cfg.tiles.url:
        return None
    ua = f"seo-grid/{__version__} (+{project.site.config.business.url})"
    return TileSource(cfg.tiles, project.site.path("build/grid/tiles"), ua)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "keyword"


def write_heatmaps(project: Project, which: list[tuple[str, str]], grids: list[Grid] | None = None,
                   out: Path | None = None, tiles: TileSource | bool | None = True) -> list[Path]:
    """The latest heatmap of each (town, keyword) as `<out>/<town>/<keyword>.png`; `tiles`: a
    map background (True: as configured; its `broken` says why there is none)."""
    folder = out or project.site.path(HEATMAPS)
    by_town = {g.town: g for g in grids or []}
    if tiles is True:
        tiles = tile_source(project)
    tiles = tiles or None
    wanted = set(which)
    written = []
    for now, _prev in latest(project.store, towns=sorted({t for t, _ in which}) or None,
                             keywords=sorted({k for _, k in which}) or None):
        if (now.town, now.keyword) not in wanted:
            continue
        hm = heatmap(project.site, now, by_town.get(now.town), tiles)
        path = folder / now.town / f"{slug(now.keyword)}.png"
        if not path.exists() or path.read_bytes() != hm.png:
            atomic_write(path, hm.png)
        written.append(path)
    return written


@dataclass
class GridView:
    now: GridDay
    previous: GridDay | None
    grid: Grid | None  # as configured now (None: no longer configured)
    series: Series | None = None  # the clinic's weekly SoLV up to this scan, with its noise band


def show(project: Project, towns: list[str] | None = None,
         keywords: list[str] | None = None) -> list[GridView]:
    """The latest scan of each grid, with the one before it."""
    try:
        grids = {g.town: g for g in build_grids(project.site)}
    except NotConfigured:
        grids = {}
    for slug_ in towns or ():
        project.site.town(slug_)
    rows = latest(project.store, towns=towns)
    wanted = [k.lower() for k in keywords or []]
    views = [GridView(now, prev, grids.get(now.town)) for now, prev in rows
             if not wanted or any(w in now.keyword for w in wanted)]
    histories: dict[date, History] = {}
    for v in views:
        if v.now.day not in histories:
            histories[v.now.day] = load_history(project.store, v.now.day, businesses=False)
        v.series = histories[v.now.day].grids.get((v.now.town, v.now.keyword, ""))
    return views


POINT_FIELDS = ("day", "source", "town", "keyword", "grid", "row", "col", "lat", "lng", "measured",
                "rank", "reason", "top_1", "top_2", "top_3", "businesses")
SCORE_FIELDS = ("day", "source", "town", "keyword", "grid", "business", "name", "competitor",
                "points", "measured", "found", "top3", "arp", "atrp", "solv")


def cell(value: object) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula gets a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _number(text) else text


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def export_csv(project: Project, out: TextIO, *, scores: bool = False, since: date | None = None,
               until: date | None = None, towns: list[str] | None = None) -> int:
    """Every stored point (or, `scores`, every score row: the clinic's and each business's)."""
    for slug_ in towns or ():
        project.site.town(slug_)
    writer = csv.writer(out, lineterminator="\n")
    if scores:
        writer.writerow(SCORE_FIELDS)
        rows = load_scores(project.store, since=since, until=until, towns=towns)
        for r in sorted(rows, key=lambda r: (r.day, r.source, r.town, r.keyword, r.business)):
            writer.writerow([cell(v) for v in (
                r.day.isoformat(), r.source, r.town, r.keyword, r.grid, r.business or "(us)", r.name,
                "yes" if r.competitor else "no", r.points, r.measured, r.found, r.top3,
                "" if r.arp is None else f"{r.arp:g}", "" if r.atrp is None else f"{r.atrp:g}",
                "" if r.solv is None else f"{r.solv:g}")])
        return len(rows)
    writer.writerow(POINT_FIELDS)
    rows = load_points(project.store, since=since, until=until, towns=towns)
    for r in rows:
        top = [f"{b['name']}{' (us)' if b.get('us') else ''}" for b in json.loads(r.top3)]
        businesses = json.loads(r.businesses)
        writer.writerow([cell(v) for v in (
            r.day.isoformat(), r.source, r.town, r.keyword, r.grid, r.row, r.col, f"{r.lat:.7f}",
            f"{r.lng:.7f}", "yes" if r.measured else "no",
            "" if r.rank is None else r.rank, r.reason, *[*top, "", "", ""][:3],
            json.dumps([{"name": b["name"], "rank": b["rank"]} for b in businesses])
            if businesses else "")])
    return len(rows)
