"""Verify live: new and changed published pages fetched from the live site (200, content, head)."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import verify_live


def run(project: Project, ctx: JobContext) -> JobResult:
    return verify_live(project, today=ctx.today)
