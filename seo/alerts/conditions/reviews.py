"""new_review: a new review of `max_stars` (2) stars or fewer, or one re-rated down to that,
until it is answered (`max_stars: 5` makes every new review wait for an answer).

Cheap: one reviews.list call per location, the newest page only (Google lists the most recently
updated first), through the reviews stage's own sync, so new reviews land in the store as the
daily `check_reviews` would record them (that full fetch is what tells deleted reviews). A review
opens an incident when it was written or last changed at most `days` ago; the incident stays open
until the review has a reply, is deleted, or is re-rated above `max_stars`.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from ...errors import NotConfigured
from ...settings import ReviewAlert
from ...tables import gbp_reviews
from ..model import Finding, Unavailable, WatchContext, aware, clean, incident_key

NAME = "new_review"
NEWEST_PAGE = 1


def check(ctx: WatchContext, cfg: ReviewAlert) -> list[Finding]:
    from ...listing.client import connect
    from ...reviews.api import profiles, settings_of
    from ...reviews.fetch import sync_location

    try:
        gbp, _reviews = settings_of(ctx.project)
        locations = profiles(ctx.project)
        if ctx.gbp_client is None:
            ctx.gbp_client = connect(gbp)
    except NotConfigured as exc:
        raise Unavailable(str(exc)) from None
    for loc in locations:
        sync_location(ctx.gbp_client, ctx.project.store, loc.id, f"{gbp.account}/{loc.gbp_location}",
                      NEWEST_PAGE)
    names = {loc.id: loc.name for loc in ctx.project.site.config.locations}
    several = len(names) > 1
    t = gbp_reviews.c
    recent = ctx.store_now - timedelta(days=cfg.days)
    with ctx.project.store.engine.connect() as conn:
        rows = conn.execute(sa.select(gbp_reviews).where(
            t.deleted_on.is_(None), t.reply.is_(None), t.stars.is_not(None), t.stars <= cfg.max_stars,
            t.location.in_(list(names))).order_by(t.created, t.name)).all()
    out = []
    for r in rows:
        key = f"{r.location}:{r.review_id}"
        changed = r.updated if r.updated and r.updated > r.created else r.created
        if changed < recent and incident_key(NAME, key) not in ctx.live:
            continue  # an old unanswered review is the report's business, not an alert's
        where = names[r.location] + (f" ({r.location})" if several else "")
        who = "an anonymous reviewer" if r.anonymous or not r.reviewer else clean(r.reviewer, 60)
        when = aware(r.created).astimezone(ctx.tz)
        detail = [f"“{clean(r.comment, 280)}”" if r.comment else "(no text)",
                  f"by {who}, {when:%a %d %b %H:%M %Z}",
                  "answer it: `seo reviews draft`, then approve the reply in the drafts file"]
        title = f"New {r.stars}-star review for {where}"
        if changed - r.created > timedelta(days=cfg.days):  # an old review re-rated or edited lately
            title = f"A review for {where} now has {r.stars} star{'s' * (r.stars != 1)}"
            detail.insert(2, f"changed {aware(changed).astimezone(ctx.tz):%a %d %b %H:%M %Z}")
        out.append(Finding(key, title, detail, {}, "critical" if r.stars == 1 else "warning"))
    return out
