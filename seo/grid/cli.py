"""`seo grid check|show|export`: thin layers over `seo.grid.api`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..cli_options import iso_date, root_option
from ..errors import CredentialsRejected
from . import api
from .views import points_table, summary_line, where_text


@click.group()
def grid() -> None:
    """Geo-grid map-pack tracking: a maps search at every point of a grid over each town."""


@grid.command("check")
@root_option
@click.option("--town", "towns", multiple=True, metavar="SLUG", help="Only this town (repeatable).")
@click.option("--keyword", "keywords", multiple=True, metavar="TEXT",
              help="Only grid keywords containing this text (repeatable).")
@click.option("--dry-run", is_flag=True,
              help="Show points x keywords, the requests and the month's budget; spend nothing.")
def check(root: Path, towns: tuple[str, ...], keywords: tuple[str, ...], dry_run: bool) -> None:
    """Scan the grids: points not measured are stored as such, never as a rank."""
    from ..api import Project
    project = Project.open(root)

    def progress(msg: str) -> None:
        if sys.stderr.isatty():
            click.echo(f"\r{msg}", err=True, nl=not msg.endswith(" points"))

    try:
        report = api.check(project, list(towns) or None, list(keywords) or None, dry_run=dry_run,
                           progress=progress)
    except KeyboardInterrupt:
        click.echo("\ninterrupted: the points fetched so far are stored and paid for once; run "
                   "`seo grid check` again to fetch the rest", err=True)
        sys.exit(130)
    if sys.stderr.isatty() and not dry_run:
        click.echo("", err=True)
    if report.status == "refused":  # configured, but the provider refused the account: exit 3
        raise CredentialsRejected(f"{report.provider}: {report.message}")
    for line in report.lines():
        click.echo(line)
    if not dry_run:
        for view in api.show(project, list(towns) or None, list(keywords) or None):
            click.echo(f"  {view.now.town} / \"{view.now.keyword}\": {summary_line(view.now.us)}")
        if report.heatmaps:
            click.echo(f"heatmaps: {len(report.heatmaps)} in {project.site.path(api.HEATMAPS)}")
        if report.tiles_note:
            click.echo(f"warning: heatmaps drawn without a map background: {report.tiles_note}",
                       err=True)
        elif api.tile_source(project) is not None and report.heatmaps:
            click.echo(f"map tiles: {project.site.config.grid.tiles.attribution}")  # type: ignore[union-attr]
    if report.failed:
        o = report.outcome
        click.echo(f"error: {o.not_measured} of {o.measured + o.not_measured} points not measured"
                   if o.not_measured else f"error: {report.message}", err=True)
        sys.exit(1)


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v * 100:.0f}%"


@grid.command("show")
@root_option
@click.option("--town", "towns", multiple=True, metavar="SLUG", help="Only this town (repeatable).")
@click.option("--keyword", "keywords", multiple=True, metavar="TEXT",
              help="Only grid keywords containing this text (repeatable).")
@click.option("--map", "as_map", is_flag=True, help="Also print each grid's ranks in place.")
@click.option("--png", "png", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Also write each grid's latest heatmap PNG into DIR.")
def show(root: Path, towns: tuple[str, ...], keywords: tuple[str, ...], as_map: bool,
         png: Path | None) -> None:
    """The latest scan of each grid: SoLV, ARP, ATRP, the change on the scan before, and who
    holds the map pack where the clinic is not in it."""
    from ..api import Project
    from .views import beaten_by
    project = Project.open(root)
    views = api.show(project, list(towns) or None, list(keywords) or None)
    if not views:
        click.echo("no grid scans yet; run `seo grid check`")
        return
    for v in views:
        now, prev = v.now, v.previous
        click.echo(f"{now.town} / \"{now.keyword}\" on {now.day.isoformat()} ({now.source}): "
                   f"{summary_line(now.us)}")
        if v.series is not None and v.series.current is not None:
            click.echo(f"  SoLV {v.series.now_text}, {v.series.change_text}"
                       + ("" if prev is None or prev.grid == now.grid else "; the grid changed since"))
        center = (v.grid.lat, v.grid.lng) if v.grid is not None and v.grid.key == now.grid else None
        if center is not None and v.grid is not None:
            click.echo(f"  where: {where_text(now.points, center, v.grid.spacing_miles)}")
        beaters = beaten_by(now)
        if beaters:
            click.echo("  where not in the top 3, the map pack shows: " +
                       ", ".join(f"{name} ({n} points)" for name, n in beaters))
        rivals = [c for c in now.competitors if c.top3][:3]
        if rivals:
            click.echo("  competitors' SoLV: " + ", ".join(f"{c.name} {_pct(c.solv)}" for c in rivals))
        if as_map:
            size = v.grid.size if v.grid is not None else 0
            for line in points_table(now, size):
                click.echo(f"    {line}")
    if png is not None:
        tiles = api.tile_source(project)
        paths = api.write_heatmaps(project, [(v.now.town, v.now.keyword) for v in views],
                                   [v.grid for v in views if v.grid is not None], out=png,
                                   tiles=tiles)
        click.echo(f"wrote {len(paths)} heatmaps to {png}")
        if tiles is not None and tiles.broken:
            click.echo(f"warning: heatmaps drawn without a map background: {tiles.broken}", err=True)


@grid.command("export")
@root_option
@click.option("--csv", "as_csv", is_flag=True, required=True, help="Write CSV (the only format).")
@click.option("--scores", is_flag=True,
              help="Export the scores per grid and day (ours and every business's) instead of points.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: standard output).")
@click.option("--town", "towns", multiple=True, metavar="SLUG", help="Only this town (repeatable).")
@click.option("--since", default=None, metavar="YYYY-MM-DD", help="First day to include.")
@click.option("--until", default=None, metavar="YYYY-MM-DD", help="Last day to include.")
def export(root: Path, as_csv: bool, scores: bool, out: Path | None, towns: tuple[str, ...],
           since: str | None, until: str | None) -> None:
    """Every grid point (or score): rank, not found or not measured with the reason, the top 3."""
    from ..api import Project
    from ..atomic import atomic_write
    project = Project.open(root)
    start, end = iso_date(since, "--since"), iso_date(until, "--until")
    if out is None:
        api.export_csv(project, sys.stdout, scores=scores, since=start, until=end,
                       towns=list(towns) or None)
        return
    import io
    buf = io.StringIO()
    n = api.export_csv(project, buf, scores=scores, since=start, until=end, towns=list(towns) or None)
    atomic_write(out, buf.getvalue().encode("utf-8"))
    click.echo(f"wrote {n} {'score' if scores else 'point'} rows to {out}", err=True)
