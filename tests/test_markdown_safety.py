"""Markdown in content is text with links: allow-listed URL schemes, no author attributes, no raw
HTML, code escaped once; checked on the converter and on built pages."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from hostile_support import run_cli

from seo.markdown_safe import to_html, url_allowed

HOSTILE = """
[plain js](javascript:alert(1)) [entity js](&#106;avascript:alert(2))
[escaped js](javascript\\:alert(3)) [tab js](java\tscript:alert(4)) [upper](JAVASCRIPT:alert(5))
[data](data:text/html;base64,PHNjcmlwdD4=) [vb](vbscript:msgbox) [ref js][r]
![img js](javascript:alert(6)) ![img data](data:image/svg+xml,<svg/onload=alert(7)>)
A paragraph with attributes {: onmouseover="alert(8)" }
<script>alert(9)</script> <img src=x onerror=alert(10)> <!-- comment -->

<div onclick="alert(11)">block</div>

~~~ {.py #main onclick="alert(12)"}
print("<b>")
~~~

Inline `<b>bold</b>` code and [a good link](https://example.org/?a=1&b=2) and [tel](tel:+13035550100).

[r]: javascript:alert(13)
"""

ALLOWED = {"http", "https", "mailto", "tel"}


class Audit(HTMLParser):
    """Every tag, attribute and URL in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]


def audit(html: str) -> Audit:
    parser = Audit()
    parser.feed(html)
    return parser


def assert_harmless(html: str) -> None:
    found = audit(html)
    for tag, name, value in found.attrs:
        assert not name.startswith("on"), (tag, name, value)
        if name in ("href", "src"):
            assert url_allowed(value, frozenset(ALLOWED)), (tag, name, value)
            assert "javascript" not in value.lower() and "data:" not in value.lower(), value


def test_hostile_markdown_is_rendered_as_text() -> None:
    html = to_html(HOSTILE)
    assert_harmless(html)
    found = audit(html)
    assert "script" not in found.tags and "div" not in found.tags and "img" not in found.tags
    assert ("pre", "id", "main") not in found.attrs
    assert "<code>&lt;b&gt;bold&lt;/b&gt;</code>" in html  # escaped once
    assert "&lt;script&gt;alert(9)&lt;/script&gt;" in html
    assert 'print(&quot;&lt;b&gt;&quot;)' in html or 'print("&lt;b&gt;")' in html
    assert '<a href="https://example.org/?a=1&amp;b=2">a good link</a>' in html
    assert '<a href="tel:+13035550100">tel</a>' in html
    assert "<span>plain js</span>" in html and "<span>img js</span>" in html


@pytest.mark.parametrize("url,ok", [
    ("https://a.b/", True), ("http://a.b", True), ("mailto:a@b.c", True), ("tel:+1", True),
    ("/path", True), ("../x#y", True), ("#top", True), ("?q=1", True), ("//cdn.test/x", True),
    ("javascript:x", False), (" javascript:x", False), ("JaVaScRiPt:x", False),
    ("&#106;avascript:x", False), ("&#x6A;avascript:x", False), ("&amp;#106;avascript:x", False),
    ("java\nscript:x", False), ("data:text/html,x", False), ("vbscript:x", False),
    ("file:///etc/passwd", False), ("ftp://x", False), ("x:y", False),
])
def test_url_allow_list(url: str, ok: bool) -> None:
    assert url_allowed(url) is ok


def test_images_allow_only_web_urls() -> None:
    assert url_allowed("https://a.b/i.png", frozenset({"http", "https"}))
    assert not url_allowed("mailto:x@y.z", frozenset({"http", "https"}))


def test_tables_footnotes_and_lists_still_work() -> None:
    html = to_html("| a | b |\n|:--|--:|\n| 1 | 2 |\n\nText[^n].\n\n[^n]: A note.\n\n1. one\n2. two\n")
    assert '<th style="text-align: left;">a</th>' in html and "<ol>" in html
    assert 'class="footnote-ref" href="#fn:n"' in html and '<li id="fn:n">' in html


def test_built_pages_carry_no_script_from_content(mini: Path) -> None:
    cond = mini / "content/conditions/knee-pain.md"
    cond.write_text(cond.read_text() + HOSTILE)
    note = mini / "content/towns/alpha/knee-pain.md"
    note.write_text(note.read_text() + HOSTILE)
    ran = run_cli("pages", "build", "--root", str(mini))
    assert ran.code == 0, ran.stderr
    pages = list((mini / "build/site").rglob("index.html"))
    assert len(pages) == 11  # 10 location pages and a practitioner page
    for page in pages:
        html = page.read_text()
        assert_harmless(html)
        assert html.count("<script") == html.count('<script type="application/ld+json">')
    page = (mini / "build/site/alpha/knee-pain/index.html").read_text()
    assert "<code>&lt;b&gt;bold&lt;/b&gt;</code>" in page
