"""The clinic's days are its own: a page built at 8 pm in Denver counts for that day and that
week's report, though the server (UTC) is already on the next day; a clinic in another time zone
(config/schedule.yaml) gets its own days and its own week."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import sqlalchemy as sa
import time_machine

from seo.api import Project, build
from seo.report.api import build_report
from seo.store import page_events

EVENING_IN_DENVER = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Tue Dec 1, 8 pm MST


def _event_days(project: Project) -> set[date]:
    with project.store.engine.connect() as conn:
        return set(conn.execute(sa.select(page_events.c.day).distinct()).scalars())


def test_pages_built_in_the_evening_count_for_the_clinics_day_and_week(mini: Path) -> None:
    with time_machine.travel(EVENING_IN_DENVER, tick=False):
        project = Project.open(mini)
        assert project.timezone == "America/Denver" and project.today() == date(2026, 12, 1)
        build(project)
        assert _event_days(project) == {date(2026, 12, 1)}
        report = build_report(project)
    assert report.facts.week.end == date(2026, 12, 1)
    assert report.facts.pages.created  # the new pages are in this week's report


def test_a_clinic_elsewhere_has_its_own_days(mini: Path) -> None:
    (mini / "config" / "schedule.yaml").write_text("timezone: Asia/Tokyo\n", encoding="utf-8")
    with time_machine.travel(EVENING_IN_DENVER, tick=False):  # noon, Wed Dec 2, in Tokyo
        project = Project.open(mini)
        assert project.today() == date(2026, 12, 2)
        build(project)
        assert _event_days(project) == {date(2026, 12, 2)}
        report = build_report(project)
    assert report.facts.week.end == date(2026, 12, 2) and report.facts.week.tz == "Asia/Tokyo"
    assert report.facts.pages.created
