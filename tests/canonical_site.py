"""A planted site for the canonical checks: one page for each way a canonical goes wrong, all of
them sharing one title and one description, plus pages whose canonicals are fine. Served like
audit_site.PlantedSite (HTTPS on 127.0.0.1, a non-default port).

Search engines ignore a canonical they cannot use, so every page of the "Opening hours" group is
a duplicate of the others; the pages validly canonicalised to /target/ are not duplicates of it.
`EXPECTED` is every (type, page, linking page) the audit must report, and nothing else.
"""

from __future__ import annotations

from audit_site import PlantedSite

PARTNER = "partner.test"  # listed in integrations.audit.canonical_hosts by the test
DUP_TITLE, DUP_DESC = "Opening hours", "When we are open."

# page -> the canonical problem it plants (every one of these pages has the duplicate title)
BAD = {
    "/dup/file/": "canonical_not_http",
    "/dup/javascript/": "canonical_not_http",
    "/dup/cross/": "canonical_cross_domain",
    "/dup/scheme/": "canonical_scheme_mismatch",
    "/dup/broken/": "canonical_broken",
    "/dup/redirect/": "canonical_redirect",
    "/dup/noindex/": "canonical_noindex",
    "/dup/blocked/": "canonical_blocked",
    "/dup/chain/": "canonical_chain",
    "/dup/conflict/": "canonical_conflicting",
    "/dup/header/": "canonical_header_mismatch",
}
SELF = "/öffnungszeiten/"  # canonical to itself, in a URL the crawler fetches percent-encoded
FIRST, *REST = sorted([*BAD, SELF])
EXPECTED = (
    {(kind, page, "") for page, kind in BAD.items()}
    | {("title_duplicate", page, "") for page in REST}
    | {("description_duplicate", page, "") for page in REST}
    | {("canonical_relative", "/relative/", ""), ("canonical_repeated", "/repeated/", ""),
       ("canonical_chain", "/loop-a/", ""), ("canonical_chain", "/loop-b/", ""),
       ("title_duplicate", "/loop-b/", ""),
       ("sitemap_missing", "/sitemap.xml", "")}
)
# fetched only because a page names them as canonical (nothing links to them)
CANONICAL_ONLY = ("/gone/", "/moved-target/", "/x-noindex/", "/private/page/", "/middle/", "/loop-b/")


class CanonicalSite(PlantedSite):
    def build(self) -> None:
        o = self.origin
        plain = "http://" + o.split("://", 1)[1]  # the same host and port over http://
        self.routes.clear()
        dup = {"title": DUP_TITLE, "desc": DUP_DESC}
        self.page("/dup/file/", **dup, canonical="file:///usr/share/doc/clinic/dup/file.html")
        self.page("/dup/javascript/", **dup, canonical="javascript:void(0)")
        self.page("/dup/cross/", **dup, canonical="https://elsewhere.invalid/dup/")
        self.page("/dup/scheme/", **dup, canonical=f"{plain}/dup/scheme/")
        self.page("/dup/broken/", **dup, canonical=f"{o}/gone/")
        self.page("/dup/redirect/", **dup, canonical=f"{o}/moved-target/")
        self.page("/dup/noindex/", **dup, canonical=f"{o}/x-noindex/")
        self.page("/dup/blocked/", **dup, canonical=f"{o}/private/page/")
        self.page("/dup/chain/", **dup, canonical=f"{o}/middle/")
        self.page("/dup/conflict/", **dup, canonical=(f"{o}/target/", f"{o}/contact/"))
        self.page("/dup/header/", **dup, canonical=f"{o}/target/",
                  headers={"Link": f'<{o}/contact/>; rel="canonical"'})
        self.page(SELF, **dup)
        self.status("/gone/", 404)
        self.status("/moved-target/", 301, "/target/")
        self.page("/x-noindex/", headers={"X-Robots-Tag": "noindex"})  # meta robots says index
        self.page("/private/page/")
        # the target and pages validly canonicalised to it: same title, yet not duplicates
        same = {"title": "Our clinic", "desc": "All about our clinic."}
        self.page("/target/", **same)
        self.page("/middle/", **same, canonical=f"{o}/target/")
        self.page("/copy/", **same, canonical=f"{o}/target/",
                  headers={"Link": f'<{o}/target/>; rel="canonical", </copy/>; rel="alternate"'})
        self.page("/relative/", **same, canonical="../target/")
        self.page("/header-only/", **same, canonical=None, headers={"Link": f'<{o}/target/>; rel=canonical'})
        self.page("/partner/", **same, canonical=f"https://{PARTNER}/target/")
        self.page("/repeated/", canonical=(f"{o}/repeated/", f"{o}/repeated/"))
        self.page("/loop-a/", title="Loop", canonical=f"{o}/loop-b/")
        self.page("/loop-b/", title="Loop", canonical=f"{o}/loop-a/")
        self.page("/contact/")
        linked = [*BAD, SELF, "/target/", "/copy/", "/relative/", "/header-only/", "/partner/",
                  "/repeated/", "/loop-a/", "/contact/"]
        self.page("/", title="Home", links=tuple(linked))
        robots = "User-agent: *\nDisallow: /private/\n"
        self.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, robots.encode())
