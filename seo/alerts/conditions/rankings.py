"""ranking_drop: a keyword that was in the top 10 falls beyond its noise band.

Per series (source, kind, keyword, town, device), from the store only: its usual position is the
median of the last 7 positions found in the 5 weeks before the latest `checks` measurements; its
noise band is the one the weekly report uses (`seo.rankings.movements.noise_band`, learned from
the 12 weeks before). It fell when the usual position was within `top` and each of the latest
`checks` measurements is worse than usual + band (or not found at all). The incident remembers the
usual position and band it opened with, and resolves once the latest measurement is back within
them. "Not measured" never counts either way.

Cheap at agency scale: the measurements change once a day at most while the watch runs every half
hour, so a run whose data (count and latest update in the window), day, settings and open
incidents are those of the last run reuses its findings; otherwise only the last 7 weeks are read
for every series, and the 12 weeks a band needs only for the few series that may have fallen.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from datetime import date, timedelta
from itertools import islice
from typing import Any

import sqlalchemy as sa

from ...rankings.movements import HISTORY_WEEKS, MIN_BAND, noise_band
from ...settings import RankAlert
from ...tables import observations
from ..model import Finding, Unavailable, WatchContext, incident_key

NAME = "ranking_drop"
USUAL_POINTS = 7
USUAL_DAYS = 35
STALE_DAYS = 14
CHUNK = 200

Series = tuple[str, str, str, str, str]
Points = list[tuple[date, float | None]]
o = observations.c


def _where(key: Series) -> str:
    source, kind, _kw, town, device = key
    bits = [town or "any town", kind.replace("_", " "), source]
    if device not in ("desktop", "all", ""):
        bits.append(device)
    return ", ".join(bits)


def _pos(p: float | None) -> str:
    return "not found" if p is None else f"{p:g}"


def _sub(key: Series) -> str:
    return "|".join((key[0], key[1], key[4], key[3], key[2]))


def _measured(cfg: RankAlert, since: date, today: date) -> Any:
    q = (sa.select(o.source, o.kind, o.keyword, o.town, o.device, o.day, o.position)
         .where(o.day >= since, o.day <= today, o.measured.is_(True)))
    return q.where(o.source.in_(cfg.sources)) if cfg.sources else q


def _fingerprint(ctx: WatchContext, cfg: RankAlert, since: date) -> str:
    q = sa.select(sa.func.count(), sa.func.max(o.updated_at)).where(o.day >= since, o.day <= ctx.today)
    if cfg.sources:
        q = q.where(o.source.in_(cfg.sources))
    with ctx.project.store.engine.connect() as conn:
        count, latest = conn.execute(q).one()
    live = sorted(k for k in ctx.shown if k.startswith(f"{NAME}:"))
    return json.dumps({"rows": count, "updated": str(latest), "today": str(ctx.today),
                       "cfg": cfg.model_dump(), "live": live}, sort_keys=True)


def check(ctx: WatchContext, cfg: RankAlert) -> list[Finding]:
    today = ctx.today
    recent_since = today - timedelta(days=USUAL_DAYS + STALE_DAYS)
    memo = _fingerprint(ctx, cfg, recent_since - timedelta(weeks=HISTORY_WEEKS))
    if ctx.memos.get(NAME) == memo:  # nothing new since the last run: the same findings
        return [ctx.shown[k] for k in sorted(ctx.shown) if k.startswith(f"{NAME}:")]
    recent: dict[Series, Points] = defaultdict(list)
    with ctx.project.store.engine.connect() as conn:
        for src, kind, kw, town, dev, day, pos in conn.execute(
                _measured(cfg, recent_since, today).order_by(o.day)):
            recent[(src, kind, kw, town, dev)].append((day, pos))
    if not recent:
        raise Unavailable("no rank measurements in the store (rankings not configured or not run yet)")
    out: list[Finding] = []
    maybe: dict[Series, tuple[Points, Points, float]] = {}
    for key in sorted(recent):
        points = recent[key]
        if len(points) <= cfg.checks or points[-1][0] < today - timedelta(days=STALE_DAYS):
            continue
        latest, before = points[-cfg.checks:], points[:-cfg.checks]
        live = ctx.live.get(incident_key(NAME, _sub(key)))
        if live and isinstance(live.get("usual"), int | float) and isinstance(live.get("band"), int | float):
            usual, band = float(live["usual"]), float(live["band"])
            now = latest[-1][1]
            if now is None or now > usual + band:  # not back within its band yet
                out.append(_finding(key, latest, usual, band))
            continue
        cut = latest[0][0] - timedelta(days=USUAL_DAYS)
        found = [p for d, p in before if p is not None and d >= cut]
        if not found:
            continue
        usual = float(statistics.median(found[-USUAL_POINTS:]))
        if usual <= cfg.top and all(p is None or p > usual + MIN_BAND for _, p in latest):
            maybe[key] = (latest, before, usual)  # may have fallen: its band decides
    for key, band in _bands(ctx, cfg, maybe).items():
        latest, _before, usual = maybe[key]
        if all(p is None or p > usual + band for _, p in latest):
            out.append(_finding(key, latest, usual, band))
    out.sort(key=lambda f: f.key)
    ctx.new_memos[NAME] = json.dumps({**json.loads(memo), "live": sorted(
        incident_key(NAME, f.key) for f in out)}, sort_keys=True)
    return out


def _bands(ctx: WatchContext, cfg: RankAlert, maybe: dict[Series, tuple[Points, Points, float]]
           ) -> dict[Series, float]:
    """The noise band of each series that may have fallen, from the 12 weeks before its fall."""
    history: dict[Series, list[float]] = defaultdict(list)
    keys = sorted(maybe)
    windows = {k: (maybe[k][0][0][0] - timedelta(weeks=HISTORY_WEEKS), maybe[k][0][0][0]) for k in keys}
    since = min((lo for lo, _hi in windows.values()), default=ctx.today)
    it = iter(keys)
    with ctx.project.store.engine.connect() as conn:
        while chunk := list(islice(it, CHUNK)):
            words = sorted({k[2] for k in chunk})
            q = _measured(cfg, since, ctx.today).where(o.keyword.in_(words), o.position.is_not(None))
            for src, kind, kw, town, dev, day, pos in conn.execute(q.order_by(o.day)):
                window = windows.get((src, kind, kw, town, dev))
                if window is not None and window[0] <= day < window[1]:
                    history[(src, kind, kw, town, dev)].append(pos)
    return {k: noise_band(history[k]) for k in keys}


def _finding(key: Series, latest: Points, usual: float, band: float) -> Finding:
    title = f"“{key[2]}” fell from {usual:g} to {_pos(latest[-1][1])} ({_where(key)})"
    detail = [f"usual position {usual:g}, noise band ±{band:g}",
              "latest checks: " + ", ".join(f"{d:%b %d} {_pos(p)}" for d, p in latest)]
    return Finding(_sub(key), title, detail, {"usual": usual, "band": band}, "warning")
