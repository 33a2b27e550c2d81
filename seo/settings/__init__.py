"""The clinic's settings: one schema, defaults in one place, validated once at load.

`config/site.yaml` holds the business, its locations, site options and integrations;
`config/towns.yaml` the served towns; `config/schedule.yaml` (optional) the job schedule.
Every model forbids unknown keys so that a typo is an error, not a silently ignored setting.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, model_validator

from ..values import Name, State, Zip
from .alerts import (
    ALERT_CONDITIONS,
    LOOPBACK_HOSTS,
    AlertChannel,
    AlertCondition,
    AlertConditions,
    AlertSettings,
    CheckFailedAlert,
    DriftAlert,
    EnvName,
    JobFailedAlert,
    JobSilentAlert,
    OutboxAlert,
    QuietHours,
    RankAlert,
    ReviewAlert,
    SerpBudgetAlert,
    SiteChecks,
    check_webhook_url,
)
from .base import (
    DAY_NAMES,
    DAYS,
    IMAGE_TYPES,
    SLUG_RE,
    ContentFile,
    Image,
    NonEmpty,
    Slug,
    Strict,
    Time,
    Url,
    check_content_file,
    check_image_file,
    check_slug,
    check_time,
    check_url,
)
from .business import (
    Address,
    Business,
    Categories,
    Geo,
    Hours,
    License,
    Location,
    Organization,
    Practitioner,
    SpecialDay,
)
from .grid import (
    GridSettings,
    GridShape,
    GridTiles,
    GridTown,
)
from .integrations import (
    DAILY_METRICS,
    LISTING_FIELDS,
    AuditSettings,
    EmailSettings,
    ExtraKeyword,
    GbpEndpoints,
    GbpInsights,
    GbpPosts,
    GbpReviews,
    GbpSettings,
    GbpUtm,
    HeaderText,
    InspectionSettings,
    KeywordSettings,
    SearchConsoleSettings,
    SerpSettings,
    _as_list,
    check_header_text,
    check_host,
    check_reply_templates,
    check_sc_property,
)
from .publish import (
    ENV_NAME,
    TARGET_NAME,
    FolderTarget,
    GuardSettings,
    PublishTarget,
    PublishTargets,
    SshTarget,
    WordPressTarget,
    _as_target_list,
    _target_type,
    _unique_targets,
)
from .theme import (
    COLOR,
    FONT_STACK,
    FontFace,
    SiteOptions,
    Theme,
    contrast,
)

__all__ = [
    "ALERT_CONDITIONS",
    "COLOR",
    "DAILY_METRICS",
    "DAYS",
    "DAY_NAMES",
    "ENV_NAME",
    "FONT_STACK",
    "IMAGE_TYPES",
    "LISTING_FIELDS",
    "LOOPBACK_HOSTS",
    "SLUG_RE",
    "TARGET_NAME",
    "Address",
    "AlertChannel",
    "AlertCondition",
    "AlertConditions",
    "AlertSettings",
    "AuditSettings",
    "Business",
    "Categories",
    "CheckFailedAlert",
    "ContentFile",
    "DriftAlert",
    "EmailSettings",
    "EnvName",
    "ExtraKeyword",
    "FolderTarget",
    "FontFace",
    "GbpEndpoints",
    "GbpInsights",
    "GbpPosts",
    "GbpReviews",
    "GbpSettings",
    "GbpUtm",
    "Geo",
    "GridSettings",
    "GridShape",
    "GridTiles",
    "GridTown",
    "GuardSettings",
    "HeaderText",
    "Hours",
    "Image",
    "InspectionSettings",
    "Integrations",
    "JobFailedAlert",
    "JobSilentAlert",
    "KeywordSettings",
    "License",
    "Location",
    "NonEmpty",
    "Organization",
    "OutboxAlert",
    "Practitioner",
    "PublishTarget",
    "PublishTargets",
    "QuietHours",
    "RankAlert",
    "ReviewAlert",
    "SearchConsoleSettings",
    "SerpBudgetAlert",
    "SerpSettings",
    "SiteChecks",
    "SiteConfig",
    "SiteOptions",
    "Slug",
    "SpecialDay",
    "SshTarget",
    "Strict",
    "Theme",
    "Time",
    "TownConfig",
    "TownsFile",
    "Url",
    "WordPressTarget",
    "_as_list",
    "_as_target_list",
    "_target_type",
    "_unique_targets",
    "check_content_file",
    "check_header_text",
    "check_host",
    "check_image_file",
    "check_reply_templates",
    "check_sc_property",
    "check_slug",
    "check_time",
    "check_url",
    "check_webhook_url",
    "contrast",
]



class Integrations(Strict):
    """Outside services. Each stage owns (and types) its own section; all are optional."""

    search_console: SearchConsoleSettings | None = None  # rankings: Search Console
    serp: SerpSettings | None = None  # rankings: live SERP provider
    gbp: GbpSettings | None = None  # Google Business Profile (`seo listing`)
    email: EmailSettings | None = None  # weekly report delivery (`seo report send`)
    audit: AuditSettings | None = None  # site audit (`seo audit`)
    alerts: AlertSettings | None = None  # alerts between reports (`seo alerts`, `watch`)


class SiteConfig(Strict):
    business: Business
    locations: list[Location] = Field(min_length=1)
    site: SiteOptions = SiteOptions()
    keywords: KeywordSettings = KeywordSettings()
    integrations: Integrations = Integrations()
    grid: GridSettings | None = None  # geo-grid map-pack scans; off until configured

    @model_validator(mode="after")
    def _unique_locations(self) -> SiteConfig:
        seen: set[str] = set()
        for i, loc in enumerate(self.locations):
            if loc.id in seen:
                raise ValueError(f"locations[{i}].id: duplicate location id {loc.id!r}")
            seen.add(loc.id)
        ids = {p.id for p in self.business.practitioners}
        if self.business.reviewer and self.business.reviewer not in ids:
            raise ValueError(f"business.reviewer: unknown practitioner {self.business.reviewer!r}")
        return self


class TownConfig(Strict):
    name: Name
    slug: Slug
    state: State
    county: Name
    geo: Geo
    served_by: Slug
    neighborhoods: list[Name] = Field(default=[], validation_alias=AliasChoices(
        "neighborhoods", "neighbourhoods"))
    roads: list[Name] = []
    landmarks: list[Name] = []
    zip_codes: list[Zip] = []
    place_id: str = ""
    serp_location: str = ""  # SerpApi's canonical location name; default "Town,State,United States"


class TownsFile(Strict):
    towns: list[TownConfig] = Field(min_length=1)
