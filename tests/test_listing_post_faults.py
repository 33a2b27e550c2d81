"""Posts under real faults: Google finishing a create after the client's timeout, a create that
never arrived, and two processes posting to one profile at once (the edit limit is shared through
the store). The local GBP server, the real client, real processes; only the waits are short."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import REPO
from listing_support import NAME, TODAY, FakeClock, configure, live_location, write_token
from publish_support import make_live, serve_from, served
from servers.gbp import GbpServer

from seo import api as seo_api
from seo.api import Project
from seo.listing import api
from seo.listing.client import GbpClient, connect
from seo.listing.limits import StoreRateLimiter
from seo.store import now
from seo.tables import listing_posts

pytest_plugins = ["listing_fixtures"]  # fixtures: gbp, root, project, client, clock


def keys(server: GbpServer) -> list[str]:
    return [re.search(r"utm_content=(\w+)", p["callToAction"]["url"]).group(1)  # type: ignore[union-attr]
            for p in server.all_posts()]


def states(project: Project) -> dict[str, str]:
    with project.store.engine.connect() as conn:
        return {r.page: r.state for r in conn.execute(sa.select(listing_posts))}


@pytest.fixture
def slow(mini: Path, gbp: GbpServer, monkeypatch: pytest.MonkeyPatch,
         tmp_path: Path) -> Iterator[Project]:
    """The fixture site, published and verified live (only live pages are posted), its Business
    Profile client giving up after 0.3 s."""
    configure(mini, gbp, "    timeout: 0.3\n    posts: {lookup_wait: 4, poll_attempts: 1}\n")
    token = tmp_path / "token.json"
    write_token(token, gbp)
    monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
    with served(mini / "build/public") as url:
        serve_from(mini, url)
        project = Project.open(mini)
        gbp.add_location(NAME, live_location(project))
        seo_api.build(project, today=TODAY)
        make_live(project, TODAY)
        yield project


def client_of(project: Project, clock: FakeClock) -> GbpClient:
    return connect(project.site.config.integrations.gbp, store=project.store, clock=clock.now,
                   sleep=clock.sleep)


def test_create_finished_after_the_timeout_is_found_not_made_again(
        slow: Project, gbp: GbpServer, clock: FakeClock) -> None:
    gbp.fault("post.create", late=1.5)  # the client stops waiting at 0.3 s; the post appears at 1.5 s
    started = time.monotonic()
    result = api.publish_posts(slow, client=client_of(slow, clock), today=TODAY, sleep=time.sleep)
    assert time.monotonic() - started < 8
    assert len(result.adopted) == 1 and len(result.created) == 4 and not result.unresolved
    assert len(gbp.ops("post.create")) == 5  # the slow one was looked for, not sent again
    assert len(gbp.all_posts()) == 5 and len(set(keys(gbp))) == 5
    assert set(states(slow).values()) == {"LIVE"}


def test_post_still_missing_stays_sending_and_the_next_run_resolves_it(
        slow: Project, gbp: GbpServer, clock: FakeClock) -> None:
    gbp.fault("post.create", late=2.0)
    first = api.publish_posts(slow, client=client_of(slow, clock), today=TODAY, sleep=clock.sleep)
    # looked for (with backoff, on the fake clock) and not found: left SENDING, nothing else sent
    assert len(first.unresolved) == 1 and not first.created and first.waiting == 4 + 3
    assert sum(clock.slept) >= 4 and len(gbp.ops("post.list")) >= 3
    page = first.unresolved[0]
    assert states(slow) == {page: "SENDING"}
    # a run while Google is still making it: not created again, the other pages go ahead
    second = api.publish_posts(slow, client=client_of(slow, clock), today=TODAY, sleep=clock.sleep)
    assert second.unresolved == [page] and len(second.created) == 4
    time.sleep(2.2)  # Google finishes the slow create
    third = api.publish_posts(slow, client=client_of(slow, clock), today=TODAY, sleep=clock.sleep)
    assert len(third.adopted) == 1 and not third.unresolved
    made = len(gbp.all_posts())
    assert made == 1 + 4 + len(third.created) and len(gbp.ops("post.create")) == made
    assert len(set(keys(gbp))) == made  # never a post twice
    assert states(slow)[page] == "LIVE"


def test_a_create_that_never_left_is_sent_again_only_after_resend_after(
        slow: Project, gbp: GbpServer, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> None:
    client = client_of(slow, clock)
    real = client.create_post

    def dies(*args: object, **kw: object) -> dict[str, object]:
        raise KeyboardInterrupt  # killed after recording the intent, before sending

    monkeypatch.setattr(client, "create_post", dies)
    with pytest.raises(KeyboardInterrupt):
        api.publish_posts(slow, client=client, today=TODAY, sleep=clock.sleep)
    monkeypatch.setattr(client, "create_post", real)
    (page,) = states(slow)
    with slow.store.engine.connect() as conn:
        key = conn.execute(sa.select(listing_posts.c.key)).scalar()
    again = api.publish_posts(slow, client=client, today=TODAY, sleep=clock.sleep)
    assert again.unresolved == [page] and key not in keys(gbp)  # not resent within the hour
    with slow.store.begin() as conn:  # an hour later (posts.resend_after: 60 minutes)
        conn.execute(listing_posts.update().where(listing_posts.c.page == page)
                     .values(updated_at=now() - timedelta(minutes=61)))
    later = api.publish_posts(slow, client=client, today=TODAY, sleep=clock.sleep)
    assert later.created and not later.unresolved
    assert keys(gbp).count(key) == 1 and len(gbp.all_posts()) == len(set(keys(gbp)))
    assert states(slow)[page] == "LIVE"


def test_store_limiter_is_shared_by_two_clients(project: Project, clock: FakeClock) -> None:
    a = StoreRateLimiter(project.store, 10, 60.0, clock.now, clock.sleep)
    b = StoreRateLimiter(project.store, 10, 60.0, clock.now, clock.sleep)
    for _ in range(6):
        a.done(a.acquire(NAME))
    for _ in range(4):
        b.done(b.acquire(NAME))
    assert a.try_acquire(NAME)[1] > 59 and b.try_acquire(NAME)[1] > 59
    assert a.try_acquire("locations/other")[1] == 0  # per profile
    clock.t += 30
    b.done(b.acquire(NAME))  # waits for the first edit to be a minute old
    assert clock.t >= 1060


def test_a_slot_counts_from_when_its_request_ended(project: Project, clock: FakeClock) -> None:
    """Google counts an edit when it arrives: a request still in flight holds its slot (up to
    `in_flight` seconds), and once over it counts from the moment it ended."""
    one = StoreRateLimiter(project.store, 1, 60.0, clock.now, clock.sleep, in_flight=60.0)
    slot = one.acquire(NAME)
    clock.t += 59.5  # a slow request (a token refresh first): not over yet
    assert one.try_acquire(NAME)[1] > 60
    one.done(slot)
    assert 59 < one.try_acquire(NAME)[1] <= 60.1  # a minute from when it ended


def test_403_rate_limit_is_retried_not_permission_denied(
        project: Project, client: GbpClient, gbp: GbpServer) -> None:
    quota = "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute'"
    gbp.fault("patch", 403, rate_limit_403=True, message=quota)
    _, result = api.apply_listing(project, client=client, today=TODAY)
    assert result.pushed and len(gbp.ops("patch")) == 3  # validateOnly refused once, retried, real
    gbp.fault("get", 403, rate_limit_403=True, message=quota, times=None)
    from seo.errors import ExternalError
    with pytest.raises(ExternalError, match=r"rate limited by Google \(403 rateLimitExceeded\)") as e:
        api.plan_listing(project, client=client, today=TODAY)
    assert "permission" not in str(e.value)


def test_two_processes_posting_at_once_keep_the_edit_limit(
        mini: Path, gbp: GbpServer, tmp_path: Path) -> None:
    """Two `seo listing posts` on one profile (real processes, real clock), wanting more edits
    than the limit: together they send exactly the limit, then both wait; never a post twice."""
    configure(mini, gbp, "    edits_per_minute: 4\n    posts: {max_per_run: 20, poll_attempts: 0, "
                         "kinds: [home, areas, town, condition, town_condition]}\n")
    token = tmp_path / "token.json"
    write_token(token, gbp)
    with served(mini / "build/public") as url:
        serve_from(mini, url)
        project = Project.open(mini)
        gbp.add_location(NAME, live_location(project))
        seo_api.build(project, today=TODAY)
        make_live(project, TODAY)  # only pages verified live are posted
    env = {**os.environ, "SEO_GOOGLE_TOKEN": str(token)}
    env.pop("SEO_GOOGLE_SERVICE_ACCOUNT", None)
    procs = [subprocess.Popen([sys.executable, "-m", "seo", "listing", "posts", "--root", str(mini)],
                              cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    try:
        deadline = time.monotonic() + 60
        while len(gbp.ops("post.create")) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(gbp.ops("post.create")) == 4, [p.communicate() for p in procs if p.poll()]
        time.sleep(2.5)  # both want more; neither may send before the first edit is a minute old
        assert len(gbp.ops("post.create")) == 4
        assert all(p.poll() is None for p in procs)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
    assert len(gbp.all_posts()) == len(set(keys(gbp))) == 4


def test_token_files_own_token_uri_is_used(mini: Path, gbp: GbpServer, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """No `gbp.endpoints.token_uri` in config: the token exchange goes where the token file says
    (it used to go to Google's default whatever the file said)."""
    import json
    configure(mini, gbp)
    site = mini / "config/site.yaml"
    site.write_text(site.read_text().replace(f", token_uri: '{gbp.token_uri}'", ""))
    token = tmp_path / "token.json"
    write_token(token, gbp)
    token.write_text(json.dumps({**json.loads(token.read_text()), "token_uri": gbp.token_uri}))
    monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
    project = Project.open(mini)
    assert project.site.config.integrations.gbp.endpoints.token_uri is None
    gbp.add_location(NAME, live_location(project))
    api.plan_listing(project, today=TODAY)
    assert gbp.token_count == 1 and gbp.ops("get")
