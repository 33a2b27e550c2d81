"""new_review: a new review of 1-2 stars (`max_stars`).

Needs the Business Profile reviews stage, which this project does not have yet: until then the
condition says it is not available.
"""

from __future__ import annotations

from ...settings import ReviewAlert
from ..model import Finding, Unavailable, WatchContext


def check(ctx: WatchContext, cfg: ReviewAlert) -> list[Finding]:
    raise Unavailable("reviews not configured (this version has no Business Profile reviews stage)")
