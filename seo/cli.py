"""The `seo` command line: a thin layer over seo.api (the jobs call the same functions)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import click

from .cli_options import SeoGroup, root_option
from .errors import UserError

# Each stage's commands, imported when used: `seo pages build` with nothing to do answers before
# the heavy libraries (SQLAlchemy, numpy, Jinja2, Markdown, Google's client, Scrapy) are imported.
LAZY = {"listing": "seo.listing.cli:listing", "audit": "seo.audit.cli:audit",
        "rankings": "seo.rankings.cli:rankings", "auth": "seo.rankings.cli:auth",
        "run": "seo.automation.cli:run", "schedule": "seo.automation.cli:schedule",
        "report": "seo.report.cli:report", "fleet": "seo.fleet.cli:fleet",
        "insights": "seo.insights.cli:insights", "reviews": "seo.reviews.cli:reviews",
        "alerts": "seo.alerts.cli:alerts", "publish": "seo.publish.cli:publish",
        "verify": "seo.publish.cli:verify", "inspect": "seo.publish.cli:inspect",
        "grid": "seo.grid.cli:grid"}


class LazySeoGroup(SeoGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is None and name in LAZY:
            module, attr = LAZY[name].split(":")
            found = getattr(importlib.import_module(module), attr)
        return found


@click.group(cls=LazySeoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="seo")
def main() -> None:
    """Local-SEO automation: location pages, rankings, Google Business Profile, weekly report."""


@main.command()
@root_option
def check(root: Path) -> None:
    """Validate config, content and templates; list example values still to replace."""
    from . import api
    report = api.check(root)
    click.echo(f"ok: config, content and templates valid; {report.pages} pages planned")
    if report.claims:
        click.echo(f"{len(report.claims)} cure/guarantee claims in content:")
        for line in report.claims:
            click.echo(f"  {line}")
    if report.examples:
        click.echo(f"{len(report.examples)} example values to replace before publishing:")
        for line in report.examples:
            click.echo(f"  {line}")
    if report.warnings:
        click.echo(f"{len(report.warnings)} warnings:")
        for line in report.warnings:
            click.echo(f"  {line}")
    if report.spelling:
        click.echo(f"{len(report.spelling)} spellings to check (site.locale; names the lint can't "
                   "tell go in site.spelling_allow):")
        for line in report.spelling:
            click.echo(f"  {line}")
    if report.claims:
        sys.exit(1)


@main.group()
def pages() -> None:
    """Location pages: town x condition, hubs, areas-we-serve."""


def _progress(stage: str, n: int, total: int) -> None:
    if sys.stderr.isatty() and (n == total or n % 50 == 0):
        click.echo(f"\r{stage}: {n}/{total}", err=True, nl=n == total)


@pages.command("build")
@root_option
@click.option("--town", "towns", multiple=True, metavar="SLUG", help="Only this town (repeatable).")
@click.option("--condition", "conditions", multiple=True, metavar="SLUG",
              help="Only this condition (repeatable).")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def pages_build(root: Path, towns: tuple[str, ...], conditions: tuple[str, ...],
                dry_run: bool) -> None:
    """Render the site into the output folder (only what changed)."""
    from .pages.uptodate import build_root
    result, out = build_root(root, towns=list(towns) or None, conditions=list(conditions) or None,
                             dry_run=dry_run, progress=_progress)
    echo_build(result, out)


def echo_build(result, out: Path) -> None:
    verb = "would write" if result.dry_run else "wrote"
    click.echo(f"{result.planned} pages planned, {result.rendered} rendered, {verb} "
               f"{result.written} files, {result.deleted} deleted -> {out}")
    highest = (f"highest similarity {result.max_similarity:.0%}" if result.max_similarity
               else f"every pair below {result.measured_from:.0%}")
    click.echo(f"doorway guard: {result.indexable} indexable, {len(result.flagged)} noindex; "
               f"{highest}")
    for path, reasons in result.flagged:
        click.echo(f"  noindex {path}: {'; '.join(reasons)}")
    for warning in result.warnings:
        click.echo(f"  warning {warning}")
    if result.dry_run:
        for rel in result.changed_paths:
            click.echo(f"  would write {rel}")
        for rel in result.deleted_paths:
            click.echo(f"  would delete {rel}")


@pages.command("placeholders")
@root_option
def pages_placeholders(root: Path) -> None:
    """Draw labeled placeholder pictures for images config names but that don't exist yet."""
    from .pages.placeholders import write_placeholders
    written = write_placeholders(root)
    for item in written:
        click.echo(f"wrote {item.path} ({item.what})")
    click.echo(f"{len(written)} placeholders written" if written else
               "nothing to do: every image config names exists")
    if written:
        click.echo("mark those entries `!example` in config/site.yaml until real pictures replace them")


@main.command()
@root_option
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def preview(root: Path, port: int, host: str) -> None:
    """Serve the built site on localhost (Ctrl-C to stop)."""
    from . import api
    from .pages.preview import make_server
    folder = api.built_folder(api.Project.open(root))
    try:
        server = make_server(folder, host, port)
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror}", key="--port") from None
    click.echo(f"serving {folder} at http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")


if __name__ == "__main__":  # pragma: no cover
    main()
