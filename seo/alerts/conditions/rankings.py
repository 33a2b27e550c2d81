"""ranking_drop: a keyword that was in the top 10 falls beyond its noise band.

Per series (source, kind, keyword, town, device), from the store only: its usual position is the
median of the last 7 positions found in the 5 weeks before the latest `checks` measurements; its
noise band is the one the weekly report uses (`seo.rankings.movements.noise_band`, learned from
the 12 weeks before). It fell when the usual position was within `top` and each of the latest
`checks` measurements is worse than usual + band (or not found at all). The incident remembers the
usual position and band it opened with, and resolves once the latest measurement is back within
them. "Not measured" never counts either way.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ...rankings.movements import HISTORY_WEEKS, noise_band
from ...settings import RankAlert
from ...tables import observations
from ..model import Finding, Unavailable, WatchContext, incident_key

USUAL_POINTS = 7
USUAL_DAYS = 35
STALE_DAYS = 14

Series = tuple[str, str, str, str, str]


def _where(key: Series) -> str:
    source, kind, _kw, town, device = key
    bits = [town or "any town", kind.replace("_", " "), source]
    if device not in ("desktop", "all", ""):
        bits.append(device)
    return ", ".join(bits)


def _pos(p: float | None) -> str:
    return "not found" if p is None else f"{p:g}"


def check(ctx: WatchContext, cfg: RankAlert) -> list[Finding]:
    today = ctx.today
    since = today - timedelta(weeks=HISTORY_WEEKS) - timedelta(days=USUAL_DAYS)
    o = observations.c
    q = (sa.select(o.source, o.kind, o.keyword, o.town, o.device, o.day, o.position)
         .where(o.day >= since, o.day <= today, o.measured.is_(True)).order_by(o.day))
    if cfg.sources:
        q = q.where(o.source.in_(cfg.sources))
    series: dict[Series, list[tuple[date, float | None]]] = defaultdict(list)
    with ctx.project.store.engine.connect() as conn:
        for src, kind, kw, town, dev, day, pos in conn.execute(q):
            series[(src, kind, kw, town, dev)].append((day, pos))
    if not series:
        raise Unavailable("no rank measurements in the store (rankings not configured or not run yet)")
    out = []
    for key in sorted(series):
        finding = _judge(ctx, cfg, key, series[key], today)
        if finding is not None:
            out.append(finding)
    return out


def _judge(ctx: WatchContext, cfg: RankAlert, key: Series, points: list[tuple[date, float | None]],
           today: date) -> Finding | None:
    if len(points) <= cfg.checks or points[-1][0] < today - timedelta(days=STALE_DAYS):
        return None
    latest, before = points[-cfg.checks:], points[:-cfg.checks]
    sub = "|".join((key[0], key[1], key[4], key[3], key[2]))
    live: dict[str, Any] | None = ctx.live.get(incident_key("ranking_drop", sub))
    if live and isinstance(live.get("usual"), int | float) and isinstance(live.get("band"), int | float):
        usual, band = float(live["usual"]), float(live["band"])
        now = latest[-1][1]
        if now is not None and now <= usual + band:
            return None  # back within its band
    else:
        first = latest[0][0]
        recent = [p for d, p in before if p is not None and d >= first - timedelta(days=USUAL_DAYS)]
        if not recent:
            return None
        usual = float(statistics.median(recent[-USUAL_POINTS:]))
        band = noise_band([p for d, p in before if p is not None
                           and d >= first - timedelta(weeks=HISTORY_WEEKS)])
        if usual > cfg.top or not all(p is None or p > usual + band for _, p in latest):
            return None
    keyword = key[2]
    now_pos = latest[-1][1]
    title = f"“{keyword}” fell from {usual:g} to {_pos(now_pos)} ({_where(key)})"
    detail = [f"usual position {usual:g}, noise band ±{band:g}",
              "latest checks: " + ", ".join(f"{d:%b %d} {_pos(p)}" for d, p in latest)]
    return Finding(sub, title, detail, {"usual": usual, "band": band}, "warning")
