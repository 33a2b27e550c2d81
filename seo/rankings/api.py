"""The rankings library API: what `seo rankings`, the scheduled jobs and the weekly report call."""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from ..errors import CredentialsRejected, ExternalError, NotConfigured, UserError
from . import observations as obs_mod
from . import search_console as sc
from .keywords import Keyword, build_keywords, select
from .movements import MovementReport, compute, noise_band

if TYPE_CHECKING:
    from ..api import Project

SOURCES = ("search_console", "serp")
CONFIGURE = {
    "search_console": "set integrations.search_console.property in config/site.yaml "
                      "(e.g. sc-domain:example.com), then run `seo auth google`",
    "serp": "set integrations.serp.provider in config/site.yaml (dataforseo or serpapi) and its "
            "credentials in the environment",
}


@dataclass
class SourceReport:
    source: str
    status: str  # ok, incomplete (some not measured), failed, refused (credentials), not configured, dry run
    message: str = ""
    measured: int = 0
    not_measured: int = 0
    requests: int = 0
    planned_requests: int = 0
    budget_left: int | None = None
    reasons: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        if self.status == "not configured":
            return f"{self.source}: not configured: {self.message}"
        if self.status == "refused":
            return f"{self.source}: {self.message}"
        if self.status == "dry run":
            extra = f", budget left this month {self.budget_left}" if self.budget_left is not None else ""
            return f"{self.source}: would make {self.planned_requests} requests{extra} ({self.message})"
        total = self.measured + self.not_measured
        text = (f"{self.source}: {self.status}; {self.measured} measured, {self.not_measured} "
                f"{'of ' + str(total) + ' ' if self.not_measured else ''}not measured, "
                f"{self.requests} requests")
        if self.budget_left is not None:
            text += f", budget left this month {self.budget_left}"
        return text + (f"; {self.message}" if self.message else "")


@dataclass
class CheckReport:
    sources: list[SourceReport]
    issues: list[sc.PageIssue] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """A source failed, or left some rankings not measured (exit 1)."""
        return any(s.status in ("failed", "incomplete") for s in self.sources)

    @property
    def refused(self) -> list[SourceReport]:
        """Sources whose credentials were refused (revoked, expired, wrong): exit 3."""
        return [s for s in self.sources if s.status == "refused"]

    @property
    def unconfigured(self) -> list[SourceReport]:
        return [s for s in self.sources if s.status == "not configured"]


def keywords_for(project: Project, towns: list[str] | None = None, keywords: list[str] | None = None,
                 conditions: list[str] | None = None) -> list[Keyword]:
    return select(build_keywords(project.site), project.site, towns, keywords, conditions)


def _sources(project: Project, source: str | None) -> list[str]:
    if source is not None:
        name = source.replace("-", "_")
        if name not in SOURCES:
            raise UserError(f"unknown source {source!r} (known: search-console, serp)", key="--source")
        return [name]
    return list(SOURCES)


def check_rankings(project: Project, source: str | None = None, towns: list[str] | None = None,
                   keywords: list[str] | None = None, dry_run: bool = False,
                   today: date | None = None, service: Any = None,
                   progress: Callable[[str], None] | None = None) -> CheckReport:
    """Fetch ranks from the configured sources into the store (nothing is written on a dry run).

    `service` lets a caller hand in a ready Search Console service (tests, a proxy set-up).
    A source that is not configured is reported, not raised; a failing source does not stop others.
    """
    today = today or project.today()
    chosen = keywords_for(project, towns, keywords)
    integrations = project.site.config.integrations
    reports: list[SourceReport] = []
    issues: list[sc.PageIssue] = []
    for name in _sources(project, source):
        cfg = integrations.search_console if name == "search_console" else integrations.serp
        if cfg is None:
            reports.append(SourceReport(name, "not configured", CONFIGURE[name]))
            continue
        if name == "search_console":
            report, found = _check_sc(project, chosen, today, dry_run, service)
            issues += found
        else:
            report = _check_serp(project, chosen, today, dry_run, progress)
        reports.append(report)
    return CheckReport(reports, issues)


def _check_sc(project: Project, chosen: list[Keyword], today: date, dry_run: bool,
              service: Any) -> tuple[SourceReport, list[sc.PageIssue]]:
    cfg = project.site.config.integrations.search_console
    assert cfg is not None
    end = today
    start = end - timedelta(days=cfg.days - 1)
    try:
        service = service or sc.build_service(cfg)
    except CredentialsRejected as exc:
        return SourceReport("search_console", "refused", str(exc)), []
    except NotConfigured as exc:
        return SourceReport("search_console", "not configured", str(exc)), []
    if dry_run:
        return SourceReport("search_console", "dry run",
                            f"{cfg.property}, {start} to {end}, {len(chosen)} keywords",
                            planned_requests=1), []
    store = project.store
    run_id = store.start_run("rankings:search_console")
    try:
        fetched = sc.fetch(service, cfg, start, end)
    except NotConfigured as exc:  # the token was refused (revoked, expired)
        store.finish_run(run_id, "failed", error=str(exc))
        status = "refused" if isinstance(exc, CredentialsRejected) else "not configured"
        return SourceReport("search_console", status, str(exc)), []
    except ExternalError as exc:
        failures = sc.failed(chosen, start, end, str(exc))
        obs_mod.save_observations(store, failures, run_id)
        store.finish_run(run_id, "failed", {"not_measured": len(failures)}, str(exc))
        return SourceReport("search_console", "failed", str(exc), not_measured=len(failures)), []
    found, raw = sc.to_observations(fetched, chosen, start, end, cfg)
    obs_mod.save_sc_rows(store, raw)
    obs_mod.save_observations(store, found, run_id)
    measured = sum(o.measured for o in found)
    counts = {"rows": len(raw), "measured": measured, "not_measured": len(found) - measured,
              "requests": fetched.requests}
    store.finish_run(run_id, "ok", counts)
    issues = sc.page_issues(store, chosen, start, end)
    return SourceReport("search_console", "ok", f"{len(raw)} rows", measured=measured,
                        not_measured=len(found) - measured, requests=fetched.requests), issues


def _check_serp(project: Project, chosen: list[Keyword], today: date, dry_run: bool,
                progress: Callable[[str], None] | None) -> SourceReport:
    from .serp.runner import check_serp
    cfg = project.site.config.integrations.serp
    assert cfg is not None
    store = project.store
    run_id = None if dry_run else store.start_run("rankings:serp")
    try:
        out = check_serp(project.site, store, chosen, day=today, run_id=run_id, dry_run=dry_run,
                         on_start=(lambda n: progress(f"{cfg.provider}: {n} requests to make"))
                         if progress else None)
    except NotConfigured as exc:
        if run_id is not None:
            store.finish_run(run_id, "failed", error=str(exc))
        return SourceReport(cfg.provider, "not configured", str(exc))
    if dry_run:
        return SourceReport(cfg.provider, "dry run", f"{len(chosen)} keyword x town pairs",
                            planned_requests=out.planned_requests, budget_left=out.budget_left)
    status = "refused" if out.refused else "failed" if out.error else \
        "incomplete" if out.not_measured else "ok"
    assert run_id is not None
    store.finish_run(run_id, "ok" if status == "ok" else "failed",
                     {"measured": out.measured, "not_measured": out.not_measured,
                      "requests": out.requests}, out.error or (
                         f"{out.not_measured} not measured" if out.not_measured else ""))
    message = out.error or ", ".join(f"{n} {r}" for r, n in sorted(out.reasons.items()))
    return SourceReport(cfg.provider, status, message, out.measured, out.not_measured, out.requests,
                        out.planned_requests, out.budget_left, dict(out.reasons))


@dataclass
class RankRow:
    keyword: str
    town: str
    condition: str | None
    source: str
    kind: str
    device: str
    day: date | None  # the latest observation
    position: float | None
    measured: bool
    reason: str
    url: str
    since: date | None  # first day of the current stretch within the noise band (or not found)
    previous: float | None  # about a week before
    best: float | None
    unmeasured_since: date | None = None  # the latest day checked without a measurement
    unmeasured_reason: str = ""


def latest_days(rows: list[RankRow]) -> dict[str, date]:
    """Each source's latest measured day among the rows (Search Console's lags 2-3 days)."""
    days: dict[str, date] = {}
    for r in rows:
        if r.measured and r.day is not None and r.day > days.get(r.source, date.min):
            days[r.source] = r.day
    return days


def show_rankings(project: Project, towns: list[str] | None = None,
                  conditions: list[str] | None = None, keywords: list[str] | None = None,
                  source: str | None = None, days: int = 90,
                  today: date | None = None) -> list[RankRow]:
    """The latest *measured* rank per keyword x town x source (a later day without a measurement,
    e.g. Search Console's last 2-3 days, is noted, not shown as the rank), since when it has been
    there, about a week before, and the best."""
    today = today or project.today()
    chosen = keywords_for(project, towns, keywords, conditions)
    by_text: dict[str, list[Keyword]] = {}
    for kw in chosen:
        by_text.setdefault(kw.text, []).append(kw)
    sources = None
    if source:
        name = source.replace("-", "_")
        sources = [name] if name != "serp" else [
            project.site.config.integrations.serp.provider if project.site.config.integrations.serp
            else "serp"]
    rows = obs_mod.load(project.store, since=today - timedelta(days=days), until=today,
                        keywords=sorted(by_text), sources=sources)
    series: dict[tuple[str, str, str, str, str], list[Any]] = {}
    for r in rows:
        if r.town and r.town not in {k.town for k in by_text[r.keyword]}:
            continue
        series.setdefault((r.source, r.kind, r.keyword, r.town, r.device), []).append(r)
    out = []
    for (src, kind, text, town, device), obs in series.items():
        kw = next((k for k in by_text[text] if k.town == town), by_text[text][0])
        latest = next((o for o in reversed(obs) if o.measured), None)
        last = latest or obs[-1]  # the latest measured day; Search Console's is 2-3 days old
        newer = [o for o in obs if o.day > last.day]  # checked since, not measured (lag, failure)
        found = [o.position for o in obs if o.measured and o.position is not None]
        band = noise_band(found)
        since = None
        if latest is not None:
            since = latest.day
            for o in reversed(obs):
                if not o.measured or o.day > latest.day:
                    continue
                same = (o.position is None and latest.position is None) or (
                    o.position is not None and latest.position is not None
                    and abs(o.position - latest.position) <= band)
                if not same:
                    break
                since = o.day
        week_ago = [o.position for o in obs if o.measured and o.position is not None
                    and last.day - timedelta(days=10) <= o.day <= last.day - timedelta(days=4)]
        out.append(RankRow(text, town or "(all)", kw.condition, src, kind, device, last.day,
                           last.position, last.measured, last.reason, last.url, since,
                           float(statistics.median(week_ago)) if week_ago else None,
                           min(found) if found else None,
                           newer[-1].day if newer else None, newer[-1].reason if newer else ""))
    out.sort(key=lambda r: (r.town, r.keyword, r.source, r.kind, r.device))
    return out


CSV_FIELDS = ("day", "source", "kind", "keyword", "town", "device", "measured", "position", "url",
              "reason", "clicks", "impressions", "ctr", "provisional", "competitors")


def export_csv(project: Project, out: TextIO, towns: list[str] | None = None,
               keywords: list[str] | None = None, since: date | None = None,
               until: date | None = None) -> int:
    """Every observation (not measured ones too, with the reason) as CSV, in a stable order."""
    text_filter = None
    if towns or keywords:
        text_filter = sorted({k.text for k in keywords_for(project, towns, keywords)})
    rows = obs_mod.load(project.store, since=since, until=until, keywords=text_filter,
                        towns=[*towns, ""] if towns else None)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in sorted(rows, key=lambda r: (r.day, r.source, r.kind, r.town, r.keyword, r.device)):
        writer.writerow([r.day.isoformat(), r.source, r.kind, r.keyword, r.town, r.device,
                         "yes" if r.measured else "no",
                         "" if r.position is None else f"{r.position:g}", r.url, r.reason,
                         "" if r.clicks is None else r.clicks,
                         "" if r.impressions is None else r.impressions,
                         "" if r.ctr is None else f"{r.ctr:g}", "yes" if r.provisional else "no",
                         json.dumps(json.loads(r.competitors), sort_keys=True) if r.competitors != "[]"
                         else ""])
    return len(rows)


def movements(project: Project, week: date | str | None = None,
              today: date | None = None) -> MovementReport:
    """The week's moves for the weekly report: winners, losers, new top-3/10, events beside them."""
    return compute(project.store, week, keywords=build_keywords(project.site), today=today)
