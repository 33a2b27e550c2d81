"""Where the tool may write and what it may delete: target checks and the ownership manifest.

Two rules keep a config value from destroying the project (`site.publish.path: "."` used to copy
the site into the project and then delete config, content, templates, the store and `.git`):

1. **Targets never overlap the project's own files.** `check_target` refuses, with one line
   naming the key, an output or publish folder that *is*, *contains* or *is inside* config/,
   content/, templates/, .git, the store, the build output (and its staging folder) or the report
   outbox, or that is or contains the project folder itself. Paths are compared with every
   symlink resolved, so a symlink cannot smuggle a target into the project.
2. **Only what the tool wrote is ever deleted.** A folder target keeps a manifest of the files
   the tool wrote there (path and SHA-256, `MANIFEST`); `plan_deletions` deletes only files that
   the manifest lists, that the new release no longer has, and whose bytes are still the ones
   written. A file the tool did not write is never deleted, and never overwritten with other
   bytes (`PublishPlan.conflicts`).

For other publish targets (SSH, WordPress) `Manifest` and `plan_deletions` work on any mapping of
relative path -> SHA-256, so the same rule applies wherever the files live.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from .errors import UserError

if TYPE_CHECKING:
    from .site import Site

MANIFEST = ".seo-manifest.json"  # in the target folder: what the tool wrote there
MANIFEST_VERSION = 1
MANIFEST_MAX = 64 * 1024 * 1024


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def staging_of(out_dir: Path) -> Path:
    """The folder a build or publish of `out_dir` is assembled in (`seo.pages.write`)."""
    return out_dir.with_name(f".{out_dir.name}.staging")


OUTPUT = "the build output (site.output)"


def protected(site: Site) -> list[tuple[str, Path]]:
    """(what, path) for everything of the project an output or publish folder must not touch."""
    from .store import sqlite_path

    root = site.root
    opts = site.config.site
    out = site.path(opts.output)
    found = [("config/", root / "config"), ("content/", root / "content"),
             ("templates/", root / "templates"), (".git", root / ".git"),
             (OUTPUT, out), ("the build's staging folder", staging_of(out))]
    store = sqlite_path(opts.store)
    if store is not None:
        store = store if store.is_absolute() else root / store
        found += [("the store (site.store)", store), ("the store's locks", store.parent / "locks")]
    email = site.config.integrations.email
    outbox = site.path(email.outbox if email else "build/outbox")
    found.append(("the report outbox (integrations.email.outbox)", outbox))
    return found


def check_target(site: Site, target: Path, key: str, *, itself: str | None = None) -> Path:
    """Refuse `target` (the folder configured at `key`) when it is, contains or is inside one of
    the project's protected paths, or is or contains the project folder; else return it.

    `itself` names the protected entry that *is* this target (`OUTPUT` for the build output)."""
    real = _real(target)
    where = dict(file="config/site.yaml", key=key)
    root = _real(site.root)
    if _within(root, real):
        what = "is the project folder" if real == root else "contains the project folder"
        raise UserError(f"{target} {what}; refused (files there would be replaced or deleted)",
                        **where)
    for what, path in protected(site):
        if what == itself or (itself == OUTPUT and path == staging_of(target)):  # its own
            continue
        guarded = _real(path)
        if real == guarded:
            relation = "is"
        elif _within(guarded, real):
            relation = "contains"
        elif _within(real, guarded):
            relation = "is inside"
        else:
            continue
        raise UserError(f"{target} {relation} {what}; refused (choose a folder of its own, e.g. "
                        "build/public)", **where)
    return target


def check_outputs(site: Site) -> Path:
    """Every folder the tool writes and deletes in, checked before anything is written; returns
    the build output."""
    from .settings import FolderTarget

    out = check_target(site, site.path(site.config.site.output), "site.output", itself=OUTPUT)
    targets = site.config.site.publish
    for i, target in enumerate(targets):
        if isinstance(target, FolderTarget):
            key = "site.publish" if len(targets) == 1 else f"site.publish[{i}]"
            check_target(site, site.path(target.path), f"{key}.path")
    return out


# -- what is in a folder ------------------------------------------------------------------------

def regular_files(folder: Path, display: str) -> list[str]:
    """Relative POSIX paths of the regular files under `folder`, sorted. A symlink or any other
    kind of file there is refused: it could lead out of the project onto a public site."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, folder)
        for name in sorted(filenames) + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            full = os.path.join(dirpath, name)
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            mode = os.lstat(full).st_mode
            if not stat.S_ISREG(mode):
                kind = "a symlink" if stat.S_ISLNK(mode) else "not a regular file"
                raise UserError(f"{rel} is {kind}; refused (only regular files are published)",
                                file=display)
            found.append(rel)
    return sorted(found)


def sha256_file(path: Path) -> str | None:
    """SHA-256 of a regular file (not followed if a symlink); None when there is none."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()
    except FileNotFoundError:
        return None


def safe_relpath(rel: str) -> bool:
    """A relative path that stays inside its folder (no absolute path, no `..`, no empty part)."""
    pure = PurePosixPath(rel)
    return (bool(rel) and not pure.is_absolute() and "\\" not in rel and "\0" not in rel
            and all(part not in ("", ".", "..") for part in rel.split("/")))


# -- the manifest -------------------------------------------------------------------------------

@dataclass
class Manifest:
    """The files the tool wrote into a target: relative path -> SHA-256 of the bytes written."""

    files: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: bytes | None, display: str) -> Manifest:
        """Read a manifest (None: there is none yet). Anything malformed is one line, never a
        list of paths to delete: a manifest is outside input like any other."""
        if data is None:
            return cls()
        try:
            raw = json.loads(data)
            files = raw["files"]
            ok = (raw.get("version") == MANIFEST_VERSION and isinstance(files, dict)
                  and all(isinstance(k, str) and safe_relpath(k) and isinstance(v, str)
                          and len(v) == 64 for k, v in files.items()))
        except (ValueError, TypeError, KeyError, AttributeError):
            ok = False
        if not ok:
            raise UserError("not a manifest this tool wrote; move it away to publish here "
                            "(nothing was deleted)", file=display)
        return cls(dict(files))

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        path = folder / MANIFEST
        if not os.path.lexists(path):
            return cls()
        if not stat.S_ISREG(os.lstat(path).st_mode) or path.stat().st_size > MANIFEST_MAX:
            raise UserError("not a manifest this tool wrote (not a regular file, or too large); "
                            "refused", file=str(path))
        return cls.parse(path.read_bytes(), str(path))

    def dumps(self) -> bytes:
        return (json.dumps({"version": MANIFEST_VERSION, "files": dict(sorted(self.files.items()))},
                           indent=0) + "\n").encode()


@dataclass
class PublishPlan:
    delete: list[str] = field(default_factory=list)  # written by us, gone from the release
    kept: list[str] = field(default_factory=list)  # written by us, gone, but changed since: left
    conflicts: list[str] = field(default_factory=list)  # not ours, and would be overwritten


def plan_deletions(manifest: Manifest, new: Mapping[str, str],
                   current: Mapping[str, str | None]) -> PublishPlan:
    """What a publish of `new` (path -> SHA-256) may delete, given the target's `current` hashes
    (None: absent) for every path in the manifest and in `new`."""
    plan = PublishPlan()
    for rel in sorted(set(manifest.files) - set(new)):
        now = current.get(rel)
        if now is None:
            continue
        (plan.delete if now == manifest.files[rel] else plan.kept).append(rel)
    for rel in sorted(new):
        now = current.get(rel)
        if now is not None and rel not in manifest.files and now != new[rel]:
            plan.conflicts.append(rel)
    return plan


def current_hashes(folder: Path, paths: Iterable[str]) -> dict[str, str | None]:
    return {rel: sha256_file(folder / rel) for rel in paths}
