"""The Performance API's daily metrics: friendly names, the groups the report shows, and the sum
of a range of days that keeps unknown days apart from zeros."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

LABELS = {
    "CALL_CLICKS": "calls",
    "BUSINESS_DIRECTION_REQUESTS": "direction requests",
    "WEBSITE_CLICKS": "website clicks",
    "BUSINESS_BOOKINGS": "bookings",
    "BUSINESS_CONVERSATIONS": "conversations",
    "MESSAGING_CLICKS": "conversations (message button clicks)",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS": "views on Maps (mobile)",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH": "views on Search (mobile)",
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS": "views on Maps (desktop)",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH": "views on Search (desktop)",
    "BUSINESS_FOOD_ORDERS": "food orders",
    "BUSINESS_FOOD_MENU_CLICKS": "menu clicks",
}
SHORT = {  # for CLI columns and CSV headers
    "CALL_CLICKS": "calls", "BUSINESS_DIRECTION_REQUESTS": "directions",
    "WEBSITE_CLICKS": "website", "BUSINESS_BOOKINGS": "bookings",
    "BUSINESS_CONVERSATIONS": "conversations", "MESSAGING_CLICKS": "messaging",
    "BUSINESS_IMPRESSIONS_MOBILE_MAPS": "maps_mobile",
    "BUSINESS_IMPRESSIONS_MOBILE_SEARCH": "search_mobile",
    "BUSINESS_IMPRESSIONS_DESKTOP_MAPS": "maps_desktop",
    "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH": "search_desktop",
    "BUSINESS_FOOD_ORDERS": "food_orders", "BUSINESS_FOOD_MENU_CLICKS": "menu_clicks",
}
IMPRESSIONS = ("BUSINESS_IMPRESSIONS_MOBILE_MAPS", "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
               "BUSINESS_IMPRESSIONS_DESKTOP_MAPS", "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH")
# What the owner judges the work by, in the order the report shows it.
ACTIONS = ("CALL_CLICKS", "BUSINESS_DIRECTION_REQUESTS", "WEBSITE_CLICKS", "BUSINESS_BOOKINGS")
VIEWS = "VIEWS"  # the four impression metrics summed (a pseudo metric for reading)


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


@dataclass(frozen=True)
class Total:
    """A sum over days: `value` adds the days Google gave a number for; `unknown` days had none
    yet (or were never reported), so the true total is at least `value`."""

    value: int
    days: int
    unknown: int

    @property
    def complete(self) -> bool:
        return self.unknown == 0

    @property
    def known(self) -> bool:
        return self.unknown < self.days

    def text(self) -> str:
        if not self.known:
            return "not reported yet"
        if self.complete:
            return f"{self.value:,}"
        return f"at least {self.value:,} ({self.unknown} day{'s' * (self.unknown != 1)} not " \
               "reported yet)"

    def short(self) -> str:
        if not self.known:
            return "?"
        return f"{self.value:,}" + ("" if self.complete else "+")


def change(now: Total, before: Total) -> str:
    """Week-over-week change, only when both weeks are complete (a partial week would mislead)."""
    if not now.complete or not before.complete:
        return "n/a"
    if before.value == 0:
        return "new" if now.value else "0"
    return f"{(now.value - before.value) * 100 / before.value:+.0f}%"
