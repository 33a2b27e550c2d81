"""Plan: read each live location, diff it field by field against config, say what would change.

The saved plan carries the exact body and updateMask to send and a hash of the live listing it
was made against: `apply --plan FILE` refuses it when the live listing has changed since.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..atomic import atomic_write
from ..errors import UserError
from ..settings import GbpSettings
from ..store import Store
from . import booking
from .client import GbpClient
from .desired import BY_NAME, READ_MASK, Desired, body_for, canon, field_of_mask

PLAN_VERSION = 1


def snapshot_hash(live: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(live, sort_keys=True, separators=(",", ":")).encode()
                          ).hexdigest()


@dataclass
class Change:
    field: str
    before: list[str]
    after: list[str]
    reason: str = "config"  # config | restore (Google's version differs; policy restore)


@dataclass
class Held:
    """A field Google shows differently that this plan does not push (policy report or accept)."""

    field: str
    policy: str
    google: list[str]
    ours: list[str]


@dataclass
class LocationPlan:
    location: str  # config id
    gbp_name: str
    live_hash: str
    changes: list[Change] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    body: dict[str, Any] = field(default_factory=dict)
    update_mask: str = ""
    booking: dict[str, Any] = field(default_factory=dict)  # booking_link: BookingAction.to_dict()
    notes: list[str] = field(default_factory=list)  # things seen and left alone (aggregator links)

    @property
    def v1_fields(self) -> list[str]:
        """Changed fields that go through Business Information (all but booking_link)."""
        return [c.field for c in self.changes if c.field in BY_NAME]


@dataclass
class ListingPlan:
    locations: list[LocationPlan]
    version: int = PLAN_VERSION

    @property
    def change_count(self) -> int:
        return sum(len(lp.changes) for lp in self.locations)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, file: str) -> ListingPlan:
        try:
            raw = json.loads(text)
            if raw.get("version") != PLAN_VERSION:
                raise ValueError(f"plan version {raw.get('version')!r}")
            locs = []
            for lp in raw["locations"]:
                lp = dict(lp)
                lp["changes"] = [Change(**c) for c in lp["changes"]]
                lp["held"] = [Held(**h) for h in lp["held"]]
                if lp.get("booking"):
                    booking.BookingAction(**lp["booking"])  # the shape apply will use
                locs.append(LocationPlan(**lp))
            return cls(locations=locs)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"not a listing plan ({type(exc).__name__}: {exc}); make one with "
                            "`seo listing plan`", file=file) from None

    def save(self, path: Path) -> None:
        atomic_write(path, self.to_json().encode())


def plan_location(client: GbpClient, desired: Desired, settings: GbpSettings,
                  store: Store | None = None) -> LocationPlan:
    live = client.get_location(desired.gbp_name, READ_MASK)
    updated = client.get_google_updated(desired.gbp_name, READ_MASK)
    google_loc = updated.get("location") if isinstance(updated.get("location"), dict) else {}
    drifted = {f for p in str(updated.get("diffMask") or "").split(",") if p.strip()
               for f in [field_of_mask(p.strip())] if f}
    lp = LocationPlan(desired.location.id, desired.gbp_name, snapshot_hash(live),
                      warnings=list(desired.warnings))
    for name in desired.managed:
        if name == booking.FIELD:
            plan_booking(client, desired, settings, store, lp)
            continue
        ours, theirs = canon(name, desired.data), canon(name, live)
        if ours != theirs:
            lp.changes.append(Change(name, theirs, ours))
            continue
        if name in drifted:
            shown = canon(name, google_loc)
            policy = settings.drift.get(name, "report")  # type: ignore[call-overload]
            if shown == ours:
                lp.unchanged.append(name)
            elif policy == "restore":
                lp.changes.append(Change(name, shown, ours, reason="restore"))
            else:
                lp.held.append(Held(name, policy, shown, ours))
            continue
        lp.unchanged.append(name)
    lp.body, lp.update_mask = body_for(lp.v1_fields, desired.data)
    return lp


def plan_booking(client: GbpClient, desired: Desired, settings: GbpSettings, store: Store | None,
                 lp: LocationPlan) -> None:
    """booking_link: a config change, or drift once our link was set (policy as for others)."""
    links = booking.list_links(client, desired.gbp_name, settings.booking_type)
    lp.notes += booking.notes(links)
    action = booking.plan_action(links, desired.booking_uri, settings.booking_type)
    if action is None:
        lp.unchanged.append(booking.FIELD)
        return
    theirs, ours = booking.canon(links), booking.wanted(desired.booking_uri)
    if booking.applied_before(store, desired.location.id):
        policy = settings.drift.get(booking.FIELD, "report")  # type: ignore[call-overload]
        if policy != "restore":
            lp.held.append(Held(booking.FIELD, policy, theirs, ours))
            return
        lp.changes.append(Change(booking.FIELD, theirs, ours, reason="restore"))
    else:
        lp.changes.append(Change(booking.FIELD, theirs, ours))
    lp.booking = action.to_dict()


def render_plan(plan: ListingPlan, saved_to: str | None = None) -> str:
    """Readable, like `terraform plan`: ~ changed fields with - before / + after lines."""
    out: list[str] = []
    for lp in plan.locations:
        out.append(f"location {lp.location} ({lp.gbp_name})")
        for w in lp.warnings:
            out.append(f"  warning: {w}")
        for note in lp.notes:
            out.append(f"  note: {note}")
        for c in lp.changes:
            why = "  (restore: Google shows a different value)" if c.reason == "restore" else ""
            out.append(f"  ~ {c.field}{why}")
            removed = [x for x in c.before if x not in c.after]
            added = [x for x in c.after if x not in c.before]
            out += [f"      - {x}" for x in removed] or (["      - (empty)"] if not c.before else [])
            out += [f"      + {x}" for x in added]
        for h in lp.held:
            out.append(f"  ! {h.field}: Google shows {' / '.join(h.google)} (drift policy {h.policy}; "
                       "not pushed, see `seo listing drift`)")
        if lp.unchanged:
            out.append(f"  = {len(lp.unchanged)} unchanged: {', '.join(lp.unchanged)}")
    n, locs = plan.change_count, sum(1 for lp in plan.locations if lp.changes)
    if n:
        out.append(f"Plan: {n} field{'s' if n != 1 else ''} to change at {locs} "
                   f"location{'s' if locs != 1 else ''}.")
        if saved_to:
            out.append(f"Saved to {saved_to}; apply it with `seo listing apply --plan {saved_to}`.")
    else:
        out.append("No changes: the live listing matches the config.")
    return "\n".join(out)


def field_names() -> list[str]:
    return list(BY_NAME)
