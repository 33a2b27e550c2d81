"""The areas we serve, split so that no page grows with the number of towns.

A site whose towns fit on one page lists them all on /areas-we-serve/. A larger one (an agency's
client with hundreds of towns) gets one page per county (/areas-we-serve/douglas-county-co/), a
county with more towns than a page holds split into parts of consecutive towns by name
(/areas-we-serve/douglas-county-co/2/); when there
would be more county pages than the index can list, the pages are per state instead. Each of these
pages lists its towns and, under each, the town's condition pages, so every page of the site is
within three clicks of the home page (home, areas index, area page, any town or town x condition
page) while no page carries more than a few hundred links.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..site import Site, Town

AREA_LINKS_MAX = 240  # links an area page gives its towns (each town and its condition pages)
INDEX_MAX = 200  # area pages the index lists; past this, areas are states instead of counties
HOME_TOWNS = 12  # towns the home page lists (the clinics' own towns first, then the nearest)


@dataclass(frozen=True)
class Area:
    slug: str  # "douglas-county-co", "douglas-county-co/2" (its second part)
    region: str  # "Douglas County, CO" or "CO"
    state: str
    towns: tuple[Town, ...]  # sorted by name
    part: int = 1
    parts: int = 1
    by: str = "county"  # or "state"

    @property
    def name(self) -> str:
        """"Douglas County, CO", or "Douglas County, CO: Acres Green to Lone Tree" for a part."""
        if self.parts == 1:
            return self.region
        return f"{self.region}: {self.towns[0].name} to {self.towns[-1].name}"


def towns_per_page(site: Site) -> int:
    return max(1, AREA_LINKS_MAX // (1 + len(site.conditions)))


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-") or "area"


def split_areas(site: Site) -> list[Area]:
    """The area pages under the index, in a stable order; none when every town fits the index."""
    per_page = towns_per_page(site)
    if len(site.towns) <= per_page:
        return []
    by_county: dict[tuple[str, str], list[Town]] = {}
    for town in site.towns:
        key = (town.config.state, " ".join(town.config.county.split()))
        by_county.setdefault(key, []).append(town)
    by = "county"
    if sum(-(-len(ts) // per_page) for ts in by_county.values()) <= INDEX_MAX:
        groups = {(state, f"{county}, {state}"): ts for (state, county), ts in by_county.items()}
    else:
        groups, by = {}, "state"
        for (state, _), ts in by_county.items():
            groups.setdefault((state, state), []).extend(ts)
    areas: list[Area] = []
    used: set[str] = set()
    for (state, region), towns in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1].casefold())):
        towns = sorted(towns, key=lambda t: (t.name.casefold(), t.slug))
        base = slugify(region)
        slug, n = base, 1
        while slug in used:  # two regions that spell alike ("St. Marys" and "St Marys")
            n += 1
            slug = f"{base}-{n}"
        chunks = [towns[i:i + per_page] for i in range(0, len(towns), per_page)]
        for part, chunk in enumerate(chunks, 1):
            page_slug = slug if part == 1 else f"{slug}/{part}"
            areas.append(Area(slug=page_slug, region=region, state=state, towns=tuple(chunk),
                              part=part, parts=len(chunks), by=by))
        used.add(slug)
    return areas


def area_of(areas: list[Area]) -> dict[str, Area]:
    """Town slug -> the area page listing it."""
    return {t.slug: area for area in areas for t in area.towns}


def home_towns(site: Site) -> list[Town]:
    """The towns the home page lists: all of them when few, else the clinics' own towns and the
    nearest by drive time (ties by name)."""
    if len(site.towns) <= HOME_TOWNS:
        return site.towns
    ranked = sorted(site.towns, key=lambda t: (not t.is_home, t.drive_minutes, t.name, t.slug))
    return ranked[:HOME_TOWNS]
