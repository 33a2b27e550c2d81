"""What one maps search at one point says, and the scores of a whole grid.

Per point: our rank (or not found within the top 20), and every business found with its rank (the
top 3 among them). Per grid and day, for the clinic and for every business found anywhere on it:

- ARP, average rank position: the mean rank over the points where it is in the top 20;
- ATRP, average total rank position: the mean over every measured point, not found counted as 21;
- SoLV, share of local voice: the share of measured points where it is in the top 3.

Points that were not measured (timeouts, budget) are left out of every score, never counted as
"not found"; how many were measured is kept beside the scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..rankings.serp import bare, norm_name
from .config import DEPTH, NOT_FOUND

US = ""  # the clinic's business key in scores


CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(text: object, limit: int = 200) -> str:
    """Text from a provider's answer, without control characters (terminal escapes, direction
    overrides) that would reach a terminal, a CSV or a map."""
    return CONTROL.sub(" ", str(text or ""))[:limit].strip()


def business_key(entry: dict[str, Any]) -> str:
    """One business across points: its Google place id, else its name and website."""
    place = str(entry.get("place_id") or "")
    if place:
        return f"p:{clean(place)}"[:256]
    return f"n:{norm_name(str(entry.get('title') or ''))}|{bare(str(entry.get('domain') or ''))}"[:256]


@dataclass
class PointResult:
    row: int
    col: int
    lat: float
    lng: float
    measured: bool
    rank: int | None = None  # ours; None: not found in the top 20 (measured) or not measured
    reason: str = ""
    businesses: list[dict[str, Any]] = field(default_factory=list)  # others, best rank first

    def top3(self, our_name: str) -> list[dict[str, Any]]:
        """The three businesses at ranks 1-3, us included (flagged)."""
        out = [{"key": b["key"], "name": b["name"], "domain": b["domain"], "rank": b["rank"],
                "us": False} for b in self.businesses if b["rank"] <= 3]
        if self.rank is not None and self.rank <= 3:
            out.append({"key": US, "name": our_name, "domain": "", "rank": self.rank, "us": True})
        return sorted(out, key=lambda b: (b["rank"], b["key"]))[:3]


def from_result(row: int, col: int, lat: float, lng: float, rec: dict[str, Any]) -> PointResult:
    """A crawl result record (a maps `Result`, every entry kept) as a point."""
    rank = rec.get("position")
    seen: dict[str, dict[str, Any]] = {}
    for e in rec.get("competitors") or []:
        try:
            pos = int(e["position"])
        except (KeyError, TypeError, ValueError):
            continue
        if not 1 <= pos <= DEPTH:
            continue
        key = business_key(e)
        if key not in seen or pos < seen[key]["rank"]:
            seen[key] = {"key": key, "name": clean(e.get("title") or e.get("domain")) or "?",
                         "domain": clean(bare(str(e.get("domain") or ""))), "rank": pos,
                         "competitor": bool(e.get("competitor"))}
    ours = int(rank) if isinstance(rank, int | float) and 1 <= rank <= DEPTH else None
    return PointResult(row, col, lat, lng, True, ours, clean(rec.get("reason"), 300),
                       sorted(seen.values(), key=lambda b: (b["rank"], b["key"])))


@dataclass
class Score:
    business: str  # US or a business key
    name: str
    competitor: bool
    points: int  # in the grid
    measured: int
    found: int
    top3: int
    arp: float | None
    atrp: float | None
    solv: float | None  # 0..1

    @staticmethod
    def of(business: str, name: str, competitor: bool, ranks: list[int | None],
           points: int) -> Score:
        """`ranks`: one per measured point (None: not in the top 20)."""
        found = [r for r in ranks if r is not None]
        n = len(ranks)
        return Score(business, name, competitor, points, n, len(found),
                     sum(1 for r in found if r <= 3),
                     round(sum(found) / len(found), 3) if found else None,
                     round((sum(found) + NOT_FOUND * (n - len(found))) / n, 3) if n else None,
                     round(sum(1 for r in found if r <= 3) / n, 4) if n else None)


def grid_scores(points: list[PointResult], total: int, our_name: str) -> list[Score]:
    """The clinic's score first, then every business found on the grid (best SoLV first)."""
    measured = [p for p in points if p.measured]
    out = [Score.of(US, our_name, False, [p.rank for p in measured], total)]
    names: dict[str, tuple[str, bool]] = {}
    ranks: dict[str, dict[int, int]] = {}
    for i, p in enumerate(measured):
        for b in p.businesses:
            names.setdefault(b["key"], (b["name"], b["competitor"]))
            ranks.setdefault(b["key"], {})[i] = b["rank"]
    others = [Score.of(k, names[k][0], names[k][1], [ranks[k].get(i) for i in range(len(measured))],
                       total) for k in ranks]
    others.sort(key=lambda s: (-(s.solv or 0), s.atrp or NOT_FOUND, s.business))
    return out + others
