"""`seo listing plan|apply|rollback|drift|posts`: a thin layer over seo.listing.api."""

from __future__ import annotations

from pathlib import Path

import click

from ..api import Project
from ..cli_options import root_option
from . import api
from .drift import render_drift
from .plan import render_plan


@click.group("listing")
def listing() -> None:
    """Google Business Profile: sync from config, drift, posts for new pages."""


def _echo_pushed(result: api.ApplyResult, verb: str) -> None:
    for p in result.pushed:
        note = "" if p.status == "verified" else \
            f" (Google has not taken {', '.join(p.unverified)} yet: pending review)"
        click.echo(f"{verb} {p.location} ({p.gbp_name}): {', '.join(p.fields)}{note}")
    for loc in result.unchanged:
        click.echo(f"{loc}: nothing to change")
    click.echo(f"run {result.run_id}; undo with `seo listing rollback --to "
               f"{result.run_id}`" if verb == "applied" and result.pushed else f"run {result.run_id}")


@listing.command("plan")
@root_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=f"Where to save the plan (default {api.DEFAULT_PLAN}).")
def plan_cmd(root: Path, out: Path | None) -> None:
    """Read the live listing, diff it with config field by field, print and save the plan."""
    project = Project.open(root)
    result = api.plan_listing(project, out=out)
    shown = str(out) if out else api.DEFAULT_PLAN
    click.echo(render_plan(result.plan, shown))
    if result.examples:
        click.echo(f"note: {len(result.examples)} example values remain in config; "
                   "`seo listing apply` refuses until they are replaced (`seo check`).")


@listing.command("apply")
@root_option
@click.option("--plan", "plan_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="A plan saved by `seo listing plan` (default: plan afresh and apply).")
def apply_cmd(root: Path, plan_file: Path | None) -> None:
    """Push the changes (validateOnly first), re-read to verify, log before/after in the store."""
    project = Project.open(root)
    plan, result = api.apply_listing(project, plan_file=plan_file)
    if not plan.change_count:
        click.echo("No changes: the live listing matches the config.")
    _echo_pushed(result, "applied")


@listing.command("rollback")
@root_option
@click.option("--to", "to_run", type=int, default=None, metavar="RUN",
              help="Undo this apply run and every later one (default: the latest apply).")
def rollback_cmd(root: Path, to_run: int | None) -> None:
    """Restore the listing from the snapshot logged before an apply."""
    project = Project.open(root)
    _echo_pushed(api.rollback_listing(project, to_run=to_run), "restored")


@listing.command("drift")
@root_option
def drift_cmd(root: Path) -> None:
    """Show fields Google shows differently (Google or public edits) and edits pending review."""
    project = Project.open(root)
    click.echo(render_drift(api.detect_drift(project)))


@listing.command("posts")
@root_option
@click.option("--dry-run", is_flag=True, help="Show the posts that would be made; send nothing.")
def posts_cmd(root: Path, dry_run: bool) -> None:
    """Post new or substantially changed pages (or the weekly rotation); report rejected posts."""
    project = Project.open(root)
    result = api.publish_posts(project, dry_run=dry_run)
    for w in result.warnings:
        click.echo(f"warning: {w}")
    for p in result.planned:
        verb = "would post" if dry_run else "post"
        click.echo(f"{verb} [{p.reason}] {p.page} ({p.location}): {p.summary[:80]}")
    if result.waiting:
        click.echo(f"{result.waiting} more waiting for the next run")
    if dry_run:
        return
    click.echo(f"{len(result.created)} created, {len(result.adopted)} found already sent, "
               f"{result.live} live, {result.processing} processing, {len(result.rejected)} rejected")
    for page, name in result.rejected:
        click.echo(f"REJECTED {page}: {name}")
    for page in result.unresolved:
        click.echo(f"unresolved {page}: sent, but Google does not list it yet; the next run looks "
                   "for it again before sending anything")
