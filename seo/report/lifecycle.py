"""The report's page lifecycle: each page built, published, live, indexed, with its best rank and its
clicks this week; and the pages that need someone (not live, not indexed after N days, or indexed by
Google under another canonical), each with what to do.

Read from the store as the stages write it: `pages` (built), `page_status` (published, live, index
status), Search Console rows and rank observations (best position, clicks), by URL path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from ..publish.index_status import advice
from ..tables import observations, page_status, pages, sc_rows
from .week import Week

if TYPE_CHECKING:
    from ..api import Project

MAX_ROWS = 30  # pages in the table: the ones that moved this week or need attention first
MAX_ATTENTION = 12
GROUP_SHOWN = 6  # pages named in a grouped line
NOT_INDEXED_DAYS = 14  # when Search Console is not configured


@dataclass
class LifecycleRow:
    path: str
    kind: str
    built: date | None
    published: date | None  # this content published on the site visitors see
    live: date | None  # this content verified live
    indexed: str  # "yes", "no", "" (not inspected)
    indexed_detail: str  # the coverage state, or the day Google indexed it
    best_rank: float | None
    clicks: int
    problem: str = ""  # why it is not live

    @property
    def stage(self) -> str:
        if self.indexed == "yes":
            return "indexed"
        if self.live:
            return "live"
        if self.published:
            return "published"
        return "built"


@dataclass
class Attention:
    path: str
    why: str
    what: str
    rank: int = 0  # most urgent first: not live, not verified, another canonical, not indexed
    group: str = ""  # what pages in the same plight share (listed together)


@dataclass
class LifecycleFacts:
    tracked: bool  # anything was ever published (else the section says how to start)
    rows: list[LifecycleRow] = field(default_factory=list)
    more: int = 0
    totals: dict[str, int] = field(default_factory=dict)  # built, published, live, indexed
    attention: list[Attention] = field(default_factory=list)  # pages in the same plight grouped
    more_attention: int = 0
    needing: int = 0  # pages that need attention


def _path(url: str) -> str:
    path = urlsplit(url).path or "/"
    return path if path.endswith("/") else path + "/"


def lifecycle_facts(project: Project, week: Week) -> LifecycleFacts:
    store = project.store
    sc_cfg = project.site.config.integrations.search_console
    late_days = sc_cfg.inspection.not_indexed_days if sc_cfg else NOT_INDEXED_DAYS
    q = (sa.select(pages.c.path, pages.c.kind, pages.c.content_hash, pages.c.last_changed,
                   pages.c.indexable, page_status)
         .select_from(pages.outerjoin(page_status, page_status.c.path == pages.c.path))
         .where(pages.c.removed.is_(None)).order_by(pages.c.path))
    clicks: dict[str, int] = {}
    best: dict[str, float] = {}
    with store.engine.connect() as conn:
        rows = [r._mapping for r in conn.execute(q)]
        published_any = any(r["published_hash"] for r in rows)
        for page, c, p in conn.execute(
                sa.select(sc_rows.c.page, sa.func.sum(sc_rows.c.clicks), sa.func.min(sc_rows.c.position))
                .where(sc_rows.c.day >= week.start, sc_rows.c.day <= week.end)
                .group_by(sc_rows.c.page)):
            path = _path(page)
            clicks[path] = clicks.get(path, 0) + int(c or 0)
            best[path] = min(best.get(path, 1e9), float(p))
        for url, p in conn.execute(
                sa.select(observations.c.url, sa.func.min(observations.c.position))
                .where(observations.c.day >= week.start, observations.c.day <= week.end,
                       observations.c.measured.is_(True), observations.c.position.is_not(None),
                       observations.c.url != "").group_by(observations.c.url)):
            path = _path(url)
            best[path] = min(best.get(path, 1e9), float(p))
    facts = LifecycleFacts(tracked=published_any)
    out: list[tuple[tuple[Any, ...], LifecycleRow]] = []
    for r in rows:
        current = r["content_hash"]
        other = bool(r["google_canonical"] and r["user_canonical"]
                     and r["google_canonical"] != r["user_canonical"])
        indexed = "" if not r["verdict"] or r["inspected_hash"] is None else (
            "yes" if r["verdict"] == "PASS" and not other else "no")
        detail = r["coverage"] or ""
        if indexed == "yes" and r["indexed_on"]:
            detail = f"since {r['indexed_on']:%b} {r['indexed_on'].day}"
        elif other:
            detail = f"Google chose {r['google_canonical']}"
        row = LifecycleRow(
            path=r["path"], kind=r["kind"], built=r["last_changed"],
            published=r["published_on"] if r["published_hash"] == current else None,
            live=r["live_on"] if r["live_hash"] == current else None,
            indexed=indexed, indexed_detail=detail,
            best_rank=best.get(r["path"]), clicks=clicks.get(r["path"], 0),
            problem=r["problem"] or "")
        for stage, reached in (("built", True), ("published", row.published is not None),
                               ("live", row.live is not None), ("indexed", row.indexed == "yes")):
            facts.totals[stage] = facts.totals.get(stage, 0) + int(reached)
        facts.attention += _attention(row, r, week.end, late_days)
        moved = any(d is not None and week.start <= d <= week.end for d in
                    (row.built, row.published, row.live, r["indexed_on"]))
        urgency = 0 if row.problem else (1 if row.indexed == "no" else 2)
        out.append(((urgency, not moved, -row.clicks, row.path), row))
    out.sort(key=lambda kv: kv[0])
    facts.rows = [row for _, row in out[:MAX_ROWS]]
    facts.more = max(0, len(out) - MAX_ROWS)
    facts.needing = len({a.path for a in facts.attention})
    facts.attention = _grouped(facts.attention)
    facts.more_attention = max(0, len(facts.attention) - MAX_ATTENTION)
    facts.attention = facts.attention[:MAX_ATTENTION]
    return facts


def _grouped(items: list[Attention]) -> list[Attention]:
    """One line for many pages in the same plight (not verified yet; not indexed for one reason)."""
    items.sort(key=lambda a: (a.rank, a.path))
    groups: dict[tuple[int, str, str], list[Attention]] = {}
    out: list[Attention] = []
    for item in items:
        if item.rank in (1, 3):
            groups.setdefault((item.rank, item.group, item.what), []).append(item)
        else:
            out.append(item)
    for (rank, group, what), members in groups.items():
        if len(members) == 1:
            out.append(members[0])
            continue
        shown = ", ".join(m.path for m in members[:GROUP_SHOWN])
        more = f" and {len(members) - GROUP_SHOWN} more" if len(members) > GROUP_SHOWN else ""
        out.append(Attention(shown + more, f"{len(members)} pages {group}", what, rank, group))
    out.sort(key=lambda a: (a.rank, a.path))
    return out


def _attention(row: LifecycleRow, r: Any, today: date, late_days: int) -> list[Attention]:
    out = []
    if row.problem:
        out.append(Attention(row.path, f"not live: {row.problem}",
                             "publish again (`seo publish`) or fix the live site; `seo verify` "
                             "checks it again", 0))
    elif row.published and not row.live:
        out.append(Attention(row.path, "published, not verified live yet",
                             "run `seo verify` (posts wait until it is live)", 1,
                             "published, not verified live yet"))
    if not r["indexable"]:
        return out
    g, u = r["google_canonical"] or "", r["user_canonical"] or ""
    if g and u and g != u:
        out.append(Attention(row.path, f"Google indexed {g} as the canonical, not this page",
                             advice(r["coverage"] or "", r["verdict"] or "", g, u), 2))
    elif row.live and row.indexed == "no" and row.live <= today - timedelta(days=late_days):
        days = (today - row.live).days
        out.append(Attention(row.path, f"live for {days} days, not indexed ({row.indexed_detail})",
                             advice(r["coverage"] or "", r["verdict"] or "", g, u), 3,
                             f"live for over {late_days} days, not indexed ({row.indexed_detail})"))
    return out
