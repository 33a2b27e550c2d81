"""Distances and drive estimates computed from coordinates, never typed by hand."""

from __future__ import annotations

import math

EARTH_MILES = 3958.8
# Road distance is longer than the straight line: US metro circuity factors are ~1.2-1.4.
CIRCUITY = 1.3
# Average door-to-door speed on suburban Denver arterials and highways, in mph.
AVERAGE_MPH = 32.0
PARKING_MINUTES = 3


def miles_between(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle (haversine) distance in miles."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MILES * math.asin(math.sqrt(a))


def drive_estimate(straight_miles: float) -> tuple[float, int]:
    """(road miles, minutes) estimated from a straight-line distance."""
    road = straight_miles * CIRCUITY
    minutes = round(road / AVERAGE_MPH * 60) + PARKING_MINUTES
    return round(road, 1), max(minutes, 5)


_POINTS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")


def direction(lat1: float, lng1: float, lat2: float, lng2: float) -> str:
    """Compass direction (8 points) of the second point as seen from the first."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lng2 - lng1)
    x = math.sin(dl) * math.cos(p2)
    y = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    bearing = (math.degrees(math.atan2(x, y)) + 360) % 360
    return _POINTS[int((bearing + 22.5) // 45) % 8]
