"""Which URLs belong to the audited site, and how they map into crawl space.

Host comparison is done here on scheme://host:port, so a site on a non-default port works
(Scrapy's LinkExtractor `allow_domains` compares bare host names and crawls nothing there).
An alias is another origin that means the same site: the public domain in the canonicals and
sitemap of a build served on localhost.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
SKIP_SCHEMES = ("#", "mailto:", "tel:", "javascript:", "data:", "sms:", "ftp:")


def origin_of(url: str) -> str:
    """scheme://host[:port], lower case, default port dropped. Raises ValueError on a bad port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


@dataclass(frozen=True)
class Scope:
    origin: str  # crawl origin, e.g. http://127.0.0.1:8080
    aliases: tuple[str, ...] = ()  # other origins meaning the same site
    ignore: tuple[str, ...] = ()  # path prefixes never crawled
    public: str = ""  # the origin the site is published on (its scheme decides mixed content)

    def internal(self, url: str) -> str | None:
        """An absolute URL in crawl space if it belongs to the site, else None. Drops the fragment."""
        url = url.split("#", 1)[0]
        if url.startswith(self.origin):
            rest = url[len(self.origin):]
            if not rest:
                return self.origin + "/"
            if rest[0] in "/?":
                return url
        try:
            origin = origin_of(url)
        except ValueError:
            return None
        if origin != self.origin and origin not in self.aliases:
            return None
        parts = urlsplit(url)
        path = parts.path or "/"
        return self.origin + path + (f"?{parts.query}" if parts.query else "")

    def resolve(self, href: str, base: str) -> tuple[str | None, str]:
        """(crawl-space URL or None when external/not http, absolute URL) of an href on `base`."""
        href = href.strip()
        if not href or href.startswith(SKIP_SCHEMES):
            return None, ""
        if href[0] == "/" and not href.startswith("//"):
            url = self.origin + href.split("#", 1)[0]
            return url, url
        try:
            absolute = urljoin(base, href)
        except ValueError:  # an unbalanced [ in the host: not a URL
            return None, ""
        if not absolute.startswith(("http://", "https://")):
            return None, absolute
        return self.internal(absolute), absolute

    def path(self, url: str) -> str:
        """The URL as shown in findings: its path (and query) when internal, else the whole URL."""
        if url.startswith(self.origin + "/"):
            return url[len(self.origin):]
        return url

    def ignored(self, url: str) -> bool:
        return bool(self.ignore) and self.path(url).startswith(self.ignore)

    @property
    def https(self) -> bool:
        return (self.public or self.origin).startswith("https:")
