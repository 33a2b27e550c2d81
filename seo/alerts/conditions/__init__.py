"""The conditions the watch job checks, one small module each.

Every condition is `check(ctx, cfg) -> list[Finding]`: what is wrong right now, each finding under
a key that stays the same while the problem lasts. It raises `Unavailable` when it cannot be
checked in this project (its incidents close) and any other error when it could not check this
time (its incidents stay as they are). `check_failed` is not here: the watch makes it from the
other conditions' errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import Finding, WatchContext

Check = Callable[[WatchContext, Any], list[Finding]]


def registry() -> dict[str, Check]:
    """Condition name (as in integrations.alerts.conditions) -> its check, in checking order."""
    from . import jobs, listing, outbox, rankings, reviews, serp, site
    return {"listing_drift": listing.check, "site_down": site.check_down, "page_4xx": site.check_4xx,
            "ranking_drop": rankings.check, "new_review": reviews.check,
            "job_failed": jobs.check_failed, "job_silent": jobs.check_silent,
            "outbox_waiting": outbox.check, "serp_budget": serp.check}
