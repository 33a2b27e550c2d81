"""The audit spider: fetch the site once, record every URL as a PageRecord, follow internal links.

It does its own duplicate filtering (a set of URL strings; Scrapy's fingerprinting dupefilter
is switched off) and makes a Request only for a URL it has not seen, which is what lets it beat
a bare CrawlSpider: that one builds a Request and a fingerprint for every link on every page.
Redirects are recorded, not followed silently, so the parent can report chains.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Iterable
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from .canonical import link_header_canonicals
from .extract import extract
from .records import PageRecord, SitemapRecord, to_item
from .scope import Scope

SITEMAP_PRIORITY = -1_000_000


class AuditSpider(scrapy.Spider):
    name = "seo-audit"

    def __init__(self, start_url: str, scope: Scope, max_pages: int, max_depth: int,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url
        self.scope = scope
        self.max_pages = max_pages
        self.max_depth = max_depth
        self.scheduled: set[str] = set()  # every URL requested (or refused by the page limit)
        self.linked: set[str] = set()  # every internal link target seen so far
        self.sitemaps: set[str] = set()
        self.canonical_fetches = 0  # URLs requested only because a page names them as canonical
        self.truncated = False

    # -- scheduling -------------------------------------------------------------------------
    def _request(self, url: str, via: str, referer: str, depth: int,
                 priority: int = 0) -> scrapy.Request | None:
        if url in self.scheduled or self.scope.ignored(url):
            return None
        self.scheduled.add(url)
        if len(self.scheduled) > self.max_pages:
            self.truncated = True
            return None
        return scrapy.Request(url, callback=self.parse_page, errback=self.failed,
                              priority=priority - depth, dont_filter=True,
                              meta={"via": via, "referer": referer, "depth": depth, "url": url})

    def _sitemap_request(self, url: str, referer: str) -> scrapy.Request | None:
        if url in self.sitemaps:
            return None
        self.sitemaps.add(url)
        return scrapy.Request(url, callback=self.parse_sitemap, errback=self.sitemap_failed,
                              priority=SITEMAP_PRIORITY + 1, dont_filter=True,
                              meta={"referer": referer, "dont_obey_robotstxt": True})

    async def start(self) -> AsyncIterator[scrapy.Request]:
        first = self._request(self.start_url, "start", "", 0)
        if first is not None:
            yield first
        yield scrapy.Request(self.scope.origin + "/robots.txt", callback=self.parse_robots,
                             errback=self.robots_failed, dont_filter=True, priority=1,
                             meta={"dont_obey_robotstxt": True})

    # -- robots.txt and sitemaps --------------------------------------------------------------
    def parse_robots(self, response: Response) -> Iterable[scrapy.Request]:
        found = []
        if response.status == 200:
            for url in sitemap_urls_from_robots(response.body, base_url=response.url):
                found.append(self.scope.internal(url) or url)
        for url in found or [self.scope.origin + "/sitemap.xml"]:
            req = self._sitemap_request(url, response.url)
            if req is not None:
                yield req

    def robots_failed(self, failure: Failure) -> Iterable[scrapy.Request]:
        req = self._sitemap_request(self.scope.origin + "/sitemap.xml", "")
        if req is not None:
            yield req

    def parse_sitemap(self, response: Response) -> Iterable[Any]:
        record = SitemapRecord(url=response.url, status=response.status)
        body = response.body
        if response.status == 200 and body[:2] == b"\x1f\x8b":
            try:
                body = gzip.decompress(body)
            except OSError:
                record.error = "bad gzip"
        try:
            sitemap = Sitemap(body) if response.status == 200 and not record.error else None
        except Exception as exc:  # lxml raises several kinds on a broken document
            record.error = f"unreadable sitemap: {exc}"[:200]
            sitemap = None
        if sitemap is not None:
            nested = sitemap.type == "sitemapindex"
            for entry in sitemap:
                loc = entry.get("loc", "").strip()
                if not loc:
                    continue
                url = self.scope.internal(loc)
                if url is None:
                    record.foreign.append(loc)
                elif nested:
                    req = self._sitemap_request(url, response.url)
                    if req is not None:
                        yield req
                else:
                    record.urls.append(url)
        yield to_item(record)
        for url in record.urls:
            req = self._request(url, "sitemap", response.url, 0, SITEMAP_PRIORITY)
            if req is not None:
                yield req

    def sitemap_failed(self, failure: Failure) -> Iterable[Any]:
        request = failure.request  # type: ignore[attr-defined]
        yield to_item(SitemapRecord(url=request.url, status=0, error=_reason(failure)))

    # -- pages ------------------------------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterable[Any]:
        meta = response.meta
        depth = meta["depth"]
        headers = response.headers
        # the URL as the site's links and canonicals write it (Scrapy percent-encodes the request's
        # URL), so that every URL the checks compare is in one form
        page_url = meta["url"]
        record = PageRecord(url=page_url, status=response.status, via=meta["via"],
                            referer=meta["referer"], depth=depth, size=len(response.body),
                            content_type=(headers.get(b"Content-Type") or b"").decode("latin-1"),
                            x_robots=b", ".join(headers.getlist(b"X-Robots-Tag"))
                            .decode("latin-1").lower())
        follow: list[str] = []
        if 300 <= response.status < 400:
            location = headers.get(b"Location")
            if location:
                url, absolute = self.scope.resolve(location.decode("latin-1"), page_url)
                record.redirect_to = url or absolute
                if url is not None:
                    if page_url in self.linked and url not in self.linked:
                        self.linked.add(url)
                        record.links.append(url)
                    follow.append(url)
        elif response.status == 200 and "html" in record.content_type.lower():
            record.html = True
            link_header = headers.getlist(b"Link")
            if link_header:
                record.canonical_links = link_header_canonicals([v.decode("latin-1")
                                                                 for v in link_header])
            links = extract(record, response.body, response.encoding, self.scope)
            linked = self.linked
            new = [u for u in links if u not in linked]
            linked.update(new)
            record.links = new
            if depth < self.max_depth:
                follow.extend(u for u in new if u not in self.scheduled)
            canonical = record.canonical_url
            if canonical.startswith(self.scope.origin + "/") and canonical not in self.scheduled:
                req = self._request(canonical, "canonical", page_url, depth + 1)
                if req is not None:
                    self.canonical_fetches += 1
                    yield req
        yield to_item(record)
        via = "redirect" if record.redirect_to else "link"
        for url in follow:
            req = self._request(url, via, page_url, depth + 1)
            if req is not None:
                yield req

    def failed(self, failure: Failure) -> Iterable[Any]:
        request = failure.request  # type: ignore[attr-defined]
        meta = request.meta
        yield to_item(PageRecord(url=meta.get("url", request.url), status=0, via=meta.get("via", "link"),
                                 referer=meta.get("referer", ""), depth=meta.get("depth", 0),
                                 error=_reason(failure)))


def _reason(failure: Failure) -> str:
    name = type(failure.value).__name__
    text = str(failure.value).strip().splitlines()
    return f"{name}: {text[0]}"[:300] if text else name
