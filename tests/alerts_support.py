"""Helpers for the alert tests: a frozen clock, alert settings written into a fixture project,
and one watch step (check results -> incidents -> deliveries) on that clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from report_support import configure

from seo.alerts.api import build_senders, settings_of
from seo.alerts.deliver import DeliveryReport, deliver
from seo.alerts.incidents import Change, reconcile
from seo.alerts.model import CheckResult, Finding, utc_naive
from seo.api import Project

START = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)  # Tuesday 10:00 in Denver
SECRET = "test-webhook-signing-secret-0123456789"
DENVER = "America/Denver"


class FrozenClock:
    """Aware UTC time that moves only when told (or when something sleeps on it)."""

    def __init__(self, start: datetime = START) -> None:
        self.t = start
        self.slept: list[float] = []

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **delta: float) -> datetime:
        self.t += timedelta(**delta)
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += timedelta(seconds=seconds)

    def timestamp(self) -> float:
        return self.t.timestamp()


def write_alerts(root: Path, channels: dict[str, Any] | None = None, **alerts: Any) -> Project:
    """integrations.alerts with `channels` (and other keys), keeping every other section."""
    section = {"channels": channels or {}, **alerts}
    conditions = section.setdefault("conditions", {})
    # nothing in a test may reach the fixture's real-looking https://clinic.test/
    conditions.setdefault("site_down", {"enabled": False})
    conditions.setdefault("page_4xx", {"enabled": False})
    configure(root, alerts=section)
    return Project.open(root)


def found(condition: str, *keys: str, title: str = "", severity: str = "warning") -> CheckResult:
    return CheckResult(condition, "ok", [Finding(k, title or f"{condition} {k} is wrong", [f"detail {k}"],
                                                 severity=severity) for k in keys])


def step(project: Project, clock: FrozenClock, *results: CheckResult,
         senders: dict[str, Any] | None = None) -> tuple[list[Change], DeliveryReport]:
    """One watch run's second half on the frozen clock, with the given check results."""
    settings = settings_of(project)
    now = utc_naive(clock())
    changes = reconcile(project.store, list(results), settings, now)
    report = deliver(project.store, settings, senders or build_senders(project, settings), now,
                     ZoneInfo(DENVER), project.site.config.business.name,
                     clock.sleep)
    return changes, report
