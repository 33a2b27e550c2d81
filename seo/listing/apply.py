"""Apply a plan (validateOnly first, then for real, exact updateMask, re-read to verify) and roll back
to a logged snapshot. Every push logs the live listing before and after in `listing_changes`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..errors import UserError
from ..store import Store, now
from ..tables import listing_changes
from . import booking
from .client import GbpClient
from .desired import READ_MASK, body_for, canon
from .plan import ListingPlan, LocationPlan, snapshot_hash


@dataclass
class Pushed:
    location: str
    gbp_name: str
    fields: list[str]
    status: str  # verified, pending (Google has not taken every field yet)
    unverified: list[str] = field(default_factory=list)


@dataclass
class ApplyResult:
    run_id: int
    pushed: list[Pushed] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # locations with nothing to do


def push(client: GbpClient, store: Store, run_id: int, action: str, location: str, gbp_name: str,
         fields: list[str], body: dict[str, Any], mask: str, before: dict[str, Any],
         expected: dict[str, Any]) -> Pushed:
    """validateOnly, then the real patch, then re-read; log before/after whatever happens."""
    client.patch_location(gbp_name, body, mask, validate_only=True)
    row = {"run_id": run_id, "action": action, "location": location, "gbp_name": gbp_name,
           "fields": ",".join(fields), "update_mask": mask,
           "before": json.dumps(before, sort_keys=True), "after": "{}", "status": "failed",
           "at": now()}
    try:
        client.patch_location(gbp_name, body, mask)
    except Exception:
        with store.begin() as conn:
            conn.execute(listing_changes.insert().values(**row))
        raise
    after = client.get_location(gbp_name, READ_MASK)
    unverified = [f for f in fields if canon(f, after) != canon(f, expected)]
    status = "pending" if unverified else "verified"
    with store.begin() as conn:
        conn.execute(listing_changes.insert().values(
            **{**row, "after": json.dumps(after, sort_keys=True), "status": status}))
    return Pushed(location, gbp_name, fields, status, unverified)


def apply_plan(client: GbpClient, store: Store, plan: ListingPlan, run_id: int) -> ApplyResult:
    result = ApplyResult(run_id)
    todo: list[tuple[LocationPlan, dict[str, Any], list[dict[str, Any]]]] = []
    for lp in plan.locations:  # refuse a stale plan before pushing anything
        live = client.get_location(lp.gbp_name, READ_MASK)
        stale = lp.v1_fields and snapshot_hash(live) != lp.live_hash
        links: list[dict[str, Any]] = []
        if lp.booking:
            links = booking.list_links(client, lp.gbp_name, lp.booking["action_type"])
            stale = stale or booking.links_hash(links) != lp.booking["live_hash"]
        if stale:
            raise UserError(f"stale plan: the live listing of {lp.location} ({lp.gbp_name}) changed "
                            "since the plan was made; run `seo listing plan` again")
        todo.append((lp, live, links))
    for lp, live, links in todo:
        if not lp.changes:
            result.unchanged.append(lp.location)
            continue
        fields = lp.v1_fields
        pushed = Pushed(lp.location, lp.gbp_name, [], "verified")
        if fields:
            pushed = push(client, store, run_id, "apply", lp.location, lp.gbp_name, fields,
                          lp.body, lp.update_mask, live, lp.body)
        if lp.booking:
            action = booking.BookingAction(**lp.booking)
            done = booking.apply_booking(client, store, run_id, lp.location, lp.gbp_name, action,
                                         links)
            pushed.fields.append(booking.FIELD)
            if done.status != "verified":
                pushed.status = "pending"
                pushed.unverified.append(booking.FIELD)
        result.pushed.append(pushed)
    return result


def logged_runs(store: Store) -> list[int]:
    with store.engine.connect() as conn:
        return [r[0] for r in conn.execute(
            sa.select(listing_changes.c.run_id).where(listing_changes.c.action == "apply")
            .where(listing_changes.c.status != "failed").distinct()
            .order_by(listing_changes.c.run_id))]


def rollback(client: GbpClient, store: Store, to_run: int | None, run_id: int) -> ApplyResult:
    """Put back the listing as it was before apply run `to_run` (default: the latest apply).

    Fields changed by that run or any later one are restored from the snapshot logged before it.
    """
    runs = logged_runs(store)
    if not runs:
        raise UserError("nothing to roll back: no `seo listing apply` has been logged")
    target = runs[-1] if to_run is None else to_run
    if target not in runs:
        raise UserError(f"run {target} is not a logged listing apply (known: "
                        f"{', '.join(map(str, runs[-10:]))})", key="--to")
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(listing_changes).where(listing_changes.c.run_id >= target)
            .order_by(listing_changes.c.id))]
    result = ApplyResult(run_id)
    booking_rows = [r for r in rows if r["update_mask"] == booking.MASK]
    rows = [r for r in rows if r["update_mask"] != booking.MASK]
    for base in [r for r in rows if r["run_id"] == target and r["action"] == "apply"]:
        fields: list[str] = []
        for r in rows:
            if r["location"] == base["location"]:
                fields += [f for f in r["fields"].split(",") if f and f not in fields]
        snapshot = json.loads(base["before"])
        live = client.get_location(base["gbp_name"], READ_MASK)
        todo = [f for f in fields if canon(f, live) != canon(f, snapshot)]
        if not todo:
            result.unchanged.append(base["location"])
            continue
        body, mask = body_for(todo, snapshot)
        result.pushed.append(push(client, store, run_id, "rollback", base["location"],
                                  base["gbp_name"], todo, body, mask, live, snapshot))
    for base in [r for r in booking_rows if r["run_id"] == target and r["action"] == "apply"]:
        mine = [r for r in booking_rows if r["location"] == base["location"]]
        snapshot_links = json.loads(base["before"])
        kind = next((x["placeActionType"] for x in snapshot_links + json.loads(base["after"] or "[]")
                     if x.get("placeActionType")), "APPOINTMENT")
        done = booking.restore(client, store, run_id, base["location"], base["gbp_name"],
                               snapshot_links, booking.created_names(mine), kind)
        if done is None:
            if base["location"] not in result.unchanged and not any(
                    p.location == base["location"] for p in result.pushed):
                result.unchanged.append(base["location"])
            continue
        pushed = next((p for p in result.pushed if p.location == base["location"]), None)
        if pushed is None:
            pushed = Pushed(base["location"], base["gbp_name"], [], "verified")
            result.pushed.append(pushed)
            if base["location"] in result.unchanged:
                result.unchanged.remove(base["location"])
        pushed.fields.append(booking.FIELD)
        if done.status != "verified":
            pushed.status = "pending"
            pushed.unverified.append(booking.FIELD)
    return result
