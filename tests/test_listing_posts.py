"""Posts for new pages against the local server: one per page, never twice (a dropped connection, a
crash after sending), substantial changes, the weekly rotation, rejected posts, the edit rate."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import run_seo
from listing_support import ACCOUNT, NAME, TODAY, FakeClock
from publish_support import make_live
from servers.gbp import GbpServer

from seo import api as seo_api
from seo.api import Project
from seo.listing import api, posts
from seo.listing.client import GbpClient
from seo.tables import listing_posts

pytest_plugins = ["listing_fixtures"]  # fixtures: gbp, root, project, client, clock


def cli(*args: str) -> Any:
    """The real CLI in-process (fast); one test per module runs it as a subprocess."""
    from seo.cli import main
    return CliRunner().invoke(main, list(args))

PARENT = f"{ACCOUNT}/{NAME}"


@pytest.fixture
def built(project: Project) -> Project:
    seo_api.build(project, today=TODAY)
    make_live(project, TODAY)  # published and verified live: only such pages are posted
    return project


def keys(server: GbpServer) -> list[str]:
    return [re.search(r"utm_content=(\w+)", p["callToAction"]["url"]).group(1)  # type: ignore[union-attr]
            for p in server.all_posts()]


def test_one_post_per_new_page(built: Project, client: GbpClient, gbp: GbpServer,
                               clock: FakeClock) -> None:
    result = api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    wanted = {"condition", "town", "town_condition"}
    rows = [r for r in built.store.page_rows().values() if r["kind"] in wanted and r["indexable"]]
    assert len(result.created) == min(len(rows), 5) and result.waiting == len(rows) - 5
    post = gbp.all_posts()[0]
    assert post["topicType"] == "STANDARD" and post["languageCode"] == "en-US"
    assert post["callToAction"]["actionType"] == "LEARN_MORE"
    assert post["callToAction"]["url"].startswith("https://clinic.test/")
    assert "utm_source=google&utm_medium=organic&utm_campaign=gbp-post&utm_content=" in \
        post["callToAction"]["url"]
    assert post["summary"] and len(post["summary"]) <= 1500
    assert result.live == 5 and not result.rejected  # polled: PROCESSING -> LIVE
    again = api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert len(again.created) == len(rows) - 5
    third = api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert not third.created and not third.planned
    assert len(keys(gbp)) == len(set(keys(gbp))) == len(rows)


def test_only_pages_verified_live_are_posted(project: Project, root: Path, client: GbpClient,
                                             gbp: GbpServer, clock: FakeClock) -> None:
    from seo.publish.api import publish_site
    from seo.publish.verify import verify_live
    seo_api.build(project, today=TODAY)
    built_only = api.publish_posts(project, client=client, today=TODAY, sleep=clock.sleep)
    assert not built_only.planned and not gbp.all_posts()
    assert "page(s) not verified live with their current content" in built_only.warnings[-1]
    publish_site(project, audit=False, today=TODAY)
    (root / "build/public/alpha/knee-pain/index.html").unlink()  # lost on the way to the server
    result = verify_live(project, today=TODAY)
    assert [c.path for c in result.failed] == ["/alpha/knee-pain/"]
    assert result.failed[0].problems[0] == "main content not found"  # a folder listing, not the page
    posted = api.publish_posts(project, client=client, today=TODAY, sleep=clock.sleep)
    assert posted.planned and "/alpha/knee-pain/" not in {p.page for p in posted.planned}
    assert posted.not_live == 1


def test_dropped_connection_on_create_makes_no_duplicate(built: Project, client: GbpClient,
                                                         gbp: GbpServer, clock: FakeClock) -> None:
    gbp.fault("post.create", drop=True)  # Google makes the post, the answer never arrives
    result = api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert len(result.adopted) == 1 and len(result.created) == 4
    assert len(gbp.ops("post.create")) == 5  # the dropped create was not sent again
    assert len(gbp.all_posts()) == 5 and len(set(keys(gbp))) == 5
    with built.store.engine.connect() as conn:
        states = {r.state for r in conn.execute(sa.select(listing_posts))}
    assert states == {"LIVE"}


def test_crash_after_sending_then_retry_makes_no_duplicate(
        built: Project, client: GbpClient, gbp: GbpServer, clock: FakeClock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = posts._record

    def crash(*args: object) -> None:
        raise KeyboardInterrupt  # the process dies after Google made the post, before we noted it

    monkeypatch.setattr(posts, "_record", crash)
    with pytest.raises(KeyboardInterrupt):
        api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert len(gbp.all_posts()) == 1
    monkeypatch.setattr(posts, "_record", real)
    result = api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert len(result.adopted) == 1 and len(result.created) == 4
    assert len(gbp.all_posts()) == 5 and len(set(keys(gbp))) == 5


def test_rejected_posts_are_reported(built: Project, client: GbpClient, gbp: GbpServer,
                                     clock: FakeClock) -> None:
    gbp.reject = lambda post: "Knee" in post["summary"]
    result = api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert result.rejected and all("knee" in page for page, _ in result.rejected)
    with built.store.engine.connect() as conn:
        rejected = conn.execute(sa.select(sa.func.count()).select_from(listing_posts).where(
            listing_posts.c.state == "REJECTED")).scalar()
    assert rejected == len(result.rejected)


def test_substantial_change_and_weekly_rotation(built: Project, root: Path, client: GbpClient,
                                                gbp: GbpServer, clock: FakeClock) -> None:
    for _ in range(3):
        api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    total = len(gbp.all_posts())
    # nothing new within the week: no rotation yet
    assert not api.publish_posts(built, client=client, today=TODAY + timedelta(days=3),
                                 sleep=clock.sleep).planned
    week = TODAY + timedelta(days=7)
    rot = api.publish_posts(built, client=client, today=week, sleep=clock.sleep)
    assert [p.reason for p in rot.planned] == ["rotation"] and len(rot.created) == 1
    assert not api.publish_posts(built, client=client, today=week, sleep=clock.sleep).planned
    assert len(gbp.all_posts()) == total + 1
    # a page rewritten substantially gets a new post; the rotation waits
    note = root / "content/towns/alpha/knee-pain.md"
    note.write_text(note.read_text() + "\n" + " ".join(
        f"Staff note {n}: the Alpha clinic now runs an evening knee class on Mill Road." for n in
        range(40)) + "\n")
    later = week + timedelta(days=1)
    project = Project.open(root)
    seo_api.build(project, today=later)
    make_live(project, later)
    changed = api.publish_posts(project, client=client, today=later, sleep=clock.sleep)
    assert [(p.reason, p.page) for p in changed.planned] == [("changed", "/alpha/knee-pain/")]


def test_small_change_is_not_substantial() -> None:
    text = " ".join(f"word{n}" for n in range(300))
    assert posts.changed_share(text, text + " one more") < 0.05
    assert posts.changed_share(text, "entirely different words here") > 0.9


def test_burst_of_posts_and_edits_stays_under_ten_a_minute(built: Project, root: Path,
                                                           client: GbpClient, gbp: GbpServer,
                                                           clock: FakeClock) -> None:
    site = root / "config/site.yaml"
    site.write_text(site.read_text() + "    posts: {max_per_run: 50, kinds: [home, areas, town, "
                                       "condition, town_condition]}\n")
    project = Project.open(root)
    api.apply_listing(project, client=client, today=TODAY)
    result = api.publish_posts(project, client=client, today=TODAY, sleep=clock.sleep)
    assert len(result.created) >= 9
    edits = sorted(e.at for e in gbp.log if e.op in ("patch", "post.create"))
    assert len(edits) >= 11
    for i, t in enumerate(edits):
        assert sum(1 for s in edits[i:] if s < t + 60) <= 10
    assert edits[-1] - edits[0] >= 60


def test_cli_posts_dry_run_and_send(root: Path, gbp: GbpServer, monkeypatch: pytest.MonkeyPatch,
                                    ) -> None:
    gbp.add_location(NAME, {"title": "x"})
    seo_api.build(Project.open(root))
    make_live(Project.open(root))
    proc = cli("listing", "posts", "--dry-run", "--root", str(root))
    assert proc.exit_code == 0, proc.output
    assert proc.stdout.count("would post [new]") == 5 and not gbp.log
    proc = run_seo("listing", "posts", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "5 created, 0 found already sent, 5 live, 0 processing, 0 rejected" in proc.stdout


def test_failed_create_is_retried_next_run_once(built: Project, client: GbpClient, gbp: GbpServer,
                                               clock: FakeClock) -> None:
    from seo.errors import ExternalError
    gbp.fault("post.create", 403)
    with pytest.raises(ExternalError, match=r"permission denied \(403\)"):
        api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert not gbp.all_posts()
    result = api.publish_posts(built, client=client, today=TODAY, sleep=clock.sleep)
    assert len(result.created) == 5 and len(set(keys(gbp))) == len(gbp.all_posts()) == 5


def test_bad_refresh_token_is_one_line(built: Project, gbp: GbpServer, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    import os

    from seo.errors import CredentialsRejected
    from seo.listing.client import connect
    token = tmp_path / "bad-token.json"
    info = json.loads(Path(os.environ["SEO_GOOGLE_TOKEN"]).read_text())
    token.write_text(json.dumps({**info, "refresh_token": "revoked"}))
    monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
    bad = connect(built.site.config.integrations.gbp)
    with pytest.raises(CredentialsRejected, match="token expired or revoked; run `seo auth") as e:
        api.plan_listing(built, client=bad, today=TODAY)
    assert "'revoked'" not in str(e.value) and "secret" not in str(e.value)  # no secret echoed
    proc = cli("listing", "plan", "--root", str(built.site.root))  # README: exit 3, one line
    assert proc.exit_code == 3, proc.output
    assert proc.stderr.strip().splitlines() == [
        "not configured: locations.get locations/111: Google token expired or revoked; run "
        "`seo auth google`"]


def test_httplib2_resends_a_dropped_post(gbp: GbpServer) -> None:
    """Why posts don't go through httplib2 (google-api-python-client's transport): it sends a POST
    again by itself when the connection drops before the answer, and Google makes the post twice."""
    import json

    import httplib2
    gbp.require_auth = False
    gbp.add_location(NAME, {"title": "x"})
    gbp.fault("post.create", drop=True)
    body = {"summary": "Hello", "topicType": "STANDARD", "languageCode": "en-US"}
    resp, _ = httplib2.Http(timeout=5).request(
        gbp.v4_url + PARENT + "/localPosts", "POST", body=json.dumps(body),
        headers={"content-type": "application/json"})
    assert resp.status == 200  # the caller sees success...
    assert len(gbp.all_posts()) == 2  # ...and two posts exist
