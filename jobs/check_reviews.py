"""Reviews: fetch every review (new, changed, deleted); auto-reply where config allows it."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import check_reviews


def run(project: Project, ctx: JobContext) -> JobResult:
    return check_reviews(project, trigger=ctx.trigger)
