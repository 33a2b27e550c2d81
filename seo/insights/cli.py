"""`seo insights check|show|export`: a thin layer over seo.insights.api."""

from __future__ import annotations

from pathlib import Path

import click

from ..api import Project
from ..atomic import atomic_write
from ..cli_options import iso_date, root_option
from ..hostile import terminal
from . import api


@click.group("insights")
def insights() -> None:
    """Business Profile insights: calls, directions, website clicks, bookings, search keywords."""


@insights.command("check")
@root_option
def check_cmd(root: Path) -> None:
    """Fetch new days from Google (and recent days again until Google's numbers settle)."""
    project = Project.open(root)
    result = api.check_insights(project)
    for line in api.check_lines(result):
        click.echo(terminal(line))
    click.echo(f"{result.requests} request(s) to Google; run {result.run_id}")


@insights.command("show")
@root_option
@click.option("--week", default=None, metavar="DATE",
              help="A day in the week to show (default: the last complete week).")
@click.option("--location", default=None, metavar="ID", help="One location (default: all).")
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 92),
              help="Days shown one by one.")
def show_cmd(root: Path, week: str | None, location: str | None, days: int) -> None:
    """Show the week against the week before, day by day, and the top search keywords."""
    project = Project.open(root)
    day = iso_date(week, "--week")
    monday = day if day is None else day.fromordinal(day.toordinal() - day.weekday())
    view = api.show_insights(project, week_monday=monday, location=location, days=days)
    for line in api.show_lines(view):
        click.echo(terminal(line))


@insights.command("export")
@root_option
@click.option("--from", "start", default=None, metavar="DATE", help="First day (default: 90 days ago).")
@click.option("--to", "end", default=None, metavar="DATE", help="Last day (default: yesterday).")
@click.option("--keywords", is_flag=True, help="The monthly search keywords instead of daily metrics.")
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True,
              help="Output format.")
@click.option("--location", default=None, metavar="ID", help="One location (default: all).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
def export_cmd(root: Path, start: str | None, end: str | None, keywords: bool, fmt: str,
               location: str | None, out: Path | None) -> None:
    """Export the stored numbers; an empty value means Google has not reported the day."""
    project = Project.open(root)
    text = api.export_insights(project, start=iso_date(start, "--from"), end=iso_date(end, "--to"),
                               what="keywords" if keywords else "daily", fmt=fmt,
                               location=location)
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write(out, text.encode("utf-8"))
        click.echo(f"wrote {out}", err=True)
