"""site.store: a missing driver, an unreachable server, an uncreatable path or a bad URL is one line
naming the key and what to install or fix, and never shows the password."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

import pytest
from conftest import require_tool
from hostile_support import one_line_error, run_cli


def set_store(root: Path, url: str) -> None:
    site = root / "config/site.yaml"
    site.write_text(site.read_text().replace("store: sqlite:///build/seo.sqlite3", f"store: '{url}'"))


def closed_port() -> int:
    """A local port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readme_postgres_url_without_the_driver(mini: Path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    set_store(mini, "postgresql+psycopg://seo:hunter22@db.test/seo")
    line = one_line_error(run_cli("pages", "build", "--root", str(mini)),
                          r"^error: config/site\.yaml: site\.store: the database driver 'psycopg' .* "
                          r"is not installed: pip install 'seo\[postgres\]'")
    assert "hunter22" not in line


def test_other_missing_driver_names_its_package(mini: Path) -> None:
    set_store(mini, "mysql+pymysql://u:secret@db.test/seo")
    line = one_line_error(run_cli("check", "--root", str(mini)), r"site\.store: .*pip install pymysql")
    assert "secret" not in line


def test_unreachable_server(mini: Path) -> None:
    require_tool(importlib.util.find_spec("psycopg") is not None, "psycopg (the test extra)")
    set_store(mini, f"postgresql+psycopg://seo:hunter22@127.0.0.1:{closed_port()}/seo")
    line = one_line_error(run_cli("pages", "build", "--root", str(mini)),
                          r"site\.store: cannot open store .*Connection refused.* "
                          r"\(is the server running and reachable\?\)")
    assert "hunter22" not in line


@pytest.mark.parametrize("url,pattern", [
    ("sqlite:////proc/no-such/seo.sqlite3", r"cannot create the folder '/proc/no-such' for the SQLite"),
    ("sqlite:///config", r"is a folder; give a file path for the SQLite store"),
    ("sqlite:///config/site.yaml/x.sqlite3", r"cannot create the folder .*config/site\.yaml'"),
    ("nosuchdb://x/y", r"unknown database type in 'nosuchdb://x/y'"),
    ("postgresql://h:notaport/db", r"not a database URL"),
    ("just words", r"not a database URL"),
])
def test_bad_store_urls(mini: Path, url: str, pattern: str) -> None:
    set_store(mini, url)
    one_line_error(run_cli("pages", "build", "--root", str(mini)),
                   rf"^error: config/site\.yaml: site\.store: .*{pattern}")
