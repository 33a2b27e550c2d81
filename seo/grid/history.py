"""Grid scores over the weeks, judged against a learned noise band as for other ranks.

Series: one grid (town x keyword) or a whole town (the mean over its keywords), for the clinic or
for one business. A week's value is the mean SoLV of the scans in it (weekly scans: that scan);
a scan that measured fewer than half its points is left out (too little to go on). The noise band
is twice the typical (median absolute) change between consecutive weeks over the 12 weeks before,
at least 4 points of SoLV; with fewer than 4 changes to learn from, 10 points. A series moved when
its change on the week before is outside the band and, once there is a 4-week median, its change
on that median is outside the band in the same direction (a one-week blip is not a move).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise

import sqlalchemy as sa

from ..store import Store
from ..tables import grid_scores

HISTORY_WEEKS = 12
DEFAULT_BAND = 10.0  # SoLV percentage points
MIN_BAND = 4.0

Key = tuple[str, str, str]  # (town, keyword or "" for the town, business or "" for the clinic)


def noise_band(history: list[float]) -> float:
    changes = [abs(b - a) for a, b in pairwise(history)]
    if len(changes) < 4:
        return DEFAULT_BAND
    return max(MIN_BAND, round(2 * 1.4826 * statistics.median(changes), 2))


@dataclass
class Series:
    key: Key
    name: str
    weeks: list[float | None]  # SoLV in percent, oldest first; the last is this week
    atrp: float | None = None  # this week's (the clinic's grids)

    @property
    def current(self) -> float | None:
        return self.weeks[-1]

    @property
    def previous(self) -> float | None:
        return self.weeks[-2] if len(self.weeks) > 1 else None

    @property
    def change(self) -> float | None:
        if self.current is None or self.previous is None:
            return None
        return round(self.current - self.previous, 2)

    @property
    def band(self) -> float:
        return noise_band([v for v in self.weeks[:-1] if v is not None])

    @property
    def status(self) -> str:
        """up, down, steady, new (nothing the week before) or not measured."""
        if self.current is None:
            return "not measured"
        if self.previous is None:
            return "new"
        change = self.current - self.previous
        before = [v for v in self.weeks[-5:-1] if v is not None]
        median4 = statistics.median(before) if len(before) >= 2 else None
        vs_median = None if median4 is None else self.current - median4
        if abs(change) > self.band and (vs_median is None or (
                vs_median * change > 0 and abs(vs_median) > self.band)):
            return "up" if change > 0 else "down"
        return "steady"

    @property
    def moved(self) -> bool:
        return self.status in ("up", "down")

    @property
    def now_text(self) -> str:
        return "not measured" if self.current is None else f"{self.current:.0f}%"

    @property
    def change_text(self) -> str:
        """"+12 percentage points on the week before (beyond its usual ±5)", "first week", ..."""
        status = self.status
        if status == "not measured":
            return "not measured this week"
        if status == "new":
            return "first week measured"
        change = self.change or 0.0
        how = "beyond" if status in ("up", "down") else "within"
        return (f"{change:+.0f} percentage points on the week before ({how} its usual ±{self.band:.0f})"
                if abs(change) >= 0.5 else f"unchanged on the week before (usual ±{self.band:.0f})")


@dataclass
class History:
    end: date  # the last day of this week's window
    grids: dict[Key, Series] = field(default_factory=dict)  # (town, keyword, business)
    towns: dict[Key, Series] = field(default_factory=dict)  # (town, "", business)


def load(store: Store, end: date, weeks: int = HISTORY_WEEKS + 1, towns: list[str] | None = None,
         businesses: bool = True) -> History:
    """SoLV per week for every grid and town, the clinic's and (with `businesses`) every other
    business's, over `weeks` seven-day windows ending on `end`."""
    first = end - timedelta(days=7 * weeks - 1)
    c = grid_scores.c
    q = (sa.select(c.town, c.keyword, c.business, c.name, c.day, c.solv, c.atrp, c.measured, c.points)
         .where(c.day >= first, c.day <= end))
    if towns is not None:
        q = q.where(c.town.in_(towns))
    if not businesses:
        q = q.where(c.business == "")
    values: dict[Key, list[list[float]]] = defaultdict(lambda: [[] for _ in range(weeks)])
    atrp: dict[Key, list[float]] = defaultdict(list)
    names: dict[Key, str] = {}
    with store.engine.connect() as conn:
        for town, kw, biz, name, day, solv, at, measured, points in conn.execute(q):
            if solv is None or measured * 2 < points:
                continue  # too little measured to go on
            week = weeks - 1 - (end - day).days // 7
            key = (town, kw, biz)
            values[key][week].append(solv * 100)
            names.setdefault(key, name)
            if week == weeks - 1 and at is not None:
                atrp[key].append(at)
    hist = History(end)
    for key, per_week in values.items():
        hist.grids[key] = Series(key, names[key], [_mean(v) for v in per_week],
                                 _mean(atrp[key]) if atrp.get(key) else None)
    # a town: per week, the mean over its keywords measured that week (absent: 0 for a business
    # seen on the town's grids at all, since it then held no point in the top 3)
    town_keys: dict[tuple[str, str], set[str]] = defaultdict(set)
    for town, kw, biz in hist.grids:
        town_keys[(town, biz)].add(kw)
    clinic_weeks: dict[str, list[set[str]]] = defaultdict(lambda: [set() for _ in range(weeks)])
    for (town, kw, biz), s in hist.grids.items():
        if biz == "":
            for i, v in enumerate(s.weeks):
                if v is not None:
                    clinic_weeks[town][i].add(kw)
    for (town, biz), kws in town_keys.items():
        per_week: list[float | None] = []
        for i in range(weeks):
            measured = clinic_weeks[town][i]
            if not measured:
                per_week.append(None)
                continue
            vals = [hist.grids[(town, kw, biz)].weeks[i] if (town, kw, biz) in hist.grids else None
                    for kw in sorted(measured)]
            per_week.append(round(sum(v or 0.0 for v in vals) / len(measured), 2))
        name = next(hist.grids[(town, kw, biz)].name for kw in sorted(kws))
        ats = [hist.grids[(town, kw, biz)].atrp for kw in sorted(kws)
               if hist.grids[(town, kw, biz)].atrp is not None]
        hist.towns[(town, "", biz)] = Series((town, "", biz), name, per_week, _mean(ats))  # type: ignore[arg-type]
    return hist


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None
