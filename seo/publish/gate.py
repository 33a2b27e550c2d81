"""The audit gate: a publish goes out only when the audit of the build found no errors.

An audit of the build made after the build last changed is reused (the weekly pipeline's own audit
step, when it audited the build); otherwise the build is audited now (a Scrapy child process).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from ..errors import UserError
from ..tables import audit_findings, audits


class PublishBlocked(UserError):
    """The build has errors: nothing was published."""


def newest_change(folder: Path) -> datetime:
    """The newest modification time of anything in the build output (UTC, naive)."""
    newest = os.stat(folder).st_mtime
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            newest = max(newest, os.lstat(os.path.join(dirpath, name)).st_mtime)
    return datetime.fromtimestamp(newest, UTC).replace(tzinfo=None)


def audit_gate(project, trigger: str = "manual") -> str:
    """Raise PublishBlocked when the build has audit errors; else one line saying what was checked."""
    store, site = project.store, project.site
    folder = site.path(site.config.site.output)
    changed = newest_change(folder)
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(audits).where(audits.c.target == "built")
                           .order_by(audits.c.id.desc()).limit(1)).first()
    if row is not None and row.started_at >= changed:
        audit_id, pages, reused = row.id, row.pages, True
    else:
        from ..audit import run_audit
        result = run_audit(project, built=True, trigger=trigger)
        audit_id, pages, reused = result.audit_id, result.pages, False
    with store.engine.connect() as conn:
        errors = [r for r in conn.execute(
            sa.select(audit_findings).where(audit_findings.c.audit_id == audit_id,
                                            audit_findings.c.severity == "error")
            .order_by(audit_findings.c.id))]
    if errors:
        first = errors[0]
        raise PublishBlocked(f"publish stopped: the audit of the build (audit {audit_id}) found "
                             f"{len(errors)} error(s), first: {first.type} on {first.page}; see "
                             "`seo audit --built`, fix them and build again (or publish with "
                             "--no-audit)")
    how = "reused" if reused else "run now"
    return f"audit of the build ({how}, audit {audit_id}): {pages} URLs, no errors"
