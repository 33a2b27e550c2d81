"""The library API: what the CLI and the scheduled jobs both call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path

from . import clock, safety
from .errors import UserError
from .pages.build import BuildResult, Progress, build_pages, check_paths
from .pages.plan import plan_site
from .pages.render import DESCRIPTION_MAX, Renderer
from .site import Site, load_site
from .store import Store, check_store, open_store


@dataclass
class Project:
    """A loaded site and its store: the handle every job works with."""

    site: Site
    store: Store

    @classmethod
    def open(cls, root: Path | str = ".") -> Project:
        site = load_site(root)
        options = site.config.site
        return cls(site=site, store=open_store(options.store, site.root, options.store_schema))

    @cached_property
    def timezone(self) -> str:
        """The clinic's time zone (config/schedule.yaml, read once): its days, its report's week."""
        return clock.timezone(self.site.root)

    def today(self) -> date:
        """Today where the clinic is (not the server's date)."""
        return clock.today_in(self.timezone)


@dataclass
class CheckReport:
    pages: int
    examples: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # worth fixing; publishing is not refused
    spelling: list[str] = field(default_factory=list)  # the other English's spellings in content

    @property
    def publishable(self) -> bool:
        return not self.examples and not self.claims


def check(root: Path | str = ".") -> CheckReport:
    """Validate config, content and templates (renders every page in memory, writes nothing),
    and everything the scheduled jobs read: the schedule, keywords, integration settings."""
    site = load_site(root)
    safety.check_outputs(site)
    check_jobs_config(site)
    plan = plan_site(site)
    check_paths(plan)
    renderer = Renderer(site)
    cut = []
    for page in plan:
        before = len(renderer.cut)
        renderer.render(page)
        if len(renderer.cut) > before:
            cut.append(f"{page.url_path}: meta description cut to fit {DESCRIPTION_MAX} characters "
                       f"(it lost: {renderer.cut[-1][DESCRIPTION_MAX - 1:][:60]!r}...)")
    return CheckReport(pages=len(plan), examples=site.examples, claims=site.claims,
                       warnings=site.warnings + cut, spelling=site.spelling)


def check_jobs_config(site: Site) -> None:
    """What the jobs would otherwise find wrong only when they run, unattended."""
    from .automation.schedule import load_schedule
    from .listing.desired import render_description
    from .rankings.keywords import build_keywords

    check_store(site.config.site.store, site.root)
    load_schedule(site.root)
    build_keywords(site)
    if site.config.grid is not None:  # grid towns, boundary files and keyword patterns
        from .grid.config import build_grids
        build_grids(site)
    integrations = site.config.integrations
    files = [("integrations.email.ca_file", integrations.email and integrations.email.ca_file),
             ("integrations.search_console.service_account_file",
              integrations.search_console and integrations.search_console.service_account_file)]
    for key, name in files:
        if name and not site.path(name).is_file():
            raise UserError(f"{name!r} is not a file", file="config/site.yaml", key=key)
    if integrations.gbp:
        for loc in site.config.locations:
            render_description(site, loc, integrations.gbp)


def build(project: Project, *, towns: list[str] | None = None,
          conditions: list[str] | None = None, dry_run: bool = False, today: date | None = None,
          progress: Progress | None = None, stamp: str | None = None) -> BuildResult:
    return build_pages(project.site, project.store, towns=towns, conditions=conditions,
                       dry_run=dry_run, today=today, progress=progress, stamp=stamp)


def built_folder(project: Project) -> Path:
    """The build output, checked (never the project itself) and holding a built site."""
    site = project.site
    folder = site.path(site.config.site.output)
    safety.check_target(site, folder, "site.output", itself=safety.OUTPUT)
    if not (folder / "index.html").exists():
        raise UserError(f"nothing built in {folder}; run `seo pages build` first")
    return folder


def refuse_examples(site: Site, action: str) -> None:
    if site.examples:
        first = site.examples[0]
        raise UserError(f"{action} refused: {len(site.examples)} example values remain in config "
                        f"(first: {first}); replace them, then run `seo check`")
    if site.claims:
        raise UserError(f"{action} refused: {len(site.claims)} cure/guarantee claims in content "
                        f"(first: {site.claims[0]})")


@dataclass
class PublishResult:
    target: Path
    copied: int
    deleted: int
    dry_run: bool
    deleted_files: list[str] = field(default_factory=list)  # (would be) deleted: ours, now gone
    kept_files: list[str] = field(default_factory=list)  # ours, gone, but edited since: left


def publish(project: Project, *, dry_run: bool = False) -> PublishResult:
    """Copy the built site to the first folder target (the old single-folder API; `seo publish` and
    the weekly job use seo.publish.publish_site for every target). The folder target checks the
    target against the project and deletes only what its manifest says it wrote (`seo.safety`)."""
    from .publish.api import publish_site
    from .settings import FolderTarget
    folders = [t for t in project.site.config.site.publish if isinstance(t, FolderTarget)]
    if not folders:
        raise UserError("no folder target in site.publish", file="config/site.yaml",
                        key="site.publish")
    report = publish_site(project, target=folders[0].label, dry_run=dry_run, audit=False)
    done = report.targets[0]
    counts = done.counts()
    deleted = [c.item for c in done.changes if c.action == "remove"]
    kept = [c.item for c in done.changes if c.action == "skip"]
    return PublishResult(project.site.path(folders[0].path), counts["create"] + counts["update"],
                         counts["remove"], dry_run, deleted, kept)
