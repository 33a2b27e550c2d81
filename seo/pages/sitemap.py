"""sitemap.xml (indexable pages only, lastmod = when the page's content last changed) and robots.txt."""

from __future__ import annotations

from datetime import date
from xml.sax.saxutils import escape


def sitemap_xml(entries: list[tuple[str, date]]) -> bytes:
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">']
    for url, lastmod in sorted(entries):
        lines.append(f"  <url><loc>{escape(url)}</loc><lastmod>{lastmod.isoformat()}</lastmod></url>")
    lines.append("</urlset>")
    return ("\n".join(lines) + "\n").encode()


def robots_txt(base_url: str) -> bytes:
    return (f"User-agent: *\nAllow: /\n\nSitemap: {base_url.rstrip('/')}/sitemap.xml\n").encode()
