"""What the `wordpress` target would do: the pages wanted (from the build), the pages WordPress holds,
and the plan between them. Reads only; seo.publish.wordpress sends it.

Rules: only the tool's pages (`_seo_path` in their meta) are touched; a page is sent only when what
would be sent (its `_seo_hash`) differs; pages that left the plan become drafts; a page staff edited,
moved or trashed is left alone unless `force`; a path held by a page the tool did not create is a
conflict (the tool's children of that path go under it); the site's own front page is never taken
without `force`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ExternalError
from .extract import page_parts
from .source import Built, BuiltPage
from .targets import TargetReport

FORMAT = "1"  # bump when what is sent for a page changes: every page is sent again once
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
    parent_path: str  # "" for the home page, "/" for top level
    role: str  # page, container
    payload: dict[str, Any]
    hash: str
    page: BuiltPage | None = None
    assets: set[str] = field(default_factory=set)  # build files it shows (pictures, social image)

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/") + 1 if self.path != "/" else 0


@dataclass(frozen=True)
class Assets:
    """Where the pages' pictures go on WordPress: the plugin's uploads folder (its URL), and which
    build files may go there (images and fonts: the plugin takes nothing else)."""

    base: str  # e.g. https://example.com/wp-content/uploads/seo-publish/
    files: frozenset[str]

    @classmethod
    def of(cls, built: Built, base: str) -> Assets:
        return cls(base, frozenset(rel for rel in built.files if ASSET.match(rel)))


ASSET = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9._-]*)*\.(png|jpe?g|webp|gif|avif|woff2|ico)$")
_URL_ATTR = re.compile(r'(\s(?:src|srcset|href|poster)=")([^"]*)(")')


@dataclass
class Plan:
    creates: list[Want] = field(default_factory=list)
    updates: list[tuple[Want, Remote]] = field(default_factory=list)
    drafts: list[Remote] = field(default_factory=list)
    front_page: bool = False  # make the home page the front page after writing it
    parents: dict[str, int] = field(default_factory=dict)  # path -> page id to hang children on


def remote_page(item: Any) -> Remote:
    if not isinstance(item, dict) or not isinstance(item.get("id"), int):
        raise ExternalError("WordPress answered the page list with a malformed page")
    meta = item.get("meta") if isinstance(item.get("meta"), dict) else {}
    seo = item.get("seo") if isinstance(item.get("seo"), dict) else {}
    try:
        parent = int(item.get("parent") or 0)
    except (TypeError, ValueError):
        raise ExternalError("WordPress answered the page list with a malformed parent") from None
    return Remote(id=item["id"], slug=str(item.get("slug") or ""), parent=parent,
                  status=str(item.get("status") or ""), link=str(item.get("link") or ""),
                  seo_path=str(meta.get("_seo_path") or ""), seo_hash=str(meta.get("_seo_hash") or ""),
                  role=str(meta.get("_seo_role") or ""), edited=bool(seo.get("edited", False)))


def place(pages: dict[int, Remote]) -> None:
    """Each page's path from its slug chain (a loop or a missing parent ends the chain)."""
    for remote in pages.values():
        slugs, seen, node = [], set(), remote
        while node is not None and node.id not in seen and len(slugs) < 50:
            seen.add(node.id)
            slugs.append(node.slug.removesuffix("__trashed"))
            node = pages.get(node.parent) if node.parent else None
        remote.path = "/" + "/".join(reversed(slugs)) + "/"


def _hash(payload: dict[str, Any]) -> str:
    body = {k: v for k, v in payload.items() if k != "meta"}
    body["meta"] = {k: v for k, v in payload["meta"].items() if k != "_seo_hash"}
    return hashlib.sha256((FORMAT + json.dumps(body, sort_keys=True)).encode()).hexdigest()


def split(path: str) -> tuple[str, str]:
    """("/parker/sciatica/") -> ("sciatica", "/parker/"); "/" -> (home, "")."""
    if path == "/":
        return HOME_SLUG, ""
    parts = path.strip("/").split("/")
    return parts[-1], ("/" + "/".join(parts[:-1]) + "/") if len(parts) > 1 else "/"


def body_html(body: str, base_path: str, assets: Assets | None = None,
              used: set[str] | None = None) -> str:
    """Brackets as character references (WordPress runs shortcodes over the whole page in block
    themes: text from content must never become one); pictures from the plugin's uploads folder
    (`used` collects them); other root-relative links below WordPress's own folder when it has one."""
    body = body.replace("[", "&#91;").replace("]", "&#93;")
    prefix = base_path.rstrip("/")

    def one(url: str) -> str:
        if not url.startswith("/") or url.startswith("//"):
            return url
        rel = url[1:].split("?", 1)[0].split("#", 1)[0]
        if assets is not None and rel in assets.files:
            if used is not None:
                used.add(rel)
            return assets.base + url[1:]
        return prefix + url

    def attr(m: re.Match[str]) -> str:
        value = m.group(2)
        if "srcset" in m.group(1):  # "url 480w, url 800w"
            value = ", ".join(" ".join([one(part.split()[0]), *part.split()[1:]])
                              for part in value.split(",") if part.strip())
        else:
            value = one(value)
        return m.group(1) + value + m.group(3)

    return _URL_ATTR.sub(attr, body)


def og_image(url: str, business: str, assets: Assets | None, used: set[str]) -> str:
    """The social image on WordPress: the build's og.png from the plugin's uploads folder."""
    if not url or assets is None or not url.startswith(business):
        return url
    path, _, query = url[len(business):].partition("?")
    if path not in assets.files:
        return url
    used.add(path)
    return assets.base + path + (f"?{query}" if query else "")


def wanted(built: Built, base_path: str, front_page: bool, assets: Assets | None = None,
           business: str = "") -> dict[str, Want]:
    wants: dict[str, Want] = {}
    for page in built.pages.values():
        if page.path == "/" and not front_page:
            continue
        parts = page_parts(built.text(page))
        slug, parent = split(page.path)
        used: set[str] = set()
        content = body_html(parts.body, base_path, assets, used)
        image = og_image(parts.og_image, business, assets, used)
        payload = {
            "title": parts.h1 or parts.title, "content": content,
            "slug": slug, "status": "publish", "comment_status": "closed", "ping_status": "closed",
            "parent_path": parent,
            "meta": {"_seo_path": page.path, "_seo_role": "page", "_seo_title": parts.title,
                     "_seo_description": parts.description, "_seo_canonical": parts.canonical,
                     "_seo_robots": parts.robots, "_seo_jsonld": parts.jsonld, "_seo_og_image": image,
                     "_seo_hash": ""}}
        wants[page.path] = Want(page.path, slug, parent, "page", payload, "", page, used)
    for path in sorted(wants):  # containers for intermediate paths without a page
        parent = wants[path].parent_path
        while parent and parent != "/" and parent not in wants:
            slug, up = split(parent)
            payload = {"title": slug.replace("-", " ").capitalize(), "content": "", "slug": slug,
                       "status": "private", "comment_status": "closed", "ping_status": "closed",
                       "parent_path": up,
                       "meta": {"_seo_path": parent, "_seo_role": "container", "_seo_hash": ""}}
            wants[parent] = Want(parent, slug, up, "container", payload, "")
            parent = up
    for want in wants.values():
        want.hash = _hash(want.payload)
        want.payload["meta"]["_seo_hash"] = want.hash
    return wants


def make_plan(wants: dict[str, Want], remote: dict[int, Remote], status: dict[str, Any], force: bool,
              report: TargetReport) -> Plan:
    ours: dict[str, Remote] = {}
    extra: list[Remote] = []  # a second page of ours for one path (an interrupted create): drafted
    for r in sorted(remote.values(), key=lambda r: r.id):
        if r.ours and r.seo_path in ours:
            extra.append(r)
        elif r.ours:
            ours[r.seo_path] = r
    foreign = {r.path: r for r in remote.values() if not r.ours and r.status != "trash"}
    front = int(status.get("page_on_front") or 0)
    plan = Plan(parents={path: r.id for path, r in foreign.items()})
    plan.parents.update({path: r.id for path, r in ours.items()})
    for path in [p for p, w in wants.items() if w.role == "container" and p in foreign]:
        del wants[path]  # a page of the site's own holds the folder: children go under it
    for path in sorted(wants, key=lambda p: (wants[p].depth, p)):
        want, mine = wants[path], ours.get(path)
        if path == "/" and not _home(plan, mine, front, status, remote, force, report):
            del wants[path]
            continue
        if mine is None:
            holder = foreign.get(path)
            if holder is not None and path != "/":
                report.add("skip", path, f"WordPress page {holder.id} (not created by this tool) "
                                         "already holds this path; left alone")
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
            report.add("skip", path, f"{why} in WordPress since the last publish (page {mine.id}); "
                                     "left alone, --force overwrites it")
            report.states[path] = ("edited", f"{why} in WordPress")
            continue
        if mine.seo_hash == want.hash and mine.status == want.payload["status"] and not moved \
                and not mine.edited:
            report.add("unchanged", path)
            if want.page is not None:
                report.published[path] = want.page.content_hash
                report.remote_ids[path] = str(mine.id)
            continue
        plan.updates.append((want, mine))
    for mine in [*(r for p, r in sorted(ours.items()) if p not in wants), *extra]:
        if mine.status in ("draft", "trash"):
            continue
        if mine.edited and not force:
            report.add("skip", mine.seo_path, f"left the plan but was edited in WordPress (page "
                                              f"{mine.id}); left alone, --force makes it a draft")
            continue
        plan.drafts.append(mine)
    for want in plan.creates:
        report.add("create", want.path, "container, private" if want.role == "container" else "")
    for want, mine in plan.updates:
        report.add("update", want.path, f"page {mine.id}" + (", container" if want.role == "container"
                                                              else ""))
    for mine in plan.drafts:
        dup = ", a second copy" if mine in extra else ""
        report.add("remove", mine.seo_path, f"page {mine.id} becomes a draft{dup}")
    return plan


def _home(plan: Plan, mine: Remote | None, front: int, status: dict[str, Any],
          remote: dict[int, Remote], force: bool, report: TargetReport) -> bool:
    """Whether to publish the home page; sets plan.front_page. The front page is set when the home
    page is first made, and never taken from a page of the site's own (or from "latest posts"
    chosen later by staff) without `force`."""
    theirs = status.get("show_on_front") == "page" and front and (front not in remote
                                                                  or not remote[front].ours)
    if mine is not None and front == mine.id and status.get("show_on_front") == "page":
        return True
    if theirs and not force:
        report.add("skip", "/", "the site's front page is its own page (Settings > Reading); "
                                "--force makes the home page the front page")
        report.states["/"] = ("conflict", "front page is the site's own")
        return False
    if mine is not None and not force:
        report.add("skip", "/", f"the home page (page {mine.id}) is not the site's front page "
                                "(Settings > Reading); --force makes it the front page")
        report.states["/"] = ("conflict", "not the front page")
        return False
    plan.front_page = True
    return True
