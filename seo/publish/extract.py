"""Read a page's parts: the head fields a publish target must carry, and the main content.

`page_parts` reads the tool's own built HTML (exact bytes of the body kept, for WordPress);
`live_facts` reads any page fetched from the live site (a theme around it, a plugin's markup),
and `content_digest` reduces a main content to a hash of its visible text, so the built page and
the live page compare equal when the same content reached the visitor.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import lxml.html
from lxml import etree

_H1 = re.compile(r"\s*<h1\b[^>]*>(.*?)</h1>\s*", re.S | re.I)
_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class PageParts:
    title: str  # <title>
    description: str
    robots: str  # "index, follow"
    canonical: str
    jsonld: str  # the JSON-LD script's text ("" when none)
    h1: str  # the heading as text
    body: str  # the main content's HTML without the h1 (what WordPress shows under its title)
    og_image: str = ""  # the social preview image's URL


def _head(html: str) -> Any:
    try:
        return lxml.html.document_fromstring(html.encode("utf-8"))
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring(b"<html><head></head><body></body></html>")


def _first(values: list[Any]) -> str:
    return str(values[0]).strip() if values else ""


def page_parts(html: str) -> PageParts:
    end = html.find("</head>")
    doc = _head(html[:end + 7] + "</html>" if end >= 0 else html)  # the head alone: much faster
    start = html.find("<main")
    close = html.rfind("</main>")
    opened = html.find(">", start) if start >= 0 else -1
    main = html[opened + 1:close] if 0 <= opened < close else html
    h1 = _H1.search(main)
    heading = " ".join(_text_of(h1.group(1)).split()) if h1 else ""
    body = (main[:h1.start()] + "\n" + main[h1.end():]) if h1 else main
    scripts = doc.xpath('//script[@type="application/ld+json"]/text()')
    return PageParts(
        title=" ".join(_first(doc.xpath("//title/text()")).split()),
        description=_first(doc.xpath('//meta[@name="description"]/@content')),
        robots=_first(doc.xpath('//meta[@name="robots"]/@content')),
        canonical=_first(doc.xpath('//link[@rel="canonical"]/@href')),
        jsonld=str(scripts[0]).strip() if scripts else "",
        h1=heading, body=body.strip() + "\n",
        og_image=_first(doc.xpath('//meta[@property="og:image"]/@content')))


def _text_of(fragment: str) -> str:
    return htmllib.unescape(_TAG.sub(" ", fragment))


# WordPress "texturizes" what it shows (block themes: the whole page, the tool's content included):
# straight quotes become curly, -- a dash, ... an ellipsis. The digest reads both forms as one.
_TYPOGRAPHY = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": '"', "\u2033": '"', "\u2013": "-", "\u2014": "-", "\u00d7": "x", "\u2026": "...",
    "\u2122": "(tm)", "\u00a9": "(c)", "\u00ae": "(r)", "\u00a0": " "})
_DASHES = re.compile(r"-{2,}")


def normal_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_TYPOGRAPHY)
    return " ".join(_DASHES.sub("-", text).split())


def content_digest(body_html: str) -> str:
    """sha256 of the visible text of a main content (markup and whitespace don't count)."""
    try:
        frag = lxml.html.fragment_fromstring(body_html, create_parent="div")
        text = frag.text_content()
    except (etree.ParserError, ValueError):
        text = _text_of(body_html)
    return hashlib.sha256(normal_text(text).encode()).hexdigest()


@dataclass
class LiveFacts:
    title: str = ""
    descriptions: list[str] = field(default_factory=list)
    robots: list[str] = field(default_factory=list)  # every robots meta's content
    canonicals: list[str] = field(default_factory=list)
    jsonld: list[Any] = field(default_factory=list)  # parsed JSON-LD blocks (unparsable: skipped)
    main_digest: str = ""  # content_digest of the main content ("" when none found)


def live_facts(html: str) -> LiveFacts:
    """What a fetched page shows. The main content is the companion plugin's wrapper on WordPress
    (`data-seo-main`), else the page's <main> without its first h1."""
    doc = _head(html)
    facts = LiveFacts(
        title=" ".join(_first(doc.xpath("//title/text()")).split()),
        descriptions=[str(v).strip() for v in doc.xpath('//meta[@name="description"]/@content')],
        robots=[str(v) for v in doc.xpath('//meta[@name="robots"]/@content')],
        canonicals=[str(v).strip() for v in doc.xpath('//link[@rel="canonical"]/@href')])
    for text in doc.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            facts.jsonld.append(json.loads(text))
        except ValueError:
            continue
    wrapper = doc.xpath('//*[@data-seo-main]')
    if wrapper:
        facts.main_digest = _digest_element(wrapper[0], drop_h1=False)
    else:
        main = doc.xpath("//main")
        if main:
            facts.main_digest = _digest_element(main[0], drop_h1=True)
    return facts


def _digest_element(el: Any, drop_h1: bool) -> str:
    el = lxml.html.fromstring(lxml.html.tostring(el))  # a copy: the caller's tree stays whole
    if drop_h1:
        for h1 in el.xpath(".//h1")[:1]:
            tail = h1.tail
            parent = h1.getparent()
            if tail:
                prev = h1.getprevious()
                if prev is not None:
                    prev.tail = (prev.tail or "") + tail
                else:
                    parent.text = (parent.text or "") + tail
            parent.remove(h1)
    return hashlib.sha256(normal_text(el.text_content()).encode()).hexdigest()


def robots_flags(values: list[str]) -> tuple[bool, bool]:
    """(noindex, nofollow) from robots meta contents or X-Robots-Tag headers."""
    words = {w.strip().lower() for v in values for w in v.split(",")}
    return ("noindex" in words or "none" in words), ("nofollow" in words or "none" in words)
