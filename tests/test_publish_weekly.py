"""The issue's "done": on the bundled clinic, `seo run weekly` with a WordPress target ends with every
indexable page live on WordPress, verified, its index status requested, and Business Profile posts
only for live pages; running it again changes nothing. Real WordPress, the local Search Console and
Business Profile servers, the real pipeline (`run_job`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from listing_support import NAME, live_location, write_token
from publish_support import clinic_root, set_config, wordpress_target
from schedule_support import run_rows, write_schedule
from servers.gbp import GbpServer
from servers.search_console import SearchConsoleServer

from seo.api import Project
from seo.automation.runner import run_job
from seo.tables import index_inspections, page_status, pages

pytest_plugins = ["publish_fixtures"]  # fixtures: wordpress_server, wp


@pytest.fixture
def google() -> Iterator[tuple[GbpServer, SearchConsoleServer]]:
    gbp = GbpServer().start()
    sc = SearchConsoleServer(require_token=False).start()
    yield gbp, sc
    sc.stop()
    gbp.stop()


def test_weekly_publishes_verifies_inspects_and_posts_only_live_pages(
        wp: Any, google: tuple[GbpServer, SearchConsoleServer], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    gbp, sc = google
    root = clinic_root(tmp_path / "clinic", url=wp.url)  # the clinic's website is the WordPress site
    set_config(root, site_publish=[wordpress_target(wp)], integrations={
        "search_console": {"property": wp.url, "api_endpoint": sc.url, "token_uri": gbp.token_uri,
                           "days": 7},
        "gbp": {"account": "accounts/42",
                "endpoints": {"business_information": gbp.url, "v4": gbp.v4_url,
                              "performance": gbp.url, "place_actions": gbp.url,
                              "token_uri": gbp.token_uri},
                "posts": {"kinds": ["condition"], "poll_attempts": 0}}})
    site_yaml = root / "config/site.yaml"
    site_yaml.write_text(site_yaml.read_text().replace("gbp_location: locations/0000000000000000000",
                                                       f"gbp_location: {NAME}"))
    write_schedule(root, "jobs:\n  audit_site: {cron: '0 3 * * 0', enabled: false, target: built}\n")
    token = tmp_path / "google-token.json"
    write_token(token, gbp)
    info = json.loads(token.read_text())
    info["scopes"] += ["https://www.googleapis.com/auth/webmasters.readonly"]
    token.write_text(json.dumps(info))
    monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
    monkeypatch.delenv("SEO_GOOGLE_SERVICE_ACCOUNT", raising=False)
    monkeypatch.setenv("SEO_WORDPRESS_PASSWORD", wp.password)
    gbp.add_location(NAME, live_location(Project.open(root)))
    steps = ("build_pages", "audit_site", "publish_site", "verify_live", "inspect_index",
             "check_rankings", "sync_listing", "publish_posts", "fetch_insights", "check_reviews",
             "weekly_report")

    lines: list[str] = []
    outcome = run_job("weekly", root, echo=lines.append)
    text = "\n".join(lines)
    assert outcome.status == "ok", text
    assert outcome.counts["steps"] == {**{s: "ok" for s in steps}, "check_grid": "skipped"}, text
    runs = {r["job"]: json.loads(r["counts"]) for r in run_rows(Project.open(root).store.engine)}
    count = len(Project.open(root).store.page_rows())
    assert runs["publish_site"]["created"] == count + 2  # and /conditions/, /practitioners/ folders
    assert runs["verify_live"] == {"checked": count, "live": count, "not_live": 0, "waiting": 0}
    assert runs["inspect_index"]["inspected"] == count
    project = Project.open(root)
    with project.store.engine.connect() as conn:
        status = {r.path: r for r in conn.execute(
            sa.select(page_status, pages.c.content_hash, pages.c.last_changed, pages.c.indexable)
            .join(pages, pages.c.path == page_status.c.path))}
    assert len(status) == count
    for path, row in status.items():  # built, published, live, inspected: one content, dated
        assert row.published_hash == row.live_hash == row.inspected_hash == row.content_hash, path
        assert row.last_changed == row.published_on == row.live_on == row.inspected_on == project.today()
        assert row.coverage == "URL is unknown to Google" and row.verdict == "NEUTRAL"
        assert wp.get(path)[0] == 200
    assert {i["inspectionUrl"] for i in sc.inspections} == {wp.url + p.lstrip("/") for p in status}
    # posts: the condition hubs, each verified live before it was announced
    posts = gbp.all_posts()
    assert len(posts) == 5
    for post in posts:
        url = post["callToAction"]["url"].split("?")[0]
        assert url.startswith(wp.url + "conditions/") and status[url[len(wp.url) - 1:]].live_on

    # the same week again: nothing is sent, checked, inspected or posted
    lines.clear()
    again = run_job("weekly", root, echo=lines.append)
    assert again.status == "ok", "\n".join(lines)
    runs = {r["job"]: json.loads(r["counts"]) for r in run_rows(Project.open(root).store.engine)}
    assert runs["build_pages"]["written"] == 0
    assert runs["publish_site"]["created"] == runs["publish_site"]["updated"] == 0
    assert runs["publish_site"]["targets"]["wordpress"]["writes"] == 0
    assert runs["verify_live"]["checked"] == 0
    assert runs["inspect_index"]["inspected"] == 0 and len(sc.inspections) == count
    assert runs["publish_posts"]["created"] == 0 and len(gbp.all_posts()) == 5
    with Project.open(root).store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(index_inspections)).scalar() == count
