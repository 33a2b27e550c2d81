"""Index status: Search Console URL Inspection for new and changed live pages, within the quota."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import inspect_index


def run(project: Project, ctx: JobContext) -> JobResult:
    return inspect_index(project, today=ctx.today)
