"""Audit the live site, or the build while the site's URL is still an example value."""

from __future__ import annotations

from seo.api import Project
from seo.audit import run_audit
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import audit_target


def run(project: Project, ctx: JobContext) -> JobResult:
    built, why = audit_target(project, ctx.schedule.spec("audit_site").target)
    result = run_audit(project, built=built, trigger=ctx.trigger)
    counts = {"target": result.target, "pages": result.pages, **result.counts,
              "new": len(result.diff.new), "fixed": len(result.diff.fixed)}
    return JobResult(counts, [why] if why else [])
