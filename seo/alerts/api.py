"""The alerts library API: what `seo alerts ...` and the `watch` job call."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..api import Project
from ..automation.schedule import load_schedule
from ..errors import CredentialsRejected, ExternalError, NotConfigured, UserError
from ..settings import AlertSettings, EmailSettings
from ..tables import alert_deliveries
from .channels import EmailSender, Sender, WebhookSender
from .conditions import registry
from .deliver import DeliveryReport, Sent, deliver, send_one
from .incidents import (
    Change,
    Incident,
    acknowledge,
    add_event,
    as_finding,
    live_incidents,
    read_memos,
    reconcile,
)
from .model import (
    CheckResult,
    Clock,
    Finding,
    Sleep,
    Unavailable,
    WatchContext,
    clean,
    remember_channel_secrets,
    utc_naive,
)

log = logging.getLogger("seo.alerts")
FILE = "config/site.yaml"


def settings_of(project: Project) -> AlertSettings:
    """The alerts section, checked against the rest of the config (email channels need SMTP)."""
    settings = project.site.config.integrations.alerts
    if settings is None:
        raise NotConfigured("integrations.alerts is not set in config/site.yaml (see README, Alerts)")
    email = project.site.config.integrations.email
    for name, ch in settings.channels.items():
        if ch.type != "email":
            continue
        key = f"integrations.alerts.channels.{name}"
        if email is None or not email.host:
            raise UserError("an email channel needs an SMTP server (integrations.email.host): alerts "
                            "are not left in an outbox to be read too late", file=FILE, key=key)
        if not (ch.to or email.to):
            raise UserError("no recipients: set `to` here or integrations.email.to", file=FILE,
                            key=f"{key}.to")
    remember_channel_secrets(settings)
    return settings


def build_senders(project: Project, settings: AlertSettings) -> dict[str, Sender]:
    cfg = project.site.config
    out: dict[str, Sender] = {}
    for name, ch in settings.channels.items():
        if ch.type == "email":
            email = cfg.integrations.email or EmailSettings()
            sender = email.from_ or cfg.business.email or "seo-alerts@localhost"
            out[name] = EmailSender(name, ch, email, sender, cfg.business.name, settings.subject_prefix)
        else:
            out[name] = WebhookSender(name, ch)
    return out


@dataclass
class WatchResult:
    checks: list[CheckResult]
    changes: list[Change]
    delivery: DeliveryReport
    open: int = 0
    warnings: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, Any]:
        kinds = [c.kind for c in self.changes]
        d = self.delivery
        return {"opened": kinds.count("opened"), "reminders": kinds.count("reminder"),
                "resolved": kinds.count("resolved"), "open": self.open,
                "sent": d.count("sent"), "held": sum(d.held.values()), "waiting": d.count("retry"),
                "failed": d.count("failed"), "unknown": d.count("unknown"),
                "not_checked": sum(1 for c in self.checks if c.status == "error")}

    def lines(self) -> list[str]:
        out = [f"{c.kind} {c.key}: {c.title}" for c in self.changes]
        for c in self.checks:
            if c.status == "error":
                out.append(f"could not check {c.condition}: {c.message}")
            elif c.status == "unavailable":
                out.append(f"{c.condition}: not available: {c.message}")
        return out + self.delivery.lines() + self.warnings

    @property
    def error(self) -> str:
        bad = [r for r in self.delivery.results if r.outcome.state in ("failed", "unknown")]
        return "; ".join(f"{r.channel}: {r.outcome.state}: {r.outcome.detail}" for r in bad)


def run_checks(ctx: WatchContext) -> list[CheckResult]:
    results = []
    for name, check in registry().items():
        cfg = getattr(ctx.settings.conditions, name)
        if not cfg.enabled:
            results.append(CheckResult(name, "off"))
            continue
        try:
            results.append(CheckResult(name, "ok", check(ctx, cfg)))
        except CredentialsRejected as exc:  # configured, but refused: could not check, not gone
            results.append(CheckResult(name, "error", message=clean(exc)))
        except (Unavailable, NotConfigured) as exc:
            results.append(CheckResult(name, "unavailable", message=clean(exc)))
        except (ExternalError, UserError) as exc:
            results.append(CheckResult(name, "error", message=clean(exc)))
        except Exception as exc:  # a bug in one condition must not stop the others
            log.exception("alert condition %s failed", name)
            results.append(CheckResult(name, "error", message=clean(f"{type(exc).__name__}: {exc}")))
    failing = [Finding(r.condition, f"Cannot check {r.condition}: {r.message}",
                       ["its incidents stay as they were until it can be checked again"])
               for r in results if r.status == "error"]
    results.append(CheckResult("check_failed", "ok" if ctx.settings.conditions.check_failed.enabled
                               else "off", failing))
    return results


def watch(project: Project, *, now: datetime | None = None, clock: Clock | None = None,
          sleep: Sleep = time.sleep, gbp_client: Any = None,
          senders: dict[str, Sender] | None = None) -> WatchResult:
    """One watch run: check every condition, update the incidents, send what is due."""
    settings = settings_of(project)
    moment = now or (clock or (lambda: datetime.now(UTC)))()
    store = project.store
    live = live_incidents(store)
    ctx = WatchContext(project, settings, load_schedule(project.site.root), moment,
                       {i.key: i.data for i in live}, sleep, gbp_client, memos=read_memos(store),
                       shown={i.key: as_finding(i) for i in live})
    checks = run_checks(ctx)
    changes = reconcile(store, checks, settings, ctx.store_now, ctx.new_memos)
    delivery = deliver(store, settings, senders or build_senders(project, settings), ctx.store_now,
                       ctx.tz, project.site.config.business.name, sleep)
    result = WatchResult(checks, changes, delivery,
                         open=sum(1 for i in live_incidents(store) if i.status == "open"))
    for c in changes:
        log.info("%s %s: %s", c.kind, c.key, c.title)
    return result


def list_incidents(project: Project) -> list[Incident]:
    return live_incidents(project.store)


@dataclass
class Attention:
    """Messages people should know about: fate unknown, failed, held, still waiting."""

    unknown: list[Any]
    failed: list[Any]
    held: int
    waiting: int


def attention(project: Project, days: int = 7, now: datetime | None = None) -> Attention:
    d = alert_deliveries.c
    since = utc_naive(now or datetime.now(UTC)) - timedelta(days=days)
    with project.store.engine.connect() as conn:
        rows = conn.execute(sa.select(d.channel, d.state, d.error, d.last_attempt, d.created_at)
                            .where(d.state.in_(("unknown", "failed")), d.created_at >= since,
                                   d.kind != "test")  # a test's outcome was shown when it ran
                            .order_by(d.id)).all()
        held = conn.execute(sa.select(sa.func.count()).where(d.state == "held")).scalar_one()
        waiting = conn.execute(sa.select(sa.func.count()).where(d.state == "pending")).scalar_one()
    return Attention([r for r in rows if r.state == "unknown"], [r for r in rows if r.state == "failed"],
                     held, waiting)


def ack(project: Project, key: str, by: str, now: datetime | None = None) -> tuple[Incident, bool]:
    return acknowledge(project.store, key, by, utc_naive(now or datetime.now(UTC)))


def send_test(project: Project, channel: str, *, now: datetime | None = None, sleep: Sleep = time.sleep,
              senders: dict[str, Sender] | None = None) -> Sent:
    """Send a test message on one channel now (quiet hours do not apply)."""
    settings = settings_of(project)
    if channel not in settings.channels:
        known = ", ".join(sorted(settings.channels)) or "none configured"
        raise UserError(f"no alert channel {channel!r} (channels: {known})", key="CHANNEL")
    moment = utc_naive(now or datetime.now(UTC))
    schedule = load_schedule(project.site.root)
    kind = settings.channels[channel].type
    with project.store.begin() as conn:
        event_id = add_event(conn, settings, incident_id=None, condition="", kind="test",
                             title=f"Test message for the {channel} channel ({kind})",
                             detail=[f"Sent by `seo alerts test {channel}`. If you read this, alerts "
                                     f"from {project.site.config.business.name} reach this channel."],
                             now=moment, channels=[channel])
        row = conn.execute(sa.select(alert_deliveries).where(
            alert_deliveries.c.event_id == event_id)).one()
    sender = (senders or build_senders(project, settings))[channel]
    return send_one(project.store, row, sender, settings, moment, schedule.tz,
                    project.site.config.business.name, sleep)
