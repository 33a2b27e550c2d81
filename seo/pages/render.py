"""Render planned pages through Jinja2: autoescape on, StrictUndefined, site templates first."""

from __future__ import annotations

import hashlib
import html
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from jinja2.loaders import split_template_path

from ..errors import UserError
from ..files import read_project_text
from ..settings import DAY_NAMES, DAYS, Location
from ..site import Site, Town
from . import plan as paths
from . import schema
from .images import Images
from .og import Cards, card_title
from .plan import PagePlan

BUILTIN_TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TITLE_MAX, DESCRIPTION_MAX = 60, 155
TOWN_LIST_MAX = 12  # past this, footers and condition hubs point to the areas page instead


class ProjectTemplates(jinja2.FileSystemLoader):
    """The project's own templates: regular files inside the project only (see `seo.files`), so
    a symlinked template cannot pull a file from elsewhere on the machine into the pages."""

    def __init__(self, folder: Path, root: Path) -> None:
        super().__init__(str(folder))
        self.folder, self.root = folder, root

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        path = self.folder.joinpath(*split_template_path(template))
        if not os.path.lexists(path):
            raise jinja2.TemplateNotFound(template)
        text = read_project_text(path, f"templates/{template}", root=self.root)
        mtime = os.lstat(path).st_mtime
        return text, str(path), lambda: os.path.lexists(path) and os.lstat(path).st_mtime == mtime


def template_loader(site: Site) -> jinja2.ChoiceLoader:
    """Site's own `templates/` first, then the built-in ones (a site overrides any template)."""
    own = site.root / "templates"
    loaders: list[jinja2.BaseLoader] = []
    if own.is_dir() and own.resolve() != BUILTIN_TEMPLATES.resolve():
        loaders.append(ProjectTemplates(own, site.root))
    loaders.append(jinja2.FileSystemLoader(str(BUILTIN_TEMPLATES)))
    return jinja2.ChoiceLoader(loaders)


def environment(site: Site) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=template_loader(site),
        autoescape=True,  # select_autoescape() would miss the .j2 extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    return env


def templates_fingerprint(env: jinja2.Environment) -> str:
    """Hash of every template the environment can see, so a template edit rebuilds pages."""
    digest = hashlib.sha256()
    for name in sorted(env.list_templates(extensions=["j2"])):
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        digest.update(name.encode() + b"\0" + source.encode())
    return digest.hexdigest()


def fit(candidates: list[str], limit: int, cut: list[str] | None = None) -> str:
    """The first candidate that fits the limit; else the last one cut at a word boundary (and the
    cut is recorded in `cut`, so `seo check` can say which description lost its end)."""
    for text in candidates:
        if len(text) <= limit:
            return text
    text = candidates[-1]
    if cut is not None:
        cut.append(text)
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def excerpt(note_html: str, words: int = 80) -> str:
    """The start of a note's first paragraph as plain text: whole sentences up to about `words`
    words (at least one), so a town's notes appear in full only on the town's own page."""
    start = note_html.find("<p>")
    end = note_html.find("</p>", start)
    para = note_html[start + 3:end] if start >= 0 and end > start else note_html
    text = html.unescape(re.sub(r"<[^>]+>", "", para)).strip()
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out = sentences[0]
    for sentence in sentences[1:]:
        if len((out + " " + sentence).split()) > words:
            break
        out += " " + sentence
    return out


def first_sentence(text: str) -> str:
    text = text.strip()
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


def hours_rows(site: Site, town: Town | None) -> list[tuple[str, str]]:
    loc = town.location if town else site.config.locations[0]
    rows = []
    for day in DAY_NAMES:
        spans = [site.locale.span(h.opens, h.closes) for h in loc.hours if day in h.days]
        rows.append((DAY_NAMES[day], ", ".join(spans) if spans else "Closed"))
    return rows


def hours_summary(site: Site, loc: Location) -> list[tuple[str, str]]:
    """Days with the same hours run together: [("Mon–Thu", "9 am–6 pm"), ("Fri", ...)]; closed
    days left out."""
    out: list[tuple[list[str], str]] = []
    previous = None
    for day in DAYS:
        spans = ", ".join(site.locale.span(h.opens, h.closes) for h in loc.hours if day in h.days)
        if spans and previous is not None and out and out[-1][1] == spans and previous == spans:
            out[-1][0].append(day)
        elif spans:
            out.append(([day], spans))
        previous = spans
    short = {d: DAY_NAMES[d][:3] for d in DAYS}
    return [(short[days[0]] if len(days) == 1 else f"{short[days[0]]}–{short[days[-1]]}", spans)
            for days, spans in out]


def directions_url(loc: Location) -> str:
    """Google Maps directions to the location (Maps URLs API): by place_id when it is known."""
    query = {"api": "1", "destination": f"{loc.name}, {loc.address.one_line()}"}
    if loc.place_id:
        query["destination_place_id"] = loc.place_id
    return "https://www.google.com/maps/dir/?" + urlencode(query)


class Renderer:
    """Builds each page's context and renders it. One per build; templates compiled once.

    `images` encodes pictures and `cards` draws social cards as pages need them; without a writer
    (`seo check`) both only compute names, so checking writes nothing.
    """

    def __init__(self, site: Site, images: Images | None = None, cards: Cards | None = None) -> None:
        self.site = site
        self.env = environment(site)
        self.base = site.config.business.url.rstrip("/")
        self.images = images or Images(site, None)
        self.cards = cards or Cards(site, None, self.images)
        self.cut: list[str] = []  # meta descriptions that had to be cut
        biz, theme = site.config.business, site.config.site.theme
        locale = site.locale
        self.people = {p.id: self._person(p) for p in biz.practitioners}
        photos = {loc.id: (self.images.picture(loc.photos[0], "hero") if loc.photos else None)
                  for loc in site.config.locations}
        self.photos = photos
        self.og_photo = self.cards.photo() if theme.og_image == "photo" else None
        self.common = {
            "business": biz, "lang": locale.tag, "og_locale": locale.og_locale,
            "theme_color": site.config.site.theme_color, "theme": theme,
            "towns": site.towns, "conditions": site.conditions,
            "paths": paths, "url_for": _href, "locale": locale, "spell": locale.spell,
            "phone": site.phone, "practitioners": list(self.people.values()),
            "logo": self.images.picture(biz.logo, "logo") if biz.logo else None,
            "directions_url": directions_url, "fonts": self._fonts(),
        }

    def _person(self, person: Any) -> dict[str, Any]:
        return {"id": person.id, "config": person, "url": paths.practitioner_path(person.id),
                "photo": self.images.picture(person.photo, "portrait") if person.photo else None}

    def _fonts(self) -> list[dict[str, str]]:
        """Self-hosted font faces (copied to /fonts/ by the build); none by default."""
        return [{"family": f.family, "url": f"/fonts/{f.file}", "weight": f.weight, "style": f.style}
                for f in self.site.config.site.theme.fonts]

    def url(self, path: str) -> str:
        return self.base + path

    def render(self, page: PagePlan, *, indexable: bool = True, canonical: str | None = None) -> str:
        ctx = self.context(page)
        ctx["robots"] = "index, follow" if indexable else "noindex, follow"
        ctx["canonical"] = canonical or ctx["url"]
        if self.og_photo is None:  # draw the page's card (once: unchanged cards are kept)
            self.cards.ensure(page.og_file, card_title(ctx["title"], self.site.config.business.name))
        try:
            return self.env.get_template(page.template).render(ctx)
        except jinja2.UndefinedError as exc:
            file, line = _template_position(exc, page)
            raise UserError(f"undefined variable: {exc.message}", file=file, line=line) from None
        except jinja2.TemplateSyntaxError as exc:
            raise UserError(f"template syntax error: {exc.message}", file=exc.filename or exc.name,
                            line=exc.lineno) from None
        except jinja2.TemplateNotFound as exc:
            raise UserError(f"template not found: {exc.name}", file="templates/") from None

    def asset(self, template: str) -> bytes:
        """A site-wide file rendered from a template (e.g. the favicon)."""
        return self.env.get_template(template).render(self.common).encode()

    def hub_of(self, page: PagePlan) -> str:
        """Where a page that fails the doorway guard points its canonical."""
        if page.kind == "town_condition" and page.town:
            return self.url(paths.town_path(page.town))
        if page.kind == "town":
            return self.url(paths.areas_path())
        return self.url(paths.home_path())

    def context(self, page: PagePlan) -> dict[str, Any]:
        site, biz = self.site, self.site.config.business
        town = site.town(page.town) if page.town else None
        cond = site.condition(page.condition) if page.condition else None
        person = self.people[page.practitioner] if page.practitioner else None
        loc = town.location if town else site.config.locations[0]
        url = self.url(page.url_path)
        crumbs = [("Home", "/")]
        treats = "back, neck and shoulder pain"
        where = f"{loc.address.locality}, {loc.address.region}"
        if page.kind == "home":
            title = fit([f"{biz.name} | Acupuncture South of Denver", biz.name], TITLE_MAX)
            h1 = f"Acupuncture for {treats} in {where}"
            others = [t.name for t in site.towns if not t.is_home]
            desc = fit([f"{biz.name} treats {treats} with acupuncture for patients from "
                         f"{_town_list(site)}. Book online or call.",
                         f"Acupuncture for {treats} in {where}, for patients from "
                         f"{_and(others)}.",
                         f"Acupuncture for {treats} in {where}, for patients from {len(others)} "
                         "towns nearby. Book online or call."], DESCRIPTION_MAX, self.cut)
        elif page.kind == "areas":
            crumbs.append(("Areas we serve", page.url_path))
            title = fit([f"Areas We Serve | {biz.name}", "Areas We Serve"], TITLE_MAX)
            h1 = "Areas we serve"
            desc = fit([f"Distances, drive times and directions to {biz.name} from "
                        f"{_town_list(site)}.",
                        f"Distances, drive times and directions to {biz.name} in {where} from "
                        f"{len(site.towns)} towns."], DESCRIPTION_MAX, self.cut)
        elif page.kind == "practitioner" and person:
            p = person["config"]
            crumbs.append((p.name, page.url_path))
            named = f"{p.name}, {p.credentials}" if p.credentials else p.name
            title = fit([f"{named} | {biz.name}", f"{p.name} | {biz.name}", p.name], TITLE_MAX)
            h1 = named
            desc = fit([f"{p.name}, {p.job_title.lower()} at {biz.name} in {where}. {p.bio}".strip(),
                        f"{p.name}, {p.job_title.lower()} at {biz.name} in {where}."],
                       DESCRIPTION_MAX, self.cut)
        elif page.kind == "condition" and cond:
            crumbs.append((cond.name, page.url_path))
            title = fit([f"Acupuncture for {cond.name} | {biz.name}", f"Acupuncture for {cond.name}",
                         f"{cond.name} Acupuncture"], TITLE_MAX)
            h1 = f"Acupuncture for {cond.phrase}"
            desc = fit([first_sentence(cond.meta.summary) + f" {biz.name}, {_loc_town(site)}.",
                        first_sentence(cond.meta.summary), cond.meta.summary], DESCRIPTION_MAX,
                       self.cut)
        elif page.kind == "town" and town:
            crumbs += [("Areas we serve", paths.areas_path()), (town.name, page.url_path)]
            st = town.config.state
            title = fit([f"Acupuncture in {town.name}, {st} | {biz.name}",
                         f"Acupuncture in {town.name}, {st}"], TITLE_MAX)
            h1 = f"Acupuncture for {town.name}, {st}"
            if town.is_home:
                desc = fit([f"Acupuncture for {treats} in {town.name}, {st}: our clinic is here in "
                            f"{_county(town)}. Book online or call.",
                            f"Acupuncture for {treats} in {town.name}, {st}: our clinic is in "
                            "town."], DESCRIPTION_MAX, self.cut)
            else:
                desc = fit([f"Acupuncture for {treats} for patients from {town.name}, {st}: about "
                            f"{town.road_miles} miles and {town.drive_minutes} minutes' drive from "
                            f"our {loc.address.locality} clinic.",
                            f"Acupuncture for {treats} for patients from {town.name}, {st}: "
                            f"{town.drive_minutes} minutes' drive."], DESCRIPTION_MAX, self.cut)
        elif page.kind == "town_condition" and town and cond:
            crumbs += [("Areas we serve", paths.areas_path()),
                       (town.name, paths.town_path(town.slug)), (cond.name, page.url_path)]
            st = town.config.state
            title = fit([f"{town.name} {cond.name} Acupuncture | {biz.name}",
                         f"{cond.name} Acupuncture in {town.name}, {st}",
                         f"{town.name} {cond.name} Acupuncture",
                         f"{town.name} {cond.phrase.title()} Acupuncture"], TITLE_MAX)
            h1 = f"{cond.name} acupuncture for {town.name}, {st}"
            near = ("at our clinic in town" if town.is_home
                    else f"{town.drive_minutes} minutes from our clinic")
            desc = fit([f"Acupuncture for {cond.phrase} for patients from {town.name}, {st}, "
                        f"{near}. " + first_sentence(cond.meta.summary),
                        f"Acupuncture for {cond.phrase} for patients from {town.name}, {st}, "
                        f"{near}. Book online or call.",
                        f"Acupuncture for {cond.phrase} for patients from {town.name}, {st}, "
                        f"{near}."], DESCRIPTION_MAX, self.cut)
        else:  # pragma: no cover - plan_site only makes the kinds above
            raise ValueError(page.kind)
        reviewer = self._reviewer(cond)
        if self.og_photo is not None:
            photo = self.og_photo.fallback[-1]
            og_image = {"url": self.url(photo.url), "width": photo.width, "height": photo.height,
                        "alt": self.og_photo.alt}
        else:
            card = card_title(title, biz.name)
            og_image = {"url": self.url("/" + page.og_file) + f"?v={self.cards.key(card)[:10]}",
                        "width": 1200, "height": 630, "alt": card}
        graph = schema.graph(site, url=url, title=title, description=desc,
                             crumbs=[(name, self.url(path)) for name, path in crumbs],
                             town=town, condition=cond, media=self._media(),
                             person=person["config"] if person else None,
                             reviewer=reviewer["config"] if reviewer else None)
        nearby = [site.town(s) for s in town.nearby] if town else []
        footer_towns = site.towns if len(site.towns) <= TOWN_LIST_MAX else (
            [town, *nearby] if town else [])
        related = [site.condition(s) for s in cond.meta.related] if cond else []
        hero = self.photos[loc.id] if page.kind in ("home", "town", "town_condition") else None
        return {
            **self.common, "page": page, "url": url, "title": title, "description": desc,
            "h1": h1, "crumbs": crumbs, "jsonld": graph, "og_image": og_image,
            "town": town, "condition": cond,
            "location": loc, "hours": hours_rows(site, town), "nearby": nearby,
            "hours_summary": hours_summary(site, loc), "hero": hero,
            "clinic_photo": self.photos[loc.id],
            "footer_towns": footer_towns,
            "related": related,
            "town_note": town.note if town else None,
            "town_excerpt": (excerpt(town.note.html) if town and town.note
                             and page.kind == "town_condition" else ""),
            "town_condition_note": (town.condition_notes.get(cond.slug)
                                    if town and cond else None),
            "reviewer": reviewer, "person": person,
            "bio": site.bios.get(page.practitioner) if page.practitioner else None,
            "person_treats": site.treats(person["config"]) if person else [],
            "reviewed_on": (site.locale.date(cond.meta.reviewed.date)
                            if cond and cond.meta.reviewed else None),
        }

    def _reviewer(self, cond: Any) -> dict[str, Any] | None:
        if not cond or not cond.meta.reviewed:
            return None
        return self.people[cond.meta.reviewed.by]

    def _media(self) -> schema.Media:
        """Absolute URLs of the pictures markup names: the clinic photos, the logo, portraits."""
        biz = self.site.config.business
        logo = self.common["logo"]
        return schema.Media(
            photos={loc.id: [self.url(self.images.picture(p, "hero").src) for p in loc.photos]
                    for loc in self.site.config.locations},
            logo=self.url(logo.src) if logo else None,
            portraits={p.id: self.url(self.people[p.id]["photo"].src)
                       for p in biz.practitioners if self.people[p.id]["photo"]},
            people={p.id: self.url(paths.practitioner_path(p.id)) for p in biz.practitioners})


def _href(path: str) -> str:
    """Internal links are root-relative, so the site works on localhost and behind any host."""
    return path


def _and(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _town_list(site: Site) -> str:
    return _and([t.name for t in site.towns])


def _county(town: Town) -> str:
    """"Douglas County", or "the City and County of Denver"."""
    county = town.config.county
    return f"the {county}" if county.lower().startswith(("city and county", "city of")) else county


def _loc_town(site: Site) -> str:
    loc = site.config.locations[0]
    return f"{loc.address.locality}, {loc.address.region}"


def _template_position(exc: Exception, page: PagePlan) -> tuple[str, int | None]:
    """The innermost template frame of a rendering error: (file, line)."""
    tb, name, line = exc.__traceback__, None, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".j2"):
            name, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    return (_short(name) if name else f"templates/{page.template}"), line


def _short(filename: str) -> str:
    parts = Path(filename).parts
    return "/".join(parts[parts.index("templates"):]) if "templates" in parts else filename
