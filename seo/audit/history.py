"""Audits stored per run, and the difference between an audit and the one before it.

`audits` holds one row per audit (the run it belongs to, its target and counts);
`audit_findings` one row per finding. The diff (new / fixed / still open) compares an audit with
the previous audit of the same target, so `--built` and live audits each keep their own history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..store import Store, metadata, now
from ..tables import audit_findings, audits
from .catalog import Finding


@dataclass
class AuditDiff:
    audit_id: int
    previous_id: int | None  # None: first audit of this target
    new: list[Finding] = field(default_factory=list)
    fixed: list[Finding] = field(default_factory=list)
    still_open: list[Finding] = field(default_factory=list)


def save_audit(store: Store, *, run_id: int | None, target: str, pages: int, truncated: bool,
               findings: list[Finding]) -> int:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    with store.begin() as conn:
        metadata.create_all(conn, tables=[audits, audit_findings])  # idempotent
        audit_id = int(conn.execute(audits.insert().values(
            run_id=run_id, target=target, started_at=now(), pages=pages, truncated=truncated,
            counts=json.dumps(counts, sort_keys=True))).inserted_primary_key[0])
        if findings:
            conn.execute(audit_findings.insert(), [
                {"audit_id": audit_id, "type": f.type, "severity": f.severity, "page": f.page,
                 "linking": f.linking, "detail": f.detail} for f in findings])
    return audit_id


def load_findings(store: Store, audit_id: int) -> list[Finding]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_findings).where(audit_findings.c.audit_id == audit_id)
                            .order_by(audit_findings.c.id))
        return [Finding(r.type, r.page, r.linking, r.detail) for r in rows]


def previous_audit(store: Store, audit_id: int) -> int | None:
    with store.engine.connect() as conn:
        target = conn.execute(sa.select(audits.c.target).where(audits.c.id == audit_id)).scalar()
        return conn.execute(sa.select(sa.func.max(audits.c.id)).where(
            audits.c.target == target, audits.c.id < audit_id)).scalar()


def latest_audit(store: Store, target: str | None = None) -> int | None:
    """The newest audit (of `target` when given), or None when there is none."""
    metadata.create_all(store.engine, tables=[audits, audit_findings])
    query = sa.select(sa.func.max(audits.c.id))
    if target is not None:
        query = query.where(audits.c.target == target)
    with store.engine.connect() as conn:
        return conn.execute(query).scalar()


def diff_audit(store: Store, audit_id: int) -> AuditDiff:
    """New, fixed and still-open findings of `audit_id` against the previous audit of its target."""
    prev_id = previous_audit(store, audit_id)
    current = load_findings(store, audit_id)
    before = load_findings(store, prev_id) if prev_id is not None else []
    old_keys = {f.key for f in before}
    cur_keys = {f.key for f in current}
    return AuditDiff(audit_id=audit_id, previous_id=prev_id,
                     new=[f for f in current if f.key not in old_keys],
                     fixed=[f for f in before if f.key not in cur_keys],
                     still_open=[f for f in current if f.key in old_keys])
