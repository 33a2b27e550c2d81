"""Helpers for the rankings tests: a fixture project wired to the local servers."""

from __future__ import annotations

import json
from pathlib import Path

import yaml


def configure(root: Path, search_console: dict | None = None, serp: dict | None = None,
              keywords: dict | None = None) -> None:
    """Set integrations (and optionally keywords) in the project's config/site.yaml."""
    path = root / "config/site.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    integrations = data.get("integrations") or {}
    if search_console is not None:
        integrations["search_console"] = search_console
    if serp is not None:
        integrations["serp"] = serp
    data["integrations"] = integrations
    if keywords is not None:
        data["keywords"] = keywords
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def write_token(path: Path, info: dict) -> Path:
    path.write_text(json.dumps(info), encoding="utf-8")
    path.chmod(0o600)
    return path
