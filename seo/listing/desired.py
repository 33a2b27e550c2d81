"""The listing each location should have, from config: Business Information v1 `Location` JSON.

Each managed field has a friendly name (used in config and output), the mask path read and the
mask path written, and a canonical form (lines of text) used both to compare and to show it:
Google answers in its own formatting ("(303) 555-0142", times without zero minutes), so values are
compared canonically, never byte for byte.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import jinja2

from ..errors import UserError
from ..pages.render import fit, template_loader
from ..settings import DAY_NAMES, GbpSettings, Location
from ..site import Site

DESCRIPTION_MAX = 750
SERVICE_DESCRIPTION_MAX = 250
DAYS = {"Mo": "MONDAY", "Tu": "TUESDAY", "We": "WEDNESDAY", "Th": "THURSDAY", "Fr": "FRIDAY",
        "Sa": "SATURDAY", "Su": "SUNDAY"}
DAY_ORDER = list(DAYS.values())
URL_RE = re.compile(r"https?://|www\.|\b[\w-]+\.(com|org|net|us|co|info|biz|health|clinic)\b", re.I)
PHONE_RE = re.compile(r"(\+?\d[\s().-]*){7,}")


@dataclass(frozen=True)
class Field:
    name: str  # friendly name: config keys and output
    read: str  # top-level readMask path
    write: str  # updateMask path


FIELDS = [
    Field("title", "title", "title"),
    Field("categories", "categories", "categories"),
    Field("phone", "phoneNumbers", "phoneNumbers.primaryPhone"),
    Field("website", "websiteUri", "websiteUri"),
    Field("address", "storefrontAddress", "storefrontAddress"),
    Field("hours", "regularHours", "regularHours"),
    Field("special_hours", "specialHours", "specialHours"),
    Field("service_area", "serviceArea", "serviceArea"),
    Field("description", "profile", "profile.description"),
    Field("services", "serviceItems", "serviceItems"),
    Field("open_info", "openInfo", "openInfo.status"),
]
BY_NAME = {f.name: f for f in FIELDS}
READ_MASK = ",".join(["name", *(f.read for f in FIELDS)])


def field_of_mask(path: str) -> str | None:
    """The friendly field a diffMask/pendingMask path belongs to ("phoneNumbers.primaryPhone" -> phone)."""
    for f in FIELDS:
        if path == f.read or path.startswith(f.read + ".") or f.read.startswith(path + "."):
            return f.name
    return None


def get_path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    if value is not None:
        obj[parts[-1]] = value


# -- canonical forms -------------------------------------------------------------------------------
def _time(t: Any) -> str:
    t = t if isinstance(t, dict) else {}
    return f"{int(t.get('hours', 0)):02d}:{int(t.get('minutes', 0)):02d}"


def _date(d: Any) -> str:
    d = d if isinstance(d, dict) else {}
    return f"{int(d.get('year', 0)):04d}-{int(d.get('month', 0)):02d}-{int(d.get('day', 0)):02d}"


def phone_canon(raw: str) -> str:
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 10:
        digits = "1" + digits
    return "+" + digits if digits else ""


def canon(name: str, loc: dict[str, Any]) -> list[str]:
    """Lines of text that say what a field holds; equal lines mean an equal field."""
    v = loc.get(BY_NAME[name].read)
    if name == "title":
        return [str(v or "")]
    if name == "categories":
        v = v or {}
        lines = [f"primary: {(v.get('primaryCategory') or {}).get('name', '')}"]
        return lines + sorted(f"additional: {c.get('name', '')}"
                              for c in v.get("additionalCategories") or [])
    if name == "phone":
        return [phone_canon((v or {}).get("primaryPhone", ""))]
    if name == "website":
        return [str(v or "")]
    if name == "address":
        v = v or {}
        return [", ".join([*v.get("addressLines", []), v.get("locality", ""),
                           f"{v.get('administrativeArea', '')} {v.get('postalCode', '')}".strip(),
                           v.get("regionCode", "")])] if v else [""]
    if name == "hours":
        periods = (v or {}).get("periods") or []
        rows = sorted(periods, key=lambda p: (DAY_ORDER.index(p.get("openDay", "MONDAY"))
                                              if p.get("openDay") in DAY_ORDER else 9,
                                              _time(p.get("openTime"))))
        return [f"{p.get('openDay', '?').title()} {_time(p.get('openTime'))}-"
                f"{_time(p.get('closeTime'))}" + (f" (closes {p['closeDay'].title()})"
                                                  if p.get("closeDay") != p.get("openDay") else "")
                for p in rows] or ["(none)"]
    if name == "special_hours":
        periods = (v or {}).get("specialHourPeriods") or []
        return sorted(f"{_date(p.get('startDate'))} " + (
            "closed" if p.get("closed") else f"{_time(p.get('openTime'))}-{_time(p.get('closeTime'))}")
            for p in periods) or ["(none)"]
    if name == "service_area":
        if not v:
            return ["(none)"]
        places = (v.get("places") or {}).get("placeInfos") or []
        return [f"type: {v.get('businessType', '')}", *sorted(
            f"place: {p.get('placeName', '')} ({p.get('placeId', '')})" for p in places)]
    if name == "description":
        return [" ".join(str((v or {}).get("description", "")).split())]
    if name == "services":
        items = []
        for item in v or []:
            ff = item.get("freeFormServiceItem") or {}
            label = ff.get("label") or {}
            items.append(f"{label.get('displayName', '')} [{ff.get('category', '')}]: "
                         f"{label.get('description', '')}")
        return sorted(items) or ["(none)"]
    if name == "open_info":
        return [str((v or {}).get("status", ""))]
    raise KeyError(name)


# -- desired state ---------------------------------------------------------------------------------
@dataclass
class Desired:
    location: Location
    gbp_name: str
    data: dict[str, Any]  # Location JSON, top-level keys = Field.read
    managed: list[str]  # friendly field names this location manages
    warnings: list[str] = field(default_factory=list)
    booking_uri: str = ""  # booking_link (Place Actions, not part of `data`)


def category_name(display: str, settings: GbpSettings) -> str:
    gcid = settings.category_ids.get(display) or "gcid:" + re.sub(r"[^a-z0-9]+", "_",
                                                                   display.lower()).strip("_")
    return gcid if gcid.startswith("categories/") else "categories/" + gcid


def utm(url: str, source: str, medium: str, campaign: str, content: str = "") -> str:
    parts = urlsplit(url)
    params = [("utm_source", source), ("utm_medium", medium), ("utm_campaign", campaign)]
    if content:
        params.append(("utm_content", content))
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _tod(hhmm: str) -> dict[str, int]:
    h, m = (int(x) for x in hhmm.split(":"))
    return {k: v for k, v in (("hours", h), ("minutes", m)) if v}  # proto3 JSON omits zeros


def _dateobj(d: date) -> dict[str, int]:
    return {"year": d.year, "month": d.month, "day": d.day}


def description_env(site: Site) -> jinja2.Environment:
    return jinja2.Environment(  # plain text for Google, never HTML: no autoescape
        loader=template_loader(site),
        autoescape=False, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_description(site: Site, loc: Location, settings: GbpSettings) -> str:
    name = settings.description_template
    towns = [t for t in site.towns if t.location.id == loc.id]
    try:
        text = description_env(site).get_template(name).render(
            business=site.config.business, location=loc, towns=towns, conditions=site.conditions,
            town_names=_join([t.name for t in towns]),
            condition_names=_join([c.phrase for c in site.conditions]))
    except jinja2.TemplateNotFound:
        raise UserError("description template not found", file=f"templates/{name}") from None
    except jinja2.TemplateError as exc:
        raise UserError(f"description template: {exc}", file=f"templates/{name}") from None
    text = " ".join(text.split())
    where = f"templates/{name}"
    if len(text) > DESCRIPTION_MAX:
        raise UserError(f"the listing description for {loc.id} is {len(text)} characters; Google "
                        f"allows {DESCRIPTION_MAX}", file=where)
    if URL_RE.search(text):
        raise UserError(f"the listing description for {loc.id} contains a link "
                        f"({URL_RE.search(text).group(0)!r}); Google rejects URLs there",  # type: ignore[union-attr]
                        file=where)
    if PHONE_RE.search(text):
        raise UserError(f"the listing description for {loc.id} contains a phone number; Google "
                        "rejects phone numbers there", file=where)
    return text


def _join(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def desired_state(site: Site, settings: GbpSettings, today: date) -> list[Desired]:
    """One Desired per location that names its Business Profile (`gbp_location`)."""
    biz = site.config.business
    out = []
    several = len(site.config.locations) > 1
    for loc in site.config.locations:
        if not loc.gbp_location:
            continue
        warnings: list[str] = []
        primary = category_name(biz.categories.primary, settings)
        data: dict[str, Any] = {
            "title": biz.name,
            "categories": {"primaryCategory": {"name": primary},
                           "additionalCategories": [{"name": category_name(c, settings)}
                                                    for c in biz.categories.additional]},
            "phoneNumbers": {"primaryPhone": loc.telephone},
            "websiteUri": utm(biz.url, settings.utm.source, settings.utm.medium,
                              settings.utm.website_campaign, loc.id if several else ""),
            "storefrontAddress": {"regionCode": loc.address.country,
                                  "postalCode": loc.address.postal_code,
                                  "administrativeArea": loc.address.region,
                                  "locality": loc.address.locality,
                                  "addressLines": [loc.address.street]},
            "regularHours": {"periods": [
                {"openDay": DAYS[d], "openTime": _tod(h.opens), "closeDay": DAYS[d],
                 "closeTime": _tod(h.closes)}
                for d in DAY_NAMES for h in loc.hours if d in h.days]},
            "specialHours": {"specialHourPeriods": [
                {"startDate": _dateobj(s.date), "closed": True} if s.closed or not s.opens else
                {"startDate": _dateobj(s.date), "openTime": _tod(s.opens),
                 "closeTime": _tod(s.closes or "23:59")}
                for s in sorted(loc.special_hours, key=lambda s: s.date) if s.date >= today]},
            "profile": {"description": render_description(site, loc, settings)},
            "serviceItems": [
                {"freeFormServiceItem": {"category": primary, "label": {
                    "displayName": fit([f"Acupuncture for {c.name}"], 140),
                    "description": fit([c.meta.summary, c.meta.summary.split(". ")[0] + "."],
                                       SERVICE_DESCRIPTION_MAX),
                    "languageCode": site.config.site.language}}}
                for c in site.conditions],
            "openInfo": {"status": settings.open_status},
        }
        managed = [f for f in settings.manage]
        towns = [t for t in site.towns if t.location.id == loc.id]
        places = [{"placeName": f"{t.name}, {t.config.state}", "placeId": t.config.place_id}
                  for t in towns if t.config.place_id]
        missing = [t.slug for t in towns if not t.config.place_id]
        if places:
            data["serviceArea"] = {"businessType": "CUSTOMER_AND_BUSINESS_LOCATION",
                                   "places": {"placeInfos": places[:20]}}
            if len(places) > 20:
                warnings.append(f"service area: Google takes 20 places; {len(places) - 20} left out")
        elif "service_area" in managed:
            managed.remove("service_area")
        if missing and "service_area" in settings.manage:
            warnings.append("service area: no place_id in config/towns.yaml for "
                            f"{', '.join(missing)} (left out)")
        from .booking import desired_uri
        out.append(Desired(loc, loc.gbp_location, data, managed, warnings,
                           desired_uri(settings, biz.booking_url, loc.id, several)))
    return out


def body_for(fields: list[str], source: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The patch body and exact updateMask carrying `fields` from a Location JSON `source`."""
    body: dict[str, Any] = {}
    mask = []
    for name in fields:
        f = BY_NAME[name]
        mask.append(f.write)
        set_path(body, f.write, get_path(source, f.write))
    return body, ",".join(mask)
