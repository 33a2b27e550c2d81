"""`seo report ...`: a thin click layer over seo.report.api."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli_options import root_option

week_option = click.option("--week", metavar="YYYY-Www", default=None,
                           help="ISO week, e.g. 2026-W47 (default: the seven days up to now, "
                                "in config/schedule.yaml's timezone).")


@click.group()
def report() -> None:
    """Weekly email report for the marketing staff."""


@report.command("build")
@root_option
@week_option
def report_build(root: Path, week: str | None) -> None:
    """Build the week's report from the store and print its text part."""
    from ..api import Project
    from .api import build_report
    built = build_report(Project.open(root), week)
    click.echo(built.text, nl=False)
    click.echo(f"report {built.week.label}: subject {built.subject!r}; HTML {len(built.html):,} "
               f"bytes, {len(built.charts)} charts", err=True)


@report.command("preview")
@root_option
@week_option
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file to write (default: build/report/report-<week>.html).")
def report_preview(root: Path, week: str | None, out: Path | None) -> None:
    """Write the report as one HTML file (charts inlined) to open in a browser."""
    from ..api import Project
    from ..atomic import atomic_write
    from .api import build_report
    project = Project.open(root)
    built = build_report(project, week)
    path = out or project.site.path(f"build/report/report-{built.week.label}.html")
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, built.preview_html().encode("utf-8"))
    click.echo(f"wrote {path}")


@report.command("send")
@root_option
@week_option
@click.option("--outbox", "outbox", is_flag=True,
              help="Only resend the messages waiting in the outbox (builds nothing).")
def report_send(root: Path, week: str | None, outbox: bool) -> None:
    """Send the report by SMTP; without a host (or when sending fails) it waits in the outbox."""
    from ..api import Project
    from ..errors import UserError
    from .api import flush_outbox, send_report
    if outbox and week:
        raise UserError("--outbox resends what waits; it takes no --week", key="--outbox")
    project = Project.open(root)
    delivery = flush_outbox(project) if outbox else send_report(project, week)
    for line in delivery.lines():
        click.echo(line)
    if not delivery.ok:
        sys.exit(1)
