"""The library API: what the CLI and the scheduled jobs both call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .errors import UserError
from .pages.build import BuildResult, Progress, build_pages, check_paths
from .pages.plan import plan_site
from .pages.render import Renderer
from .site import Site, load_site
from .store import Store, open_store


@dataclass
class Project:
    """A loaded site and its store: the handle every job works with."""

    site: Site
    store: Store

    @classmethod
    def open(cls, root: Path | str = ".") -> Project:
        site = load_site(root)
        return cls(site=site, store=open_store(site.config.site.store, site.root))


@dataclass
class CheckReport:
    pages: int
    examples: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)

    @property
    def publishable(self) -> bool:
        return not self.examples and not self.claims


def check(root: Path | str = ".") -> CheckReport:
    """Validate config, content and templates (renders every page in memory, writes nothing)."""
    site = load_site(root)
    plan = plan_site(site)
    check_paths(plan)
    renderer = Renderer(site)
    for page in plan:
        renderer.render(page)
    return CheckReport(pages=len(plan), examples=site.examples, claims=site.claims)


def build(project: Project, *, towns: list[str] | None = None,
          conditions: list[str] | None = None, dry_run: bool = False, today: date | None = None,
          progress: Progress | None = None) -> BuildResult:
    return build_pages(project.site, project.store, towns=towns, conditions=conditions,
                       dry_run=dry_run, today=today, progress=progress)


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


def publish(project: Project, *, dry_run: bool = False) -> PublishResult:
    """Copy the built site to the first folder target (kept for callers of the old API; the
    `seo publish` command and the weekly job use seo.publish.publish_site for every target)."""
    from .publish.api import publish_site
    from .settings import FolderTarget
    folders = [t for t in project.site.config.site.publish if isinstance(t, FolderTarget)]
    if not folders:
        raise UserError("no folder target in site.publish", key="site.publish")
    report = publish_site(project, target=folders[0].label, dry_run=dry_run, audit=False)
    counts = report.targets[0].counts()
    return PublishResult(project.site.path(folders[0].path), counts["create"] + counts["update"],
                         counts["remove"], dry_run)
