"""What the jobs do beyond a single library call: which site to audit, how a rankings check or a
listing sync reads as a job result, and the weekly report's delivery. The jobs in `jobs/` call
these; the CLI's own commands call the same library functions underneath."""

from __future__ import annotations

from datetime import date
from typing import Any

from ..api import Project
from ..errors import CredentialsRejected, NotConfigured
from .runner import JobResult


def audit_target(project: Project, target: str) -> tuple[bool, str]:
    """(audit the build?, why). `auto`: the live site once business.url is a real value."""
    if target == "built":
        return True, ""
    if target == "live":
        return False, ""
    site = project.site
    example_url = any(e.endswith(": business.url") for e in site.examples)
    if site.config.integrations.audit and site.config.integrations.audit.url:
        return False, ""
    if example_url:
        return True, "auditing the build: business.url is still an example value"
    return False, ""


def rankings_result(report: Any) -> JobResult:
    """A rankings CheckReport as a job result: skipped when no source is configured."""
    lines = [s.line() for s in report.sources]
    if report.sources and len(report.unconfigured) == len(report.sources):
        raise NotConfigured("; ".join(f"{s.source}: {s.message}" for s in report.sources))
    counts: dict[str, Any] = {
        "measured": sum(s.measured for s in report.sources),
        "not_measured": sum(s.not_measured for s in report.sources),
        "requests": sum(s.requests for s in report.sources),
        "sources": {s.source: s.status for s in report.sources}}
    failed = [f"{s.source}: {s.message or s.status}" for s in report.sources
              if s.status in ("failed", "refused")]
    failed += [f"{s.source}: {s.not_measured} of {s.measured + s.not_measured} not measured"
               for s in report.sources if s.status == "incomplete"]
    return JobResult(counts, lines, error="; ".join(failed))


def grid_result(report: Any) -> JobResult:
    """A grid GridCheckReport as a job result: failed when points were not measured."""
    if report.status == "refused":  # configured, but the provider refused the credentials
        raise CredentialsRejected(f"{report.provider}: {report.message}")
    o = report.outcome
    counts = {"measured": o.measured, "not_measured": o.not_measured, "requests": o.requests,
              "grids": len(o.touched), "grid_budget_left": o.grid_budget_left}
    error = o.error or (f"{o.not_measured} of {o.measured + o.not_measured} points not measured"
                        if o.not_measured else "")
    return JobResult(counts, report.lines(), error=error)


def sync_listing(project: Project, *, apply: bool, today: date | None = None,
                 trigger: str = "manual") -> JobResult:
    """Drift every day; the plan saved for review; pushed only when the schedule says `apply`."""
    from ..listing.api import apply_listing, desired, detect_drift, plan_listing, settings_of
    from ..listing.client import connect
    from ..listing.drift import render_drift

    settings = settings_of(project)  # NotConfigured without integrations.gbp
    desired(project, today)  # NotConfigured without a location's gbp_location
    client = connect(settings, store=project.store)  # one client for the sync (httplib2: 1/thread)
    drift = detect_drift(project, client=client, today=today, trigger=trigger)
    lines = [line for line in render_drift(drift).splitlines() if line.strip()]
    planned = plan_listing(project, client=client, today=today)
    counts: dict[str, Any] = {"drifted": sum(len(d.drifted) for d in drift),
                              "pending": sum(len(d.pending) for d in drift),
                              "planned_changes": planned.plan.change_count, "pushed": 0}
    if planned.plan.change_count:
        if apply:
            _, result = apply_listing(project, plan_file=planned.saved_to, client=client,
                                      today=today, trigger=trigger)
            counts["pushed"] = sum(len(p.fields) for p in result.pushed)
        else:
            lines.append(f"{planned.plan.change_count} change(s) planned in {planned.saved_to}; "
                         "review and run `seo listing apply` (or set jobs.sync_listing.apply: true "
                         "in config/schedule.yaml)")
    return JobResult(counts, lines)


def weekly_report(project: Project, week: str | None = None) -> JobResult:
    """Send what an earlier run left in the outbox, then this week's report (SMTP, or the outbox
    when no SMTP host is configured). A message SMTP refused stays in the outbox: the run fails."""
    from ..report import flush_outbox, send_report

    earlier = flush_outbox(project)
    lines = [f"earlier: {line}" for line in earlier.lines()] if earlier.sent or earlier.failures else []
    delivery = send_report(project, week)
    lines += delivery.lines()
    counts = {"sent": len(earlier.sent) + len(delivery.sent), "waiting": len(delivery.waiting),
              "failures": len(earlier.failures) + len(delivery.failures)}
    return JobResult(counts, lines, error="; ".join(earlier.failures + delivery.failures))


def publish_site(project: Project, today: date | None = None, trigger: str = "manual") -> JobResult:
    """The build to every publish target, behind the audit gate. While example values remain (a
    fresh clone) the step is skipped, not failed: there is nothing real to publish yet."""
    from ..publish.api import publish_site as publish
    from ..publish.api import refusal

    why = refusal(project.site)
    if why:
        raise NotConfigured(f"publish refused: {why}")
    report = publish(project, today=today, trigger=trigger)
    totals = {a: sum(r.counts()[a] for r in report.targets) for a in
              ("create", "update", "remove", "unchanged", "skip")}
    counts: dict[str, Any] = {"created": totals["create"], "updated": totals["update"],
                              "removed": totals["remove"], "unchanged": totals["unchanged"],
                              "skipped": totals["skip"],
                              "requests": sum(r.requests for r in report.targets),
                              "targets": report.counts()}
    lines = report.lines(verbose=False)
    error = "; ".join(f"{name}: {exc}" for name, exc in report.failures)
    return JobResult(counts, lines, error=error)


def verify_live(project: Project, today: date | None = None) -> JobResult:
    """Every new or changed published page fetched from the live site; failures fail the step."""
    from ..publish.verify import verify_live as verify

    result = verify(project, today=today)
    lines = result.lines()
    if result.waiting:
        lines.append(f"{result.waiting} page(s) built but not published with their current content")
    error = f"{len(result.failed)} page(s) not live" if result.failed else ""
    return JobResult({**result.counts(), "waiting": result.waiting}, lines, error=error)


def inspect_index(project: Project, today: date | None = None) -> JobResult:
    """URL Inspection for new and changed live pages, within the property's quota."""
    from ..publish.index_status import inspect_pages

    result = inspect_pages(project, today=today)
    return JobResult({**result.counts(), "used_today": result.used_today}, result.lines(),
                     error=result.error)


def fetch_insights(project: Project, today: date | None = None, trigger: str = "manual") -> JobResult:
    """Business Profile numbers: new days, and recent days again until Google's numbers settle."""
    from ..insights.api import check_insights, check_lines
    result = check_insights(project, today=today, trigger=trigger)
    return JobResult({"requests": result.requests,
                      "unsettled_days": max((r.unsettled for r in result.locations), default=0)},
                     check_lines(result))


def check_reviews(project: Project, trigger: str = "manual") -> JobResult:
    """Fetch every review; send the replies staff approved in the drafts file and, when config
    allows, auto-replies to 5-star reviews without text (all through the privacy lint, once)."""
    from ..hostile import plain
    from ..reviews.api import fetch_reviews, replies_waiting, send_replies, stored
    synced = fetch_reviews(project, trigger=trigger)
    lines = [f"{r.location}: {r.fetched} reviews; {len(r.new)} new, {len(r.changed)} changed, "
             f"{len(r.deleted)} deleted" for r in synced]
    lines += [f"warning: {plain(w)}" for r in synced for w in r.warnings]
    counts: dict[str, Any] = {"reviews": sum(r.fetched for r in synced),
                              "new": sum(len(r.new) for r in synced)}
    error = ""
    if replies_waiting(project):
        sent = send_replies(project, trigger=trigger)
        counts["replies_sent"] = sent.count("sent") + sent.count("adopted")
        counts["replies_refused"] = sent.count("refused")
        lines += [plain(line, 300) for o in sent.outcomes for line in o.lines()]
        error = "; ".join(o.line() for o in sent.outcomes if o.status == "failed")
    waiting = stored(project, unanswered=True)
    counts["unanswered"] = len(waiting)
    low = [r for r in waiting if r["stars"] in (1, 2)]
    if low:
        lines.append(f"{len(low)} review(s) rated 1 or 2 stars wait for an answer: "
                     "`seo reviews draft`")
    return JobResult(counts, lines, error=error)


def watch(project: Project) -> JobResult:
    """Alerts between reports: a run with a message failed for good or of unknown fate fails
    (someone should look); a condition that could not be checked is a line, not a failure
    (it becomes its own incident when it lasts: check_failed)."""
    from ..alerts.api import watch as run_watch

    result = run_watch(project)
    return JobResult(result.counts(), result.lines(), error=result.error)
