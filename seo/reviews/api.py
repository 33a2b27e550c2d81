"""The reviews library API: what `seo reviews ...` and the scheduled jobs call."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ..api import Project, refuse_examples
from ..errors import NotConfigured, UserError
from ..listing.api import settings_of as listing_settings
from ..listing.client import GbpClient, connect
from ..settings import GbpReviews, GbpSettings, Location
from ..tables import gbp_reviews
from . import drafts, reply, stats
from .fetch import SyncResult, sync_location
from .privacy import PrivacyLint, lint_for_site
from .templates import render_reply


def settings_of(project: Project) -> tuple[GbpSettings, GbpReviews]:
    gbp = listing_settings(project)
    if not gbp.reviews.enabled:
        raise NotConfigured("integrations.gbp.reviews.enabled is false in config/site.yaml")
    if not gbp.account:
        raise NotConfigured("integrations.gbp.account (accounts/<id>) is needed for reviews")
    return gbp, gbp.reviews


def profiles(project: Project, location: str | None = None) -> list[Location]:
    from ..insights.api import profiles as locs
    return locs(project, location)


def lint_of(project: Project) -> PrivacyLint:
    _, cfg = settings_of(project)
    return lint_for_site(project.site, cfg.privacy_terms)


def fetch_reviews(project: Project, *, client: GbpClient | None = None,
                  trigger: str = "manual") -> list[SyncResult]:
    """Every review of every location into the store; what is new, changed, deleted."""
    gbp, cfg = settings_of(project)
    locs = profiles(project)
    client = client if client is not None else connect(gbp, store=project.store)
    run_id = project.store.start_run("reviews", trigger)
    out: list[SyncResult] = []
    try:
        for loc in locs:
            out.append(sync_location(client, project.store, loc.id,
                                     f"{gbp.account}/{loc.gbp_location}", cfg.max_pages))
    except BaseException as exc:
        project.store.finish_run(run_id, "failed", error=str(exc))
        raise
    project.store.finish_run(run_id, "ok", {
        "reviews": sum(r.fetched for r in out), "new": sum(len(r.new) for r in out),
        "changed": sum(len(r.changed) for r in out), "deleted": sum(len(r.deleted) for r in out)})
    return out


def stored(project: Project, *, unanswered: bool = False, location: str | None = None,
           include_deleted: bool = False) -> list[dict[str, Any]]:
    """Stored reviews, newest first."""
    t = gbp_reviews.c
    q = sa.select(gbp_reviews).order_by(t.created.desc(), t.name)
    if not include_deleted:
        q = q.where(t.deleted_on.is_(None))
    if unanswered:
        q = q.where(t.reply.is_(None))
    if location is not None:
        q = q.where(t.location.in_([x.id for x in profiles(project, location)]))
    with project.store.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def auto_candidates(rows: list[dict[str, Any]], cfg: GbpReviews) -> list[dict[str, Any]]:
    """5-star reviews without text, unanswered: replied to without approval when config says so."""
    if not cfg.auto_reply_five_star:
        return []
    return [r for r in rows if r["stars"] == 5 and not r["comment"].strip() and r["reply"] is None
            and r["deleted_on"] is None]


def replies_waiting(project: Project) -> bool:
    """Is there an approved reply in the drafts file, or a review to auto-reply to?"""
    _, cfg = settings_of(project)
    if auto_candidates(stored(project, unanswered=True), cfg):
        return True
    path = drafts.drafts_path(project.site.root, cfg.drafts_file)
    return any(e.approved for e in drafts.read_drafts(path, cfg.drafts_file).replies)


def draft_replies(project: Project, *, client: GbpClient | None = None, fetch: bool = True,
                  trigger: str = "manual") -> drafts.DraftResult:
    """Write proposed replies for every unanswered review to the drafts file (merging edits)."""
    _, cfg = settings_of(project)
    if fetch:
        fetch_reviews(project, client=client, trigger=trigger)
    path = drafts.drafts_path(project.site.root, cfg.drafts_file)
    existing = drafts.read_drafts(path, cfg.drafts_file)
    rows = stored(project, unanswered=True)
    auto = {r["name"] for r in auto_candidates(rows, cfg)}
    wanted = []
    for r in sorted(rows, key=lambda r: (r["created"], r["name"])):  # oldest waiting first
        if r["name"] in auto:
            continue
        proposed = render_reply(project.site, cfg, r["stars"], r["name"], r["location"],
                                bool(r["comment"].strip()))
        wanted.append({**r, "proposed": proposed})
    result = drafts.DraftResult(path, auto=len(auto))
    entries = drafts.merge(existing, wanted, lint_of(project), result)
    drafts.write_drafts(path, entries)
    return result


def _profile_of(project: Project, location: str) -> str:
    loc = next((x for x in project.site.config.locations if x.id == location), None)
    return loc.gbp_location if loc and loc.gbp_location else location


def send_replies(project: Project, *, client: GbpClient | None = None, dry_run: bool = False,
                 sleep: reply.Sleep = time.sleep, trigger: str = "manual") -> reply.ReplyResult:
    """Send the approved replies (and, when config allows, auto-replies to 5-star reviews
    without text), each at most once, after the privacy lint and a look-up at Google."""
    gbp, cfg = settings_of(project)
    if not dry_run:
        refuse_examples(project.site, "reviews reply")
    lint = lint_of(project)
    result = reply.ReplyResult(dry_run=dry_run)
    path = drafts.drafts_path(project.site.root, cfg.drafts_file)
    entries = drafts.read_drafts(path, cfg.drafts_file).replies
    by_name = {r["name"]: r for r in stored(project, include_deleted=True)}
    todo: list[reply.Candidate] = []
    if not path.exists():
        result.notes.append(f"no drafts file at {cfg.drafts_file}: run `seo reviews draft`, then "
                            "approve replies in it")
    approved = [e for e in entries if e.approved]
    if path.exists() and not approved:
        result.notes.append(f"no reply is approved in {cfg.drafts_file} (set approved: true)")
    for e in approved:
        row = by_name.get(e.review)
        text = e.reply.strip()
        if row is None:
            result.outcomes.append(reply.Outcome(e.review, e.location, "skipped",
                                                 "not a stored review: run `seo reviews draft`"))
            continue
        hits = lint.check(text, row["reviewer"])
        if hits:
            result.outcomes.append(reply.Outcome(
                e.review, row["location"], "refused",
                f"the privacy check refuses it ({len(hits)} problem{'s' * (len(hits) != 1)}); "
                f"edit it in {cfg.drafts_file}", hits=[h.line() for h in hits]))
            continue
        todo.append(reply.Candidate(e.review, row["location"], _profile_of(project, row["location"]),
                                    text, "approved", e.review_version))
    for r in auto_candidates(list(by_name.values()), cfg):
        if any(c.review == r["name"] for c in todo):
            continue
        text = render_reply(project.site, cfg, 5, r["name"], r["location"], False)
        hits = lint.check(text, r["reviewer"])
        if hits:
            raise UserError("the 5-star reply template fails the privacy check, so no automatic "
                            f"reply is sent: {hits[0].line()}", file="config/site.yaml",
                            key="integrations.gbp.reviews.templates.5")
        todo.append(reply.Candidate(r["name"], r["location"], _profile_of(project, r["location"]),
                                    text, "auto"))
    if not todo or dry_run:
        reply.send_all(None, project.store, todo, 0, sleep, True, result)
        return result
    client = client if client is not None else connect(gbp, store=project.store)
    run_id = project.store.start_run("reviews-reply", trigger)
    try:
        reply.send_all(client, project.store, todo, run_id, sleep, False, result)
    except BaseException as exc:
        project.store.finish_run(run_id, "failed", error=str(exc))
        raise
    failed = [o.line() for o in result.outcomes if o.status == "failed"]
    project.store.finish_run(run_id, "failed" if failed else "ok", {
        "sent": result.count("sent"), "adopted": result.count("adopted"),
        "refused": result.count("refused"), "skipped": result.count("skipped")},
        error="; ".join(failed))
    return result


@dataclass
class Summary:
    total: int
    average: float | None
    unanswered: int
    months: list[stats.MonthStats]


def review_stats(project: Project, *, months: int = 12, today: date | None = None,
                 location: str | None = None) -> Summary:
    settings_of(project)
    locs = [x.id for x in profiles(project, location)]
    rows = [r for r in stored(project) if r["location"] in locs]
    rated = [r["stars"] for r in rows if r["stars"]]
    return Summary(len(rows), round(sum(rated) / len(rated), 2) if rated else None,
                   sum(1 for r in rows if r["reply"] is None),
                   stats.monthly(project.store, today or project.today(), months, locs))


def when(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%d")
