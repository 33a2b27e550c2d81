"""The report's Business Profile numbers: calls, direction requests, website clicks and bookings
week over week (with the weeks before, for a small chart each), profile views, the top search
keywords, and the loop from page to rank to clicks to the profile's calls where data allows.

A week with days Google has not reported yet is shown as "at least" and gets no percentage."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import sqlalchemy as sa

from ...insights import read
from ...insights.metrics import ACTIONS, LABELS, VIEWS, Total, change
from ...tables import gbp_metrics, observations, sc_rows

if TYPE_CHECKING:
    from ...api import Project
    from ..week import Week

WEEKS = 8
KEYWORDS = 10
LOOP_PAGES = 8


@dataclass
class MetricWeek:
    metric: str
    label: str
    now: Total
    before: Total
    weeks: list[tuple[str, Total]] = field(default_factory=list)  # oldest first, this week last

    @property
    def change(self) -> str:
        return change(self.now, self.before)


@dataclass
class LoopRow:
    page: str  # path
    rank: float | None  # best measured position this week (any keyword ranking this page)
    clicks: int  # Search Console clicks this week
    impressions: int


@dataclass
class ProfileFunnel:
    location: str
    views: Total
    website: Total
    calls: Total
    directions: Total


@dataclass
class InsightsFacts:
    configured: bool
    has_data: bool = False
    metrics: list[MetricWeek] = field(default_factory=list)
    views: MetricWeek | None = None
    keyword_month: str | None = None
    keywords: list[read.KeywordCount] = field(default_factory=list)
    loop: list[LoopRow] = field(default_factory=list)
    funnels: list[ProfileFunnel] = field(default_factory=list)

    def metric(self, name: str) -> MetricWeek | None:
        return next((m for m in self.metrics if m.metric == name), None)


def insights_facts(project: Project, week: Week) -> InsightsFacts:
    gbp = project.site.config.integrations.gbp
    facts = InsightsFacts(gbp is not None and gbp.insights.enabled)
    store = project.store
    with store.engine.connect() as conn:
        first = conn.execute(sa.select(sa.func.min(gbp_metrics.c.day))).scalar()
    if first is None or first > week.end:
        return facts
    facts.configured = facts.has_data = True
    shown = [m for m in ACTIONS if gbp is None or m in gbp.insights.metrics] + [VIEWS]
    series = read.weekly(store, week.start, WEEKS, shown)
    for metric in shown:
        weeks = [(week.previous(WEEKS - 1 - i).label, totals[metric])
                 for i, (_, totals) in enumerate(series)]
        mw = MetricWeek(metric, "profile views" if metric == VIEWS else LABELS[metric],
                        weeks[-1][1], weeks[-2][1], weeks)
        if metric == VIEWS:
            facts.views = mw
        else:
            facts.metrics.append(mw)
    month = read.latest_keyword_month(store, before=week.end + timedelta(days=1))
    if month:
        facts.keyword_month = month
        facts.keywords = read.keywords(store, month, limit=KEYWORDS)
    facts.loop = loop_rows(project, week)
    locations = [loc for loc in project.site.config.locations if loc.gbp_location]
    for loc in locations:
        t = read.totals(store, week.start, week.end, [VIEWS, "WEBSITE_CLICKS", "CALL_CLICKS",
                                                      "BUSINESS_DIRECTION_REQUESTS"], [loc.id])
        facts.funnels.append(ProfileFunnel(loc.address.locality if len(locations) > 1 else
                                           loc.name, t[VIEWS], t["WEBSITE_CLICKS"],
                                           t["CALL_CLICKS"], t["BUSINESS_DIRECTION_REQUESTS"]))
    return facts


def _path(url: str) -> str:
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path + "/"


def loop_rows(project: Project, week: Week) -> list[LoopRow]:
    """The pages people found in search this week: their best rank and their clicks."""
    host = urlsplit(project.site.config.business.url).netloc.lower()
    clicks: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    ranks: dict[str, float] = {}
    s = sc_rows.c
    o = observations.c
    with project.store.engine.connect() as conn:
        for page, c, i in conn.execute(
                sa.select(s.page, sa.func.sum(s.clicks), sa.func.sum(s.impressions))
                .where(s.day >= week.start, s.day <= week.end).group_by(s.page)):
            if urlsplit(page).netloc.lower() in (host, ""):
                clicks[_path(page)][0] += int(c or 0)
                clicks[_path(page)][1] += int(i or 0)
        for url, best in conn.execute(
                sa.select(o.url, sa.func.min(o.position))
                .where(o.day >= week.start, o.day <= week.end, o.measured.is_(True),
                       o.position.is_not(None), o.url != "").group_by(o.url)):
            if urlsplit(url).netloc.lower() in (host, ""):
                path = _path(url)
                ranks[path] = min(ranks.get(path, best), best)
    paths = sorted(set(clicks) | set(ranks),
                   key=lambda p: (-clicks.get(p, [0, 0])[0], ranks.get(p, 1e9), p))
    return [LoopRow(p, ranks.get(p), clicks.get(p, [0, 0])[0], clicks.get(p, [0, 0])[1])
            for p in paths[:LOOP_PAGES] if clicks.get(p, [0, 0])[0] or p in ranks]
