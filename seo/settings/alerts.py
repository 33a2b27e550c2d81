"""Alerts between reports (`seo alerts`, the `watch` job)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    model_validator,
)

from ..values import (
    Email,
)
from .base import (
    Slug,
    Strict,
    Time,
    Url,
)
from .integrations import (
    LISTING_FIELDS,
    HeaderText,
)

# -- alerts between reports (`seo alerts`, the `watch` job) ----------------------------------------

ALERT_CONDITIONS = ("listing_drift", "site_down", "page_4xx", "ranking_drop", "new_review",
                    "job_failed", "job_silent", "outbox_waiting", "serp_budget", "check_failed")
EnvName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class QuietHours(Strict):
    """No messages from `start` to `end` (the schedule's timezone; may span midnight): what
    happens meanwhile goes out as one digest after `end`."""

    start: Time
    end: Time

    @model_validator(mode="after")
    def _span(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are the same time (no quiet hours)")
        return self


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def check_webhook_url(value: str) -> str:
    """https anywhere; plain http only to this machine (a local relay, a test receiver)."""
    from urllib.parse import urlsplit
    parts = urlsplit(value.strip())
    host = (parts.hostname or "").lower()
    if host and (parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS)) \
            and not any(c.isspace() for c in value.strip()):
        return value.strip()
    raise ValueError("not an https:// URL (plain http only to 127.0.0.1 or localhost)")


class AlertChannel(Strict):
    """Where alerts go. email: the report's SMTP settings (integrations.email), `to` overridable;
    slack / teams: an incoming-webhook URL, which is a secret, so it comes from the environment
    variable named in `url_env`; webhook: generic JSON signed with HMAC-SHA256 (secret from
    `secret_env`) in `signature_header`."""

    type: Literal["email", "slack", "teams", "webhook"]
    to: list[Email] = []  # email: default integrations.email.to
    url: Annotated[str, AfterValidator(check_webhook_url)] | None = None  # webhook only
    url_env: EnvName | None = None
    secret_env: EnvName = "SEO_ALERTS_WEBHOOK_SECRET"  # webhook: the HMAC key's variable
    signature_header: str = Field(default="X-SEO-Signature", pattern=r"^[A-Za-z0-9-]{1,64}$")
    quiet_hours: QuietHours | None = None
    conditions: list[Literal[ALERT_CONDITIONS]] = []  # type: ignore[valid-type]  # only these; default all
    timeout: float = Field(default=10.0, gt=0, le=120)  # seconds per request / SMTP operation

    @model_validator(mode="after")
    def _target(self) -> AlertChannel:
        if self.type == "email":
            if self.url or self.url_env:
                raise ValueError("an email channel takes `to`, not url or url_env")
        elif self.to:
            raise ValueError(f"`to` is for email channels; a {self.type} channel takes url_env")
        if self.type in ("slack", "teams"):
            if self.url:
                raise ValueError(f"a {self.type} webhook URL lets anyone post to the channel, so it "
                                 "stays out of config: put it in an environment variable and give "
                                 "that variable's name in url_env (not url)")
            if not self.url_env:
                raise ValueError(f"a {self.type} channel needs url_env (the environment variable "
                                 "holding the incoming-webhook URL)")
        if self.type == "webhook" and bool(self.url) == bool(self.url_env):
            raise ValueError("a webhook channel needs exactly one of url and url_env")
        return self


class AlertCondition(Strict):
    enabled: bool = True
    confirm_runs: int = Field(default=1, ge=1, le=48)  # consecutive watch runs before it opens


class DriftAlert(AlertCondition):
    fields: list[Literal[LISTING_FIELDS]] = ["phone", "website", "address", "hours",  # type: ignore[valid-type]
                                             "title"]


class RankAlert(AlertCondition):
    top: int = Field(default=10, ge=1, le=100)  # watch keywords ranked this high before the fall
    checks: int = Field(default=2, ge=1, le=10)  # consecutive checks beyond the noise band
    sources: list[str] = []  # e.g. [dataforseo]; default every source


class ReviewAlert(AlertCondition):
    max_stars: int = Field(default=2, ge=1, le=5)  # 5: every new review waits for an answer
    days: int = Field(default=7, ge=1, le=90)  # written or changed this recently opens an incident


class JobFailedAlert(AlertCondition):
    failures: int = Field(default=2, ge=1, le=20)  # failed runs in a row


class JobSilentAlert(AlertCondition):
    factor: float = Field(default=2.0, ge=1.1, le=10)  # no run for this many times its interval


class OutboxAlert(AlertCondition):
    hours: float = Field(default=24, gt=0, le=24 * 30)


class SerpBudgetAlert(AlertCondition):
    share: float = Field(default=0.9, gt=0, le=1)


class CheckFailedAlert(AlertCondition):
    confirm_runs: int = Field(default=3, ge=1, le=48)


class AlertConditions(Strict):
    listing_drift: DriftAlert = DriftAlert()
    site_down: AlertCondition = AlertCondition()
    page_4xx: AlertCondition = AlertCondition()
    ranking_drop: RankAlert = RankAlert()
    new_review: ReviewAlert = ReviewAlert()
    job_failed: JobFailedAlert = JobFailedAlert()
    job_silent: JobSilentAlert = JobSilentAlert()
    outbox_waiting: OutboxAlert = OutboxAlert()
    serp_budget: SerpBudgetAlert = SerpBudgetAlert()
    check_failed: CheckFailedAlert = CheckFailedAlert()  # a condition that could not be checked


class SiteChecks(Strict):
    """The watch job's HEAD/GET of the home page and the pages changed this week."""

    url: Url | None = None  # the live site; default integrations.audit.url, then business.url
    timeout: float = Field(default=10.0, gt=0, le=60)  # seconds per request
    max_pages: int = Field(default=25, ge=0, le=500)  # besides the home page
    concurrency: int = Field(default=4, ge=1, le=16)


class AlertSettings(Strict):
    """Alerts between reports: conditions checked by the `watch` job, incidents, channels."""

    channels: dict[Slug, AlertChannel] = {}
    conditions: AlertConditions = AlertConditions()
    reminder_hours: float = Field(default=24, ge=0.5, le=24 * 30)  # at most one reminder per this
    subject_prefix: HeaderText = "[SEO alert]"
    site_checks: SiteChecks = SiteChecks()
    retries: int = Field(default=2, ge=0, le=5)  # in one run, only when nothing can have arrived
    backoff: float = Field(default=2.0, ge=0, le=60)  # seconds, doubled on each retry
    give_up_hours: float = Field(default=24, gt=0, le=24 * 7)  # undelivered this long: failed
    batch_over: int = Field(default=3, ge=1, le=100)  # more messages at once: one message listing them
