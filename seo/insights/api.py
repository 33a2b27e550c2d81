"""The insights library API: what `seo insights check|show|export` and the scheduled jobs call."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa

from ..api import Project
from ..errors import NotConfigured, UserError
from ..listing.api import settings_of as listing_settings
from ..listing.client import GbpClient, connect
from ..settings import GbpInsights, GbpSettings, Location
from ..tables import gbp_keywords
from . import read
from .fetch import LocationFetch, fetch_keywords, fetch_metrics
from .metrics import ACTIONS, LABELS, SHORT, VIEWS, Total, change


def settings_of(project: Project) -> tuple[GbpSettings, GbpInsights]:
    gbp = listing_settings(project)
    if not gbp.insights.enabled:
        raise NotConfigured("integrations.gbp.insights.enabled is false in config/site.yaml")
    return gbp, gbp.insights


def profiles(project: Project, location: str | None = None) -> list[Location]:
    """Locations with a Business Profile (`gbp_location`), or the one asked for."""
    locs = [loc for loc in project.site.config.locations if loc.gbp_location]
    if location is not None:
        known = [loc.id for loc in project.site.config.locations]
        if location not in known:
            raise UserError(f"unknown location {location!r} (known: {', '.join(known)})",
                            key="--location")
        locs = [loc for loc in locs if loc.id == location]
    if not locs:
        raise NotConfigured("no location has gbp_location set in config/site.yaml")
    return locs


@dataclass
class CheckResult:
    locations: list[LocationFetch] = field(default_factory=list)
    run_id: int = 0

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.locations)


def check_insights(project: Project, *, client: GbpClient | None = None, today: date | None = None,
                   trigger: str = "manual") -> CheckResult:
    """Fetch what is new or not settled yet, for every location with a profile."""
    gbp, cfg = settings_of(project)
    locs = profiles(project)
    today = today or project.today()
    client = client if client is not None else connect(gbp, store=project.store)
    result = CheckResult(run_id=project.store.start_run("insights", trigger))
    try:
        for loc in locs:
            fetched = LocationFetch(loc.id, loc.gbp_location)
            result.locations.append(fetched)
            fetch_metrics(client, project.store, loc.id, loc.gbp_location, cfg, today, fetched)
            fetch_keywords(client, project.store, loc.id, loc.gbp_location, cfg, today, fetched)
    except BaseException as exc:
        project.store.finish_run(result.run_id, "failed", error=str(exc))
        raise
    project.store.finish_run(result.run_id, "ok", {
        "requests": result.requests, "unsettled_days": max((r.unsettled for r in result.locations),
                                                           default=0),
        "keyword_months": sum(len(r.keyword_months) for r in result.locations)})
    return result


def check_lines(result: CheckResult) -> list[str]:
    out = []
    for r in result.locations:
        if r.start is None:
            line = f"{r.location} ({r.gbp_name}): daily metrics up to date"
        else:
            line = (f"{r.location} ({r.gbp_name}): fetched {r.start} to {r.end}; "
                    f"{r.unsettled} recent day{'s' * (r.unsettled != 1)} will be fetched again "
                    "until Google's numbers settle")
            if r.unknown:
                line += f"; {r.unknown} metric-day value{'s' * (r.unknown != 1)} not reported yet"
        out.append(line)
        if r.keyword_months:
            out.append(f"  search keywords: {', '.join(r.keyword_months)} ({r.keywords} keywords)")
        out += [f"  warning: {w}" for w in r.warnings]
    return out


# -- show -----------------------------------------------------------------------------------------

@dataclass
class MetricLine:
    metric: str
    label: str
    now: Total
    before: Total

    @property
    def change(self) -> str:
        return change(self.now, self.before)


@dataclass
class InsightsView:
    monday: date  # the week shown
    location: str  # "all locations" or an id
    lines: list[MetricLine]
    daily: list[tuple[date, dict[str, int | None]]]  # newest last
    daily_metrics: list[str]
    keyword_month: str | None
    keywords: list[read.KeywordCount]


def show_insights(project: Project, *, week_monday: date | None = None,
                  location: str | None = None, days: int = 14,
                  today: date | None = None) -> InsightsView:
    """The week (default: the last complete ISO week) against the week before, the last days one
    by one, and the newest month's search keywords. Reads the store only."""
    _, cfg = settings_of(project)
    locs = [loc.id for loc in profiles(project, location)]
    today = today or project.today()
    if week_monday is None:
        last = today - timedelta(days=7)
        week_monday = last - timedelta(days=last.weekday())
    shown = [m for m in ACTIONS if m in cfg.metrics] + [VIEWS]
    this = read.totals(project.store, week_monday, week_monday + timedelta(days=6), shown, locs)
    prev_monday = week_monday - timedelta(days=7)
    before = read.totals(project.store, prev_monday, prev_monday + timedelta(days=6), shown, locs)
    lines = [MetricLine(m, "profile views (Search and Maps)" if m == VIEWS else LABELS[m],
                        this[m], before[m]) for m in shown]
    end = today - timedelta(days=1)
    start = end - timedelta(days=max(days, 1) - 1)
    daily = []
    for i in range((end - start).days + 1):
        day = start + timedelta(days=i)
        one = read.totals(project.store, day, day, shown, locs)
        daily.append((day, {m: (t.value if t.complete else None) for m, t in one.items()}))
    month = read.latest_keyword_month(project.store)
    kws = read.keywords(project.store, month, locs, limit=20) if month else []
    return InsightsView(week_monday, location or "all locations", lines, daily, shown, month, kws)


def show_lines(view: InsightsView) -> list[str]:
    end = view.monday + timedelta(days=6)
    out = [f"Business Profile ({view.location}): week of {view.monday} to {end}, against the "
           "week before"]
    width = max(len(x.label) for x in view.lines)
    for x in view.lines:
        out.append(f"  {x.label:<{width}}  {x.now.short():>8}   week before {x.before.short()}, "
                   f"change {x.change}")
    missing = max(x.now.unknown for x in view.lines)
    if missing:
        out.append(f"  (+ = at least: up to {missing} day{'s' * (missing != 1)} of the week not "
                   "reported by Google yet; no change is given until the week is complete)")
    heads = ["day", *(SHORT.get(m, "views") for m in view.daily_metrics)]
    out.append("")
    out.append("Day by day (? = not reported by Google yet):")
    out.append("  " + "  ".join(f"{h:>10}" for h in heads))
    for day, values in view.daily:
        cells = [str(day)] + ["?" if values[m] is None else f"{values[m]:,}"
                              for m in view.daily_metrics]
        out.append("  " + "  ".join(f"{c:>10}" for c in cells))
    out.append("")
    if view.keyword_month:
        out.append(f"Top search keywords that showed the profile, {view.keyword_month}:")
        width = max((len(k.keyword) for k in view.keywords), default=10)
        out += [f"  {k.keyword:<{width}}  {k.text()}" for k in view.keywords] or ["  (none)"]
    else:
        out.append("No search keywords fetched yet: run `seo insights check`.")
    return out


# -- export ---------------------------------------------------------------------------------------

def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (keywords are typed by strangers)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_insights(project: Project, *, start: date | None = None, end: date | None = None,
                    what: str = "daily", fmt: str = "csv", location: str | None = None,
                    today: date | None = None) -> str:
    """Daily metrics (one row per day, location and metric; empty value = not reported) or the
    monthly keywords (value, or `under N`), as CSV or JSON."""
    settings_of(project)
    locs = [loc.id for loc in profiles(project, location)]
    today = today or project.today()
    end = end or today - timedelta(days=1)
    start = start or end - timedelta(days=89)
    if start > end:
        raise UserError(f"{start} is after the last day ({end})", key="--from")
    if what == "keywords":
        k = gbp_keywords
        first, last = f"{start.year:04d}-{start.month:02d}", f"{end.year:04d}-{end.month:02d}"
        with project.store.engine.connect() as conn:
            rows = [{"month": m, "location": loc, "keyword": kw, "value": v, "threshold": th,
                     "shown": f"{v:,}" if v is not None else f"under {th:,}"}
                    for m, loc, kw, v, th in conn.execute(
                        sa.select(k.c.month, k.c.location, k.c.keyword, k.c.value, k.c.threshold)
                        .where(k.c.month >= first, k.c.month <= last, k.c.location.in_(locs))
                        .order_by(k.c.month, k.c.location, k.c.keyword))]
        fields = ["month", "location", "keyword", "value", "threshold", "shown"]
    else:
        rows = [{"day": r.day.isoformat(), "location": r.location, "metric": r.metric,
                 "value": r.value, "settled": r.settled}
                for r in read.daily_rows(project.store, start, end, locs)]
        fields = ["day", "location", "metric", "value", "settled"]
    if fmt == "json":
        return json.dumps(rows, indent=1, ensure_ascii=False) + "\n"
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([_cell(row[f]) for f in fields])
    return buf.getvalue()
