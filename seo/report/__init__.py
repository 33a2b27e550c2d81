"""The weekly email report, in pipeline order.

week.py    the report's ISO week in the clinic's time zone
data.py    the week's facts from the store (rankings, Search Console, pages, listing, audit, jobs)
charts.py  small deterministic PNG charts (matplotlib Agg)
render.py  HTML and text from templates/report/, charts referenced by Content-ID
mail.py    MIME, header-injection-safe addresses, SMTP with retries, the outbox
api.py     build_report / send_report / flush_outbox: what the CLI and the weekly job call
cli.py     `seo report build|preview|send`
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import build_report, flush_outbox, send_report
    from .mail import Delivery
    from .render import Report

_WHERE = {"build_report": "api", "send_report": "api", "flush_outbox": "api", "Delivery": "mail",
          "Report": "render"}
__all__ = ["Delivery", "Report", "build_report", "flush_outbox", "send_report"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'seo.report' has no attribute {name!r}")
    from importlib import import_module
    return getattr(import_module(f".{_WHERE[name]}", __name__), name)
