"""Markdown from content files rendered as text with links, never as markup the author controls.

Content arrives through git from several people and lands on public pages, so:

- raw HTML (blocks, inline tags, comments) is shown as text, escaped once like any other text;
- no author-supplied attributes: the attribute-list extension (`{: onmouseover=... }`) and
  Markdown-in-HTML are not loaded, and every attribute Markdown itself did not generate is
  dropped (a fenced block's `{#id}` too);
- link and image URLs are allow-listed: http, https, mailto, tel and relative URLs for links;
  http, https and relative URLs for images. Anything else (`javascript:`, `data:`, `vbscript:`, ...,
  however it is disguised with entities, escapes, case or whitespace) loses its URL: the link is
  kept as plain text, the image as its alt text.

There is deliberately no setting that allows raw HTML: anyone with commit access could then put
script on the clinic's pages. Extensions kept: tables, footnotes, definition lists, abbreviations,
fenced code, sane lists.
"""

from __future__ import annotations

import html
import re
import threading
import xml.etree.ElementTree as ET

import markdown
from markdown.treeprocessors import Treeprocessor
from markdown.util import AMP_SUBSTITUTE, ETX, STX

EXTENSIONS = ["abbr", "def_list", "fenced_code", "footnotes", "tables", "sane_lists"]
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
IMAGE_SCHEMES = frozenset({"http", "https"})

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.I)
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f]+")  # browsers drop tabs/newlines in schemes
_ESCAPED = re.compile(f"{STX}([0-9]+){ETX}")
_ALIGN = re.compile(r"^text-align: (left|right|center);$")
_FOOTNOTE_ID = re.compile(r"^fn(ref)?(:[\w.\-]+)+$")
_LANGUAGE = re.compile(r"^language-[\w+\-]+$")


def url_allowed(value: str, schemes: frozenset[str] = LINK_SCHEMES) -> bool:
    """Whether a URL is relative or uses an allowed scheme, as a browser would read it."""
    text = _ESCAPED.sub(lambda m: chr(int(m.group(1))), value.replace(AMP_SUBSTITUTE, "&"))
    for _ in range(3):  # entities inside entities (&amp;#106;) decode in stages in attributes
        decoded = html.unescape(text)
        if decoded == text:
            break
        text = decoded
    text = _IGNORED_IN_URL.sub("", text)
    match = _SCHEME.match(text)
    if match:
        return match.group(1).lower() in schemes
    return ":" not in text.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]


def _keep(tag: str, name: str, value: str) -> bool:
    """The attributes Markdown itself generates for `tag` (nothing the author wrote)."""
    if name == "href":
        return tag == "a"
    if name in ("src", "alt"):
        return tag == "img"
    if name == "title":
        return tag in ("a", "img", "abbr")
    if name == "class":
        return ((tag == "a" and value in ("footnote-ref", "footnote-backref"))
                or (tag == "div" and value == "footnote")
                or (tag == "code" and bool(_LANGUAGE.match(value))))
    if name == "id":
        return tag in ("li", "sup") and bool(_FOOTNOTE_ID.match(value))
    if name == "style":
        return tag in ("th", "td") and bool(_ALIGN.match(value))
    if name == "start":
        return tag == "ol" and value.isdigit()
    return False


class _Sanitize(Treeprocessor):
    """Runs last: drops every attribute Markdown did not generate and every disallowed URL."""

    def run(self, root: ET.Element) -> None:
        for el in root.iter():
            for name, value in list(el.attrib.items()):
                if not _keep(el.tag, name, value):
                    del el.attrib[name]
            if el.tag == "a" and "href" in el.attrib and not url_allowed(el.attrib["href"]):
                el.tag = "span"
                el.attrib.clear()
            if el.tag == "img" and not url_allowed(el.attrib.get("src", ""), IMAGE_SCHEMES):
                alt = el.attrib.get("alt", "")
                el.tag = "span"
                el.attrib.clear()
                el.text = alt


def _converter() -> markdown.Markdown:
    md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    md.preprocessors.deregister("html_block")  # raw HTML blocks: shown as text
    md.inlinePatterns.deregister("html")  # inline tags and comments: shown as text
    md.treeprocessors.register(_Sanitize(md), "sanitize", -10)  # after unescaping
    # a fenced block is stashed as finished HTML, out of the sanitizer's reach: its `{...}` may
    # name a language, nothing else (no id, no classes, no key=value)
    fenced = md.preprocessors["fenced_code_block"]
    fenced.handle_attrs = lambda attrs: (  # type: ignore[attr-defined]
        "", [v for k, v in attrs if k == "." and _LANGUAGE.match(f"language-{v}")][:1], {})
    return md


_local = threading.local()


def to_html(text: str) -> str:
    """Markdown to HTML with the rules above (one converter per thread; they are not thread-safe)."""
    md = getattr(_local, "md", None)
    if md is None:
        md = _local.md = _converter()
    md.reset()
    return md.convert(text)
