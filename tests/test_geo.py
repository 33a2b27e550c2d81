"""The nearby-towns index gives exactly what measuring every pair gives, at any density."""

from __future__ import annotations

import math
import random

import pytest

from seo.geo import TIE_SCALE, nearest


def _chord(a: tuple[float, float], b: tuple[float, float]) -> int:
    def vec(p: tuple[float, float]) -> tuple[float, float, float]:
        lat, lng = map(math.radians, p)
        return math.cos(lat) * math.cos(lng), math.cos(lat) * math.sin(lng), math.sin(lat)
    return round(math.dist(vec(a), vec(b)) * TIE_SCALE)


def _brute(points: list[tuple[float, float]], keys: list[str], k: int) -> list[list[int]]:
    return [[j for _, _, j in sorted((_chord(p, q), keys[j], j) for j, q in enumerate(points)
                                     if j != i)[:k]] for i, p in enumerate(points)]


def _check(points: list[tuple[float, float]], keys: list[str], k: int) -> None:
    got = nearest([p[0] for p in points], [p[1] for p in points], keys, k)
    assert got == _brute(points, keys, k)


@pytest.mark.parametrize("n,k", [(0, 3), (1, 3), (2, 3), (4, 3), (60, 3), (300, 10), (250, 1)])
def test_same_as_every_pair(n: int, k: int) -> None:
    rng = random.Random(n * 31 + k)
    points = [(39 + rng.random() * 2, -106 + rng.random() * 2) for _ in range(n)]
    _check(points, [f"town-{rng.random():.6f}" for _ in range(n)], k)


def test_ties_and_duplicates_ordered_by_key() -> None:
    """Coordinates typed to one decimal: many towns exactly as far as each other (and some on the
    same spot) are ordered by slug, not by the last bit of the arithmetic."""
    rng = random.Random(5)
    points = [(round(39 + rng.random() * 2, 1), round(-106 + rng.random() * 2, 1)) for _ in range(400)]
    _check(points, [f"t{i:04d}" for i in range(400)], 3)


def test_clusters_far_apart_and_the_whole_globe() -> None:
    """A dense cluster, a far-off handful (sparse cells go up to coarser grids), the antimeridian,
    the poles and the other side of the earth."""
    rng = random.Random(9)
    points = [(39.7 + rng.random() * 0.05, -105 + rng.random() * 0.05) for _ in range(200)]
    points += [(64.8 + rng.random(), -147.7) for _ in range(5)]
    points += [(-33.9, 151.2), (-33.8, -179.99), (-33.8, 179.99), (89.99, 0.0), (-89.99, 10.0)]
    _check(points, [f"t{i:04d}" for i in range(len(points))], 4)
