"""The week's facts, gathered from the store into plain dataclasses (no formatting, no HTML).

Every stage is read as it stores its results: rankings through `seo.rankings.movements`, Search
Console rows, `page_events`, the listing tables, the audit's diff (`seo.audit.history`) and `runs`.
A stage with nothing configured and nothing stored says so instead of failing the report.
"""

from __future__ import annotations

import os
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..store import metadata, page_events, pages, runs
from .sections.insights import InsightsFacts, insights_facts
from .sections.reviews import ReviewFacts, reviews_facts
from .week import Week

if TYPE_CHECKING:
    from ..api import Project
    from ..rankings.keywords import Keyword
    from ..rankings.movements import Movement
    from .lifecycle import LifecycleFacts

MAX_RANK_ROWS = 24  # town x condition rows in the table (the most telling first)
MAX_LIST = 8  # items listed per section before "and N more"
TREND_WEEKS = 8
STALE_DAYS = 8  # a job with no run for longer than this is reported as silent
STUCK_HOURS = 6
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|APIKEY|_KEY$|LOGIN", re.I)


def redact(text: str) -> str:
    """Blank out the values of secret-looking environment variables (errors can quote requests)."""
    for name, value in os.environ.items():
        if len(value) >= 6 and SECRET_NAMES.search(name) and value in text:
            text = text.replace(value, "[redacted]")
    return text


def first_line(text: str, limit: int = 200) -> str:
    line = redact(text).strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[:limit - 1] + "…"


@dataclass
class RankRow:
    town: str
    condition: str  # condition name, or "(town page)"
    kind: str  # organic, local_pack, maps
    source: str
    keyword: str
    position: float | None
    measured: bool
    change: float | None  # positive = better (moved up)
    status: str  # up, down, steady, entered, dropped out, not measured, new
    trend: list[float | None] = field(default_factory=list)  # weekly medians, oldest first


@dataclass
class Mover:
    keyword: str
    town: str
    kind: str
    source: str
    previous: float | None
    current: float | None
    change: float | None
    band: float
    status: str
    events: list[str] = field(default_factory=list)


@dataclass
class RankingFacts:
    configured: bool
    setup: str  # what to do when not configured
    series: int = 0
    measured: int = 0
    rows: list[RankRow] = field(default_factory=list)
    more_rows: int = 0
    up: list[Mover] = field(default_factory=list)
    down: list[Mover] = field(default_factory=list)
    new_top3: list[Mover] = field(default_factory=list)
    new_top10: list[Mover] = field(default_factory=list)
    not_measured: int = 0
    reasons: list[tuple[str, int]] = field(default_factory=list)  # most common first


@dataclass
class SearchConsoleFacts:
    configured: bool
    clicks: int = 0
    impressions: int = 0
    prev_clicks: int = 0
    prev_impressions: int = 0
    days: int = 0  # days of data this week
    provisional_days: int = 0
    weeks: list[tuple[str, int, int]] = field(default_factory=list)  # label, clicks, impressions
    top_queries: list[tuple[str, int, int]] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.days > 0


@dataclass
class PageFacts:
    """Pages as the build knows them. Built, published and live are three different facts: the
    build stage knows only what it built; `published` and `live` stay None (said as "not tracked")
    until the publish stage records them per page."""

    created: list[str] = field(default_factory=list)  # new pages built this week
    changed: list[str] = field(default_factory=list)  # pages rebuilt with new content
    removed: list[str] = field(default_factory=list)
    noindexed: list[str] = field(default_factory=list)
    indexable: int = 0  # built pages meant for Google's index
    total: int = 0  # built pages
    published: int | None = None  # pages on the publish target (None: not tracked)
    live: int | None = None  # pages verified on the live site (None: not tracked)


@dataclass
class ListingFacts:
    configured: bool
    changes: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    posts_live: list[str] = field(default_factory=list)
    posts_rejected: list[str] = field(default_factory=list)
    posts_pending: list[str] = field(default_factory=list)


@dataclass
class AuditItem:
    severity: str
    type: str
    page: str
    detail: str


@dataclass
class AuditFacts:
    ran_ever: bool
    audit_id: int | None = None
    target: str = ""
    when: str = ""
    pages: int = 0
    first: bool = False  # first audit of its target: everything is "new"
    new: list[AuditItem] = field(default_factory=list)
    fixed: list[AuditItem] = field(default_factory=list)
    still_open: int = 0
    last_before: str = ""  # when no audit ran this week: the date of the latest one

    def new_by_severity(self) -> dict[str, int]:
        return dict(Counter(i.severity for i in self.new))


@dataclass
class JobHealth:
    job: str
    last_run: str  # local time
    last_status: str
    runs: int  # this week
    failures: int  # this week
    error: str = ""  # the week's last failure, one line
    problem: str = ""  # failed, silent for N days, stuck

    @property
    def ok(self) -> bool:
        return not self.problem


@dataclass
class Facts:
    week: Week
    business: str
    rankings: RankingFacts
    search_console: SearchConsoleFacts
    pages: PageFacts
    listing: ListingFacts
    audit: AuditFacts
    jobs: list[JobHealth]
    actions: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    insights: InsightsFacts = field(default_factory=lambda: InsightsFacts(False))
    reviews: ReviewFacts = field(default_factory=lambda: ReviewFacts(False))
    lifecycle: LifecycleFacts | None = None  # each page: built, published, live, indexed
    grid: Any = None  # seo.grid.report.GridFacts: the map-pack section


def gather(project: Project, week: Week) -> Facts:
    from .lifecycle import lifecycle_facts
    facts = Facts(week=week, business=project.site.config.business.name,
                  rankings=rankings_facts(project, week),
                  search_console=search_console_facts(project, week),
                  pages=page_facts(project, week), listing=listing_facts(project, week),
                  audit=audit_facts(project, week), jobs=job_health(project, week),
                  lifecycle=lifecycle_facts(project, week))
    if facts.lifecycle is not None and facts.lifecycle.tracked:  # the publish stage tracks them
        facts.pages.published = facts.lifecycle.totals.get("published", 0)
        facts.pages.live = facts.lifecycle.totals.get("live", 0)
    facts.insights = insights_facts(project, week)
    facts.reviews = reviews_facts(project, week)
    from ..grid.report import grid_facts  # the map-pack section gathers its own facts
    facts.grid = grid_facts(project, week.start, week.end)
    from .summary import next_actions, summarise
    facts.actions = next_actions(facts)
    facts.summary = summarise(facts)
    return facts


# -- rankings -----------------------------------------------------------------------------------

def _mover(m: Movement) -> Mover:
    return Mover(m.keyword, m.town or "(all)", m.kind, m.source, m.previous, m.current,
                 m.change_week, m.band, m.status, [e.line() for e in m.events][:MAX_LIST])


def rankings_facts(project: Project, week: Week) -> RankingFacts:
    from ..rankings.keywords import build_keywords
    from ..rankings.movements import compute
    cfg = project.site.config.integrations
    configured = cfg.search_console is not None or cfg.serp is not None
    setup = ("set integrations.search_console.property in config/site.yaml and run "
             "`seo auth google` (or configure integrations.serp)")
    keywords = build_keywords(project.site)
    report = compute(project.store, keywords=keywords, window=(week.start, week.end))
    if not report.rows:
        return RankingFacts(configured, setup)
    by_key: dict[tuple[str, str], Keyword] = {(k.text, k.town): k for k in keywords}
    by_text: dict[str, Keyword] = {}
    for k in keywords:
        by_text.setdefault(k.text, k)
    towns = {t.slug: t.name for t in project.site.towns}
    conds = {c.meta.slug: c.meta.name for c in project.site.conditions}
    facts = RankingFacts(True, setup, series=len(report.rows))
    facts.measured = sum(m.measured for m in report.rows)
    facts.up = [_mover(m) for m in sorted(report.winners, key=_move_size)]
    facts.down = [_mover(m) for m in sorted(report.losers, key=_move_size)]
    facts.new_top3 = [_mover(m) for m in report.new_top3]
    facts.new_top10 = [_mover(m) for m in report.new_top10 if not m.new_top3]
    missing = report.not_measured
    facts.not_measured = len(missing)
    facts.reasons = sorted(Counter(first_line(m.reason, 120) or "no check this week"
                                   for m in missing).items(), key=lambda kv: (-kv[1], kv[0]))
    # town x condition: the best-placed keyword of each (town, condition, kind)
    groups: dict[tuple[str, str, str], list[Movement]] = defaultdict(list)
    for m in report.rows:
        kw = by_key.get((m.keyword, m.town)) if m.town else by_text.get(m.keyword)
        if kw is None:
            continue
        groups[(kw.town, kw.condition or "", m.kind)].append(m)
    chosen: list[tuple[tuple[str, str, str], Movement]] = []
    for key, ms in groups.items():
        ms.sort(key=lambda m: (not m.measured, m.current is None, m.current or 0, m.source, m.keyword))
        chosen.append((key, ms[0]))
    chosen.sort(key=lambda kv: (not (kv[1].moved or kv[1].new_top3 or kv[1].new_top10),
                                kv[1].current is None, kv[1].current or 0, kv[0]))
    facts.more_rows = max(0, len(chosen) - MAX_RANK_ROWS)
    shown = sorted(chosen[:MAX_RANK_ROWS], key=lambda kv: (towns.get(kv[0][0], kv[0][0]),
                                                             conds.get(kv[0][1], ""), kv[0]))
    trends = _trends(project, week, [m for _, m in shown])
    for (town, cond, kind), m in shown:
        facts.rows.append(RankRow(
            towns.get(town, town), conds.get(cond, "(town page)") if cond else "(town page)", kind,
            m.source, m.keyword, m.current, m.measured, m.change_week, m.status,
            trends.get((m.source, m.kind, m.keyword, m.town, m.device), [])))
    return facts


def _move_size(m: Movement) -> tuple[float, str, str]:
    return (-abs(m.change_week or 100.0), m.town, m.keyword)


def _trends(project: Project, week: Week, shown: list[Movement]) -> dict[tuple[str, ...], list[float | None]]:
    """Weekly medians of the measured positions of the shown series, oldest week first."""
    from ..rankings.observations import observations as o
    if not shown:
        return {}
    first = week.start - timedelta(weeks=TREND_WEEKS - 1)
    wanted = {(m.source, m.kind, m.keyword, m.town, m.device) for m in shown}
    values: dict[tuple[str, ...], list[list[float]]] = {k: [[] for _ in range(TREND_WEEKS)] for k in wanted}
    q = (sa.select(o.c.source, o.c.kind, o.c.keyword, o.c.town, o.c.device, o.c.day, o.c.position)
         .where(o.c.day >= first, o.c.day <= week.end, o.c.measured.is_(True),
                o.c.position.is_not(None), o.c.keyword.in_(sorted({m.keyword for m in shown}))))
    with project.store.engine.connect() as conn:
        for src, kind, kw, town, dev, day, pos in conn.execute(q):
            key = (src, kind, kw, town, dev)
            if key in values:
                values[key][(day - first).days // 7].append(pos)
    return {k: [float(statistics.median(v)) if v else None for v in weeks]
            for k, weeks in values.items()}


# -- Search Console -----------------------------------------------------------------------------

def search_console_facts(project: Project, week: Week) -> SearchConsoleFacts:
    from ..rankings.observations import sc_rows as t
    facts = SearchConsoleFacts(project.site.config.integrations.search_console is not None)
    first = week.start - timedelta(weeks=TREND_WEEKS - 1)
    per_week: dict[int, list[int]] = {i: [0, 0] for i in range(TREND_WEEKS)}
    days_seen: set[Any] = set()
    provisional: set[Any] = set()
    q = (sa.select(t.c.day, sa.func.sum(t.c.clicks), sa.func.sum(t.c.impressions),
                   sa.func.max(sa.cast(t.c.provisional, sa.Integer)))
         .where(t.c.day >= first, t.c.day <= week.end).group_by(t.c.day))
    top = (sa.select(t.c.query, sa.func.sum(t.c.clicks).label("c"), sa.func.sum(t.c.impressions).label("i"))
           .where(t.c.day >= week.start, t.c.day <= week.end).group_by(t.c.query)
           .order_by(sa.desc("c"), sa.desc("i"), t.c.query).limit(5))
    with project.store.engine.connect() as conn:
        for day, clicks, imps, prov in conn.execute(q):
            idx = (day - first).days // 7
            per_week[idx][0] += int(clicks or 0)
            per_week[idx][1] += int(imps or 0)
            if idx == TREND_WEEKS - 1:
                days_seen.add(day)
                if prov:
                    provisional.add(day)
        facts.top_queries = [(str(qy), int(c or 0), int(i or 0)) for qy, c, i in conn.execute(top)]
    if any(c or i for c, i in per_week.values()):
        facts.configured = True
    facts.weeks = [(week.previous(TREND_WEEKS - 1 - i).label, *per_week[i]) for i in range(TREND_WEEKS)]
    facts.clicks, facts.impressions = per_week[TREND_WEEKS - 1]
    facts.prev_clicks, facts.prev_impressions = per_week[TREND_WEEKS - 2]
    facts.days, facts.provisional_days = len(days_seen), len(provisional)
    return facts


# -- pages --------------------------------------------------------------------------------------

def page_facts(project: Project, week: Week) -> PageFacts:
    facts = PageFacts()
    q = (sa.select(page_events.c.path, page_events.c.event)
         .where(page_events.c.day >= week.start, page_events.c.day <= week.end)
         .order_by(page_events.c.path, page_events.c.id))
    seen: dict[str, set[str]] = defaultdict(set)
    with project.store.engine.connect() as conn:
        for path, event in conn.execute(q):
            seen[event].add("/" + path.strip("/") + "/" if path.strip("/") else "/")
        live, total = conn.execute(sa.select(
            sa.func.sum(sa.cast(pages.c.indexable, sa.Integer)), sa.func.count())
            .where(pages.c.removed.is_(None))).one()
    facts.created = sorted(seen["created"])
    facts.changed = sorted(seen["changed"] - seen["created"])
    facts.removed = sorted(seen["removed"])
    facts.noindexed = sorted(seen["noindexed"])
    facts.indexable, facts.total = int(live or 0), int(total or 0)
    return facts


# -- listing ------------------------------------------------------------------------------------

def listing_facts(project: Project, week: Week) -> ListingFacts:
    from ..tables import listing_changes as ch
    from ..tables import listing_drift as dr
    from ..tables import listing_posts as po
    facts = ListingFacts(project.site.config.integrations.gbp is not None)
    lo, hi = week.utc_bounds()
    with project.store.engine.connect() as conn:
        for at, action, loc, fields, status in conn.execute(
                sa.select(ch.c.at, ch.c.action, ch.c.location, ch.c.fields, ch.c.status)
                .where(ch.c.at >= lo, ch.c.at < hi).order_by(ch.c.at, ch.c.id)):
            line = f"{week.day(at)}: {action} at {loc}: {fields or '(no fields)'} ({status})"
            (facts.failed if status == "failed" else facts.changes).append(line)
        for loc, fld, kind, policy in conn.execute(
                sa.select(dr.c.location, dr.c.field, dr.c.kind, dr.c.policy)
                .where(dr.c.at >= lo, dr.c.at < hi).order_by(dr.c.location, dr.c.field, dr.c.kind)
                .distinct()):
            who = "changed by Google" if kind == "google" else "our edit pending Google's review"
            facts.drift.append(f"{loc}: {fld} {who} (policy: {policy})")
        for page, loc, state, reason in conn.execute(
                sa.select(po.c.page, po.c.location, po.c.state, po.c.reason)
                .where(sa.or_(sa.and_(po.c.created_on >= week.start, po.c.created_on <= week.end),
                              sa.and_(po.c.updated_at >= lo, po.c.updated_at < hi)))
                .order_by(po.c.location, po.c.page, po.c.key)):
            line = f"{page} ({loc}, {reason} page)"
            {"LIVE": facts.posts_live, "REJECTED": facts.posts_rejected}.get(
                state, facts.posts_pending).append(line)
        if any((facts.changes, facts.failed, facts.drift, facts.posts_live, facts.posts_rejected,
                facts.posts_pending)):
            facts.configured = True
    return facts


# -- audit --------------------------------------------------------------------------------------

def audit_facts(project: Project, week: Week) -> AuditFacts:
    from ..audit.history import audits, diff_audit
    lo, hi = week.utc_bounds()
    metadata.create_all(project.store.engine, tables=[audits])
    with project.store.engine.connect() as conn:
        row = conn.execute(sa.select(audits.c.id, audits.c.target, audits.c.started_at, audits.c.pages)
                           .where(audits.c.started_at >= lo, audits.c.started_at < hi)
                           .order_by(audits.c.id.desc()).limit(1)).first()
        before = conn.execute(sa.select(sa.func.max(audits.c.started_at))
                              .where(audits.c.started_at < lo)).scalar()
    if row is None:
        return AuditFacts(ran_ever=before is not None,
                          last_before=week.full_date(before) if before else "")
    diff = diff_audit(project.store, row.id)

    def items(found: list[Any]) -> list[AuditItem]:
        order = {"error": 0, "warning": 1, "notice": 2}
        out = [AuditItem(f.severity, f.type, f.page, first_line(f.detail, 120)) for f in found]
        return sorted(out, key=lambda i: (order.get(i.severity, 3), i.type, i.page))

    return AuditFacts(True, row.id, row.target, week.day(row.started_at), row.pages,
                      diff.previous_id is None, items(diff.new), items(diff.fixed), len(diff.still_open))


# -- jobs ---------------------------------------------------------------------------------------

def job_health(project: Project, week: Week) -> list[JobHealth]:
    lo, hi = week.utc_bounds()
    latest: dict[str, Any] = {}
    in_week: dict[str, list[Any]] = defaultdict(list)
    q = (sa.select(runs.c.job, runs.c.started_at, runs.c.status, runs.c.error)
         .where(runs.c.started_at < hi).order_by(runs.c.job, runs.c.started_at, runs.c.id))
    with project.store.engine.connect() as conn:
        for r in conn.execute(q):
            latest[r.job] = r
            if r.started_at >= lo:
                in_week[r.job].append(r)
    out = []
    for job in sorted(latest):
        last = latest[job]
        week_runs = in_week[job]
        failed = [r for r in week_runs if r.status in ("failed", "interrupted")]
        health = JobHealth(job, week.when(last.started_at), last.status,
                           len(week_runs), len(failed), first_line(failed[-1].error) if failed else "")
        if last.status in ("failed", "interrupted"):
            health.problem = f"last run {last.status}"
        elif failed:
            health.problem = f"{len(failed)} of {len(week_runs)} runs failed"
        elif last.status == "running" and hi - last.started_at > timedelta(hours=STUCK_HOURS):
            health.problem = "still marked running (stuck or killed)"
        elif hi - last.started_at > timedelta(days=STALE_DAYS):
            health.problem = f"no run for {(hi - last.started_at).days} days"
        out.append(health)
    return out
