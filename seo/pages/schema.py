"""schema.org JSON-LD for each page: the clinic, the page, the condition and the breadcrumb.

Emitted in templates with `|tojson` (escapes <, > and & so a value can't close the script tag).
No review or aggregateRating markup: Google treats self-serving reviews as ineligible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..content import Condition
from ..settings import DAY_NAMES, License, Location, Practitioner
from ..site import Site, Town


@dataclass(frozen=True)
class Media:
    """Absolute URLs of the pictures and pages that markup points to."""

    photos: dict[str, list[str]] = field(default_factory=dict)  # location id -> photo URLs
    logo: str | None = None
    portraits: dict[str, str] = field(default_factory=dict)  # practitioner id -> photo URL
    people: dict[str, str] = field(default_factory=dict)  # practitioner id -> page URL


def clinic_id(site: Site, loc: Location) -> str:
    return f"{site.config.business.url}#clinic-{loc.id}"


AREA_SERVED_MAX = 20


def clinic(site: Site, loc: Location, town: Town | None = None,
           media: Media | None = None) -> dict[str, Any]:
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
        "telephone": site.phone(loc.telephone).e164,
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
    if media and media.photos.get(loc.id):
        node["image"] = media.photos[loc.id]
    if media and media.logo:
        node["logo"] = media.logo
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


def _credential(lic: License, category: str) -> dict[str, Any]:
    node: dict[str, Any] = {"@type": "EducationalOccupationalCredential",
                            "credentialCategory": category, "name": lic.name}
    if lic.number:
        node["identifier"] = lic.number
    if lic.region:
        node["validIn"] = {"@type": "AdministrativeArea", "name": lic.region}
    if lic.issuer:
        node["recognizedBy"] = {"@type": "Organization", "name": lic.issuer.name,
                                **({"url": lic.issuer.url} if lic.issuer.url else {})}
    return node


def person_id(media: Media, pid: str) -> str:
    return f"{media.people[pid]}#person"


def person_node(site: Site, person: Practitioner, media: Media, *, full: bool) -> dict[str, Any]:
    """A practitioner: the short form (who reviewed a page) or the full one (their own page)."""
    node: dict[str, Any] = {"@type": "Person", "@id": person_id(media, person.id),
                            "name": person.name, "url": media.people[person.id],
                            "jobTitle": person.job_title}
    if person.credentials:
        node["honorificSuffix"] = person.credentials
    if person.id in media.portraits:
        node["image"] = media.portraits[person.id]
    if not full:
        return node
    if person.bio:
        node["description"] = person.bio
    clinics = [{"@id": clinic_id(site, loc)} for loc in site.config.locations]
    node["worksFor"] = clinics
    node["memberOf"] = [*clinics, *({"@type": "Organization", "name": org.name,
                                     **({"url": org.url} if org.url else {})}
                                    for org in person.member_of)]
    credentials = ([_credential(person.license, "license")] if person.license else [])
    credentials += [_credential(c, "certification") for c in person.certifications]
    if credentials:
        node["hasCredential"] = credentials
    node["knowsAbout"] = [c.name for c in site.treats(person)]
    return node


def graph(site: Site, *, url: str, title: str, description: str, crumbs: list[tuple[str, str]],
          town: Town | None, condition: Condition | None, media: Media | None = None,
          person: Practitioner | None = None,
          reviewer: Practitioner | None = None) -> dict[str, Any]:
    """The page's whole @graph."""
    media = media or Media()
    locs = [town.location] if town else site.config.locations
    nodes: list[dict[str, Any]] = [clinic(site, loc, town, media) for loc in locs]
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
        if review and reviewer and reviewer.id in media.people:
            page["lastReviewed"] = review.date.isoformat()
            page["reviewedBy"] = {"@id": person_id(media, reviewer.id)}
            nodes.append(person_node(site, reviewer, media, full=False))
    if person and person.id in media.people:
        page["@type"] = "ProfilePage"
        page["mainEntity"] = {"@id": person_id(media, person.id)}
        page["about"] = {"@id": person_id(media, person.id)}
        nodes.append(person_node(site, person, media, full=True))
    nodes.append(page)
    nodes.append(breadcrumb(crumbs, url))
    return {"@context": "https://schema.org", "@graph": nodes}
