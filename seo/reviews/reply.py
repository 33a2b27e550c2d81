"""Send approved replies (`reviews.updateReply`, a PUT), each at most once.

For every reply, in order:
1. the privacy lint on the exact text to be sent (a hit refuses it, explained line by line);
2. the ledger (`gbp_review_replies`): a reply already sent for this review and text is skipped;
3. look up before send: the review as Google shows it now. Gone: skipped. Changed since the
   draft was approved: skipped (approve it again). Already carrying our text: adopted, not sent.
   Carrying another reply (someone answered in the Business Profile): skipped, never overwritten;
4. the intent is recorded (SENDING) before the PUT goes out, under the profile's edit limit;
5. a lost answer: the review is looked up again with backoff until our text shows; only if it
   never does is the PUT sent once more (a PUT sets the reply, so this cannot make two).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from ..errors import ExternalError
from ..listing.client import GbpClient, Unanswered
from ..store import Store, now
from ..tables import gbp_review_events, gbp_review_replies, gbp_reviews
from .drafts import version
from .fetch import Review, get_review

Sleep = Callable[[float], None]
LOOKUPS = 4  # after a lost answer: look again after 1, 2, 4, 8 seconds


@dataclass
class Candidate:
    review: str
    location: str
    profile: str  # locations/..., the edit limit's key
    text: str
    source: str  # approved, auto
    version: str = ""  # the review's updateTime it was approved for ("" for auto)


@dataclass
class Outcome:
    review: str
    location: str
    status: str  # sent, adopted, would send, refused, skipped, failed
    detail: str = ""
    source: str = "approved"
    hits: list[str] = field(default_factory=list)  # refused: the privacy lint's lines

    def line(self) -> str:
        return f"{self.status}: {self.review} ({self.location}, {self.source})" + \
            (f": {self.detail}" if self.detail else "")

    def lines(self) -> list[str]:
        """The outcome, then each privacy hit on a line of its own."""
        return [self.line(), *(f"    {h}" for h in self.hits)]


@dataclass
class ReplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def reply_hash(text: str) -> str:
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def same(a: str | None, b: str) -> bool:
    return a is not None and " ".join(a.split()) == " ".join(b.split())


def _ledger(store: Store, review: str, digest: str) -> str | None:
    t = gbp_review_replies.c
    with store.engine.connect() as conn:
        return conn.execute(sa.select(t.state).where(t.review == review,
                                                     t.reply_hash == digest)).scalar()


def _record(store: Store, c: Candidate, digest: str, state: str, run_id: int,
            live: Review | None = None) -> None:
    t = gbp_review_replies.c
    with store.begin() as conn:
        conn.execute(gbp_review_replies.delete().where(t.review == c.review,
                                                       t.reply_hash == digest))
        conn.execute(gbp_review_replies.insert().values(
            review=c.review, reply_hash=digest, location=c.location, comment=c.text,
            source=c.source, state=state, run_id=run_id, at=now()))
        if live is not None:  # the store now knows the review has our reply
            conn.execute(gbp_reviews.update().where(gbp_reviews.c.name == c.review).values(
                reply=live.reply, reply_updated=live.reply_updated))
            conn.execute(gbp_review_events.insert().values(
                review=c.review, location=c.location, event="replied",
                detail=f"by seo ({c.source})", at=now()))


def put_reply(client: GbpClient, name: str, text: str, profile: str) -> dict[str, Any]:
    """The PUT, each attempt under the edit limit. 429 and 5xx are retried with backoff (a PUT
    sets the reply: sending the same text again cannot make two); a lost answer raises
    Unanswered, and the caller looks the review up before anything else."""
    return client._retrying("reviews.updateReply", name, lambda: client._v4(
        "reviews.updateReply", "PUT", f"{name}/reply", body={"comment": text}),
        edit_key=profile, idempotent=False)


def _look_again(client: GbpClient, name: str, text: str, sleep: Sleep) -> Review | None:
    """After a lost answer: the review once our reply shows, else None (after backoff)."""
    for attempt in range(LOOKUPS):
        sleep(2.0 ** attempt)
        live = get_review(client, name)
        if live is not None and same(live.reply, text):
            return live
    return None


def send_one(client: GbpClient | None, store: Store, c: Candidate, run_id: int, sleep: Sleep,
             dry_run: bool) -> Outcome:
    out = Outcome(c.review, c.location, "", source=c.source)
    digest = reply_hash(c.text)
    if _ledger(store, c.review, digest) in ("SENT", "ADOPTED"):
        out.status, out.detail = "skipped", "already sent"
        return out
    if dry_run or client is None:
        out.status, out.detail = "would send", " ".join(c.text.split())[:120]
        return out
    live = get_review(client, c.review)  # look up before send
    if live is None:
        out.status, out.detail = "skipped", "the review is gone from Google"
        return out
    if c.version and c.version != version(live.updated):
        out.status, out.detail = "skipped", ("the review changed since the reply was approved: "
                                             "run `seo reviews draft`, read it, approve again")
        return out
    if same(live.reply, c.text):
        _record(store, c, digest, "ADOPTED", run_id, live)
        out.status, out.detail = "adopted", "Google already shows this reply"
        return out
    if live.reply is not None:
        out.status, out.detail = "skipped", ("already answered at Google (another reply); "
                                             "it is left as it is")
        return out
    _record(store, c, digest, "SENDING", run_id)  # the intent, before anything is sent
    try:
        put_reply(client, c.review, c.text, c.profile)
    except Unanswered:
        found = _look_again(client, c.review, c.text, sleep)
        if found is not None:
            _record(store, c, digest, "SENT", run_id, found)
            out.status, out.detail = "sent", "the answer was lost; Google shows the reply"
            return out
        put_reply(client, c.review, c.text, c.profile)  # never arrived: set it (a PUT, once more)
    found = get_review(client, c.review)
    _record(store, c, digest, "SENT", run_id, found if found and same(found.reply, c.text)
            else None)
    out.status = "sent"
    return out


def send_all(client: GbpClient | None, store: Store, todo: list[Candidate], run_id: int, sleep: Sleep,
             dry_run: bool, result: ReplyResult) -> None:
    for c in todo:
        try:
            result.outcomes.append(send_one(client, store, c, run_id, sleep, dry_run))
        except ExternalError as exc:
            result.outcomes.append(Outcome(c.review, c.location, "failed", str(exc), c.source))
