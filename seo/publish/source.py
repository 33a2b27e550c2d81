"""What there is to publish: the build output's files and the store's pages, checked against each other.

A publish never reads a half-written build: the files are hashed and every page the store knows must be
in the output with the same content hash, or the publish stops and asks for a build.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UserError
from ..site import Site
from ..store import Store

MAX_FILE_BYTES = 50 * 1024 * 1024  # a built page or asset larger than this is not ours


@dataclass(frozen=True)
class BuiltPage:
    path: str  # URL path: "/", "/parker/", "/parker/sciatica/"
    file: str  # output file: "parker/sciatica/index.html"
    kind: str
    indexable: bool
    content_hash: str  # sha256 of the file (pages.content_hash)
    built_on: object = None  # date the current content was built (pages.last_changed)


@dataclass
class Built:
    root: Path
    files: dict[str, str] = field(default_factory=dict)  # relative file -> sha256
    pages: dict[str, BuiltPage] = field(default_factory=dict)  # URL path -> page

    def read(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def text(self, page: BuiltPage) -> str:
        return self.read(page.file).decode("utf-8")

    def tree_hash(self) -> str:
        """One hash for the whole build: equal builds, equal hashes."""
        digest = hashlib.sha256()
        for rel in sorted(self.files):
            digest.update(f"{rel}\0{self.files[rel]}\n".encode())
        return digest.hexdigest()


def hash_tree(root: Path, where: str = "the build output") -> dict[str, str]:
    """sha256 of every regular file under `root` (symlinks and special files are refused)."""
    out: dict[str, str] = {}
    base = os.fspath(root).rstrip(os.sep) + os.sep
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        prefix = (dirpath + os.sep)[len(base):].replace(os.sep, "/") if dirpath + os.sep != base else ""
        for name in sorted(filenames) + links:
            full = os.path.join(dirpath, name)
            rel = prefix + name
            st = os.lstat(full)
            if not stat.S_ISREG(st.st_mode):
                raise UserError(f"{where} holds {rel!r}, which is not a regular file (a symlink or "
                                "a device); refused: only regular files are published")
            if st.st_size > MAX_FILE_BYTES:
                raise UserError(f"{where} holds {rel!r} of {st.st_size} bytes (over "
                                f"{MAX_FILE_BYTES // 2**20} MB): not a file this tool wrote")
            with open(full, "rb") as fh:
                out[rel] = hashlib.file_digest(fh, "sha256").hexdigest()
    return out


def load_built(site: Site, store: Store) -> Built:
    out = site.path(site.config.site.output)
    if not (out / "index.html").is_file():
        raise UserError(f"nothing built in {out}; run `seo pages build` first")
    built = Built(root=out, files=hash_tree(out))
    for path, row in sorted(store.page_rows().items()):
        if row["removed"] is not None:
            continue
        rel = path.lstrip("/") + "index.html"
        if built.files.get(rel) != row["content_hash"]:
            raise UserError(f"the build in {out} does not match the store at {path} (a build was "
                            "interrupted, or the folder was edited by hand); run `seo pages build`")
        built.pages[path] = BuiltPage(path, rel, row["kind"], bool(row["indexable"]),
                                      row["content_hash"], row["last_changed"])
    if not built.pages:
        raise UserError(f"the store lists no pages for {out}; run `seo pages build` first")
    return built
