"""Read one HTML page into a PageRecord: one lxml parse, one pass over the tags that matter.

Runs in the crawl child for every page, so it is built for speed: lxml's C-level tag filter,
root-relative links resolved by string concatenation, no per-link Request objects here.
"""

from __future__ import annotations

from lxml import etree

from .canonical import read_canonical
from .records import PageRecord
from .scope import Scope

_PARSERS: dict[str, etree.HTMLParser] = {}
_TAGS = ("a", "link", "meta", "title", "h1", "img", "script", "address", "iframe", "source",
         "video", "audio", "embed", "object", "base")
_SRC_TAGS = {"img", "script", "iframe", "source", "video", "audio", "embed"}


def _parser(encoding: str) -> etree.HTMLParser:
    parser = _PARSERS.get(encoding)
    if parser is None:
        parser = _PARSERS[encoding] = etree.HTMLParser(encoding=encoding, remove_comments=True)
    return parser


def _text(el: etree._Element) -> str:
    return " ".join("".join(el.itertext()).split())


def extract(record: PageRecord, body: bytes, encoding: str, scope: Scope) -> list[str]:
    """Fill `record` from the page; return the page's internal link targets (crawl space, distinct)."""
    root = etree.fromstring(body, _parser(encoding)) if body.strip() else None
    if root is None:
        return []
    base = record.url
    links: dict[str, None] = {}
    resolve = scope.resolve
    for el in root.iter(*_TAGS):
        tag = el.tag
        if tag == "a":
            href = el.get("href")
            if href is None:
                continue
            if href.startswith("tel:"):
                record.tel.append(href[4:])
                continue
            url, _ = resolve(href, base)
            if url is not None:
                links[url] = None
        elif tag == "link":
            rel = (el.get("rel") or "").lower().split()
            href = el.get("href") or ""
            if "canonical" in rel:
                record.canonicals.append(href)
            elif href.startswith("http://") and ("stylesheet" in rel or "icon" in rel or
                                                  "preload" in rel or "manifest" in rel):
                record.insecure.append(href)
        elif tag == "meta":
            name = (el.get("name") or "").lower()
            if name == "description":
                record.descriptions.append(el.get("content") or "")
            elif name in ("robots", "googlebot"):
                record.robots = ", ".join(filter(None, [record.robots, (el.get("content") or "")
                                                        .lower()]))
        elif tag == "title":
            record.titles.append(_text(el))
        elif tag == "h1":
            record.h1 += 1
        elif tag == "address":
            record.addresses.append(_text(el))
        elif tag == "base":
            href = el.get("href")
            if href:
                base = resolve(href, record.url)[1] or base
        if tag in _SRC_TAGS:
            src = el.get("src") or ""
            if tag == "img":
                if el.get("alt") is None:
                    record.img_no_alt.append(src)
                for cand in (el.get("srcset") or "").split(","):
                    if cand.strip().startswith("http://"):
                        record.insecure.append(cand.split()[0])
            elif tag == "script" and (el.get("type") or "").lower() == "application/ld+json":
                record.jsonld.append(el.text or "")
            if src.startswith("http://"):
                record.insecure.append(src)
        elif tag == "object" and (el.get("data") or "").startswith("http://"):
            record.insecure.append(el.get("data") or "")
    if base != record.url:
        record.base = base
    if record.canonicals or record.canonical_links:
        record.canonical_url = read_canonical(record, scope).target
    record.link_count = len(links)
    return list(links)
