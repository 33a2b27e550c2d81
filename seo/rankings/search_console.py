"""Search Console source: the site's own impressions, clicks and average position, per day.

searchanalytics.query by date x query x page for the configured property, paged with startRow
(up to 25,000 rows a request) until an empty page. dataState "all" gives the freshest days; the
days from `metadata.firstIncompleteDate` on are stored as provisional and replaced by the next
check. Queries are mapped to tracked keywords by their normalised text.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlparse

import sqlalchemy as sa

from ..errors import CredentialsRejected, ExternalError
from ..google_auth import SCOPE_SEARCH_CONSOLE, load_credentials
from ..settings import SearchConsoleSettings
from ..store import Store
from .keywords import Keyword, normalise
from .observations import Observation, sc_rows

SOURCE = "search_console"
NO_DATA = "Search Console has no rows for this day (not processed yet, or no traffic at all)"


def build_service(cfg: SearchConsoleSettings, credentials: Any = None) -> Any:
    """The real googleapiclient service; endpoint, token URI and timeout come from config.

    Every request (and the token refresh, which goes through the same httplib2 object) gives up
    after `timeout` seconds; without it a hung API held a check for 60 s per attempt.
    """
    import google_auth_httplib2
    import httplib2
    from googleapiclient.discovery import build
    if credentials is None:
        credentials = load_credentials([SCOPE_SEARCH_CONSOLE], token_uri=cfg.token_uri,
                                       service_account_file=cfg.service_account_file or None)
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=cfg.timeout))
    options = {"api_endpoint": cfg.api_endpoint} if cfg.api_endpoint else None
    return build("searchconsole", "v1", http=http, client_options=options,
                 static_discovery=True, cache_discovery=False)


@dataclass
class Fetched:
    rows: list[dict[str, Any]] = field(default_factory=list)  # day, query, page, metrics
    first_incomplete: date | None = None
    requests: int = 0


def _bad(why: str) -> ExternalError:
    return ExternalError(f"Search Console returned a malformed answer ({why})")


def _parse_row(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not isinstance(raw.get("keys"), list) or len(raw["keys"]) != 3:
        raise _bad("a row without its three keys")
    try:
        day = date.fromisoformat(str(raw["keys"][0]))
        clicks, impressions = int(raw.get("clicks", 0)), int(raw.get("impressions", 0))
        ctr, position = float(raw.get("ctr", 0.0)), float(raw["position"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(f"row {json.dumps(raw)[:80]}: {type(exc).__name__}") from None
    if position < 1 or clicks < 0 or impressions < 0:
        raise _bad(f"impossible values in row {json.dumps(raw)[:80]}")
    return {"day": day, "query": normalise(str(raw["keys"][1])), "page": str(raw["keys"][2]),
            "clicks": clicks, "impressions": impressions, "ctr": ctr, "position": position}


def _execute(request: Any, cfg: SearchConsoleSettings) -> Any:
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError
    try:
        return request.execute(num_retries=cfg.retries)
    except RefreshError as exc:
        if getattr(exc, "retryable", False):
            raise ExternalError("Google's token endpoint failed; try again later") from None
        raise CredentialsRejected("Google token expired or revoked; run `seo auth google`") \
            from None
    except HttpError as exc:
        status = exc.resp.status
        if status == 401:
            raise CredentialsRejected("Google rejected the stored credentials; run "
                                      "`seo auth google`") from None
        if status == 403 and _rate_limited(exc):
            raise ExternalError(f"Search Console rate limit exceeded (403 rateLimitExceeded) "
                                f"after {cfg.retries} retries; try again later") from None
        if status == 403:
            raise ExternalError(f"Search Console denied access to {cfg.property} (403): add the "
                                "authorised Google account (or the service account's e-mail) as a "
                                "user of the property") from None
        if status == 429:
            raise ExternalError(f"Search Console quota exceeded (429) after {cfg.retries} "
                                "retries; try again later") from None
        raise ExternalError(f"Search Console answered HTTP {status}") from None
    except (TimeoutError, TransportError, OSError) as exc:
        raise ExternalError(f"cannot reach Search Console: {type(exc).__name__}") from None


def _rate_limited(exc: Any) -> bool:
    """A 403 that is a quota, not a refused permission (Google's `rateLimitExceeded` reasons)."""
    try:
        body = json.loads(exc.content)
    except (ValueError, TypeError):
        return False
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        return False
    reasons = {str(e.get("reason", "")) for e in err.get("errors") or [] if isinstance(e, dict)}
    reasons |= {str(d.get("reason", "")) for d in err.get("details") or [] if isinstance(d, dict)}
    return bool(reasons & {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded",
                           "dailyLimitExceeded", "RATE_LIMIT_EXCEEDED"})


def fetch(service: Any, cfg: SearchConsoleSettings, start: date, end: date) -> Fetched:
    """All rows of the window, paged; raises ExternalError / NotConfigured on failure."""
    out = Fetched()
    start_row = 0
    while True:
        body = {"startDate": start.isoformat(), "endDate": end.isoformat(),
                "dimensions": ["date", "query", "page"], "type": "web", "dataState": "all",
                "rowLimit": cfg.row_limit, "startRow": start_row}
        answer = _execute(service.searchanalytics().query(siteUrl=cfg.property, body=body), cfg)
        out.requests += 1
        if not isinstance(answer, dict):  # googleapiclient hands back unparsable JSON as a str
            raise _bad("not a JSON object")
        meta = answer.get("metadata") or {}
        if isinstance(meta, dict) and meta.get("firstIncompleteDate"):
            try:
                first = date.fromisoformat(str(meta["firstIncompleteDate"]))
            except ValueError:
                raise _bad("metadata.firstIncompleteDate is not a date") from None
            out.first_incomplete = min(first, out.first_incomplete or first)
        rows = answer.get("rows", [])
        if not isinstance(rows, list):
            raise _bad("rows is not a list")
        if not rows:
            return out
        out.rows += [_parse_row(r) for r in rows]
        start_row += len(rows)


def to_observations(fetched: Fetched, keywords: list[Keyword], start: date, end: date,
                    cfg: SearchConsoleSettings) -> tuple[list[Observation], list[dict[str, Any]]]:
    """(observations for tracked keywords, raw rows to store with their provisional flag)."""
    provisional_from = fetched.first_incomplete or end - timedelta(days=cfg.provisional_days - 1)
    raw = [{**r, "provisional": r["day"] >= provisional_from} for r in fetched.rows]
    by_text: dict[str, list[Keyword]] = defaultdict(list)
    for kw in keywords:
        by_text[kw.text].append(kw)
    days_with_data = {r["day"] for r in raw}
    per: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
    for r in raw:
        if r["query"] in by_text:
            per[(r["query"], r["day"])].append(r)
    obs: list[Observation] = []
    day = start
    while day <= end:
        provisional = day >= provisional_from
        for text in sorted(by_text):
            towns = {k.town for k in by_text[text]}
            town = next(iter(towns)) if len(towns) == 1 else ""
            base = {"source": SOURCE, "kind": "organic", "keyword": text, "town": town,
                    "device": "all", "day": day, "provisional": provisional}
            rows = per.get((text, day))
            if day not in days_with_data:
                obs.append(Observation(**base, measured=False, reason=NO_DATA))
            elif not rows:
                obs.append(Observation(**base, measured=True, reason="no impressions",
                                       clicks=0, impressions=0))
            else:
                best = min(rows, key=lambda r: (r["position"], r["page"]))
                clicks = sum(r["clicks"] for r in rows)
                impressions = sum(r["impressions"] for r in rows)
                obs.append(Observation(**base, measured=True, position=round(best["position"], 2),
                                       url=best["page"], clicks=clicks, impressions=impressions,
                                       ctr=round(clicks / impressions, 4) if impressions else 0.0))
        day += timedelta(days=1)
    return obs, raw


def failed(keywords: list[Keyword], start: date, end: date, reason: str) -> list[Observation]:
    """A failed fetch recorded as "not measured" for every keyword and day of the window."""
    texts = sorted({k.text: k for k in keywords}.items())
    out = []
    day = start
    while day <= end:
        for text, kw in texts:
            towns = {k.town for k in keywords if k.text == text}
            out.append(Observation(SOURCE, "organic", text, kw.town if len(towns) == 1 else "",
                                   "all", day, measured=False, reason=reason))
        day += timedelta(days=1)
    return out


@dataclass(frozen=True)
class PageIssue:
    keyword: str
    town: str
    kind: str  # "cannibalisation" or "wrong page"
    target: str
    pages: tuple[tuple[str, int], ...]  # (URL path, impressions), most impressions first

    def line(self) -> str:
        shown = ", ".join(f"{p} ({n})" for p, n in self.pages)
        return f"{self.kind}: {self.keyword!r} [{self.town or 'all towns'}] target {self.target}: {shown}"


def page_issues(store: Store, keywords: list[Keyword], since: date, until: date,
                min_share: float = 0.05) -> list[PageIssue]:
    """Keywords where several pages get impressions, or where the page that ranks isn't the target."""
    texts = {k.text: k for k in keywords}
    if not texts:
        return []
    q = (sa.select(sc_rows.c.query, sc_rows.c.page, sa.func.sum(sc_rows.c.impressions))
         .where(sc_rows.c.day >= since, sc_rows.c.day <= until, sc_rows.c.query.in_(list(texts)))
         .group_by(sc_rows.c.query, sc_rows.c.page))
    pages: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with store.engine.connect() as conn:
        for query, page, impressions in conn.execute(q):
            pages[query][urlparse(page).path or "/"] += int(impressions or 0)
    issues: list[PageIssue] = []
    for text in sorted(pages):
        kw = texts[text]
        total = sum(pages[text].values())
        ranked = sorted(pages[text].items(), key=lambda p: (-p[1], p[0]))
        ranked = [p for p in ranked if total and p[1] / total >= min_share and p[1] > 0]
        if len(ranked) >= 2:
            issues.append(PageIssue(text, kw.town, "cannibalisation", kw.target, tuple(ranked)))
        if ranked and ranked[0][0] != kw.target:
            issues.append(PageIssue(text, kw.town, "wrong page", kw.target, tuple(ranked)))
    return issues
