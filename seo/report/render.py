"""The facts as an email: HTML (templates/report/report.html.jinja) and plain text with the same
numbers, plus the charts the HTML references by Content-ID.

The templates end in `.jinja`, not `.j2`, so that editing the report does not change the pages'
template fingerprint (which would rebuild every page). A project's own `templates/report/`
overrides the built-in one, as for pages.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jinja2

from ..pages.render import BUILTIN_TEMPLATES
from .charts import Chart, clicks_chart, metric_bars, rating_chart, sparkline
from .data import MAX_LIST, TREND_WEEKS, AuditItem, Facts, Mover, PageFacts, RankRow
from .summary import pct
from .week import Week

CID_DOMAIN = "seo-report"


@dataclass
class Report:
    """A built weekly report: what `seo report preview` shows and `seo report send` mails."""

    week: Week
    facts: Facts
    subject: str
    html: str  # images as cid: URLs
    text: str
    charts: list[Chart]

    @staticmethod
    def cid(chart: Chart, week: Week) -> str:
        return f"{chart.name}.{week.label}@{CID_DOMAIN}"

    def content_ids(self) -> dict[str, Chart]:
        return {self.cid(c, self.week): c for c in self.charts}

    def preview_html(self) -> str:
        """The HTML with each cid: image inlined as a data: URL, to open in a browser."""
        ids = self.content_ids()

        def inline(m: re.Match[str]) -> str:
            chart = ids[m.group(1)]
            return 'src="data:image/png;base64,' + base64.b64encode(chart.png).decode() + '"'
        return re.sub(r'src="cid:([^"]+)"', inline, self.html)


def environment(root: Path) -> jinja2.Environment:
    dirs = [root / "templates" / "report", BUILTIN_TEMPLATES / "report"]
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(str(d)) for d in dirs if d.is_dir()]),
        autoescape=lambda name: bool(name and name.endswith(".html.jinja")),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True)


def pos(p: float | None) -> str:
    return "not found" if p is None else f"{p:g}"


def position(row: RankRow) -> str:
    return "not measured" if not row.measured else pos(row.position)


def change(row: RankRow) -> str:
    if row.status in ("entered", "dropped out", "new", "not measured"):
        return row.status
    if row.change is None:
        return "-"
    return "0" if abs(row.change) < 0.05 else f"{row.change:+g}"


def change_colour(row: RankRow) -> str:
    if row.status in ("up", "entered"):
        return "#1b7a3d"
    if row.status in ("down", "dropped out"):
        return "#b3261e"
    return "#1d2624"


def lifecycle(pages: PageFacts) -> str:
    """Published and live, once the publish stage tracks them; until then say so plainly
    (a built page is not yet on the clinic's website)."""
    if pages.published is None and pages.live is None:
        return "Which built pages are published and live on the website is not tracked yet."
    parts = []
    if pages.published is not None:
        parts.append(f"{pages.published} published")
    if pages.live is not None:
        parts.append(f"{pages.live} verified live")
    return f"Of {pages.total} built pages: {', '.join(parts)}."


def trend_text(row: RankRow) -> str:
    return ", ".join("-" if v is None else f"{v:g}" for v in row.trend) or "-"


def movers_lines(movers: list[Mover]) -> list[str]:
    return [f'"{m.keyword}" ({m.town}, {m.kind.replace("_", " ")}): {pos(m.previous)} -> {pos(m.current)}'
            for m in movers]


def reason_lines(reasons: list[tuple[str, int]]) -> list[str]:
    return [f"{n}: {why}" for why, n in reasons]


def query_lines(queries: list[tuple[str, int, int]]) -> list[str]:
    return [f'"{q}": {c:,} clicks, {i:,} impressions' for q, c, i in queries]


def audit_lines(found: list[AuditItem]) -> list[str]:
    return [f"{i.severity}: {i.type.replace('_', ' ')} on {i.page}" + (f" ({i.detail})" if i.detail else "")
            for i in found]


def profile_chart_map(facts: Facts) -> dict[str, Chart]:
    """One small chart per Business Profile number (key: the metric), and the rating trend."""
    out: dict[str, Chart] = {}
    for m in facts.insights.metrics:
        if any(t.value for _, t in m.weeks):  # eight empty weeks say nothing a chart could add
            out[m.metric] = metric_bars(f"gbp-{m.metric.lower().replace('_', '-')}.png",
                                        [(w, t.value, t.complete) for w, t in m.weeks], m.label)
    rv = facts.reviews
    if rv.has_data and any(x.new for x in rv.months):
        out["rating"] = rating_chart("review-rating.png",
                                     [(x.month, x.new, x.average_all) for x in rv.months])
    return out


def subject_for(facts: Facts, prefix: str) -> str:
    r = facts.rankings
    bits = []
    if r.series:
        bits.append(f"{len(r.up)} up, {len(r.down)} down")
    calls = facts.insights.metric("CALL_CLICKS")
    if calls and calls.now.known:
        bits.append(f"{calls.now.short()} call{'s' * (calls.now.value != 1)}")
    if facts.reviews.new:
        n = len(facts.reviews.new)
        bits.append(f"{n} new review{'s' * (n != 1)}")
    bad = sum(not j.ok for j in facts.jobs)
    if bad:
        bits.append(f"{bad} job{'s' * (bad != 1)} failing")
    tail = f": {', '.join(bits)}" if bits else ""
    return f"{prefix} {facts.business}, week {facts.week.label}{tail}".strip()


def render(root: Path, facts: Facts, subject: str) -> Report:
    week = facts.week
    charts: list[Chart] = []
    trend_charts: dict[int, Chart] = {}
    for i, row in enumerate(facts.rankings.rows):
        if any(v is not None for v in row.trend):
            chart = sparkline(f"trend-{i + 1:02d}.png", row.trend,
                              f"{row.town}, {row.condition} ({row.kind.replace('_', ' ')})")
            trend_charts[i] = chart
            charts.append(chart)
    sc_chart = None
    if facts.search_console.has_data:
        sc_chart = clicks_chart("search-clicks.png", facts.search_console.weeks)
        charts.append(sc_chart)
    profile_charts = profile_chart_map(facts)
    charts += list(profile_charts.values())
    if facts.grid is not None:  # the map-pack section's maps and trends
        charts += facts.grid.charts
    img: Callable[[Chart], str] = lambda c: "cid:" + Report.cid(c, week)  # noqa: E731
    context = dict(f=facts, subject=subject, max_list=MAX_LIST, trend_weeks=TREND_WEEKS,
                   trend_charts=trend_charts, clicks_chart=sc_chart, img=img, pos=pos,
                   position=position, change=change, change_colour=change_colour,
                   trend_text=trend_text, movers_lines=movers_lines, reason_lines=reason_lines,
                   query_lines=query_lines, audit_lines=audit_lines, pct=pct,
                   lifecycle=lifecycle, profile_charts=profile_charts)
    env = environment(root)
    html = env.get_template("report.html.jinja").render(context)
    text = env.get_template("report.txt.jinja").render(context)
    text = re.sub(r"\n{3,}", "\n\n", text).rstrip() + "\n"
    return Report(week, facts, subject, html, text, charts)
