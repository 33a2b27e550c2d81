"""schema.org JSON-LD for each page: the clinic, the page, the condition and the breadcrumb.

Emitted in templates with `|tojson` (escapes <, > and & so a value can't close the script tag).
No review or aggregateRating markup: Google treats self-serving reviews as ineligible.
"""

from __future__ import annotations

from typing import Any

from ..content import Condition
from ..settings import DAY_NAMES, Location
from ..site import Site, Town


def clinic_id(site: Site, loc: Location) -> str:
    return f"{site.config.business.url}#clinic-{loc.id}"


AREA_SERVED_MAX = 20


def clinic(site: Site, loc: Location, town: Town | None = None) -> dict[str, Any]:
    """The clinic node. areaServed lists every served town up to AREA_SERVED_MAX; past that
    (agency scale) a page lists only its own town, so page size doesn't grow with the town count."""
    biz = site.config.business
    served = site.towns_served_by(loc.id)
    if len(served) > AREA_SERVED_MAX:
        served = [town] if town else []
    node: dict[str, Any] = {
        "@type": biz.type,
        "@id": clinic_id(site, loc),
        "name": loc.name,
        "url": biz.url,
        "telephone": loc.telephone,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": loc.address.street,
            "addressLocality": loc.address.locality,
            "addressRegion": loc.address.region,
            "postalCode": loc.address.postal_code,
            "addressCountry": loc.address.country,
        },
        "geo": {"@type": "GeoCoordinates", "latitude": loc.geo.lat, "longitude": loc.geo.lng},
        "openingHoursSpecification": [
            {"@type": "OpeningHoursSpecification",
             "dayOfWeek": [f"https://schema.org/{DAY_NAMES[d]}" for d in h.days],
             "opens": h.opens, "closes": h.closes}
            for h in loc.hours
        ],
        "areaServed": [{"@type": "City", "name": f"{t.name}, {t.config.state}"} for t in served],
        "medicalSpecialty": "Acupuncture",
        "potentialAction": {"@type": "ReserveAction", "target": biz.booking_url},
    }
    if not node["areaServed"]:
        del node["areaServed"]
    if biz.email:
        node["email"] = biz.email
    if biz.same_as:
        node["sameAs"] = biz.same_as
    return node


def condition_node(cond: Condition, url: str) -> dict[str, Any]:
    meta = cond.meta
    node: dict[str, Any] = {
        "@type": "MedicalCondition",
        "@id": f"{url}#condition",
        "name": meta.name,
        "signOrSymptom": [{"@type": "MedicalSignOrSymptom", "name": s} for s in meta.symptoms],
        "possibleTreatment": {"@type": "MedicalTherapy", "name": "Acupuncture"},
    }
    if meta.synonyms:
        node["alternateName"] = meta.synonyms
    return node


def breadcrumb(crumbs: list[tuple[str, str]], url: str) -> dict[str, Any]:
    return {
        "@type": "BreadcrumbList",
        "@id": f"{url}#breadcrumb",
        "itemListElement": [
            {"@type": "ListItem", "position": i, "name": name, "item": href}
            for i, (name, href) in enumerate(crumbs, start=1)
        ],
    }


def graph(site: Site, *, url: str, title: str, description: str, crumbs: list[tuple[str, str]],
          town: Town | None, condition: Condition | None) -> dict[str, Any]:
    """The page's whole @graph."""
    locs = [town.location] if town else site.config.locations
    nodes: list[dict[str, Any]] = [clinic(site, loc, town) for loc in locs]
    page: dict[str, Any] = {
        "@type": "MedicalWebPage" if condition else "WebPage",
        "@id": f"{url}#webpage",
        "url": url,
        "name": title,
        "description": description,
        "inLanguage": site.config.site.language,
        "isPartOf": {"@type": "WebSite", "@id": f"{site.config.business.url}#website",
                     "name": site.config.business.name, "url": site.config.business.url},
        "breadcrumb": {"@id": f"{url}#breadcrumb"},
        "about": {"@id": clinic_id(site, locs[0])},
    }
    if condition:
        nodes.append(condition_node(condition, url))
        page["about"] = {"@id": f"{url}#condition"}
        page["mainEntity"] = {"@id": f"{url}#condition"}
        review = condition.meta.reviewed
        if review:
            person = next(p for p in site.config.business.practitioners if p.id == review.by)
            page["lastReviewed"] = review.date.isoformat()
            page["reviewedBy"] = {"@type": "Person", "name": person.name,
                                  **({"honorificSuffix": person.credentials}
                                     if person.credentials else {})}
    nodes.append(page)
    nodes.append(breadcrumb(crumbs, url))
    return {"@context": "https://schema.org", "@graph": nodes}
