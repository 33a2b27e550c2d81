"""The clinic's clock: its days and weeks are in its own time zone (config/schedule.yaml's
`timezone`, America/Denver by default), not the server's. A page built at 8 pm in Denver was built
that day, though the server (in UTC) is already on the next one.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo


def timezone(root: Path | str) -> str:
    """The IANA name of the clinic's time zone."""
    from .automation.schedule import load_schedule
    return load_schedule(root).timezone


def today(root: Path | str) -> date:
    """Today's date where the clinic is."""
    return today_in(timezone(root))


def today_in(zone: str) -> date:
    """Today's date in the IANA time zone `zone`."""
    return datetime.now(ZoneInfo(zone)).date()
