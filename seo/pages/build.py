"""`seo pages build`: plan -> render -> guard -> write -> sitemap, incrementally.

A page is re-rendered only when its inputs changed (its fingerprint: the templates, the site
config, the town list, its own town and condition content); the guard then runs over every page,
and a page whose verdict flipped is re-rendered with the right robots/canonical. A rebuild with
nothing changed renders nothing and writes nothing.
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing as mp
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from .. import clock
from ..errors import UserError
from ..safety import check_outputs
from ..settings import GuardSettings
from ..site import Site, Town
from ..store import Store, page_events, pages
from . import guard, uptodate
from .images import Images
from .og import Cards
from .plan import PagePlan, plan_site
from .render import Renderer, templates_fingerprint
from .sitemap import robots_txt, sitemap_xml
from .write import SiteWriter, libc

RENDER_VERSION = "2"  # bump when code changes what a page contains
Progress = Callable[[str, int, int], None]


@dataclass
class BuildResult:
    planned: int = 0
    rendered: int = 0
    written: int = 0
    deleted: int = 0
    unchanged: int = 0
    dry_run: bool = False
    flagged: list[tuple[str, list[str]]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changed_paths: list[str] = field(default_factory=list)
    deleted_paths: list[str] = field(default_factory=list)
    indexable: int = 0
    max_similarity: float = 0.0  # of the pairs measured exactly (those near or over the limit)
    measured_from: float = 0.0  # pairs estimated below this were not measured exactly

    def counts(self) -> dict[str, int]:
        return {"planned": self.planned, "rendered": self.rendered, "written": self.written,
                "deleted": self.deleted, "unchanged": self.unchanged, "indexable": self.indexable,
                "noindex": len(self.flagged)}


def _sha(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


class Fingerprints:
    """Per-page input hashes built from per-entity hashes, computed once per build."""

    def __init__(self, site: Site, renderer: Renderer) -> None:
        # every picture variant's name (a hash of its source and how it is encoded) and what
        # every social card shares: a new picture or a new card design re-renders the pages
        self.common = _sha(RENDER_VERSION, templates_fingerprint(renderer.env),
                           site.config_text,
                           *sorted(renderer.images.names), renderer.cards.shared_key,
                           json.dumps([[t.slug, t.name, t.config.state, t.config.county,
                                        t.config.geo.lat, t.config.geo.lng, t.location.id]
                                       for t in site.towns]),
                           json.dumps([[c.slug, c.name, c.phrase, c.meta.summary]
                                       for c in site.conditions]))
        self.town = {t.slug: _sha(t.config.model_dump_json(), t.note.text if t.note else "")
                     for t in site.towns}
        self.cond = {c.slug: _sha(c.source_text) for c in site.conditions}
        self.notes = {(t.slug, c): n.text for t in site.towns for c, n in t.condition_notes.items()}
        self.bios = {pid: note.text for pid, note in site.bios.items()}
        self.all_conditions = _sha(*self.cond.values())

    def of(self, page: PagePlan) -> str:
        parts = [self.common, page.kind, page.url_path]
        if page.practitioner:
            parts += [self.bios.get(page.practitioner, ""), self.all_conditions]
        if page.town:
            parts.append(self.town[page.town])
        if page.condition:
            parts.append(self.cond[page.condition])
        if page.town and page.condition:
            parts.append(self.notes.get((page.town, page.condition), ""))
        return _sha(*parts)


def check_paths(plan: list[PagePlan]) -> None:
    seen: dict[str, PagePlan] = {}
    for page in plan:
        if page.file in seen:
            other = seen[page.file]
            raise UserError(f"two pages map to {page.url_path!r}: {other.kind} "
                            f"{other.town or other.condition or ''} and {page.kind} "
                            f"{page.town or page.condition or ''}", file="config/towns.yaml",
                            key="slug")
        seen[page.file] = page


def build_pages(site: Site, store: Store, *, towns: list[str] | None = None,
                conditions: list[str] | None = None, dry_run: bool = False,
                today: date | None = None, progress: Progress | None = None,
                stamp: str | None = None) -> BuildResult:
    """Build the site. `stamp`: the hash of the inputs taken before they were loaded (see
    `uptodate`); given to a whole-site build, it is recorded for the next build's up-to-date check."""
    today = today or clock.today(site.root)
    if not dry_run:
        uptodate.forget(site.root)  # whatever happens next, the last stamp no longer holds
    out_dir = check_outputs(site)
    cache_path = out_dir.with_name(f".{out_dir.name}.guard.npz")
    settings = site.config.site.guard
    full_plan = plan_site(site)
    check_paths(full_plan)
    selected = {p.key for p in plan_site(site, towns, conditions)}
    rows = store.page_rows()
    result = BuildResult(planned=len(selected), dry_run=dry_run,
                         measured_from=settings.similarity_threshold - guard.FLOOR_MARGIN)
    with SiteWriter(out_dir, dry_run=dry_run) as writer, _YoungGcOnly() as collector:
        images = Images(site, writer)
        renderer = Renderer(site, images, Cards(site, writer, images))
        fps = Fingerprints(site, renderer)
        done = _build(site, store, renderer, fps, rows, full_plan, selected, writer,
                      cache_path, settings, result, today, progress, collector)
        if stamp and not dry_run and towns is None and conditions is None:  # under the writer's lock
            files = [os.path.relpath(os.path.join(folder, name), out_dir)
                     for folder, _dirs, names in os.walk(out_dir) for name in names]
            summary = {k: v for k, v in asdict(done).items() if not k.endswith("_paths")}
            uptodate.record(site.root, stamp, out_dir=out_dir, files=files,
                            store_url=store.engine.url.render_as_string(hide_password=True),
                            store_schema=site.config.site.store_schema, summary=summary)
    return done


class _YoungGcOnly:
    """Keeps Python's full (generation 2) collections out of the build.

    A large build keeps tens of thousands of objects alive, and every full collection walks them
    all: at 10,000 pages that was a quarter of the build time. Objects loaded before the build are
    frozen out of the collector, and the young generations are still collected every 256 pages,
    so garbage cycles cannot pile up.
    """

    def __init__(self) -> None:
        self.pages = 0
        self.enabled = gc.isenabled()

    def __enter__(self) -> _YoungGcOnly:
        gc.freeze()
        gc.disable()
        return self

    def __exit__(self, *exc: object) -> None:
        gc.unfreeze()
        if self.enabled:
            gc.enable()

    def tick(self) -> None:
        self.pages += 1
        if self.pages % 256 == 0:
            gc.collect(1)


def _build(site: Site, store: Store, renderer: Renderer, fps: Fingerprints, rows: dict[str, dict],
           full_plan: list[PagePlan], selected: set[str], writer: SiteWriter, cache_path: Path,
           settings: GuardSettings, result: BuildResult, today: date,
           progress: Progress | None, collector: _YoungGcOnly) -> BuildResult:
    out_dir = writer.out
    fingerprint = {page.key: fps.of(page) for page in full_plan}
    todo = []
    for page in full_plan:
        row = rows.get(page.key)
        stale = row is None or row["fingerprint"] != fingerprint[page.key] or row["removed"] is not None
        if row is None or (stale and page.key in selected) or not (out_dir / page.file).exists():
            todo.append(page)

    # render what changed, streaming each page to the staging folder and the guard's analysis
    state = _RenderState(site, settings, rows, renderer, writer, collector, progress)
    if len(todo) >= PARALLEL_MIN_PAGES and _can_fork():
        done = _render_in_two_processes(todo, state)
    else:
        done = state.render(todo, len(todo))
    new_hash, rendered_as, analysed = done.hashes, done.indexable, done.analysed
    vocab = guard.Vocabulary()
    batch = _GuardBatch(site, settings, vocab, analysed)
    result.rendered = len(todo)

    removed = [path for path, row in rows.items()
               if path not in fingerprint and row["removed"] is None]
    if todo or removed:
        cache = guard.load_cache(cache_path)
        for page in full_plan:
            if page.key not in analysed:
                cached = cache.get(page.key)
                if cached and cached[0] == rows[page.key]["content_hash"]:
                    analysed[page.key] = cached[1]
                else:
                    batch.add(page, (out_dir / page.file).read_text(encoding="utf-8"))
        batch.flush()
        pages = [analysed[page.key] for page in full_plan]
        if progress:
            progress("guard", len(pages), len(pages))
        verdicts = guard.judge(pages, settings.similarity_threshold, settings.min_local_facts)
    else:  # no page changed: the stored verdicts still hold
        pages = []
        verdicts = {page.key: _stored_verdict(rows[page.key]) for page in full_plan}

    for page in full_plan:
        v = verdicts[page.key]
        was = rendered_as.get(page.key, bool(rows[page.key]["indexable"]) if page.key in rows
                              else None)
        if was is not None and was != v.indexable:  # the guard's verdict flipped: re-render
            page_html = renderer.render(page, indexable=v.indexable,
                                        canonical=None if v.indexable else renderer.hub_of(page))
            new_hash[page.key] = _put(writer, page, page_html, replace=page.key in rendered_as)
            result.rendered += 1
        if not v.indexable:
            result.flagged.append((page.url_path, v.reasons))
        result.warnings += [f"{page.url_path}: {w}" for w in v.warnings]
        result.max_similarity = max(result.max_similarity, v.similarity)
    result.indexable = sum(1 for v in verdicts.values() if v.indexable)

    new_rows = _page_rows(full_plan, new_hash, rows, verdicts, fingerprint, today)
    for path in removed:
        writer.delete(path.lstrip("/") + "index.html")
        writer.delete(path.lstrip("/") + "og.png")
    for page in full_plan:  # a town x condition page shows its town's card (render.card_of)
        if page.kind == "town_condition":
            writer.delete(page.og_file)  # one its page had before (only if it exists)
    entries = []
    for page in full_plan:
        row = new_rows.get(page.key) or rows[page.key]
        if verdicts[page.key].indexable:
            entries.append((renderer.url(page.url_path), row["last_changed"]))
    writer.put("sitemap.xml", sitemap_xml(entries))
    writer.put("robots.txt", robots_txt(site.config.business.url))
    writer.put("favicon.svg", renderer.asset("favicon.svg.j2"))
    for face in site.config.site.theme.fonts:
        writer.put(f"fonts/{face.file}", (site.root / "content/fonts" / face.file).read_bytes())
    renderer.images.prune()
    result.changed_paths = sorted(writer.changed)
    result.deleted_paths = sorted(writer.deleted)
    result.unchanged = len(full_plan) - sum(1 for p in full_plan if p.file in writer.changed)
    result.written, result.deleted = writer.commit()
    if result.dry_run:
        return result
    _save(store, new_rows, removed, rows, today)
    if pages:
        hashes = {key: new_hash.get(key) or rows[key]["content_hash"] for key in fingerprint}
        guard.save_cache(cache_path, pages, hashes)
    return result


PARALLEL_MIN_PAGES = 2000  # below this, a second process costs more than it saves


@dataclass
class _Rendered:
    hashes: dict[str, str] = field(default_factory=dict)
    indexable: dict[str, bool] = field(default_factory=dict)  # as rendered
    analysed: dict[str, guard.GuardPage] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)  # files staged


@dataclass
class _RenderState:
    site: Site
    settings: GuardSettings
    rows: dict[str, dict]
    renderer: Renderer
    writer: SiteWriter
    collector: _YoungGcOnly
    progress: Progress | None

    def render(self, pages: list[PagePlan], total: int, step: int = 1) -> _Rendered:
        done = _Rendered()
        batch = _GuardBatch(self.site, self.settings, guard.Vocabulary(), done.analysed)
        staged_before = set(self.writer.changed)
        for n, page in enumerate(pages, start=1):
            row = self.rows.get(page.key)
            indexable = True if row is None else bool(row["indexable"])
            page_html = self.renderer.render(
                page, indexable=indexable,
                canonical=None if indexable else self.renderer.hub_of(page))
            batch.add(page, page_html)
            done.hashes[page.key] = _put(self.writer, page, page_html)
            done.indexable[page.key] = indexable
            self.collector.tick()
            if n % 64 == 0:
                _check_parent()
            if self.progress:
                self.progress("render", min(n * step, total), total)
        batch.flush()
        done.changed = self.writer.changed - staged_before
        return done


_FORKED: _RenderState | None = None
_PARENT: int | None = None  # in the forked child: the build process it works for
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Pool initializer in the forked child: the kernel kills it when the build dies (Linux
    prctl PR_SET_PDEATHSIG), and `_check_parent` ends it elsewhere, so a build killed outright
    never leaves a child writing into the staging folder the next build needs."""
    global _PARENT
    _PARENT = parent
    prctl = getattr(libc, "prctl", None)
    if prctl is not None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _check_parent()  # the parent may have died before prctl took effect


def _check_parent() -> None:
    if _PARENT is not None and os.getppid() != _PARENT:
        os._exit(1)


def _can_fork() -> bool:
    """A second core, fork available, and no other thread (forking a threaded process, e.g. from
    the scheduler's job thread, can deadlock the child on a lock held elsewhere)."""
    return ((os.cpu_count() or 1) > 1 and "fork" in mp.get_all_start_methods()
            and threading.active_count() == 1)


def _render_forked_chunk(pages: list[PagePlan]) -> _Rendered:
    assert _FORKED is not None
    return replace(_FORKED, progress=None).render(pages, len(pages))


def _render_in_two_processes(todo: list[PagePlan], state: _RenderState) -> _Rendered:
    """Render and analyse half the pages in a forked child while this process does the other
    half: the work is CPU-bound Python, so a second core halves it. Both halves stage files into
    the same staging folder (created before the fork); the results are keyed by page, so the
    output is byte-identical to a one-process build."""
    global _FORKED
    state.writer.prepare()
    state.renderer.cards.prepare()  # the cards' shared parts, drawn once before the fork
    _FORKED = state
    try:
        with mp.get_context("fork").Pool(1, initializer=_die_with_parent,
                                         initargs=(os.getpid(),)) as pool:
            theirs_async = pool.apply_async(_render_forked_chunk, (todo[1::2],))
            mine = state.render(todo[0::2], len(todo), step=2)
            theirs = theirs_async.get()
    finally:
        _FORKED = None
    mine.hashes.update(theirs.hashes)
    mine.indexable.update(theirs.indexable)
    mine.analysed.update(theirs.analysed)
    state.writer.changed |= theirs.changed
    state.writer.seen |= {page.file for page in todo[1::2]}
    return mine


class _GuardBatch:
    """Collects pages for the guard and analyses them 64 at a time (one numpy pass per batch)."""

    SIZE = 64

    def __init__(self, site: Site, settings: GuardSettings, vocab: guard.Vocabulary,
                 into: dict[str, guard.GuardPage]) -> None:
        self.site, self.settings, self.vocab, self.into = site, settings, vocab, into
        self.items: list[tuple[str, str, str, Town | None]] = []

    def add(self, page: PagePlan, page_html: str) -> None:
        town = self.site.town(page.town) if page.town else None
        self.items.append((page.key, page.kind, page_html, town))
        if len(self.items) >= self.SIZE:
            self.flush()

    def flush(self) -> None:
        if self.items:
            for done in guard.analyse_many(self.items, self.settings.shingle_size, self.vocab):
                self.into[done.key] = done
            self.items = []


def _put(writer: SiteWriter, page: PagePlan, page_html: str, replace: bool = False) -> str:
    data = page_html.encode()
    writer.put(page.file, data, replace=replace)
    return hashlib.sha256(data).hexdigest()


def _stored_verdict(row: dict) -> guard.Verdict:
    return guard.Verdict(indexable=bool(row["indexable"]), similarity=row["similarity"],
                         twin=row["twin"], facts=row["local_facts"],
                         reasons=row["reasons"].split("; ") if row["reasons"] else [])


def _page_rows(plan: list[PagePlan], new_hash: dict[str, str], rows: dict[str, dict],
               verdicts: dict[str, guard.Verdict], fingerprint: dict[str, str],
               today: date) -> dict[str, dict]:
    """Rows for pages rendered this build, or whose guard figures changed; others keep theirs."""
    new_rows: dict[str, dict] = {}
    for page in plan:
        v = verdicts[page.key]
        old = rows.get(page.key)
        content_hash = new_hash.get(page.key)
        if content_hash is None:
            if old is not None and (old["similarity"] != v.similarity or old["twin"] != v.twin
                                    or old["local_facts"] != v.facts):
                new_rows[page.key] = {**old, "similarity": v.similarity, "twin": v.twin,
                                      "local_facts": v.facts, "reasons": "; ".join(v.reasons)}
            continue
        unchanged = old is not None and old["content_hash"] == content_hash and old["removed"] is None
        new_rows[page.key] = {
            "path": page.key, "kind": page.kind, "town": page.town, "condition": page.condition,
            "fingerprint": fingerprint[page.key], "content_hash": content_hash,
            "indexable": v.indexable, "similarity": v.similarity, "twin": v.twin,
            "local_facts": v.facts, "reasons": "; ".join(v.reasons),
            "first_published": old["first_published"] if old else today,
            "last_changed": old["last_changed"] if unchanged and old else today,
            "removed": None,
        }
    return new_rows


def _save(store: Store, new_rows: dict[str, dict], removed: list[str], old_rows: dict[str, dict],
          today: date) -> None:
    """Record the build: insert new pages, update changed ones, log events; one transaction."""
    inserts, updates, events = [], [], []
    for key, row in sorted(new_rows.items()):
        old = old_rows.get(key)
        if old is None:
            inserts.append(row)
            events.append({"path": key, "day": today, "event": "created", "detail": ""})
            continue
        updates.append({**row, "key": key})
        if old["content_hash"] != row["content_hash"] or old["removed"] is not None:
            events.append({"path": key, "day": today, "event": "changed", "detail": ""})
        if bool(old["indexable"]) != bool(row["indexable"]):
            events.append({"path": key, "day": today, "detail": row["reasons"],
                           "event": "indexed" if row["indexable"] else "noindexed"})
    for key in removed:
        updates.append({**old_rows[key], "removed": today, "key": key})
        events.append({"path": key, "day": today, "event": "removed", "detail": ""})
    columns = [c.name for c in pages.columns]
    with store.begin() as conn:
        if inserts:
            conn.execute(pages.insert(), inserts)
        if updates:
            stmt = pages.update().where(pages.c.path == sa.bindparam("key")).values(
                {name: sa.bindparam(name) for name in columns if name != "path"})
            conn.execute(stmt, [{k: v for k, v in u.items() if k != "path"} for u in updates])
        if events:
            conn.execute(page_events.insert(), events)
