"""Build the site's pages (only what changed)."""

from __future__ import annotations

from seo.api import Project, build
from seo.automation.runner import JobContext, JobResult


def run(project: Project, ctx: JobContext) -> JobResult:
    result = build(project, today=ctx.today)
    lines = [f"noindex {path}: {'; '.join(reasons)}" for path, reasons in result.flagged]
    return JobResult(result.counts(), lines + [f"warning {w}" for w in result.warnings])
