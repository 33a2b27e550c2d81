"""`seo audit`: a thin click layer over run_audit (the weekly job calls the same function)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..errors import UserError
from .catalog import Finding


def _echo_findings(title: str, findings: list[Finding]) -> None:
    click.echo(f"{title} ({len(findings)}):")
    for f in findings:
        click.echo(f"  {f.line()}")


def _int(value: str | None, option: str) -> int | None:
    """Parsed here, not by click, so bad input is one line (exit 2) like every other user error."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise UserError(f"must be a whole number (got {value!r})", key=option) from None


@click.command("audit")
@click.argument("url", required=False)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Project folder holding config/ and content/ (default: $SEO_ROOT or .).")
@click.option("--built", is_flag=True, help="Serve the build output on localhost and audit that.")
@click.option("--max-pages", default=None, metavar="N",
              help="Fetch at most N URLs (default: integrations.audit.max_pages).")
@click.option("--max-depth", default=None, metavar="N",
              help="Follow links at most N clicks from the start page.")
@click.option("--fail-on", type=click.Choice(["error", "warning"]), default=None,
              help="Exit 1 when a finding of this severity (or worse) is found.")
@click.option("--diff", "show_diff", is_flag=True,
              help="Also print what is new, fixed and still open since the previous audit.")
def audit(url: str | None, root: Path | None, built: bool, max_pages: str | None,
          max_depth: str | None, fail_on: str | None, show_diff: bool) -> None:
    """Crawl the live site (URL, default the configured one) or --built, and report findings."""
    import os

    from ..api import Project
    from .run import run_audit
    project = Project.open(root or Path(os.environ.get("SEO_ROOT", ".")))
    result = run_audit(project, url, built=built, max_pages=_int(max_pages, "--max-pages"),
                       max_depth=_int(max_depth, "--max-depth"))
    for f in result.findings:
        click.echo(f.line())
    c = result.counts
    more = " (stopped at the page limit)" if result.crawl.truncated else ""
    if result.crawl.canonical_fetches:
        more += f" ({result.crawl.canonical_fetches} fetched only as canonical targets)"
    click.echo(f"audit {result.audit_id} of {result.start_url}: {result.pages} URLs{more} in "
               f"{result.crawl.seconds:.1f}s; {c['error']} errors, {c['warning']} warnings, "
               f"{c['notice']} notices")
    if show_diff:
        d = result.diff
        if d.previous_id is None:
            click.echo("no previous audit of this target to compare with")
        else:
            click.echo(f"since audit {d.previous_id}:")
            _echo_findings("new", d.new)
            _echo_findings("fixed", d.fixed)
            _echo_findings("still open", d.still_open)
    if result.fails(fail_on):  # type: ignore[arg-type]
        sys.exit(1)
