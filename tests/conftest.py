"""Shared test helpers: copies of fixture sites in tmp dirs, and the real CLI in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_support import PostgresServer, find_bindir

HERE = Path(__file__).parent
REPO = HERE.parent
MINI = HERE / "fixtures" / "mini"


def require_tool(available: bool, what: str) -> None:
    """Skip when a system tool is missing locally; in CI (SEO_REQUIRE_TOOLS=1) fail instead."""
    if not available:
        if os.environ.get("SEO_REQUIRE_TOOLS"):
            pytest.fail(f"{what} is required in CI but missing")
        pytest.skip(f"{what} not installed")


# -- the store: SQLite, and a real PostgreSQL --------------------------------------------------------
# A test marked `stores` runs twice, on SQLite and on PostgreSQL: its `mini`/`clinic` project (and
# `store_url`) point at a fresh PostgreSQL database of its own in the second run.

STORES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_kind" in metafunc.fixturenames and metafunc.definition.get_closest_marker("stores"):
        metafunc.parametrize("store_kind", STORES, indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    bindir = find_bindir()
    require_tool(bindir is not None, "PostgreSQL server (Debian package postgresql)")
    require_tool(importlib.util.find_spec("psycopg") is not None, "psycopg (pip install 'seo[postgres]')")
    assert bindir is not None
    server = PostgresServer(bindir).start()
    yield server
    server.stop()


@pytest.fixture
def store_kind(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def pg_url(postgres: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    name = postgres.create_database()
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture
def store_url(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A store URL of the kind the test runs on (a SQLite file in tmp_path, or a fresh database)."""
    if store_kind == "postgresql":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path}/store.sqlite3"


def use_store(root: Path, url: str) -> None:
    """Point a project's config/site.yaml at another store."""
    path = root / "config/site.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  store:"))
    lines[at] = f"  store: {url}\n"
    path.write_text("".join(lines), encoding="utf-8")


def _project_store(root: Path, store_kind: str, request: pytest.FixtureRequest) -> None:
    if store_kind == "postgresql":
        use_store(root, str(request.getfixturevalue("pg_url")))


@pytest.fixture
def mini(tmp_path: Path, store_kind: str, request: pytest.FixtureRequest) -> Path:
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst, ignore=shutil.ignore_patterns("build"))
    _project_store(dst, store_kind, request)
    return dst


@pytest.fixture
def clinic(tmp_path: Path, store_kind: str, request: pytest.FixtureRequest) -> Path:
    """A copy of the bundled clinic project (config, content, templates)."""
    dst = tmp_path / "clinic"
    dst.mkdir()
    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, dst / name)
    _project_store(dst, store_kind, request)
    return dst


def run_seo(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "seo", *args], cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
