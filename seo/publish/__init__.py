"""Publish: the build to its targets (folder, ssh, wordpress), then verify live and index status.

Stages: source.py (the build and the store's pages) -> targets.py (one interface, chosen by `type:`)
-> folder.py / ssh.py / wordpress.py (+ wp_client.py) -> records.py (what each target holds, per page);
gate.py (the audit of the build stops a publish with errors); verify.py (live: 200, content, head);
index_status.py (Search Console URL Inspection); api.py ties publish and rollback together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import PublishReport, publish_site, rollback_site
    from .index_status import InspectResult, inspect_pages
    from .verify import VerifyResult, verify_live

_WHERE = {"PublishReport": "api", "publish_site": "api", "rollback_site": "api",
          "InspectResult": "index_status", "inspect_pages": "index_status",
          "VerifyResult": "verify", "verify_live": "verify"}
__all__ = ["InspectResult", "PublishReport", "VerifyResult", "inspect_pages", "publish_site",
           "rollback_site", "verify_live"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'seo.publish' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
