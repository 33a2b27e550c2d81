"""A page's canonical URL judged on the page itself, as a search engine judges it.

A page names its canonical in `<link rel="canonical">` and/or an HTTP `Link: <...>; rel="canonical"`
header. Search engines use it only when it is usable: an absolute or relative http(s) URL, one of
them (several different ones cancel each other out, and so do an HTML tag and a header that
disagree), on the site itself or on a host the site owns. A page whose canonical is not usable is
judged as its own canonical, so it takes part in the duplicate title and description checks.

`read_canonical` runs in the crawl child (to know which target to fetch) and in the parent (for the
findings); what the target answers (status, redirect, noindex, its own canonical) is judged in
findings.py once the crawl has fetched it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from .records import PageRecord
from .scope import Scope

SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
# one link-value of an RFC 8288 Link header: <target> followed by ;-separated parameters
LINK_RE = re.compile(r'<([^<>]*)>((?:\s*;\s*[^;,=\s]+(?:\s*=\s*(?:"[^"]*"|[^;,]*))?)*)')
REL_RE = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))', re.I)
# problems that make the canonical unusable (search engines ignore it)
UNUSABLE = frozenset({"canonical_not_http", "canonical_scheme_mismatch", "canonical_cross_domain",
                      "canonical_conflicting", "canonical_header_mismatch", "canonical_broken"})


@dataclass(frozen=True, slots=True)
class Canonical:
    target: str = ""  # the canonical when usable on the page (crawl space when on the site), else ""
    problems: tuple[tuple[str, str], ...] = ()  # (finding type, detail), one per type


def link_header_canonicals(values: list[str]) -> list[str]:
    """The targets of every rel="canonical" link in `Link` header values, as written."""
    out = []
    for value in values:
        for match in LINK_RE.finditer(value):
            rel = REL_RE.search(match.group(2))
            if rel and "canonical" in (rel.group(1) or rel.group(2) or "").lower().split():
                out.append(match.group(1).strip())
    return out


def _listed(found: dict[str, str], scope: Scope) -> str:
    return ", ".join(shown(scope.path(u)) for u in found)


def shown(text: str, limit: int = 100) -> str:
    """Outside text fit for a finding line: control characters escaped, long values cut."""
    text = text if len(text) <= limit else text[:limit] + "..."
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _Reader:
    """Resolves a page's canonical hrefs one by one, collecting problems by finding type."""

    def __init__(self, scope: Scope, allowed_hosts: frozenset[str]) -> None:
        self.scope, self.allowed = scope, allowed_hosts
        self.problems: dict[str, list[str]] = {}
        self.own_hosts = {urlsplit(o).hostname or "" for o in (scope.origin, *scope.aliases)}
        self.site_scheme = urlsplit(scope.public or scope.origin).scheme

    def problem(self, kind: str, detail: str) -> None:
        details = self.problems.setdefault(kind, [])
        if detail not in details:
            details.append(detail)

    def resolve(self, href: str, base: str) -> tuple[str, str]:
        """(the URL compared with the page's other canonicals, the target when usable or "")."""
        scheme = SCHEME_RE.match(href)
        if scheme and scheme.group(1).lower() not in ("http", "https"):
            self.problem("canonical_not_http", shown(href))
            return href, ""
        if not scheme:
            self.problem("canonical_relative", shown(href))
        try:
            absolute = urljoin(base, href).split("#", 1)[0]
            parts = urlsplit(absolute)
            host, port = (parts.hostname or "").lower(), parts.port
        except ValueError:  # a bad port, or an unbalanced [ in the host
            absolute, host, port = href, "", None
        if not absolute.startswith(("http://", "https://")) or not host:
            if scheme:  # else the base is not http(s): a page not fetched over http, in a test
                self.problem("canonical_broken", f"{shown(href)} is not a valid URL")
            return absolute, ""
        internal = self.scope.internal(absolute)
        if internal is not None:
            return internal, internal
        scheme_name = parts.scheme.lower()
        if host in self.own_hosts and scheme_name != self.site_scheme:
            self.problem("canonical_scheme_mismatch", f"{shown(absolute)}: {scheme_name}:// on a "
                                                      f"{self.site_scheme}:// site")
            return absolute, ""
        if host in self.allowed or (port is not None and f"{host}:{port}" in self.allowed):
            return absolute, absolute
        self.problem("canonical_cross_domain", f"{shown(absolute)} is on another host "
                                                "(allow it in integrations.audit.canonical_hosts)")
        return absolute, ""

    def read(self, hrefs: list[str], base: str) -> tuple[dict[str, str], int]:
        """{compared URL: usable target or ""} for the hrefs, and how many there were."""
        found: dict[str, str] = {}
        for href in hrefs:
            key, target = self.resolve(href, base)
            found.setdefault(key, target)
        return found, len(hrefs)


def read_canonical(record: PageRecord, scope: Scope,
                   allowed_hosts: frozenset[str] = frozenset()) -> Canonical:
    """Judge the canonical a fetched HTML page names (HTML tag and Link header) on the page alone."""
    html = [h.strip() for h in record.canonicals if h.strip()]
    header = [h.strip() for h in record.canonical_links if h.strip()]
    if not html and not header:
        return Canonical(problems=(("canonical_missing", "empty href" if record.canonicals else ""),))
    reader = _Reader(scope, allowed_hosts)
    in_html, n_html = reader.read(html, record.base or record.url)
    in_header, n_header = reader.read(header, record.url)
    for where, found, n in (("", in_html, n_html), (" in the Link header", in_header, n_header)):
        if len(found) > 1:
            reader.problem("canonical_conflicting",
                           f"{len(found)} different canonicals{where}: {_listed(found, scope)}")
        elif n > 1:
            reader.problem("canonical_repeated", f"the same canonical {n} times{where}")
    if in_html and in_header and set(in_html) != set(in_header):
        reader.problem("canonical_header_mismatch", f"HTML names {_listed(in_html, scope)}; "
                                                    f"the Link header names {_listed(in_header, scope)}")
    problems = tuple((kind, "; ".join(details)) for kind, details in reader.problems.items())
    named = in_html or in_header
    usable = len(named) == 1 and not any(kind in UNUSABLE for kind, _ in problems)
    return Canonical(target=next(iter(named.values())) if usable else "", problems=problems)
