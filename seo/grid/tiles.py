"""An optional map background for heatmaps: slippy-map tiles ({z}/{x}/{y}) from a configured server.

Off unless `grid.tiles.url` is set. Tiles are fetched with a timeout, the configured user agent
(tile servers' usage policies ask for one that identifies the application), at most
`max_tiles` per heatmap (a coarser zoom when more would be needed), only over http(s) (redirects
to other schemes refused), each answer bounded in size and decoded before use. They are cached in
`build/grid/tiles/` (keyed by the URL template), the oldest dropped beyond `cache_mb`; the cache
only ever deletes the tile files it wrote. Any failure leaves the heatmap without a background and
says why (`note`); the attribution is drawn on every heatmap that has one.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import stat
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from .. import __version__
from ..atomic import atomic_write
from ..settings import GridTiles

R = 6378137.0
WORLD = 2 * math.pi * R
TILE = 256
MAX_TILE_BYTES = 1024 * 1024
MAX_ZOOM = 19
SUFFIX = ".tile"


class _HttpOnly(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if not newurl.lower().startswith(("http://", "https://")):
            raise urllib.error.HTTPError(newurl, code, "redirect to a non-http URL refused", headers, fp)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class TileSource:
    def __init__(self, cfg: GridTiles, cache_dir: Path, user_agent: str = "") -> None:
        self.cfg = cfg
        self.folder = cache_dir / hashlib.sha256(cfg.url.encode()).hexdigest()[:12]
        self.user_agent = cfg.user_agent or user_agent or f"seo-grid/{__version__}"
        self.attribution = cfg.attribution
        self.note = ""  # why the last heatmap has no background
        self.broken = ""  # the first failure: later maps of the run don't wait for tiles again
        self.fetched = 0  # tiles fetched from the server (not the cache)
        self._opener = urllib.request.build_opener(_HttpOnly())

    def _url(self, z: int, x: int, y: int) -> str:
        return (self.cfg.url.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
                .replace("{s}", "abc"[(x + y) % 3]))

    def _fetch(self, z: int, x: int, y: int) -> np.ndarray:
        from PIL import Image

        path = self.folder / str(z) / str(x) / f"{y}{SUFFIX}"
        data = None
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            os.utime(path)  # recently used: kept longest
        if data is None:
            req = urllib.request.Request(self._url(z, x, y), headers={"User-Agent": self.user_agent})
            with self._opener.open(req, timeout=self.cfg.timeout) as resp:
                data = resp.read(MAX_TILE_BYTES + 1)
            if len(data) > MAX_TILE_BYTES:
                raise ValueError(f"a tile larger than {MAX_TILE_BYTES // 1024} KB")
        with Image.open(io.BytesIO(data)) as img:
            if img.width > 1024 or img.height > 1024:
                raise ValueError("a tile larger than 1024 px")
            pixels = np.asarray(img.convert("RGB").resize((TILE, TILE)))
        if not path.is_file():
            atomic_write(path, data)
            self.fetched += 1
        return pixels

    def image(self, extent: tuple[float, float, float, float],
              width_px: int) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
        """The tiles under `extent` (Web Mercator meters: x0, x1, y0, y1), stitched and lightened,
        with their own extent; None (and `note`) when they can't be had."""
        if self.broken:  # one wait per run for a server that is down, not one per map
            self.note = self.broken
            return None
        x0, x1, y0, y1 = extent
        z = int(max(0, min(MAX_ZOOM, math.ceil(math.log2(WORLD * width_px / (TILE * (x1 - x0)))))))

        def index(x: float, y: float, zoom: int) -> tuple[int, int]:
            n = 2 ** zoom
            return (int(min(n - 1, max(0, (x + WORLD / 2) / WORLD * n))),
                    int(min(n - 1, max(0, (WORLD / 2 - y) / WORLD * n))))

        while True:
            (tx0, ty0), (tx1, ty1) = index(x0, y1, z), index(x1, y0, z)
            if (tx1 - tx0 + 1) * (ty1 - ty0 + 1) <= self.cfg.max_tiles or z == 0:
                break
            z -= 1
        deadline = time.monotonic() + self.cfg.timeout * 3
        rows = []
        try:
            for ty in range(ty0, ty1 + 1):
                row = []
                for tx in range(tx0, tx1 + 1):
                    if time.monotonic() > deadline:
                        raise TimeoutError("tiles took too long")
                    row.append(self._fetch(z, tx, ty))
                rows.append(np.concatenate(row, axis=1))
        except Exception as exc:  # any failure: no background, said why (never a failed report)
            self.note = self.broken = f"map tiles unavailable ({type(exc).__name__}: {str(exc)[:80]})"
            return None
        finally:
            self.prune()
        self.note = ""
        pixels = np.concatenate(rows, axis=0).astype(np.float32)
        pixels = (pixels * 0.6 + 255 * 0.4).astype(np.uint8)  # lightened: the dots keep their meaning
        n = 2 ** z
        size = WORLD / n
        ext = (tx0 * size - WORLD / 2, (tx1 + 1) * size - WORLD / 2,
               WORLD / 2 - (ty1 + 1) * size, WORLD / 2 - ty0 * size)
        return pixels, ext

    def prune(self) -> None:
        """Drop the least recently used tiles beyond `cache_mb` (only our own tile files)."""
        if not self.folder.is_dir():
            return
        files = []
        for dirpath, _dirs, names in os.walk(self.folder, followlinks=False):
            for name in names:
                if not name.endswith(SUFFIX):
                    continue
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                if stat.S_ISREG(st.st_mode):
                    files.append((st.st_mtime, path, st.st_size))
        total = sum(f[2] for f in files)
        limit = self.cfg.cache_mb * 1024 * 1024
        for _mtime, path, size in sorted(files):
            if total <= limit:
                break
            os.unlink(path)
            total -= size
