"""The JSONL contract between the crawl child process and the parent: one record per line.

The child writes a `PageRecord` for every URL it fetched and a `SitemapRecord` for every sitemap;
the parent reads them back with `read_records`. URLs are in crawl space (the origin that was
crawled, with any alias of the site such as its public domain mapped onto it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import BinaryIO


@dataclass
class PageRecord:
    url: str
    status: int  # 0: no answer (see `error`)
    via: str = "link"  # start, link, sitemap, canonical, redirect
    referer: str = ""  # the page (or sitemap) this URL was first found on
    depth: int = 0
    error: str = ""
    content_type: str = ""
    size: int = 0  # bytes of the body
    redirect_to: str = ""  # resolved Location of a 3xx, in crawl space when internal
    x_robots: str = ""  # X-Robots-Tag header
    html: bool = False
    titles: list[str] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    robots: str = ""  # meta robots/googlebot content, lower case
    canonicals: list[str] = field(default_factory=list)  # <link rel=canonical> hrefs as written
    canonical_links: list[str] = field(default_factory=list)  # Link header rel=canonical targets
    base: str = ""  # the <base href> relative URLs resolve against, when the page has one
    canonical_url: str = ""  # the canonical when usable on the page (canonical.read_canonical)
    h1: int = 0
    jsonld: list[str] = field(default_factory=list)  # raw text of each ld+json script
    tel: list[str] = field(default_factory=list)  # tel: link targets
    addresses: list[str] = field(default_factory=list)  # text of each <address>
    img_no_alt: list[str] = field(default_factory=list)  # src of images without an alt attribute
    insecure: list[str] = field(default_factory=list)  # http:// subresources (scripts, images, css...)
    links: list[str] = field(default_factory=list)  # internal targets first linked from this page
    link_count: int = 0  # internal links on the page, distinct

    kind = "page"


@dataclass
class SitemapRecord:
    url: str
    status: int
    urls: list[str] = field(default_factory=list)  # page URLs listed (crawl space)
    foreign: list[str] = field(default_factory=list)  # listed URLs on another host
    error: str = ""

    kind = "sitemap"


Record = PageRecord | SitemapRecord
_NAMES = {cls.kind: (cls, {f.name for f in fields(cls)}) for cls in (PageRecord, SitemapRecord)}


def to_item(record: Record) -> dict:
    item = {"kind": record.kind}
    item.update((f.name, getattr(record, f.name)) for f in fields(record))
    return item


def from_item(item: dict) -> Record:
    cls, names = _NAMES[item.get("kind", "page")]
    return cls(**{k: v for k, v in item.items() if k in names})


class JsonlTail:
    """Reads the records a running child has written so far (complete lines only), so the parent
    checks pages while the crawl goes on instead of after it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: BinaryIO | None = None
        self.rest = b""

    def poll(self) -> list[Record]:
        if self.fh is None:
            if not self.path.exists():
                return []
            self.fh = self.path.open("rb")
        data = self.fh.read()
        if not data:
            return []
        lines = (self.rest + data).split(b"\n")
        self.rest = lines.pop()
        return [from_item(json.loads(line)) for line in lines if line.strip()]

    def close(self) -> None:
        if self.fh is not None:
            self.fh.close()


def read_records(path: Path) -> Iterator[Record]:
    """Stream records back (a truncated last line from a killed child is skipped)."""
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                continue
            yield from_item(item)
