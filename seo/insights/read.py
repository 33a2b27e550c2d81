"""Read stored Performance data: totals over a range of days that keep unknown days apart from
zeros, weekly series for charts, the daily table for export, and the month's top keywords."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from ..store import Store
from ..tables import gbp_keyword_months, gbp_keywords, gbp_metrics
from .metrics import IMPRESSIONS, VIEWS, Total, days


def totals(store: Store, start: date, end: date, metrics: list[str],
           locations: list[str] | None = None) -> dict[str, Total]:
    """metric (or VIEWS, the four impression metrics) -> Total over [start, end], all locations
    given (default: every location with data). A day counts as unknown for a metric when any
    location has no value for it."""
    t = gbp_metrics.c
    raw = [m for m in metrics if m != VIEWS] + (list(IMPRESSIONS) if VIEWS in metrics else [])
    q = (sa.select(t.location, t.metric, t.day, t.value)
         .where(t.day >= start, t.day <= end, t.metric.in_(sorted(set(raw)))))
    if locations is not None:
        q = q.where(t.location.in_(locations))
    values: dict[tuple[str, str, date], int | None] = {}
    locs: set[str] = set(locations or [])
    with store.engine.connect() as conn:
        for loc, metric, day, value in conn.execute(q):
            values[(loc, metric, day)] = value
            locs.add(loc)
    span = days(start, end)
    out: dict[str, Total] = {}
    for metric in metrics:
        parts = list(IMPRESSIONS) if metric == VIEWS else [metric]
        value, unknown = 0, 0
        for day in span:
            cells = [values.get((loc, p, day)) for loc in sorted(locs) for p in parts]
            if not cells or any(c is None for c in cells):
                unknown += 1
            value += sum(c for c in cells if c is not None)
        out[metric] = Total(value, len(span), unknown)
    return out


def weekly(store: Store, last_monday: date, weeks: int, metrics: list[str],
           locations: list[str] | None = None) -> list[tuple[date, dict[str, Total]]]:
    """`weeks` ISO weeks ending with the one starting `last_monday`, oldest first."""
    out = []
    for i in range(weeks - 1, -1, -1):
        monday = last_monday - timedelta(weeks=i)
        out.append((monday, totals(store, monday, monday + timedelta(days=6), metrics, locations)))
    return out


def has_data(store: Store) -> bool:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(gbp_metrics.c.day).limit(1)).first() is not None


@dataclass(frozen=True)
class DayRow:
    day: date
    location: str
    metric: str
    value: int | None
    settled: bool


def daily_rows(store: Store, start: date, end: date,
               locations: list[str] | None = None) -> list[DayRow]:
    t = gbp_metrics.c
    q = sa.select(t.day, t.location, t.metric, t.value, t.settled).where(
        t.day >= start, t.day <= end).order_by(t.day, t.location, t.metric)
    if locations is not None:
        q = q.where(t.location.in_(locations))
    with store.engine.connect() as conn:
        return [DayRow(*r) for r in conn.execute(q)]


@dataclass(frozen=True)
class KeywordCount:
    """A count (`value`), or Google's "fewer than `threshold`", or, summed over locations, both:
    `value` counted plus fewer than `threshold` more."""

    keyword: str
    value: int | None
    threshold: int | None

    def text(self) -> str:
        if self.threshold is None:
            return f"{self.value or 0:,}"
        if not self.value:
            return f"under {self.threshold:,}"
        return f"{self.value:,} to {self.value + self.threshold - 1:,}"

    @property
    def sort_value(self) -> float:
        # fewer than N ranks just below a count of N (and below N plus a count)
        return float(self.value or 0) + ((self.threshold - 0.5) if self.threshold else 0.0)


def latest_keyword_month(store: Store, before: date | None = None) -> str | None:
    """The newest month fetched (ending before `before`, when given)."""
    t = gbp_keyword_months.c
    q = sa.select(sa.func.max(t.month))
    if before is not None:
        q = q.where(t.month < f"{before.year:04d}-{before.month:02d}")
    with store.engine.connect() as conn:
        return conn.execute(q).scalar()


def keywords(store: Store, month: str, locations: list[str] | None = None,
             limit: int | None = None) -> list[KeywordCount]:
    """The month's keywords, summed over locations (a threshold stays a threshold unless a count
    makes the sum certain), most first."""
    t = gbp_keywords.c
    q = sa.select(t.keyword, t.value, t.threshold).where(t.month == month)
    if locations is not None:
        q = q.where(t.location.in_(locations))
    parts: dict[str, list[tuple[int | None, int | None]]] = defaultdict(list)
    with store.engine.connect() as conn:
        for kw, value, threshold in conn.execute(q):
            parts[kw].append((value, threshold))
    out = []
    for kw, items in parts.items():
        counted = sum(v for v, _ in items if v is not None)
        below = [th for v, th in items if v is None and th is not None]
        # each thresholded part is at most threshold - 1: the sum of k parts is under
        # sum(thresholds) - (k - 1)
        threshold = sum(below) - (len(below) - 1) if below else None
        out.append(KeywordCount(kw, counted if (counted or not below) else None, threshold))
    out.sort(key=lambda k: (-k.sort_value, k.keyword))
    return out[:limit] if limit else out
