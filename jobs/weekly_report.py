"""The weekly report: send (or write to the outbox) the week's email; retry the outbox first."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import weekly_report


def run(project: Project, ctx: JobContext) -> JobResult:
    return weekly_report(project)
