"""Golden output: the small fixture site renders byte for byte to tests/golden/mini.

Regenerate after an intended change: SEO_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

from seo import api

GOLDEN = Path(__file__).parent / "golden" / "mini"


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_golden_site(mini: Path) -> None:
    project = api.Project.open(mini)
    api.build(project, today=date(2026, 11, 1))
    built = tree(mini / "build/site")
    if os.environ.get("SEO_UPDATE_GOLDEN"):
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(mini / "build/site", GOLDEN)
    expected = tree(GOLDEN)
    assert sorted(built) == sorted(expected)
    for rel, data in expected.items():
        assert built[rel] == data, f"{rel} differs from the golden copy"
