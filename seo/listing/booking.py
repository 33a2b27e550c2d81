"""The booking link (`booking_link`): the clinic's booking URL, UTM-tagged, as the preferred
APPOINTMENT link of each profile, through the Place Actions API v1 (`placeActionLinks`).

It is planned, applied, verified, logged and rolled back like the other managed fields, with its
own calls (Place Actions is a separate API from Business Information):
- plan: list the location's links of our type; the field's value is the preferred one;
- apply: make our link preferred (it exists), or point the merchant's preferred link at our URL,
  or create ours; links owned by aggregators (booking platforms) are listed in the plan and never
  edited or deleted: Google does not let merchants edit them, and they are not ours;
- drift: once an apply has set our link, a different preferred link is drift (someone changed it
  in the Business Profile, or an aggregator's link took over), under `drift.booking_link`;
- rollback: the links as they were before the apply: links the tool created are deleted, links it
  changed are changed back.
Every write counts against the profile's edit limit (`client.limiter`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..settings import GbpSettings
from ..store import Store, now
from ..tables import listing_changes
from .client import GbpClient, GoogleError, Unanswered

FIELD = "booking_link"
MASK = "placeActionLinks"  # the update_mask logged for booking rows in listing_changes
MAX_PAGES = 20


def list_links(client: GbpClient, gbp_name: str, action_type: str) -> list[dict[str, Any]]:
    api = client.service("mybusinessplaceactions").locations().placeActionLinks()
    links: list[dict[str, Any]] = []
    token = ""
    for _ in range(MAX_PAGES):
        kwargs: dict[str, Any] = {"parent": gbp_name, "pageSize": 100,
                                  "filter": f"place_action_type={action_type}"}
        if token:
            kwargs["pageToken"] = token
        page = client.read("placeActionLinks.list", gbp_name, api.list(**kwargs))
        links += [x for x in page.get("placeActionLinks") or [] if isinstance(x, dict)
                  and x.get("placeActionType") == action_type and isinstance(x.get("uri"), str)]
        token = page.get("nextPageToken") or ""
        if not token:
            break
    return sorted(links, key=lambda x: str(x.get("name", "")))


def links_hash(links: list[dict[str, Any]]) -> str:
    keep = [{k: x.get(k) for k in ("name", "uri", "isPreferred", "providerType")} for x in links]
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()


def _aggregator(link: dict[str, Any]) -> bool:
    return link.get("providerType") == "AGGREGATOR_3P" or link.get("isEditable") is False


def canon(links: list[dict[str, Any]]) -> list[str]:
    """The field's value: the preferred link (whose it is when not the merchant's)."""
    preferred = [x for x in links if x.get("isPreferred")]
    if not preferred:
        return ["(no preferred link)"]
    x = preferred[0]
    return [f"preferred: {x['uri']}" + (" (aggregator's link)" if _aggregator(x) else "")]


def merchant_state(links: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    return sorted((str(x["uri"]), bool(x.get("isPreferred"))) for x in links if not _aggregator(x))


def wanted(uri: str) -> list[str]:
    return [f"preferred: {uri}"]


def notes(links: list[dict[str, Any]]) -> list[str]:
    return [f"booking_link: aggregator link {x['uri']}" + (" (preferred now)" if x.get("isPreferred")
                                                            else "") + ": not ours, left alone"
            for x in links if _aggregator(x)]


@dataclass
class BookingAction:
    """What apply does: prefer (an existing merchant link with our URL), repoint (the merchant's
    preferred link gets our URL), or create."""

    op: str
    uri: str
    action_type: str
    link: str = ""  # the link's name (prefer, repoint)
    live_hash: str = ""

    def __post_init__(self) -> None:
        if self.op not in ("prefer", "repoint", "create") or \
                not self.uri.startswith(("https://", "http://")):
            raise ValueError(f"booking action {self.op!r} {self.uri[:60]!r}")

    def to_dict(self) -> dict[str, Any]:
        return {"op": self.op, "uri": self.uri, "action_type": self.action_type,
                "link": self.link, "live_hash": self.live_hash}


def plan_action(links: list[dict[str, Any]], uri: str, action_type: str) -> BookingAction | None:
    if canon(links) == wanted(uri):
        return None
    mine = [x for x in links if not _aggregator(x)]
    same = next((x for x in mine if x["uri"] == uri), None)
    if same is not None:
        return BookingAction("prefer", uri, action_type, str(same["name"]), links_hash(links))
    preferred = next((x for x in mine if x.get("isPreferred")), None)
    if preferred is not None:
        return BookingAction("repoint", uri, action_type, str(preferred["name"]), links_hash(links))
    return BookingAction("create", uri, action_type, "", links_hash(links))


def applied_before(store: Store | None, location: str) -> bool:
    """Has an apply (not failed) set our booking link at this location?"""
    if store is None:
        return False
    t = listing_changes.c
    with store.engine.connect() as conn:
        return conn.execute(sa.select(t.id).where(
            t.location == location, t.update_mask == MASK, t.action == "apply",
            t.status != "failed").limit(1)).first() is not None


# -- writes ---------------------------------------------------------------------------------------

def _write(client: GbpClient, op: str, target: str, profile: str, request: Any, *,
           idempotent: bool) -> dict[str, Any]:
    """One edit under the profile's edit limit. A patch or delete sets a state, so a lost answer
    is simply sent again; a create raises Unanswered, and the caller looks the link up first."""
    return client._retrying(op, target, lambda: client._v1(op, target, request),
                            edit_key=profile, idempotent=idempotent)


def _patch(client: GbpClient, gbp_name: str, name: str, body: dict[str, Any], mask: str) -> None:
    api = client.service("mybusinessplaceactions").locations().placeActionLinks()
    _write(client, "placeActionLinks.patch", name, gbp_name,
           api.patch(name=name, body=body, updateMask=mask), idempotent=True)


def _create(client: GbpClient, gbp_name: str, uri: str, action_type: str) -> None:
    """Create our link, preferred. httplib2 may re-send a POST whose answer was lost, and Google
    refuses the second as ALREADY_EXISTS (409); a lost answer leaves us not knowing. Either way:
    look the link up, adopt it (preferring it if needed), and create again only if it is absent."""
    api = client.service("mybusinessplaceactions").locations().placeActionLinks()
    body = {"uri": uri, "placeActionType": action_type, "isPreferred": True}
    try:
        _write(client, "placeActionLinks.create", gbp_name, gbp_name,
               api.create(parent=gbp_name, body=body), idempotent=False)
        return
    except Unanswered:
        pass
    except GoogleError as exc:
        if exc.status != 409:
            raise
    found = next((x for x in list_links(client, gbp_name, action_type)
                  if x["uri"] == uri and not _aggregator(x)), None)
    if found is None:
        _write(client, "placeActionLinks.create", gbp_name, gbp_name,
               api.create(parent=gbp_name, body=body), idempotent=False)
    elif not found.get("isPreferred"):
        _patch(client, gbp_name, str(found["name"]), {"isPreferred": True}, "isPreferred")


def perform(client: GbpClient, gbp_name: str, action: BookingAction) -> None:
    if action.op == "prefer":
        _patch(client, gbp_name, action.link, {"isPreferred": True}, "isPreferred")
    elif action.op == "repoint":
        _patch(client, gbp_name, action.link, {"uri": action.uri, "isPreferred": True},
               "uri,isPreferred")
    else:
        _create(client, gbp_name, action.uri, action.action_type)


@dataclass
class BookingPush:
    status: str  # verified, pending
    before: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)


def log_push(store: Store, run_id: int, action: str, location: str, gbp_name: str,
             before: list[dict[str, Any]], after: list[dict[str, Any]], status: str) -> None:
    with store.begin() as conn:
        conn.execute(listing_changes.insert().values(
            run_id=run_id, action=action, location=location, gbp_name=gbp_name, fields=FIELD,
            update_mask=MASK, before=json.dumps(before, sort_keys=True),
            after=json.dumps(after, sort_keys=True), status=status, at=now()))


def apply_booking(client: GbpClient, store: Store, run_id: int, location: str, gbp_name: str,
                  action: BookingAction, before: list[dict[str, Any]]) -> BookingPush:
    """Do it, re-read to verify, log before and after (a failure is logged too)."""
    try:
        perform(client, gbp_name, action)
    except Exception:
        log_push(store, run_id, "apply", location, gbp_name, before, [], "failed")
        raise
    after = list_links(client, gbp_name, action.action_type)
    status = "verified" if canon(after) == wanted(action.uri) else "pending"
    log_push(store, run_id, "apply", location, gbp_name, before, after, status)
    return BookingPush(status, before, after)


def restore(client: GbpClient, store: Store, run_id: int, location: str, gbp_name: str,
            snapshot: list[dict[str, Any]], created: set[str], action_type: str) -> BookingPush | None:
    """Put the merchant's links back as in `snapshot`; delete only links the tool created."""
    live = list_links(client, gbp_name, action_type)
    if merchant_state(live) == merchant_state(snapshot):
        return None
    api = client.service("mybusinessplaceactions").locations().placeActionLinks()
    by_name = {x["name"]: x for x in live}
    for x in live:
        if x["name"] in created and not _aggregator(x) and \
                x["name"] not in {s["name"] for s in snapshot}:
            _write(client, "placeActionLinks.delete", x["name"], gbp_name,
                   api.delete(name=x["name"]), idempotent=True)
    for old in snapshot:
        if _aggregator(old):
            continue
        now_ = by_name.get(old["name"])
        if now_ is None:
            _create(client, gbp_name, old["uri"], action_type)
            continue
        body, mask = {}, []
        if now_["uri"] != old["uri"]:
            body["uri"], mask = old["uri"], [*mask, "uri"]
        if bool(now_.get("isPreferred")) != bool(old.get("isPreferred")) and old.get("isPreferred"):
            body["isPreferred"], mask = True, [*mask, "isPreferred"]
        if mask:
            _patch(client, gbp_name, old["name"], body, ",".join(mask))
    after = list_links(client, gbp_name, action_type)
    # an aggregator's preference cannot be given back by the merchant: compare the merchant's own
    status = "verified" if merchant_state(after) == merchant_state(snapshot) else "pending"
    log_push(store, run_id, "rollback", location, gbp_name, live, after, status)
    return BookingPush(status, live, after)


def created_names(rows: list[dict[str, Any]]) -> set[str]:
    """Links that appear after a logged booking push and not before it: made by the tool."""
    out: set[str] = set()
    for r in rows:
        before = {x.get("name") for x in json.loads(r["before"] or "[]")}
        out |= {x.get("name") for x in json.loads(r["after"] or "[]")} - before
    return {n for n in out if n}


def desired_uri(settings: GbpSettings, booking_url: str, location_id: str, several: bool) -> str:
    from .desired import utm
    return utm(booking_url, settings.utm.source, settings.utm.medium,
               settings.utm.booking_campaign, location_id if several else "")
