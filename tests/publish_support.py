"""Helpers for the publish tests: the bundled clinic ready to publish, targets wired to local servers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from conftest import REPO


def clinic_root(root: Path, url: str = "https://www.acupunctureassociates.example/") -> Path:
    """A copy of the bundled clinic whose example values are taken as real, at site URL `url`."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, root / name)
    site_yaml = root / "config/site.yaml"
    site_yaml.write_text(re.sub(r"!example\b ?", "", site_yaml.read_text(encoding="utf-8")),
                         encoding="utf-8")
    set_config(root, business={"url": url, "booking_url": url + "book/"})
    return root


def set_config(root: Path, **sections: Any) -> None:
    """Merge top-level sections (`business={...}`) or `site_publish=[...]` into config/site.yaml."""
    path = root / "config/site.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for key, value in sections.items():
        if key == "site_publish":
            data["site"]["publish"] = value
        elif isinstance(value, dict):
            data.setdefault(key, {}).update(value)
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def wordpress_target(wp: Any, **extra: Any) -> dict[str, Any]:
    return {"type": "wordpress", "url": wp.url, "user": wp.user, "requests_per_minute": 6000,
            "backoff": 0.01, **extra}


def ssh_target(server: Any, path: Path, **extra: Any) -> dict[str, Any]:
    return {"type": "ssh", "host": "127.0.0.1", "port": server.port, "user": server.user,
            "path": str(path), "key": str(server.user_key), "known_hosts": str(server.known_hosts),
            **extra}


def cli(*args: str, env: dict[str, str] | None = None) -> Any:
    """The real CLI in-process (fast): .returncode, .stdout, .stderr like a subprocess's."""
    from click.testing import CliRunner

    from seo.cli import main
    result = CliRunner().invoke(main, list(args), env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    result.returncode = result.exit_code  # type: ignore[attr-defined]
    return result


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """A local web server for `folder` (which may not exist yet): its base URL."""
    from seo.pages.preview import serve_in_thread
    server, url = serve_in_thread(folder)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()


def serve_from(root: Path, url: str, path: str = "build/public") -> None:
    """Publish to a folder that the web server at `url` serves (a text edit: keeps YAML tags)."""
    site_yaml = root / "config/site.yaml"
    text = site_yaml.read_text(encoding="utf-8")
    text = re.sub(r"\n  publish:\n(    .*\n)+", "\n", text)
    line = f"  publish: {{type: folder, path: {path}, url: '{url}'}}\n"
    text, n = re.subn(r"(\nsite:\n  [^\n]*\n)", lambda m: m.group(1) + line, text, count=1)
    assert n == 1, "config/site.yaml has no site: section"
    site_yaml.write_text(text, encoding="utf-8")


def make_live(project: Any, today: Any = None) -> Any:
    """Publish the build to its folder target and verify it live (every page must be)."""
    from seo.publish.api import publish_site
    from seo.publish.verify import verify_live
    publish_site(project, audit=False, today=today)
    result = verify_live(project, today=today)
    assert not result.failed, result.lines(True)
    return result
