"""Drift: what Google shows that differs from ours (getGoogleUpdated diffMask: Google's own edits or
accepted public suggestions), and our edits Google still holds for review (pendingMask).

Per-field policy from config (`integrations.gbp.drift`): report (default) says so; restore pushes our
value back on the next `seo listing apply`; accept names the config change that adopts Google's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..settings import GbpSettings
from ..store import Store, now
from ..tables import listing_drift
from . import booking
from .client import GbpClient
from .desired import READ_MASK, Desired, canon, field_of_mask


@dataclass
class Drifted:
    field: str
    policy: str
    google: list[str]
    ours: list[str]
    hint: str = ""


@dataclass
class LocationDrift:
    location: str
    gbp_name: str
    drifted: list[Drifted] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


def config_key(name: str, loc_index: int, settings: GbpSettings) -> str:
    return {
        "title": "business.name in config/site.yaml",
        "categories": "business.categories in config/site.yaml",
        "phone": f"locations[{loc_index}].telephone in config/site.yaml",
        "website": "business.url in config/site.yaml",
        "address": f"locations[{loc_index}].address in config/site.yaml",
        "hours": f"locations[{loc_index}].hours in config/site.yaml",
        "special_hours": f"locations[{loc_index}].special_hours in config/site.yaml",
        "service_area": "the towns' place_id in config/towns.yaml",
        "description": f"templates/{settings.description_template}",
        "services": "the conditions' summary in content/conditions/",
        "open_info": "integrations.gbp.open_status in config/site.yaml",
        "booking_link": "business.booking_url in config/site.yaml",
    }[name]


def drift_location(client: GbpClient, desired: Desired, settings: GbpSettings,
                   loc_index: int, store: Store | None = None) -> LocationDrift:
    answer = client.get_google_updated(desired.gbp_name, READ_MASK)
    shown = answer.get("location") if isinstance(answer.get("location"), dict) else {}
    out = LocationDrift(desired.location.id, desired.gbp_name)
    diff = _fields(answer.get("diffMask"))
    for name in diff:
        policy = settings.drift.get(name, "report")  # type: ignore[call-overload]
        google, ours = canon(name, shown), canon(name, desired.data)
        hint = ""
        if policy == "accept":
            hint = f"to accept Google's version, set {config_key(name, loc_index, settings)} to " \
                   f"{' / '.join(google)}"
        elif policy == "restore":
            hint = "ours goes back on the next `seo listing apply`"
        else:
            hint = f"to push ours back, set integrations.gbp.drift.{name}: restore; to adopt " \
                   f"Google's, set {config_key(name, loc_index, settings)}"
        out.drifted.append(Drifted(name, policy, google, ours, hint))
    out.pending = _fields(answer.get("pendingMask"))
    if booking.FIELD in desired.managed and booking.applied_before(store, desired.location.id):
        links = booking.list_links(client, desired.gbp_name, settings.booking_type)
        google, ours = booking.canon(links), booking.wanted(desired.booking_uri)
        if google != ours:  # set by an apply of ours, changed since by someone else
            policy = settings.drift.get(booking.FIELD, "report")  # type: ignore[call-overload]
            hint = {"restore": "ours goes back on the next `seo listing apply`",
                    "accept": "to accept it, set business.booking_url in config/site.yaml to the "
                              "link shown (without its utm_ parameters)"}.get(
                policy, "to push ours back, set integrations.gbp.drift.booking_link: restore")
            out.drifted.append(Drifted(booking.FIELD, policy, google, ours, hint))
    return out


def _fields(mask: object) -> list[str]:
    names: list[str] = []
    for path in str(mask or "").split(","):
        name = field_of_mask(path.strip()) if path.strip() else None
        if name and name not in names:
            names.append(name)
    return names


def log_drift(store: Store, run_id: int, found: list[LocationDrift]) -> None:
    with store.begin() as conn:
        for ld in found:
            for d in ld.drifted:
                conn.execute(listing_drift.insert().values(
                    run_id=run_id, location=ld.location, field=d.field, kind="google",
                    policy=d.policy, google_value="\n".join(d.google), our_value="\n".join(d.ours),
                    at=now()))
            for name in ld.pending:
                conn.execute(listing_drift.insert().values(
                    run_id=run_id, location=ld.location, field=name, kind="pending", policy="",
                    google_value="", our_value="", at=now()))


def render_drift(found: list[LocationDrift]) -> str:
    out = []
    for ld in found:
        if not ld.drifted and not ld.pending:
            out.append(f"location {ld.location} ({ld.gbp_name}): no drift")
            continue
        out.append(f"location {ld.location} ({ld.gbp_name}): {len(ld.drifted)} field"
                   f"{'s' if len(ld.drifted) != 1 else ''} Google shows differently")
        for d in ld.drifted:
            out.append(f"  ! {d.field} (policy {d.policy})")
            out += [f"      google: {x}" for x in d.google]
            out += [f"      ours:   {x}" for x in d.ours]
            if d.hint:
                out.append(f"      {d.hint}")
        if ld.pending:
            out.append(f"  pending review at Google (our edits): {', '.join(ld.pending)}")
    return "\n".join(out)
