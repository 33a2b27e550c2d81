"""Verify live: every new or changed page fetched from the site visitors see.

A page is live when its URL answers 200 (no redirect) with the built page's main content (a digest of
its visible text), its title and meta description, the expected robots directives (meta and
X-Robots-Tag), exactly one canonical that is ours, and our JSON-LD. The store records the day its
current content was first verified live, or why it is not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter

from .. import __version__
from ..errors import NotConfigured
from ..store import Store, now
from ..tables import page_status, pages
from .extract import content_digest, live_facts, normal_text, page_parts, robots_flags
from .targets import primary, targets_of
from .wp_client import clean

MAX_PAGE = 5 * 1024 * 1024
TIMEOUT = 30.0


@dataclass
class Fetched:
    status: int  # 0: no answer
    body: str = ""
    location: str = ""
    robots_header: str = ""
    error: str = ""


Fetcher = Callable[[str], Fetched]


@dataclass
class Check:
    path: str
    url: str
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        return f"{'live' if self.ok else 'NOT LIVE'} {self.url}" + (
            f": {'; '.join(self.problems)}" if self.problems else "")


@dataclass
class VerifyResult:
    base: str
    checks: list[Check] = field(default_factory=list)
    waiting: int = 0  # published pages whose content is not the current build's

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def counts(self) -> dict[str, int]:
        return {"checked": len(self.checks), "live": len(self.checks) - len(self.failed),
                "not_live": len(self.failed)}

    def lines(self, verbose: bool = False) -> list[str]:
        out = [f"verified {len(self.checks)} page(s) at {self.base}: "
               f"{len(self.checks) - len(self.failed)} live, {len(self.failed)} not live"]
        out += [f"  {c.line()}" for c in self.checks if verbose or not c.ok]
        return out


def live_base(project) -> str:
    """Where visitors see the pages: the primary target's URL (business.url by default)."""
    site = project.site
    base = primary(targets_of(site)).live_base()
    if base is None or base == site.config.business.url:
        if any(e.endswith(": business.url") for e in site.examples):
            raise NotConfigured("business.url is still an example value: set the live site's URL")
        base = site.config.business.url
    return base


def http_fetcher(user_agent: str, session: requests.Session, sleep: Callable[[float], None] = time.sleep,
                 retries: int = 2) -> Fetcher:
    session.headers.update({"User-Agent": user_agent, "Cache-Control": "no-cache",
                            "Pragma": "no-cache"})
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=16)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def fetch(url: str) -> Fetched:
        for attempt in range(retries + 1):
            try:
                with session.get(url, timeout=TIMEOUT, allow_redirects=False, stream=True) as resp:
                    data = b""
                    for chunk in resp.iter_content(65536):
                        data += chunk
                        if len(data) > MAX_PAGE:
                            return Fetched(resp.status_code, error=f"over {MAX_PAGE // 2**20} MB")
                    if resp.status_code >= 500 and attempt < retries:
                        sleep(1.0 * (attempt + 1))
                        continue
                    declared = "charset=" in resp.headers.get("Content-Type", "").lower()
                    charset = (resp.encoding if declared else None) or "utf-8"
                    return Fetched(resp.status_code, data.decode(charset, "replace"),
                                   resp.headers.get("Location", ""),
                                   resp.headers.get("X-Robots-Tag", ""))
            except requests.RequestException as exc:
                if attempt < retries:
                    sleep(1.0 * (attempt + 1))
                    continue
                return Fetched(0, error=type(exc).__name__)
        return Fetched(0, error="no answer")  # pragma: no cover

    return fetch


def to_check(store: Store, *, all_pages: bool = False,
             paths: list[str] | None = None) -> tuple[list[tuple[str, str]], int]:
    """([(path, content hash)] to check, published pages whose content is not the build's)."""
    q = (sa.select(pages.c.path, pages.c.content_hash, page_status.c.published_hash,
                   page_status.c.live_hash)
         .select_from(pages.join(page_status, page_status.c.path == pages.c.path))
         .where(pages.c.removed.is_(None)).order_by(pages.c.path))
    todo, waiting = [], 0
    with store.engine.connect() as conn:
        for path, content_hash, published_hash, live_hash in conn.execute(q):
            if published_hash != content_hash:
                waiting += 1
                continue
            if paths is not None:
                if path in paths:
                    todo.append((path, content_hash))
            elif all_pages or live_hash != content_hash:
                todo.append((path, content_hash))
    return todo, waiting


def check_page(path: str, url: str, built_html: str, got: Fetched) -> Check:
    check = Check(path, url)
    p = check.problems
    if got.status != 200:
        if got.status in (301, 302, 303, 307, 308):
            p.append(f"redirects ({got.status}) to {clean(got.location)}")
        else:
            p.append(f"answered {got.status}" if got.status else f"no answer ({got.error})")
        return check
    want = page_parts(built_html)
    live = live_facts(got.body)
    if not live.main_digest:
        p.append("main content not found")
    elif live.main_digest != content_digest(want.body):
        p.append("main content differs from the build")
    if normal_text(live.title) != normal_text(want.title):
        p.append(f"title is {clean(live.title, limit=80)!r}")
    if want.description and want.description not in live.descriptions:
        p.append("meta description differs" if live.descriptions else "no meta description")
    elif len(live.descriptions) > 1:
        p.append(f"{len(live.descriptions)} meta descriptions (another SEO plugin?)")
    want_flags = robots_flags([want.robots])
    live_flags = robots_flags(live.robots + ([got.robots_header] if got.robots_header else []))
    if live_flags != want_flags:
        shown = ", ".join(live.robots + ([f"X-Robots-Tag {got.robots_header}"]
                                          if got.robots_header else [])) or "none"
        p.append(f"robots {clean(shown, limit=80)!r}, expected {want.robots!r}")
    if len(live.canonicals) != 1:
        p.append(f"{len(live.canonicals)} canonical links")
    elif live.canonicals[0] != want.canonical:
        p.append(f"canonical {clean(live.canonicals[0], limit=120)}, expected {want.canonical}")
    if want.jsonld:
        expected = json.loads(want.jsonld)
        if expected not in live.jsonld:
            p.append("JSON-LD missing or different")
    return check


def verify_live(project, *, all_pages: bool = False, paths: list[str] | None = None,
                today: date | None = None, fetcher: Fetcher | None = None,
                workers: int = 8) -> VerifyResult:
    site, store = project.site, project.store
    today = today or project.today()
    base = live_base(project)
    todo, waiting = to_check(store, all_pages=all_pages, paths=paths)
    with store.engine.connect() as conn:
        published_any = conn.execute(sa.select(sa.func.count()).select_from(page_status)).scalar()
    if not published_any:
        raise NotConfigured("nothing published yet: run `seo publish`")
    session = requests.Session()
    fetch = fetcher or http_fetcher(f"seo-verify/{__version__} (+{site.config.business.url})", session)
    out_dir = site.path(site.config.site.output)
    result = VerifyResult(base=base, waiting=waiting)

    def one(item: tuple[str, str]) -> Check:
        path, _hash = item
        url = base + path.lstrip("/")
        built_html = (out_dir / (path.lstrip("/") + "index.html")).read_text(encoding="utf-8")
        return check_page(path, url, built_html, fetch(url))

    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            result.checks = list(pool.map(one, todo))
    finally:
        session.close()
    _record(store, result, dict(todo), today)
    return result


def _record(store: Store, result: VerifyResult, hashes: dict[str, str], today: date) -> None:
    at = now()
    with store.begin() as conn:
        old = {r.path: r for r in conn.execute(sa.select(page_status.c.path, page_status.c.live_hash,
                                                          page_status.c.live_on))}
        for check in result.checks:
            values: dict[str, object] = {"checked_at": at, "problem": "; ".join(check.problems)}
            if check.ok:
                prev = old.get(check.path)
                same = prev is not None and prev.live_hash == hashes[check.path]
                values.update(live_hash=hashes[check.path], live_url=check.url,
                              live_on=prev.live_on if same and prev else today)
            else:  # not (or no longer) live with this content
                values.update(live_hash=None, live_on=None)
            conn.execute(page_status.update().where(page_status.c.path == check.path).values(**values))
