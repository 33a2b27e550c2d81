"""Fixtures for the publish tests (a pytest plugin: `pytest_plugins = ["publish_fixtures"]`): a real
WordPress (Debian's package, MariaDB, PHP) and a real OpenSSH server, each started once per session on
loopback; skipped locally when the binaries are missing, a failure in CI (SEO_REQUIRE_TOOLS=1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import require_tool
from publish_support import clinic_root
from servers import sshd, wordpress


@pytest.fixture(scope="session")
def wordpress_server() -> Iterator[wordpress.WordPressServer]:
    missing = wordpress.missing_tools()
    require_tool(not missing, "WordPress (" + ", ".join(missing) + ")")
    with wordpress.WordPressServer() as server:
        yield server


@pytest.fixture
def wp(wordpress_server: wordpress.WordPressServer) -> wordpress.WordPressSite:
    """A fresh WordPress site (its own database) with the companion plugin active."""
    return wordpress_server.fresh_site()


@pytest.fixture(scope="session")
def ssh_server() -> Iterator[sshd.SshServer]:
    missing = sshd.missing_tools()
    require_tool(not missing, "OpenSSH and rsync (" + ", ".join(missing) + ")")
    with sshd.SshServer() as server:
        yield server


@pytest.fixture
def clinic_site(tmp_path: Path) -> Path:
    """The bundled clinic with its example values accepted (what a clinic that filled them in has)."""
    return clinic_root(tmp_path / "clinic")
