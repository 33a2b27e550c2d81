"""Grid geometry on the sphere (numpy): points around a town's center, and the town's area.

A grid is `size` x `size` points `spacing` miles apart, centered on the town's center, row 0 the
northernmost and column 0 the westernmost. Each point is placed by the great-circle destination
formula from the center (its distance and bearing from the center are exact), so a grid keeps its
spacing at any latitude. The town's area is a GeoJSON polygon (holes and several parts allowed) or
a circle; points outside it are dropped before anything is spent on them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..files import inside, read_project_bytes
from ..geo import EARTH_MILES

MAX_BOUNDARY_BYTES = 5 * 1024 * 1024
MAX_VERTICES = 200_000
MAX_PARTS = 1_000
CIRCLE_STEPS = 180


def destination(lat0: float, lng0: float, east: np.ndarray,
                north: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points `east`/`north` miles from (lat0, lng0), along the great circle with that bearing."""
    d = np.hypot(east, north) / EARTH_MILES
    bearing = np.arctan2(east, north)
    p1, l1 = np.radians(lat0), np.radians(lng0)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(bearing))
    l2 = l1 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    lng = (np.degrees(l2) + 540.0) % 360.0 - 180.0
    return np.degrees(p2), lng


def miles_from(lat0: float, lng0: float, lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    """Great-circle (haversine) distances in miles from one point to many."""
    p1, p2 = np.radians(lat0), np.radians(lat)
    dp, dl = p2 - p1, np.radians(lng - lng0)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_MILES * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def offsets(size: int, spacing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, east, north) for every point of a size x size grid, row by row."""
    rows, cols = np.divmod(np.arange(size * size), size)
    half = (size - 1) / 2
    return rows, cols, (cols - half) * spacing, (half - rows) * spacing


def in_rings(lat: np.ndarray, lng: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Even-odd rule over every ring (outer rings and holes alike): inside an odd number of them.
    Rings are arrays of (lng, lat); at town scale the plane of lng/lat is accurate enough."""
    inside = np.zeros(lat.shape, dtype=bool)
    for ring in rings:
        x1, y1 = ring[:-1, 0][:, None], ring[:-1, 1][:, None]
        x2, y2 = ring[1:, 0][:, None], ring[1:, 1][:, None]
        crosses = (y1 > lat) != (y2 > lat)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
        inside ^= np.logical_and(crosses, lng < x_at).sum(axis=0) % 2 == 1
    return inside


@dataclass(frozen=True)
class Area:
    """A town's area: a GeoJSON boundary (rings of (lng, lat)) or a circle around its center."""

    lat: float
    lng: float
    radius_miles: float = 0.0  # a circle when there is no boundary
    source: str = ""  # the boundary file, relative to the project
    rings: tuple[np.ndarray, ...] = field(default=(), compare=False)
    digest: str = ""  # of the boundary's coordinates

    @property
    def is_boundary(self) -> bool:
        return bool(self.rings)

    def describe(self) -> str:
        return self.source if self.is_boundary else f"a {self.radius_miles:g}-mile circle"

    def contains(self, lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
        if self.is_boundary:
            return in_rings(lat, lng, list(self.rings))
        return miles_from(self.lat, self.lng, lat, lng) <= self.radius_miles * (1 + 1e-9)

    def outlines(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(lat, lng) arrays of each ring to draw (a circle as 180 steps)."""
        if self.is_boundary:
            return [(r[:, 1], r[:, 0]) for r in self.rings]
        angle = np.linspace(0, 2 * np.pi, CIRCLE_STEPS + 1)
        lat, lng = destination(self.lat, self.lng, self.radius_miles * np.sin(angle),
                               self.radius_miles * np.cos(angle))
        return [(lat, lng)]


def _ring(raw: Any, where: str, file: str) -> np.ndarray:
    if not isinstance(raw, list) or len(raw) < 4:
        raise UserError("a ring needs at least 4 positions (the first repeated last)", file=file,
                        key=where)
    try:
        arr = np.array([[float(p[0]), float(p[1])] for p in raw], dtype=float)
    except (TypeError, ValueError, IndexError):
        raise UserError("positions must be [longitude, latitude] numbers", file=file, key=where) from None
    if not np.isfinite(arr).all() or (np.abs(arr[:, 0]) > 180).any() or (np.abs(arr[:, 1]) > 90).any():
        raise UserError("a position is outside longitude -180..180 / latitude -90..90 (GeoJSON "
                        "positions are [longitude, latitude]: are they swapped?)", file=file, key=where)
    if not np.array_equal(arr[0], arr[-1]):
        arr = np.vstack([arr, arr[:1]])  # close it (RFC 7946 requires it; be lenient)
    return arr


def _polygons(geom: Any, where: str, file: str) -> list[tuple[str, Any]]:
    """(key path, polygon coordinates) of a geometry, Feature or FeatureCollection."""
    if not isinstance(geom, dict):
        raise UserError("expected a GeoJSON object", file=file, key=where or None)
    kind = geom.get("type")
    pre = f"{where}." if where else ""
    if kind == "FeatureCollection":
        feats = geom.get("features")
        if not isinstance(feats, list) or not feats:
            raise UserError("a FeatureCollection without features", file=file, key=f"{pre}features")
        if len(feats) > MAX_PARTS:
            raise UserError(f"more than {MAX_PARTS} features", file=file, key=f"{pre}features")
        return [p for i, f in enumerate(feats) for p in _polygons(f, f"{pre}features[{i}]", file)]
    if kind == "Feature":
        return _polygons(geom.get("geometry"), f"{pre}geometry", file)
    coords = geom.get("coordinates")
    if kind == "Polygon":
        return [(f"{pre}coordinates", coords)]
    if kind == "MultiPolygon" and isinstance(coords, list):
        if len(coords) > MAX_PARTS:
            raise UserError(f"more than {MAX_PARTS} polygons", file=file, key=f"{pre}coordinates")
        return [(f"{pre}coordinates[{i}]", c) for i, c in enumerate(coords)]
    raise UserError(f"expected a Polygon or MultiPolygon (got {str(kind)[:40]!r})", file=file,
                    key=f"{pre}type")


def load_boundary(root: Path, rel: str, lat: float, lng: float, key: str | None = None) -> Area:
    """A GeoJSON boundary file under the project's config/ folder, checked and parsed."""
    config = root / "config"
    path = root / rel
    if Path(rel).is_absolute() or not inside(path, config):
        raise UserError(f"boundary {rel!r} must be a file under config/ (links out of it are refused)",
                        file="config/site.yaml", key=key)
    if not path.exists():
        raise UserError(f"boundary file {rel!r} not found", file="config/site.yaml", key=key)
    raw = read_project_bytes(path, rel, root=config, limit=MAX_BOUNDARY_BYTES)  # regular, bounded
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"not valid JSON ({str(exc)[:80]})", file=rel) from None
    rings: list[np.ndarray] = []
    for where, poly in _polygons(data, "", rel):
        if not isinstance(poly, list) or not poly:
            raise UserError("a polygon needs at least one ring", file=rel, key=where)
        rings += [_ring(r, f"{where}[{i}]", rel) for i, r in enumerate(poly)]
    if sum(len(r) for r in rings) > MAX_VERTICES:
        raise UserError(f"more than {MAX_VERTICES:,} positions: simplify the boundary", file=rel)
    digest = hashlib.sha256(b"".join(np.round(r, 7).tobytes() for r in rings)).hexdigest()[:16]
    return Area(lat, lng, 0.0, rel, tuple(rings), digest)
