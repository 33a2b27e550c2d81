"""`seo reviews fetch|list|draft|reply|stats`: a thin layer over seo.reviews.api.

Review text and reviewer names are shown through `plain()`: escape sequences and control
characters removed, one line, bounded. Nothing a reviewer wrote is ever run.
"""

from __future__ import annotations

from pathlib import Path

import click

from ..api import Project
from ..cli_options import root_option
from ..hostile import plain, terminal
from . import api


@click.group("reviews")
def reviews() -> None:
    """Google reviews: fetch, list, draft replies, send approved replies (privacy-checked)."""


def _stars(n: int | None) -> str:
    return f"{n}/5" if n else "?/5"


def _echo_sync(results: list) -> None:
    for r in results:
        avg = f", Google's average {r.average:g}" if r.average is not None else ""
        click.echo(f"{r.location}: {r.fetched} reviews{avg}; {len(r.new)} new, {len(r.changed)} "
                   f"changed, {len(r.deleted)} deleted, {len(r.replied)} answered at Google")
        for w in r.warnings:
            click.echo(f"  warning: {plain(w)}")


@reviews.command("fetch")
@root_option
def fetch_cmd(root: Path) -> None:
    """Fetch every review of every location; report what is new, changed or deleted."""
    _echo_sync(api.fetch_reviews(Project.open(root)))


@reviews.command("list")
@root_option
@click.option("--unanswered", is_flag=True, help="Only reviews without a reply.")
@click.option("--location", default=None, metavar="ID", help="One location (default: all).")
@click.option("--no-fetch", is_flag=True, help="Show the store as it is; do not ask Google.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000),
              help="Show at most this many.")
def list_cmd(root: Path, unanswered: bool, location: str | None, no_fetch: bool,
             limit: int) -> None:
    """List reviews, newest first: date, rating, reviewer, answered or not, an excerpt."""
    project = Project.open(root)
    if not no_fetch:
        _echo_sync(api.fetch_reviews(project))
    rows = api.stored(project, unanswered=unanswered, location=location)
    for r in rows[:limit]:
        state = "answered" if r["reply"] is not None else "NEEDS A REPLY"
        click.echo(f"{api.when(r['created'])}  {_stars(r['stars'])}  "
                   f"{plain(r['reviewer'] or 'Anonymous', 40)}  [{state}]  {r['location']}")
        if r["comment"].strip():
            click.echo(f"    \"{plain(r['comment'], 160)}\"")
        click.echo(f"    {r['name']}")
    waiting = sum(1 for r in rows if r["reply"] is None)
    more = f" (showing {limit})" if len(rows) > limit else ""
    click.echo(f"{len(rows)} review(s){more}; {waiting} without a reply")


@reviews.command("draft")
@root_option
@click.option("--no-fetch", is_flag=True, help="Draft from the store as it is; do not ask Google.")
def draft_cmd(root: Path, no_fetch: bool) -> None:
    """Write proposed replies for unanswered reviews to the drafts file, to edit and approve."""
    project = Project.open(root)
    result = api.draft_replies(project, fetch=not no_fetch)
    click.echo(f"{result.path}: {len(result.added)} new draft(s), {len(result.kept)} kept as "
               f"edited, {len(result.dropped)} removed (answered or deleted)")
    if result.unapproved:
        click.echo(f"{len(result.unapproved)} approval(s) withdrawn: the review changed since; "
                   "read it again")
    if result.flagged:
        click.echo(f"{len(result.flagged)} reply(ies) would be refused by the privacy check: see "
                   "privacy_check in the file")
    if result.auto:
        click.echo(f"{result.auto} five-star review(s) without text are answered automatically "
                   "(integrations.gbp.reviews.auto_reply_five_star)")
    click.echo("Edit the replies, set approved: true, then run `seo reviews reply`.")


@reviews.command("reply")
@root_option
@click.option("--dry-run", is_flag=True, help="Check and show what would be sent; send nothing.")
def reply_cmd(root: Path, dry_run: bool) -> None:
    """Send approved replies that pass the privacy check, each once (looked up at Google first)."""
    project = Project.open(root)
    result = api.send_replies(project, dry_run=dry_run)
    for note in result.notes:
        click.echo(note)
    for o in result.outcomes:
        for line in o.lines():
            click.echo(terminal(line))
    verb = "would send" if dry_run else "sent"
    n = result.count("would send") if dry_run else result.count("sent")
    click.echo(f"{n} {verb}, {result.count('adopted')} already at Google, "
               f"{result.count('refused')} refused by the privacy check, "
               f"{result.count('skipped')} skipped, {result.count('failed')} failed")
    if result.count("failed"):
        raise SystemExit(1)


@reviews.command("stats")
@root_option
@click.option("--months", default=12, show_default=True, type=click.IntRange(1, 120),
              help="Months shown.")
@click.option("--location", default=None, metavar="ID", help="One location (default: all).")
def stats_cmd(root: Path, months: int, location: str | None) -> None:
    """Rating and review velocity per month (from the store; run `seo reviews fetch` first)."""
    s = api.review_stats(Project.open(root), months=months, location=location)
    avg = f"{s.average:.2f}" if s.average is not None else "-"
    click.echo(f"{s.total} reviews, average {avg}, {s.unanswered} without a reply")
    click.echo("  month    new  avg (new)  avg (all)  answered")
    for m in s.months:
        new_avg = f"{m.average_new:.2f}" if m.average_new is not None else "-"
        all_avg = f"{m.average_all:.2f}" if m.average_all is not None else "-"
        click.echo(f"  {m.month}  {m.new:>3}  {new_avg:>9}  {all_avg:>9}  {m.answered:>8}")
