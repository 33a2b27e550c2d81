"""The weekly report's page lifecycle: built, published, live, indexed, best rank and clicks per page,
and the pages that need someone (not live, not indexed after N days, another canonical chosen by
Google), each with what to do. Real publish, verify and URL Inspection against local servers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import lxml.html
import pytest
from publish_support import make_live, serve_from, served
from servers.search_console import SearchConsoleServer

from seo.api import Project, build
from seo.publish.index_status import inspect_pages
from seo.publish.verify import verify_live
from seo.rankings.observations import save_sc_rows
from seo.report import build_report

BUILT = date(2026, 11, 2)  # the week of the report is 2026-W47, 16-22 Nov


@pytest.fixture
def project(mini: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    with served(mini / "build/public") as url, SearchConsoleServer() as sc:
        serve_from(mini, url)
        token = tmp_path / "token.json"
        token.write_text(json.dumps(sc.authorized_user()))
        monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
        site = mini / "config/site.yaml"
        site.write_text(site.read_text() + (
            "integrations:\n  search_console:\n    property: 'sc-domain:clinic.test'\n"
            f"    api_endpoint: '{sc.url}'\n    token_uri: '{sc.token_uri}'\n"))
        project = Project.open(mini)
        build(project, today=BUILT)
        make_live(project, BUILT)
        sc.indexed("https://clinic.test/alpha/")
        sc.indexed("https://clinic.test/beta-springs/", google_canonical="https://clinic.test/alpha/")
        inspect_pages(project, today=BUILT, sleep=lambda s: None)
        save_sc_rows(project.store, [
            {"day": date(2026, 11, 17) + timedelta(days=i), "query": "acupuncture alpha",
             "page": "https://clinic.test/alpha/", "clicks": 3, "impressions": 40, "ctr": 0.075,
             "position": 4.0 - i, "provisional": False} for i in range(3)])
        # a page lost on the way: the live site serves a folder listing instead
        (mini / "build/public/alpha/wrist-pain/index.html").unlink()
        verify_live(project, paths=["/alpha/wrist-pain/"], today=date(2026, 11, 18))
        yield project


def test_lifecycle_table_and_attention(project: Project) -> None:
    report = build_report(project, "2026-W47")
    lc = report.facts.lifecycle
    assert lc is not None and lc.tracked
    assert lc.totals == {"built": 11, "published": 11, "live": 10, "indexed": 1}
    rows = {r.path: r for r in lc.rows}
    alpha = rows["/alpha/"]
    assert (alpha.built, alpha.published, alpha.live) == (BUILT, BUILT, BUILT)
    assert alpha.indexed == "yes" and alpha.indexed_detail == "since Nov 2"
    assert alpha.best_rank == 2.0 and alpha.clicks == 9
    wrist = rows["/alpha/wrist-pain/"]
    assert wrist.live is None and wrist.problem.startswith("main content not found; title is ")
    why = {a.path: a.why for a in lc.attention}
    assert why["/alpha/wrist-pain/"].startswith("not live: main content not found;")
    assert why["/beta-springs/"] == ("Google indexed https://clinic.test/alpha/ as the canonical, "
                                     "not this page")
    assert why["/, /alpha/knee-pain/, /areas-we-serve/, /beta-springs/knee-pain/, /beta-springs/wrist-pain/, "
               "/conditions/knee-pain/ and 2 more"] == ("8 pages live for over 14 days, not indexed (URL is "
                                                        "unknown to Google)")
    assert len(lc.attention) == 3  # one not live, one other canonical, eight not indexed (one line)
    assert any("10 page(s) need attention (see Page lifecycle), first /alpha/wrist-pain/" in a
               for a in report.facts.actions)

    text = report.text
    assert "PAGE LIFECYCLE\n11 pages built, 11 published, 10 verified live, 1 indexed by Google." in text
    assert "- /alpha/: Nov 2 / Nov 2 / Nov 2 / yes (since Nov 2) / 2 / 9\n" in text
    assert ("- /beta-springs/: Nov 2 / Nov 2 / Nov 2 / no (Google chose https://clinic.test/alpha/) / - "
            "/ 0\n") in text
    assert "Needs attention (10 pages):" in text
    assert "What to do: Google has not found it yet: submit the sitemap in Search Console" in text
    doc = lxml.html.document_fromstring(report.html.encode())
    heading = doc.xpath('//h2[text()="Page lifecycle"]')
    assert heading
    table = heading[0].getnext()
    while table.tag != "table":
        table = table.getnext()
    cells = [[" ".join(" ".join(td.itertext()).split()) for td in tr.xpath("td")]
             for tr in table.xpath("tr")[1:]]
    assert ["/alpha/", "Nov 2 Nov 2 Nov 2", "yes since Nov 2", "2 9"] in cells
    assert cells[0][:2] == ["/alpha/wrist-pain/ not live: main content not found", "Nov 2 Nov 2 not live"]


def test_nothing_published_says_how_to_start(mini: Path) -> None:
    project = Project.open(mini)
    build(project, today=BUILT)
    report = build_report(project, "2026-W47")
    assert report.facts.lifecycle is not None and not report.facts.lifecycle.tracked
    assert "Nothing published yet: set the website in site.publish" in report.text
