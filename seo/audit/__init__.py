"""Site audit: crawl the built or live site with Scrapy (in a child process), check every page
and the site as a whole, store the findings per run and diff them with the previous audit.

Stages: crawl.py + spider.py + extract.py (child process, JSONL records.py) -> checks.py (per
page) -> findings.py (site level) -> history.py (store, diff); run.py ties them together.
Names are imported lazily so that `python -m seo.audit.crawl` (the child) loads only what it needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog import CATALOG, SEVERITIES, Finding
    from .history import AuditDiff, diff_audit, latest_audit
    from .run import AuditResult, run_audit

_WHERE = {"CATALOG": "catalog", "SEVERITIES": "catalog", "Finding": "catalog",
          "AuditDiff": "history", "diff_audit": "history", "latest_audit": "history",
          "AuditResult": "run", "run_audit": "run"}
__all__ = ["CATALOG", "SEVERITIES", "AuditDiff", "AuditResult", "Finding", "diff_audit",
           "latest_audit", "run_audit"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'seo.audit' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
