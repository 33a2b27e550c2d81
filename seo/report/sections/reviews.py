"""The report's reviews: what came in this week (rating, an excerpt, answered or not), what still
needs an answer, the average rating and its trend by month.

Review text and names are a stranger's words: they are cut to one clean line here (control and
bidi characters removed) and the HTML template escapes them (autoescape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ...hostile import plain
from ...reviews.stats import MonthStats, monthly
from ...tables import gbp_review_events, gbp_reviews

if TYPE_CHECKING:
    from ...api import Project
    from ..week import Week

MONTHS = 6
EXCERPT = 160
MAX_UNANSWERED = 8


@dataclass
class ReviewItem:
    when: str  # "Wed 18 Nov"
    stars: int | None
    reviewer: str
    excerpt: str
    answered: bool
    location: str

    @property
    def rating(self) -> str:
        return f"{self.stars}/5" if self.stars else "no rating"

    def line(self) -> str:
        state = "answered" if self.answered else "needs an answer"
        text = f': "{self.excerpt}"' if self.excerpt else " (rating only, no text)"
        return f"{self.when}, {self.rating} from {self.reviewer}{text} ({state})"


@dataclass
class ReviewFacts:
    configured: bool
    has_data: bool = False
    new: list[ReviewItem] = field(default_factory=list)
    unanswered: list[ReviewItem] = field(default_factory=list)  # oldest first
    unanswered_count: int = 0
    unanswered_low: int = 0  # of those, rated 1 or 2
    changed: int = 0
    deleted: int = 0
    total: int = 0
    average: float | None = None
    average_before: float | None = None  # at the start of the week
    months: list[MonthStats] = field(default_factory=list)


def _item(row: dict, week: Week, names: dict[str, str]) -> ReviewItem:
    return ReviewItem(week.day(row['created']), row["stars"],
                      plain(row["reviewer"], 40) or "Anonymous",
                      plain(row["comment"], EXCERPT), row["reply"] is not None,
                      names.get(row["location"], ""))


def _avg(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def reviews_facts(project: Project, week: Week) -> ReviewFacts:
    gbp = project.site.config.integrations.gbp
    facts = ReviewFacts(gbp is not None and gbp.reviews.enabled)
    lo, hi = week.utc_bounds()
    t = gbp_reviews.c
    with project.store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(gbp_reviews).where(t.created < hi).order_by(t.created, t.name))]
        counts = dict(conn.execute(
            sa.select(gbp_review_events.c.event, sa.func.count())
            .where(gbp_review_events.c.at >= lo, gbp_review_events.c.at < hi,
                   gbp_review_events.c.event.in_(["changed", "deleted"]))
            .group_by(gbp_review_events.c.event)).all())
    if not rows:
        return facts
    facts.configured = facts.has_data = True
    several = len(project.site.config.locations) > 1
    names = {loc.id: loc.address.locality for loc in project.site.config.locations} \
        if several else {}
    live = [r for r in rows if r["deleted_on"] is None or r["deleted_on"] >= hi]
    facts.new = [_item(r, week, names) for r in reversed(live) if lo <= r["created"] < hi]
    waiting = [r for r in live if r["reply"] is None]
    facts.unanswered_count = len(waiting)
    facts.unanswered_low = sum(1 for r in waiting if r["stars"] in (1, 2))
    facts.unanswered = [_item(r, week, names) for r in
                        sorted(waiting, key=lambda r: (r["stars"] or 3, r["created"]))[:MAX_UNANSWERED]]
    facts.changed, facts.deleted = counts.get("changed", 0), counts.get("deleted", 0)
    facts.total = len(live)
    facts.average = _avg([r["stars"] for r in live if r["stars"]])
    facts.average_before = _avg([r["stars"] for r in live if r["stars"] and r["created"] < lo])
    facts.months = monthly(project.store, week.end, MONTHS)
    return facts


