"""What a condition hands the incident engine (findings) and what it may look at (the context)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from ..api import Project
    from ..automation.schedule import Schedule
    from ..settings import AlertSettings

Clock = Callable[[], datetime]
Sleep = Callable[[float], None]
MAX_DETAIL_LINES = 20
MAX_LINE = 300


class Unavailable(Exception):
    """The condition cannot be checked in this project (not configured, or the capability is
    missing): it is reported as not available and its incidents close."""


CHANNEL_SECRETS: set[str] = set()  # webhook URLs and signing keys of the configured channels


def remember_channel_secrets(settings: AlertSettings, env: dict[str, str] | None = None) -> None:
    """The channels' webhook URLs (from url_env, whatever the variable is called: a Slack or Teams
    URL is a credential) and signing keys, so `clean` redacts them wherever they turn up."""
    import os
    environ = os.environ if env is None else env
    for ch in settings.channels.values():
        for name in (ch.url_env, ch.secret_env if ch.type == "webhook" else None):
            value = environ.get(name or "", "").strip()
            if len(value) >= 8:
                CHANNEL_SECRETS.add(value)


def clean(text: object, limit: int = MAX_LINE) -> str:
    """Outside text made safe to store and show: credentials (and the channels' webhook URLs and
    keys) redacted, one line without escape sequences, control or bidi characters, bounded."""
    from ..hostile import plain
    from ..redact import redact
    return plain(redact(str(text), CHANNEL_SECRETS), limit)


def utc_naive(moment: datetime) -> datetime:
    """The store keeps naive UTC times."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass
class Finding:
    """Something wrong now. `key` is unique within its condition and stable across runs (it makes
    the incident key), `data` is the condition's own memory for the incident (JSON)."""

    key: str
    title: str
    detail: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    severity: str = "warning"  # critical, warning

    def tidy(self) -> Finding:
        return Finding(self.key, clean(self.title), [clean(x) for x in self.detail[:MAX_DETAIL_LINES]],
                       self.data, self.severity)


def incident_key(condition: str, key: str) -> str:
    full = f"{condition}:{key}"
    if len(full) <= 200:
        return full
    return full[:180] + "~" + hashlib.sha256(full.encode()).hexdigest()[:16]


@dataclass
class CheckResult:
    """One condition's outcome this run: ok (its findings are the truth), off, unavailable (its
    incidents close), or error (could not tell: its incidents stay as they are)."""

    condition: str
    status: str  # ok, off, unavailable, error
    findings: list[Finding] = field(default_factory=list)
    message: str = ""


@dataclass
class WatchContext:
    """What a condition may look at. `live` holds the unresolved incidents' data by key."""

    project: Project
    settings: AlertSettings
    schedule: Schedule
    now: datetime  # aware, UTC
    live: dict[str, dict[str, Any]] = field(default_factory=dict)
    sleep: Sleep = lambda _s: None
    gbp_client: Any = None  # a seo.listing GbpClient; built on first use when None
    cache: dict[str, Any] = field(default_factory=dict)  # shared between conditions in one run
    memos: dict[str, str] = field(default_factory=dict)  # what conditions remembered last run
    new_memos: dict[str, str] = field(default_factory=dict)  # kept if this run's changes are saved
    shown: dict[str, Finding] = field(default_factory=dict)  # unresolved incidents as findings

    @property
    def tz(self) -> ZoneInfo:
        return self.schedule.tz

    @property
    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    @property
    def store_now(self) -> datetime:
        return utc_naive(self.now)
