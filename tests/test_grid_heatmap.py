"""Heatmaps: a golden map checked by sampling its pixels, colors that stay apart without hue,
the same bytes for the same data, and the optional tile background from a local tile server."""

from __future__ import annotations

import io
import threading
import time
from collections import Counter
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from grid_support import seed_grid_weeks, set_grid
from PIL import Image

from seo.api import Project
from seo.grid.geometry import Area, destination, offsets
from seo.grid.heatmap import LOW, MID, NONE, TOP3, Dot, fill_for, render
from seo.grid.tiles import TileSource
from seo.report import build_report
from seo.settings import GridTiles

CENTER = (39.61, -104.81)
CLINIC = (39.605, -104.805)
#  ranks of a 3 x 3 grid, row by row from the northwest ("?" not measured, None not in the top 20)
RANKS: list[Any] = [1, 2, 3, 5, 12, None, "?", 7, 2]


def hex_rgb(color: str) -> tuple[int, int, int]:
    return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def golden(background: object = None, attribution_check: bool = False):
    *_, east, north = offsets(3, 0.5)
    lat, lng = destination(*CENTER, east, north)
    dots = [Dot(float(a), float(b), r != "?", None if r == "?" else r)
            for a, b, r in zip(lat, lng, RANKS, strict=True)]
    return render(dots, spacing_miles=0.5, center=CENTER, clinic=CLINIC, area=Area(*CENTER, 0.35),
                  title="Alpha · \"knee pain acupuncture alpha\"", subtitle="Nov 23, 2026",
                  alt="golden", background=background)


def pixel(img: np.ndarray, x: float, y: float) -> tuple[int, int, int]:
    return tuple(int(v) for v in img[round(y), round(x)][:3])  # type: ignore[return-value]


def near(a: tuple[int, ...], b: tuple[int, ...], tol: int = 8) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


def test_golden_heatmap_pixels() -> None:
    hm = golden()
    img = np.asarray(Image.open(io.BytesIO(hm.png)).convert("RGB"))
    assert img.shape == (hm.height * 2, hm.width * 2, 3)  # twice the CSS size: sharp on phones
    expected = [TOP3, TOP3, TOP3, MID, LOW, NONE, "#ffffff", MID, TOP3]
    for (x, y), color, rank in zip(hm.pixels, expected, RANKS, strict=True):
        # the fill, sampled away from the number in the middle
        for dx, dy in ((0.7, 0), (-0.7, 0), (0, 0.72)):
            got = pixel(img, x + dx * hm.radius_px, y + dy * hm.radius_px)
            assert got == hex_rgb(color), (rank, got, color)  # exactly the palette
        # the rank is written inside: ink of the label's color at the center
        ink = hex_rgb(fill_for(None if rank == "?" else rank, rank != "?")[1])
        box = img[int(y - hm.radius_px * 0.3):int(y + hm.radius_px * 0.3),
                  int(x - hm.radius_px * 0.5):int(x + hm.radius_px * 0.5)].reshape(-1, 3)
        inked = sum(near(tuple(int(v) for v in p), ink, 40) for p in box)
        assert inked > 20, (rank, inked)
    # the clinic: an orange star
    cx, cy = hm.clinic_pixel
    assert near(pixel(img, cx, cy), hex_rgb("#e66101"), 30)
    # the town's area: a dark dashed circle of 0.35 miles, seen in the gaps between the dots
    (xc, yc), (xe, _) = hm.pixels[4], hm.pixels[5]
    r = (xe - xc) * 0.35 / 0.5  # pixels per half mile between neighbors
    dark = 0
    for deg in range(20, 75, 5):  # northeast, between the center and the corner dots
        x, y = xc + r * np.cos(np.radians(deg)), yc - r * np.sin(np.radians(deg))
        patch = img[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3].reshape(-1, 3)
        dark += bool((patch.max(axis=1) < 90).any())
    assert dark >= 5, dark
    inside = pixel(img, xc + r * 0.9 * np.cos(np.radians(45)), yc - r * 0.9 * np.sin(np.radians(45)))
    assert near(inside, (255, 255, 255), 3)  # and plain white inside it
    # the legend and title are there (dark text in the top and bottom bands)
    assert (img[:60] < 80).all(axis=2).sum() > 200 and (img[-140:] < 80).all(axis=2).sum() > 200


def test_same_data_same_bytes_and_bands_apart_in_lightness() -> None:
    assert golden().png == golden().png

    def lightness(color: str) -> float:
        r, g, b = (c / 255 for c in hex_rgb(color))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    levels = [lightness(c) for c in (TOP3, MID, LOW, NONE)]
    assert levels == sorted(levels)  # one sequential scale: darker is better
    assert min(b - a for a, b in pairwise(levels)) > 0.1  # apart without hue


class TileServer:
    """Slippy-map tiles: a solid-color PNG for every /z/x/y.png, with the user agents seen."""

    def __init__(self, color: tuple[int, int, int] = (200, 0, 200), delay: float = 0.0,
                 noisy: bool = False) -> None:
        buf = io.BytesIO()
        if noisy:  # hard to compress: a big tile
            rng = np.random.default_rng(7)
            Image.fromarray(rng.integers(0, 255, (512, 512, 3), dtype=np.uint8)).save(buf, "PNG")
        else:
            Image.new("RGB", (256, 256), color).save(buf, "PNG")
        self.png = buf.getvalue()
        self.delay = delay
        self.paths: Counter[str] = Counter()
        self.agents: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.paths[self.path] += 1
                server.agents.add(self.headers.get("User-Agent", ""))
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", "file:///etc/passwd")
                    self.end_headers()
                    return
                time.sleep(server.delay)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "image/png")
                    self.send_header("Content-Length", str(len(server.png)))
                    self.end_headers()
                    self.wfile.write(server.png)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def tiles():
    server = TileServer()
    yield server
    server.stop()


def source(tmp_path: Path, url: str, **kw: Any) -> TileSource:
    cfg = GridTiles(url=url + "/{z}/{x}/{y}.png", attribution="© Test Tiles contributors", **kw)
    return TileSource(cfg, tmp_path / "tiles", "seo-grid/test (+https://clinic.test/)")


def test_tile_background_user_agent_cache_and_attribution(tmp_path, tiles) -> None:
    src = source(tmp_path, tiles.url)
    hm = golden(background=src)
    assert hm.attribution == "© Test Tiles contributors" and src.note == ""
    assert tiles.agents == {"seo-grid/test (+https://clinic.test/)"}
    assert 0 < sum(tiles.paths.values()) <= 16 and src.fetched == len(tiles.paths)
    img = np.asarray(Image.open(io.BytesIO(hm.png)).convert("RGB"))
    left, top, right, bottom = hm.map_box
    between = pixel(img, left + 12, top + 40)  # the map's corner, away from the dots: the tile
    assert near(between, (int(200 * 0.6 + 102), 102, int(200 * 0.6 + 102)), 12)  # lightened
    # the attribution is printed on the map, bottom right, on a white label
    corner = img[int(bottom) - 24:int(bottom) - 2, int(right) - 120:int(right) - 4].reshape(-1, 3)
    assert (corner.max(axis=1) < 90).sum() > 20
    plain = np.asarray(Image.open(io.BytesIO(golden().png)).convert("RGB"))
    label = plain[int(bottom) - 24:int(bottom) - 2, int(right) - 120:int(right) - 4]
    assert not (label.max(axis=2) < 90).any()  # (nothing there without tiles)
    # a second map of the same place comes from the cache, byte for byte the same
    before = sum(tiles.paths.values())
    again = golden(background=source(tmp_path, tiles.url))
    assert sum(tiles.paths.values()) == before and again.png == hm.png


def test_tiles_that_fail_leave_a_plain_map_and_say_why(tmp_path) -> None:
    slow = TileServer(delay=3)
    try:
        src = source(tmp_path, slow.url, timeout=0.3)
        t0 = time.monotonic()
        hm = golden(background=src)
        assert time.monotonic() - t0 < 5  # bounded: never waits for every slow tile
        assert hm.attribution == "" and src.note.startswith("map tiles unavailable (")
        assert hm.png == golden().png  # exactly the map without a background
        asked = sum(slow.paths.values())
        t0 = time.monotonic()
        assert golden(background=src).png == hm.png  # the next map of the run doesn't wait again
        assert time.monotonic() - t0 < 2 and sum(slow.paths.values()) == asked and src.broken
    finally:
        slow.stop()
    redirect = TileServer()
    try:
        src = source(tmp_path, redirect.url + "/redirect")
        assert golden(background=src).attribution == "" and "HTTPError" in src.note
    finally:
        redirect.stop()


def test_tile_cache_is_bounded_and_keeps_what_it_did_not_write(tmp_path) -> None:
    big = TileServer(noisy=True)  # ~800 KB a tile
    try:
        src = source(tmp_path, big.url, cache_mb=1, max_tiles=16)
        mine = src.folder / "notes.txt"
        mine.parent.mkdir(parents=True)
        mine.write_text("not a tile")
        outside = tmp_path / "precious.tile"
        outside.write_bytes(b"x" * 2_000_000)
        (src.folder / "link.tile").symlink_to(outside)
        golden(background=src)
        tiles_kept = [p for p in src.folder.rglob("*.tile") if not p.is_symlink()]
        assert sum(p.stat().st_size for p in tiles_kept) <= 1024 * 1024
        assert len(big.paths) > len(tiles_kept)  # the oldest were dropped
        assert mine.exists() and outside.exists() and (src.folder / "link.tile").is_symlink()
    finally:
        big.stop()


def test_attribution_in_the_report_when_tiles_are_on(mini, tiles) -> None:
    seed_grid_weeks(mini, date(2026, 11, 16), weeks=2)
    set_grid(mini, {"monthly_budget": 500, "size": 5, "spacing_miles": 0.6,
                    "tiles": {"url": tiles.url + "/{z}/{x}/{y}.png",
                              "attribution": "© Test Tiles contributors", "timeout": 5}})
    report = build_report(Project.open(mini), "2026-W47")
    assert "Map tiles: © Test Tiles contributors." in report.text
    assert "Map tiles: © Test Tiles contributors." in report.html
    assert any(a.startswith("seo-grid/") and "clinic.test" in a for a in tiles.agents)
    assert (mini / "build/grid/tiles").is_dir()
