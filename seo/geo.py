"""Distances and drive estimates computed from coordinates, never typed by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

EARTH_MILES = 3958.8
# Road distance is longer than the straight line: US metro circuity factors are ~1.2-1.4.
CIRCUITY = 1.3
# Average door-to-door speed on suburban Denver arterials and highways, in mph.
AVERAGE_MPH = 32.0
PARKING_MINUTES = 3


def miles_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MILES * math.asin(math.sqrt(a))


def drive_estimate(straight_miles: float) -> tuple[float, int]:
    """(road miles, minutes) estimated from a straight-line distance."""
    road = straight_miles * CIRCUITY
    minutes = round(road / AVERAGE_MPH * 60) + PARKING_MINUTES
    return round(road, 1), max(minutes, 5)


_POINTS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")


def direction(lat1: float, lng1: float, lat2: float, lng2: float) -> str:
    """Compass direction (8 points) of the second point as seen from the first."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lng2 - lng1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    bearing = (math.degrees(math.atan2(x, y)) + 360) % 360
    return _POINTS[int((bearing + 22.5) // 45) % 8]


# -- nearest towns through a grid of cells -----------------------------------------------------------

_PAIR_BUDGET = 1 << 20  # point pairs measured in one numpy block (24 MiB of differences)
TIE_SCALE = 1e8  # chord distances (Earth radius = 1) are compared in units of 1e-8 (6.4 cm)


def unit_vectors(lats: Sequence[float], lngs: Sequence[float]) -> np.ndarray:
    """Points on the unit sphere: the straight-line (chord) distance between two of them grows
    with the great-circle distance, so the nearest by chord are the nearest on the map."""
    lat = np.radians(np.asarray(lats, dtype=np.float64))
    lng = np.radians(np.asarray(lngs, dtype=np.float64))
    return np.column_stack([np.cos(lat) * np.cos(lng), np.cos(lat) * np.sin(lng), np.sin(lat)])


def nearest(lats: Sequence[float], lngs: Sequence[float], keys: Sequence[str],
            k: int) -> list[list[int]]:
    """For each point, the indexes of the `k` closest other points, closest first (distances equal
    to within 6.4 cm ordered by key): the same answer as measuring every pair, in about n log n.

    Points are bucketed into cubic cells on the unit sphere. A point's candidates are the points in
    its own cell and the 26 around it; any point outside them is farther than one cell width, so
    when the k-th candidate is within one width the answer is exact. Points that are not settled
    (a sparse neighbourhood) go up to a grid of cells twice as wide, and so on: the first grid is
    fine enough that a typical cell holds a few points, and each coarser one only sees the points
    left over, so the work stays close to linear in the number of points.
    """
    n = len(keys)
    k = min(k, n - 1)
    if k <= 0:
        return [[] for _ in range(n)]
    pts = unit_vectors(lats, lngs)
    order_key = np.argsort(np.asarray(keys, dtype=object), kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order_key] = np.arange(n)  # ties are broken by key: its rank among the keys
    extent = float(np.linalg.norm(pts.max(axis=0) - pts.min(axis=0)))
    width = max(extent * math.sqrt((k + 1) / n) / 2, 1e-9)
    answer: list[list[int]] = [[] for _ in range(n)]
    todo = np.arange(n)
    while todo.size:
        if width >= 2.0:  # one cell holds the whole sphere: every point is a candidate
            _settle(pts, rank, todo, np.arange(n), k, 4.0, answer)  # chords are at most 2
            break
        todo = _grid_pass(pts, rank, todo, k, width, answer)
        width *= 2
    return answer


def _grid_pass(pts: np.ndarray, rank: np.ndarray, todo: np.ndarray, k: int, width: float,
               answer: list[list[int]]) -> np.ndarray:
    """Settle what one grid of cells `width` wide can settle; returns the points left over."""
    cells = np.floor(pts / width).astype(np.int64)
    members: dict[tuple[int, int, int], list[int]] = {}
    for i, cell in enumerate(map(tuple, cells.tolist())):
        members.setdefault(cell, []).append(i)
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i in todo.tolist():
        groups.setdefault(tuple(cells[i].tolist()), []).append(i)
    left: list[np.ndarray] = []
    for (x, y, z), queries in groups.items():
        near = [i for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1)
                for i in members.get((x + dx, y + dy, z + dz), ())]
        left.append(_settle(pts, rank, np.asarray(queries), np.asarray(near), k, width, answer))
    return np.concatenate(left) if left else np.empty(0, dtype=np.int64)


def _settle(pts: np.ndarray, rank: np.ndarray, queries: np.ndarray, candidates: np.ndarray, k: int,
            within: float, answer: list[list[int]]) -> np.ndarray:
    """Answer the queries whose k nearest candidates are all within `within`; return the rest."""
    left = []
    step = max(1, _PAIR_BUDGET // max(len(candidates), 1))
    cand_rank = np.broadcast_to(rank[candidates], (min(step, len(queries)), len(candidates)))
    for start in range(0, len(queries), step):
        q = queries[start:start + step]
        dist = np.linalg.norm(pts[q][:, None, :] - pts[candidates][None, :, :], axis=2)
        dist[q[:, None] == candidates[None, :]] = np.inf  # a point is not its own neighbour
        # ordered by distance to the nearest ~6 cm (so that two towns the same distance away tie
        # however the last bit of the arithmetic falls), then by key; exact while the k-th is
        # within one cell width
        best = np.lexsort((cand_rank[: len(q)], np.rint(dist * TIE_SCALE)), axis=1)[:, :k]
        kth = np.take_along_axis(dist, best[:, -1:], axis=1)[:, 0]
        settled = kth <= within * (1 - 1e-12)
        for i, row in zip(q[settled].tolist(), candidates[best[settled]].tolist(), strict=True):
            answer[i] = row
        left.append(q[~settled])
    return np.concatenate(left) if left else np.empty(0, dtype=np.int64)
