"""Site audit: crawl the built or live site with Scrapy (in a child process), check every page
and the site as a whole, store the findings per run and diff them with the previous audit.

Stages: crawl.py + spider.py + extract.py (child process, JSONL records.py) -> checks.py (per
page) -> findings.py (site level) -> history.py (store, diff); run.py ties them together.
"""

from __future__ import annotations

from .catalog import CATALOG, SEVERITIES, Finding
from .history import AuditDiff, diff_audit, latest_audit
from .run import AuditResult, run_audit

__all__ = ["CATALOG", "SEVERITIES", "AuditDiff", "AuditResult", "Finding", "diff_audit",
           "latest_audit", "run_audit"]
