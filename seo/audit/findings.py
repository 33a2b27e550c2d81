"""Site-level checks over the whole crawl: links, redirects, duplicates, canonical targets,
noindex, sitemap coverage and orphans. Records are streamed in; only a small summary per URL
is kept, so a 10,000-page crawl does not hold every page in memory.

A page counts as canonicalised elsewhere only when its canonical is valid: usable on the page
(canonical.py) and answered by its target with a 200, indexable, and not canonicalised further.
Every other page takes part in the duplicate title and description checks, as search engines
ignore a canonical they cannot use.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .canonical import read_canonical, shown
from .catalog import Finding
from .checks import CheckContext, check_page, is_noindex
from .records import PageRecord, Record, SitemapRecord
from .scope import Scope


@dataclass(slots=True)
class Summary:
    status: int
    via: str
    referer: str
    html: bool
    noindex: bool
    canonical: str  # the canonical when usable on the page (canonical.Canonical.target), else ""
    redirect_to: str
    error: str


class Analyzer:
    def __init__(self, scope: Scope, ctx: CheckContext, start_url: str, *,
                 meant_indexable: set[str] | None = None, truncated: bool = False) -> None:
        self.scope, self.ctx, self.start_url = scope, ctx, start_url
        self.meant_indexable = meant_indexable or set()  # paths the build made indexable
        self.truncated = truncated
        self.pages: dict[str, Summary] = {}
        self.inlink: dict[str, str] = {}  # target -> first page linking to it
        self.sitemap_of: dict[str, str] = {}  # listed URL -> sitemap listing it
        self.sitemaps: list[SitemapRecord] = []
        self.titles: dict[str, list[str]] = defaultdict(list)  # title -> indexable URLs with it
        self.descriptions: dict[str, list[str]] = defaultdict(list)
        self.findings: list[Finding] = []

    def add(self, record: Record) -> None:
        if isinstance(record, SitemapRecord):
            self.sitemaps.append(record)
            for url in record.urls:
                self.sitemap_of.setdefault(url, record.url)
            return
        self._add_page(record)

    def _add_page(self, r: PageRecord) -> None:
        page = self.scope.path(r.url)
        noindex = is_noindex(r)
        canonical = read_canonical(r, self.scope, self.ctx.canonical_hosts) if r.html else None
        self.pages[r.url] = Summary(r.status, r.via, r.referer, r.html, noindex,
                                    canonical.target if canonical else "", r.redirect_to, r.error)
        for target in r.links:
            self.inlink.setdefault(target, r.url)
        if not r.html:
            return
        self.findings += check_page(r, self.ctx, page, canonical)
        if not noindex:  # whether it is canonicalised elsewhere is known once the crawl is done
            if r.titles and r.titles[0].strip():
                self.titles[r.titles[0].strip()].append(r.url)
            if r.descriptions and r.descriptions[0].strip():
                self.descriptions[r.descriptions[0].strip()].append(r.url)

    # -- site level ---------------------------------------------------------------------------------
    def finish(self) -> list[Finding]:
        out = list(self.findings)
        out += self._statuses()
        out += self._redirects()
        canonical_findings, elsewhere = self._canonicals()
        out += canonical_findings
        out += self._duplicates("title_duplicate", self.titles, "title", elsewhere)
        out += self._duplicates("description_duplicate", self.descriptions, "description", elsewhere)
        out += self._sitemap(elsewhere)
        return sorted(set(out), key=lambda f: (f.page, f.type, f.linking))

    def _link_source(self, url: str) -> str:
        return self.scope.path(self.inlink[url]) if url in self.inlink else ""

    def _statuses(self) -> list[Finding]:
        out = []
        path = self.scope.path
        for url, s in self.pages.items():
            if s.status == 0 and "robots.txt" in s.error.lower():
                if url in self.inlink:
                    out.append(Finding("robots_blocked", path(url), self._link_source(url)))
            elif s.status == 0 or s.status >= 500:
                out.append(Finding("http_error", path(url), self._link_source(url),
                                   f"HTTP {s.status}" if s.status else s.error))
            elif 400 <= s.status < 500 and url in self.inlink:
                out.append(Finding("broken_link", path(url), self._link_source(url),
                                   f"HTTP {s.status}"))
            elif 400 <= s.status < 500 and url == self.start_url:
                out.append(Finding("http_error", path(url), "", f"HTTP {s.status}"))
        return out

    def _redirects(self) -> list[Finding]:
        out = []
        path = self.scope.path
        for url, s in self.pages.items():
            if not s.redirect_to or url not in self.inlink:
                continue
            source = self.pages.get(self.inlink[url])
            if source is not None and source.redirect_to:
                continue  # a later hop of a chain reported from its first URL
            hops, seen, loop = [url], {url}, False
            nxt = s.redirect_to
            while nxt:
                hops.append(nxt)
                if nxt in seen:
                    loop = True
                    break
                seen.add(nxt)
                target = self.pages.get(nxt)
                nxt = target.redirect_to if target is not None else ""
            route = " -> ".join(path(u) for u in hops)
            n = len(hops) - 1
            if loop:
                out.append(Finding("redirect_chain", path(url), self._link_source(url),
                                   f"redirect loop: {route}"))
            elif n >= 2:
                out.append(Finding("redirect_chain", path(url), self._link_source(url),
                                   f"{n} redirects: {route}"))
            else:
                out.append(Finding("redirect", path(url), self._link_source(url), route))
        return out

    def _duplicates(self, kind: str, groups: dict[str, list[str]], what: str,
                    elsewhere: set[str]) -> list[Finding]:
        out = []
        path = self.scope.path
        for urls in groups.values():
            pages = sorted(path(u) for u in urls if u not in elsewhere)
            if len(pages) > 1:
                first, *rest = pages
                out += [Finding(kind, p, "", f"same {what} as {first}") for p in rest]
        return out

    def _canonicals(self) -> tuple[list[Finding], set[str]]:
        """Findings about what canonical targets answer, and the pages validly canonicalised
        elsewhere (a target not fetched, by the page limit or ignore_paths, or on an allowed
        host, is taken on trust)."""
        out, elsewhere = [], set()
        for url, s in self.pages.items():
            if not s.html or not s.canonical or s.canonical == url:
                continue
            problem = self._target_problem(url, s.canonical)
            if problem is None:
                elsewhere.add(url)
            else:
                out.append(Finding(problem[0], self.scope.path(url), "", problem[1]))
        return out, elsewhere

    def _target_problem(self, url: str, canonical: str) -> tuple[str, str] | None:
        """Why search engines would not use the canonical target, or None when they would."""
        target = self.pages.get(canonical)
        name = shown(self.scope.path(canonical))
        if target is None:
            return None
        if target.status == 0 and "robots.txt" in target.error.lower():
            return "canonical_blocked", f"{name} is disallowed by robots.txt"
        if target.status == 0:
            return "canonical_broken", f"{name}: {target.error}"
        if 300 <= target.status < 400:
            to = shown(self.scope.path(target.redirect_to)) if target.redirect_to else "nowhere"
            return "canonical_redirect", f"{name} answers {target.status}, redirecting to {to}"
        if target.status != 200:
            return "canonical_broken", f"{name} answers {target.status}"
        if target.noindex:
            return "canonical_noindex", f"{name} is noindex"
        if target.canonical and target.canonical != canonical:
            hops = self._canonical_hops([url, canonical, target.canonical])
            loop = " (a loop)" if hops[-1] in hops[:-1] else ""
            return "canonical_chain", (f"{name} names another canonical{loop}: "
                                       + " -> ".join(shown(self.scope.path(u)) for u in hops))
        return None

    def _canonical_hops(self, hops: list[str], limit: int = 10) -> list[str]:
        """The chain of canonicals from `hops`, followed until a page names itself (or none, or
        one not fetched), a URL comes round again, or `limit` URLs."""
        while len(hops) < limit and hops[-1] not in hops[:-1]:
            page = self.pages.get(hops[-1])
            if page is None or not page.canonical or page.canonical == hops[-1]:
                break
            hops.append(page.canonical)
        return hops

    def _sitemap(self, elsewhere: set[str]) -> list[Finding]:
        out = []
        path = self.scope.path
        for url, s in self.pages.items():
            if s.html and s.noindex and (url in self.sitemap_of or path(url) in self.meant_indexable):
                why = "listed in the sitemap" if url in self.sitemap_of else "built as indexable"
                out.append(Finding("noindex_unexpected", path(url), "", why))
        if not any(sm.status == 200 and not sm.error for sm in self.sitemaps):
            tried = ", ".join(path(sm.url) for sm in self.sitemaps) or "/sitemap.xml"
            errors = "; ".join(f"{path(sm.url)}: {sm.error or sm.status}" for sm in self.sitemaps)
            out.append(Finding("sitemap_missing", tried, "", errors))
            return out
        for url, listed_in in self.sitemap_of.items():
            s = self.pages.get(url)
            if s is not None and 300 <= s.status < 500:
                out.append(Finding("sitemap_broken_url", path(url), path(listed_in), f"HTTP {s.status}"))
        for url, s in self.pages.items():
            indexable = s.status == 200 and s.html and not s.noindex and url not in elsewhere
            if indexable and url not in self.sitemap_of:
                out.append(Finding("not_in_sitemap", path(url)))
            if (s.status == 200 and s.html and not self.truncated and url not in self.inlink
                    and url != self.start_url):
                out.append(Finding("orphan", path(url), "",
                                   f"found via {s.via}" + (f" {path(s.referer)}" if s.referer else "")))
        return out
