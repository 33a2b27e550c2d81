"""The CLI as a whole: every command documented; preview serves the built site."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import click

from seo import api
from seo.cli import main


def walk(group: click.Group, prefix: str = "seo") -> list[tuple[str, click.Command]]:
    found = []
    for name, cmd in sorted(group.commands.items()):
        found.append((f"{prefix} {name}", cmd))
        if isinstance(cmd, click.Group):
            found += walk(cmd, f"{prefix} {name}")
    return found


def test_every_command_has_help_text() -> None:
    commands = walk(main)
    assert len(commands) >= 5
    missing = [name for name, cmd in commands if not (cmd.help or "").strip()]
    assert missing == []
    undocumented = [(name, p.name) for name, cmd in commands for p in cmd.params
                    if isinstance(p, click.Option) and not (p.help or "").strip()]
    assert undocumented == []


def test_preview_serves_the_built_site(mini: Path) -> None:
    api.build(api.Project.open(mini))
    proc = subprocess.Popen([sys.executable, "-m", "seo", "preview", "--port", "0", "--root",
                             str(mini)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" at ", 1)[1].split(" ", 1)[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "alpha/knee-pain/", timeout=10) as resp:
            body = resp.read().decode()
        assert resp.status == 200 and "<h1>Knee Pain acupuncture for Alpha, CO</h1>" in body
        try:  # a path the build doesn't have: a 404 page, as the live site would answer
            urllib.request.urlopen(url + "alpha/no-such-page/?x=<b>", timeout=10)
            raise AssertionError("expected 404")
        except urllib.error.HTTPError as err:
            page = err.read().decode()
            assert err.code == 404 and err.headers["Content-Type"].startswith("text/html")
        assert "<h1>Page not found</h1>" in page and '<a href="/">' in page
        assert "/alpha/no-such-page/" in page and "<b>" not in page
        (mini / "build/site/404.html").write_text("<h1>Our own 404</h1>")  # the site's own page
        try:
            urllib.request.urlopen(url + "gone/", timeout=10)
        except urllib.error.HTTPError as err:
            assert err.code == 404 and err.read().decode() == "<h1>Our own 404</h1>"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_preview_without_a_build_is_a_one_line_error(mini: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "seo", "preview", "--root", str(mini)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "run `seo pages build` first" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_run_help_lists_the_jobs_and_trigger() -> None:
    from click.testing import CliRunner
    out = CliRunner().invoke(main, ["run", "-h"]).output
    for job in ("build_pages", "audit_site", "check_rankings", "sync_listing", "publish_posts",
                "weekly_report", "weekly"):
        assert f"  {job} " in out, job
    assert "--trigger [manual|cron]" in out and "crontab" in out
    hidden = [(name, p.name) for name, cmd in walk(main) for p in cmd.params
              if isinstance(p, click.Option) and p.hidden]
    assert hidden == []  # every option is documented in -h
