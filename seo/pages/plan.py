"""Plan the site: which pages exist, at which paths, from which town and condition."""

from __future__ import annotations

from dataclasses import dataclass

from ..site import Site

KINDS = ("home", "areas", "town", "condition", "town_condition", "practitioner")


@dataclass(frozen=True)
class PagePlan:
    kind: str
    url_path: str  # "/", "/parker/", "/parker/sciatica/"
    town: str | None = None
    condition: str | None = None
    practitioner: str | None = None

    @property
    def file(self) -> str:
        """Output file relative to the site root."""
        return self.url_path.lstrip("/") + "index.html"

    @property
    def og_file(self) -> str:
        """The page's Open Graph card, beside its index.html."""
        return self.url_path.lstrip("/") + "og.png"

    @property
    def key(self) -> str:
        return self.url_path

    @property
    def template(self) -> str:
        return f"{self.kind}.html.j2"


def home_path() -> str:
    return "/"


def areas_path() -> str:
    return "/areas-we-serve/"


def town_path(town: str) -> str:
    return f"/{town}/"


def condition_path(condition: str) -> str:
    return f"/conditions/{condition}/"


def town_condition_path(town: str, condition: str) -> str:
    return f"/{town}/{condition}/"


def practitioner_path(pid: str) -> str:
    return f"/practitioners/{pid}/"


def plan_site(site: Site, towns: list[str] | None = None,
              conditions: list[str] | None = None) -> list[PagePlan]:
    """Every page of the site, in a stable order; optionally only those touching some towns/conditions.

    With a filter, hubs of the selected towns/conditions are included; the home and areas pages only
    when no filter is given.
    """
    want_t = set(towns) if towns else None
    want_c = set(conditions) if conditions else None
    for slug in want_t or ():
        site.town(slug)
    for slug in want_c or ():
        site.condition(slug)
    pages: list[PagePlan] = []
    if want_t is None and want_c is None:
        pages += [PagePlan("home", home_path()), PagePlan("areas", areas_path())]
        pages += [PagePlan("practitioner", practitioner_path(p.id), practitioner=p.id)
                  for p in site.config.business.practitioners]
    for cond in site.conditions:
        if (want_c is None or cond.slug in want_c) and want_t is None:
            pages.append(PagePlan("condition", condition_path(cond.slug), condition=cond.slug))
    for town in site.towns:
        if want_t is not None and town.slug not in want_t:
            continue
        if want_c is None:
            pages.append(PagePlan("town", town_path(town.slug), town=town.slug))
        for cond in site.conditions:
            if want_c is None or cond.slug in want_c:
                pages.append(PagePlan("town_condition", town_condition_path(town.slug, cond.slug),
                                      town=town.slug, condition=cond.slug))
    return pages
