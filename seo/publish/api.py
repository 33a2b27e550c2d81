"""`seo publish` and the weekly `publish_site` step: the build to every configured target.

Order: refuse while example values or claims remain (a dry run goes on and says it would refuse),
read the build, audit it (errors stop the publish), then each target in turn. A target that fails
does not stop the others; the store records what each target now holds, and for the target
visitors see (the primary one), the day each page's current content was published.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from ..errors import ExternalError, NotConfigured, UserError
from ..site import Site
from .gate import audit_gate
from .records import record_publish
from .source import load_built
from .targets import Progress, TargetReport, primary, targets_of


@dataclass
class PublishReport:
    dry_run: bool
    targets: list[TargetReport] = field(default_factory=list)
    refused: str = ""  # example values or claims: a real publish refuses
    audit: str = ""
    failures: list[tuple[str, Exception]] = field(default_factory=list)  # (target, error)
    primary: str = ""

    def lines(self, verbose: bool = True) -> list[str]:
        out = [self.audit] if self.audit else []
        for report in self.targets:
            out += report.lines(verbose)
        for name, exc in self.failures:
            out.append(f"{name}: failed: {exc}")
        if self.refused and self.dry_run:
            out.append(f"would refuse to publish: {self.refused}")
        return out

    def counts(self) -> dict[str, object]:
        return {r.name: {**r.counts(), "requests": r.requests, "writes": r.writes}
                for r in self.targets}

    @property
    def exit_code(self) -> int:
        if not self.failures:
            return 0
        return max(getattr(exc, "exit_code", 3 if isinstance(exc, NotConfigured) else 1)
                   for _, exc in self.failures)


def refusal(site: Site) -> str:
    if site.examples:
        return (f"{len(site.examples)} example values remain in config (first: {site.examples[0]}); "
                "replace them, then run `seo check`")
    if site.claims:
        return f"{len(site.claims)} cure/guarantee claims in content (first: {site.claims[0]})"
    return ""


def publish_site(project, *, target: str | None = None, dry_run: bool = False, force: bool = False,
                 audit: bool = True, today: date | None = None, trigger: str = "manual",
                 progress: Progress | None = None) -> PublishReport:
    site, store = project.site, project.store
    today = today or project.today()
    report = PublishReport(dry_run=dry_run, refused=refusal(site))
    if report.refused and not dry_run:
        raise UserError(f"publish refused: {report.refused}")
    chosen = targets_of(site, target)
    main = primary(targets_of(site))
    report.primary = main.name
    built = load_built(site, store)
    if audit and not dry_run:
        report.audit = audit_gate(project, trigger)
    for tgt in chosen:
        started = time.monotonic()
        try:
            result = tgt.publish(built, dry_run=dry_run, force=force, progress=progress)
        except (UserError, ExternalError, NotConfigured) as exc:
            if len(chosen) == 1:
                raise
            report.failures.append((tgt.name, exc))
            failed = TargetReport(tgt.name, tgt.kind, dry_run)
            record_publish(store, failed, primary=False, today=today, error=str(exc))
            continue
        result.seconds = result.seconds or time.monotonic() - started
        record_publish(store, result, primary=tgt.name == main.name, today=today)
        report.targets.append(result)
    return report


def rollback_site(project, *, target: str | None = None, dry_run: bool = False,
                  today: date | None = None) -> PublishReport:
    """Switch an ssh target back to its previous release (one step)."""
    site, store = project.site, project.store
    today = today or project.today()
    chosen = targets_of(site, target)
    rollable = [t for t in chosen if hasattr(t, "rollback") and t.kind == "ssh"]
    if target is None and len(rollable) != 1:
        names = ", ".join(t.name for t in rollable) or "none"
        raise UserError(f"rollback needs one ssh target: name it with --target (ssh targets: {names})",
                        key="--rollback")
    tgt = chosen[0] if target is not None else rollable[0]
    if tgt.kind != "ssh":
        raise UserError(f"rollback works for ssh targets only ({tgt.name} is {tgt.kind})",
                        key="--rollback")
    main = primary(targets_of(site))
    report = PublishReport(dry_run=dry_run, primary=main.name)
    result = tgt.rollback(dry_run=dry_run)  # type: ignore[attr-defined]
    record_publish(store, result, primary=tgt.name == main.name, today=today, action="rollback")
    report.targets.append(result)
    return report
