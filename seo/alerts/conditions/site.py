"""site_down and page_4xx: a GET of the home page and a HEAD of each page changed this week.

Cheap and bounded: at most `site_checks.max_pages` pages besides the home page (the most recently
changed first), `concurrency` at a time, each request limited to `timeout` seconds and 5 redirects.
A HEAD that answers an error is asked again with GET (some servers don't do HEAD); a home page
that fails is tried once more after a few seconds before the site is called down. Both conditions
read the same fetches (one set per run).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa

from ... import __version__
from ...settings import AlertCondition
from ...tables import page_events, pages
from ..model import Finding, Unavailable, WatchContext, clean

RETRY_DELAY = 5.0
MAX_REDIRECTS = 5
BODY_BYTES = 64 * 1024
SHOWN = 15


@dataclass
class Fetch:
    path: str
    status: int | None  # None: no HTTP answer
    error: str = ""  # why there was no answer (or the redirect loop)

    @property
    def down(self) -> bool:
        return self.status is None or self.status >= 500

    def why(self) -> str:
        return f"answered {self.status}" if self.status is not None else self.error


def site_url(ctx: WatchContext) -> str:
    cfg = ctx.project.site.config
    explicit = ctx.settings.site_checks.url or (cfg.integrations.audit.url if cfg.integrations.audit
                                                else None)
    if explicit:
        return explicit if explicit.endswith("/") else explicit + "/"
    if any(e.endswith(": business.url") for e in ctx.project.site.examples):
        raise Unavailable("business.url is still an example value (set it, or "
                          "integrations.alerts.site_checks.url)")
    return cfg.business.url


def changed_pages(ctx: WatchContext, limit: int) -> list[str]:
    """Paths of pages created or changed in the last 7 days, still on the site; newest first."""
    if limit <= 0:
        return []
    since = ctx.today - timedelta(days=6)
    q = (sa.select(page_events.c.path, sa.func.max(page_events.c.day).label("day"))
         .join(pages, pages.c.path == page_events.c.path)
         .where(page_events.c.day >= since, page_events.c.event.in_(("created", "changed", "indexed")),
                pages.c.removed.is_(None), page_events.c.path != "/")
         .group_by(page_events.c.path).order_by(sa.desc("day"), page_events.c.path).limit(limit))
    with ctx.project.store.engine.connect() as conn:
        return [r.path for r in conn.execute(q)]


def _describe(exc: BaseException) -> str:
    import requests
    text = repr(exc)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"more than {MAX_REDIRECTS} redirects"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS failed (certificate or handshake)"
    if isinstance(exc, requests.exceptions.Timeout):
        return "no answer in time"
    if "NameResolutionError" in text or "gaierror" in text or "Name or service not known" in text:
        return "DNS lookup failed"
    if "ConnectionRefusedError" in text or "Connection refused" in text:
        return "connection refused"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed"
    return clean(type(exc).__name__, 80)


def fetch(base: str, path: str, method: str, timeout: float) -> Fetch:
    import requests
    url = urljoin(base, path.lstrip("/"))
    with requests.Session() as session:
        session.max_redirects = MAX_REDIRECTS
        try:
            with session.request(method, url, timeout=(timeout, timeout), allow_redirects=True,
                                 stream=True, headers={"User-Agent": f"seo-watch/{__version__}"}) as r:
                if method == "GET":  # a little of the body, so the connection ends politely
                    next(r.iter_content(BODY_BYTES), b"")
                return Fetch(path, r.status_code)
        except requests.RequestException as exc:
            return Fetch(path, None, _describe(exc))


def _probe(ctx: WatchContext, base: str, path: str) -> Fetch:
    timeout = ctx.settings.site_checks.timeout
    if path == "/":
        got = fetch(base, path, "GET", timeout)
        if got.down:
            ctx.sleep(RETRY_DELAY)
            got = fetch(base, path, "GET", timeout)
        return got
    got = fetch(base, path, "HEAD", timeout)
    if got.status is None or got.status >= 400:  # not every server answers HEAD like GET
        got = fetch(base, path, "GET", timeout)
    return got


def fetches(ctx: WatchContext) -> tuple[str, list[Fetch]]:
    """The home page first, then the pages changed this week (unless the home page is down)."""
    if "site" in ctx.cache:
        return ctx.cache["site"]  # type: ignore[no-any-return]
    base = site_url(ctx)
    home = _probe(ctx, base, "/")
    found = [home]
    if not home.down:
        paths = changed_pages(ctx, ctx.settings.site_checks.max_pages)
        with ThreadPoolExecutor(ctx.settings.site_checks.concurrency) as pool:
            found += list(pool.map(lambda p: _probe(ctx, base, p), paths))
    ctx.cache["site"] = (base, found)
    return base, found


def _host(base: str) -> str:
    return urlsplit(base).netloc


def _listed(items: list[Fetch]) -> list[str]:
    lines = [f"{f.path} {f.why()}" for f in items[:SHOWN]]
    if len(items) > SHOWN:
        lines.append(f"... and {len(items) - SHOWN} more")
    return lines


def check_down(ctx: WatchContext, cfg: AlertCondition) -> list[Finding]:
    base, found = fetches(ctx)
    home, rest = found[0], found[1:]
    if home.down:
        return [Finding("home", f"{_host(base)} is down: the home page {home.why()}",
                        [f"GET {base} {home.why()} (twice, {RETRY_DELAY:g} s apart)"],
                        {"why": home.why()}, "critical")]
    failing = [f for f in rest if f.down]
    if failing:
        n = len(failing)
        return [Finding("pages", f"{n} page{'s' * (n != 1)} failing on {_host(base)} "
                                 f"({failing[0].path} {failing[0].why()})",
                        _listed(failing), {"paths": [f.path for f in failing]}, "warning")]
    return []


def check_4xx(ctx: WatchContext, cfg: AlertCondition) -> list[Finding]:
    base, found = fetches(ctx)
    bad = [f for f in found if f.status is not None and 400 <= f.status < 500]
    if not bad:
        return []
    n = len(bad)
    checked = f"of {len(found)} checked (the home page and the pages changed this week)"
    return [Finding("pages", f"{n} page{'s' * (n != 1)} answer{'s' * (n == 1)} 4xx on {_host(base)} "
                             f"({bad[0].path} {bad[0].why()})",
                    [*_listed(bad), checked], {"paths": [f.path for f in bad]}, "warning")]
