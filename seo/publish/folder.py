"""The `folder` target: the build copied into a folder on this machine (a web server's document root).

The whole change is assembled beside the folder and swapped in at once (seo.pages.write.SiteWriter),
so visitors never see half a publish. A manifest in the folder (`.seo-publish.json`) lists every file
this tool wrote there: only those are ever removed; a file the build would replace that the tool did
not write stops the publish unless `force`.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from ..errors import UserError
from ..pages.write import SiteWriter
from ..settings import FolderTarget
from ..site import Site
from ..store import sqlite_path
from .source import Built, hash_tree
from .targets import Progress, TargetReport

MANIFEST = ".seo-publish.json"


def check_folder(site: Site, folder: Path, key: str) -> None:
    """Refuse a folder that is, holds or sits inside what the project needs (one line).

    Until the project-wide safety rules cover publish targets, these are the rules: never the
    project root or a folder holding it, never config/, content/, templates/, the build output or
    the store, nor a folder inside or around one of them."""
    target = folder.resolve()
    root = site.root.resolve()
    guarded = [root / "config", root / "content", root / "templates",
               site.path(site.config.site.output).resolve()]
    store = sqlite_path(site.config.site.store)
    if store is not None:
        guarded.append((store if store.is_absolute() else root / store).resolve())
    if target == root or root.is_relative_to(target):
        raise UserError(f"the publish folder {folder} is or holds the project folder: choose a "
                        "folder of its own (e.g. build/public)", file="config/site.yaml",
                        key=f"{key}.path")
    for item in guarded:
        if target == item or target.is_relative_to(item) or item.is_relative_to(target):
            raise UserError(f"the publish folder {folder} overlaps {item}: choose a folder of its "
                            "own (e.g. build/public)", file="config/site.yaml", key=f"{key}.path")
    if target.exists() and not target.is_dir():
        raise UserError(f"the publish folder {folder} is not a folder", file="config/site.yaml",
                        key=f"{key}.path")


def read_manifest(folder: Path) -> dict[str, str]:
    path = folder / MANIFEST
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {}
    if not stat.S_ISREG(st.st_mode) or st.st_size > 64 * 2**20:
        raise UserError(f"{path} is not the manifest this tool writes; move it away", file=str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        files = data["files"]
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in files.items()):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise UserError(f"{path} is not a manifest this tool wrote (unreadable); move it away",
                        file=str(path)) from None
    return {k: v for k, v in files.items() if not k.startswith("/") and ".." not in k.split("/")}


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
        check_folder(self.site, self.folder, self.key)
        report = TargetReport(self.name, self.kind, dry_run)
        manifest = read_manifest(self.folder)
        there = hash_tree(self.folder) if self.folder.exists() else {}
        there.pop(MANIFEST, None)
        foreign = sorted(rel for rel in built.files
                         if rel in there and rel not in manifest and there[rel] != built.files[rel])
        if foreign and not force:
            raise UserError(f"{len(foreign)} file(s) in {self.folder} that this tool did not write "
                            f"would be replaced (first: {foreign[0]}); move them away, or publish "
                            "with --force", file="config/site.yaml", key=f"{self.key}.path")
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
            for rel in sorted(set(manifest) - set(built.files)):
                if rel not in there:
                    continue
                if there[rel] != manifest[rel]:
                    report.add("skip", rel, "changed since this tool wrote it; not removed")
                    continue
                report.add("remove", rel)
                writer.delete(rel)
            keep = {rel: sha for rel, sha in manifest.items()
                    if rel not in built.files and rel in there and there[rel] != sha}
            files = {**keep, **built.files}
            data = json.dumps({"tool": "seo", "files": files}, sort_keys=True, indent=0).encode()
            changed = any(c.action in ("create", "update", "remove") for c in report.changes)
            if changed or manifest != files:
                writer.put(MANIFEST, data)
            report.writes = len(writer.changed) + len(writer.deleted)
            writer.commit()
        finally:
            writer.discard()
        for page in built.pages.values():
            report.published[page.path] = page.content_hash
        report.requests = 0
        report.seconds = time.monotonic() - started
        return report
