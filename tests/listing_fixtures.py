"""Fixtures for the listing tests (a pytest plugin: `pytest_plugins = ["listing_fixtures"]`):
the local GBP server, the fixture site, a project, a real client on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from listing_support import NAME, FakeClock, booking_uri, configure, live_location, write_token
from publish_support import serve_from, served
from servers.gbp import GbpServer

from seo.api import Project
from seo.listing.client import GbpClient, connect


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def gbp(clock: FakeClock) -> Iterator[GbpServer]:
    server = GbpServer(clock=clock.now).start()
    yield server
    server.stop()


@pytest.fixture
def root(mini: Path, gbp: GbpServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    configure(mini, gbp)
    token = tmp_path / "token.json"
    write_token(token, gbp)
    monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
    monkeypatch.delenv("SEO_GOOGLE_SERVICE_ACCOUNT", raising=False)
    with served(mini / "build/public") as url:  # the "live site": posts need pages verified live
        serve_from(mini, url)
        yield mini


@pytest.fixture
def project(root: Path, gbp: GbpServer) -> Project:
    project = Project.open(root)
    gbp.add_location(NAME, live_location(project))
    gbp.add_link(NAME, booking_uri(project), preferred=True)  # the booking link is already ours
    return project


@pytest.fixture
def client(project: Project, clock: FakeClock) -> GbpClient:
    return connect(project.site.config.integrations.gbp, store=project.store, clock=clock.now,
                   sleep=clock.sleep)
