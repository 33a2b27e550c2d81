"""Reviews from Google (legacy v4 `accounts.locations.reviews`, paged, every field) into the store,
with what changed since the last fetch: new, changed (rating or text), deleted, restored, and
replies that appeared, changed or went away at Google.

Everything in a review is written by a stranger: it is checked for shape and bounded in size
here, stored as text, escaped wherever it is shown and never read as instructions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from ..errors import ExternalError
from ..listing.client import GbpClient, GoogleError
from ..store import Store, now
from ..tables import gbp_review_events, gbp_reviews

STARS = {"ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4, "FIVE": 5}
NAME_RE = re.compile(r"^accounts/[^/\s]+/locations/[^/\s]+/reviews/[^/\s]+$")
PAGE_SIZE = 50  # Google's maximum for reviews.list
COMMENT_MAX = 10_000  # Google caps reviews at 4,096 characters; anything beyond is not a review
REVIEWER_MAX = 200


@dataclass(frozen=True)
class Review:
    name: str
    review_id: str
    reviewer: str
    anonymous: bool
    stars: int | None
    comment: str
    created: datetime
    updated: datetime
    reply: str | None
    reply_updated: datetime | None


def parse_time(raw: Any) -> datetime:
    """RFC 3339 from Google ("2026-11-10T15:00:00.123Z") as naive UTC, how the store keeps times."""
    if not isinstance(raw, str) or not raw:
        raise ValueError("missing time")
    text = re.sub(r"(\.\d{6})\d+", r"\1", raw.replace("z", "Z"))  # nanoseconds -> microseconds
    stamp = datetime.fromisoformat(text)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(UTC).replace(tzinfo=None)
    return stamp


def parse_review(raw: Any) -> Review:
    """One review from Google's JSON; ValueError when it is not shaped like one."""
    if not isinstance(raw, dict):
        raise ValueError("not an object")
    name = raw.get("name")
    if not isinstance(name, str) or len(name) > 256 or not NAME_RE.match(name):
        raise ValueError(f"bad review name {str(name)[:80]!r}")
    reviewer = raw.get("reviewer") if isinstance(raw.get("reviewer"), dict) else {}
    comment = raw.get("comment", "")
    if not isinstance(comment, str):
        raise ValueError("comment is not text")
    reply = raw.get("reviewReply")
    reply_text: str | None = None
    reply_time: datetime | None = None
    if isinstance(reply, dict) and isinstance(reply.get("comment"), str):
        reply_text = reply["comment"][:COMMENT_MAX]
        reply_time = parse_time(reply.get("updateTime")) if reply.get("updateTime") else None
    created = parse_time(raw.get("createTime"))
    return Review(
        name=name, review_id=str(raw.get("reviewId") or name.rsplit("/", 1)[-1])[:128],
        reviewer=str(reviewer.get("displayName") or "")[:REVIEWER_MAX],
        anonymous=bool(reviewer.get("isAnonymous")),
        stars=STARS.get(str(raw.get("starRating"))), comment=comment[:COMMENT_MAX],
        created=created, updated=parse_time(raw.get("updateTime") or raw.get("createTime")),
        reply=reply_text, reply_updated=reply_time)


@dataclass
class Listing:
    reviews: list[Review]
    complete: bool  # every page read (deletions can only be told from a complete listing)
    average: float | None
    total: int | None
    skipped: int = 0  # malformed entries left out


def list_reviews(client: GbpClient, parent: str, max_pages: int) -> Listing:
    out: list[Review] = []
    skipped = 0
    token = ""
    average: float | None = None
    total: int | None = None
    for _ in range(max_pages):
        params: dict[str, Any] = {"pageSize": PAGE_SIZE}
        if token:
            params["pageToken"] = token
        page = client._retrying("reviews.list", parent, lambda p=params: client._v4(
            "reviews.list", "GET", f"{parent}/reviews", params=p))
        items = page.get("reviews") or []
        if not isinstance(items, list):
            raise ExternalError(f"reviews.list {parent}: malformed answer from Google")
        for item in items:
            try:
                out.append(parse_review(item))
            except (ValueError, TypeError):
                skipped += 1
        if isinstance(page.get("averageRating"), int | float):
            average = float(page["averageRating"])
        if isinstance(page.get("totalReviewCount"), int):
            total = page["totalReviewCount"]
        token = page.get("nextPageToken") or ""
        if not isinstance(token, str) or not token:
            return Listing(out, True, average, total, skipped)
    return Listing(out, False, average, total, skipped)


def get_review(client: GbpClient, name: str) -> Review | None:
    """The review as Google shows it now; None when it is gone (404)."""
    try:
        raw = client._retrying("reviews.get", name, lambda: client._v4("reviews.get", "GET", name))
    except GoogleError as exc:
        if exc.status == 404:
            return None
        raise
    try:
        return parse_review(raw)
    except (ValueError, TypeError):
        raise ExternalError(f"reviews.get {name}: malformed answer from Google") from None


@dataclass
class SyncResult:
    location: str
    parent: str
    fetched: int = 0
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    replied: list[str] = field(default_factory=list)  # replies that appeared at Google
    complete: bool = True
    average: float | None = None
    total: int | None = None
    warnings: list[str] = field(default_factory=list)


def _row(r: Review, location: str) -> dict[str, Any]:
    return {"name": r.name, "location": location, "review_id": r.review_id,
            "reviewer": r.reviewer, "anonymous": r.anonymous, "stars": r.stars,
            "comment": r.comment, "created": r.created, "updated": r.updated, "reply": r.reply,
            "reply_updated": r.reply_updated}


def _changes(old: dict[str, Any], new: Review) -> list[tuple[str, str]]:
    events = []
    if old["stars"] != new.stars or old["comment"] != new.comment:
        what = []
        if old["stars"] != new.stars:
            what.append(f"rating {old['stars'] or '?'} -> {new.stars or '?'}")
        if old["comment"] != new.comment:
            what.append("text edited" if old["comment"] and new.comment else
                        ("text added" if new.comment else "text removed"))
        events.append(("changed", ", ".join(what)))
    if old["reply"] != new.reply:
        if old["reply"] is None:
            events.append(("replied", "a reply appeared at Google"))
        elif new.reply is None:
            events.append(("reply_removed", "the reply was removed at Google"))
        else:
            events.append(("reply_changed", "the reply was changed at Google"))
    return events


def sync_location(client: GbpClient, store: Store, location: str, parent: str,
                  max_pages: int) -> SyncResult:
    result = SyncResult(location, parent)
    listing = list_reviews(client, parent, max_pages)
    result.fetched, result.complete = len(listing.reviews), listing.complete
    result.average, result.total = listing.average, listing.total
    if listing.skipped:
        result.warnings.append(f"{listing.skipped} malformed review(s) from Google left out")
    if not listing.complete:
        result.warnings.append(f"more than {max_pages * PAGE_SIZE} reviews: the rest were not "
                               "read (integrations.gbp.reviews.max_pages); none marked deleted")
    stamp = now()
    t = gbp_reviews.c
    with store.begin() as conn:  # one transaction: a crash leaves the last fetch as it was
        stored = {r.name: dict(r._mapping) for r in conn.execute(
            sa.select(gbp_reviews).where(t.location == location))}
        events: list[dict[str, Any]] = []
        seen: set[str] = set()
        for r in listing.reviews:
            if r.name in seen:
                continue
            seen.add(r.name)
            old = stored.get(r.name)
            if old is None:
                conn.execute(gbp_reviews.insert().values(
                    **_row(r, location), first_seen=stamp, last_seen=stamp, deleted_on=None))
                result.new.append(r.name)
                events.append({"review": r.name, "event": "new",
                               "detail": f"{r.stars or '?'} stars"})
                continue
            for event, detail in _changes(old, r):
                events.append({"review": r.name, "event": event, "detail": detail})
                if event == "changed":
                    result.changed.append(r.name)
                elif event == "replied":
                    result.replied.append(r.name)
            if old["deleted_on"] is not None:
                result.restored.append(r.name)
                events.append({"review": r.name, "event": "restored", "detail": ""})
            conn.execute(gbp_reviews.update().where(t.name == r.name).values(
                **_row(r, location), last_seen=stamp, deleted_on=None))
        gone = [n for n, row in stored.items() if n not in seen and row["deleted_on"] is None]
        live_before = sum(1 for row in stored.values() if row["deleted_on"] is None)
        if gone and listing.complete:
            if len(gone) > 5 and len(gone) * 2 > live_before:
                result.warnings.append(f"{len(gone)} of {live_before} stored reviews are missing "
                                       "from Google's answer: not marked deleted (check again)")
            else:
                conn.execute(gbp_reviews.update().where(t.name.in_(gone)).values(deleted_on=stamp))
                result.deleted = sorted(gone)
                events += [{"review": n, "event": "deleted", "detail": ""} for n in gone]
        if events:
            conn.execute(gbp_review_events.insert(), [
                {**e, "location": location, "at": stamp} for e in events])
    return result
