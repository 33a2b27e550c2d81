"""Outside services: keywords, Search Console, the SERP provider, the Business Profile, audit, email."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    model_validator,
)

from ..values import (
    Email,
    Host,
)
from .base import (
    NonEmpty,
    Slug,
    Strict,
    Url,
)


class ExtraKeyword(Strict):
    """An explicit keyword: checked in each listed town (all towns when none), aimed at `target`."""

    keyword: NonEmpty
    towns: list[Slug] = []
    condition: Slug | None = None
    target: str = Field(default="", pattern=r"^(/.*)?$")  # a URL path; default: town or town x condition page


class KeywordSettings(Strict):
    patterns: list[str] = ["{condition} acupuncture {town}", "acupuncture for {condition} {town} {state}"]
    town_patterns: list[str] = ["acupuncture {town} {state}", "acupuncturist {town}"]
    extra: list[ExtraKeyword] = []
    competitors: list[str] = []  # competitor domains or business names, marked in live results


def check_sc_property(value: str) -> str:
    if value.startswith("sc-domain:") and len(value) > len("sc-domain:") and "/" not in value:
        return value
    if re.match(r"^https?://[^\s/]+/(\S*/)?$", value):
        return value
    raise ValueError(f"{value!r} is neither a domain property (sc-domain:example.com) nor a "
                     "URL-prefix property ending in / (https://www.example.com/)")


class InspectionSettings(Strict):
    """URL Inspection (`seo inspect`): Google's own quota is 2,000 a day and 600 a minute per property."""

    daily_quota: int = Field(default=2000, ge=1, le=2000)
    per_minute: int = Field(default=600, ge=1, le=600)
    recheck_days: int = Field(default=7, ge=1, le=365)  # inspect a page not yet indexed again after
    not_indexed_days: int = Field(default=14, ge=1, le=365)  # report pages live this long, not indexed
    language_code: str = Field(default="en-US", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")


class SearchConsoleSettings(Strict):
    """Search Console (rankings). Credentials: `seo auth google`, or a service-account key."""

    property: Annotated[str, AfterValidator(check_sc_property)]
    api_endpoint: Url | None = None  # default Google's; set for a proxy or a local test server
    token_uri: Url | None = None  # default https://oauth2.googleapis.com/token
    service_account_file: str = ""  # path to a key file; or $SEO_GOOGLE_SERVICE_ACCOUNT
    days: int = Field(default=28, ge=1, le=480)  # how far back each check fetches
    provisional_days: int = Field(default=3, ge=0, le=10)  # fallback when Google gives no metadata
    row_limit: int = Field(default=25000, ge=1, le=25000)
    retries: int = Field(default=3, ge=0, le=10)  # 429/5xx retries (googleapiclient backoff)
    timeout: float = Field(default=30, gt=0, le=600)  # seconds per request (and token refresh)
    inspection: InspectionSettings = InspectionSettings()  # URL Inspection (publish: index status)


class SerpSettings(Strict):
    """Live SERP provider (rankings). Secrets come from environment variables, never from config."""

    provider: Literal["dataforseo", "serpapi"]
    base_url: Url | None = None  # default the provider's public API
    monthly_budget: int = Field(default=2000, ge=0)  # requests per calendar month, never exceeded
    concurrency: int = Field(default=4, ge=1, le=64)
    retries: int = Field(default=2, ge=0, le=10)
    backoff: float = Field(default=2.0, ge=0, le=120)  # seconds; doubled on each retry
    timeout: float = Field(default=60.0, gt=0, le=600)  # seconds per request
    device: Literal["desktop", "mobile"] = "desktop"
    language_code: str = Field(default="en", pattern=r"^[a-z]{2}$")
    depth: int = Field(default=100, ge=10, le=700)
    radius: float = Field(default=5000, ge=199.9, le=199999)  # organic location_coordinate radius
    zoom: int = Field(default=13, ge=3, le=21)  # maps location_coordinate zoom
    maps: bool = True  # also check the local pack / maps position
    run_timeout: float = Field(default=3600, gt=0)  # seconds for the whole crawl child process


LISTING_FIELDS = ("title", "categories", "phone", "website", "address", "hours", "special_hours",
                  "service_area", "description", "services", "open_info", "booking_link")


class GbpEndpoints(Strict):
    """Every Google endpoint the listing stage calls, so it can run behind a proxy or in tests."""

    business_information: Url = "https://mybusinessbusinessinformation.googleapis.com/"
    v4: Url = "https://mybusiness.googleapis.com/v4/"
    performance: Url = "https://businessprofileperformance.googleapis.com/"
    place_actions: Url = "https://mybusinessplaceactions.googleapis.com/"
    token_uri: Url | None = None  # default: the token file's own token_uri (Google's)


class GbpUtm(Strict):
    source: NonEmpty = "google"
    medium: NonEmpty = "organic"
    website_campaign: NonEmpty = "gbp-listing"
    post_campaign: NonEmpty = "gbp-post"
    booking_campaign: NonEmpty = "gbp-booking"


class GbpPosts(Strict):
    enabled: bool = True
    action: Literal["LEARN_MORE", "BOOK"] = "LEARN_MORE"
    kinds: list[Literal["home", "areas", "town", "condition", "town_condition"]] = [
        "condition", "town", "town_condition"]
    substantial_change: float = Field(default=0.2, gt=0, le=1)  # share of the page's words changed
    rotation: bool = True  # when nothing is new, post one page in turn
    rotation_days: int = Field(default=7, ge=1)
    rotation_kinds: list[Literal["home", "areas", "town", "condition", "town_condition"]] = [
        "condition", "town"]
    max_per_run: int = Field(default=5, ge=1, le=50)
    poll_attempts: int = Field(default=3, ge=0, le=20)
    # a create that got no answer (timeout, dropped connection): look for the post this long,
    # polling with backoff, before leaving it SENDING for the next run (seconds)
    lookup_wait: float = Field(default=60, ge=0, le=900)
    # a SENDING post Google still doesn't list is created again only this long after it was
    # sent (minutes): Google can finish a create long after the client gave up
    resend_after: int = Field(default=60, ge=1, le=10080)


# -- Business Profile insights and reviews (`seo insights`, `seo reviews`) -------------------------

# The first nine are fetched by default. Conversations: Google deprecated BUSINESS_CONVERSATIONS
# for MESSAGING_CLICKS (the chat/message button), so the default asks for the latter.
DAILY_METRICS = ("CALL_CLICKS", "BUSINESS_DIRECTION_REQUESTS", "WEBSITE_CLICKS", "BUSINESS_BOOKINGS",
                 "MESSAGING_CLICKS", "BUSINESS_IMPRESSIONS_MOBILE_MAPS",
                 "BUSINESS_IMPRESSIONS_MOBILE_SEARCH", "BUSINESS_IMPRESSIONS_DESKTOP_MAPS",
                 "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH", "BUSINESS_CONVERSATIONS",
                 "BUSINESS_FOOD_ORDERS", "BUSINESS_FOOD_MENU_CLICKS")


class GbpInsights(Strict):
    """Business Profile Performance API: calls, directions, clicks per day; search keywords per month."""

    enabled: bool = True
    metrics: list[Literal[DAILY_METRICS]] = list(DAILY_METRICS[:9])  # type: ignore[valid-type]
    backfill_days: int = Field(default=120, ge=7, le=540)  # how far back the first fetch reaches
    settle_days: int = Field(default=7, ge=1, le=30)  # recent days fetched again until final
    keyword_months: int = Field(default=3, ge=1, le=18)  # complete months of search keywords kept fresh


def check_reply_templates(value: dict[int, list[str]]) -> dict[int, list[str]]:
    for stars, texts in value.items():
        if stars not in (1, 2, 3, 4, 5):
            raise ValueError(f"star rating {stars} is not 1-5")
        if not texts or any(not t.strip() for t in texts):
            raise ValueError(f"{stars}: give at least one non-empty reply template")
    return value


def _as_list(value: object) -> object:
    if isinstance(value, dict):
        return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
    return value


class GbpReviews(Strict):
    """Reviews and replies (`seo reviews`). Replies are sent only from the approved drafts file,
    except 5-star reviews without text when `auto_reply_five_star` is on; every reply passes the
    privacy lint first."""

    enabled: bool = True
    drafts_file: str = "build/review-replies.yaml"
    # Jinja (sandboxed) plain-text templates by star rating; a list gives variants, picked per review.
    templates: Annotated[dict[int, list[str]], AfterValidator(check_reply_templates)] = {}
    auto_reply_five_star: bool = False  # 5-star reviews without text, with the 5-star template
    privacy_terms: list[NonEmpty] = []  # more words a reply may never contain (conditions, names)
    signature: str = ""  # appended to every reply, e.g. "The team at Acupuncture Associates"
    max_pages: int = Field(default=200, ge=1, le=2000)  # 50 reviews a page, per location

    @model_validator(mode="before")
    @classmethod
    def _templates_as_lists(cls, data: object) -> object:
        if isinstance(data, dict) and "templates" in data:
            data = {**data, "templates": _as_list(data["templates"])}
        return data


class GbpSettings(Strict):
    """Google Business Profile sync (`seo listing ...`)."""

    account: str = Field(default="", pattern=r"^(accounts/\d+)?$")  # needed for posts (v4)
    endpoints: GbpEndpoints = GbpEndpoints()
    drift: dict[Literal[LISTING_FIELDS], Literal["report", "restore", "accept"]] = {}  # type: ignore[valid-type]
    manage: list[Literal[LISTING_FIELDS]] = list(LISTING_FIELDS)  # type: ignore[valid-type]
    category_ids: dict[str, str] = {}  # display name -> "gcid:..." when the derived id is wrong
    open_status: Literal["OPEN", "CLOSED_TEMPORARILY", "CLOSED_PERMANENTLY"] = "OPEN"
    description_template: str = "gbp_description.txt.j2"
    utm: GbpUtm = GbpUtm()
    posts: GbpPosts = GbpPosts()
    booking_type: Literal["APPOINTMENT", "ONLINE_APPOINTMENT"] = "APPOINTMENT"  # booking_link
    insights: GbpInsights = GbpInsights()
    reviews: GbpReviews = GbpReviews()
    edits_per_minute: int = Field(default=10, ge=1, le=10)  # Google's per-profile limit is 10
    retries: int = Field(default=2, ge=0, le=5)  # 5xx and non-zero-quota 429 only
    timeout: float = Field(default=30, gt=0)


def check_header_text(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError("line breaks are not allowed (they would inject mail headers)")
    return value


HeaderText = Annotated[str, AfterValidator(check_header_text)]


def check_host(value: str) -> str:
    """A host name or IP address, optionally with :port (no scheme, no path); lower-cased."""
    if not re.match(r"^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
                    r"(?::\d{1,5})?$", value.strip().lower()):
        raise ValueError(f"{value!r} is not a host name (give e.g. partner.example.com, "
                         "without https:// or a path)")
    return value.strip().lower()


class AuditSettings(Strict):
    """Site audit (`seo audit`): the crawl's limits and manners, and the checks' thresholds."""

    url: Url | None = None  # the live site to audit; default business.url
    user_agent: HeaderText = ""  # default "seo-audit/<version> (+<business.url>)"
    max_pages: int = Field(default=20000, ge=1)
    max_depth: int = Field(default=20, ge=0)
    concurrency: int = Field(default=8, ge=1, le=64)  # live sites; local ones get 32
    autothrottle: bool = True  # live sites only
    timeout: float = Field(default=3600, gt=0)  # seconds for the whole crawl child process
    request_timeout: float = Field(default=30, gt=0, le=600)  # seconds per request
    ignore_paths: list[str] = []  # URL path prefixes never crawled (e.g. an external booking app)
    title_max: int = Field(default=60, ge=10)
    description_max: int = Field(default=155, ge=20)
    max_page_kb: int = Field(default=500, ge=1)  # HTML bigger than this is "oversized"
    # other hosts a rel=canonical may name (e.g. a syndication partner): not reported, not fetched
    canonical_hosts: list[Annotated[str, AfterValidator(check_host)]] = []




class EmailSettings(Strict):
    """Weekly report delivery (`seo report send`). No host: the message waits in the outbox folder.

    The password is never in config: `password_env` names the environment variable holding it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: Host = ""  # SMTP server; empty: write .eml files to the outbox only
    port: int | None = Field(default=None, ge=1, le=65535)  # default 587 starttls, 465 ssl, 25 none
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: HeaderText = ""
    password_env: str = Field(default="SEO_SMTP_PASSWORD", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    from_: Email | None = Field(default=None, alias="from")
    from_name: HeaderText = ""  # display name; default the business name
    to: list[Email] = []
    subject_prefix: HeaderText = "[SEO weekly]"
    timeout: float = Field(default=30.0, gt=0, le=600)  # seconds per SMTP operation
    retries: int = Field(default=3, ge=0, le=10)  # after the first attempt
    backoff: float = Field(default=5.0, ge=0, le=600)  # seconds; doubled on each retry
    ca_file: str = ""  # PEM bundle to trust (a private relay's CA); default the system's
    outbox: str = "build/outbox"

    @model_validator(mode="after")
    def _sendable(self) -> EmailSettings:
        if self.host and (self.from_ is None or not self.to):
            raise ValueError("with a host set, `from` and `to` are needed too")
        if self.security == "none" and self.username:
            raise ValueError("security: none would send the password in clear; use starttls or ssl")
        return self

    @property
    def smtp_port(self) -> int:
        return self.port or {"starttls": 587, "ssl": 465, "none": 25}[self.security]
