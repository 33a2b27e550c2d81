"""`run_audit`: the library call behind `seo audit` and the weekly job.

Resolve what to crawl (the live site, a URL, or the build served on localhost), crawl it in a
child process, run the checks over the JSONL it wrote, store the findings and diff them.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .. import __version__
from ..errors import ExternalError, UserError
from ..settings import AuditSettings
from .catalog import SEVERITIES, Finding, Severity, at_least
from .checks import CheckContext
from .crawl import CrawlOptions, CrawlStats, run_crawl
from .findings import Analyzer
from .history import AuditDiff, diff_audit, save_audit
from .scope import Scope, origin_of


@dataclass
class AuditResult:
    audit_id: int
    target: str  # "built" or the site's origin
    start_url: str
    pages: int  # URLs fetched
    findings: list[Finding]
    crawl: CrawlStats
    diff: AuditDiff
    counts: dict[str, int] = field(default_factory=dict)  # per severity

    def worst(self) -> Severity | None:
        return next((s for s in SEVERITIES if self.counts.get(s)), None)

    def fails(self, fail_on: Severity | None) -> bool:
        """True when a finding is at or above `fail_on` (never when it is None)."""
        return fail_on is not None and any(at_least(f.severity, fail_on) for f in self.findings)


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host and a valid port, or a one-line UserError."""
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise UserError(f"bad URL {url!r}: {exc}", key="URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"bad URL {url!r}: give an absolute http:// or https:// URL", key="URL")
    return url.strip() if parts.path else url.strip() + "/"


def run_audit(project, url: str | None = None, *, built: bool = False, max_pages: int | None = None,
              max_depth: int | None = None, trigger: str = "manual",
              workdir: Path | None = None) -> AuditResult:
    """Audit the live site (`url`, else integrations.audit.url, else business.url) or, with
    `built`, the build output served on localhost. Stores the findings as a run."""
    site, store = project.site, project.store
    settings: AuditSettings = site.config.integrations.audit or AuditSettings()
    if built and url:
        raise UserError("give a URL or --built, not both", key="URL")
    if max_pages is not None and max_pages < 1:
        raise UserError(f"must be at least 1 (got {max_pages})", key="--max-pages")
    if max_depth is not None and max_depth < 0:
        raise UserError(f"must be 0 or more (got {max_depth})", key="--max-depth")
    business = site.config.business
    public = origin_of(business.url)
    aliases = {public}
    if settings.url:
        aliases.add(origin_of(settings.url))
    ignore = [p if p.startswith("/") else "/" + p for p in settings.ignore_paths]

    with contextlib.ExitStack() as stack:
        if built:
            from ..pages.preview import serve_in_thread
            folder = site.path(site.config.site.output)
            if not (folder / "index.html").exists():
                raise UserError(f"nothing built in {folder}; run `seo pages build` first")
            server, start = serve_in_thread(folder)
            stack.callback(server.server_close)
            stack.callback(server.shutdown)
            target = "built"
            booking = business.booking_url
            if origin_of(booking) == public:  # an app on the site's domain the build doesn't make
                path = urlsplit(booking).path or "/"
                if not (folder / path.lstrip("/") / "index.html").exists() and path != "/":
                    ignore.append(path)
        else:
            if not url and not settings.url and any(e.endswith(": business.url") for e in site.examples):
                raise UserError("business.url is still an example value: give a URL, use --built, "
                                "or set integrations.audit.url", key="URL")
            start = check_url(url or settings.url or business.url)
            target = origin_of(start)
        origin = origin_of(start)
        aliases.discard(origin)
        scope = Scope(origin=origin, aliases=tuple(sorted(aliases)), ignore=tuple(ignore),
                      public=public if (built or origin in (public, *aliases)) else origin)
        own_site = built or target == public or (settings.url and target == origin_of(settings.url))
        opts = CrawlOptions(
            start_url=start, scope=scope,
            user_agent=settings.user_agent or f"seo-audit/{__version__} (+{business.url})",
            max_pages=max_pages or settings.max_pages,
            max_depth=settings.max_depth if max_depth is None else max_depth,
            concurrency=settings.concurrency, autothrottle=settings.autothrottle,
            timeout=settings.timeout, request_timeout=settings.request_timeout)
        tmp = workdir or Path(tempfile.mkdtemp(prefix="seo-audit-"))
        if workdir is None:
            stack.callback(shutil.rmtree, tmp, True)
        run_id = store.start_run("audit", trigger)
        try:
            meant = ({p for p, row in store.page_rows().items() if row["indexable"] and not row["removed"]}
                     if own_site else set())
            ctx = CheckContext.from_site(site, settings, scope)
            analyzer = Analyzer(scope, ctx, scope.internal(start) or start, meant_indexable=meant)
            _, stats = run_crawl(opts, tmp, analyzer.add)  # pages are checked as they arrive
            analyzer.truncated = stats.truncated
            first = analyzer.pages.get(analyzer.start_url)
            if first is None or (first.status == 0 and len(analyzer.pages) == 1):
                why = first.error if first is not None else "no answer"
                raise ExternalError(f"cannot reach {start}: {why}")
            findings = analyzer.finish()
        except BaseException as exc:
            store.finish_run(run_id, "failed", error=str(exc) or type(exc).__name__)
            raise
    counts = Counter(f.severity for f in findings)
    audit_id = save_audit(store, run_id=run_id, target=target, pages=len(analyzer.pages),
                          truncated=stats.truncated, findings=findings)
    store.finish_run(run_id, "ok", {"audit_id": audit_id, "pages": len(analyzer.pages),
                                    **{s: counts.get(s, 0) for s in SEVERITIES},
                                    "truncated": stats.truncated,
                                    "canonical_fetches": stats.canonical_fetches})
    return AuditResult(audit_id=audit_id, target=target, start_url=start, pages=len(analyzer.pages),
                       findings=findings, crawl=stats, diff=diff_audit(store, audit_id),
                       counts={s: counts.get(s, 0) for s in SEVERITIES})
