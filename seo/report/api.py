"""The report library API: what `seo report ...` and the scheduled weekly job call."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import EmailSettings
from . import mail
from .data import gather
from .render import Report, render, subject_for
from .week import parse_week

if TYPE_CHECKING:
    from ..api import Project


def email_settings(project: Project) -> EmailSettings:
    """The configured section, or the defaults (no host: messages wait in the outbox)."""
    return project.site.config.integrations.email or EmailSettings()


def outbox_path(project: Project) -> Path:
    return project.site.path(email_settings(project).outbox)


def build_report(project: Project, week: str | None = None, *, now: datetime | None = None) -> Report:
    """The week's report: an ISO week, or by default the seven days up to now (clinic time)."""
    chosen = parse_week(week, project.timezone, now)
    facts = gather(project, chosen)
    return render(project.site.root, facts, subject_for(facts, email_settings(project).subject_prefix))


def _sender(project: Project, settings: EmailSettings) -> str:
    return settings.from_ or project.site.config.business.email or "seo-report@localhost"


def send_report(project: Project, week: str | None = None, *, sleep: mail.Sleep = time.sleep,
                now: datetime | None = None) -> mail.Delivery:
    """Build the report, store it in the outbox, then send it (it stays there until accepted)."""
    settings = email_settings(project)
    report = build_report(project, week, now=now)
    msg = mail.compose(report, settings, _sender(project, settings), project.site.config.business.name)
    folder = outbox_path(project)
    with mail.outbox_lock(folder):  # written and sent under one lock: a re-run replaces it
        path = mail.write_outbox(folder, msg, report.week.label)
        delivery = mail.flush(folder, settings, sleep, only=[path], locked=True)
    others = [p for p in mail.waiting(folder) if p != path and p not in delivery.waiting]
    if others:
        delivery.warnings.append(f"{len(others)} older message(s) still wait in {folder}: "
                                 "`seo report send --outbox` sends them")
    return delivery


def flush_outbox(project: Project, *, sleep: mail.Sleep = time.sleep) -> mail.Delivery:
    """Send every message waiting in the outbox, oldest first."""
    return mail.flush(outbox_path(project), email_settings(project), sleep)
