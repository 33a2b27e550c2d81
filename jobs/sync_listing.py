"""Business Profile: report drift, plan, and apply when the schedule says so (`apply: true`)."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import sync_listing


def run(project: Project, ctx: JobContext) -> JobResult:
    return sync_listing(project, apply=ctx.schedule.spec("sync_listing").apply, today=ctx.today,
                        trigger=ctx.trigger)
