"""`seo alerts list|test|ack`: a thin click layer over seo.alerts.api."""

from __future__ import annotations

import getpass
import sys
from datetime import datetime
from pathlib import Path

import click

from ..cli_options import root_option


def _when(moment: datetime | None, tz) -> str:  # type: ignore[no-untyped-def]
    from .model import aware
    return aware(moment).astimezone(tz).strftime("%a %d %b %H:%M %Z") if moment else "-"


@click.group()
def alerts() -> None:
    """Alerts between reports: open incidents, a test message, acknowledging one."""


@alerts.command("list")
@root_option
def alerts_list(root: Path) -> None:
    """Open incidents (oldest first), and messages whose delivery needs a look."""
    from ..api import Project
    from ..automation.schedule import load_schedule
    from .api import attention, list_incidents, settings_of
    from .model import clean
    project = Project.open(root)
    settings_of(project)
    tz = load_schedule(project.site.root).tz
    incidents = list_incidents(project)
    if not incidents:
        click.echo("no open incidents")
    for inc in incidents:
        if inc.status == "pending":
            state = f"seen {inc.seen_runs}x, opens after " \
                    f"{getattr(settings_of(project).conditions, inc.condition).confirm_runs} runs"
        else:
            state = f"open since {_when(inc.opened_at, tz)}, {inc.reminders} reminder(s)"
            if inc.acked_at:
                state += f", acknowledged by {clean(inc.acked_by) or '?'} {_when(inc.acked_at, tz)}"
        click.echo(f"{inc.status.upper():8} {inc.key}  [{inc.severity}] {state}")
        click.echo(f"         {clean(inc.title)}")
        for line in inc.detail[:6]:
            click.echo(f"           {clean(line)}")
    seen = attention(project)
    for row in seen.unknown:
        click.echo(f"UNKNOWN  {row.channel}: a message sent {_when(row.last_attempt, tz)} may not have "
                   f"arrived ({clean(row.error)}); it is not sent again")
    for row in seen.failed:
        click.echo(f"FAILED   {row.channel}: {_when(row.created_at, tz)}: {clean(row.error)}")
    if seen.held:
        click.echo(f"{seen.held} message(s) held for quiet hours (a digest follows)")
    if seen.waiting:
        click.echo(f"{seen.waiting} message(s) waiting to be sent (the next watch run retries)")


@alerts.command("test")
@click.argument("channel", metavar="CHANNEL")
@root_option
def alerts_test(channel: str, root: Path) -> None:
    """Send a test message on CHANNEL now (quiet hours do not apply); exit 1 if it did not arrive."""
    from ..api import Project
    from .api import send_test
    sent = send_test(Project.open(root), channel)
    state, detail = sent.outcome.state, sent.outcome.detail
    if state == "sent":
        click.echo(f"sent a test message to {channel} ({detail})")
        return
    if state == "unknown":
        detail = f"{detail}: the answer was lost; look in the channel (it is not sent again)"
    elif not detail.startswith("not sent"):
        detail = f"{'not sent' if state == 'retry' else 'refused'}: {detail}"
    click.echo(f"error: {channel}: {detail}", err=True)
    sys.exit(1)


@alerts.command("ack")
@click.argument("key", metavar="KEY")
@root_option
@click.option("--by", default=None, metavar="NAME", help="Who acknowledges (default: your user name).")
def alerts_ack(key: str, root: Path, by: str | None) -> None:
    """Acknowledge the open incident KEY (or the start of one key): no more reminders; its
    resolution is still announced."""
    from ..api import Project
    from ..automation.schedule import load_schedule
    from .api import ack, settings_of
    project = Project.open(root)
    settings_of(project)
    inc, now = ack(project, key, by or _user())
    tz = load_schedule(project.site.root).tz
    if now:
        click.echo(f"acknowledged {inc.key}: no more reminders; its resolution will still be announced")
    else:
        click.echo(f"{inc.key} was already acknowledged by {inc.acked_by or '?'} {_when(inc.acked_at, tz)}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
