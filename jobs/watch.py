"""Alerts between reports: check the conditions, keep the incidents, send what is due."""

from __future__ import annotations

from seo.api import Project
from seo.automation.runner import JobContext, JobResult
from seo.automation.steps import watch


def run(project: Project, ctx: JobContext) -> JobResult:
    return watch(project)
