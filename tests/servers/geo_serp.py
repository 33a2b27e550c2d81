"""The local SERP provider with Google Maps answers that depend on where the search is made.

    server = GeoSerpServer(clinic=(39.548, -104.79), reach=3.0).start()
    server.add_business("Rival Acupuncture", "rival.test", 39.50, -104.75, prominence=0.3)
    ... DataForSEO `location_coordinate` "lat,lng,13z" / SerpApi `ll=@lat,lng,13z` ...

At each coordinate, the businesses (the clinic among them) are ranked by distance minus their
prominence (miles; a small per-keyword nudge keeps keywords apart); a business more than its
`reach` miles away is not listed at all, so far from the clinic it is "not found". Everything
else (organic results, auth, faults, counting) is `SerpServer`'s. `latency` delays every answer.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from servers.serp import SerpServer, _hash

EARTH_MILES = 3958.8


def miles(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MILES * math.asin(math.sqrt(a))


def parse_where(where: str) -> tuple[float, float]:
    """"39.61,-104.81,13z" (DataForSEO) or "@39.61,-104.81,13z" (SerpApi) -> (lat, lng)."""
    lat, lng, zoom = where.lstrip("@").split(",")
    if not zoom.endswith("z"):
        raise ValueError(f"no zoom in {where!r}")
    return float(lat), float(lng)


@dataclass(frozen=True)
class Business:
    name: str
    domain: str
    lat: float
    lng: float
    prominence: float = 0.0  # miles of head start
    reach: float = 12.0  # not listed farther away than this
    place_id: str = ""


class GeoSerpServer(SerpServer):
    def __init__(self, clinic: tuple[float, float], reach: float = 3.0, prominence: float = 0.0,
                 nudge: float = 0.3, **kw: Any) -> None:
        super().__init__(**kw)
        self.clinic = Business(self.name, "www." + self.domain, *clinic, prominence, reach,
                               "place-clinic")
        self.businesses: list[Business] = []
        self.nudge = nudge  # miles: how much a keyword reshuffles near-equal businesses
        self.latency = 0.0  # seconds added to every answer
        self.where_seen: list[tuple[float, float]] = []

    def add_business(self, name: str, domain: str, lat: float, lng: float, prominence: float = 0.0,
                     reach: float = 12.0) -> None:
        self.businesses.append(Business(name, domain, lat, lng, prominence, reach,
                                        f"place-{_hash(domain)}"))

    def maps_rank(self, keyword: str, lat: float, lng: float) -> int | None:
        """Our rank at a coordinate (what the answer will say), for tests to compare against."""
        for e in self.geo_listing(keyword, lat, lng, 20):
            if e["place_id"] == self.clinic.place_id:
                return int(e["position"])
        return None

    def geo_listing(self, keyword: str, lat: float, lng: float, size: int) -> list[dict[str, Any]]:
        scored = []
        for b in [self.clinic, *self.businesses]:
            d = miles(lat, lng, b.lat, b.lng)
            if d > b.reach:
                continue
            nudge = self.nudge * (_hash(keyword, b.domain) % 1000) / 1000
            scored.append((d - b.prominence + nudge, b.domain, b))
        scored.sort(key=lambda s: (s[0], s[1]))
        return [{"position": i + 1, "domain": b.domain, "title": b.name, "place_id": b.place_id}
                for i, (_, _, b) in enumerate(scored[:size])]

    def listing(self, keyword: str, kind: str, where: str, size: int) -> list[dict[str, Any]]:
        if kind != "maps":
            return super().listing(keyword, kind, where, size)
        lat, lng = parse_where(where)
        with self._lock:
            self.where_seen.append((lat, lng))
        return self.geo_listing(keyword, lat, lng, size)

    def _dataforseo(self, kind: str, task: dict[str, Any]) -> dict[str, Any]:
        if self.latency:
            time.sleep(self.latency)
        return super()._dataforseo(kind, task)

    def _serpapi(self, kind: str, q: dict[str, str]) -> dict[str, Any]:
        if self.latency:
            time.sleep(self.latency)
        return super()._serpapi(kind, q)
