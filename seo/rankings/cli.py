"""`seo rankings check|show|export|movements` and `seo auth google`: thin layers over the library."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..cli_options import iso_date, root_option
from ..errors import CredentialsRejected, NotConfigured, UserError
from . import api


@click.group()
def rankings() -> None:
    """Rank tracking: Search Console and live local positions, history and movements."""


@rankings.command("check")
@root_option
@click.option("--source", type=click.Choice(["search-console", "serp"]), default=None,
              help="Only this source (default: every configured one).")
@click.option("--town", "towns", multiple=True, metavar="SLUG", help="Only this town (repeatable).")
@click.option("--keyword", "keywords", multiple=True, metavar="TEXT",
              help="Only keywords containing this text (repeatable).")
@click.option("--dry-run", is_flag=True, help="Show what would be fetched and spent; fetch nothing.")
def check(root: Path, source: str | None, towns: tuple[str, ...], keywords: tuple[str, ...],
          dry_run: bool) -> None:
    """Fetch ranks into the store. Failures are stored as "not measured", never as a rank."""
    from ..api import Project
    project = Project.open(root)

    def progress(msg: str) -> None:
        if sys.stderr.isatty():  # for people watching; logs and cron mail get the result lines
            click.echo(msg, err=True)

    report = api.check_rankings(project, source, list(towns) or None, list(keywords) or None,
                                dry_run=dry_run, progress=progress)
    for src in report.sources:
        if src.status not in ("not configured", "refused"):
            click.echo(src.line())
            for reason, n in sorted(src.reasons.items()):
                click.echo(f"  not measured x{n}: {reason}")
    for issue in report.issues:
        click.echo(f"  {issue.line()}")
    if report.refused:  # configured, but the credentials were refused: exit 3, one line
        raise CredentialsRejected("; ".join(f"{s.source}: {s.message}" for s in report.refused))
    missing = report.unconfigured
    if missing and (source is not None or len(missing) == len(report.sources)):
        raise NotConfigured("; ".join(f"{m.source}: {m.message}" for m in missing))
    for m in missing:
        click.echo(f"skipped {m.source}: not configured: {m.message}")
    if report.failed:
        lost = sum(s.not_measured for s in report.sources if s.status in ("failed", "incomplete"))
        total = sum(s.measured + s.not_measured for s in report.sources
                    if s.status in ("failed", "incomplete"))
        click.echo(f"error: {lost} of {total} rankings not measured" if lost else
                   "error: the check failed", err=True)
        sys.exit(1)


def _pos(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


@rankings.command("show")
@root_option
@click.option("--town", "towns", multiple=True, metavar="SLUG", help="Only this town (repeatable).")
@click.option("--condition", "conditions", multiple=True, metavar="SLUG",
              help="Only this condition (repeatable).")
@click.option("--keyword", "keywords", multiple=True, metavar="TEXT",
              help="Only keywords containing this text (repeatable).")
@click.option("--source", type=click.Choice(["search-console", "serp"]), default=None,
              help="Only this source (default: both).")
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="How far back to look.")
def show(root: Path, towns: tuple[str, ...], conditions: tuple[str, ...], keywords: tuple[str, ...],
         source: str | None, days: int) -> None:
    """The latest measured ranks: where we rank, on which day, since when, and a week before."""
    from ..api import Project
    project = Project.open(root)
    rows = api.show_rankings(project, list(towns) or None, list(conditions) or None,
                             list(keywords) or None, source, days)
    if not rows:
        click.echo("no observations yet; run `seo rankings check`")
        return
    for src, day in sorted(api.latest_days(rows).items()):
        lag = " (Search Console's data is 2-3 days behind)" if src == "search_console" else ""
        click.echo(f"{src}: latest measured day {day.isoformat()}{lag}")
    head = ("town", "keyword", "source", "kind", "position", "since", "week ago", "best",
            "measured on", "note")
    table = [head]
    for r in rows:
        if not r.measured:
            pos, note = "not measured", r.reason
        elif r.position is None:
            pos, note = "not found", r.reason
        else:
            pos, note = _pos(r.position), r.url
        if r.unmeasured_since:
            note = f"{r.unmeasured_since.isoformat()} not measured: {r.unmeasured_reason}"
        table.append((r.town, r.keyword, r.source, r.kind, pos,
                      r.since.isoformat() if r.since else "-", _pos(r.previous), _pos(r.best),
                      r.day.isoformat() if r.day and r.measured else "-", note[:60]))
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head) - 1)]
    for row in table:
        click.echo("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False))
                   + "  " + row[-1])


@rankings.command("export")
@root_option
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV (the only format).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--town", "towns", multiple=True, metavar="SLUG", help="Only this town (repeatable).")
@click.option("--keyword", "keywords", multiple=True, metavar="TEXT",
              help="Only this keyword (repeatable).")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="First day to export.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Last day to export.")
def export(root: Path, as_csv: bool, out: Path | None, towns: tuple[str, ...],
           keywords: tuple[str, ...], since: str | None, until: str | None) -> None:
    """Every observation as CSV, "not measured" rows included with their reason."""
    from ..api import Project
    project = Project.open(root)
    args = (list(towns) or None, list(keywords) or None, iso_date(since, "--since"),
            iso_date(until, "--until"))
    if out is None:
        api.export_csv(project, sys.stdout, *args)
        return
    with open(out, "w", encoding="utf-8", newline="") as fh:
        n = api.export_csv(project, fh, *args)
    click.echo(f"wrote {n} observations -> {out}", err=True)


@rankings.command("movements")
@root_option
@click.option("--week", default=None, metavar="2026-W47|DATE", help="Default: the week of yesterday.")
def movements_cmd(root: Path, week: str | None) -> None:
    """The week's winners, losers and new top-3/top-10 entries, with page and listing events."""
    from ..api import Project
    report = api.movements(Project.open(root), week)
    click.echo(f"week {report.week_start} to {report.week_end}: {len(report.winners)} up, "
               f"{len(report.losers)} down, {len(report.new_top3)} new top-3, "
               f"{len(report.new_top10)} new top-10, {len(report.not_measured)} not measured")
    for title, rows in (("up", report.winners), ("down", report.losers)):
        for m in rows:
            click.echo(f"  {title:4} {m.town or '(all)'} {m.keyword!r} {m.source}/{m.kind}: "
                       f"{_pos(m.previous)} -> {_pos(m.current)} (4-week median "
                       f"{_pos(m.median4)}, noise ±{m.band:g})")
            for ev in m.events:
                click.echo(f"         {ev.line()}")


@click.group()
def auth() -> None:
    """Credentials for outside services."""


@auth.command("google")
@click.option("--client-secrets", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="OAuth client file from the Google Cloud console (default: "
                   "$SEO_GOOGLE_CLIENT_SECRETS).")
@click.option("--port", default=0, type=click.IntRange(0, 65535), show_default=True,
              help="Local port for Google's redirect (0: any free port).")
@click.option("--no-browser", is_flag=True, help="Print the URL instead of opening a browser.")
def auth_google(client_secrets: Path | None, port: int, no_browser: bool) -> None:
    """Sign in to Google (Search Console and Business Profile); stores the token with mode 0600."""
    from ..google_auth import run_oauth_flow
    if client_secrets is None:
        env = os.environ.get("SEO_GOOGLE_CLIENT_SECRETS")
        if not env:
            raise UserError("no OAuth client file: pass --client-secrets FILE or set "
                            "SEO_GOOGLE_CLIENT_SECRETS (see README, Google credentials)")
        client_secrets = Path(env)
    path = run_oauth_flow(client_secrets, port=port, open_browser=not no_browser)
    click.echo(f"Google token stored in {path} (mode 0600)")
