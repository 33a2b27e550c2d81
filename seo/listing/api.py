"""The listing library API: what `seo listing ...` and the scheduled jobs call.

Every function takes a Project and, optionally, a GbpClient (tests and jobs may build their own:
one per thread) and `today`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..api import Project, refuse_examples
from ..errors import NotConfigured
from ..files import read_project_text
from ..settings import GbpSettings
from .apply import ApplyResult, apply_plan, rollback
from .client import GbpClient, Sleep, connect
from .desired import Desired, desired_state
from .drift import LocationDrift, drift_location, log_drift
from .plan import ListingPlan, plan_location
from .posts import PostsResult, plan_posts, poll, send_posts

DEFAULT_PLAN = "build/listing-plan.json"


def settings_of(project: Project) -> GbpSettings:
    settings = project.site.config.integrations.gbp
    if settings is None:
        raise NotConfigured("integrations.gbp is not set in config/site.yaml (see README, "
                            "Google Business Profile)")
    return settings


def desired(project: Project, today: date | None = None) -> list[Desired]:
    settings = settings_of(project)
    found = desired_state(project.site, settings, today or project.today())
    if not found:
        raise NotConfigured("no location has gbp_location set in config/site.yaml")
    return found


def client_for(project: Project, client: GbpClient | None) -> GbpClient:
    return client if client is not None else connect(settings_of(project), store=project.store)


@dataclass
class PlanResult:
    plan: ListingPlan
    saved_to: Path | None
    examples: list[str] = field(default_factory=list)


def plan_listing(project: Project, *, client: GbpClient | None = None, out: Path | None = None,
                 today: date | None = None) -> PlanResult:
    """Read the live listings, diff them with config and save the plan (read-only at Google)."""
    settings = settings_of(project)
    wanted = desired(project, today)
    client = client_for(project, client)
    plan = ListingPlan([plan_location(client, d, settings, project.store) for d in wanted])
    path = out or project.site.path(DEFAULT_PLAN)
    plan.save(path)
    return PlanResult(plan, path, project.site.examples)


def load_plan(path: Path) -> ListingPlan:
    """A saved plan: a regular UTF-8 file (a FIFO or a device named by --plan is refused)."""
    return ListingPlan.from_json(read_project_text(path, str(path), root=None), str(path))


def apply_listing(project: Project, *, plan_file: Path | None = None,
                  client: GbpClient | None = None, today: date | None = None,
                  trigger: str = "manual") -> tuple[ListingPlan, ApplyResult]:
    """Push the saved plan (or a fresh one): validateOnly, then for real; verify; log snapshots."""
    refuse_examples(project.site, "listing apply")
    settings = settings_of(project)
    client = client_for(project, client)
    if plan_file is not None:
        plan = load_plan(plan_file)
    else:
        plan = ListingPlan([plan_location(client, d, settings, project.store)
                            for d in desired(project, today)])
    run_id = project.store.start_run("listing-apply", trigger)
    try:
        result = apply_plan(client, project.store, plan, run_id)
    except BaseException as exc:
        project.store.finish_run(run_id, "failed", error=str(exc))
        raise
    project.store.finish_run(run_id, "ok", {"fields": sum(len(p.fields) for p in result.pushed),
                                            "locations": len(result.pushed)})
    return plan, result


def rollback_listing(project: Project, *, to_run: int | None = None,
                     client: GbpClient | None = None, trigger: str = "manual") -> ApplyResult:
    """Restore the listing as it was before apply run `to_run` (default: the latest apply)."""
    client = client_for(project, client)
    run_id = project.store.start_run("listing-rollback", trigger)
    try:
        result = rollback(client, project.store, to_run, run_id)
    except BaseException as exc:
        project.store.finish_run(run_id, "failed", error=str(exc))
        raise
    project.store.finish_run(run_id, "ok", {"fields": sum(len(p.fields) for p in result.pushed)})
    return result


def detect_drift(project: Project, *, client: GbpClient | None = None, today: date | None = None,
                 trigger: str = "manual") -> list[LocationDrift]:
    """Fields Google shows differently from ours and our edits pending review; logged in the store."""
    settings = settings_of(project)
    wanted = desired(project, today)
    client = client_for(project, client)
    index = {loc.id: i for i, loc in enumerate(project.site.config.locations)}
    run_id = project.store.start_run("listing-drift", trigger)
    found = [drift_location(client, d, settings, index[d.location.id], project.store)
             for d in wanted]
    log_drift(project.store, run_id, found)
    project.store.finish_run(run_id, "ok", {"drifted": sum(len(f.drifted) for f in found),
                                            "pending": sum(len(f.pending) for f in found)})
    return found


def publish_posts(project: Project, *, client: GbpClient | None = None, dry_run: bool = False,
                  today: date | None = None, sleep: Sleep = time.sleep,
                  trigger: str = "manual") -> PostsResult:
    """One post per new or substantially changed page (or the weekly rotation); poll states."""
    settings = settings_of(project)
    today = today or project.today()
    result = PostsResult(dry_run=dry_run)
    if not settings.posts.enabled:
        return result
    if not settings.account:
        raise NotConfigured("integrations.gbp.account (accounts/<id>) is needed for posts")
    site = project.site
    todo = []
    for loc in site.config.locations:
        if loc.gbp_location:
            todo.append((loc, plan_posts(site, project.store, settings, loc, today, result)))
    result.planned = [p for _, plans in todo for p in plans]
    if result.not_live:
        result.warnings.append(f"{result.not_live} page(s) not verified live with their current "
                               "content: no posts for them until `seo publish` and `seo verify` "
                               "find them on the live site")
    if dry_run:
        return result
    refuse_examples(site, "listing posts")
    client = client_for(project, client)
    run_id = project.store.start_run("listing-posts", trigger)
    try:
        for loc, plans in todo:
            parent = f"{settings.account}/{loc.gbp_location}"
            poll(client, project.store, settings, None, result, sleep, location=loc.id)
            send_posts(client, project.store, settings, parent, loc.gbp_location, plans,
                       site.config.site.language, today, result, sleep)
    except BaseException as exc:
        project.store.finish_run(run_id, "failed", error=str(exc))
        raise
    project.store.finish_run(run_id, "ok", {"created": len(result.created),
                                            "adopted": len(result.adopted),
                                            "unresolved": len(result.unresolved),
                                            "rejected": len(result.rejected)})
    return result
