"""Every finding the audit can report, with its severity: the one list the README mirrors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "notice"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "notice")

CATALOG: dict[str, tuple[Severity, str]] = {
    "http_error": ("error", "page answered 5xx or did not answer"),
    "broken_link": ("error", "internal link to a URL answering 4xx"),
    "redirect_chain": ("warning", "internal link through two or more redirects (or a loop)"),
    "redirect": ("notice", "internal link to a URL that redirects"),
    "title_missing": ("error", "no <title>, or an empty one"),
    "title_duplicate": ("warning", "same title as another indexable page"),
    "title_too_long": ("warning", "title longer than audit.title_max characters"),
    "description_missing": ("warning", "no meta description, or an empty one"),
    "description_duplicate": ("warning", "same meta description as another indexable page"),
    "description_too_long": ("warning", "meta description longer than audit.description_max"),
    "h1_missing": ("warning", "no <h1>"),
    "h1_multiple": ("warning", "more than one <h1>"),
    "canonical_missing": ("warning", "no rel=canonical (neither a `<link>` tag nor a `Link` "
                                     "header)"),
    "canonical_relative": ("warning", "rel=canonical is a relative URL (used, but fragile)"),
    "canonical_not_http": ("error", "rel=canonical is not an http(s) URL (file:, ftp:, "
                                    "javascript:, data:...): ignored by search engines"),
    "canonical_scheme_mismatch": ("warning", "rel=canonical names the site's own host over the other "
                                           "scheme (http:// on an https:// site, or the reverse)"),
    "canonical_cross_domain": ("warning", "rel=canonical on another host, not listed in "
                                          "audit.canonical_hosts"),
    "canonical_conflicting": ("error", "several different canonicals on one page (search engines "
                                       "ignore them all)"),
    "canonical_repeated": ("notice", "the same canonical given more than once"),
    "canonical_header_mismatch": ("error", "the HTTP Link header names another canonical than "
                                           "the HTML"),
    "canonical_broken": ("error", "rel=canonical points at a URL that does not answer 200 (or is "
                                  "not a valid URL)"),
    "canonical_blocked": ("error", "rel=canonical points at a URL robots.txt disallows"),
    "canonical_redirect": ("warning", "rel=canonical points at a URL that redirects"),
    "canonical_noindex": ("error", "rel=canonical points at a noindex URL (meta robots or "
                                   "X-Robots-Tag)"),
    "canonical_chain": ("warning", "rel=canonical points at a page that names another canonical "
                                   "(a chain or loop)"),
    "noindex_unexpected": ("error", "noindex on a page meant to be indexed (built as indexable, "
                                    "or listed in the sitemap)"),
    "jsonld_invalid": ("error", "a JSON-LD block that does not parse"),
    "schema_required_missing": ("error", "LocalBusiness-type block missing a property Google "
                                         "requires (name, address)"),
    "schema_recommended_missing": ("warning", "LocalBusiness-type block missing a property Google "
                                              "recommends (geo, openingHoursSpecification, "
                                              "telephone, url, full address)"),
    "nap_mismatch": ("error", "name, address or phone on the page differs from config"),
    "sitemap_missing": ("warning", "no readable sitemap (robots.txt Sitemap: or /sitemap.xml)"),
    "sitemap_broken_url": ("error", "sitemap lists a URL that does not answer 200"),
    "not_in_sitemap": ("warning", "indexable page missing from the sitemap"),
    "orphan": ("warning", "page with no internal link to it"),
    "mixed_content": ("error", "http:// subresource on a page served over https"),
    "img_no_alt": ("warning", "<img> without an alt attribute"),
    "oversized": ("warning", "HTML larger than audit.max_page_kb"),
    "robots_blocked": ("notice", "internal link to a URL robots.txt disallows"),
}


@dataclass(frozen=True)
class Finding:
    type: str
    page: str  # path of the page (or the whole URL when off-site)
    linking: str = ""  # the page that links to it, for link findings
    detail: str = ""

    @property
    def severity(self) -> Severity:
        return CATALOG[self.type][0]

    @property
    def key(self) -> tuple[str, str, str]:
        """Identity across audits (the detail may change while the problem stays open)."""
        return (self.type, self.page, self.linking)

    def line(self) -> str:
        where = f" (linked from {self.linking})" if self.linking else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{self.severity:7} {self.type:26} {self.page}{where}{detail}"


def at_least(severity: Severity, threshold: Severity) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)
