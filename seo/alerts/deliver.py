"""The delivery queue: every message is a row with its idempotency key before anything is sent.

    pending --(mark sending, commit)--> send --> sent
                                             --> retry: pending again (next attempt, next run)
                                             --> failed (refused for good)
                                             --> unknown (sent, answer lost: never sent again)
    pending --(quiet hours)--> held --(quiet hours over)--> digested into one digest row
    pending (more than batch_over for one channel at once) --> digested into one batch row

A row found in `sending` belongs to a run that died mid-send: it may have been delivered, so it
becomes `unknown` too. The trade-off is deliberate: a message whose fate is unknown is reported
(`seo alerts list`, the run's output) instead of sent again, because two "your phone number was
changed" messages erode trust in every later one, while the incident itself stays open and its
next reminder (or its resolution) goes out as a new message.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from ..settings import AlertSettings, QuietHours
from ..store import Store
from ..tables import alert_deliveries
from .channels import Outcome, Sender
from .messages import load_message
from .model import Sleep, aware, clean

D = alert_deliveries.c
STALE_TEST = timedelta(minutes=15)
MAX_WAIT = 30.0  # a Retry-After longer than this waits for the next run


@dataclass
class Sent:
    channel: str
    key: str
    subject: str
    outcome: Outcome


@dataclass
class DeliveryReport:
    results: list[Sent] = field(default_factory=list)
    held: Counter[str] = field(default_factory=Counter)
    digests: int = 0
    closed: list[str] = field(default_factory=list)  # rows given up on or orphaned this run

    def count(self, state: str) -> int:
        return sum(1 for r in self.results if r.outcome.state == state)

    def lines(self) -> list[str]:
        out = []
        for r in self.results:
            verb = {"sent": "sent", "retry": "not sent (will retry)", "failed": "failed",
                    "unknown": "UNKNOWN (not resent)"}[r.outcome.state]
            out.append(f"{r.channel}: {verb}: {r.subject}"
                       + (f" ({r.outcome.detail})" if r.outcome.state != "sent" else ""))
        out += [f"{ch}: {n} message(s) held for quiet hours (a digest follows)"
                for ch, n in sorted(self.held.items())]
        out += self.closed
        return out


def in_quiet_hours(quiet: QuietHours | None, now: datetime, tz: ZoneInfo) -> bool:
    if quiet is None:
        return False
    t = aware(now).astimezone(tz).time()
    start, end = time.fromisoformat(quiet.start), time.fromisoformat(quiet.end)
    return start <= t < end if start < end else (t >= start or t < end)


def sweep(store: Store, settings: AlertSettings, now: datetime) -> list[str]:
    """Before sending: rows a dead run left mid-send, rows of channels no longer configured, and
    rows that waited past give_up_hours."""
    lines: list[str] = []
    give_up = now - timedelta(hours=settings.give_up_hours)
    with store.begin() as conn:
        stale = conn.execute(sa.select(D.id, D.channel).where(
            D.state == "sending", sa.or_(D.kind != "test", D.last_attempt < now - STALE_TEST))).all()
        for row in stale:
            conn.execute(alert_deliveries.update().where(D.id == row.id, D.state == "sending").values(
                state="unknown", error="the run ended during the send; it may have arrived, so it is "
                                       "not sent again"))
            lines.append(f"{row.channel}: a message left mid-send by an earlier run: unknown, not resent")
        names = list(settings.channels)
        orphans = conn.execute(alert_deliveries.update().where(
            D.state.in_(("pending", "held")), D.channel.not_in(names)).values(
            state="failed", error="the channel is no longer configured")).rowcount
        if orphans:
            lines.append(f"{orphans} message(s) for channels no longer configured: dropped")
        for row in conn.execute(sa.select(D.id, D.channel, D.error).where(
                D.state == "pending", D.kind != "test", D.created_at < give_up)).all():
            conn.execute(alert_deliveries.update().where(D.id == row.id).values(
                state="failed", error=clean(f"not delivered within {settings.give_up_hours:g} h; "
                                            f"gave up (last: {row.error or 'no attempt'})", 500)))
            lines.append(f"{row.channel}: gave up on a message after {settings.give_up_hours:g} h "
                         f"({clean(row.error, 120) or 'never attempted'})")
    return lines


def deliver(store: Store, settings: AlertSettings, senders: dict[str, Sender], now: datetime,
            tz: ZoneInfo, site: str, sleep: Sleep) -> DeliveryReport:
    """Send what waits, channel by channel; hold it in quiet hours, digest it after. `now`: naive UTC."""
    report = DeliveryReport(closed=sweep(store, settings, now))
    for name in sorted(settings.channels):
        channel = settings.channels[name]
        if in_quiet_hours(channel.quiet_hours, now, tz):
            with store.begin() as conn:
                conn.execute(alert_deliveries.update().where(
                    D.channel == name, D.state == "pending", D.kind == "event").values(state="held"))
                held = conn.execute(sa.select(sa.func.count()).where(
                    D.channel == name, D.state == "held")).scalar_one()
            if held:
                report.held[name] = held
            continue
        _digest(store, name, now, report, settings.batch_over)
        with store.engine.connect() as conn:
            todo = conn.execute(sa.select(alert_deliveries).where(
                D.channel == name, D.state == "pending", D.kind.in_(("event", "digest", "batch")))
                .order_by(sa.case((D.kind == "digest", 0), else_=1), D.id)).all()
        for i, row in enumerate(todo):
            sent = send_one(store, row, senders[name], settings, now, tz, site, sleep)
            report.results.append(sent)
            if sent.outcome.state in ("retry", "unknown") and i + 1 < len(todo):
                # the channel is down or misbehaving: the rest wait for the next run
                report.closed.append(f"{name}: {len(todo) - i - 1} more message(s) wait for the next run")
                break
    return report


def _digest(store: Store, channel: str, now: datetime, report: DeliveryReport, batch_over: int) -> None:
    """What quiet hours held goes out as one digest; so do more than `batch_over` messages waiting
    for one channel at once (a bad deploy or a Google update: one message, not thirty)."""
    with store.begin() as conn:
        held = conn.execute(sa.select(D.id).where(D.channel == channel, D.state == "held")).scalars().all()
        kind, members = "digest", list(held)
        if not held:
            waiting = conn.execute(sa.select(D.id).where(
                D.channel == channel, D.state == "pending", D.kind == "event")).scalars().all()
            if len(waiting) <= batch_over:
                return
            kind, members = "batch", list(waiting)
        digest_id = conn.execute(alert_deliveries.insert().values(
            key=uuid.uuid4().hex, channel=channel, kind=kind, event_id=None, digest_id=None,
            state="pending", created_at=now, attempts=0, error="")).inserted_primary_key[0]
        conn.execute(alert_deliveries.update().where(D.id.in_(members), D.state.in_(("held", "pending")))
                     .values(state="digested", digest_id=digest_id))
    report.digests += 1
    if kind == "digest":  # anything else waiting may now fit under the batch limit, or not
        _digest(store, channel, now, report, batch_over)


def send_one(store: Store, row: sa.Row, sender: Sender, settings: AlertSettings, now: datetime,
             tz: ZoneInfo, site: str, sleep: Sleep) -> Sent:
    """Send one pending row, retrying in this run only what cannot have arrived."""
    with store.engine.connect() as conn:
        msg = load_message(conn, row, site, tz)
    subject = msg.headline()
    outcome = Outcome("retry", "not attempted")
    for attempt in range(settings.retries + 1):
        if attempt:
            wait = settings.backoff * 2 ** (attempt - 1)
            sleep(max(wait, outcome.retry_after or 0.0))
        with store.begin() as conn:  # committed before a byte goes out
            taken = conn.execute(alert_deliveries.update().where(
                D.id == row.id, D.state == "pending").values(
                state="sending", attempts=D.attempts + 1, last_attempt=now)).rowcount
        if not taken:
            return Sent(row.channel, row.key, subject, Outcome("failed", "taken by another run"))
        try:
            outcome = sender.send(msg)
        except Exception as exc:  # a bug after the row was marked: we cannot say it wasn't sent
            outcome = Outcome("unknown", clean(f"{type(exc).__name__}: {exc}", 200))
        again = outcome.state == "retry" and outcome.soon and attempt < settings.retries and \
            (outcome.retry_after or 0.0) <= MAX_WAIT
        state = {"sent": "sent", "failed": "failed", "unknown": "unknown"}.get(outcome.state, "pending")
        if state == "pending" and row.kind == "test" and not again:
            state = "failed"  # a test is now or never
        with store.begin() as conn:
            conn.execute(alert_deliveries.update().where(D.id == row.id).values(
                state=state, error="" if state == "sent" else clean(outcome.detail, 500),
                sent_at=now if state == "sent" else None))
        if not again:
            break
    return Sent(row.channel, row.key, subject, outcome)
