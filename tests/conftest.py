"""Shared test helpers: copies of fixture sites in tmp dirs, and the real CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
REPO = HERE.parent
MINI = HERE / "fixtures" / "mini"


def require_tool(available: bool, what: str) -> None:
    """Skip when a system tool is missing locally; in CI (SEO_REQUIRE_TOOLS=1) fail instead."""
    if not available:
        if os.environ.get("SEO_REQUIRE_TOOLS"):
            pytest.fail(f"{what} is required in CI but missing")
        pytest.skip(f"{what} not installed")


@pytest.fixture
def mini(tmp_path: Path) -> Path:
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst, ignore=shutil.ignore_patterns("build"))
    return dst


@pytest.fixture
def clinic(tmp_path: Path) -> Path:
    """A copy of the bundled clinic project (config, content, templates)."""
    dst = tmp_path / "clinic"
    dst.mkdir()
    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, dst / name)
    return dst


def run_seo(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "seo", *args], cwd=cwd or REPO, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
