"""The library API: what the CLI and the scheduled jobs both call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from .errors import UserError
from .pages.build import BuildResult, Progress, build_pages, check_paths
from .pages.plan import plan_site
from .pages.render import DESCRIPTION_MAX, Renderer
from .pages.write import SiteWriter
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
    warnings: list[str] = field(default_factory=list)  # worth fixing; publishing is not refused
    spelling: list[str] = field(default_factory=list)  # the other English's spellings in content

    @property
    def publishable(self) -> bool:
        return not self.examples and not self.claims


def check(root: Path | str = ".") -> CheckReport:
    """Validate config, content and templates (renders every page in memory, writes nothing)."""
    site = load_site(root)
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
    """Copy the built site to the publish target (a local folder), refusing while examples remain."""
    site = project.site
    refuse_examples(site, "publish")
    src = site.path(site.config.site.output)
    if not (src / "index.html").exists():
        raise UserError(f"nothing built in {src}; run `seo pages build` first")
    target = site.path(site.config.site.publish.path)
    writer = SiteWriter(target, dry_run=dry_run)
    live = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()}
    for rel in sorted(live):
        writer.put(rel, (src / rel).read_bytes())
    if target.exists():
        for p in target.rglob("*"):
            if p.is_file() and p.relative_to(target).as_posix() not in live:
                writer.delete(p.relative_to(target).as_posix())
    written, deleted = writer.commit()
    return PublishResult(target, written, deleted, dry_run)
