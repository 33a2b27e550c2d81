"""Fetch Business Profile Performance data into the store: daily metrics per location, and the
monthly search keywords that showed the profile.

Google's daily numbers lag a few days, and proto3 JSON leaves a zero out, so an answer cannot tell
"zero" from "not counted yet". The rule here:
- a day inside the settle window (younger than `settle_days`) with no value is unknown (NULL), and
  is fetched again on every run until it leaves the window;
- a day fetched once it is older than the window is settled: Google's answer is final, a listed
  day without a value is a zero, and a day Google leaves out of the answer stays unknown;
- settled days are not fetched again.
Keywords: Google gives either a count or only a threshold ("fewer than N"); a threshold is kept
as such, never turned into a number. A month is fetched until it has been over for the settle
window.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..errors import ExternalError
from ..hostile import plain
from ..listing.client import GbpClient
from ..settings import GbpInsights
from ..store import Store, now
from ..tables import gbp_keyword_months, gbp_keywords, gbp_metrics
from .metrics import days

CHUNK_DAYS = 180  # days per request
KEYWORD_PAGES = 50  # pages of 100 keywords per month and location
KEYWORD_MAX = 512


@dataclass
class LocationFetch:
    location: str
    gbp_name: str
    start: date | None = None  # the days fetched (None: nothing to fetch)
    end: date | None = None
    requests: int = 0
    unsettled: int = 0  # days still inside the settle window
    unknown: int = 0  # metric-days without a value (not counted yet or never reported)
    keyword_months: list[str] = field(default_factory=list)
    keywords: int = 0
    warnings: list[str] = field(default_factory=list)


def _date(obj: Any) -> date:
    if not isinstance(obj, dict):
        raise ValueError("date is not an object")
    return date(int(obj["year"]), int(obj["month"]), int(obj.get("day") or 1))


def _count(raw: Any) -> int:
    value = int(str(raw))
    if value < 0:
        raise ValueError(f"negative count {raw!r}")
    return value


def parse_series(answer: dict[str, Any], wanted: list[str], start: date,
                 end: date) -> dict[str, dict[date, int | None]]:
    """metric -> {listed day: value, None when listed without one}; raises ExternalError."""
    out: dict[str, dict[date, int | None]] = {m: {} for m in wanted}
    try:
        groups = answer.get("multiDailyMetricTimeSeries") or []
        for group in groups:
            for series in group.get("dailyMetricTimeSeries") or []:
                metric = series.get("dailyMetric")
                if metric not in out:
                    continue
                for point in (series.get("timeSeries") or {}).get("datedValues") or []:
                    day = _date(point.get("date"))
                    if start <= day <= end:
                        out[metric][day] = _count(point["value"]) if "value" in point else None
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ExternalError(f"fetchMultiDailyMetricsTimeSeries: malformed answer from Google "
                            f"({type(exc).__name__}: {str(exc)[:80]})") from None
    return out


def metrics_window(store: Store, location: str, metrics: list[str], today: date,
                   cfg: GbpInsights) -> tuple[date, date] | None:
    """From the first day not yet settled (or never fetched) to yesterday, within the backfill."""
    end = today - timedelta(days=1)
    floor = today - timedelta(days=cfg.backfill_days)
    t = gbp_metrics.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.metric, sa.func.max(t.day),
                      sa.func.min(sa.case((t.settled.is_(False), t.day))))
            .where(t.location == location, t.day >= floor).group_by(t.metric)).all()
    seen = {metric: (last, unsettled) for metric, last, unsettled in rows}
    starts = []
    for metric in metrics:
        if metric not in seen:
            starts.append(floor)
            continue
        last, unsettled = seen[metric]
        starts.append(unsettled if unsettled is not None else last + timedelta(days=1))
    start = max(min(starts), floor)
    return (start, end) if start <= end else None


def fetch_metrics(client: GbpClient, store: Store, location: str, gbp_name: str,
                  cfg: GbpInsights, today: date, result: LocationFetch) -> None:
    metrics = list(dict.fromkeys(cfg.metrics))
    span = metrics_window(store, location, metrics, today, cfg)
    if span is None:
        return
    result.start, result.end = span
    settle_line = today - timedelta(days=cfg.settle_days)
    perf = client.service("businessprofileperformance")
    chunk_start = span[0]
    while chunk_start <= span[1]:
        chunk_end = min(chunk_start + timedelta(days=CHUNK_DAYS - 1), span[1])
        request = perf.locations().fetchMultiDailyMetricsTimeSeries(
            location=gbp_name, dailyMetrics=metrics,
            dailyRange_startDate_year=chunk_start.year, dailyRange_startDate_month=chunk_start.month,
            dailyRange_startDate_day=chunk_start.day, dailyRange_endDate_year=chunk_end.year,
            dailyRange_endDate_month=chunk_end.month, dailyRange_endDate_day=chunk_end.day)
        answer = client.read("fetchMultiDailyMetricsTimeSeries", gbp_name, request)
        result.requests += 1
        series = parse_series(answer, metrics, chunk_start, chunk_end)
        stamp = now()
        rows = []
        for day in days(chunk_start, chunk_end):
            settled = day <= settle_line
            if not settled:
                result.unsettled += 1
            for metric in metrics:
                listed = series[metric]
                value = listed.get(day)
                if value is None and settled and day in listed:
                    value = 0  # final answer, listed without a value: proto3 left a zero out
                if value is None:
                    result.unknown += 1
                rows.append({"day": day, "location": location, "metric": metric, "value": value,
                             "settled": settled, "fetched_at": stamp})
        t = gbp_metrics.c
        with store.begin() as conn:  # the chunk replaces what was there, in one transaction
            conn.execute(gbp_metrics.delete().where(
                t.location == location, t.metric.in_(metrics), t.day >= chunk_start,
                t.day <= chunk_end))
            conn.execute(gbp_metrics.insert(), rows)
        chunk_start = chunk_end + timedelta(days=1)


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def complete_months(today: date, count: int) -> list[str]:
    """The last `count` complete calendar months, oldest first."""
    out = []
    first = today.replace(day=1)
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(month_key(first))
    return sorted(out)


def _month_end(month: str) -> date:
    year, mon = int(month[:4]), int(month[5:])
    nxt = date(year + (mon == 12), mon % 12 + 1, 1)
    return nxt - timedelta(days=1)


def parse_keywords(answer: dict[str, Any]) -> tuple[list[tuple[str, int | None, int | None]], str]:
    """([(keyword, value, threshold)], next page token); raises ExternalError when malformed."""
    rows = []
    try:
        for item in answer.get("searchKeywordsCounts") or []:
            keyword = plain(item["searchKeyword"])[:KEYWORD_MAX]  # typed by strangers
            iv = item.get("insightsValue") or {}
            if "value" in iv:
                rows.append((keyword, _count(iv["value"]), None))
            elif "threshold" in iv:
                rows.append((keyword, None, _count(iv["threshold"])))
        token = answer.get("nextPageToken") or ""
        if not isinstance(token, str):
            raise TypeError("nextPageToken is not a string")
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ExternalError(f"searchkeywords.impressions.monthly: malformed answer from Google "
                            f"({type(exc).__name__}: {str(exc)[:80]})") from None
    return rows, token


def fetch_keywords(client: GbpClient, store: Store, location: str, gbp_name: str,
                   cfg: GbpInsights, today: date, result: LocationFetch) -> None:
    months = complete_months(today, cfg.keyword_months)
    t = gbp_keyword_months.c
    with store.engine.connect() as conn:
        done = {m for (m,) in conn.execute(sa.select(t.month).where(
            t.location == location, t.settled.is_(True), t.month.in_(months)))}
    perf = client.service("businessprofileperformance")
    for month in months:
        if month in done:
            continue
        year, mon = int(month[:4]), int(month[5:])
        found: dict[str, tuple[int | None, int | None]] = {}
        token = ""
        for _page in range(KEYWORD_PAGES):
            kwargs: dict[str, Any] = dict(
                parent=gbp_name, monthlyRange_startMonth_year=year,
                monthlyRange_startMonth_month=mon, monthlyRange_endMonth_year=year,
                monthlyRange_endMonth_month=mon, pageSize=100)
            if token:
                kwargs["pageToken"] = token
            request = perf.locations().searchkeywords().impressions().monthly().list(**kwargs)
            answer = client.read("searchkeywords.impressions.monthly", gbp_name, request)
            result.requests += 1
            rows, token = parse_keywords(answer)
            for keyword, value, threshold in rows:
                found.setdefault(keyword, (value, threshold))
            if not token:
                break
        else:
            result.warnings.append(f"{month}: more than {KEYWORD_PAGES * 100} keywords; the rest "
                                   "left out")
        settled = today >= _month_end(month) + timedelta(days=cfg.settle_days)
        k = gbp_keywords.c
        with store.begin() as conn:
            conn.execute(gbp_keywords.delete().where(k.location == location, k.month == month))
            if found:
                conn.execute(gbp_keywords.insert(), [
                    {"month": month, "location": location, "keyword": kw, "value": v,
                     "threshold": th} for kw, (v, th) in sorted(found.items())])
            conn.execute(gbp_keyword_months.delete().where(t.location == location,
                                                           t.month == month))
            conn.execute(gbp_keyword_months.insert().values(
                month=month, location=location, keywords=len(found), settled=settled,
                fetched_at=now()))
        result.keyword_months.append(month)
        result.keywords += len(found)
