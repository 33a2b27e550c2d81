"""One delivery as people read it: an event (opened, reminder, resolved), a digest of what was
held during quiet hours, or a test; rendered as plain text, an email, a Slack message, a Teams
card or the generic JSON body.

Everything in an item came from outside at some point (Google's values, server errors, page
paths): it was cleaned when stored (one line, no control characters, bounded) and is escaped for
each destination here: HTML-escaped in email, `&<>` escaped and sent as plain_text in Slack (no
mentions, no links), TextRuns in Teams (never Markdown, `{{` split so no DATE()/TIME() function
runs), JSON-encoded everywhere.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..tables import alert_deliveries, alert_events, alert_incidents
from .incidents import _loads
from .model import aware, clean

D, E, I = alert_deliveries.c, alert_events.c, alert_incidents.c  # noqa: E741
VERB = {"opened": "Alert", "reminder": "Still open", "resolved": "Resolved", "test": "Test"}
MAX_ITEMS = 50


@dataclass
class Item:
    kind: str  # opened, reminder, resolved, test
    at: datetime  # naive UTC
    key: str
    condition: str
    severity: str
    title: str
    detail: list[str]
    opened_at: datetime | None = None
    acked_by: str = ""


@dataclass
class Message:
    key: str  # the delivery's idempotency key
    kind: str  # event, digest, test
    channel: str
    site: str  # the business name
    tz: ZoneInfo
    created_at: datetime  # naive UTC
    items: list[Item] = field(default_factory=list)
    thread: str = ""  # the key of the message that opened this incident on this channel
    more: int = 0  # digest items left out

    # -- words ---------------------------------------------------------------------------------
    def when(self, moment: datetime | None) -> str:
        if moment is None:
            return ""
        return aware(moment).astimezone(self.tz).strftime("%a %d %b %H:%M %Z")

    def headline(self) -> str:
        if self.kind in ("digest", "batch"):
            n = len(self.items) + self.more
            return f"{n} alert update{'s' * (n != 1)}" + (" during quiet hours" if self.kind == "digest"
                                                          else "")
        item = self.items[0]
        if item.kind == "test":
            return f"Test message from seo for {self.site}"
        return f"{VERB[item.kind]}: {item.title}"

    def subject(self, prefix: str) -> str:
        return clean(f"{prefix} {self.headline()}".strip(), 180)

    def facts(self, item: Item) -> str:
        """How long it has been open, and its key (not for a test)."""
        if item.kind == "test":
            return ""
        facts = []
        if item.kind == "resolved" and item.opened_at is not None:
            facts.append(f"open {_duration(item.at - item.opened_at)}")
        elif item.opened_at is not None:
            facts.append(f"open since {self.when(item.opened_at)}")
        return "; ".join([*facts, f"key {item.key}"])

    def ack_hint(self, item: Item) -> str:
        if item.kind in ("opened", "reminder") and not item.acked_by:
            return f"seo alerts ack {item.key}"
        return ""

    def item_lines(self, item: Item) -> list[str]:
        out = [f"  {line}" for line in item.detail]
        if self.facts(item):
            out.append(f"  {self.facts(item)}")
        if self.ack_hint(item):
            out.append(f"  stop the reminders: {self.ack_hint(item)}")
        return out

    def text(self) -> str:
        lines = [self.headline(), ""]
        if self.kind in ("digest", "batch"):
            for item in self.items:
                lines.append(f"{VERB[item.kind].upper()} {self.when(item.at)}: {item.title}")
                lines += self.item_lines(item)
                lines.append("")
            if self.more:
                lines += [f"... and {self.more} more (seo alerts list)", ""]
        else:
            item = self.items[0]
            lines += [ln.removeprefix("  ") for ln in self.item_lines(item)] + [""]
        lines.append(f"{self.site} · seo watch · {self.when(self.created_at)}")
        return "\n".join(lines) + "\n"

    # -- destinations --------------------------------------------------------------------------
    def email(self, sender: Any, recipients: list[Any], prefix: str) -> EmailMessage:
        domain = sender.domain or "localhost"
        msg = EmailMessage(policy=policy.SMTP)
        msg["Subject"] = self.subject(prefix)
        msg["From"] = sender
        msg["To"] = recipients
        msg["Date"] = format_datetime(aware(self.created_at), usegmt=True)
        msg["Message-ID"] = f"<{self.key}@{domain}>"
        if self.thread:
            msg["In-Reply-To"] = f"<{self.thread}@{domain}>"
            msg["References"] = f"<{self.thread}@{domain}>"
        msg["X-SEO-Alert"] = self.kind
        msg.set_content(self.text(), subtype="plain", charset="utf-8")
        msg.add_alternative(self.html(), subtype="html", charset="utf-8")
        return msg

    def html(self) -> str:
        """Inline styles only (mail clients drop style sheets), no images, no links."""
        e = html.escape
        parts = ['<!doctype html><html lang="en"><head><meta charset="utf-8">'
                 '<meta name="viewport" content="width=device-width, initial-scale=1">'
                 f"<title>{e(self.headline())}</title></head>"
                 '<body style="font-family:Arial,Helvetica,sans-serif;color:#1a1a1a;margin:0;'
                 'padding:16px;line-height:1.4"><div style="max-width:640px">']
        if self.kind in ("digest", "batch"):
            parts.append(f'<h1 style="font-size:20px;margin:0 0 12px">{e(self.headline())}</h1>')
        for item in self.items:
            color = "#2e7d32" if item.kind in ("resolved", "test") else "#b00020" \
                if item.severity == "critical" else "#8a5a00"
            label = VERB[item.kind].upper() + (f" · {item.severity}" if item.kind in ("opened", "reminder")
                                               else "")
            when = f" · {self.when(item.at)}" if self.kind in ("digest", "batch") else ""
            title = item.title if item.kind != "test" else self.headline()
            parts.append(f'<div style="border-left:4px solid {color};padding:2px 0 2px 12px;'
                         'margin:0 0 16px">'
                         f'<p style="margin:0;font-size:12px;font-weight:bold;letter-spacing:.04em;'
                         f'color:{color}">{e(label)}{e(when)}</p>'
                         f'<h2 style="font-size:18px;margin:4px 0 8px;overflow-wrap:anywhere">'
                         f"{e(title)}</h2>")
            if item.detail:
                parts.append('<ul style="margin:0 0 8px;padding-left:20px">')
                parts += [f'<li style="margin:2px 0;overflow-wrap:anywhere">{e(line)}</li>'
                          for line in item.detail]
                parts.append("</ul>")
            if self.facts(item):
                parts.append(f'<p style="margin:0;color:#555;font-size:13px;overflow-wrap:anywhere">'
                             f"{e(self.facts(item))}</p>")
            if self.ack_hint(item):
                parts.append('<p style="margin:4px 0 0;color:#555;font-size:13px">Stop the reminders: '
                             '<code style="background:#f2f2f2;padding:1px 4px;overflow-wrap:anywhere">'
                             f"{e(self.ack_hint(item))}</code></p>")
            parts.append("</div>")
        if self.more:
            parts.append(f"<p>... and {self.more} more (<code>seo alerts list</code>)</p>")
        parts.append(f'<p style="color:#555;font-size:12px;margin:16px 0 0">{e(self.site)} · seo watch · '
                     f"{e(self.when(self.created_at))}</p></div></body></html>")
        return "".join(parts)

    def slack(self) -> dict[str, Any]:
        """Block Kit: the header without angle brackets, the body as rich_text text elements
        (literal: no mrkdwn, no mentions, no links); the notification `text` escaped."""
        def literal(lines: list[str], italic: bool = False) -> dict[str, Any]:
            element: dict[str, Any] = {"type": "text", "text": "\n".join(lines)[:2900] or "-"}
            if italic:
                element["style"] = {"italic": True}
            return {"type": "rich_text", "elements": [{"type": "rich_text_section",
                                                        "elements": [element]}]}

        header = clean(self.headline(), 150).replace("<", "‹").replace(">", "›")
        blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text",
                                                                    "text": header, "emoji": False}}]
        for item in self.items:
            lines = [x.strip() for x in self.item_lines(item)]
            if self.kind in ("digest", "batch"):
                lines = [f"{VERB[item.kind]} {self.when(item.at)}: {item.title}", *lines]
            blocks.append(literal(lines))
        if self.more:
            blocks.append(literal([f"... and {self.more} more (seo alerts list)"], italic=True))
        blocks.append(literal([f"{self.site} · seo watch · {self.when(self.created_at)}"], italic=True))
        # mrkdwn off: the notification text shows *, _ and ~ from outside as they are
        return {"text": slack_escape(self.headline()), "mrkdwn": False, "blocks": blocks}

    def teams(self) -> dict[str, Any]:
        def runs(text: str, **style: Any) -> dict[str, Any]:
            return {"type": "RichTextBlock", "inlines": [{"type": "TextRun", "text": teams_literal(text),
                                                          **style}]}

        body: list[dict[str, Any]] = [runs(self.headline(), weight="Bolder", size="Medium")]
        for item in self.items:
            if self.kind in ("digest", "batch"):
                body.append(runs(f"{VERB[item.kind]} {self.when(item.at)}: {item.title}",
                                 weight="Bolder"))
            body += [runs(line.strip()) for line in self.item_lines(item)]
        if self.more:
            body.append(runs(f"... and {self.more} more (seo alerts list)"))
        body.append(runs(f"{self.site} · seo watch · {self.when(self.created_at)}", isSubtle=True,
                         size="Small"))
        card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                "version": "1.4", "body": body}
        return {"type": "message", "summary": teams_literal(clean(self.headline(), 150)), "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None,
             "content": card}]}

    def generic(self) -> dict[str, Any]:
        return {"id": self.key, "type": self.kind, "site": self.site,
                "created_at": _iso(self.created_at), "subject": self.headline(),
                "items": [{"event": i.kind, "at": _iso(i.at), "key": i.key, "condition": i.condition,
                           "severity": i.severity, "title": i.title, "detail": i.detail,
                           "opened_at": _iso(i.opened_at), "acknowledged_by": i.acked_by or None}
                          for i in self.items],
                "more": self.more, "thread": self.thread or None}


def slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def teams_literal(text: str) -> str:
    """TextRuns take no Markdown; `{{DATE(...)}}` / `{{TIME(...)}}` are still read as functions in
    Adaptive Card text, so a word joiner splits every `{{` from outside."""
    return text.replace("{{", "{\u2060{")


def _iso(moment: datetime | None) -> str | None:
    return aware(moment).isoformat().replace("+00:00", "Z") if moment else None


def _duration(delta: Any) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.1f} days"


# -- loading -------------------------------------------------------------------------------------

def _item(row: Any) -> Item:
    return Item(kind=row.kind, at=row.at, key=row.key or "", condition=row.condition or "",
                severity=row.severity or "warning", title=row.title,
                detail=_loads(row.detail, []), opened_at=row.opened_at, acked_by=row.acked_by or "")


def _item_query() -> sa.Select[Any]:
    return (sa.select(E.id, E.kind, E.at, E.title, E.detail, I.key, I.condition, I.severity,
                      I.opened_at, I.acked_by)
            .select_from(alert_events.outerjoin(alert_incidents, I.id == E.incident_id)))


def load_message(conn: Connection, delivery: Any, site: str, tz: ZoneInfo) -> Message:
    """The message a delivery row stands for, read from the events (and the digest's members)."""
    msg = Message(key=delivery.key, kind=delivery.kind, channel=delivery.channel, site=site, tz=tz,
                  created_at=delivery.created_at)
    if delivery.kind in ("digest", "batch"):
        member_events = sa.select(D.event_id).where(D.digest_id == delivery.id)
        rows = conn.execute(_item_query().where(E.id.in_(member_events)).order_by(E.at, E.id)).all()
        msg.items = [_item(r) for r in rows[:MAX_ITEMS]]
        msg.more = max(0, len(rows) - MAX_ITEMS)
        return msg
    row = conn.execute(_item_query().where(E.id == delivery.event_id)).first()
    if row is None:
        raise LookupError(f"delivery {delivery.key}: its event is gone")
    msg.items = [_item(row)]
    if row.kind in ("reminder", "resolved") and row.key:
        opened = conn.execute(
            sa.select(D.key).select_from(alert_deliveries.join(alert_events, E.id == D.event_id))
            .where(D.channel == delivery.channel, E.kind == "opened",
                   E.incident_id == sa.select(alert_events.c.incident_id)
                   .where(alert_events.c.id == delivery.event_id).scalar_subquery())).first()
        msg.thread = opened.key if opened else ""
    return msg


def dumps(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
