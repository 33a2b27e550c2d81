"""What there is to publish: the build output's files and the store's pages, checked against each other.

A publish never reads a half-written build: the files are hashed and every page the store knows must be
in the output with the same content hash, or the publish stops and asks for a build.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from .. import safety
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


def hash_tree(root: Path, where: str) -> dict[str, str]:
    """sha256 of every regular file under `root`; a symlink or special file there is refused
    (`seo.safety.regular_files`: it could lead out of the project onto a public site)."""
    out: dict[str, str] = {}
    base = os.fspath(root)
    for rel in safety.regular_files(root, where):
        full = os.path.join(base, rel)
        size = os.lstat(full).st_size
        if size > MAX_FILE_BYTES:
            raise UserError(f"{rel} is {size} bytes (over {MAX_FILE_BYTES // 2**20} MB): not a "
                            "file this tool wrote; refused", file=where)
        with open(full, "rb") as fh:
            out[rel] = hashlib.file_digest(fh, "sha256").hexdigest()
    return out


def load_built(site: Site, store: Store) -> Built:
    out = site.path(site.config.site.output)
    if not (out / "index.html").is_file():
        raise UserError(f"nothing built in {out}; run `seo pages build` first")
    built = Built(root=out, files=hash_tree(out, site.config.site.output))
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
