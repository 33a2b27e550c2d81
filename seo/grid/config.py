"""Each town's grid from the `grid:` section of config/site.yaml: shape, area, points, keywords.

Defaults (grid section, then the town's own entry): 7 x 7 points half a mile apart, maps zoom 13,
the town x condition keywords. `radius_miles` instead of `spacing_miles` spreads the points to that
distance from the center. The town's area is its GeoJSON boundary (`boundary:`, or
`config/boundaries/<slug>.geojson` when that file exists), else a circle of `area_radius_miles`
(default: the grid's reach, the center to the middle of an edge), and points outside it are dropped.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace

from ..errors import NotConfigured, UserError
from ..rankings.keywords import TOWN_FIELDS, _fields, build_keywords, normalise
from ..settings import GridSettings, GridShape
from ..site import Site, Town
from .geometry import Area, destination, load_boundary, offsets

DEFAULT_SIZE = 7
DEFAULT_SPACING = 0.5  # miles
DEFAULT_ZOOM = 13
DEPTH = 20  # results fetched per point: one page of Google Maps
NOT_FOUND = DEPTH + 1  # counted in ATRP for a point where the business is not in the top 20
FILE = "config/site.yaml"
SETUP = ("add a `grid:` section to config/site.yaml with the approved monthly_budget "
         "(README, Geo-grid map-pack tracking), and configure integrations.serp")


@dataclass(frozen=True)
class Point:
    row: int
    col: int
    lat: float
    lng: float


@dataclass(frozen=True)
class Grid:
    """One town's grid: where its points are and which keywords are searched at each."""

    town: str  # slug
    name: str
    lat: float  # the town's center
    lng: float
    size: int
    spacing_miles: float
    zoom: int
    area: Area
    points: tuple[Point, ...]  # inside the area, row by row
    keywords: tuple[str, ...]
    key: str  # the geometry's key: points are compared across days only within one key

    @property
    def dropped(self) -> int:
        return self.size * self.size - len(self.points)

    @property
    def requests(self) -> int:
        return len(self.points) * len(self.keywords)


def settings(site: Site) -> GridSettings:
    cfg = site.config.grid
    if cfg is None:
        raise NotConfigured(f"grid: {SETUP}")
    return cfg


def _pick(town_cfg: GridShape | None, default: GridShape, name: str) -> object:
    value = getattr(town_cfg, name) if town_cfg is not None else None
    return getattr(default, name) if value is None else value


def _spread(town_cfg: GridShape | None, default: GridShape, size: int) -> tuple[float, float]:
    """(spacing, reach) in miles: the town's own spacing or radius first, then the defaults."""
    for src in (town_cfg, default):
        if src is not None and src.spacing_miles is not None:
            return src.spacing_miles, src.spacing_miles * (size - 1) / 2
        if src is not None and src.radius_miles is not None:
            return src.radius_miles * 2 / (size - 1), src.radius_miles
    return DEFAULT_SPACING, DEFAULT_SPACING * (size - 1) / 2


def _keywords(site: Site, town: Town, patterns: list[str] | None, key: str) -> tuple[str, ...]:
    if patterns is None:  # the town x condition keywords, as rank checks track them
        found = [k.text for k in build_keywords(site) if k.town == town.slug and k.condition]
        return tuple(dict.fromkeys(found))
    values = {"town": town.name.lower(), "state": town.config.state.lower(),
              "county": town.config.county.lower()}
    out = []
    for i, pattern in enumerate(patterns):
        _fields(pattern, TOWN_FIELDS, f"{key}[{i}]")
        out.append(normalise(pattern.format(**values)))
    return tuple(dict.fromkeys(k for k in out if k))


def build_grid(site: Site, cfg: GridSettings, town: Town) -> Grid:
    own = cfg.towns.get(town.slug)
    where = f"grid.towns.{town.slug}" if own is not None and own.keywords is not None else "grid"
    size = int(_pick(own, cfg, "size") or DEFAULT_SIZE)  # type: ignore[call-overload]
    zoom = int(_pick(own, cfg, "zoom") or DEFAULT_ZOOM)  # type: ignore[call-overload]
    spacing, reach = _spread(own, cfg, size)
    lat, lng = town.config.geo.lat, town.config.geo.lng
    boundary = own.boundary if own is not None else ""
    default_file = f"config/boundaries/{town.slug}.geojson"
    if not boundary and os.path.lexists(site.root / default_file):  # then checked as it is read
        boundary = default_file
    if boundary:
        area = load_boundary(site.root, boundary, lat, lng, f"grid.towns.{town.slug}.boundary"
                             if own is not None and own.boundary else None)
    else:
        radius = _pick(own, cfg, "area_radius_miles")
        area = Area(lat, lng, float(radius) if radius is not None else reach)  # type: ignore[arg-type]
    rows, cols, east, north = offsets(size, spacing)
    plat, plng = destination(lat, lng, east, north)
    keep = area.contains(plat, plng)
    if not keep.any():
        hint = (" (GeoJSON positions are [longitude, latitude]: are they swapped?)"
                if area.is_boundary else "")
        raise UserError(f"no point of {town.name}'s grid falls inside {area.describe()}{hint}",
                        file=FILE, key=f"grid.towns.{town.slug}" if own is not None else "grid")
    points = tuple(Point(int(r), int(c), round(float(a), 7), round(float(b), 7))
                   for r, c, a, b, k in zip(rows, cols, plat, plng, keep, strict=True) if k)
    keywords = _keywords(site, town, _pick(own, cfg, "keywords"), f"{where}.keywords")  # type: ignore[arg-type]
    ident = f"{size}|{spacing:.6f}|{lat:.7f}|{lng:.7f}|{zoom}|" + ",".join(
        f"{p.row}.{p.col}" for p in points)
    key = hashlib.sha256(ident.encode()).hexdigest()[:12]
    return Grid(town.slug, town.name, lat, lng, size, spacing, zoom, area, points, keywords, key)


def build_grids(site: Site, towns: list[str] | None = None,
                keywords: list[str] | None = None) -> list[Grid]:
    """The grids to scan, in town order; `towns` and `keywords` (substrings) narrow them."""
    cfg = settings(site)
    known = {t.slug for t in site.towns}
    for slug in cfg.towns:
        if slug not in known:
            raise UserError(f"unknown town {slug!r} (known: {', '.join(sorted(known))})", file=FILE,
                            key=f"grid.towns.{slug}")
    for slug in towns or ():
        site.town(slug)
        own = cfg.towns.get(slug)
        if own is not None and not own.enabled:
            raise UserError(f"town {slug!r} has no grid (grid.towns.{slug}.enabled is false)",
                            key="--town")
    grids = []
    for town in site.towns:
        own = cfg.towns.get(town.slug)
        if (towns and town.slug not in towns) or (own is not None and not own.enabled):
            continue
        grid = build_grid(site, cfg, town)
        if keywords:
            wanted = [normalise(k) for k in keywords]
            chosen = tuple(k for k in grid.keywords if any(w in k for w in wanted))
            grid = replace(grid, keywords=chosen)
        grids.append(grid)
    if keywords and not any(g.keywords for g in grids):
        raise UserError(f"no grid keyword matches {keywords[0]!r}", key="--keyword")
    return [g for g in grids if g.keywords]
