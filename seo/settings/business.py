"""The business: locations (address, geo, hours), practitioners, categories."""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from ..values import (
    Name,
    OptionalEmail,
    Phone,
    PlannedDay,
    check_state,
    check_zip,
    duplicates,
)
from .base import (
    DAY_NAMES,
    DAYS,
    Image,
    NonEmpty,
    Slug,
    Strict,
    Time,
    Url,
)


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
