"""Grids as people read them: a grid-day from the store, where on the map the clinic is in the
top 3, who holds the map pack where it is not, and the heatmap of it."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import sqlalchemy as sa

from ..geo import direction, miles_between
from ..site import Site
from ..store import Store
from ..tables import grid_points, grid_scores
from .config import Grid
from .heatmap import Dot, Heatmap, render
from .scores import US, PointResult
from .store import load_points, point_of

SECTORS = ("north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest")


@dataclass
class ScoreRow:
    business: str
    name: str
    competitor: bool
    points: int
    measured: int
    found: int
    top3: int
    arp: float | None
    atrp: float | None
    solv: float | None

    @staticmethod
    def of(row: Any) -> ScoreRow:
        return ScoreRow(row.business, row.name, row.competitor, row.points, row.measured, row.found,
                        row.top3, row.arp, row.atrp, row.solv)


@dataclass
class GridDay:
    """One grid (town x keyword) as measured on one day."""

    town: str
    keyword: str
    source: str
    day: date
    grid: str
    us: ScoreRow
    competitors: list[ScoreRow] = field(default_factory=list)  # best SoLV first
    points: list[PointResult] = field(default_factory=list)
    top3: dict[tuple[int, int], list[dict[str, Any]]] = field(default_factory=dict)


def days_measured(store: Store, *, since: date | None = None, until: date | None = None,
                  towns: list[str] | None = None,
                  keywords: list[str] | None = None) -> dict[tuple[str, str], list[tuple[date, str]]]:
    """(town, keyword) -> [(day, source)] with stored scores, oldest first."""
    c = grid_scores.c
    q = sa.select(c.town, c.keyword, c.day, c.source).where(c.business == US)
    if since:
        q = q.where(c.day >= since)
    if until:
        q = q.where(c.day <= until)
    if towns is not None:
        q = q.where(c.town.in_(towns))
    if keywords is not None:
        q = q.where(c.keyword.in_(keywords))
    out: dict[tuple[str, str], list[tuple[date, str]]] = {}
    with store.engine.connect() as conn:
        for town, kw, day, src in conn.execute(q.order_by(c.town, c.keyword, c.day, c.source)):
            out.setdefault((town, kw), []).append((day, src))
    return out


def grid_day(store: Store, town: str, keyword: str, day: date, source: str,
             with_points: bool = True) -> GridDay | None:
    c = grid_scores.c
    q = (sa.select(grid_scores).where(c.town == town, c.keyword == keyword, c.day == day,
                                      c.source == source))
    with store.engine.connect() as conn:
        rows = list(conn.execute(q))
    ours = next((r for r in rows if r.business == US), None)
    if ours is None:
        return None
    others = sorted((ScoreRow.of(r) for r in rows if r.business != US),
                    key=lambda s: (-(s.solv or 0), s.atrp or 99, s.name, s.business))
    gd = GridDay(town, keyword, source, day, ours.grid, ScoreRow.of(ours), others)
    if with_points:
        rows_ = load_points(store, since=day, until=day, towns=[town], keywords=[keyword],
                            source=source, grid=ours.grid)
        gd.points = [point_of(r) for r in rows_]
        gd.top3 = {(r.row, r.col): json.loads(r.top3) for r in rows_ if r.measured}
    return gd


def latest(store: Store, *, until: date | None = None, towns: list[str] | None = None,
           keywords: list[str] | None = None) -> list[tuple[GridDay, GridDay | None]]:
    """Each grid's latest day and the one before it (None when it has only one)."""
    out = []
    for (town, kw), days in sorted(days_measured(store, until=until, towns=towns,
                                                 keywords=keywords).items()):
        day, src = days[-1]
        now = grid_day(store, town, kw, day, src)
        before = next((d for d in reversed(days[:-1]) if d[1] == src), None)
        prev = grid_day(store, town, kw, before[0], src) if before else None
        if now is not None:
            out.append((now, prev))
    return out


def us_date(day: date) -> str:
    """'Nov 30, 2026': the date on a map, in US order."""
    return f"{day:%b} {day.day}, {day.year}"


def sector(center: tuple[float, float], lat: float, lng: float, spacing: float) -> str:
    if miles_between(center[0], center[1], lat, lng) < spacing * 0.75:
        return "center"
    return direction(center[0], center[1], lat, lng).replace("-", "")  # US English: "northwest"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def where_text(points: list[PointResult], center: tuple[float, float], spacing: float) -> str:
    """Where on the map the clinic is in the top 3 and where not, in words."""
    measured = [p for p in points if p.measured]
    if not measured:
        return "no point was measured"
    groups: dict[str, list[bool]] = {}
    for p in measured:
        groups.setdefault(sector(center, p.lat, p.lng, spacing), []).append(
            p.rank is not None and p.rank <= 3)
    order = ["center", *SECTORS]
    strong = [s for s in order if s in groups and sum(groups[s]) * 2 >= len(groups[s]) and any(groups[s])]
    none = [s for s in order if s in groups and not any(groups[s])]
    if len(strong) == len(groups):
        return "in the top 3 across the whole grid" if all(all(v) for v in groups.values()) \
            else "in the top 3 at most points in every part of the grid"
    if not strong and len(none) == len(groups):
        return "not in the top 3 anywhere on the grid"
    bits = []
    if strong and len(strong) * 2 > len(groups) and len(strong) + len(none) == len(groups):
        return "in the top 3 except in the " + _join(none)
    if strong:
        bits.append("in the top 3 in the " + _join(strong))
    if none:
        bits.append("not in the top 3 in the " + _join(none))
    if not bits:
        bits.append("in the top 3 at a few scattered points")
    return "; ".join(bits)


def beaten_by(gd: GridDay, limit: int = 3) -> list[tuple[str, int]]:
    """Who holds the map pack (top 3) at the measured points where the clinic is not in it:
    [(name, points)], most points first."""
    where = [(p.row, p.col) for p in gd.points if p.measured and (p.rank is None or p.rank > 3)]
    count: Counter[str] = Counter()
    names: dict[str, str] = {}
    for rc in where:
        for b in gd.top3.get(rc, []):
            if not b.get("us"):
                count[b["key"]] += 1
                names[b["key"]] = b["name"]
    return [(names[k], n) for k, n in sorted(count.items(), key=lambda kv: (-kv[1], names[kv[0]]))][:limit]


def spacing_of(points: list[PointResult]) -> float:
    """The grid's spacing in miles, from its points (for a grid no longer in config)."""
    if len(points) < 2:
        return 0.5
    lat = np.array([p.lat for p in points])
    lng = np.array([p.lng for p in points])
    best = math.inf
    for p in points[:9]:
        d = [miles_between(p.lat, p.lng, a, b) for a, b in zip(lat, lng, strict=True)]
        best = min(best, min(x for x in d if x > 1e-6) if any(x > 1e-6 for x in d) else best)
    return best if math.isfinite(best) else 0.5


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.0f}%"


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def summary_line(s: ScoreRow) -> str:
    """"top 3 at 12 of 29 points (41%) · ARP 3.2 · ATRP 8.4"."""
    if not s.measured:
        return f"not measured ({s.points} points)"
    text = (f"top 3 at {s.top3} of {s.measured} points ({_pct(s.solv)}) · ARP {_num(s.arp)} · "
            f"ATRP {_num(s.atrp)}")
    if s.measured < s.points:
        text += f" · {s.points - s.measured} not measured"
    return text


def heatmap(site: Site, gd: GridDay, grid: Grid | None, tiles: object = None,
            changed: set[tuple[int, int]] | None = None) -> Heatmap:
    """The grid-day's heatmap; the town's area is drawn when the grid is still configured so;
    `changed` points (row, col) are ringed."""
    town = site.town(gd.town) if gd.town in {t.slug for t in site.towns} else None
    same = grid is not None and grid.key == gd.grid
    center = (grid.lat, grid.lng) if same and grid else (
        float(np.mean([p.lat for p in gd.points])), float(np.mean([p.lng for p in gd.points])))
    spacing = grid.spacing_miles if same and grid else spacing_of(gd.points)
    loc = town.location.geo if town else site.config.locations[0].geo
    name = town.name if town else gd.town
    dots = [Dot(p.lat, p.lng, p.measured, p.rank, changed=(p.row, p.col) in (changed or ()))
            for p in gd.points]
    where = where_text(gd.points, center, spacing)
    alt = (f"Map of {name} for \"{gd.keyword}\" on {us_date(gd.day)}: {summary_line(gd.us)}; "
           f"{where}.")
    return render(dots, spacing_miles=spacing, center=center, clinic=(loc.lat, loc.lng),
                  area=grid.area if same and grid else None,
                  title=f"{name} · \"{_short(gd.keyword, 34)}\"",
                  subtitle=f"{us_date(gd.day)} · {summary_line(gd.us)}", alt=alt, background=tiles)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def points_table(gd: GridDay, size: int) -> list[str]:
    """The grid as text: one line per row, ranks in place (".." where no point, "?" not measured,
    "--" not in the top 20)."""
    cells = {(p.row, p.col): p for p in gd.points}
    rows = max([size, *(p.row + 1 for p in gd.points)])
    cols = max([size, *(p.col + 1 for p in gd.points)])
    out = []
    for r in range(rows):
        line = []
        for c in range(cols):
            p = cells.get((r, c))
            line.append("  ." if p is None else "  ?" if not p.measured else
                        " --" if p.rank is None else f"{p.rank:3d}")
        out.append(" ".join(line))
    return out


def stored_grid(store: Store, town: str, keyword: str, day: date) -> str | None:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(grid_points.c.grid).where(
            grid_points.c.town == town, grid_points.c.keyword == keyword,
            grid_points.c.day == day).limit(1)).scalar()
