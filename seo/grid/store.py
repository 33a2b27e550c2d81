"""Reading and writing the grid tables (`seo.tables`: grid_points, grid_scores).

Points are upserted on (day, source, town, keyword, grid, row, col) by the rankings' rule: a re-run
replaces, and a failure never overwrites a measurement of the same day. A grid-day's scores are
recomputed from all of its stored points (a resumed scan adds to an interrupted one) and replaced
as a whole in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..rankings.observations import _upsert
from ..store import Store, now
from ..tables import grid_points, grid_scores
from . import scores as scoring
from .scores import PointResult, Score

POINT_KEY = ("day", "source", "town", "keyword", "grid", "row", "col")


def save_points(store: Store, *, day: date, source: str, town: str, keyword: str, grid: str,
                points: Iterable[PointResult], our_name: str, run_id: int | None) -> int:
    stamp = now()
    rows = [{"day": day, "source": source, "town": town, "keyword": keyword, "grid": grid,
             "row": p.row, "col": p.col, "lat": p.lat, "lng": p.lng, "measured": p.measured,
             "rank": p.rank, "reason": p.reason[:1000],
             "top3": json.dumps(p.top3(our_name), sort_keys=True) if p.measured else "[]",
             "businesses": json.dumps(p.businesses, sort_keys=True) if p.measured else "[]",
             "run_id": run_id, "updated_at": stamp} for p in points]
    return _upsert(store, grid_points, rows, POINT_KEY, keep_measured=True)


def point_of(row: Any) -> PointResult:
    return PointResult(row.row, row.col, row.lat, row.lng, row.measured, row.rank, row.reason,
                       json.loads(row.businesses) if row.measured else [])


def load_points(store: Store, *, since: date | None = None, until: date | None = None,
                towns: Sequence[str] | None = None, keywords: Sequence[str] | None = None,
                source: str | None = None, grid: str | None = None) -> list[Any]:
    """Point rows in a stable order (day, source, town, keyword, grid, row, col)."""
    c = grid_points.c
    q = sa.select(grid_points)
    if since:
        q = q.where(c.day >= since)
    if until:
        q = q.where(c.day <= until)
    if towns is not None:
        q = q.where(c.town.in_(list(towns)))
    if keywords is not None:
        q = q.where(c.keyword.in_(list(keywords)))
    if source:
        q = q.where(c.source == source)
    if grid:
        q = q.where(c.grid == grid)
    q = q.order_by(*(c[k] for k in POINT_KEY))
    with store.engine.connect() as conn:
        return list(conn.execute(q))


def measured_points(store: Store, source: str, day: date) -> set[tuple[str, str, str, int, int]]:
    """(town, keyword, grid, row, col) measured on `day`: a resumed scan skips these."""
    c = grid_points.c
    q = (sa.select(c.town, c.keyword, c.grid, c.row, c.col)
         .where(c.day == day, c.source == source, c.measured.is_(True)))
    with store.engine.connect() as conn:
        return {(t, k, g, int(r), int(col)) for t, k, g, r, col in conn.execute(q)}


def rescore(store: Store, *, day: date, source: str, town: str, keyword: str, grid: str,
            total: int, our_name: str, run_id: int | None) -> list[Score]:
    """Recompute a grid-day's scores from its stored points and replace the old ones."""
    points = [point_of(r) for r in load_points(store, since=day, until=day, towns=[town],
                                               keywords=[keyword], source=source, grid=grid)]
    scores = scoring.grid_scores(points, total, our_name)
    stamp = now()
    c = grid_scores.c
    with store.begin() as conn:
        conn.execute(grid_scores.delete().where(c.day == day, c.source == source, c.town == town,
                                                c.keyword == keyword))
        conn.execute(grid_scores.insert(), [
            {"day": day, "source": source, "town": town, "keyword": keyword, "grid": grid,
             "business": s.business, "name": s.name, "competitor": s.competitor,
             "points": s.points, "measured": s.measured, "found": s.found, "top3": s.top3,
             "arp": s.arp, "atrp": s.atrp, "solv": s.solv, "run_id": run_id, "updated_at": stamp}
            for s in scores])
    return scores


def load_scores(store: Store, *, since: date | None = None, until: date | None = None,
                towns: Sequence[str] | None = None, keywords: Sequence[str] | None = None,
                us_only: bool = False) -> list[Any]:
    """Score rows ordered by (town, keyword, source, business, day)."""
    c = grid_scores.c
    q = sa.select(grid_scores)
    if since:
        q = q.where(c.day >= since)
    if until:
        q = q.where(c.day <= until)
    if towns is not None:
        q = q.where(c.town.in_(list(towns)))
    if keywords is not None:
        q = q.where(c.keyword.in_(list(keywords)))
    if us_only:
        q = q.where(c.business == "")
    q = q.order_by(c.town, c.keyword, c.source, c.business, c.day)
    with store.engine.connect() as conn:
        return list(conn.execute(q))
