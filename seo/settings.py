"""The clinic's settings: one schema, defaults in one place, validated once at load.

`config/site.yaml` holds the business, its locations, site options and integrations;
`config/towns.yaml` the served towns; `config/schedule.yaml` (optional) the job schedule.
Every model forbids unknown keys so that a typo is an error, not a silently ignored setting.
"""

from __future__ import annotations

import itertools
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from .values import (
    Email,
    Host,
    Name,
    OptionalEmail,
    OptionalName,
    Phone,
    PlannedDay,
    State,
    Text,
    Zip,
    check_state,
    check_zip,
    duplicates,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
DAY_NAMES = {"Mo": "Monday", "Tu": "Tuesday", "We": "Wednesday", "Th": "Thursday",
             "Fr": "Friday", "Sa": "Saturday", "Su": "Sunday"}


def check_slug(value: str) -> str:
    if not SLUG_RE.match(value):
        raise ValueError(f"slug {value!r} must be lowercase letters, digits and single hyphens "
                         "(no slashes, dots or spaces)")
    return value


def check_url(value: str) -> str:
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", value, re.I):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def check_time(value: str) -> str:
    if not re.match(r"^([01]\d|2[0-3]):[0-5]\d$", value):
        raise ValueError(f"{value!r} is not a 24-hour time HH:MM")
    return value


Slug = Annotated[str, AfterValidator(check_slug)]
Url = Annotated[str, AfterValidator(check_url)]
Time = Annotated[str, AfterValidator(check_time)]
NonEmpty = Text  # required text: not blank (seo.values)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


IMAGE_TYPES = (".jpg", ".jpeg", ".png", ".webp")


def check_content_file(value: str) -> str:
    """A path inside a content folder: relative, no '..', no backslashes."""
    parts = value.split("/")
    if not value or value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
        raise ValueError(f"{value!r} must be a relative path inside the folder (no '..', no leading /)")
    return value


def check_image_file(value: str) -> str:
    check_content_file(value)
    if not value.lower().endswith(IMAGE_TYPES):
        raise ValueError(f"{value!r} is not a JPEG, PNG or WebP file")
    return value


ContentFile = Annotated[str, AfterValidator(check_content_file)]


class Image(Strict):
    """A picture under content/images/, with the text a screen reader says for it."""

    file: Annotated[str, AfterValidator(check_image_file)]  # relative to content/images/
    alt: NonEmpty  # required: what the picture shows, for people who can't see it


class Geo(Strict):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lng: float = Field(ge=-180, le=180, allow_inf_nan=False)

    @model_validator(mode="after")
    def _not_null_island(self) -> Geo:
        if self.lat == 0 and self.lng == 0:
            raise ValueError("coordinates 0, 0 are in the Atlantic (a missing value?); give the "
                             "place's real latitude and longitude")
        return self


class Address(Strict):
    street: Name
    locality: Name
    region: Name
    postal_code: Name
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")

    @model_validator(mode="after")
    def _us_address(self) -> Address:
        if self.country == "US":
            for key, check in (("region", check_state), ("postal_code", check_zip)):
                try:
                    check(getattr(self, key))
                except ValueError as exc:
                    raise ValueError(f"{key}: {exc}") from None
        return self

    def one_line(self) -> str:
        return f"{self.street}, {self.locality}, {self.region} {self.postal_code}"


class Hours(Strict):
    days: list[Literal["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"]] = Field(min_length=1)
    opens: Time
    closes: Time

    @model_validator(mode="after")
    def _order(self) -> Hours:
        if self.closes <= self.opens:
            raise ValueError(f"closes {self.closes} is not after opens {self.opens}")
        for i, _ in duplicates(self.days):
            raise ValueError(f"days[{i}]: {DAY_NAMES[self.days[i]]} is listed twice")
        return self


class SpecialDay(Strict):
    date: PlannedDay
    closed: bool = True
    opens: Time | None = None
    closes: Time | None = None
    name: str = ""

    @model_validator(mode="after")
    def _times(self) -> SpecialDay:
        if self.closed and (self.opens or self.closes):
            raise ValueError("opening times given for a closed day; for special opening hours "
                             "set closed: false with opens and closes")
        if not self.closed:
            if not self.opens or not self.closes:
                raise ValueError("opens and closes are needed with closed: false")
            if self.closes <= self.opens:
                raise ValueError(f"closes {self.closes} is not after opens {self.opens}")
        return self


class Location(Strict):
    id: Slug
    name: Name
    address: Address
    geo: Geo
    telephone: Phone
    hours: list[Hours] = Field(min_length=1)
    special_hours: list[SpecialDay] = []
    gbp_location: str = ""  # e.g. "locations/1234567890"
    place_id: str = ""
    photos: list[Image] = []  # the first is the hero and the LocalBusiness `image`

    @model_validator(mode="after")
    def _consistent_hours(self) -> Location:
        for day in DAYS:
            spans = sorted((h.opens, h.closes, i) for i, h in enumerate(self.hours) if day in h.days)
            for (_, closes, first), (opens, _, second) in itertools.pairwise(spans):
                if opens < closes:
                    raise ValueError(f"hours[{max(first, second)}]: overlaps hours[{min(first, second)}] "
                                     f"on {DAY_NAMES[day]}")
        for i, first in duplicates([d.date for d in self.special_hours]):
            raise ValueError(f"special_hours[{i}].date: {self.special_hours[i].date.isoformat()} "
                             f"is listed twice (also special_hours[{first}])")
        return self


class Organization(Strict):
    name: NonEmpty
    url: Url | None = None


class License(Strict):
    """A professional license: shown on the practitioner's page, `hasCredential` in markup."""

    name: NonEmpty = "Licensed Acupuncturist"
    number: str = ""
    region: str = ""  # e.g. "CO"
    issuer: Organization | None = None  # e.g. Colorado Division of Professions and Occupations


class Practitioner(Strict):
    id: Slug
    name: Name
    credentials: str = ""  # shown after the name: "L.Ac., Dipl. OM (NCCAOM)"
    job_title: Name = "Licensed Acupuncturist"
    bio: str = ""  # one or two sentences; the full biography goes in content/practitioners/<id>.md
    photo: Image | None = None
    license: License | None = None
    certifications: list[License] = []  # board certifications, e.g. NCCAOM Diplomate
    education: list[str] = []
    member_of: list[Organization] = []  # professional associations (`memberOf`)
    treats: list[Slug] = []  # condition slugs; empty: every condition


class Categories(Strict):
    primary: Name
    additional: list[Name] = []

    @model_validator(mode="after")
    def _distinct(self) -> Categories:
        for i, first in duplicates([self.primary, *self.additional]):
            where = "primary" if first == 0 else f"additional[{first - 1}]"
            raise ValueError(f"additional[{i - 1}]: {self.additional[i - 1]!r} repeats {where}")
        return self


class Business(Strict):
    name: Name
    type: str = Field(default="MedicalClinic", pattern=r"^[A-Z][A-Za-z]+$")
    url: Url
    booking_url: Url
    telephone: Phone
    email: OptionalEmail = ""
    description: str = ""
    categories: Categories
    logo: Image | None = None
    practitioners: list[Practitioner] = []
    reviewer: str = ""  # practitioner id who medically reviews the content
    same_as: list[Url] = []

    @field_validator("url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _distinct_practitioners(self) -> Business:
        for i, first in duplicates([p.id for p in self.practitioners]):
            raise ValueError(f"practitioners[{i}].id: duplicate practitioner id "
                             f"{self.practitioners[i].id!r} (also practitioners[{first}])")
        return self


class GuardSettings(Strict):
    similarity_threshold: float = Field(default=0.45, gt=0, le=1)
    min_local_facts: int = Field(default=6, ge=0)
    shingle_size: int = Field(default=5, ge=2, le=12)


TARGET_NAME = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


class FolderTarget(Strict):
    """`seo publish` copies the build into a folder on this machine (a web server's document root)."""

    type: Literal["folder"] = "folder"
    name: str = Field(default="", pattern=f"({TARGET_NAME})?")  # default: the type
    path: str = "build/public"
    url: Url | None = None  # where the folder is served; default business.url (verify live)

    @property
    def label(self) -> str:
        return self.name or self.type


class SshTarget(Strict):
    """rsync over SSH into a new release folder, then an atomic switch of the `current` symlink."""

    type: Literal["ssh"]
    name: str = Field(default="", pattern=f"({TARGET_NAME})?")
    host: str  # a host name or address (an ssh_config alias works too)
    port: int = Field(default=22, ge=1, le=65535)
    user: str
    path: str  # an absolute folder on the server: releases/ and the `current` symlink live here
    key: str = ""  # private key file; default ssh's own (~/.ssh/id_*, the agent)
    known_hosts: str = Field(min_length=1)  # the server's host key: checking is always on
    keep: int = Field(default=5, ge=2, le=100)  # releases kept (the current one included)
    url: Url | None = None  # the live site served from `current`; default business.url
    timeout: float = Field(default=1800, gt=0, le=86400)  # seconds for the whole transfer
    connect_timeout: int = Field(default=15, ge=1, le=300)

    @property
    def label(self) -> str:
        return self.name or self.type

    @field_validator("host", "user")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        # never an option for ssh ("-oProxyCommand=..."), never a space or a shell character
        if not re.match(r"^[A-Za-z0-9_\[][A-Za-z0-9_.:\[\]-]*$", value):
            raise ValueError(f"{value!r} must be a plain name (letters, digits, . _ - :), "
                             "not starting with -")
        return value

    @field_validator("path")
    @classmethod
    def _safe_path(cls, value: str) -> str:
        parts = value.strip("/").split("/")
        if not value.startswith("/") or not value.strip("/") or any(
                p in ("", ".", "..") or not re.match(r"^[A-Za-z0-9_.@+-]+$", p) for p in parts):
            raise ValueError(f"{value!r} must be an absolute folder below / (letters, digits, "
                             "_ . @ + -; no . or .. parts)")
        return "/" + "/".join(parts)


class WordPressTarget(Strict):
    """The WordPress REST API with an Application Password, and the companion plugin (`wordpress/`)."""

    type: Literal["wordpress"]
    name: str = Field(default="", pattern=f"({TARGET_NAME})?")
    url: Url  # the WordPress site (its home URL)
    user: str = Field(min_length=1)
    password_env: str = Field(default="SEO_WORDPRESS_PASSWORD", pattern=ENV_NAME)
    front_page: bool = True  # the home page becomes the front page (only if it is not the site's own)
    requests_per_minute: int = Field(default=120, ge=1, le=6000)
    batch_size: int = Field(default=25, ge=1, le=25)  # WordPress allows 25 requests per batch
    retries: int = Field(default=3, ge=0, le=10)  # 429, 5xx and lost connections
    backoff: float = Field(default=2.0, ge=0, le=600)  # seconds; doubled on each retry
    timeout: float = Field(default=60, gt=0, le=600)  # seconds per request

    @property
    def label(self) -> str:
        return self.name or self.type

    @field_validator("url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"


def _target_type(value: Any) -> str | None:
    kind = value.get("type", "folder") if isinstance(value, dict) else getattr(value, "type", None)
    # the tags start with "function-" so that error key paths leave them out (see validate.py)
    return f"function-{kind}" if kind in ("folder", "ssh", "wordpress") else None


PublishTarget = Annotated[
    Annotated[FolderTarget, Tag("function-folder")] | Annotated[SshTarget, Tag("function-ssh")]
    | Annotated[WordPressTarget, Tag("function-wordpress")],
    Discriminator(_target_type, custom_error_type="publish_type",
                  custom_error_message="type must be folder, ssh or wordpress")]


def _as_target_list(value: Any) -> Any:
    """One target or a list of them; `target:` is the old spelling of `type:`."""
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, dict) and "target" in item and "type" not in item:
            item = {("type" if k == "target" else k): v for k, v in item.items()}
        out.append(item)
    return out


def _unique_targets(targets: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for target in targets:
        if target.label in seen:
            raise ValueError(f"two publish targets are named {target.label!r}: give each a `name`")
        seen.add(target.label)
    return targets


PublishTargets = Annotated[list[PublishTarget], BeforeValidator(_as_target_list),
                           AfterValidator(_unique_targets), Field(min_length=1)]


COLOR = r"^#[0-9a-fA-F]{6}$"
FONT_STACK = "^[A-Za-z0-9 ,'\"-]+$"  # family names, commas, quotes: nothing that could end a CSS rule


class FontFace(Strict):
    """A self-hosted web font file (content/fonts/), served from the site itself."""

    family: Annotated[str, Field(pattern=r"^[A-Za-z0-9 -]+$")]
    file: ContentFile  # relative to content/fonts/; .woff2
    weight: Annotated[str, Field(pattern=r"^[1-9]00( [1-9]00)?$")] = "400"
    style: Literal["normal", "italic"] = "normal"

    @field_validator("file")
    @classmethod
    def _woff2(cls, value: str) -> str:
        if not value.endswith(".woff2"):
            raise ValueError(f"{value!r}: web fonts must be .woff2 files")
        return value


class Theme(Strict):
    """The clinic's look: colors and fonts (system fonts unless `fonts` are given)."""

    accent: Annotated[str, Field(pattern=COLOR)] = "#a8571a"  # buttons, highlights
    background: Annotated[str, Field(pattern=COLOR)] = "#f4f1ea"  # the hero and card panels
    font: Annotated[str, Field(pattern=FONT_STACK)] = (
        'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif')
    heading_font: Annotated[str, Field(pattern=FONT_STACK)] = ""  # default: `font`
    fonts: list[FontFace] = Field(default=[], max_length=4)
    og_image: Literal["card", "photo"] = "card"  # social preview: title card, or the clinic photo


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colors (1 to 21)."""
    def luminance(color: str) -> float:
        channels = [int(color[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class SiteOptions(Strict):
    locale: Literal["en-US", "en-GB"] = Field(default="en-US",
                                              validation_alias=AliasChoices("locale", "language"))
    spelling_allow: list[str] = []  # words the spelling lint accepts (names it can't tell)
    theme: Theme = Theme()
    output: str = "build/site"
    store: str = "sqlite:///build/seo.sqlite3"
    # PostgreSQL only: this project's tables in a schema of their own, so that several projects
    # (an agency's clients) share one database without their data mixing; created if missing
    store_schema: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    nearby_towns: int = Field(default=3, ge=0, le=10)
    guard: GuardSettings = GuardSettings()
    publish: PublishTargets = [FolderTarget()]
    theme_color: str = Field(default="#1f5f4a", pattern=COLOR)  # the main brand color

    @property
    def language(self) -> str:
        return self.locale

    @model_validator(mode="after")
    def _readable(self) -> SiteOptions:
        """The brand color carries white text (header, buttons) and is the link and heading color
        on white and on the panel: each pair needs WCAG AA contrast (4.5:1)."""
        pairs = [("theme_color", self.theme_color, "#ffffff", "white text"),
                 ("theme_color", self.theme_color, self.theme.background, "theme.background"),
                 ("theme.background", self.theme.background, "#1b1b1b", "body text")]
        for key, color, other, what in pairs:
            ratio = contrast(color, other)
            if ratio < 4.5:
                raise ValueError(f"{key}: {color} against {what} ({other}) has contrast "
                                 f"{ratio:.1f}:1; text needs at least 4.5:1 (pick a darker or "
                                 "lighter shade)")
        return self


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


class Integrations(Strict):
    """Outside services. Each stage owns (and types) its own section; all are optional."""

    search_console: SearchConsoleSettings | None = None  # rankings: Search Console
    serp: SerpSettings | None = None  # rankings: live SERP provider
    gbp: GbpSettings | None = None  # Google Business Profile (`seo listing`)
    email: EmailSettings | None = None  # weekly report delivery (`seo report send`)
    audit: AuditSettings | None = None  # site audit (`seo audit`)
    alerts: AlertSettings | None = None  # alerts between reports (`seo alerts`, `watch`)


class GridTiles(Strict):
    """An optional map background for grid heatmaps, from a slippy-map tile server (off by default).

    Tiles are fetched with a timeout and this user agent, cached under build/grid/tiles (bounded),
    and the attribution is printed on every heatmap drawn over them (tile servers require it)."""

    url: str = Field(default="", pattern=r"^(https?://[^\s]*\{z\}[^\s]*)?$")  # .../{z}/{x}/{y}.png
    attribution: OptionalName = Field(default="", max_length=120)  # "© OpenStreetMap contributors"
    user_agent: OptionalName = ""  # default "seo-grid/<version> (+business.url)"
    timeout: float = Field(default=10, gt=0, le=60)  # seconds per tile
    max_tiles: int = Field(default=16, ge=1, le=64)  # per heatmap; a coarser zoom when more
    cache_mb: int = Field(default=50, ge=1, le=2000)  # oldest tiles dropped beyond this

    @model_validator(mode="after")
    def _complete(self) -> GridTiles:
        if self.url and not all(p in self.url for p in ("{z}", "{x}", "{y}")):
            raise ValueError("url: a tile URL needs {z}, {x} and {y}")
        if self.url and not self.attribution.strip():
            raise ValueError("attribution: required with a tile url (the tile server's terms)")
        return self


class GridShape(Strict):
    """A grid's shape: `size` x `size` points, `spacing_miles` apart or spread to `radius_miles`
    from the town's center; points outside the town's area (its GeoJSON `boundary`, else a circle
    of `area_radius_miles`) are dropped. Unset fields come from the grid section's defaults."""

    size: int | None = Field(default=None, ge=3, le=9)
    spacing_miles: float | None = Field(default=None, gt=0, le=10)
    radius_miles: float | None = Field(default=None, gt=0, le=40)
    area_radius_miles: float | None = Field(default=None, gt=0, le=60)  # default: the grid's reach
    zoom: int | None = Field(default=None, ge=3, le=21)  # maps zoom at each point
    keywords: list[Name] | None = Field(default=None, max_length=50)  # {town} {state} {county}

    @model_validator(mode="after")
    def _one_spread(self) -> GridShape:
        if self.spacing_miles is not None and self.radius_miles is not None:
            raise ValueError("give spacing_miles or radius_miles, not both")
        return self


class GridTown(GridShape):
    enabled: bool = True
    boundary: str = ""  # GeoJSON Polygon/MultiPolygon under config/ (default boundaries/<slug>.geojson)


class GridSettings(GridShape):
    """Geo-grid map-pack scans (`seo grid`): one maps search per point x keyword, through
    integrations.serp, counted against its monthly budget."""

    monthly_budget: int = Field(ge=0)  # grid requests a month the staff approved (within serp's)
    towns: dict[Slug, GridTown] = {}  # per-town overrides; every town has a grid unless enabled: false
    tiles: GridTiles = GridTiles()


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
