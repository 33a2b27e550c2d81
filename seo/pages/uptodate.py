"""A rebuild with nothing changed stops before loading anything: the up-to-date check.

After an unfiltered `seo pages build` succeeds, a stamp (`build/pages-stamp.json`) records a hash of
every input as it was read before the build (config/, content/, the project's and the built-in
templates, seo's own code, the Python version), the page files written, the store's page rows and
the build's summary. The next `seo pages build` hashes the inputs again (reading files is quick;
parsing 1,000 towns' YAML, validating and planning is not) and, when nothing differs, every page
file is still there and the store still holds the same pages, reports the last build's summary and
stops. Anything else, or any doubt, goes the whole way (which is incremental in its own right).

Only standard-library imports here: this runs before the heavy ones.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

STAMP = "build/pages-stamp.json"
FORMAT = 1
SEO_PACKAGE = Path(__file__).resolve().parents[1]
BUILTIN_TEMPLATES = SEO_PACKAGE.parent / "templates"
MAX_FILES = 1_000_000  # a bound on the walk


def _walk(folder: Path) -> list[str]:
    """Every regular file under `folder` (symlinks followed, as the loader does), sorted."""
    out: list[str] = []
    if not folder.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        out += [os.path.join(dirpath, name) for name in sorted(filenames)]
        if len(out) > MAX_FILES:
            break
    return out


def input_digest(root: Path) -> str:
    """Hash of every file a build reads, with its path, and of the code that reads it."""
    digest = hashlib.sha256(f"seo-pages-inputs {FORMAT} {sys.version}".encode())
    groups = [("project", root, [*_walk(root / "config"), *_walk(root / "content"),
                                 *_walk(root / "templates")]),
              ("builtin", BUILTIN_TEMPLATES, _walk(BUILTIN_TEMPLATES)),
              ("code", SEO_PACKAGE, [p for p in _walk(SEO_PACKAGE) if p.endswith(".py")])]
    for label, base, files in groups:
        for path in files:
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                data = b"\0unreadable"
            rel = os.path.relpath(path, base)
            digest.update(f"\0{label}\0{rel}\0{len(data)}\0".encode())
            digest.update(data)
    return digest.hexdigest()


PAGES_QUERY = ("SELECT count(*), max(last_changed), max(first_published) FROM pages "
               "WHERE removed IS NULL")


def _store_pages(url: str, schema: str | None = None) -> list[Any] | None:
    """(count, latest last_changed, latest first_published) of the live pages in the store (SQLite
    through the standard library, PostgreSQL through psycopg); None when it cannot be read or the
    URL carries a password (never written to the stamp): the check then goes the whole way."""
    try:
        if url.startswith("sqlite:///"):
            path = url.removeprefix("sqlite:///")
            if path == ":memory:" or not os.path.isfile(path):
                return None
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                row = conn.execute(PAGES_QUERY).fetchone()
            finally:
                conn.close()
        elif url.startswith("postgresql+psycopg://"):
            row = _postgres_pages(url, schema)
        else:
            return None
    except Exception:  # any doubt: the whole way
        return None
    return None if row is None else [row[0], str(row[1]), str(row[2])]


def _postgres_pages(url: str, schema: str | None) -> Any:
    import psycopg

    conninfo = "postgresql://" + url.removeprefix("postgresql+psycopg://")
    credentials = conninfo.split("@", 1)[0] if "@" in conninfo else ""
    if ":" in credentials.removeprefix("postgresql://"):
        return None  # a password in the URL: not kept in the stamp, so not checked from it
    with psycopg.connect(conninfo, connect_timeout=5, autocommit=True) as conn:
        if schema:
            conn.execute(f'SET search_path TO "{schema}"')
        return conn.execute(PAGES_QUERY).fetchone()


def record(root: Path, digest: str, *, out_dir: Path, files: list[str], store_url: str,
           store_schema: str | None, summary: dict[str, Any]) -> None:
    """Write the stamp after a successful unfiltered build (atomically). `store_url` is shown
    without its password (a URL with one is not checked from the stamp)."""
    from ..atomic import atomic_write

    store = _store_pages(store_url, store_schema)
    if store is None:
        forget(root)
        return
    stamp = {"format": FORMAT, "inputs": digest, "out": str(out_dir), "files": sorted(files),
             "store": store_url, "schema": store_schema, "store_pages": store, "summary": summary}
    path = root / STAMP
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(stamp, sort_keys=True).encode())


def forget(root: Path) -> None:
    """Drop the stamp: a build is about to change the output (or just did, filtered)."""
    (root / STAMP).unlink(missing_ok=True)


def _locked(out: Path) -> bool:
    """Whether a build or publish holds the output folder's lock (seo.pages.write)."""
    try:
        fd = os.open(out.with_name(f".{out.name}.lock"), os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also drops the shared lock
    return False


def unchanged(root: Path, digest: str) -> SimpleNamespace | None:
    """The last build's summary when nothing changed since it; else None."""
    try:
        stamp = json.loads((root / STAMP).read_text(encoding="utf-8"))
        if stamp.get("format") != FORMAT or stamp.get("inputs") != digest:
            return None
        out = Path(stamp["out"])
        if os.path.lexists(out.with_name(f".{out.name}.staging")) or _locked(out):
            return None  # a build is running, or one was killed: the whole way, which waits or cleans
        if not all(os.path.isfile(out / rel) for rel in stamp["files"]):
            return None
        if _store_pages(stamp["store"], stamp.get("schema")) != stamp["store_pages"]:
            return None
        summary = dict(stamp["summary"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    summary.update(rendered=0, written=0, deleted=0, dry_run=False, changed_paths=[],
                   deleted_paths=[], unchanged=summary.get("planned", 0), out=stamp["out"])
    summary["flagged"] = [(path, list(reasons)) for path, reasons in summary.get("flagged", [])]
    return SimpleNamespace(**summary)


def build_root(root: Path | str, *, towns: list[str] | None = None,
               conditions: list[str] | None = None, dry_run: bool = False,
               progress: Any = None) -> tuple[Any, Path]:
    """`seo pages build` for a project folder: (the build's result, the output folder). A whole-site
    build first checks whether anything changed since the last one (see above); a build filtered
    to some towns or conditions always goes the whole way."""
    from ..files import project_root  # standard library only: a bad --root is one line, as below

    whole = not towns and not conditions
    digest = ""
    if whole:
        path = project_root(root)
        digest = input_digest(path)
        done = unchanged(path, digest)
        if done is not None:
            done.dry_run = dry_run
            return done, Path(done.out)
    from .. import api  # the heavy imports, only now

    project = api.Project.open(root)
    result = api.build(project, towns=towns, conditions=conditions, dry_run=dry_run,
                       progress=progress, stamp=digest or None)
    return result, project.site.path(project.site.config.site.output)
