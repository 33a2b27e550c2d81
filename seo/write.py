"""Write the site: atomically, only what changed, and never two pages to one path.

A build with changes is assembled aside (unchanged files hard-linked from the live folder, changed
files written fresh) and swapped in with one atomic rename, so a crash mid-build leaves the old site
whole. A build with nothing changed touches nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import tempfile
from pathlib import Path

from .errors import UserError

_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)
_AT_FDCWD = -100


def atomic_write(path: Path, data: bytes) -> None:
    """Write a single file atomically (temp file in the same folder, then rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def exchange(a: Path, b: Path) -> None:
    """Atomically swap two directories (Linux renameat2); elsewhere, two renames."""
    flags = _RENAME_EXCHANGE
    if _renameat2 is not None and _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b),
                                             flags) == 0:
        return
    aside = b.with_name(b.name + ".old")
    shutil.rmtree(aside, ignore_errors=True)
    os.rename(b, aside)
    os.rename(a, b)
    os.rename(aside, a)


class SiteWriter:
    """Collects files for one build, then commits them in one swap."""

    def __init__(self, out_dir: Path) -> None:
        self.out = out_dir
        self.files: dict[str, bytes] = {}
        self.deleted: set[str] = set()

    def add(self, rel: str, data: bytes) -> None:
        if rel in self.files:
            raise UserError(f"two pages map to the same file {rel!r}", key="output")
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise UserError(f"output path escapes the site folder: {rel!r}", key="output")
        self.files[rel] = data

    def delete(self, rel: str) -> None:
        self.deleted.add(rel)

    def changes(self) -> tuple[dict[str, bytes], set[str]]:
        """Files whose bytes differ from what is live, and live files to delete."""
        changed = {}
        for rel, data in self.files.items():
            target = self.out / rel
            try:
                if target.stat().st_size == len(data) and target.read_bytes() == data:
                    continue
            except FileNotFoundError:
                pass
            changed[rel] = data
        gone = {rel for rel in self.deleted if (self.out / rel).exists()}
        return changed, gone

    def commit(self) -> tuple[int, int]:
        """Apply the build; returns (files written, files deleted)."""
        changed, gone = self.changes()
        if not changed and not gone:
            return 0, 0
        self.out.parent.mkdir(parents=True, exist_ok=True)
        staging = self.out.with_name(f".{self.out.name}.staging")
        shutil.rmtree(staging, ignore_errors=True)
        if self.out.exists():
            _link_tree(self.out, staging, skip=set(changed) | gone)
        else:
            staging.mkdir()
        for rel, data in sorted(changed.items()):
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for rel in gone:
            _prune_empty(staging / rel, staging)
        if self.out.exists():
            exchange(staging, self.out)
            shutil.rmtree(staging)
        else:
            os.rename(staging, self.out)
        return len(changed), len(gone)


def _link_tree(src: Path, dst: Path, skip: set[str]) -> None:
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, src)
        target_dir = dst if rel_dir == "." else dst / rel_dir
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel not in skip:
                os.link(os.path.join(dirpath, name), target_dir / name)


def _prune_empty(path: Path, root: Path) -> None:
    parent = path.parent
    while parent != root and parent.exists() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
