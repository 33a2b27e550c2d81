"""Rating and review velocity per month, from the stored reviews (deleted ones left out, as Google
leaves them out of its average)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from ..store import Store
from ..tables import gbp_reviews


@dataclass(frozen=True)
class MonthStats:
    month: str  # "2026-10"
    new: int  # reviews written that month (velocity)
    average_new: float | None  # average rating of those
    average_all: float | None  # average of every review written up to the month's end
    total: int  # reviews written up to the month's end
    answered: int  # of the month's reviews, how many have a reply now


def month_list(until: date, months: int) -> list[str]:
    out = []
    y, m = until.year, until.month
    for _ in range(months):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return sorted(out)


def monthly(store: Store, until: date, months: int = 12,
            locations: list[str] | None = None) -> list[MonthStats]:
    t = gbp_reviews.c
    q = sa.select(t.created, t.stars, t.reply).where(t.deleted_on.is_(None))
    if locations is not None:
        q = q.where(t.location.in_(locations))
    with store.engine.connect() as conn:
        rows: list[tuple[datetime, int | None, str | None]] = list(conn.execute(q))  # type: ignore[arg-type]
    by_month: dict[str, list[tuple[int | None, bool]]] = defaultdict(list)
    for created, stars, reply in rows:
        by_month[f"{created.year:04d}-{created.month:02d}"].append((stars, reply is not None))
    shown = month_list(until, months)
    out = []
    for month in shown:
        this = by_month.get(month, [])
        rated = [s for s, _ in this if s]
        upto = [s for m, items in by_month.items() if m <= month for s, _ in items]
        upto_rated = [s for s in upto if s]
        out.append(MonthStats(
            month, len(this), round(sum(rated) / len(rated), 2) if rated else None,
            round(sum(upto_rated) / len(upto_rated), 2) if upto_rated else None, len(upto),
            sum(1 for _, answered in this if answered)))
    return out
