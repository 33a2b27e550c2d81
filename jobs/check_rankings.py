"""Fetch ranks from Search Console and the SERP provider (whichever are configured)."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import rankings_result
from seo.rankings import check_rankings


def run(project: Project, ctx: JobContext) -> JobResult:
    return rankings_result(check_rankings(project, today=ctx.today))
