"""Business Profile Performance: calls, directions, clicks, bookings, views; monthly keywords."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import fetch_insights


def run(project: Project, ctx: JobContext) -> JobResult:
    return fetch_insights(project, today=ctx.today, trigger=ctx.trigger)
