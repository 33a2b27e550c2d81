"""The weekly report's map-pack section: per town, where on the map the clinic is in the top 3 and
where not (a map of the town's grid: at each point, for how many of its keywords), who holds the map
pack there, its SoLV trend and change against the noise band; the maps that changed most (now and
the scan before); the competitor who gained most. Data and its pictures: `seo.report` only lays
them out (templates/report/grid.*.jinja)."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..errors import NotConfigured, UserError
from ..report.charts import DPI, STYLE, Chart
from .config import Grid, build_grids
from .heatmap import Dot, render
from .history import History, Series, load
from .scores import PointResult
from .views import GridDay, grid_day, heatmap, us_date, where_text

if TYPE_CHECKING:
    from ..api import Project

TREND_WEEKS = 8
MAX_CHANGES = 3
SETUP = ("add a `grid:` section to config/site.yaml with the approved monthly_budget "
         "(README, Geo-grid map-pack tracking)")


@dataclass
class TownMap:
    slug: str
    name: str
    day: date
    keywords: int  # grids scanned in the week
    measured: int  # point x keyword measured
    top3: int  # of them, with the clinic in the map pack
    not_measured: int
    series: Series
    where: str
    beaten_by: list[tuple[str, int]]  # (business, point x keyword), most first
    map: Chart
    trend: Chart | None


@dataclass
class MapChange:
    town: str
    keyword: str
    series: Series
    gained: int  # points now in the top 3 that were not
    lost: int
    now: Chart
    before: Chart | None
    now_day: date
    before_day: date | None


@dataclass
class Gainer:
    name: str
    town: str
    series: Series
    beyond_noise: bool


@dataclass
class GridFacts:
    configured: bool
    setup: str = SETUP
    towns: list[TownMap] = field(default_factory=list)
    changes: list[MapChange] = field(default_factory=list)
    steady: int = 0  # grids that moved within their noise band
    gainer: Gainer | None = None
    spent: int = 0  # grid requests this month
    approved: int = 0
    not_measured: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)
    last_scan: date | None = None  # when nothing was scanned this week
    attribution: str = ""
    note: str = ""  # e.g. map tiles unavailable

    @property
    def charts(self) -> list[Chart]:
        out = [c for t in self.towns for c in (t.map, t.trend) if c is not None]
        return out + [c for m in self.changes for c in (m.now, m.before) if c is not None]


def _chart(name: str, hm: Any) -> Chart:
    return Chart(name, hm.png, hm.alt, hm.width, hm.height)


def solv_trend(name: str, values: list[float | None], label: str) -> Chart:
    """SoLV over the weeks (0-100 %, higher is better), gaps where nothing was measured."""
    width, height = 120, 32
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(width / 72, height / 72), dpi=DPI)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.03, 0.1, 0.94, 0.8))
        xs = [i for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        ax.axhline(0, color="#d5dcda", linewidth=0.6)
        if ys:
            ax.plot(xs, ys, color="#0c2c84", linewidth=1.4)
            ax.plot(xs[-1:], ys[-1:], "o", color="#0c2c84", markersize=2.5)
        ax.set_ylim(-4, 104)
        ax.set_xlim(-0.3, max(len(values) - 1, 1) + 0.3)
        ax.axis("off")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    shown = ", ".join("-" if v is None else f"{v:.0f}%" for v in values)
    return Chart(name, buf.getvalue(), f"{label}: share of map points in the top 3 over {len(values)} "
                 f"weeks, oldest first: {shown}", width, height)


def _latest_days(project: Project, start: date, end: date) -> dict[tuple[str, str], tuple[date, str]]:
    from .views import days_measured
    out = {}
    for key, days in days_measured(project.store, since=start, until=end).items():
        out[key] = days[-1]
    return out


def grid_facts(project: Project, start: date, end: date) -> GridFacts:
    """The section's facts for the week start..end (dates, the clinic's time zone)."""
    from .api import tile_source
    from .run import grid_spent
    site, store = project.site, project.store
    cfg = site.config.grid
    facts = GridFacts(cfg is not None)
    try:
        grids = {g.town: g for g in build_grids(site)} if cfg is not None else {}
    except (NotConfigured, UserError) as exc:
        grids = {}
        facts.note = str(exc)
    serp = site.config.integrations.serp
    if cfg is not None and serp is not None:
        facts.approved = cfg.monthly_budget
        facts.spent = grid_spent(store, serp.provider, end.strftime("%Y-%m"))
    latest = _latest_days(project, start, end)
    if not latest:
        before = _latest_days(project, end - timedelta(days=366), start - timedelta(days=1))
        facts.configured = facts.configured or bool(before)
        facts.last_scan = max((d for d, _ in before.values()), default=None)
        return facts
    facts.configured = True
    hist = load(store, end)
    tiles = tile_source(project)
    days: dict[tuple[str, str], GridDay] = {}
    reasons: Counter[str] = Counter()
    for (town, kw), (day, src) in sorted(latest.items()):
        gd = grid_day(store, town, kw, day, src)
        if gd is not None:
            days[(town, kw)] = gd
            for p in gd.points:
                if not p.measured:
                    reasons[p.reason] += 1
    facts.not_measured = sum(reasons.values())
    facts.reasons = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    towns = {t.slug: t for t in site.towns}
    for i, slug in enumerate(sorted({t for t, _ in days}, key=lambda s: towns[s].name if s in towns else s)):
        facts.towns.append(_town(project, hist, slug, [d for (t, _), d in days.items() if t == slug],
                                 grids.get(slug), tiles, i))
    facts.changes, facts.steady = _changes(project, hist, days, grids, tiles)
    facts.gainer = _gainer(hist, towns)
    if tiles is not None and tiles.broken:
        facts.note = facts.note or tiles.broken
    elif tiles is not None:
        facts.attribution = tiles.attribution
    return facts


def _town(project: Project, hist: History, slug: str, gds: list[GridDay], grid: Grid | None,
          tiles: object, i: int) -> TownMap:
    site = project.site
    town = site.town(slug) if slug in {t.slug for t in site.towns} else None
    name = town.name if town else slug
    keys = Counter(gd.grid for gd in gds)
    key = grid.key if grid is not None and grid.key in keys else keys.most_common(1)[0][0]
    same = [gd for gd in gds if gd.grid == key]
    cells: dict[tuple[int, int], list[bool]] = {}
    coords: dict[tuple[int, int], tuple[float, float]] = {}
    beaten: Counter[str] = Counter()
    for gd in same:
        for p in gd.points:
            coords[(p.row, p.col)] = (p.lat, p.lng)
            if not p.measured:
                continue
            top = p.rank is not None and p.rank <= 3
            cells.setdefault((p.row, p.col), []).append(top)
            if not top:
                for b in gd.top3.get((p.row, p.col), []):
                    if not b.get("us"):
                        beaten[b["name"]] += 1
    n = len(same)
    dots = [Dot(lat, lng, rc in cells, label=str(sum(cells.get(rc, []))),
                share=(sum(cells[rc]) / len(cells[rc])) if rc in cells else None)
            for rc, (lat, lng) in sorted(coords.items())]
    center = (grid.lat, grid.lng) if grid is not None and grid.key == key else (
        sum(a for a, _ in coords.values()) / len(coords), sum(b for _, b in coords.values()) / len(coords))
    spacing = grid.spacing_miles if grid is not None and grid.key == key else 0.5
    halfway = [PointResult(r, c, *coords[(r, c)], True, 1 if sum(v) * 2 >= len(v) else None)
               for (r, c), v in cells.items()]
    where = where_text(halfway, center, spacing)
    series = hist.towns.get((slug, "", "")) or Series((slug, "", ""), name, [None])
    measured = sum(len(v) for v in cells.values())
    top3 = sum(sum(v) for v in cells.values())
    day = max(gd.day for gd in same)
    loc = town.location.geo if town else site.config.locations[0].geo
    alt = (f"Map of {name}, {us_date(day)}: at each grid point, for how many of {n} keywords the "
           f"clinic is in the map pack (top 3). In the top 3 at {top3} of {measured} points x "
           f"keywords; {where} (for at least half the keywords).")
    hm = render(dots, spacing_miles=spacing, center=center, clinic=(loc.lat, loc.lng),
                area=grid.area if grid is not None and grid.key == key else None,
                title=f"{name}: map pack for {n} keyword{'s' * (n != 1)}",
                subtitle=f"{us_date(day)} · the number: for how many of the {n} in the top 3",
                alt=alt, share_of=n, background=tiles)
    trend_values = series.weeks[-TREND_WEEKS:]
    trend = solv_trend(f"grid-trend-{i + 1:02d}.png", trend_values, name) \
        if any(v is not None for v in trend_values) else None
    not_measured = sum(1 for gd in same for p in gd.points if not p.measured)
    return TownMap(slug, name, day, n, measured, top3, not_measured, series, where,
                   sorted(beaten.items(), key=lambda kv: (-kv[1], kv[0]))[:3],
                   _chart(f"grid-town-{i + 1:02d}.png", hm), trend)


def _changes(project: Project, hist: History, days: dict[tuple[str, str], GridDay],
             grids: dict[str, Grid], tiles: object) -> tuple[list[MapChange], int]:
    moved = []
    steady = 0
    for (town, kw), gd in days.items():
        series = hist.grids.get((town, kw, ""))
        if series is None or series.change is None:
            continue
        if series.moved:
            moved.append((series, gd))
        else:
            steady += 1
    moved.sort(key=lambda sg: (-abs(sg[0].change or 0), sg[1].town, sg[1].keyword))
    out = []
    for i, (series, gd) in enumerate(moved[:MAX_CHANGES]):
        prev = _scan_before(project, gd)
        grid = grids.get(gd.town)
        gained = lost = 0
        flipped: set[tuple[int, int]] = set()
        if prev is not None and prev.grid == gd.grid:
            before = {(p.row, p.col): p for p in prev.points if p.measured}
            for p in gd.points:
                b = before.get((p.row, p.col))
                if p.measured and b is not None and _top(p) != _top(b):
                    gained += _top(p)
                    lost += _top(b)
                    flipped.add((p.row, p.col))
        now_chart = _chart(f"grid-change-{i + 1:02d}-now.png",
                           heatmap(project.site, gd, grid, tiles, flipped))
        before_chart = _chart(f"grid-change-{i + 1:02d}-before.png",
                              heatmap(project.site, prev, grid, tiles)) if prev is not None else None
        town = project.site.town(gd.town).name if gd.town in grids else gd.town
        out.append(MapChange(town, gd.keyword, series, gained, lost, now_chart, before_chart, gd.day,
                             prev.day if prev else None))
    return out, steady


def _top(p: PointResult) -> bool:
    return p.rank is not None and p.rank <= 3


def _scan_before(project: Project, gd: GridDay) -> GridDay | None:
    """The grid's latest scan at least a week before `gd` (else the one just before it)."""
    from .views import days_measured
    days = [d for d, s in days_measured(project.store, until=gd.day - timedelta(days=1),
                                        towns=[gd.town], keywords=[gd.keyword]).get(
        (gd.town, gd.keyword), []) if s == gd.source]
    if not days:
        return None
    week_ago = [d for d in days if d <= gd.day - timedelta(days=7)]
    day = week_ago[-1] if week_ago else days[-1]
    return grid_day(project.store, gd.town, gd.keyword, day, gd.source)


def _gainer(hist: History, towns: dict[str, Any]) -> Gainer | None:
    best = None
    for (town, _kw, biz), series in hist.towns.items():
        if biz == "" or series.change is None or series.change <= 0:
            continue
        rank = (series.moved, series.change)
        if best is None or rank > best[0]:
            best = (rank, town, series)
    if best is None:
        return None
    _, town, series = best
    name = towns[town].name if town in towns else town
    return Gainer(series.name, name, series, series.moved)


def grid_actions(g: GridFacts | None) -> list[str]:
    """Next actions from the map-pack section: a town whose map pack fell beyond its noise band,
    and many points not measured."""
    if g is None or not g.towns:
        return []
    acts = []
    for t in g.towns:
        s = t.series
        if s.status == "down" and s.previous is not None and s.current is not None:
            who = f"; {t.beaten_by[0][0]} holds it most where the clinic is not" if t.beaten_by else ""
            acts.append(f"Look at {t.name}'s map pack: the clinic's share fell from {s.previous:.0f}% "
                        f"to {s.current:.0f}% of the grid ({t.where}){who}.")
    total = sum(t.measured + t.not_measured for t in g.towns)
    if g.not_measured and g.not_measured * 5 >= total:
        acts.append(f"{g.not_measured} of {total} grid points were not measured (mostly: "
                    f"{g.reasons[0][0]}): check the SERP provider and grid.monthly_budget.")
    return acts[:2]
