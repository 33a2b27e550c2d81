"""Movements: this week against last week and against the 4-week median, outside a learned noise band.

Per series (source, kind, keyword, town, device):
- the week's value is the median of its measured positions (one check a week gives that check);
- the noise band is twice the typical (median absolute) change between consecutive measurements in
  the 12 weeks before, at least one position; with fewer than 4 changes to learn from, 3 positions;
- a series moved when its change against last week is outside the band and, once there is a 4-week
  median, its change against that median is outside the band in the same direction (so a one-week
  blip that recovers is not called a move);
- dropping out of (or entering) the positions fetched is a move; "not measured" is never a move;
- new top-3 / top-10: in it this week, measured and not in it last week.
Page changes (page_events) on the keyword's target page and listing changes from the week before
through this week are attached to the rows that moved.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from typing import Any

import sqlalchemy as sa

from ..errors import UserError
from ..store import Store, page_events
from ..tables import listing_changes, listing_drift
from .keywords import Keyword
from .observations import observations

HISTORY_WEEKS = 12
DEFAULT_BAND = 3.0
MIN_BAND = 1.0


def week_bounds(week: date | str | None, today: date | None = None) -> tuple[date, date]:
    """Monday..Sunday of an ISO week given as a day in it or "2026-W47"; default: yesterday's week."""
    if week is None:
        week = (today or date.today()) - timedelta(days=1)
    if isinstance(week, str):
        try:
            if "W" in week.upper():
                year, num = week.upper().split("-W")
                week = date.fromisocalendar(int(year), int(num), 1)
            else:
                week = date.fromisoformat(week)
        except ValueError:
            raise UserError(f"{week!r} is not a week (2026-W47) or a date (2026-11-18)",
                            key="--week") from None
    start = week - timedelta(days=week.weekday())
    return start, start + timedelta(days=6)


@dataclass
class Event:
    day: date
    what: str  # "page changed: /aurora/sciatica/" or "listing: hours updated"

    def line(self) -> str:
        return f"{self.day.isoformat()} {self.what}"


@dataclass
class Movement:
    source: str
    kind: str
    keyword: str
    town: str
    device: str
    current: float | None  # None: not found in the positions fetched (if measured)
    measured: bool  # anything measured this week
    previous: float | None
    previous_measured: bool
    median4: float | None
    band: float
    change_week: float | None  # positive = better (moved up)
    change_median: float | None
    status: str  # up, down, steady, entered, dropped out, not measured, new
    reason: str = ""  # why not measured
    new_top3: bool = False
    new_top10: bool = False
    events: list[Event] = field(default_factory=list)

    @property
    def moved(self) -> bool:
        return self.status in ("up", "down", "entered", "dropped out")


@dataclass
class MovementReport:
    week_start: date
    week_end: date
    rows: list[Movement]

    @property
    def winners(self) -> list[Movement]:
        return [m for m in self.rows if m.status in ("up", "entered")]

    @property
    def losers(self) -> list[Movement]:
        return [m for m in self.rows if m.status in ("down", "dropped out")]

    @property
    def new_top3(self) -> list[Movement]:
        return [m for m in self.rows if m.new_top3]

    @property
    def new_top10(self) -> list[Movement]:
        return [m for m in self.rows if m.new_top10]

    @property
    def not_measured(self) -> list[Movement]:
        return [m for m in self.rows if not m.measured]


def _week_value(obs: list[tuple[bool, float | None]]) -> tuple[bool, float | None]:
    measured = [p for ok, p in obs if ok]
    found = [p for p in measured if p is not None]
    if not measured:
        return False, None
    if len(found) * 2 < len(measured):  # mostly not found
        return True, None
    return True, float(statistics.median(found))


def noise_band(history: list[float]) -> float:
    changes = [abs(b - a) for a, b in pairwise(history)]
    if len(changes) < 4:
        return DEFAULT_BAND
    return max(MIN_BAND, round(2 * 1.4826 * statistics.median(changes), 2))


def compute(store: Store, week: date | str | None = None, *, keywords: list[Keyword] | None = None,
            today: date | None = None, window: tuple[date, date] | None = None) -> MovementReport:
    """The moves of an ISO week, or of any seven-day `window` (first, last day): the weekly
    report's rolling seven days up to the morning it is built."""
    start, end = window if window is not None else week_bounds(week, today)
    since = start - timedelta(weeks=HISTORY_WEEKS)
    o = observations.c
    q = (sa.select(o.source, o.kind, o.keyword, o.town, o.device, o.day, o.measured, o.position,
                   o.reason)
         .where(o.day >= since, o.day <= end)
         .order_by(o.day))  # the unique index's order (it leads with day): no sort, each series in day order
    series: dict[tuple[str, str, str, str, str], list[tuple[Any, ...]]] = defaultdict(list)
    with store.engine.connect() as conn:
        for part in conn.execute(q.execution_options(yield_per=20000)).partitions():
            for src, kind, kw, town, dev, day, ok, pos, why in part:
                series[(src, kind, kw, town, dev)].append((day, ok, pos, why))
    targets: dict[tuple[str, str], str] = {}
    for kw in keywords or []:
        targets[(kw.text, kw.town)] = kw.target
        targets.setdefault((kw.text, ""), kw.target)
    page_ev, listing_ev = _events(store, start - timedelta(days=7), end)
    rows = [_movement(key, obs, start, end, targets, page_ev, listing_ev)
            for key, obs in series.items()]
    rows = [m for m in rows if m is not None]
    rows.sort(key=lambda m: (m.source, m.kind, m.town, m.keyword, m.device))
    return MovementReport(start, end, rows)


def _movement(key: tuple[str, str, str, str, str], obs: list[tuple[Any, ...]], start: date,
              end: date, targets: dict[tuple[str, str], str], page_ev: dict[str, list[Event]],
              listing_ev: list[Event]) -> Movement | None:
    weeks: dict[int, list[tuple[bool, float | None]]] = defaultdict(list)
    history: list[float] = []
    reason = ""
    for day, measured, position, why in obs:
        weeks[((start - day).days - 1) // 7 + 1 if day < start else 0].append((measured, position))
        if day < start and measured and position is not None:
            history.append(position)
        if day >= start and not measured:
            reason = why
    if not weeks.get(0) and not weeks.get(1):
        return None  # nothing this week or last: not a series to report on
    measured, cur = _week_value(weeks.get(0, []))
    prev_measured, prev = _week_value(weeks.get(1, []))
    values = [v for w in range(1, 5) for ok, v in [_week_value(weeks.get(w, []))] if ok and v is not None]
    med4 = float(statistics.median(values)) if len(values) >= 2 else None
    band = noise_band(history)
    change_week = prev - cur if cur is not None and prev is not None else None
    change_median = med4 - cur if cur is not None and med4 is not None else None
    if not measured:
        status = "not measured"
        reason = reason or "no check this week"
    elif not prev_measured:
        status = "new"
    elif cur is None and prev is not None:
        status = "dropped out"
    elif cur is not None and prev is None:
        status = "entered"
    elif change_week is not None and abs(change_week) > band and (
            change_median is None or (change_median * change_week > 0 and abs(change_median) > band)):
        status = "up" if change_week > 0 else "down"
    else:
        status = "steady"
    m = Movement(*key, current=cur, measured=measured, previous=prev,
                 previous_measured=prev_measured, median4=med4, band=band, change_week=change_week,
                 change_median=change_median, status=status, reason=reason if not measured else "")
    if measured and prev_measured and cur is not None:
        m.new_top3 = cur <= 3 and (prev is None or prev > 3)
        m.new_top10 = cur <= 10 and (prev is None or prev > 10)
    if m.moved or m.new_top3 or m.new_top10:
        target = targets.get((m.keyword, m.town))
        m.events = sorted(page_ev.get(target, []) + listing_ev, key=lambda e: (e.day, e.what)) \
            if target else list(listing_ev)
    return m


def _events(store: Store, since: date, until: date) -> tuple[dict[str, list[Event]], list[Event]]:
    pages: dict[str, list[Event]] = defaultdict(list)
    q = (sa.select(page_events.c.path, page_events.c.day, page_events.c.event, page_events.c.detail)
         .where(page_events.c.day >= since, page_events.c.day <= until)
         .order_by(page_events.c.day, page_events.c.path, page_events.c.id))
    listing: list[Event] = []
    with store.engine.connect() as conn:
        for path, day, event, detail in conn.execute(q):
            what = f"page {event}: {path}" + (f" ({detail})" if detail else "")
            pages["/" + path.strip("/") + "/" if path.strip("/") else "/"].append(Event(day, what))
        listing = _listing_events(conn, since, until)
    return pages, listing


def _listing_events(conn: Any, since: date, until: date) -> list[Event]:
    """Listing changes from the Business Profile stage's tables: changes we applied and fields
    Google changed."""
    out: list[Event] = []
    lo = datetime.combine(since, time.min)
    hi = datetime.combine(until, time.max)
    ch, dr = listing_changes.c, listing_drift.c
    q = (sa.select(ch.at, ch.action, ch.location, ch.fields)
         .where(ch.at >= lo, ch.at <= hi, ch.status != "failed").order_by(ch.at, ch.id))
    for at, action, location, fields in conn.execute(q):
        out.append(Event(at.date(), f"listing {action} ({location}): {fields}"))
    q = (sa.select(dr.at, dr.location, dr.field, dr.kind)
         .where(dr.at >= lo, dr.at <= hi).order_by(dr.at, dr.id))
    for at, location, fld, kind in conn.execute(q):
        who = "Google" if kind == "google" else "pending edit"
        out.append(Event(at.date(), f"listing field {fld} changed by {who} ({location})"))
    return out
