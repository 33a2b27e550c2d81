"""Business Profile posts for new or substantially changed pages (or the weekly rotation)."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.listing.api import publish_posts


def run(project: Project, ctx: JobContext) -> JobResult:
    result = publish_posts(project, today=ctx.today, trigger=ctx.trigger)
    counts = {"created": len(result.created), "adopted": len(result.adopted),
              "rejected": len(result.rejected), "unresolved": len(result.unresolved),
              "waiting": result.waiting, "not_live": result.not_live}
    lines = [f"rejected post for {page}: {name}" for page, name in result.rejected]
    lines += [f"unresolved post for {page}: the next run looks for it again"
              for page in result.unresolved]
    return JobResult(counts, lines + [f"warning {w}" for w in result.warnings])
