"""Audit building blocks without a crawl: URL scope on host:port, HTML extraction, page checks."""

from __future__ import annotations

import json
import re
from pathlib import Path

from seo.audit.canonical import Canonical, link_header_canonicals, read_canonical
from seo.audit.catalog import CATALOG, Finding
from seo.audit.checks import CheckContext, Place, check_page, digits, nap_differences
from seo.audit.extract import extract
from seo.audit.findings import Analyzer
from seo.audit.records import PageRecord, SitemapRecord, from_item, to_item
from seo.audit.scope import Scope, origin_of

SCOPE = Scope(origin="http://127.0.0.1:8081", aliases=("https://clinic.test",), ignore=("/book/",),
              public="https://clinic.test")
CTX = CheckContext(names=frozenset({"Example Acupuncture"}),
                   places=(Place("Example Acupuncture", "1 Test Street", "Alpha", "80000",
                                 "+1-303-555-0100"),),
                   phones=frozenset({digits("+1-303-555-0100")}), https=True, scope=SCOPE)
CLINIC = {"@type": "MedicalClinic", "name": "Example Acupuncture", "telephone": "(303) 555-0100",
          "url": "https://clinic.test/", "geo": {"latitude": 1, "longitude": 2},
          "openingHoursSpecification": [{}],
          "address": {"streetAddress": "1 Test Street", "addressLocality": "Alpha",
                      "addressRegion": "CO", "postalCode": "80000", "addressCountry": "US"}}


def test_scope_handles_ports_and_aliases() -> None:
    assert origin_of("HTTP://Example.TEST:80/x") == "http://example.test"
    assert origin_of("https://a.test:8443/") == "https://a.test:8443"
    assert SCOPE.internal("http://127.0.0.1:8081/a/#b") == "http://127.0.0.1:8081/a/"
    assert SCOPE.internal("http://127.0.0.1:8082/a/") is None  # another port is another site
    assert SCOPE.internal("https://clinic.test/town/?q=1") == "http://127.0.0.1:8081/town/?q=1"
    assert SCOPE.internal("https://www.clinic.test/") is None
    assert SCOPE.resolve("../b/", "http://127.0.0.1:8081/a/x/")[0] == "http://127.0.0.1:8081/a/b/"
    assert SCOPE.resolve("mailto:x@y.test", "http://127.0.0.1:8081/")[0] is None
    assert SCOPE.path("http://127.0.0.1:8081/a/") == "/a/" and SCOPE.ignored("http://127.0.0.1:8081/book/x")
    assert SCOPE.https


def page(html: str, url: str = "http://127.0.0.1:8081/p/") -> tuple[PageRecord, list[str]]:
    record = PageRecord(url=url, status=200, html=True, size=len(html))
    return record, extract(record, html.encode(), "utf-8", SCOPE)


def test_extract_reads_what_the_checks_need() -> None:
    record, links = page(
        '<html><head><title> A  title </title><meta name="description" content="D">'
        '<meta name="ROBOTS" content="NOINDEX"><link rel="canonical" href="https://clinic.test/p/">'
        '<script type="application/ld+json">{"a": 1}</script>'
        '<link rel="stylesheet" href="http://cdn.test/x.css"></head><body><h1>x</h1>'
        '<a href="/q/">q</a><a href="/q/#top">q</a><a href="https://clinic.test/r/">r</a>'
        '<a href="https://other.test/">o</a><a href="tel:+13035550100">call</a>'
        '<img src="/i.png"><img src="/j.png" alt=""><address>Example Acupuncture</address>'
        '</body></html>')
    assert links == ["http://127.0.0.1:8081/q/", "http://127.0.0.1:8081/r/"]
    assert record.titles == ["A title"] and record.descriptions == ["D"] and record.robots == "noindex"
    assert record.canonical_url == "http://127.0.0.1:8081/p/" and record.h1 == 1
    assert record.jsonld == ['{"a": 1}'] and record.tel == ["+13035550100"]
    assert record.img_no_alt == ["/i.png"] and record.insecure == ["http://cdn.test/x.css"]
    assert from_item(json.loads(json.dumps(to_item(record)))) == record


def types(findings: list[Finding]) -> list[str]:
    return sorted(f.type for f in findings)


def test_clean_page_has_no_findings() -> None:
    record, _ = page(
        f'<title>T</title><meta name="description" content="D"><link rel="canonical" '
        f'href="https://clinic.test/p/"><script type="application/ld+json">{json.dumps(CLINIC)}</script>'
        '<h1>H</h1><address>Example Acupuncture, 1 Test Street, Alpha, CO 80000, '
        '<a href="tel:+1 303 555 0100">+1 303 555 0100</a></address>')
    assert check_page(record, CTX, "/p/") == []


def test_jsonld_and_nap_checks() -> None:
    broken = {**CLINIC, "geo": None, "telephone": "303-555-9999"}
    del broken["address"]
    record = PageRecord(url="u", status=200, html=True, titles=["T"], descriptions=["D"], h1=1,
                        canonicals=["u"], jsonld=[json.dumps({"@graph": [broken]}), "{nope"])
    found = check_page(record, CTX, "/p/")
    assert types(found) == ["canonical_relative", "jsonld_invalid", "nap_mismatch",
                            "schema_recommended_missing", "schema_required_missing"]
    assert "MedicalClinic.address" in next(f.detail for f in found if f.type == "schema_required_missing")
    ref_only = PageRecord(url="u", status=200, jsonld=[json.dumps({"about": {"@id": "x",
                                                                             "@type": "LocalBusiness"}})])
    assert nap_differences(ref_only, CTX) == []
    wrong = PageRecord(url="u", status=200, addresses=["Other Clinic, 9 Far Road, Beta 80999"])
    assert len(nap_differences(wrong, CTX)) == 2


def test_every_finding_type_has_a_severity() -> None:
    assert all(sev in ("error", "warning", "notice") for sev, _ in CATALOG.values())


def test_site_level_duplicates_and_orphans() -> None:
    analyzer = Analyzer(SCOPE, CTX, "http://127.0.0.1:8081/")
    o = SCOPE.origin
    analyzer.add(SitemapRecord(url=o + "/sitemap.xml", status=200, urls=[o + "/", o + "/a/", o + "/b/"]))
    for path, links in (("/", [o + "/a/"]), ("/a/", []), ("/b/", [])):
        analyzer.add(PageRecord(url=o + path, status=200, html=True, titles=["Same"], descriptions=[path],
                                h1=1, canonicals=[o + path], canonical_url=o + path, links=links))
    found = {(f.type, f.page) for f in analyzer.finish()}
    assert found == {("title_duplicate", "/a/"), ("title_duplicate", "/b/"), ("orphan", "/b/")}


def canon(html_hrefs: list[str], header: list[str] = (), base: str = "",  # type: ignore[assignment]
          hosts: frozenset[str] = frozenset()) -> Canonical:
    record = PageRecord(url="http://127.0.0.1:8081/p/", status=200, html=True,
                        canonicals=list(html_hrefs), canonical_links=list(header), base=base)
    return read_canonical(record, SCOPE, hosts)


def test_link_header_canonicals() -> None:
    values = ['<https://clinic.test/a,b/>; rel="alternate canonical"; title="x, y",'
              ' </c/>; rel=preload', '</d/>;rel=CANONICAL', '<https://e.test/>; anchor="#x"']
    assert link_header_canonicals(values) == ["https://clinic.test/a,b/", "/d/"]


def test_canonical_read_on_the_page() -> None:
    o = SCOPE.origin
    assert canon(["https://clinic.test/p/"]) == Canonical(target=o + "/p/")
    assert canon([]).problems == (("canonical_missing", ""),)
    assert canon([" "]).problems == (("canonical_missing", "empty href"),)
    # relative: resolved (against <base href> when there is one) and still used
    assert canon(["x/"], base=o + "/sub/") == Canonical(o + "/sub/x/", (("canonical_relative", "x/"),))
    assert canon([], header=["/q/"]).target == o + "/q/"
    for href in ("file:///usr/share/doc/p.html", "javascript:void(0)", "FTP://clinic.test/p/",
                 "data:text/html," + "x" * 500):
        found = canon([href])
        assert found.target == "" and [k for k, _ in found.problems] == ["canonical_not_http"]
    assert len(canon(["data:text/html," + "x" * 500]).problems[0][1]) == 103
    assert canon(["https://x\x1b[31m.test/"]).problems[0][1].startswith("https://x\\x1b[31m.test/")
    assert canon(["https://[x/"]).problems == (("canonical_broken", "https://[x/ is not a valid URL"),)
    assert SCOPE.resolve("https://[x/", SCOPE.origin + "/") == (None, "")
    assert canon(["http://clinic.test/p/"]).problems[0][0] == "canonical_scheme_mismatch"
    assert canon(["https://other.test/p/"]).problems[0][0] == "canonical_cross_domain"
    assert canon(["//other.test/p/"]).problems[0][0] == "canonical_relative"
    assert canon(["https://other.test:8443/p/"], hosts=frozenset({"other.test:8443"})) == \
        Canonical(target="https://other.test:8443/p/")
    assert canon(["https://other.test/p/"], hosts=frozenset({"other.test"})).target
    assert canon(["https://clinic.test:99999/"]).problems[0][0] == "canonical_broken"
    # several: conflicting ones cancel out, identical ones are only untidy
    conflicting = canon(["/a/", "https://clinic.test/b/"])
    assert conflicting.target == "" and ("canonical_conflicting", "2 different canonicals: /a/, /b/") \
        in conflicting.problems
    assert canon(["https://clinic.test/p/", "https://clinic.test/p/"]) == \
        Canonical(o + "/p/", (("canonical_repeated", "the same canonical 2 times"),))
    # the Link header must agree with the HTML
    assert canon(["https://clinic.test/p/"], header=["https://clinic.test/p/"]).target == o + "/p/"
    mismatch = canon(["https://clinic.test/p/"], header=["https://clinic.test/q/"])
    assert mismatch.target == "" and mismatch.problems == (
        ("canonical_header_mismatch", "HTML names /p/; the Link header names /q/"),)


def test_canonical_targets_judged_once_fetched() -> None:
    o = SCOPE.origin
    analyzer = Analyzer(SCOPE, CTX, o + "/")

    def add(path: str, canonical: str = "", status: int = 200, **kw) -> None:
        analyzer.add(PageRecord(url=o + path, status=status, html=status == 200, titles=["Same"],
                                canonicals=[canonical or o + path], **kw))
    add("/a/", o + "/b/")  # b is fine: a is canonicalised elsewhere
    add("/b/")
    add("/c/", o + "/d/")  # d is noindex by header
    add("/d/", x_robots="noindex")
    add("/e/", o + "/not-fetched/")  # beyond the page limit: taken on trust
    add("/f/", o + "/a/")  # a chain: f -> a -> b
    add("/g/", o + "/down/")  # targets that do not answer 200
    add("/down/", status=0, error="ConnectionRefusedError: refused")
    add("/h/", o + "/fails/")
    add("/fails/", status=503)
    found = {(f.type, f.page): f.detail for f in analyzer.finish() if f.type.startswith(("can", "title"))}
    assert found == {("canonical_broken", "/g/"): "/down/: ConnectionRefusedError: refused",
                     ("canonical_broken", "/h/"): "/fails/ answers 503",
                     ("title_duplicate", "/g/"): "same title as /b/",
                     ("title_duplicate", "/h/"): "same title as /b/",
                     ("canonical_noindex", "/c/"): "/d/ is noindex",
                     ("canonical_chain", "/f/"): "/a/ names another canonical: /f/ -> /a/ -> /b/",
                     ("title_duplicate", "/c/"): "same title as /b/",
                     ("title_duplicate", "/f/"): "same title as /b/"}


def test_readme_finding_table_mirrors_the_catalog() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Site audit", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| (error|warning|notice) \| (.+) \|$", section, re.M)
    assert {name: (sev, what) for name, sev, what in rows} == CATALOG
