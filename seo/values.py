"""What a valid value is: names, phones, emails, dates, US states and ZIP codes, coordinates.

Config and front matter are typed with these, so a value that makes no sense (a blank name, free
text as a phone number, `javascript:alert(1)` as an email, `date: 0`, `state: ZZ`) is refused at
load with one line naming the file, line and key, instead of reaching a page, a listing or a post.
Control characters never get this far: the YAML reader refuses them (`seo.files.CONTROL`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

NAME_MAX = 200

# the states, the District of Columbia and the territories
_STATES = """AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ
NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR VI GU AS MP"""
US_STATES = frozenset(_STATES.split())
ZIP_RE = re.compile(r"^\d{5}(-\d{4})?$")

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_RE = re.compile(rf"^[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{{|}}~-]+)*"
                      rf"@{_LABEL}(?:\.{_LABEL})*\.[A-Za-z]{{2,63}}$")
HOST_RE = re.compile(rf"^(?:{_LABEL}(?:\.{_LABEL})*|\d{{1,3}}(?:\.\d{{1,3}}){{3}}|\[[0-9A-Fa-f:.]+\])$")
_PHONE_SHAPE = re.compile(r"^\+?(?:[0-9]|\([0-9]+\))(?:[0-9 .\-]|\([0-9]+\))*[0-9]$")


def check_name(value: str) -> str:
    """A name shown on pages and listings: one line, not blank, surrounding spaces dropped."""
    text = value.strip()
    if not text:
        raise ValueError("must not be blank")
    if "\n" in text or "\r" in text:
        raise ValueError("must be one line")
    if len(text) > NAME_MAX:
        raise ValueError(f"is longer than {NAME_MAX} characters")
    return text


def check_text(value: str) -> str:
    """A required piece of text (a summary, a paragraph): not blank."""
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _nanp(digits: str) -> bool:
    """A North American number: area code and exchange each start with 2-9."""
    return len(digits) == 10 and digits[0] in "23456789" and digits[3] in "23456789"


def check_phone(value: str) -> str:
    """E.164 (`+13035550142`, spaces/dashes/dots allowed) or the North American national form
    (`(303) 555-0142`, `303-555-0142`, `1 303 555 0142`)."""
    text = value.strip()
    hint = "give it in E.164 (+13035550142) or national form ((303) 555-0142)"
    if not _PHONE_SHAPE.match(text) or text.count("(") > 1:
        raise ValueError(f"{value!r} is not a telephone number; {hint}")
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        if not 8 <= len(digits) <= 15 or digits[0] == "0":
            raise ValueError(f"{value!r} is not an E.164 number (+, country code, 7-14 digits)")
        if digits[0] == "1" and not _nanp(digits[1:]):
            raise ValueError(f"{value!r} is not a valid +1 number (10 digits after +1; area code "
                             "and exchange start with 2-9)")
        return text
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if not _nanp(digits):
        raise ValueError(f"{value!r} is not a telephone number; {hint}")
    return text


def check_email(value: str) -> str:
    if not EMAIL_RE.match(value) or len(value) > 254:
        raise ValueError(f"{value!r} is not an email address (name@example.com)")
    return value


def check_host(value: str) -> str:
    if value and not HOST_RE.match(value):
        raise ValueError(f"{value!r} is not a host name or IP address")
    return value


def strict_date(value: Any) -> date:
    """A calendar date written YYYY-MM-DD: not a number of seconds (`date: 0` is not 1970-01-01),
    not a date with a time."""
    if isinstance(value, datetime):
        raise ValueError(f"give a date without a time (YYYY-MM-DD), got {value.isoformat()!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a real date") from None
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def check_era(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError(f"{value.isoformat()} is not a plausible date (years 2000-2100)")
    return value


def not_in_future(value: date) -> date:
    """Something that already happened (a medical review): today at the latest (a day of slack
    for time zones)."""
    if value > date.today() + timedelta(days=1):
        raise ValueError(f"{value.isoformat()} is in the future")
    return value


def within_two_years(value: date) -> date:
    """A day planned ahead (special opening hours): at most two years out."""
    if value > date.today() + timedelta(days=731):
        raise ValueError(f"{value.isoformat()} is more than two years ahead")
    return value


def check_state(value: str) -> str:
    if value not in US_STATES:
        raise ValueError(f"{value!r} is not a US state or territory code (e.g. CO)")
    return value


def check_zip(value: str) -> str:
    if not ZIP_RE.match(value):
        raise ValueError(f"{value!r} is not a ZIP code (12345 or 12345-6789)")
    return value


Name = Annotated[str, AfterValidator(check_name)]
Text = Annotated[str, AfterValidator(check_text)]
OptionalName = Annotated[str, AfterValidator(lambda v: check_name(v) if v else v)]
Phone = Annotated[str, AfterValidator(check_phone)]
Email = Annotated[str, AfterValidator(check_email)]
OptionalEmail = Annotated[str, AfterValidator(lambda v: check_email(v) if v else v)]
Host = Annotated[str, AfterValidator(check_host)]
Day = Annotated[date, BeforeValidator(strict_date), AfterValidator(check_era)]
PastDay = Annotated[Day, AfterValidator(not_in_future)]
PlannedDay = Annotated[Day, AfterValidator(within_two_years)]
State = Annotated[str, AfterValidator(check_state)]
Zip = Annotated[str, AfterValidator(check_zip)]


def duplicates(values: list[Any]) -> list[tuple[int, int]]:
    """(index, index of the first equal value) for every repeat, case and spacing ignored for text."""
    def norm(value: Any) -> Any:
        if isinstance(value, str):
            return " ".join(value.lower().split())
        return tuple(norm(v) for v in value) if isinstance(value, tuple) else value

    seen: dict[Any, int] = {}
    out = []
    for i, value in enumerate(values):
        key = norm(value)
        if key in seen:
            out.append((i, seen[key]))
        else:
            seen[key] = i
    return out
