"""Posts: one STANDARD post per new or substantially changed page, a weekly rotation when nothing
is new, and never the same post twice.

Each post has a key (location + page + content hash, + the ISO week for a rotation) that is stored
in `listing_posts` *and* written into the post's UTM link (utm_content). Before creating a post the
location's posts are looked up at Google by that key: a post sent by a run that crashed (or whose
answer was lost when the connection dropped) is found and adopted, not made again. Google can also
finish a create after the client gave up on it: an unanswered create is looked for again with
backoff, and a post still missing stays SENDING (claimed in the store, so no other process sends
it) until the next run finds it, or `resend_after` has passed without it appearing.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..errors import ExternalError
from ..pages.guard import main_text
from ..settings import GbpSettings, Location
from ..site import Site
from ..store import Store, now, pages
from ..tables import listing_posts, page_status
from .client import GbpClient, GoogleError, Sleep, Unanswered
from .desired import utm

SUMMARY_MAX = 1500
_META = re.compile(r'<meta name="description" content="([^"]*)"', re.I)
_H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[a-z0-9']+")


@dataclass
class PostPlan:
    key: str
    location: str
    page: str
    content_hash: str
    reason: str  # new, changed, rotation
    summary: str
    url: str
    page_text: str


@dataclass
class PostsResult:
    planned: list[PostPlan] = field(default_factory=list)
    created: list[str] = field(default_factory=list)  # post names
    adopted: list[str] = field(default_factory=list)  # found at Google, sent by an earlier try
    unresolved: list[str] = field(default_factory=list)  # pages: sent, not found yet (SENDING)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (page, post name)
    live: int = 0
    processing: int = 0
    waiting: int = 0  # candidates left for the next run (max_per_run)
    not_live: int = 0  # pages not verified live with their current content: never posted
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False


def page_summary(page_html: str) -> tuple[str, str]:
    """(summary written from the page: its heading and description, the page's main text)."""
    h1 = _H1.search(page_html)
    meta = _META.search(page_html)
    head = " ".join(html.unescape(_TAG.sub(" ", h1.group(1))).split()) if h1 else ""
    desc = " ".join(html.unescape(meta.group(1)).split()) if meta else ""
    summary = f"{head}. {desc}" if head and desc and not head.endswith((".", "?", "!")) else \
        " ".join(x for x in (head, desc) if x)
    return summary[:SUMMARY_MAX], " ".join(main_text(page_html).split())


def changed_share(old: str, new: str) -> float:
    """1 - Jaccard resemblance of the two texts' word 3-shingles: the share that is new."""
    def grams(text: str) -> set[tuple[str, ...]]:
        words = _WORD.findall(text.lower())
        return {tuple(words[i:i + 3]) for i in range(max(len(words) - 2, 1))}
    a, b = grams(old), grams(new)
    return 1.0 - len(a & b) / len(a | b) if a | b else 0.0


def post_key(location: str, page: str, content_hash: str, occasion: str = "") -> str:
    return hashlib.sha256(f"{location}|{page}|{content_hash}|{occasion}".encode()).hexdigest()[:20]


def _serves(site: Site, loc: Location, row: dict[str, Any]) -> bool:
    """Town pages go to the location serving the town; others to every location."""
    if not row["town"]:
        return True
    town = next((t for t in site.towns if t.slug == row["town"]), None)  # gone: not built yet
    return town is not None and town.location.id == loc.id


def plan_posts(site: Site, store: Store, settings: GbpSettings, loc: Location, today: date,
               result: PostsResult) -> list[PostPlan]:
    cfg = settings.posts
    out_dir = site.path(site.config.site.output)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(
            sa.select(pages).where(pages.c.removed.is_(None)).order_by(pages.c.first_published,
                                                                       pages.c.path))]
        posted = [dict(r._mapping) for r in conn.execute(
            sa.select(listing_posts).where(listing_posts.c.location == loc.id)
            .order_by(listing_posts.c.created_on, listing_posts.c.key))]
        live = dict(conn.execute(sa.select(page_status.c.path, page_status.c.live_hash)).all())
    rows = [r for r in rows if r["indexable"] and _serves(site, loc, r)]
    # only pages verified live with this content (`seo verify`): a post never links to a 404
    result.not_live = max(result.not_live,
                          sum(1 for r in rows if live.get(r["path"]) != r["content_hash"]))
    rows = [r for r in rows if live.get(r["path"]) == r["content_hash"]]
    done = {p["key"] for p in posted if p["state"] != "SENDING"}
    posted = [p for p in posted if p["key"] in done]  # a SENDING row is retried (and looked up)
    last: dict[str, dict[str, Any]] = {}
    for p in posted:
        last[p["page"]] = p

    def make(row: dict[str, Any], reason: str, occasion: str = "") -> PostPlan | None:
        file = out_dir / (row["path"].lstrip("/") + "index.html")
        if not file.exists():
            result.warnings.append(f"{row['path']}: not built; run `seo pages build`")
            return None
        summary, text = page_summary(file.read_text(encoding="utf-8"))
        key = post_key(loc.id, row["path"], row["content_hash"], occasion)
        url = utm(site.config.business.url + row["path"].lstrip("/"), settings.utm.source,
                  settings.utm.medium, settings.utm.post_campaign, key)
        return PostPlan(key, loc.id, row["path"], row["content_hash"], reason, summary, url, text)

    todo: list[PostPlan] = []
    for row in rows:
        if row["kind"] not in cfg.kinds:
            continue
        prev = last.get(row["path"])
        if prev is None:
            plan = make(row, "new")
        elif prev["content_hash"] != row["content_hash"]:
            plan = make(row, "changed")
            if plan and changed_share(prev["page_text"], plan.page_text) < cfg.substantial_change:
                plan = None
        else:
            continue
        if plan and plan.key not in done:
            todo.append(plan)
    if not todo and cfg.rotation:
        recent = [p for p in posted if p["created_on"] > today - timedelta(days=cfg.rotation_days)]
        turn = [r for r in sorted(rows, key=lambda r: r["path"]) if r["kind"] in cfg.rotation_kinds]
        if not recent and turn:
            turn.sort(key=lambda r: (last[r["path"]]["created_on"] if r["path"] in last
                                     else date.min, r["path"]))
            year, week, _ = today.isocalendar()
            plan = make(turn[0], "rotation", f"rotation-{year}-W{week:02d}")
            if plan and plan.key not in done:
                todo.append(plan)
    result.waiting += max(len(todo) - cfg.max_per_run, 0)
    return todo[: cfg.max_per_run]


def _by_key(posts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for post in posts:
        url = str((post.get("callToAction") or {}).get("url", ""))
        m = re.search(r"[?&]utm_content=([0-9a-f]+)", url)
        if m:
            found[m.group(1)] = post
    return found


class Claim:
    NEW = "new"  # no row yet: ours
    RESEND = "resend"  # SENDING long enough ago and not at Google: ours to send again
    BUSY = "busy"  # SENDING recently (an unanswered create, or another process on it)
    DONE = "done"  # another process finished it meanwhile


def _claim(store: Store, plan: PostPlan, today: date, resend_after: timedelta) -> str:
    """Take the post's key in the store, atomically, before anything is sent: the primary key
    (new) or a compare-and-set on `updated_at` (resend), so two processes never both send it."""
    values = {"location": plan.location, "page": plan.page, "content_hash": plan.content_hash,
              "reason": plan.reason, "summary": plan.summary, "page_text": plan.page_text,
              "post_name": None, "state": "SENDING", "search_url": "", "created_on": today}
    try:
        with store.begin() as conn:
            conn.execute(listing_posts.insert().values(key=plan.key, updated_at=now(), **values))
        return Claim.NEW
    except sa.exc.IntegrityError:
        pass
    with store.begin() as conn:
        row = conn.execute(sa.select(listing_posts.c.state, listing_posts.c.updated_at)
                           .where(listing_posts.c.key == plan.key)).first()
        if row is None or row.state != "SENDING":
            return Claim.DONE
        if row.updated_at > now() - resend_after:
            return Claim.BUSY
        taken = conn.execute(listing_posts.update().where(
            listing_posts.c.key == plan.key, listing_posts.c.state == "SENDING",
            listing_posts.c.updated_at == row.updated_at).values(updated_at=now(), **values))
        return Claim.RESEND if taken.rowcount == 1 else Claim.BUSY


def _release(store: Store, key: str) -> None:
    """Google answered a create with an error: nothing was made, the next run may try at once."""
    with store.begin() as conn:
        conn.execute(listing_posts.delete().where(listing_posts.c.key == key,
                                                  listing_posts.c.state == "SENDING"))


def await_post(client: GbpClient, parent: str, key: str, wait: float,
               sleep: Sleep) -> dict[str, Any] | None:
    """Look for a post by its key now, then with doubling pauses (1, 2, 4 ... s) until `wait`
    seconds have passed: Google may finish a create after the client stopped waiting for it."""
    waited, pause = 0.0, 1.0
    while True:
        post = _by_key(client.list_posts(parent)).get(key)
        if post is not None or waited >= wait:
            return post
        pause = min(pause, wait - waited)
        sleep(pause)
        waited += pause
        pause *= 2


def send_posts(client: GbpClient, store: Store, settings: GbpSettings, parent: str, profile: str,
               todo: list[PostPlan], language: str, today: date, result: PostsResult,
               sleep: Sleep) -> None:
    """Create the planned posts, each at most once: looked up at Google by key first, claimed in
    the store, and after a create without an answer looked for again (up to `lookup_wait`) instead
    of created again. A post still not found stays SENDING; the next run looks again and creates
    it only once `resend_after` has passed. After such a post this run sends no more."""
    if not todo:
        return
    cfg = settings.posts
    at_google = _by_key(client.list_posts(parent))  # look up before create
    sent: list[str] = []
    for n, plan in enumerate(todo):
        post = at_google.get(plan.key)
        if post is not None:  # sent by an earlier try whose answer was lost
            _claim(store, plan, today, timedelta(0))
            result.adopted.append(post["name"])
            _record(store, plan.key, post)
            sent.append(plan.key)
            continue
        claim = _claim(store, plan, today, timedelta(minutes=cfg.resend_after))
        if claim == Claim.DONE:
            continue
        if claim == Claim.BUSY:
            result.unresolved.append(plan.page)
            continue
        body = {"languageCode": language, "summary": plan.summary, "topicType": "STANDARD",
                "callToAction": {"actionType": cfg.action, "url": plan.url}}
        try:
            post = client.create_post(parent, body, profile)
            result.created.append(post["name"])
        except GoogleError as exc:
            if exc.status >= 500:  # Google may have made it anyway
                post = None
            else:
                _release(store, plan.key)
                raise
        except Unanswered:
            post = None
        except ExternalError:  # a malformed answer: it may have been made
            post = None
        if post is None:
            post = await_post(client, parent, plan.key, cfg.lookup_wait, sleep)
            if post is None:
                result.unresolved.append(plan.page)
                result.warnings.append(
                    f"{plan.page}: Google did not answer the create and does not list the post "
                    f"after {cfg.lookup_wait:g}s; left for the next run, which looks for it again "
                    f"(created again only after {cfg.resend_after} minutes)")
                result.waiting += len(todo) - n - 1
                break
            result.adopted.append(post["name"])
        _record(store, plan.key, post)
        sent.append(plan.key)
    poll(client, store, settings, sent, result, sleep)


def _record(store: Store, key: str, post: dict[str, Any]) -> None:
    with store.begin() as conn:
        conn.execute(listing_posts.update().where(listing_posts.c.key == key).values(
            post_name=post["name"], state=str(post.get("state") or "PROCESSING"),
            search_url=str(post.get("searchUrl") or ""), updated_at=now()))


def poll(client: GbpClient, store: Store, settings: GbpSettings, keys: list[str] | None,
         result: PostsResult, sleep: Sleep, location: str = "") -> None:
    """Ask Google for the state of posts still PROCESSING (these keys, or all of a location)."""
    query = sa.select(listing_posts).where(listing_posts.c.state == "PROCESSING")
    query = query.where(listing_posts.c.key.in_(keys)) if keys is not None else \
        query.where(listing_posts.c.location == location)
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(query.order_by(listing_posts.c.key))]
    for row in rows:
        state = "PROCESSING"
        for attempt in range(max(settings.posts.poll_attempts, 1)):
            post = client.get_post(row["post_name"])
            state = str(post.get("state") or "PROCESSING")
            if state != "PROCESSING":
                break
            if attempt + 1 < settings.posts.poll_attempts:
                sleep(2.0 * (attempt + 1))
        _record(store, row["key"], {**post, "state": state})
        if state == "REJECTED":
            result.rejected.append((row["page"], row["post_name"]))
        elif state == "LIVE":
            result.live += 1
        else:
            result.processing += 1
