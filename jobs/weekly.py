"""The whole week, in order: pages, audit, publish, verify live, index status, rankings, listing,
posts, report (config: weekly.steps)."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult


def run(project: Project, ctx: JobContext) -> JobResult:
    return ctx.run_steps(list(ctx.schedule.spec("weekly").steps))
