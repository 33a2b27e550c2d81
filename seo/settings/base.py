"""What every settings model shares: the strict base model, slugs, URLs, times, files."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
)

from ..values import (
    Text,
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
