"""Per-page checks: pure functions of one PageRecord and the clinic's facts, easy to unit-test.

Site-level checks (duplicates, orphans, sitemap, canonical targets, links) are in findings.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .canonical import Canonical, read_canonical
from .catalog import Finding
from .records import PageRecord
from .scope import Scope, origin_of

# schema.org LocalBusiness and its common subtypes; the configured business.type is added.
_TYPES = """
LocalBusiness MedicalBusiness MedicalClinic Dentist Physician Optician Pharmacy MedicalSpa
Chiropractor PhysicalTherapy DiagnosticLab HealthAndBeautyBusiness DaySpa HealthClub BeautySalon
HairSalon NailSalon TattooParlor SportsActivityLocation ExerciseGym ProfessionalService
LegalService Attorney Notary AccountingService FinancialService InsuranceAgency RealEstateAgent
HomeAndConstructionBusiness Electrician GeneralContractor HVACBusiness HousePainter Locksmith
MovingCompany Plumber RoofingContractor AutomotiveBusiness AutoRepair AutoDealer ChildCare
DryCleaningOrLaundry EmergencyService VeterinaryCare AnimalShelter FoodEstablishment Restaurant
Bakery CafeOrCoffeeShop Store ClothingStore HardwareStore LodgingBusiness Hotel TravelAgency
EntertainmentBusiness EmploymentAgency SelfStorage
"""
LOCAL_BUSINESS_TYPES = frozenset(_TYPES.split())
REQUIRED = ("name", "address")
RECOMMENDED = ("geo", "openingHoursSpecification", "telephone", "url")
ADDRESS_PARTS = ("streetAddress", "addressLocality", "addressRegion", "postalCode", "addressCountry")
PHONE_RE = re.compile(r"\+?\d[\d\s().-]{8,}\d")


def digits(phone: str) -> str:
    """Compare phones on their last ten digits: "+1 (303) 555-0142" == "303.555.0142"."""
    return re.sub(r"\D", "", phone)[-10:]


def squash(text: str) -> str:
    return " ".join(text.lower().replace(",", " ").replace(".", " ").split())


@dataclass(frozen=True)
class Place:
    name: str
    street: str
    locality: str
    postal_code: str
    telephone: str


@dataclass(frozen=True)
class CheckContext:
    """What the per-page checks compare against: thresholds and the clinic's NAP."""

    names: frozenset[str]
    places: tuple[Place, ...]
    phones: frozenset[str] = field(default=frozenset())  # digits()
    business_types: frozenset[str] = LOCAL_BUSINESS_TYPES
    title_max: int = 60
    description_max: int = 155
    max_page_kb: int = 500
    https: bool = False
    canonical_hosts: frozenset[str] = frozenset()  # other hosts a canonical may name
    scope: Scope | None = None  # the audited site; None: each page's own origin

    @classmethod
    def from_site(cls, site: Any, settings: Any, scope: Scope) -> CheckContext:
        biz = site.config.business
        places = tuple(Place(loc.name, loc.address.street, loc.address.locality,
                             loc.address.postal_code, loc.telephone) for loc in site.config.locations)
        return cls(names=frozenset({biz.name, *(p.name for p in places)}), places=places,
                   phones=frozenset({digits(biz.telephone), *(digits(p.telephone) for p in places)}),
                   business_types=LOCAL_BUSINESS_TYPES | {biz.type}, title_max=settings.title_max,
                   description_max=settings.description_max, max_page_kb=settings.max_page_kb,
                   https=scope.https, canonical_hosts=frozenset(settings.canonical_hosts),
                   scope=scope)


def is_noindex(record: PageRecord) -> bool:
    return "noindex" in record.robots or "noindex" in record.x_robots or "none" in record.robots.split(", ")


def check_page(record: PageRecord, ctx: CheckContext, page: str,
               canonical: Canonical | None = None) -> list[Finding]:
    """Findings about one fetched HTML page on its own (`page` is how findings name it).
    `canonical`: the page's canonical already read (`read_canonical`), to save reading it twice."""
    if not record.html:
        return []
    out: list[Finding] = []

    def add(kind: str, detail: str = "") -> None:
        out.append(Finding(kind, page, "", detail))

    title = record.titles[0].strip() if record.titles else ""
    if not title:
        add("title_missing")
    elif len(title) > ctx.title_max:
        add("title_too_long", f"{len(title)} characters (max {ctx.title_max})")
    desc = record.descriptions[0].strip() if record.descriptions else ""
    if not desc:
        add("description_missing")
    elif len(desc) > ctx.description_max:
        add("description_too_long", f"{len(desc)} characters (max {ctx.description_max})")
    if record.h1 == 0:
        add("h1_missing")
    elif record.h1 > 1:
        add("h1_multiple", f"{record.h1} h1 elements")
    if canonical is None:
        scope = ctx.scope or Scope(origin=origin_of(record.url))
        canonical = read_canonical(record, scope, ctx.canonical_hosts)
    out += [Finding(kind, page, "", detail) for kind, detail in canonical.problems]
    if ctx.https and record.insecure:
        add("mixed_content", _some(record.insecure))
    if record.img_no_alt:
        add("img_no_alt", f"{len(record.img_no_alt)} image(s): {_some(record.img_no_alt)}")
    if record.size > ctx.max_page_kb * 1024:
        add("oversized", f"{record.size // 1024} KB (max {ctx.max_page_kb} KB)")
    parsed, errors = parse_jsonld(record)
    out += [Finding("jsonld_invalid", page, "", e) for e in errors[:1]]
    out += check_jsonld(parsed, ctx, page)
    nap = nap_differences(record, ctx, parsed)
    if nap:
        add("nap_mismatch", "; ".join(nap))
    return out


def _some(items: list[str], n: int = 3) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


def parse_jsonld(record: PageRecord) -> tuple[list[Any], list[str]]:
    """The page's JSON-LD blocks parsed, and an error line for each block that does not parse."""
    parsed, errors = [], []
    for i, raw in enumerate(record.jsonld, start=1):
        try:
            parsed.append(json.loads(raw))
        except ValueError as exc:
            errors.append(f"block {i}: {exc}")
    return parsed, errors


def check_jsonld(parsed: list[Any], ctx: CheckContext, page: str) -> list[Finding]:
    out: list[Finding] = []
    required: list[str] = []
    recommended: list[str] = []
    for data in parsed:
        for node in local_businesses(data, ctx.business_types):
            label = _type_label(node)
            required += [f"{label}.{p}" for p in REQUIRED if _empty(node.get(p))]
            recommended += [f"{label}.{p}" for p in RECOMMENDED if _empty(node.get(p))]
            address = node.get("address")
            if isinstance(address, dict):
                recommended += [f"{label}.address.{p}" for p in ADDRESS_PARTS if _empty(address.get(p))]
            geo = node.get("geo")
            if isinstance(geo, dict) and (_empty(geo.get("latitude")) or _empty(geo.get("longitude"))):
                recommended.append(f"{label}.geo.latitude/longitude")
    if required:
        out.append(Finding("schema_required_missing", page, "", ", ".join(dict.fromkeys(required))))
    if recommended:
        out.append(Finding("schema_recommended_missing", page, "",
                           ", ".join(dict.fromkeys(recommended))))
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _types(node: dict) -> list[str]:
    t = node.get("@type", [])
    return [t] if isinstance(t, str) else [x for x in t if isinstance(x, str)] if isinstance(t, list) else []


def _type_label(node: dict) -> str:
    return "/".join(_types(node)) or "LocalBusiness"


# Properties that never hold a business: not walked, because on an agency site `areaServed` alone
# lists a thousand cities on every page (profiled: the walk dominated the checks).
_SKIP = frozenset({"areaServed", "openingHoursSpecification", "specialOpeningHoursSpecification",
                   "geo", "address", "signOrSymptom", "dayOfWeek", "sameAs", "alternateName",
                   "possibleTreatment", "image", "breadcrumb", "potentialAction"})


def _is_business(node: dict, types: frozenset[str]) -> bool:
    t = node.get("@type")
    names = [t] if isinstance(t, str) else t if isinstance(t, list) else ()
    for name in names:
        if isinstance(name, str) and (name in types or name.rsplit("/", 1)[-1] in types):
            return len(node) > 2 or "@id" not in node  # not a bare {"@id", "@type"} reference
    return False


def local_businesses(data: Any, types: frozenset[str]) -> Iterator[dict]:
    """Every LocalBusiness-type node in a JSON-LD document (top level, @graph or nested),
    skipping bare references ({"@id": ...})."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            if _is_business(item, types):
                yield item
            stack.extend(v for k, v in item.items() if k not in _SKIP and isinstance(v, dict | list))


def nap_differences(record: PageRecord, ctx: CheckContext,
                    parsed: list[Any] | None = None) -> list[str]:
    """Where the page's name, address or phone differs from config (empty when it agrees)."""
    diffs: list[str] = []
    for tel in dict.fromkeys(record.tel):
        if digits(tel) not in ctx.phones:
            diffs.append(f"phone {tel} (tel: link) is not a configured number")
    for text in dict.fromkeys(record.addresses):
        diffs += _address_differences(text, ctx)
    for data in parse_jsonld(record)[0] if parsed is None else parsed:
        for node in local_businesses(data, ctx.business_types):
            diffs += _jsonld_differences(node, ctx)
    return list(dict.fromkeys(diffs))


def _address_differences(text: str, ctx: CheckContext) -> list[str]:
    flat = squash(text)
    place = next((p for p in ctx.places if squash(p.street) in flat), None)
    out = []
    if place is None:
        out.append(f"address block {text[:80]!r} has no configured street address")
    elif squash(place.postal_code) not in flat or squash(place.locality) not in flat:
        out.append(f"address block {text[:80]!r} does not match {place.street}, {place.locality} "
                   f"{place.postal_code}")
    if not any(squash(n) in flat for n in ctx.names):
        out.append(f"address block {text[:80]!r} does not name the business")
    for phone in PHONE_RE.findall(text):
        if digits(phone) not in ctx.phones:
            out.append(f"phone {phone.strip()} in address block is not a configured number")
    return out


def _jsonld_differences(node: dict, ctx: CheckContext) -> list[str]:
    out = []
    name = node.get("name")
    if isinstance(name, str) and name.strip() and name.strip() not in ctx.names:
        out.append(f"JSON-LD name {name!r} is not {sorted(ctx.names)[0]!r}")
    tel = node.get("telephone")
    if isinstance(tel, str) and tel.strip() and digits(tel) not in ctx.phones:
        out.append(f"JSON-LD telephone {tel} is not a configured number")
    address = node.get("address")
    if isinstance(address, dict):
        street = squash(str(address.get("streetAddress", "")))
        postal = squash(str(address.get("postalCode", "")))
        if street and not any(squash(p.street) == street and (not postal or squash(p.postal_code) == postal)
                              for p in ctx.places):
            out.append(f"JSON-LD address {address.get('streetAddress')}, {address.get('postalCode', '')} "
                       "is not a configured location")
    return out
