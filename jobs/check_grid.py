"""Scan the geo-grids: a maps search at every point of each town's grid (off until a `grid:`
section is configured; weekly, inside `weekly`, by default)."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import grid_result
from seo.grid.api import check


def run(project: Project, ctx: JobContext) -> JobResult:
    return grid_result(check(project, today=ctx.today))
