"""Write the site: atomically, only what changed, and never two pages to one path.

A build with changes is assembled aside (unchanged files hard-linked from the live folder, changed
files written fresh) and swapped in with one atomic rename, so a crash mid-build leaves the old site
whole. A build with nothing changed touches nothing.

One writer at a time per folder: `SiteWriter` is a context manager holding an exclusive lock on
`.<name>.lock` beside the folder for the whole build or publish. Holding it proves that no other
build is running, so a staging folder found then was left by a build that died (killed outright)
and is removed, whether or not this build has anything to change.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import stat
import time
from pathlib import Path

from ..atomic import atomic_write  # noqa: F401  (re-exported)
from ..errors import UserError

_RENAME_EXCHANGE = 2
libc = ctypes.CDLL(None, use_errno=True)  # the C library already loaded (find_library forks)
_renameat2 = getattr(libc, "renameat2", None)
_AT_FDCWD = -100


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


LOCK_WAIT = 30.0  # seconds to wait for another writer of the same folder to finish


class SiteWriter:
    """Streams one build into a staging folder beside the live one; `commit` swaps it in.

    Only files whose bytes differ from the live copy are written, so memory stays flat however
    large the site, and a build with nothing changed touches nothing. Use it as a context manager
    (`with SiteWriter(out) as writer:`): it takes the folder's lock and clears a dead build's
    staging folder on entry, and discards its own staging folder and releases the lock on exit.
    """

    def __init__(self, out_dir: Path, *, dry_run: bool = False) -> None:
        self.out = out_dir
        self.dry_run = dry_run
        self.staging = out_dir.with_name(f".{out_dir.name}.staging")
        self.lock_path = out_dir.with_name(f".{out_dir.name}.lock")
        self.seen: set[str] = set()
        self.changed: set[str] = set()
        self.deleted: set[str] = set()
        self._started = False
        self._lock_fd: int | None = None

    def __enter__(self) -> SiteWriter:
        if not self.dry_run:
            self._lock()
            if os.path.lexists(self.staging):  # we hold the lock: its builder is dead
                _remove(self.staging)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.discard()
        finally:
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None

    def _lock(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
                    os.close(fd)
                    raise UserError(f"another build or publish of {self.out} is running"
                                    f"{f' (pid {holder})' if holder.isdigit() else ''}; "
                                    "try again when it has finished") from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._lock_fd = fd

    def put(self, rel: str, data: bytes, *, replace: bool = False) -> bool:
        """Stage `rel` if it differs from the live file; True when it did."""
        if rel in self.seen and not replace:
            raise UserError(f"two pages map to the same file {rel!r}", key="output")
        if rel.startswith("/") or ".." in Path(rel).parts:
            raise UserError(f"output path escapes the site folder: {rel!r}", key="output")
        self.seen.add(rel)
        if _same_bytes(self.out / rel, data):
            if rel in self.changed:  # a replaced page went back to what is live
                self.changed.discard(rel)
                if not self.dry_run:
                    (self.staging / rel).unlink(missing_ok=True)
            return False
        self.changed.add(rel)
        if not self.dry_run:
            self._start()
            target = self.staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return True

    def delete(self, rel: str) -> None:
        if (self.out / rel).exists():
            self.deleted.add(rel)

    def prepare(self) -> None:
        """Create the staging folder now (before forking workers that write into it)."""
        if not self.dry_run:
            self._start()

    def _start(self) -> None:
        if not self._started:
            if os.path.lexists(self.staging):
                _remove(self.staging)
            self.staging.mkdir(parents=True)
            self._started = True

    def discard(self) -> None:
        if self._started:
            shutil.rmtree(self.staging, ignore_errors=True)
            self._started = False

    def commit(self) -> tuple[int, int]:
        """Swap the staged build in; returns (files written, files deleted)."""
        if self.dry_run or (not self.changed and not self.deleted):
            self.discard()
            return len(self.changed), len(self.deleted)
        self._start()
        if self.out.exists():
            _link_tree(self.out, self.staging, skip=self.changed | self.deleted)
            os.chmod(self.staging, stat.S_IMODE(self.out.stat().st_mode))  # a web root keeps its mode
            for rel in self.deleted:
                _prune_empty(self.staging / rel, self.staging)
            exchange(self.staging, self.out)
            shutil.rmtree(self.staging)
        else:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.staging, self.out)
        self._started = False
        return len(self.changed), len(self.deleted)


def _remove(path: Path) -> None:
    """Remove a staging folder (or whatever took its name), never following a symlink."""
    if path.is_symlink() or not path.is_dir():
        path.unlink()
    else:
        shutil.rmtree(path)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except FileNotFoundError:
        return False


def _link_tree(src: Path, dst: Path, skip: set[str]) -> None:
    """Everything in `src` but `skip` into `dst`: files hard-linked, symlinks copied as symlinks
    (never followed: a link's target stays where it is), so nothing the build did not write is
    lost or replaced by the swap."""
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, src)
        target_dir = dst if rel_dir == "." else dst / rel_dir
        target_dir.mkdir(parents=True, exist_ok=True)
        for name in [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            os.symlink(os.readlink(os.path.join(dirpath, name)), target_dir / name)
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if rel not in skip:
                os.link(os.path.join(dirpath, name), target_dir / name, follow_symlinks=False)


def _prune_empty(path: Path, root: Path) -> None:
    parent = path.parent
    while parent != root and parent.exists() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent
