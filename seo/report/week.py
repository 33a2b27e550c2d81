"""The report's week, in the clinic's time zone: an ISO week (Monday..Sunday) when one is asked
for, else the seven days up to the moment the report is built.

The scheduled report is built on Monday morning right after that morning's audit, rank check,
listing sync and posts: a report of "the last complete week" left all of that out (and reported it
a week late). The rolling window ends at the build: days are the seven up to and including today,
stamped events the seven times 24 hours before `until`. Its label is the ISO week holding most
of its days (built on a Monday: the week just ended), and its span says where it ends.
"""

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
    start: date  # Monday; for a rolling window, the first of its seven days
    tz: str = CLINIC_TZ
    until: datetime | None = None  # naive UTC: a rolling window ends at this moment

    @property
    def end(self) -> date:  # Sunday; for a rolling window, the day it was built
        return self.start + timedelta(days=6)

    @property
    def label(self) -> str:
        """The ISO week holding most of its days ("2026-W48")."""
        year, num, _ = (self.start + timedelta(days=3)).isocalendar()
        return f"{year}-W{num:02d}"

    @property
    def span(self) -> str:
        """"Nov 16-22, 2026", "Nov 30 - Dec 6, 2026" across months; a rolling window says where
        it ends: "Nov 24-30, 2026, up to Mon, Nov 30, 5:41 AM"."""
        s, e = self.start, self.end
        if s.month == e.month:
            text = f"{s:%b} {s.day}-{e.day}, {e.year}"
        elif s.year == e.year:
            text = f"{s:%b} {s.day} - {e:%b} {e.day}, {e.year}"
        else:
            text = f"{s:%b} {s.day}, {s.year} - {e:%b} {e.day}, {e.year}"
        if self.until is not None:
            text += f", up to {self.when(self.until)}"
        return text

    def day(self, stamp: datetime) -> str:
        """A naive UTC time from the store as the clinic's day: "Mon, Nov 23"."""
        local = self.local(stamp)
        return f"{local:%a, %b} {local.day}"

    def when(self, stamp: datetime) -> str:
        """The day and clock time: "Mon, Nov 23, 5:41 AM"."""
        local = self.local(stamp)
        return f"{self.day(stamp)}, {local.hour % 12 or 12}:{local:%M %p}"

    def full_date(self, stamp: datetime) -> str:
        """The full date: "Nov 23, 2026"."""
        local = self.local(stamp)
        return f"{local:%b} {local.day}, {local.year}"

    def previous(self, n: int = 1) -> Week:
        until = self.until - timedelta(weeks=n) if self.until is not None else None
        return Week(self.start - timedelta(weeks=n), self.tz, until)

    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[Monday 00:00, next Monday 00:00) local time, as naive UTC (how the store keeps times);
        a rolling window: the seven days before `until`."""
        if self.until is not None:
            return self.until - timedelta(days=7), self.until
        zone = ZoneInfo(self.tz)
        lo = datetime.combine(self.start, time.min, zone).astimezone(UTC).replace(tzinfo=None)
        hi = datetime.combine(self.end + timedelta(days=1), time.min, zone)
        return lo, hi.astimezone(UTC).replace(tzinfo=None)

    def local(self, stamp: datetime) -> datetime:
        """A naive UTC time from the store, in the clinic's time zone."""
        return stamp.replace(tzinfo=UTC).astimezone(ZoneInfo(self.tz))


def parse_week(week: str | None, tz: str = CLINIC_TZ, now: datetime | None = None) -> Week:
    """"2026-W47" (that ISO week), or None: the seven days up to `now` (default: this moment)."""
    if week is None:
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        today = moment.astimezone(ZoneInfo(tz)).date()
        return Week(today - timedelta(days=6), tz, moment.replace(tzinfo=None))
    m = WEEK_RE.match(week.strip())
    if not m:
        raise UserError(f"{week!r} is not an ISO week like 2026-W47", key="--week")
    try:
        return Week(date.fromisocalendar(int(m[1]), int(m[2]), 1), tz)
    except ValueError:
        raise UserError(f"{week!r}: year {m[1]} has no week {m[2]}", key="--week") from None
