"""Findings -> incidents, and the events people are told about.

Each finding has a stable key; its incident is `pending` until it has been seen in
`confirm_runs` consecutive runs, then `open` (event "opened"). While it stays open and nobody has
acknowledged it, a "reminder" event at most every `reminder_hours`. When a condition that was
checked no longer finds it, "resolved". A condition turned off or no longer available resolves its
incidents too (saying why); a condition that could not be checked this run (an error) leaves its
incidents exactly as they are: not seeing a problem is not the same as seeing it fixed.

Every event gets one delivery row per channel that takes its condition, in the same transaction as
the incident change, so a crash can neither lose a message nor make a second one.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import UserError
from ..settings import AlertSettings
from ..store import Store
from ..tables import alert_deliveries, alert_events, alert_incidents, alert_memos
from .model import CheckResult, Finding, clean, incident_key

I = alert_incidents.c  # noqa: E741


@dataclass
class Change:
    kind: str  # opened, reminder, resolved
    key: str
    title: str
    condition: str


@dataclass
class Incident:
    id: int
    key: str
    condition: str
    severity: str
    status: str
    title: str
    detail: list[str]
    data: dict[str, Any]
    seen_runs: int
    first_seen: datetime
    opened_at: datetime | None
    last_seen: datetime
    last_notified: datetime | None
    reminders: int
    acked_at: datetime | None
    acked_by: str
    resolved_at: datetime | None = None
    resolution: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: Any) -> Incident:
        m = dict(row._mapping)
        m["detail"] = _loads(m["detail"], [])
        m["data"] = _loads(m["data"], {})
        return cls(**m)


def _loads(text: str, default: Any) -> Any:
    try:
        value = json.loads(text or "")
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def channels_for(settings: AlertSettings, condition: str) -> list[str]:
    return sorted(name for name, ch in settings.channels.items()
                  if not ch.conditions or condition in ch.conditions)


def add_event(conn: Connection, settings: AlertSettings, *, incident_id: int | None, condition: str,
              kind: str, title: str, detail: list[str], now: datetime,
              channels: list[str] | None = None) -> int:
    """An event and its deliveries (one per channel, each with its idempotency key)."""
    event_id = int(conn.execute(alert_events.insert().values(
        incident_id=incident_id, kind=kind, at=now, title=title,
        detail=json.dumps(detail))).inserted_primary_key[0])
    names = channels if channels is not None else channels_for(settings, condition)
    if names:
        conn.execute(alert_deliveries.insert(), [
            {"key": uuid.uuid4().hex, "channel": name, "kind": "test" if kind == "test" else "event",
             "event_id": event_id, "digest_id": None, "state": "pending", "created_at": now,
             "attempts": 0, "error": ""} for name in names])
    return event_id


def reconcile(store: Store, results: list[CheckResult], settings: AlertSettings,
              now: datetime, memos: dict[str, str] | None = None) -> list[Change]:
    """Apply one run's check results to the incidents, and save what the conditions want to
    remember (one transaction). `now`: naive UTC."""
    reminder = timedelta(hours=settings.reminder_hours)
    changes: list[Change] = []
    with store.begin() as conn:
        for name, value in sorted((memos or {}).items()):
            done = conn.execute(alert_memos.update().where(alert_memos.c.name == name)
                                .values(value=value, at=now)).rowcount
            if not done:
                conn.execute(alert_memos.insert().values(name=name, value=value, at=now))
        live = {r.key: Incident.of(r) for r in conn.execute(
            sa.select(alert_incidents).where(I.status != "resolved").order_by(I.id))}
        for res in results:
            if res.status == "error":
                continue
            cfg = getattr(settings.conditions, res.condition)
            seen: dict[str, Finding] = {}
            if res.status == "ok":
                for f in res.findings:
                    seen.setdefault(incident_key(res.condition, f.key), f.tidy())
            for key in sorted(seen):
                _seen(conn, settings, res.condition, key, seen[key], live.get(key), cfg.confirm_runs,
                      reminder, now, changes)
            why = {"off": "no longer checked: the condition was turned off",
                   "unavailable": f"no longer checked: {clean(res.message)}"}.get(res.status, "")
            for key, inc in live.items():
                if inc.condition == res.condition and key not in seen:
                    _gone(conn, settings, inc, why, now, changes)
    return changes


def _seen(conn: Connection, settings: AlertSettings, condition: str, key: str, f: Finding,
          inc: Incident | None, confirm: int, reminder: timedelta, now: datetime,
          changes: list[Change]) -> None:
    data = json.dumps({**f.data, "_key": f.key}, default=str)  # the finding's own key, to rebuild it
    values = {"title": f.title, "detail": json.dumps(f.detail), "data": data,
              "severity": f.severity, "last_seen": now}
    if inc is None:
        inc_id = int(conn.execute(alert_incidents.insert().values(
            key=key, condition=condition, status="pending", seen_runs=1, first_seen=now, reminders=0,
            acked_by="", resolution="", **values)).inserted_primary_key[0])
        runs = 1
    elif inc.status == "pending":
        inc_id, runs = inc.id, inc.seen_runs + 1
        conn.execute(alert_incidents.update().where(I.id == inc_id).values(seen_runs=runs, **values))
    else:
        conn.execute(alert_incidents.update().where(I.id == inc.id).values(**values))
        due = inc.last_notified is None or now - inc.last_notified >= reminder
        if inc.acked_at is None and due:
            conn.execute(alert_incidents.update().where(I.id == inc.id).values(
                last_notified=now, reminders=I.reminders + 1))
            add_event(conn, settings, incident_id=inc.id, condition=condition, kind="reminder",
                      title=f.title, detail=f.detail, now=now)
            changes.append(Change("reminder", key, f.title, condition))
        return
    if runs >= confirm:
        conn.execute(alert_incidents.update().where(I.id == inc_id).values(
            status="open", opened_at=now, last_notified=now))
        add_event(conn, settings, incident_id=inc_id, condition=condition, kind="opened",
                  title=f.title, detail=f.detail, now=now)
        changes.append(Change("opened", key, f.title, condition))


def _gone(conn: Connection, settings: AlertSettings, inc: Incident, why: str, now: datetime,
          changes: list[Change]) -> None:
    if inc.status == "pending":  # never confirmed: nobody was told, nobody needs to be
        conn.execute(alert_incidents.delete().where(I.id == inc.id))
        return
    resolution = why or "no longer found"
    conn.execute(alert_incidents.update().where(I.id == inc.id).values(
        status="resolved", resolved_at=now, resolution=resolution))
    add_event(conn, settings, incident_id=inc.id, condition=inc.condition, kind="resolved",
              title=inc.title, detail=[resolution], now=now)
    changes.append(Change("resolved", inc.key, inc.title, inc.condition))


# -- reading and acknowledging -----------------------------------------------------------------

def as_finding(inc: Incident) -> Finding:
    """An unresolved incident as the finding it was made from (for a condition that reuses its
    findings when nothing changed)."""
    data = dict(inc.data)
    key = str(data.pop("_key", inc.key.split(":", 1)[-1]))
    return Finding(key, inc.title, list(inc.detail), data, inc.severity)


def read_memos(store: Store) -> dict[str, str]:
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(alert_memos.c.name, alert_memos.c.value)).all())


def live_incidents(store: Store) -> list[Incident]:
    """Open incidents (and those waiting for confirmation), oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(alert_incidents).where(I.status != "resolved")
                            .order_by(I.status, I.first_seen, I.id))
        return [Incident.of(r) for r in rows]


def find_open(store: Store, key: str) -> Incident:
    """The open incident `key` names: the whole key, or the start of exactly one."""
    candidates = [i for i in live_incidents(store) if i.status == "open"]
    exact = [i for i in candidates if i.key == key]
    matches = exact or [i for i in candidates if i.key.startswith(key)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(i.key for i in candidates[:5]) or "none"
        raise UserError(f"no open incident {key!r} (open: {known}; see `seo alerts list`)")
    some = ", ".join(i.key for i in matches[:5])
    raise UserError(f"{key!r} matches {len(matches)} open incidents ({some}); give more of the key")


def acknowledge(store: Store, key: str, by: str, now: datetime) -> tuple[Incident, bool]:
    """Stop the reminders of one open incident (its resolution is still announced).
    Returns the incident and whether it was acknowledged just now."""
    inc = find_open(store, key)
    if inc.acked_at is not None:
        return inc, False
    with store.begin() as conn:
        conn.execute(alert_incidents.update().where(I.id == inc.id, I.acked_at.is_(None))
                     .values(acked_at=now, acked_by=clean(by, 128)))
    return find_open(store, inc.key), True
