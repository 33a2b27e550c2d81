"""Site audit end to end: real Scrapy (in child processes) against real local HTTP servers."""

from __future__ import annotations

from pathlib import Path

import pytest
from audit_site import EXPECTED, PlantedSite, serve
from conftest import run_seo

from seo import api
from seo.audit import run_audit
from seo.errors import ExternalError, UserError


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory):
    site = PlantedSite()
    server = serve(site, tmp_path_factory.mktemp("tls"))
    yield site
    server.shutdown()
    server.server_close()


def keys(result) -> set[tuple[str, str, str]]:
    return {f.key for f in result.findings}


@pytest.mark.stores
def test_planted_defects_each_found_once_then_diffed(planted: PlantedSite, mini: Path) -> None:
    project = api.Project.open(mini)
    first = run_audit(project, planted.origin + "/")
    found = [f.key for f in first.findings]
    assert len(found) == len(set(found)), "a defect reported twice"
    missing, extra = EXPECTED - set(found), set(found) - EXPECTED
    assert not missing and not extra, (sorted(missing), sorted(extra))
    by_type = {f.type: f for f in first.findings}
    assert by_type["redirect_chain"].detail == "2 redirects: /old/ -> /older/ -> /contact/"
    assert "+1-720-555-0199" in by_type["nap_mismatch"].detail
    assert by_type["http_error"].severity == "error" and by_type["orphan"].severity == "warning"
    assert first.target == planted.origin and first.diff.previous_id is None
    assert "/admin/" not in planted.requested  # robots.txt obeyed
    assert first.fails("error") and first.fails("warning")

    # fix one defect, plant nothing new: the second audit (same process) diffs against the first
    planted.page("/two-h1/")
    try:
        second = run_audit(project, planted.origin + "/")
    finally:
        planted.page("/two-h1/", h1=2)  # planted again for the other tests on this module's site
    assert keys(second) == EXPECTED - {("h1_multiple", "/two-h1/", "")}
    assert second.diff.previous_id == first.audit_id
    assert [f.key for f in second.diff.fixed] == [("h1_multiple", "/two-h1/", "")]
    assert second.diff.new == [] and len(second.diff.still_open) == len(EXPECTED) - 1


def test_cli_fail_on_and_diff(planted: PlantedSite, mini: Path) -> None:
    url = planted.origin + "/"
    run_audit(api.Project.open(mini), url)  # the previous audit the CLI's --diff compares with
    proc = run_seo("audit", url, "--root", str(mini), "--fail-on", "error", "--diff", "--max-pages", "100")
    assert proc.returncode == 1, proc.stderr
    assert "broken_link" in proc.stdout and "(linked from /about/)" in proc.stdout
    assert "since audit 1:" in proc.stdout and "new (0):" in proc.stdout


def test_max_pages_limits_the_crawl(planted: PlantedSite, mini: Path) -> None:
    result = run_audit(api.Project.open(mini), planted.origin + "/", max_pages=5)
    assert result.crawl.truncated and result.pages <= 5
    assert not any(f.type == "orphan" for f in result.findings)  # unknowable on a partial crawl


def test_clean_bundled_build_has_no_errors(clinic: Path) -> None:
    project = api.Project.open(clinic)
    api.build(project)
    result = run_audit(project, built=True)
    assert result.pages >= 49
    errors = [f.line() for f in result.findings if f.severity == "error"]
    assert errors == []
    assert result.target == "built" and not result.crawl.truncated
    assert result.crawl.peak_rss_mb > 0


@pytest.mark.parametrize("args, message", [
    (("http://127.0.0.1:99999/",), "bad URL"),
    (("ftp://example.test/",), "http:// or https://"),
    (("--max-pages", "lots"), "--max-pages: must be a whole number"),
    (("--built", "--max-pages", "0"), "--max-pages: must be at least 1"),
    (("http://127.0.0.1:8/", "--built"), "not both"),
])
def test_bad_input_is_one_line_exit_2(mini: Path, args: tuple[str, ...], message: str) -> None:
    proc = run_seo("audit", "--root", str(mini), *args)
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_example_site_url_is_refused(clinic: Path) -> None:
    with pytest.raises(UserError, match="example value"):
        run_audit(api.Project.open(clinic))


def test_unreachable_site_is_an_external_error(mini: Path) -> None:
    with pytest.raises(ExternalError, match="cannot reach"):
        run_audit(api.Project.open(mini), "http://127.0.0.1:9/")
    with pytest.raises(UserError, match="nothing built"):
        run_audit(api.Project.open(mini), built=True)
