"""The report's week: an ISO week (Monday..Sunday) in the clinic's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from ..errors import UserError

CLINIC_TZ = "America/Denver"
WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class Week:
    start: date  # Monday
    tz: str = CLINIC_TZ

    @property
    def end(self) -> date:  # Sunday
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        year, num, _ = self.start.isocalendar()
        return f"{year}-W{num:02d}"

    @property
    def span(self) -> str:
        """"16-22 Nov 2026", or "30 Nov - 6 Dec 2026" across months."""
        s, e = self.start, self.end
        if s.month == e.month:
            return f"{s.day}-{e.day} {e:%b %Y}"
        if s.year == e.year:
            return f"{s.day} {s:%b} - {e.day} {e:%b %Y}"
        return f"{s.day} {s:%b %Y} - {e.day} {e:%b %Y}"

    def previous(self, n: int = 1) -> Week:
        return Week(self.start - timedelta(weeks=n), self.tz)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[Monday 00:00, next Monday 00:00) local time, as naive UTC (how the store keeps times)."""
        zone = ZoneInfo(self.tz)
        lo = datetime.combine(self.start, time.min, zone).astimezone(UTC).replace(tzinfo=None)
        hi = datetime.combine(self.end + timedelta(days=1), time.min, zone)
        return lo, hi.astimezone(UTC).replace(tzinfo=None)

    def local(self, stamp: datetime) -> datetime:
        """A naive UTC time from the store, in the clinic's time zone."""
        return stamp.replace(tzinfo=UTC).astimezone(ZoneInfo(self.tz))


def parse_week(week: str | None, tz: str = CLINIC_TZ, now: datetime | None = None) -> Week:
    """"2026-W47", or None for the last complete week (the one holding today minus seven days)."""
    if week is None:
        today = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz)).date()
        day = today - timedelta(days=7)
        return Week(day - timedelta(days=day.weekday()), tz)
    m = WEEK_RE.match(week.strip())
    if not m:
        raise UserError(f"{week!r} is not an ISO week like 2026-W47", key="--week")
    try:
        return Week(date.fromisocalendar(int(m[1]), int(m[2]), 1), tz)
    except ValueError:
        raise UserError(f"{week!r}: year {m[1]} has no week {m[2]}", key="--week") from None
