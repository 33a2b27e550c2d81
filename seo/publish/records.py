"""What a publish leaves in the store: per target, what each page is there; per page, the day its
current content was published on the site visitors see (the primary target)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import sqlalchemy as sa

from ..store import Store, now
from ..tables import page_status, published_pages, publishes
from .targets import TargetReport


def record_publish(store: Store, report: TargetReport, *, primary: bool, today: date,
                   action: str = "publish", error: str = "", run_id: int | None = None) -> None:
    status = "failed" if error else ("dry-run" if report.dry_run else "ok")
    with store.begin() as conn:
        conn.execute(publishes.insert().values(
            run_id=run_id, target=report.name, kind=report.kind, action=action, status=status,
            counts=json.dumps({**report.counts(), "requests": report.requests,
                               "writes": report.writes, "dry_run": report.dry_run}, sort_keys=True),
            release=report.release, error=error[:2000], at=now()))
        if report.dry_run or error:
            return
        old = {r.path: dict(r._mapping) for r in conn.execute(
            sa.select(published_pages).where(published_pages.c.target == report.name))}
        rows: list[dict[str, Any]] = []
        for path, content_hash in report.published.items():
            before = old.get(path)
            remote_id = report.remote_ids.get(path, "")
            same = before is not None and before["content_hash"] == content_hash and \
                before["state"] == "published"
            if same and before is not None and before["remote_id"] == remote_id:
                continue  # nothing new to record (a publish with nothing changed writes nothing)
            rows.append({"target": report.name, "path": path, "content_hash": content_hash,
                         "remote_id": remote_id, "state": "published", "detail": "",
                         "published_on": before["published_on"] if same and before else today,
                         "updated_at": now()})
        for path, (state, detail) in report.states.items():
            if path in report.published:
                continue
            before = old.get(path)
            if before is not None and (before["state"], before["detail"]) == (state, detail):
                continue
            rows.append({"target": report.name, "path": path, "state": state, "detail": detail,
                         "content_hash": before["content_hash"] if before else "",
                         "remote_id": before["remote_id"] if before else "",
                         "published_on": before["published_on"] if before else None,
                         "updated_at": now()})
        if rows:
            conn.execute(published_pages.delete().where(
                published_pages.c.target == report.name,
                published_pages.c.path.in_([r["path"] for r in rows])))
            conn.execute(published_pages.insert(), rows)
        if primary:
            _page_status(conn, report.published, today)


def _page_status(conn: sa.Connection, published: dict[str, str], today: date) -> None:
    if not published:
        return
    have = {r.path: dict(r._mapping) for r in conn.execute(sa.select(page_status))}
    inserts, updates = [], []
    for path, content_hash in published.items():
        row = have.get(path)
        if row is None:
            inserts.append({"path": path, "published_hash": content_hash, "published_on": today,
                            "live_url": "", "problem": "", "verdict": "", "coverage": "",
                            "google_canonical": "", "user_canonical": ""})
        elif row["published_hash"] != content_hash:
            updates.append({"key": path, "published_hash": content_hash, "published_on": today})
    if inserts:
        conn.execute(page_status.insert(), inserts)
    if updates:
        conn.execute(page_status.update().where(page_status.c.path == sa.bindparam("key")).values(
            published_hash=sa.bindparam("published_hash"), published_on=sa.bindparam("published_on")),
            updates)
