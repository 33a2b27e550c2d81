"""The `folder` target: the build copied into a folder on this machine (a web server's document root).

The whole change is assembled beside the folder and swapped in at once (seo.pages.write.SiteWriter),
so visitors never see half a publish. A manifest in the folder (`.seo-manifest.json`) lists every file
this tool wrote there: only those are ever removed; a file the build would replace that the tool did
not write stops the publish unless `force`.
"""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..pages.write import SiteWriter
from ..settings import FolderTarget
from ..site import Site
from ..store import sqlite_path
from .source import Built, hash_tree
from .targets import Progress, TargetReport

# -- interim rules, until the project-wide ones (issue 10: seo/safety.py) land on main -------------
# Same names, signatures, manifest file and format as seo.safety, so that switching is an import:
# `from ..safety import MANIFEST, Manifest, check_target, current_hashes, plan_deletions`.

MANIFEST = ".seo-manifest.json"  # in the target folder: what the tool wrote there
MANIFEST_VERSION = 1


def check_target(site: Site, target: Path, key: str) -> Path:
    """Refuse a folder that is, holds or sits inside what the project needs (one line): the project
    folder itself, config/, content/, templates/, .git, the build output, the store, the outbox."""
    real = Path(os.path.realpath(target))
    root = Path(os.path.realpath(site.root))
    where = {"file": "config/site.yaml", "key": key}
    if real == root or root.is_relative_to(real):
        raise UserError(f"the publish folder {target} is or holds the project folder: choose a "
                        "folder of its own (e.g. build/public)", **where)
    guarded = [root / "config", root / "content", root / "templates", root / ".git",
               site.path(site.config.site.output), site.path("build/outbox")]
    store = sqlite_path(site.config.site.store)
    if store is not None:
        guarded.append(store if store.is_absolute() else root / store)
    for item in guarded:
        item = Path(os.path.realpath(item))
        if real == item or real.is_relative_to(item) or item.is_relative_to(real):
            raise UserError(f"the publish folder {target} overlaps {item}: choose a folder of its "
                            "own (e.g. build/public)", **where)
    if target.exists() and not target.is_dir():
        raise UserError(f"the publish folder {target} is not a folder", **where)
    return target


@dataclass
class Manifest:
    files: dict[str, str] = field(default_factory=dict)  # relative path -> sha256 written

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return cls()
        if not stat.S_ISREG(st.st_mode) or st.st_size > 64 * 2**20:
            raise UserError("not a manifest this tool wrote; move it away", file=str(path))
        try:
            raw = json.loads(path.read_bytes())
            files = raw["files"]
            ok = raw.get("version") == MANIFEST_VERSION and isinstance(files, dict) and all(
                isinstance(k, str) and isinstance(v, str) and len(v) == 64 and _safe_rel(k)
                for k, v in files.items())
        except (ValueError, KeyError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise UserError("not a manifest this tool wrote (unreadable); move it away to publish "
                            "here (nothing was deleted)", file=str(path))
        return cls(dict(files))

    def dumps(self) -> bytes:
        return (json.dumps({"version": MANIFEST_VERSION, "files": dict(sorted(self.files.items()))},
                           indent=0) + "\n").encode()


@dataclass
class PublishPlan:
    delete: list[str] = field(default_factory=list)  # written by us, gone from the release
    kept: list[str] = field(default_factory=list)  # written by us, gone, but changed since: left
    conflicts: list[str] = field(default_factory=list)  # not ours, and would be overwritten


def plan_deletions(manifest: Manifest, new: dict[str, str],
                   current: dict[str, str | None]) -> PublishPlan:
    plan = PublishPlan()
    for rel in sorted(set(manifest.files) - set(new)):
        now = current.get(rel)
        if now is not None:
            (plan.delete if now == manifest.files[rel] else plan.kept).append(rel)
    for rel in sorted(new):
        now = current.get(rel)
        if now is not None and rel not in manifest.files and now != new[rel]:
            plan.conflicts.append(rel)
    return plan


def _safe_rel(rel: str) -> bool:
    return bool(rel) and not rel.startswith("/") and "\\" not in rel and "\0" not in rel and all(
        part not in ("", ".", "..") for part in rel.split("/"))

# -- end of the interim rules -----------------------------------------------------------------------


class Folder:
    kind = "folder"

    def __init__(self, site: Site, cfg: FolderTarget, key: str) -> None:
        self.site, self.cfg, self.key = site, cfg, key
        self.name = cfg.label
        self.folder = site.path(cfg.path)

    def live_base(self) -> str | None:
        return self.cfg.url or self.site.config.business.url

    def publish(self, built: Built, *, dry_run: bool, force: bool,
                progress: Progress | None = None) -> TargetReport:
        started = time.monotonic()
        check_target(self.site, self.folder, f"{self.key}.path")
        report = TargetReport(self.name, self.kind, dry_run)
        manifest = Manifest.load(self.folder)
        there = hash_tree(self.folder, f"the publish folder {self.folder}") if self.folder.exists() else {}
        there.pop(MANIFEST, None)
        current: dict[str, str | None] = {rel: there.get(rel)
                                          for rel in set(manifest.files) | set(built.files)}
        plan = plan_deletions(manifest, built.files, current)
        if plan.conflicts and not force:
            raise UserError(f"{len(plan.conflicts)} file(s) in {self.folder} that this tool did not "
                            f"write would be replaced (first: {plan.conflicts[0]}); move them away, "
                            "or publish with --force", file="config/site.yaml", key=f"{self.key}.path")
        writer = SiteWriter(self.folder, dry_run=dry_run)
        try:
            for n, rel in enumerate(sorted(built.files), start=1):
                if there.get(rel) == built.files[rel]:
                    report.add("unchanged", rel)
                else:
                    report.add("update" if rel in there else "create", rel)
                    writer.put(rel, built.read(rel))
                if progress and n % 500 == 0:
                    progress("folder", n, len(built.files))
            for rel in plan.kept:
                report.add("skip", rel, "changed since this tool wrote it; not removed")
            for rel in plan.delete:
                report.add("remove", rel)
                writer.delete(rel)
            files = {**{rel: manifest.files[rel] for rel in plan.kept}, **built.files}
            if files != manifest.files:
                writer.put(MANIFEST, Manifest(files).dumps())
            report.writes = len(writer.changed) + len(writer.deleted)
            writer.commit()
        finally:
            writer.discard()
        for page in built.pages.values():
            report.published[page.path] = page.content_hash
        report.seconds = time.monotonic() - started
        return report
