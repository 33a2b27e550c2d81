"""Render planned pages through Jinja2: autoescape on, StrictUndefined, site templates first."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path

from ..errors import UserError
from ..files import read_project_text
from ..settings import DAY_NAMES
from ..site import Site, Town
from . import plan as paths
from . import schema
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


def fit(candidates: list[str], limit: int) -> str:
    """The first candidate that fits the limit; else the last one cut at a word boundary."""
    for text in candidates:
        if len(text) <= limit:
            return text
    text = candidates[-1]
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def first_sentence(text: str) -> str:
    text = text.strip()
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


def hours_rows(site: Site, town: Town | None) -> list[tuple[str, str]]:
    loc = town.location if town else site.config.locations[0]
    rows = []
    for day in DAY_NAMES:
        spans = [f"{h.opens}–{h.closes}" for h in loc.hours if day in h.days]
        rows.append((DAY_NAMES[day], ", ".join(spans) if spans else "Closed"))
    return rows


class Renderer:
    """Builds each page's context and renders it. One per build; templates compiled once."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.env = environment(site)
        self.base = site.config.business.url.rstrip("/")
        biz = site.config.business
        self.common = {
            "business": biz, "lang": site.config.site.language,
            "theme_color": site.config.site.theme_color,
            "towns": site.towns, "conditions": site.conditions,
            "paths": paths, "url_for": _href,
        }

    def url(self, path: str) -> str:
        return self.base + path

    def render(self, page: PagePlan, *, indexable: bool = True, canonical: str | None = None) -> str:
        ctx = self.context(page)
        ctx["robots"] = "index, follow" if indexable else "noindex, follow"
        ctx["canonical"] = canonical or ctx["url"]
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
        url = self.url(page.url_path)
        crumbs = [("Home", "/")]
        if page.kind == "home":
            title = fit([f"{biz.name} | Acupuncture South of Denver", biz.name], TITLE_MAX)
            h1 = f"{biz.name}: acupuncture for back, neck and shoulder pain"
            desc = fit([f"{biz.name} treats back, neck and shoulder pain with acupuncture for "
                        f"patients from {_town_list(site)}. Book online or call."], DESCRIPTION_MAX)
        elif page.kind == "areas":
            crumbs.append(("Areas we serve", page.url_path))
            title = fit([f"Areas We Serve | {biz.name}", "Areas We Serve"], TITLE_MAX)
            h1 = "Areas we serve"
            desc = fit([f"Distances, drive times and directions to {biz.name} from "
                        f"{_town_list(site)}."], DESCRIPTION_MAX)
        elif page.kind == "condition" and cond:
            crumbs.append((cond.name, page.url_path))
            title = fit([f"Acupuncture for {cond.name} | {biz.name}", f"Acupuncture for {cond.name}",
                         f"{cond.name} Acupuncture"], TITLE_MAX)
            h1 = f"Acupuncture for {cond.phrase}"
            desc = fit([first_sentence(cond.meta.summary) + f" {biz.name}, {_loc_town(site)}.",
                        cond.meta.summary], DESCRIPTION_MAX)
        elif page.kind == "town" and town:
            crumbs += [("Areas we serve", paths.areas_path()), (town.name, page.url_path)]
            st = town.config.state
            title = fit([f"Acupuncture in {town.name}, {st} | {biz.name}",
                         f"Acupuncture in {town.name}, {st}"], TITLE_MAX)
            h1 = f"Acupuncture for {town.name}, {st}"
            desc = fit([f"Acupuncture for back, neck and shoulder pain for patients in {town.name} "
                        f"({town.config.county}): {town.road_miles} miles, about "
                        f"{town.drive_minutes} minutes' drive from the clinic."], DESCRIPTION_MAX)
        elif page.kind == "town_condition" and town and cond:
            crumbs += [("Areas we serve", paths.areas_path()),
                       (town.name, paths.town_path(town.slug)), (cond.name, page.url_path)]
            st = town.config.state
            title = fit([f"{town.name} {cond.name} Acupuncture | {biz.name}",
                         f"{cond.name} Acupuncture in {town.name}, {st}",
                         f"{town.name} {cond.name} Acupuncture",
                         f"{town.name} {cond.phrase.title()} Acupuncture"], TITLE_MAX)
            h1 = f"{cond.name} acupuncture for {town.name}, {st}"
            desc = fit([f"Acupuncture for {cond.phrase} for patients from {town.name}, {st}: "
                        f"{town.drive_minutes} minutes from our clinic. "
                        + first_sentence(cond.meta.summary),
                        f"Acupuncture for {cond.phrase} for patients from {town.name}, {st}, "
                        f"{town.drive_minutes} minutes from our clinic. Book online or call."],
                       DESCRIPTION_MAX)
        else:  # pragma: no cover - plan_site only makes the kinds above
            raise ValueError(page.kind)
        graph = schema.graph(site, url=url, title=title, description=desc,
                             crumbs=[(name, self.url(path)) for name, path in crumbs],
                             town=town, condition=cond)
        loc = town.location if town else site.config.locations[0]
        nearby = [site.town(s) for s in town.nearby] if town else []
        footer_towns = site.towns if len(site.towns) <= TOWN_LIST_MAX else (
            [town, *nearby] if town else [])
        related = [site.condition(s) for s in cond.meta.related] if cond else []
        return {
            **self.common, "page": page, "url": url, "title": title, "description": desc,
            "h1": h1, "crumbs": crumbs, "jsonld": graph, "town": town, "condition": cond,
            "location": loc, "hours": hours_rows(site, town), "nearby": nearby,
            "footer_towns": footer_towns,
            "related": related,
            "town_note": town.note if town else None,
            "town_condition_note": (town.condition_notes.get(cond.slug)
                                    if town and cond else None),
            "reviewer": _reviewer(site, cond),
        }


def _href(path: str) -> str:
    """Internal links are root-relative, so the site works on localhost and behind any host."""
    return path


def _reviewer(site: Site, cond: Any) -> Any:
    if not cond or not cond.meta.reviewed:
        return None
    return next(p for p in site.config.business.practitioners if p.id == cond.meta.reviewed.by)


def _town_list(site: Site) -> str:
    names = [t.name for t in site.towns]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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
