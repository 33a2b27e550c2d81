"""Golden output: the small fixture site renders byte for byte to tests/golden/mini.

Text files (pages, sitemap, robots, favicon) must match byte for byte. Pictures (the social cards)
are compared by name, format and size: their bytes come from Pillow's encoders and bundled font,
which may differ between Pillow releases (the page referring to them never does).

Regenerate after an intended change: SEO_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import io
import os
import shutil
from datetime import date
from pathlib import Path

from PIL import Image

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
        if rel.endswith((".png", ".jpg", ".webp")):
            with Image.open(io.BytesIO(built[rel])) as got, Image.open(io.BytesIO(data)) as want:
                assert (got.format, got.size) == (want.format, want.size), rel
            continue
        assert built[rel] == data, f"{rel} differs from the golden copy"
