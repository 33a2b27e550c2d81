"""listing_drift: Google shows a different phone, website, address, hours or name than ours.

One getGoogleUpdated call per location (the diffMask says which fields Google or the public
changed); nothing is written at Google and nothing is logged in the listing tables (the daily
`sync_listing` does that), so a half-hourly watch stays cheap.
"""

from __future__ import annotations

from ...errors import NotConfigured
from ...settings import DriftAlert
from ..model import Finding, Unavailable, WatchContext

LABEL = {"title": "business name", "categories": "categories", "phone": "phone number",
         "website": "website", "address": "address", "hours": "opening hours",
         "special_hours": "holiday hours", "service_area": "service area",
         "description": "description", "services": "services", "open_info": "open status"}
CRITICAL = {"phone", "website", "address", "title"}
SHOWN_IN_TITLE = {"phone", "website", "title"}


def check(ctx: WatchContext, cfg: DriftAlert) -> list[Finding]:
    from ...listing.api import desired, settings_of
    from ...listing.client import connect
    from ...listing.drift import drift_location

    try:
        settings = settings_of(ctx.project)
        wanted = desired(ctx.project, ctx.today)
        if ctx.gbp_client is None:
            ctx.gbp_client = connect(settings)
    except NotConfigured as exc:
        raise Unavailable(str(exc)) from None
    locations = ctx.project.site.config.locations
    index = {loc.id: i for i, loc in enumerate(locations)}
    out = []
    for d in wanted:
        loc = d.location
        found = drift_location(ctx.gbp_client, d, settings, index[loc.id])
        where = loc.name + (f" ({loc.id})" if len(locations) > 1 else "")
        for dr in found.drifted:
            if dr.field not in cfg.fields:
                continue
            label = LABEL.get(dr.field, dr.field)
            title = f"Google shows a different {label} for {where}"
            if dr.field in SHOWN_IN_TITLE and len(dr.google) == 1:
                title += f": {dr.google[0]}"
            detail = [f"Google shows: {x}" for x in dr.google] or ["Google shows: (nothing)"]
            detail += [f"ours:         {x}" for x in dr.ours] or ["ours:         (nothing)"]
            detail.append(dr.hint)
            out.append(Finding(f"{loc.id}:{dr.field}", title, detail, {"google": dr.google},
                               "critical" if dr.field in CRITICAL else "warning"))
    return out
