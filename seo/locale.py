"""The site's locale (`site.locale`): how built-in text spells, and how phones, hours and dates read.

en-US (the default): "(303) 555-0142" linked as tel:+13035550142, "9 am–6 pm", "November 1, 2026",
US spelling. en-GB: national phone form, "09:00–18:00", "1 November 2026", British spelling.
Built-in templates are written in US English; the few words that differ go through `spell`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import phonenumbers

LOCALES = ("en-US", "en-GB")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")

# US -> British spellings of the words built-in templates use (whole words, lower case)
US_TO_GB = {
    "neighborhood": "neighbourhood", "neighborhoods": "neighbourhoods", "center": "centre",
    "centers": "centres", "color": "colour", "colors": "colours", "license": "licence",
    "recognize": "recognise", "organize": "organise", "program": "programme",
    "favorite": "favourite", "behavior": "behaviour", "specialize": "specialise",
    "specializes": "specialises", "specialized": "specialised",
}


@dataclass(frozen=True)
class Phone:
    display: str  # "(303) 555-0142"
    e164: str  # "+13035550142", for tel: links and markup


@dataclass(frozen=True)
class Locale:
    tag: str  # "en-US"

    @property
    def british(self) -> bool:
        return self.tag == "en-GB"

    @property
    def og_locale(self) -> str:
        return self.tag.replace("-", "_")

    def spell(self, word: str) -> str:
        """A built-in US English word in this locale's spelling (capitalization kept)."""
        if not self.british:
            return word
        gb = US_TO_GB.get(word.lower())
        if gb is None:
            return word
        return gb.capitalize() if word[:1].isupper() else gb

    def compass(self, direction: str) -> str:
        """'south-east' (as computed) -> 'southeast' in American English."""
        return direction if self.british else direction.replace("-", "")

    def time(self, hhmm: str) -> str:
        """'09:00' -> '9 am' (en-US) or '09:00' (en-GB); '12:30' -> '12:30 pm'."""
        if self.british:
            return hhmm
        hour, minute = (int(part) for part in hhmm.split(":"))
        suffix = "am" if hour < 12 else "pm"
        hour12 = hour % 12 or 12
        return f"{hour12}{f':{minute:02d}' if minute else ''} {suffix}"

    def span(self, opens: str, closes: str) -> str:
        return f"{self.time(opens)}–{self.time(closes)}"

    def date(self, day: date) -> str:
        if self.british:
            return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
        return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"

    def phone(self, number: str, country: str = "US") -> Phone:
        """National display form and E.164. Raises ValueError for a number that can't be dialled."""
        try:
            parsed = phonenumbers.parse(number, country)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"{number!r} is not a phone number ({exc})") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError(f"{number!r} is not a valid phone number for {country}")
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        region = phonenumbers.region_code_for_number(parsed)
        style = (phonenumbers.PhoneNumberFormat.NATIONAL if region == country
                 else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
        return Phone(display=phonenumbers.format_number(parsed, style), e164=e164)


def get_locale(tag: str) -> Locale:
    if tag not in LOCALES:
        raise ValueError(f"unsupported locale {tag!r} (supported: {', '.join(LOCALES)})")
    return Locale(tag)
