"""Publish the build to every target in site.publish (folder, ssh, wordpress), behind the audit gate."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import publish_site


def run(project: Project, ctx: JobContext) -> JobResult:
    return publish_site(project, today=ctx.today, trigger=ctx.trigger)
