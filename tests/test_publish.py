"""Publishing without outside servers: the folder target (manifest, foreign files, refusals), the audit
gate, several targets, verify live against a local web server (every check provoked), URL Inspection
against the local Search Console server (quota, pacing, 429, 403, malformed answers), config errors."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from publish_support import cli, make_live, serve_from, served
from servers.search_console import SearchConsoleServer

from seo.api import Project, build
from seo.errors import NotConfigured
from seo.publish.api import publish_site
from seo.publish.index_status import Pacer, advice, inspect_pages
from seo.publish.verify import verify_live
from seo.tables import index_inspections, page_status, publishes

DAY = date(2026, 11, 30)


@pytest.fixture
def live(mini: Path) -> Iterator[str]:
    """The mini clinic, publishing to build/public, which a local web server serves."""
    with served(mini / "build/public") as url:
        serve_from(mini, url)
        build(Project.open(mini), today=DAY)
        yield url


def test_folder_target_owns_only_what_it_wrote(mini: Path, live: str) -> None:
    public = mini / "build/public"
    public.mkdir(parents=True)
    (public / "their-page.html").write_text("the clinic's own file")
    first = publish_site(Project.open(mini), audit=False).targets[0]
    built_files = [p for p in (mini / "build/site").rglob("*") if p.is_file()]
    assert first.counts()["create"] == len(built_files) and (public / "alpha/knee-pain/index.html").exists()
    manifest = json.loads((public / ".seo-manifest.json").read_text())
    assert "their-page.html" not in manifest["files"] and "alpha/index.html" in manifest["files"]

    # a town leaves the plan: its files go, the clinic's own file stays
    towns = mini / "config/towns.yaml"
    towns.write_text(towns.read_text().split("  - name: Beta Springs")[0])
    for name in ("beta-springs", "beta-springs.md"):
        path = mini / "content/towns" / name
        for child in sorted(path.rglob("*"), reverse=True) if path.is_dir() else []:
            child.unlink()
        path.rmdir() if path.is_dir() else path.unlink()
    build(Project.open(mini), today=DAY)
    proc = cli("publish", "--root", str(mini), "--dry-run")
    assert proc.exit_code == 0 and "would remove beta-springs/knee-pain/index.html" in proc.stdout
    assert (public / "beta-springs/index.html").exists()  # a dry run removes nothing
    second = publish_site(Project.open(mini), audit=False).targets[0]
    gone = [c.item for c in second.changes if c.action == "remove"]
    assert "beta-springs/knee-pain/index.html" in gone and not (public / "beta-springs").exists()
    assert (public / "their-page.html").read_text() == "the clinic's own file"

    # a file the build would replace that this tool did not write stops the publish
    (public / "favicon.svg").unlink()
    manifest = json.loads((public / ".seo-manifest.json").read_text())
    (public / "favicon.svg").write_text("<svg>the designer's icon</svg>")
    proc = cli("publish", "--root", str(mini), "--no-audit")
    assert proc.exit_code == 0  # favicon.svg is in the manifest: ours, replaced
    del manifest["files"]["index.html"]
    (public / ".seo-manifest.json").write_text(json.dumps(manifest))
    (public / "index.html").write_text("a page made by hand")
    proc = cli("publish", "--root", str(mini), "--no-audit")
    assert proc.exit_code == 2
    assert re.match(r"error: config/site\.yaml: site\.publish\.path: publish refused: \S+/index\.html "
                    r"exists and was not written by seo publish \(1 such file\(s\)\)", proc.stderr)
    assert (public / "index.html").read_text() == "a page made by hand"
    assert cli("publish", "--root", str(mini), "--no-audit", "--force").exit_code == 0
    assert (public / "index.html").read_bytes() == (mini / "build/site/index.html").read_bytes()


@pytest.mark.parametrize("path", [".", "content", "config/x", "build/site", "build", ".."])
def test_folder_target_overlapping_the_project_is_refused(mini: Path, path: str) -> None:
    build(Project.open(mini), today=DAY)
    before = sorted(p.relative_to(mini) for p in mini.rglob("*"))
    site = mini / "config/site.yaml"
    publish = f"site:\n  publish: {{type: folder, path: '{path}'}}\n"
    site.write_text(site.read_text().replace("site:\n", publish))
    proc = cli("publish", "--root", str(mini), "--no-audit")
    assert proc.exit_code == 2, proc.output
    assert re.match(r"error: config/site\.yaml: site\.publish\.path: \S+ (is|contains|is inside) .*; "
                    r"refused", proc.stderr), proc.stderr
    assert sorted(p.relative_to(mini) for p in mini.rglob("*")) == before


def test_audit_errors_stop_the_publish(mini: Path, live: str) -> None:
    (mini / "templates").mkdir(exist_ok=True)
    cta = Path(__file__).parent.parent / "templates/cta.html.j2"
    text = cta.read_text()
    assert "</p>\n</" in text
    (mini / "templates/cta.html.j2").write_text(text.replace(
        "</p>\n</", '</p>\n<p><a href="/no-such-page/">Our offers</a></p>\n</', 1))
    build(Project.open(mini), today=DAY)
    proc = cli("publish", "--root", str(mini))
    assert proc.exit_code == 2
    assert re.match(r"error: publish stopped: the audit of the build \(audit \d+\) found \d+ error\(s\), "
                    r"first: broken_link on /no-such-page/", proc.stderr), proc.stderr
    assert not (mini / "build/public/index.html").exists()
    (mini / "templates/cta.html.j2").unlink()
    build(Project.open(mini), today=DAY)
    proc = cli("publish", "--root", str(mini))
    assert proc.exit_code == 0 and "audit of the build (run now" in proc.stdout
    assert cli("publish", "--root", str(mini)).stdout.startswith("audit of the build (reused")


def test_several_targets_one_failing(mini: Path, live: str, monkeypatch: pytest.MonkeyPatch) -> None:
    site = mini / "config/site.yaml"
    text = site.read_text()
    text = re.sub(r"  publish: \{type: folder, path: build/public, url: '(\S+)'\}\n",
                  lambda m: ("  publish:\n    - {type: folder, path: build/public, url: '" + m.group(1)
                             + "'}\n    - {type: folder, name: backup, path: build/backup}\n"
                             "    - {type: wordpress, url: 'https://wp.clinic.test/', user: editor}\n"),
                  text)
    site.write_text(text)
    monkeypatch.delenv("SEO_WORDPRESS_PASSWORD", raising=False)
    proc = cli("publish", "--root", str(mini), "--no-audit")
    assert proc.exit_code == 3  # not configured: the WordPress password
    files = sum(1 for p in (mini / "build/site").rglob("*") if p.is_file())
    assert f"folder: create {files}" in proc.stdout and f"backup (folder): create {files}" in proc.stdout
    assert "error: wordpress: $SEO_WORDPRESS_PASSWORD is not set" in proc.stderr
    assert (mini / "build/backup/alpha/index.html").exists()
    with Project.open(mini).store.engine.connect() as conn:
        rows = {(r.target, r.status) for r in conn.execute(sa.select(publishes))}
    assert rows == {("folder", "ok"), ("backup", "ok"), ("wordpress", "failed")}
    # the primary target (the first that is not a plain folder) decides what counts as published
    proc = cli("publish", "--root", str(mini), "--target", "nope")
    assert proc.exit_code == 2 and proc.stderr.startswith(
        "error: --target: no publish target named 'nope' (configured: folder, backup, wordpress)")


def test_verify_live_finds_every_kind_of_difference(mini: Path, live: str) -> None:
    project = Project.open(mini)
    publish_site(project, audit=False, today=DAY)
    public = mini / "build/public"

    def edit(rel: str, old: str, new: str) -> None:
        path = public / rel
        text = path.read_text()
        assert old in text, (rel, old)
        path.write_text(text.replace(old, new, 1))

    edit("alpha/index.html", '<meta name="robots" content="index, follow">',
         '<meta name="robots" content="noindex, follow">')
    edit("beta-springs/index.html", 'rel="canonical" href="https://clinic.test/beta-springs/"',
         'rel="canonical" href="https://clinic.test/"')
    edit("alpha/knee-pain/index.html", "<title>", "<title>Old ")
    edit("alpha/wrist-pain/index.html", '<script type="application/ld+json">', '<script type="text/x">')
    edit("conditions/knee-pain/index.html", "</h1>", "</h1><p>An extra paragraph.</p>")
    edit("areas-we-serve/index.html", '<meta name="description" content="',
         '<meta name="description" content="Stale. ')
    shutil.rmtree(public / "beta-springs/knee-pain")
    result = verify_live(project, today=DAY)
    problems = {c.path: c.problems for c in result.failed}
    assert problems == {
        "/alpha/": ["robots 'noindex, follow', expected 'index, follow'"],
        "/beta-springs/": ["canonical https://clinic.test/, expected https://clinic.test/beta-springs/"],
        "/alpha/knee-pain/": ["title is 'Old Alpha Knee Pain Acupuncture | Example Acupuncture'"],
        "/alpha/wrist-pain/": ["JSON-LD missing or different"],
        "/conditions/knee-pain/": ["main content differs from the build"],
        "/areas-we-serve/": ["meta description differs"],
        "/beta-springs/knee-pain/": ["answered 404"],
    }
    pages = len(project.store.page_rows())
    assert result.counts() == {"checked": pages, "live": pages - 7, "not_live": 7}
    proc = cli("verify", "--root", str(mini))  # the failed ones are checked again, and still fail
    assert proc.exit_code == 1 and "7 not live" in proc.stdout and "NOT LIVE" in proc.stdout
    with project.store.engine.connect() as conn:
        rows = {r.path: r for r in conn.execute(sa.select(page_status))}
    assert rows["/alpha/"].live_hash is None and "robots" in rows["/alpha/"].problem
    assert rows["/"].live_on == DAY
    repaired = publish_site(project, audit=False, today=DAY).targets[0]  # the folder made whole again
    assert repaired.counts()["update"] == 6  # and the removed folder's files made again
    assert {c.item for c in repaired.changes if c.action == "create"} >= {"beta-springs/knee-pain/index.html"}
    assert verify_live(project, today=DAY).counts() == {"checked": 7, "live": 7, "not_live": 0}


def test_verify_reports_redirects_and_refuses_example_urls(mini: Path, clinic: Path) -> None:
    with served(mini / "build/public") as url:
        serve_from(mini, url.rstrip("/") + "/site/")  # every page path answers 404 or a redirect
        build(Project.open(mini), today=DAY)
        publish_site(Project.open(mini), audit=False)
        result = verify_live(Project.open(mini))
    assert {c.problems[0] for c in result.failed} == {"answered 404"}
    build(Project.open(clinic))
    with pytest.raises(NotConfigured, match=r"business\.url is still an example value"):
        verify_live(Project.open(clinic))


@pytest.fixture
def search_console(mini: Path, live: str, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[SearchConsoleServer]:
    with SearchConsoleServer() as sc:
        token = tmp_path / "token.json"
        token.write_text(json.dumps(sc.authorized_user()))
        monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
        monkeypatch.delenv("SEO_GOOGLE_SERVICE_ACCOUNT", raising=False)
        site = mini / "config/site.yaml"
        site.write_text(site.read_text() + (
            "integrations:\n  search_console:\n    property: 'sc-domain:clinic.test'\n"
            f"    api_endpoint: '{sc.url}'\n    token_uri: '{sc.token_uri}'\n    retries: 0\n"
            "    inspection: {daily_quota: 4, per_minute: 2, recheck_days: 7}\n"))
        make_live(Project.open(mini), DAY)
        yield sc


class Clock:
    def __init__(self) -> None:
        self.t = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def test_inspection_within_the_daily_quota_and_the_minute_rate(mini: Path,
                                                              search_console: SearchConsoleServer) -> None:
    sc = search_console
    sc.indexed("https://clinic.test/alpha/")
    sc.indexed("https://clinic.test/beta-springs/", google_canonical="https://clinic.test/alpha/")
    clock = Clock()
    project = Project.open(mini)
    first = inspect_pages(project, today=DAY, sleep=clock.sleep, clock=clock.now)
    pages = len(project.store.page_rows())
    assert first.counts() == {"inspected": 4, "indexed": 1, "not_indexed": 3, "failed": 0,
                              "left": pages - 4}
    assert first.used_today == 4 and clock.slept == [60.0]  # 2 a minute: one wait for the third
    assert [i["inspectionUrl"] for i in sc.inspections] == [
        "https://clinic.test/", "https://clinic.test/alpha/", "https://clinic.test/alpha/knee-pain/",
        "https://clinic.test/alpha/wrist-pain/"]
    again = inspect_pages(project, today=DAY, sleep=clock.sleep, clock=clock.now)
    assert again.counts()["inspected"] == 0 and "today's quota of 4 is used" in again.lines()[-1]
    nxt = inspect_pages(project, today=DAY + timedelta(days=1), sleep=clock.sleep, clock=clock.now)
    assert nxt.counts()["inspected"] == 4 and nxt.left == pages - 8
    with project.store.engine.connect() as conn:
        rows = {r.path: r for r in conn.execute(sa.select(page_status))}
    beta = rows["/beta-springs/"]
    assert beta.verdict == "PASS" and beta.google_canonical == "https://clinic.test/alpha/"
    assert "the two pages read alike to Google" in advice(
        beta.coverage, beta.verdict, beta.google_canonical, beta.user_canonical)
    assert rows["/alpha/"].indexed_on == DAY and rows["/alpha/"].last_crawl is not None
    # not indexed pages are asked about again after recheck_days, not before
    for day in (DAY + timedelta(days=2), DAY + timedelta(days=3)):
        inspect_pages(project, today=day, sleep=clock.sleep, clock=clock.now)
    later = inspect_pages(project, today=DAY + timedelta(days=8), sleep=clock.sleep, clock=clock.now)
    assert {i.path for i in later.inspected} <= {p for p, r in rows.items() if r.verdict != "PASS"}
    assert "/alpha/" not in {i.path for i in later.inspected}


def test_inspection_quota_answers_and_bad_answers(mini: Path,
                                                 search_console: SearchConsoleServer) -> None:
    sc = search_console
    clock = Clock()
    project = Project.open(mini)
    sc.fault(status=429, times=None)
    result = inspect_pages(project, today=DAY, sleep=clock.sleep, clock=clock.now)
    assert result.counts()["failed"] == 1 and result.left == len(project.store.page_rows()) - 1
    assert not result.error
    assert "429 (quota)" in result.stopped
    sc.faults.clear()
    sc.fault(body=b"{not json", times=1)
    result = inspect_pages(project, today=DAY + timedelta(days=1), sleep=clock.sleep, clock=clock.now)
    assert result.inspected[0].error.startswith("URL Inspection returned a malformed answer")
    assert result.counts()["inspected"] == 3
    site = mini / "config/site.yaml"
    site.write_text(site.read_text().replace("sc-domain:clinic.test", "sc-domain:other.test"))
    result = inspect_pages(Project.open(mini), today=DAY + timedelta(days=2), sleep=clock.sleep,
                           clock=clock.now)
    assert result.error.startswith("403: no access to sc-domain:other.test, or the URL is outside")
    assert len(result.inspected) == 1
    proc = cli("inspect", "--root", str(mini))
    assert proc.exit_code == 1 and "error: 403" in proc.stdout
    with project.store.engine.connect() as conn:
        failed = conn.execute(sa.select(sa.func.count()).select_from(index_inspections).where(
            index_inspections.c.status == "failed")).scalar()
    assert failed == 4  # every call counts against the quota, answered or not


def test_pacer_never_exceeds_the_minute_rate() -> None:
    clock = Clock()
    pacer = Pacer(600, clock.sleep, clock.now)
    stamps = []
    for _ in range(1500):
        pacer.wait()
        stamps.append(clock.t)
        clock.t += 0.01
    for i, t in enumerate(stamps):
        assert sum(1 for s in stamps[i:i + 601] if s < t + 60) <= 600


@pytest.mark.parametrize(("publish", "message"), [
    ("{type: ftp, path: x}", r"site\.publish: type must be folder, ssh or wordpress"),
    ("[{type: ssh, host: h, user: u, known_hosts: k}]", r"site\.publish\[0\]\.path: required field"),
    ("{type: ssh, host: '-oProxyCommand=x', user: u, path: /srv, known_hosts: k}",
     r"site\.publish\.host: '-oProxyCommand=x' must be a plain name"),
    ("{type: ssh, host: h, user: u, path: /srv/../etc, known_hosts: k}",
     r"site\.publish\.path: '/srv/\.\./etc' must be an absolute folder"),
    ("[{type: folder}, {type: folder, path: y}]",
     r"site\.publish: two publish targets are named 'folder': give each a `name`"),
    ("{type: wordpress, url: 'ftp://x', user: a}", r"site\.publish\.url: 'ftp://x' is not an http"),
])
def test_publish_settings_errors_are_one_line(mini: Path, publish: str, message: str) -> None:
    site = mini / "config/site.yaml"
    site.write_text(site.read_text().replace("site:\n", f"site:\n  publish: {publish}\n"))
    proc = cli("check", "--root", str(mini))
    assert proc.exit_code == 2
    assert re.match(r"error: config/site\.yaml:\d+: " + message, proc.stderr), proc.stderr


def test_nothing_built_is_one_line(mini: Path) -> None:
    proc = cli("publish", "--root", str(mini), "--dry-run")
    assert proc.exit_code == 2 and re.match(r"error: nothing built in \S+build/site; run `seo pages "
                                            r"build` first", proc.stderr), proc.stderr


def test_dry_run_writes_nothing(mini: Path, live: str) -> None:
    report = publish_site(Project.open(mini), dry_run=True)
    files = sum(1 for p in (mini / "build/site").rglob("*") if p.is_file())
    assert report.targets[0].counts()["create"] == files and not (mini / "build/public").exists()
    with Project.open(mini).store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(page_status)).scalar() == 0
