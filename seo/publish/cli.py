"""`seo publish`, `seo verify` and `seo inspect`: thin click commands over seo.publish."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli_options import root_option


def _progress(stage: str, n: int, total: int) -> None:
    if sys.stderr.isatty() and (n == total or n % 25 == 0):
        click.echo(f"\r{stage}: {n}/{total}", err=True, nl=n == total)


@click.command()
@root_option
@click.option("--dry-run", is_flag=True,
              help="Read the targets and list what would be created, updated and removed; write nothing.")
@click.option("--target", metavar="NAME", help="Only this target (its `name`, by default its type).")
@click.option("--rollback", is_flag=True, help="ssh: switch `current` back to the previous release.")
@click.option("--force", is_flag=True,
              help="WordPress: overwrite pages staff edited, restore trashed ones, take the front page.")
@click.option("--no-audit", is_flag=True, help="Publish without auditing the build first.")
@click.option("-v", "--verbose", is_flag=True, help="List every page or file written.")
def publish(root: Path, dry_run: bool, target: str | None, rollback: bool, force: bool,
            no_audit: bool, verbose: bool) -> None:
    """Publish the build to the targets in site.publish (folder, ssh, wordpress).

    Refuses while example values remain (a dry run still shows what it would do)."""
    from ..api import Project
    from .api import publish_site, rollback_site
    project = Project.open(root)
    if rollback:
        report = rollback_site(project, target=target, dry_run=dry_run)
    else:
        report = publish_site(project, target=target, dry_run=dry_run, force=force,
                              audit=not no_audit, progress=_progress)
    for line in report.lines(verbose=verbose or dry_run):
        click.echo(line)
    if report.failures:
        for name, exc in report.failures:
            click.echo(f"error: {name}: {exc}", err=True)
        sys.exit(report.exit_code)


@click.command()
@root_option
@click.option("--all", "all_pages", is_flag=True, help="Check every published page, not only new ones.")
@click.option("--path", "paths", multiple=True, metavar="PATH", help="Only this URL path (repeatable).")
@click.option("-v", "--verbose", is_flag=True, help="List every page checked.")
def verify(root: Path, all_pages: bool, paths: tuple[str, ...], verbose: bool) -> None:
    """Check that published pages are live: 200, content, title, description, robots, canonical,
    JSON-LD. Exit 1 when a page is not."""
    from ..api import Project
    from .verify import verify_live
    project = Project.open(root)
    result = verify_live(project, all_pages=all_pages, paths=list(paths) or None)
    for line in result.lines(verbose):
        click.echo(line)
    if result.failed:
        sys.exit(1)


@click.command()
@root_option
@click.option("--limit", type=click.IntRange(1, 2000), default=None,
              help="Inspect at most this many URLs now (the daily quota still applies).")
@click.option("-v", "--verbose", is_flag=True, help="List every URL inspected.")
def inspect(root: Path, limit: int | None, verbose: bool) -> None:
    """Ask Search Console's URL Inspection API whether new and changed live pages are indexed."""
    from ..api import Project
    from .index_status import inspect_pages
    project = Project.open(root)
    result = inspect_pages(project, limit=limit)
    for line in result.lines(verbose):
        click.echo(line)
    if result.error:
        sys.exit(1)
