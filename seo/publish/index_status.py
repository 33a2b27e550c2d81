"""Index status: Search Console's URL Inspection API for pages verified live.

New and changed live pages first (their content was never inspected), then pages still not indexed
whose last inspection is `recheck_days` old. Within Google's quota per property: `daily_quota` calls a
day (every call counts, counted from the store) and `per_minute` a minute (paced here). Each answer is
stored per page: verdict, coverage, Google's canonical and ours, the last crawl. A 429 ends the run
quietly (the rest waits for tomorrow); a 403 (no access, or a URL outside the property) is reported.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..errors import ExternalError, NotConfigured
from ..settings import SearchConsoleSettings
from ..store import Store, now
from ..tables import index_inspections, page_status, pages
from .wp_client import clean


@dataclass
class Inspected:
    path: str
    url: str
    verdict: str = ""
    coverage: str = ""
    google_canonical: str = ""
    user_canonical: str = ""
    last_crawl: datetime | None = None
    error: str = ""

    def line(self) -> str:
        if self.error:
            return f"failed {self.url}: {self.error}"
        return f"{self.verdict or '?'} {self.url}: {self.coverage or 'no coverage state'}"


@dataclass
class InspectResult:
    property: str
    inspected: list[Inspected] = field(default_factory=list)
    left: int = 0  # candidates waiting for quota
    used_today: int = 0  # calls today, this run's included
    quota: int = 0
    error: str = ""
    stopped: str = ""  # why the run stopped early (quota)

    def counts(self) -> dict[str, int]:
        ok = [i for i in self.inspected if not i.error]
        return {"inspected": len(ok), "indexed": sum(i.verdict == "PASS" for i in ok),
                "not_indexed": sum(i.verdict != "PASS" for i in ok),
                "failed": len(self.inspected) - len(ok), "left": self.left}

    def lines(self, verbose: bool = False) -> list[str]:
        c = self.counts()
        out = [f"URL Inspection ({self.property}): {c['inspected']} inspected, {c['indexed']} indexed, "
               f"{c['not_indexed']} not indexed, {c['failed']} failed; {self.used_today}/{self.quota} "
               f"used today, {self.left} waiting"]
        out += [f"  {i.line()}" for i in self.inspected if verbose or i.error]
        if self.stopped:
            out.append(f"  stopped: {self.stopped}")
        if self.error:
            out.append(f"  error: {self.error}")
        return out


def settings_of(project) -> SearchConsoleSettings:
    cfg = project.site.config.integrations.search_console
    if cfg is None:
        raise NotConfigured("set integrations.search_console in config/site.yaml (URL Inspection "
                            "uses the Search Console property)")
    return cfg


def candidates(store: Store, cfg: SearchConsoleSettings, today: date,
               site_url: str) -> list[tuple[str, str, str]]:
    """[(path, url, content hash)] in the order to inspect them. The URL is the page's canonical
    (business.url + path): the one Google is meant to index, wherever the check fetched it."""
    q = (sa.select(pages.c.path, pages.c.content_hash,
                   page_status.c.inspected_hash, page_status.c.inspected_on, page_status.c.verdict,
                   page_status.c.live_on)
         .select_from(pages.join(page_status, page_status.c.path == pages.c.path))
         .where(pages.c.removed.is_(None), pages.c.indexable.is_(True),
                page_status.c.live_hash == pages.c.content_hash))
    fresh, again = [], []
    recheck = today - timedelta(days=cfg.inspection.recheck_days)
    with store.engine.connect() as conn:
        for r in conn.execute(q):
            url = site_url + r.path.lstrip("/")
            if r.inspected_hash != r.content_hash:
                fresh.append((r.live_on or today, r.path, url, r.content_hash))
            elif r.verdict != "PASS" and r.inspected_on is not None and r.inspected_on <= recheck:
                again.append((r.inspected_on, r.path, url, r.content_hash))
    fresh.sort()
    again.sort()
    return [(p, u, h) for _, p, u, h in fresh + again]


def used_today(store: Store, prop: str, today: date) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(index_inspections).where(
            index_inspections.c.property == prop, index_inspections.c.day == today)).scalar() or 0)


class Pacer:
    """At most `per_minute` calls in any 60 seconds."""

    def __init__(self, per_minute: int, sleep: Callable[[float], None],
                 clock: Callable[[], float]) -> None:
        self.per_minute, self.sleep, self.clock = per_minute, sleep, clock
        self.sent: deque[float] = deque()

    def wait(self) -> None:
        t = self.clock()
        while self.sent and self.sent[0] <= t - 60:
            self.sent.popleft()
        if len(self.sent) >= self.per_minute:
            self.sleep(self.sent[0] + 60 - t)
            self.sent.popleft()
        self.sent.append(self.clock())


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return None


def parse(answer: Any) -> dict[str, Any]:
    """The fields stored from an inspect answer; ExternalError when it is not one."""
    if not isinstance(answer, dict) or not isinstance(answer.get("inspectionResult"), dict):
        raise ExternalError("URL Inspection returned a malformed answer (no inspectionResult)")
    result = answer["inspectionResult"]
    status = result.get("indexStatusResult") or {}
    if not isinstance(status, dict):
        raise ExternalError("URL Inspection returned a malformed indexStatusResult")

    def text(key: str, limit: int = 256) -> str:
        value = status.get(key, "")
        return clean(str(value), limit=limit) if isinstance(value, str) else ""

    verdict = text("verdict")
    if verdict not in ("", "PASS", "NEUTRAL", "FAIL", "PARTIAL", "VERDICT_UNSPECIFIED"):
        raise ExternalError(f"URL Inspection returned an unknown verdict {verdict[:20]!r}")
    return {"verdict": verdict, "coverage": text("coverageState"),
            "indexing_state": text("indexingState", 64), "robots_state": text("robotsTxtState", 64),
            "page_fetch": text("pageFetchState", 64), "google_canonical": text("googleCanonical", 1024),
            "user_canonical": text("userCanonical", 1024), "last_crawl": _time(status.get("lastCrawlTime")),
            "link": clean(str(result.get("inspectionResultLink") or ""), limit=1024)}


def _call(service: Any, cfg: SearchConsoleSettings, url: str) -> tuple[dict[str, Any] | None, str, str]:
    """(fields, error, stop): stop is "quota" or "denied" when the run must end."""
    from google.auth.exceptions import RefreshError, TransportError
    from googleapiclient.errors import HttpError
    body = {"inspectionUrl": url, "siteUrl": cfg.property, "languageCode": cfg.inspection.language_code}
    try:
        answer = service.urlInspection().index().inspect(body=body).execute(num_retries=cfg.retries)
    except RefreshError:
        raise NotConfigured("Google token expired or revoked; run `seo auth google`") from None
    except HttpError as exc:
        status = exc.resp.status
        if status == 401:
            raise NotConfigured("Google rejected the stored credentials; run `seo auth google`") \
                from None
        if status == 429:
            return None, "quota exceeded (429)", "quota"
        if status == 403:
            return None, (f"403: no access to {cfg.property}, or the URL is outside the property; "
                          "add the account as a user of the property, or check business.url"), "denied"
        return None, f"HTTP {status}", ""
    except (TimeoutError, TransportError, OSError) as exc:
        return None, f"cannot reach Search Console: {type(exc).__name__}", ""
    try:
        return parse(answer), "", ""
    except ExternalError as exc:
        return None, str(exc), ""


def inspect_pages(project, *, limit: int | None = None, today: date | None = None,
                  service: Any = None, sleep: Callable[[float], None] = time.sleep,
                  clock: Callable[[], float] = time.monotonic) -> InspectResult:
    cfg = settings_of(project)
    store = project.store
    today = today or project.today()
    todo = candidates(store, cfg, today, project.site.config.business.url)
    result = InspectResult(cfg.property, quota=cfg.inspection.daily_quota)
    result.used_today = used_today(store, cfg.property, today)
    room = max(cfg.inspection.daily_quota - result.used_today, 0)
    if limit is not None:
        room = min(room, limit)
    if todo and room == 0:
        result.stopped = f"today's quota of {cfg.inspection.daily_quota} is used"
    batch, result.left = todo[:room], max(len(todo) - room, 0)
    if not batch:
        return result
    if service is None:
        from ..rankings.search_console import build_service
        service = build_service(cfg)
    pacer = Pacer(cfg.inspection.per_minute, sleep, clock)
    for n, (path, url, content_hash) in enumerate(batch):
        pacer.wait()
        fields, error, stop = _call(service, cfg, url)
        item = Inspected(path, url, error=error)
        if fields is not None:
            item.verdict, item.coverage = fields["verdict"], fields["coverage"]
            item.google_canonical, item.user_canonical = fields["google_canonical"], fields["user_canonical"]
            item.last_crawl = fields["last_crawl"]
        result.inspected.append(item)
        result.used_today += 1
        _record(store, cfg.property, today, item, fields, content_hash)
        if stop:
            result.left += len(batch) - n - 1
            if stop == "quota":
                result.stopped = "Search Console answered 429 (quota): the rest waits for the next run"
            else:
                result.error = error
            break
    return result


def _record(store: Store, prop: str, today: date, item: Inspected, fields: dict[str, Any] | None,
            content_hash: str) -> None:
    row = {"property": prop, "day": today, "path": item.path, "url": item.url,
           "status": "failed" if fields is None else "ok", "error": item.error, "at": now(),
           **(fields or {})}
    with store.begin() as conn:
        conn.execute(index_inspections.insert().values(**row))
        if fields is None:
            return
        prev = conn.execute(sa.select(page_status.c.indexed_on).where(
            page_status.c.path == item.path)).scalar()
        conn.execute(page_status.update().where(page_status.c.path == item.path).values(
            inspected_hash=content_hash, inspected_on=today, verdict=fields["verdict"],
            coverage=fields["coverage"], google_canonical=fields["google_canonical"],
            user_canonical=fields["user_canonical"], last_crawl=fields["last_crawl"],
            indexed_on=(prev or today) if fields["verdict"] == "PASS" else None))


def advice(coverage: str, verdict: str, google_canonical: str, user_canonical: str) -> str:
    """What to do about a page Google has not indexed, or indexed under another canonical."""
    if google_canonical and user_canonical and google_canonical != user_canonical:
        return ("the two pages read alike to Google: make this one more distinct (local facts, staff "
                "notes) and link to it from its town and condition hubs")
    c = coverage.lower()
    if "unknown to google" in c:
        return ("Google has not found it yet: submit the sitemap in Search Console and check that the "
                "town and condition hubs link to it")
    if "discovered" in c:
        return ("Google knows the URL but has not crawled it: link to it from stronger pages (home, "
                "town hub) and request indexing in Search Console")
    if "crawled" in c:
        return ("Google crawled it and chose not to index it: make it more useful and distinct (local "
                "facts, staff notes, answers to patients' questions)")
    if "noindex" in c or "robots" in c or "blocked" in c:
        return "Google sees a noindex or a robots.txt block: check robots on the live page and robots.txt"
    if "duplicate" in c or "alternate" in c:
        return "Google treats it as a duplicate: make it more distinct from the page Google chose"
    if verdict == "FAIL":
        return "Google could not index it: open the inspection in Search Console for the reason"
    return "not indexed yet: check again next week; request indexing in Search Console if it stays out"
