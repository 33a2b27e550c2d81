"""The `wordpress` target: every page as a WordPress page, in the hierarchy of its URL path.

`/parker/sciatica/` is page `sciatica` under page `parker`; an intermediate path with no page of its
own (`/conditions/`) gets a private container page so that the children sit at the right URL. The
page body is the page's main content; its title, meta description, canonical, robots and JSON-LD are
page meta that the companion plugin (`wordpress/seo-publish`) prints in the head.

This module talks to the site (the plugin's status, the page list, the writes); what to write is
decided in seo.publish.wp_plan. Writes go level by level (parents first), in batches of up to 25
through /batch/v1. A page WordPress refuses, or puts at another URL (a slug taken by a post or
reserved), is reported and left as a draft; the others go on.
"""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import urlsplit

from ..errors import ExternalError, UserError
from ..settings import WordPressTarget
from ..site import Site
from .source import Built
from .targets import Progress, TargetReport
from .wp_client import Unanswered, WpClient, clean
from .wp_plan import Assets, Plan, Remote, Want, make_plan, place, remote_page, wanted

PLUGIN_MAJOR = "1."
STATUSES = "publish,future,draft,pending,private,trash"
LIST_FIELDS = "id,slug,parent,status,link,meta._seo_path,meta._seo_hash,meta._seo_role,seo"
WRITE_FIELDS = "id,slug,parent,status,link"
PER_PAGE = 100  # the core REST API's maximum
LIST_PER_PAGE = 1000  # the plugin's page list
MAX_LIST_PAGES = 1000  # 1,000,000 pages: a bound on the listing loop
UPLOAD_BYTES = 4 * 1024 * 1024  # pictures per request, before base64 (PHP takes 8 MB by default)
UPLOAD_FILES = 100


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
        """Every page of the site (the plugin's compact list, 1,000 a request), placed by path."""
        pages: dict[int, Remote] = {}
        for number in range(1, MAX_LIST_PAGES + 1):
            data, _ = client.get("/seo-publish/v1/pages", {"page": number, "per_page": LIST_PER_PAGE})
            items = data.get("pages") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise ExternalError("WordPress answered the page list with something that is not a list")
            for item in items:
                remote = remote_page(item)
                pages[remote.id] = remote
            total = data.get("total_pages", 1)
            if not items or number >= (total if isinstance(total, int) else 1):
                break
        place(pages)
        return pages

    def remote_files(self, client: WpClient) -> tuple[dict[str, str], str]:
        """(path -> sha256 of the pictures the plugin holds, the URL of its uploads folder)."""
        data, _ = client.get("/seo-publish/v1/files")
        files = data.get("files") if isinstance(data, dict) else None
        base = data.get("base") if isinstance(data, dict) else None
        if not isinstance(files, dict) or not isinstance(base, str) or not base.startswith(
                ("http://", "https://")):
            raise ExternalError("the companion plugin answered the file list with a malformed answer")
        return {str(k): str(v) for k, v in files.items()}, base.rstrip("/") + "/"

    def _upload(self, client: WpClient, built: Built, needed: list[str]) -> None:
        """The pictures the pages show, in requests of at most UPLOAD_BYTES (base64 in JSON)."""
        chunk: list[dict[str, str]] = []
        size = 0
        for n, rel in enumerate(needed, start=1):
            data = built.read(rel)
            chunk.append({"path": rel, "sha256": built.files[rel],
                          "data": base64.b64encode(data).decode()})
            size += len(data)
            if size >= UPLOAD_BYTES or len(chunk) >= UPLOAD_FILES or n == len(needed):
                client.writes += len(chunk)
                client.post("/seo-publish/v1/files", {"files": chunk})
                chunk, size = [], 0

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
            files, base = self.remote_files(client)
            assets = Assets.of(built, base)
            wants = wanted(built, self.base_path, self.cfg.front_page, assets, business)
            plan = make_plan(wants, remote, status, force, report)
            needed = sorted({rel for w in wants.values() for rel in w.assets
                             if files.get(rel) != built.files[rel]})
            if needed:
                report.notes.append(f"{'would upload' if dry_run else 'uploaded'} {len(needed)} "
                                    "picture(s) to wp-content/uploads/seo-publish/")
            if not dry_run:
                self._upload(client, built, needed)
                self._apply(client, plan, status, report, progress)
        finally:
            report.requests = client.requests
            report.writes = client.writes
            report.seconds = time.monotonic() - started
            client.close()
            self._client = None
        return report

    def _apply(self, client: WpClient, plan: Plan, status: dict[str, Any], report: TargetReport,
               progress: Progress | None) -> None:
        ids = dict(plan.parents)
        total = len(plan.creates) + len(plan.updates) + len(plan.drafts)
        done = 0
        misplaced: list[tuple[str, int]] = []  # made, but at another URL: drafted below
        for depth in sorted({w.depth for w in plan.creates} | {w.depth for w, _ in plan.updates}):
            writes: list[tuple[Want, Remote | None]] = [(w, None) for w in plan.creates if w.depth == depth]
            writes += [(w, r) for w, r in plan.updates if w.depth == depth]
            for chunk in _chunks(writes, self.cfg.batch_size):
                self._send(client, chunk, ids, report, misplaced)
                done += len(chunk)
                if progress:
                    progress("wordpress", done, total)
        drafts = [(r.seo_path, r.id) for r in plan.drafts] + misplaced
        for chunk in _chunks(drafts, self.cfg.batch_size):
            items = [("POST", f"/wp/v2/pages/{pid}?_fields={WRITE_FIELDS}", {"status": "draft"})
                     for _, pid in chunk]
            client.writes += len(items)
            for (path, pid), (code, body) in zip(chunk, client.batch(items, creates=False), strict=True):
                if code >= 300:
                    report.warnings.append(f"WordPress refused to make page {pid} ({path}) a draft: "
                                           f"{_why(body)}")
                elif (path, pid) not in misplaced:
                    report.states[path] = ("draft", f"page {pid}")
            done += len(chunk)
            if progress:
                progress("wordpress", min(done, total), total)
        if plan.front_page and "/" in report.published:
            self._set_front_page(client, ids["/"], status, report)

    def _send(self, client: WpClient, chunk: list[tuple[Want, Remote | None]], ids: dict[str, int],
              report: TargetReport, misplaced: list[tuple[str, int]], attempt: int = 0) -> None:
        items, sent = [], []
        for want, mine in chunk:
            parent = want.parent_path
            parent_id = 0 if parent in ("", "/") else ids.get(parent, 0)
            if parent not in ("", "/") and not parent_id:
                self._failed(want, f"its parent {parent} was not published", report)
                continue
            body = {k: v for k, v in want.payload.items() if k != "parent_path"}
            body["parent"] = parent_id
            path = f"/wp/v2/pages/{mine.id}" if mine else "/wp/v2/pages"
            items.append(("POST", f"{path}?_fields={WRITE_FIELDS}", body))
            sent.append(want)
        if not items:
            return
        creates = any(mine is None for _, mine in chunk)
        client.writes += len(items)
        try:
            answers = client.batch(items, creates=creates)
        except Unanswered:
            # WordPress may have made some: adopt what it has, send the rest again (a few times)
            if attempt >= self.cfg.retries:
                raise
            client.sleep(self.cfg.backoff * (2 ** attempt))
            found = self._find_ours(client, sent)
            for want in sent:
                if want.path in found:
                    ids[want.path] = found[want.path]
                    self._mark(want, found[want.path], report)
            rest = [(w, m) for w, m in chunk if w.path not in found and w in sent]
            if rest:
                self._send(client, rest, ids, report, misplaced, attempt + 1)
            return
        for want, (code, body) in zip(sent, answers, strict=True):
            if code >= 300 or not isinstance(body, dict) or not isinstance(body.get("id"), int):
                self._failed(want, f"WordPress refused it: {_why(body)}", report)
                continue
            link_path = urlsplit(str(body.get("link", ""))).path
            expected = self.base_path.rstrip("/") + want.path
            if want.path != "/" and want.role == "page" and link_path != expected:
                misplaced.append((want.path, body["id"]))
                self._failed(want, f"WordPress put it at {clean(link_path, limit=120) or '?'} (page "
                                   f"{body['id']}, made a draft): is the slug reserved or taken by a "
                                   "post?", report)
                continue
            ids[want.path] = body["id"]
            self._mark(want, body["id"], report)

    def _find_ours(self, client: WpClient, wants: list[Want]) -> dict[str, int]:
        data, _ = client.get("/wp/v2/pages", {
            "status": STATUSES, "context": "edit", "seo_managed": 1, "per_page": PER_PAGE,
            "slug": ",".join(w.slug for w in wants), "_fields": LIST_FIELDS})
        found: dict[str, int] = {}
        for item in data if isinstance(data, list) else []:
            r = remote_page(item)
            if r.ours:
                found.setdefault(r.seo_path, r.id)
        return found

    def _failed(self, want: Want, why: str, report: TargetReport) -> None:
        report.changes = [c for c in report.changes
                          if not (c.item == want.path and c.action in ("create", "update"))]
        report.add("skip", want.path, why)
        report.states[want.path] = ("failed", why)

    def _mark(self, want: Want, page_id: int, report: TargetReport) -> None:
        if want.page is not None:
            report.published[want.path] = want.page.content_hash
            report.remote_ids[want.path] = str(page_id)
        report.states[want.path] = ("published", f"page {page_id}")

    def _set_front_page(self, client: WpClient, page_id: int, status: dict[str, Any],
                        report: TargetReport) -> None:
        if not status.get("manage_options"):
            report.warnings.append(f"user {self.cfg.user!r} cannot change Settings > Reading: make "
                                   f"page {page_id} the front page by hand")
            report.published.pop("/", None)
            return
        client.post("/wp/v2/settings", {"show_on_front": "page", "page_on_front": page_id})

    def rollback(self, *, dry_run: bool) -> TargetReport:
        raise UserError("rollback works for ssh targets only (WordPress keeps each page's revisions: "
                        "restore one in the page editor)", key="--rollback")


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def _why(body: Any) -> str:
    if isinstance(body, dict):
        return clean(f"{body.get('code', '')}: {body.get('message', '')}")
    return "no usable answer"
