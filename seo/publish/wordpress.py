"""The `wordpress` target: every page as a WordPress page, in the hierarchy of its URL path.

`/parker/sciatica/` is page `sciatica` under page `parker`; an intermediate path with no page of its
own (`/conditions/`) gets a private container page so that the children sit at the right URL. The
page body is the page's main content; its title, meta description, canonical, robots and JSON-LD are
page meta that the companion plugin (`wordpress/seo-publish`) prints in the head.

What the tool owns is marked: `_seo_path` in the page's meta. It never touches another page. A page
whose `_seo_hash` equals what it would send is not sent; a page that left the plan becomes a draft
(never deleted); a page staff edited in WordPress since the tool wrote it (the plugin keeps a
fingerprint of the tool's own writes) is reported and left alone unless `force`. A path held by a
page the tool did not create is reported as a conflict and left alone. Writes go level by level
(parents first), in batches of up to 25 through /batch/v1.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..errors import ExternalError, UserError
from ..settings import WordPressTarget
from ..site import Site
from .extract import page_parts
from .source import Built, BuiltPage
from .targets import Progress, TargetReport
from .wp_client import Unanswered, WpClient

FORMAT = "1"  # bump when what is sent for a page changes: every page is sent again once
PLUGIN_MAJOR = "1."
STATUSES = "publish,future,draft,pending,private,trash"
LIST_FIELDS = "id,slug,parent,status,link,meta._seo_path,meta._seo_hash,meta._seo_role,seo"
WRITE_FIELDS = "id,slug,parent,status,link"
PER_PAGE = 100
MAX_LIST_PAGES = 2000  # 200,000 pages: a bound on the listing loop
HOME_SLUG = "home"


@dataclass
class Remote:
    id: int
    slug: str
    parent: int
    status: str
    link: str
    seo_path: str = ""  # the tool's pages only
    seo_hash: str = ""
    role: str = ""
    edited: bool = False
    path: str = ""  # where it sits now, computed from the slug chain

    @property
    def ours(self) -> bool:
        return bool(self.seo_path)


@dataclass
class Want:
    path: str
    slug: str
    parent_path: str  # "" for top level
    role: str  # page, container
    payload: dict[str, Any]
    hash: str
    page: BuiltPage | None = None

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/") + 1 if self.path != "/" else 0


@dataclass
class Plan:
    creates: list[Want] = field(default_factory=list)
    updates: list[tuple[Want, Remote]] = field(default_factory=list)
    drafts: list[Remote] = field(default_factory=list)
    front_page: bool = False  # set the home page as the front page after writing it
    parents: dict[str, int] = field(default_factory=dict)  # path -> page id to hang children on


def _hash(payload: dict[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "meta"}
    body["meta"] = {k: v for k, v in payload["meta"].items() if k != "_seo_hash"}
    return hashlib.sha256((FORMAT + json.dumps(body, sort_keys=True)).encode()).hexdigest()


def _split(path: str) -> tuple[str, str]:
    """("/parker/sciatica/") -> ("sciatica", "/parker/"); "/" -> (home, "")."""
    if path == "/":
        return HOME_SLUG, ""
    parts = path.strip("/").split("/")
    return parts[-1], ("/" + "/".join(parts[:-1]) + "/") if len(parts) > 1 else "/"


class WordPress:
    kind = "wordpress"

    def __init__(self, site: Site, cfg: WordPressTarget, key: str, client: WpClient | None = None,
                 sleep: Any = time.sleep) -> None:
        self.site, self.cfg, self.key = site, cfg, key
        self.name = cfg.label
        self._client = client
        self._sleep = sleep
        self.base_path = urlsplit(cfg.url).path or "/"

    def live_base(self) -> str | None:
        return self.cfg.url

    def client(self) -> WpClient:
        if self._client is None:
            self._client = WpClient(self.cfg, key=self.key, sleep=self._sleep)
        return self._client

    # -- what the site holds -----------------------------------------------------------------------

    def status(self, client: WpClient) -> dict[str, Any]:
        try:
            data, _ = client.get("/seo-publish/v1/status")
        except ExternalError as exc:
            if "HTTP 404" in str(exc):
                raise UserError(f"the companion plugin is not active on {self.cfg.url}: install "
                                "wordpress/seo-publish (README: WordPress) and activate it",
                                file="config/site.yaml", key=f"{self.key}.url") from None
            raise
        if not isinstance(data, dict) or not str(data.get("version", "")).startswith(PLUGIN_MAJOR):
            raise ExternalError("the companion plugin answered with an unknown version; install the "
                                "one from this project's wordpress/ folder")
        if not data.get("permalinks"):
            raise UserError("WordPress permalinks are set to Plain: pages would not sit at their "
                            "paths; choose 'Post name' in Settings > Permalinks",
                            file="config/site.yaml", key=f"{self.key}.url")
        if not data.get("publish_pages"):
            raise UserError(f"WordPress user {self.cfg.user!r} may not publish pages: give it the "
                            "Editor or Administrator role", file="config/site.yaml",
                            key=f"{self.key}.user")
        return data

    def remote_pages(self, client: WpClient) -> dict[int, Remote]:
        pages: dict[int, Remote] = {}
        for number in range(1, MAX_LIST_PAGES + 1):
            data, headers = client.get("/wp/v2/pages", {
                "status": STATUSES, "per_page": PER_PAGE, "page": number, "context": "edit",
                "orderby": "id", "order": "asc", "_fields": LIST_FIELDS})
            if not isinstance(data, list):
                raise ExternalError("WordPress answered the page list with something that is not a list")
            for item in data:
                remote = _remote(item)
                pages[remote.id] = remote
            total = headers.get("x-wp-totalpages", "1")
            if not data or number >= (int(total) if total.isdigit() else 1):
                break
        for remote in pages.values():
            remote.path = _path_of(remote, pages)
        return pages

    # -- what we want ------------------------------------------------------------------------------

    def wants(self, built: Built) -> dict[str, Want]:
        wants: dict[str, Want] = {}
        for page in built.pages.values():
            if page.path == "/" and not self.cfg.front_page:
                continue
            parts = page_parts(built.text(page))
            slug, parent = _split(page.path)
            payload = {
                "title": parts.h1 or parts.title, "content": self._rebase(parts.body),
                "slug": slug, "status": "publish", "comment_status": "closed", "ping_status": "closed",
                "parent_path": parent,
                "meta": {"_seo_path": page.path, "_seo_role": "page", "_seo_title": parts.title,
                         "_seo_description": parts.description, "_seo_canonical": parts.canonical,
                         "_seo_robots": parts.robots, "_seo_jsonld": parts.jsonld, "_seo_hash": ""}}
            wants[page.path] = Want(page.path, slug, parent, "page", payload, "", page)
        for path in sorted(wants):  # containers for intermediate paths without a page
            parent = wants[path].parent_path
            while parent and parent != "/" and parent not in wants:
                slug, up = _split(parent)
                title = slug.replace("-", " ").capitalize()
                payload = {"title": title, "content": "", "slug": slug, "status": "private",
                           "comment_status": "closed", "ping_status": "closed", "parent_path": up,
                           "meta": {"_seo_path": parent, "_seo_role": "container", "_seo_hash": ""}}
                wants[parent] = Want(parent, slug, up, "container", payload, "")
                parent = up
        for want in wants.values():
            want.hash = _hash(want.payload)
            want.payload["meta"]["_seo_hash"] = want.hash
        return wants

    def _rebase(self, body: str) -> str:
        """Brackets as character references (WordPress runs shortcodes over the whole page in block
        themes: text from content must never become one); root-relative links point below
        WordPress's own folder when it has one."""
        body = body.replace("[", "&#91;").replace("]", "&#93;")
        if self.base_path == "/":
            return body
        prefix = self.base_path.rstrip("/")
        return re.sub(r'(\s(?:href|src)=")/(?!/)', lambda m: f"{m.group(1)}{prefix}/", body)

    # -- plan --------------------------------------------------------------------------------------

    def plan(self, built: Built, remote: dict[int, Remote], status: dict[str, Any], force: bool,
             report: TargetReport) -> tuple[Plan, dict[str, Want], dict[str, Remote]]:
        wants = self.wants(built)
        ours: dict[str, Remote] = {}
        for r in sorted(remote.values(), key=lambda r: r.id):
            if r.ours and r.seo_path not in ours:
                ours[r.seo_path] = r
        foreign = {r.path: r for r in remote.values() if not r.ours and r.status != "trash"}
        front = int(status.get("page_on_front") or 0)
        plan = Plan(parents={path: r.id for path, r in foreign.items()})
        plan.parents.update({path: r.id for path, r in ours.items()})
        for path in [p for p, w in wants.items() if w.role == "container" and p in foreign]:
            del wants[path]  # a page of the site's own holds the folder: children go under it
        site_front_is_theirs = (status.get("show_on_front") == "page" and front
                                and (front not in remote or not remote[front].ours))
        for path in sorted(wants, key=lambda p: (wants[p].depth, p)):
            want = wants[path]
            mine = ours.get(path)
            if path == "/":
                if site_front_is_theirs and not force:
                    report.add("skip", path, "the site's front page is its own page (Settings > "
                                             "Reading); --force makes this the front page")
                    report.states[path] = ("conflict", "front page is the site's own")
                    del wants[path]
                    continue
                plan.front_page = mine is None or front != mine.id
            if mine is None:
                holder = foreign.get(path)
                if holder is not None and path != "/":
                    report.add("skip", path, f"WordPress page {holder.id} (not created by this "
                                             "tool) already holds this path; left alone")
                    report.states[path] = ("conflict", f"held by WordPress page {holder.id}")
                    continue
                plan.creates.append(want)
                continue
            moved = path != "/" and mine.path != path
            if mine.status == "trash" and not force:
                report.add("skip", path, f"in WordPress's trash (page {mine.id}); --force restores it")
                report.states[path] = ("edited", "trashed in WordPress")
                continue
            if (mine.edited or moved) and not force:
                why = f"moved to {mine.path}" if moved else "edited"
                report.add("skip", path, f"{why} in WordPress since the last publish (page "
                                         f"{mine.id}); left alone, --force overwrites it")
                report.states[path] = ("edited", f"{why} in WordPress")
                continue
            if (mine.seo_hash == want.hash and mine.status == want.payload["status"]
                    and not moved and not mine.edited):
                report.add("unchanged", path)
                if want.page is not None:
                    report.published[path] = want.page.content_hash
                    report.remote_ids[path] = str(mine.id)
                continue
            plan.updates.append((want, mine))
        for path, mine in sorted(ours.items()):
            if path in wants or mine.status in ("draft", "trash"):
                continue
            if mine.edited and not force:
                report.add("skip", path, f"left the plan but was edited in WordPress (page "
                                         f"{mine.id}); left alone, --force makes it a draft")
                continue
            plan.drafts.append(mine)
        for want in plan.creates:
            report.add("create", want.path, "container, private" if want.role == "container" else "")
        for want, mine in plan.updates:
            report.add("update", want.path, f"page {mine.id}" + (", container" if want.role ==
                                                                  "container" else ""))
        for mine in plan.drafts:
            report.add("remove", mine.seo_path, f"page {mine.id} becomes a draft")
        return plan, wants, ours

    # -- publish -----------------------------------------------------------------------------------

    def publish(self, built: Built, *, dry_run: bool, force: bool,
                progress: Progress | None = None) -> TargetReport:
        started = time.monotonic()
        report = TargetReport(self.name, self.kind, dry_run)
        client = self.client()
        try:
            status = self.status(client)
            if not status.get("blog_public", True):
                report.warnings.append("WordPress is set to discourage search engines (Settings > "
                                       "Reading): every page is noindex until that is unticked")
            if not status.get("unfiltered_html", True):
                report.warnings.append(f"user {self.cfg.user!r} lacks unfiltered_html: WordPress may "
                                       "strip markup from the pages (use an Administrator or Editor)")
            business = self.site.config.business.url
            if business != self.cfg.url:
                report.warnings.append(f"business.url {business} is not the WordPress url "
                                       f"{self.cfg.url}: canonicals point to {business}")
            remote = self.remote_pages(client)
            plan, wants, ours = self.plan(built, remote, status, force, report)
            if not dry_run:
                self._apply(client, plan, wants, ours, status, report, progress)
        finally:
            report.requests = client.requests
            report.writes = client.writes
            report.seconds = time.monotonic() - started
        return report

    def _apply(self, client: WpClient, plan: Plan, wants: dict[str, Want], ours: dict[str, Remote],
               status: dict[str, Any], report: TargetReport, progress: Progress | None) -> None:
        ids = dict(plan.parents)
        levels = sorted({w.depth for w in plan.creates} | {w.depth for w, _ in plan.updates})
        total = len(plan.creates) + len(plan.updates) + len(plan.drafts)
        done = 0
        for depth in levels:
            creates = [w for w in plan.creates if w.depth == depth]
            updates = [(w, r) for w, r in plan.updates if w.depth == depth]
            for chunk in _chunks(creates, self.cfg.batch_size):
                self._send_creates(client, chunk, ids, report)
                done += len(chunk)
                if progress:
                    progress("wordpress", done, total)
            for chunk in _chunks(updates, self.cfg.batch_size):
                items = [("POST", f"/wp/v2/pages/{r.id}?_fields={WRITE_FIELDS}",
                          self._body(w, ids)) for w, r in chunk]
                client.writes += len(items)
                answers = client.batch(items, creates=False)
                for (want, _r), (code, body) in zip(chunk, answers, strict=True):
                    self._written(want, code, body, ids, report)
                done += len(chunk)
                if progress:
                    progress("wordpress", done, total)
        for chunk in _chunks(plan.drafts, self.cfg.batch_size):
            items = [("POST", f"/wp/v2/pages/{r.id}?_fields={WRITE_FIELDS}", {"status": "draft"})
                     for r in chunk]
            client.writes += len(items)
            for r, (code, body) in zip(chunk, client.batch(items, creates=False), strict=True):
                if code >= 300:
                    raise ExternalError(f"WordPress refused to make page {r.id} ({r.seo_path}) a draft: "
                                        f"{_why(body)}")
                report.states[r.seo_path] = ("draft", f"page {r.id}")
            done += len(chunk)
            if progress:
                progress("wordpress", done, total)
        if plan.front_page and "/" in ids:
            self._set_front_page(client, ids["/"], status, report)

    def _body(self, want: Want, ids: dict[str, int]) -> dict[str, Any]:
        body = {k: v for k, v in want.payload.items() if k != "parent_path"}
        parent = want.parent_path
        body["parent"] = 0 if parent in ("", "/") else ids.get(parent, 0)
        if parent not in ("", "/") and not body["parent"]:
            raise ExternalError(f"no WordPress page for {parent}, the parent of {want.path}")
        return body

    def _send_creates(self, client: WpClient, chunk: list[Want], ids: dict[str, int],
                      report: TargetReport) -> None:
        items = [("POST", f"/wp/v2/pages?_fields={WRITE_FIELDS}", self._body(w, ids)) for w in chunk]
        client.writes += len(items)
        try:
            answers = client.batch(items, creates=True)
        except Unanswered:
            # WordPress may have made some of them: adopt those, then send only the rest
            found = self._find_ours(client, chunk)
            rest = [w for w in chunk if w.path not in found]
            for want in chunk:
                if want.path in found:
                    ids[want.path] = found[want.path]
            if rest:
                self._send_creates(client, rest, ids, report)
            for want in chunk:
                if want.path in found:
                    self._mark(want, found[want.path], report)
            return
        for want, (code, body) in zip(chunk, answers, strict=True):
            self._written(want, code, body, ids, report)

    def _find_ours(self, client: WpClient, chunk: list[Want]) -> dict[str, int]:
        data, _ = client.get("/wp/v2/pages", {
            "status": STATUSES, "context": "edit", "seo_managed": 1, "per_page": PER_PAGE,
            "slug": ",".join(w.slug for w in chunk), "_fields": LIST_FIELDS})
        found: dict[str, int] = {}
        for item in data if isinstance(data, list) else []:
            r = _remote(item)
            if r.ours:
                found.setdefault(r.seo_path, r.id)
        return found

    def _written(self, want: Want, code: int, body: Any, ids: dict[str, int],
                 report: TargetReport) -> None:
        if code >= 300 or not isinstance(body, dict) or not isinstance(body.get("id"), int):
            raise ExternalError(f"WordPress refused {want.path}: {_why(body)}")
        ids[want.path] = body["id"]
        link_path = urlsplit(str(body.get("link", ""))).path
        expected = self.base_path.rstrip("/") + want.path
        if want.path != "/" and want.role == "page" and link_path != expected:
            raise ExternalError(f"WordPress put {want.path} at {link_path or '?'} (page {body['id']}): "
                                "is the slug reserved or taken by a post?")
        self._mark(want, body["id"], report)

    def _mark(self, want: Want, page_id: int, report: TargetReport) -> None:
        if want.page is not None:
            report.published[want.path] = want.page.content_hash
            report.remote_ids[want.path] = str(page_id)
        report.states[want.path] = ("published", f"page {page_id}")

    def _set_front_page(self, client: WpClient, page_id: int, status: dict[str, Any],
                        report: TargetReport) -> None:
        if not status.get("manage_options"):
            report.warnings.append(f"user {self.cfg.user!r} cannot change Settings > Reading: set "
                                   f"the front page to page {page_id} by hand")
            report.published.pop("/", None)
            return
        client.post("/wp/v2/settings", {"show_on_front": "page", "page_on_front": page_id})

    def rollback(self, *, dry_run: bool) -> TargetReport:
        raise UserError("rollback works for ssh targets only (WordPress keeps each page's revisions: "
                        "restore one in the page editor)", key="--rollback")


def _remote(item: Any) -> Remote:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise ExternalError("WordPress answered the page list with a malformed page")
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    seo = item.get("seo") if isinstance(item.get("seo"), dict) else {}
    return Remote(id=item["id"], slug=str(item.get("slug") or ""), parent=int(item.get("parent") or 0),
                  status=str(item.get("status") or ""), link=str(item.get("link") or ""),
                  seo_path=str(meta.get("_seo_path") or ""), seo_hash=str(meta.get("_seo_hash") or ""),
                  role=str(meta.get("_seo_role") or ""), edited=bool(seo.get("edited", False)))


def _path_of(remote: Remote, pages: dict[int, Remote]) -> str:
    slugs, seen, node = [], set(), remote
    while node is not None and node.id not in seen and len(slugs) < 50:
        seen.add(node.id)
        slugs.append(node.slug.removesuffix("__trashed"))
        node = pages.get(node.parent) if node.parent else None
    return "/" + "/".join(reversed(slugs)) + "/"


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _why(body: Any) -> str:
    from .wp_client import clean
    if isinstance(body, dict):
        return clean(f"{body.get('code', '')}: {body.get('message', '')}")
    return "no usable answer"
