"""Canonical URLs judged as search engines judge them, end to end: real Scrapy against a planted
site (tests/canonical_site.py) whose canonicals go wrong in every way the audit names."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_site import serve
from canonical_site import CANONICAL_ONLY, EXPECTED, FIRST, PARTNER, CanonicalSite
from conftest import run_seo

from seo import api
from seo.audit import run_audit


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    site = CanonicalSite()
    server = serve(site, tmp_path_factory.mktemp("tls"))
    yield site
    server.shutdown()
    server.server_close()


def test_each_canonical_problem_by_name_and_every_duplicate_found(planted: CanonicalSite,
                                                                   mini: Path) -> None:
    config = mini / "config" / "site.yaml"
    plain = config.read_text(encoding="utf-8")
    config.write_text(plain + f"integrations:\n  audit:\n    canonical_hosts: [{PARTNER}]\n",
                      encoding="utf-8")
    result = run_audit(api.Project.open(mini), planted.origin + "/")
    found = [f.key for f in result.findings]
    assert len(found) == len(set(found)), "a problem reported twice"
    missing, extra = EXPECTED - set(found), set(found) - EXPECTED
    assert not missing and not extra, (sorted(missing), sorted(extra))

    detail = {(f.type, f.page): f.detail for f in result.findings}
    assert detail["canonical_not_http", "/dup/file/"] == "file:///usr/share/doc/clinic/dup/file.html"
    assert detail["canonical_redirect", "/dup/redirect/"] == \
        "/moved-target/ answers 301, redirecting to /target/"
    assert detail["canonical_chain", "/dup/chain/"].endswith("/dup/chain/ -> /middle/ -> /target/")
    assert "(a loop)" in detail["canonical_chain", "/loop-a/"]
    assert detail["canonical_header_mismatch", "/dup/header/"] == \
        "HTML names /target/; the Link header names /contact/"
    assert detail["canonical_blocked", "/dup/blocked/"] == "/private/page/ is disallowed by robots.txt"
    assert detail["title_duplicate", "/dup/header/"] == f"same title as {FIRST}"
    severity = {f.type: f.severity for f in result.findings}
    assert severity["canonical_not_http"] == "error" and severity["canonical_repeated"] == "notice"

    # targets nothing links to are fetched (robots.txt obeyed); other hosts never are
    assert result.crawl.canonical_fetches == len(CANONICAL_ONLY)
    assert set(CANONICAL_ONLY) - {"/private/page/"} <= set(planted.requested)
    assert "/private/page/" not in planted.requested

    # without the partner host allowed, /partner/ is its own page: cross-domain, and a duplicate
    config.write_text(plain, encoding="utf-8")
    proc = run_seo("audit", planted.origin + "/", "--root", str(mini), "--diff")
    assert proc.returncode == 0, proc.stderr
    assert f"({len(CANONICAL_ONLY)} fetched only as canonical targets)" in proc.stdout
    new = proc.stdout.split("new (3):\n", 1)[1].split("fixed (0):", 1)[0]
    assert "canonical_cross_domain     /partner/: https://partner.test/target/ is on" in new
    assert "title_duplicate            /target/: same title as /partner/" in new
    assert "description_duplicate      /target/: same description as /partner/" in new


def test_bad_canonical_host_is_one_line_exit_2(mini: Path) -> None:
    config = mini / "config" / "site.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "integrations:\n  audit:\n"
                      "    canonical_hosts: [partner.test, https://partner.test/]\n", encoding="utf-8")
    proc = run_seo("audit", "http://127.0.0.1:9/", "--root", str(mini))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert "integrations.audit.canonical_hosts[1]: 'https://partner.test/' is not a host name" \
        in proc.stderr
