"""Heatmap PNGs of a grid (matplotlib, Agg), readable at a glance and by people with color-blindness.

Each point is a circle filled by rank band from one sequential palette (ColorBrewer YlGnBu: it
varies in lightness, so the bands stay apart in gray and for every common color-vision type),
with the rank written inside, so the number carries the meaning and the color only speeds
reading. The map-pack places (1-3) share the darkest fill. Points not measured are hollow with a
"?"; the clinic is an orange star (blue and orange stay distinct for color-blind readers); the
town's area is outlined (solid: its boundary; dashed: the circle used instead).

The map is drawn in Web Mercator meters, so an optional tile background lines up exactly. The
same data give the same bytes (fixed fonts and sizes, no PNG timestamp).
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import EllipseCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import Affine2D

from ..geo import miles_between
from ..report.charts import DPI, STYLE
from .geometry import Area

R_MERCATOR = 6378137.0
METERS_PER_MILE = 1609.344
TOP3 = "#0c2c84"
MID = "#41b6c4"  # 4-10
LOW = "#c7e9b4"  # 11-20
NONE = "#ffffd9"  # not in the top 20
CLINIC = "#e66101"
EDGE = "#253238"
BANDS = ((3, TOP3, "#ffffff"), (10, MID, "#0b1f2a"), (20, LOW, "#0b1f2a"))
SNAP = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)]
                 for c in ("#ffffff", TOP3, MID, LOW, NONE, CLINIC, EDGE, "#0b1f2a")], dtype=np.int16)
BOLD = FontProperties(family="DejaVu Sans", weight="bold")
WIDTH, HEIGHT = 360, 486  # CSS pixels; the PNG has twice as many (DPI 144)
MAP_TOP, MAP_SIZE = 52, 344  # the map's square, CSS pixels from the top


def mercator(lat: np.ndarray | float, lng: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    lat_r = np.radians(np.clip(lat, -85.05, 85.05))
    return R_MERCATOR * np.radians(lng), R_MERCATOR * np.log(np.tan(np.pi / 4 + lat_r / 2))


def fill_for(rank: int | None, measured: bool) -> tuple[str, str, str]:
    """(fill, text color, label) of a point."""
    if not measured:
        return "#ffffff", "#5f6b6f", "?"
    if rank is None:
        return NONE, "#0b1f2a", "20+"
    for limit, fill, ink in BANDS:
        if rank <= limit:
            return fill, ink, str(rank)
    return NONE, "#0b1f2a", "20+"


@dataclass(frozen=True)
class Dot:
    lat: float
    lng: float
    measured: bool
    rank: int | None = None  # rank maps: our rank (None: not in the top 20)
    label: str = ""  # share maps: the text inside (e.g. "7"); empty: the rank's
    share: float | None = None  # share maps: 0..1 of keywords in the top 3 here
    changed: bool = False  # entered or left the top 3 since the map compared with (ringed)


@dataclass(frozen=True)
class Heatmap:
    png: bytes
    alt: str
    width: int
    height: int
    pixels: tuple[tuple[float, float], ...] = field(default=(), compare=False)  # each dot's center
    clinic_pixel: tuple[float, float] = field(default=(0.0, 0.0), compare=False)
    radius_px: float = 0.0
    attribution: str = ""
    map_box: tuple[float, float, float, float] = field(default=(0.0, 0.0, 0.0, 0.0), compare=False)


def _share_fill(share: float) -> tuple[str, str]:
    if share >= 2 / 3:
        return TOP3, "#ffffff"
    if share >= 1 / 3:
        return MID, "#0b1f2a"
    if share > 0:
        return LOW, "#0b1f2a"
    return NONE, "#0b1f2a"


def render(dots: Sequence[Dot], *, spacing_miles: float, center: tuple[float, float],
           clinic: tuple[float, float], area: Area | None, title: str, subtitle: str, alt: str,
           share_of: int = 0, background: object = None) -> Heatmap:
    """One heatmap. `share_of` > 0 draws a share map (dots carry `share` and `label`: how many of
    `share_of` keywords are in the top 3 there); `background` is a `TileSource` or None."""
    lat0 = center[0]
    xs, ys = mercator(np.array([d.lat for d in dots]), np.array([d.lng for d in dots]))
    step = spacing_miles * METERS_PER_MILE / math.cos(math.radians(lat0))  # mercator meters
    half = step * 0.62
    x0, x1 = float(xs.min()) - half, float(xs.max()) + half
    y0, y1 = float(ys.min()) - half, float(ys.max()) + half
    span = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0, x1, y0, y1 = cx - span / 2, cx + span / 2, cy - span / 2, cy + span / 2
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH / 72, HEIGHT / 72), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)
        map_w, map_h = MAP_SIZE / WIDTH, MAP_SIZE / HEIGHT
        ax = fig.add_axes((8 / WIDTH, 1 - (MAP_TOP + MAP_SIZE) / HEIGHT, map_w, map_h))
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for side in ax.spines.values():
            side.set_color("#c5cfcc")
        attribution = ""
        if background is not None:
            tiles = background.image((x0, x1, y0, y1), int(map_w * WIDTH * 2))  # type: ignore[attr-defined]
            if tiles is not None:
                pixels, extent = tiles
                ax.imshow(pixels, extent=extent, interpolation="bilinear", zorder=0)
                ax.set_xlim(x0, x1)
                ax.set_ylim(y0, y1)
                attribution = background.attribution  # type: ignore[attr-defined]
        if area is not None:
            for lat, lng in area.outlines():
                ox, oy = mercator(lat, lng)
                ax.plot(ox, oy, color=EDGE, linewidth=1.1, zorder=2,
                        linestyle="-" if area.is_boundary else (0, (4, 3)))
        radius = step * 0.42
        diameter_css = 2 * radius / span * map_w * WIDTH
        size = max(4.5, min(13.0, diameter_css * 0.36))
        fills, inks, labels = [], [], []
        for d in dots:
            if share_of:
                fill, ink = _share_fill(d.share or 0.0) if d.measured else ("#ffffff", "#5f6b6f")
                text = d.label if d.measured else "?"
            else:
                fill, ink, text = fill_for(d.rank, d.measured)
            fills.append(fill)
            inks.append(ink)
            labels.append(_label(text, round(size * (0.85 if len(text) > 2 else 1.0), 2)))
        # one collection each for the dots, the rings and the numbers: a patch and a text artist
        # per point made most of a map's drawing time
        offsets = np.column_stack([xs, ys])
        ax.add_collection(EllipseCollection(
            2 * radius, 2 * radius, 0.0, units="xy", offsets=offsets, offset_transform=ax.transData,
            facecolors=fills, edgecolors=[EDGE if d.measured else "#8a9598" for d in dots],
            linewidths=0.8, linestyles=["-" if d.measured else (0, (2, 2)) for d in dots], zorder=3))
        ringed = [i for i, d in enumerate(dots) if d.changed]
        if ringed:
            ax.add_collection(EllipseCollection(
                2.28 * radius, 2.28 * radius, 0.0, units="xy", offsets=offsets[ringed],
                offset_transform=ax.transData, facecolors="none", edgecolors=CLINIC, linewidths=2.2,
                zorder=3))
        ax.add_collection(PathCollection(
            labels, facecolors=inks, edgecolors="none", offsets=offsets, offset_transform=ax.transData,
            transform=Affine2D().scale(DPI / 72), zorder=4))
        mx, my = (float(v) for v in mercator(clinic[0], clinic[1]))
        star = {"marker": "*", "color": CLINIC, "markeredgecolor": "#3a1a00", "markeredgewidth": 0.8,
                "zorder": 3.5}  # under the numbers: a rank stays readable
        if not (x0 <= mx <= x1 and y0 <= my <= y1):  # off the map: a star on the edge toward it
            away = miles_between(center[0], center[1], clinic[0], clinic[1])
            scale = (span / 2) / max(abs(mx - cx), abs(my - cy)) * 0.93
            mx, my = cx + (mx - cx) * scale, cy + (my - cy) * scale
            ax.annotate(f"clinic {away:.1f} mi", (mx, my),  # beside the star, on a white card
                        xytext=(-9 if mx > cx else 9, 0), textcoords="offset points",
                        ha="right" if mx > cx else "left", va="center", fontsize=8.5,
                        color="#3a1a00", zorder=6, bbox={"facecolor": "white", "alpha": 0.9,
                                                         "edgecolor": "none", "pad": 1.2})
        ax.plot([mx], [my], markersize=max(9.0, size * 1.5), **star)
        px, py = ax.transData.transform((mx, my))
        clinic_pixel = (float(px), fig.bbox.height - float(py))
        ax.annotate("N", (0.965, 0.93), xytext=(0.965, 0.985), xycoords="axes fraction",
                    ha="center", va="center", fontsize=8, color=EDGE, zorder=6,
                    arrowprops={"arrowstyle": "<-", "color": EDGE, "linewidth": 0.8})
        if attribution:
            ax.text(0.99, 0.01, attribution, transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=7, color="#1d2624", zorder=6,
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5})
        fig.text(8 / WIDTH, 1 - 6 / HEIGHT, title, ha="left", va="top", fontsize=12,
                 fontweight="bold", color="#1d2624")
        fig.text(8 / WIDTH, 1 - 28 / HEIGHT, subtitle, ha="left", va="top", fontsize=9.5,
                 color="#3d4a46")
        kind = None if area is None else area.is_boundary
        fig.figimage(_legend_pixels(share_of, kind, any(d.changed for d in dots)), 0, 0, zorder=-1)
        centers = tuple((float(px), fig.bbox.height - float(py))
                        for px, py in ax.transData.transform(np.column_stack([xs, ys])))
        radius_px = float(ax.transData.transform((x0 + radius, y0))[0] - ax.transData.transform((x0, y0))[0])
        png = _png(fig)
    scale = DPI / 72
    box = (8 * scale, MAP_TOP * scale, (8 + MAP_SIZE) * scale, (MAP_TOP + MAP_SIZE) * scale)
    return Heatmap(png, alt, WIDTH, HEIGHT, centers, clinic_pixel, radius_px, attribution, box)


@functools.lru_cache(maxsize=512)
def _label(text: str, size: float) -> Path:
    """A point's number as an outline in points, centered on its ink: drawn as a path, not laid
    out and rasterized as text for every point."""
    glyphs = TextPath((0, 0), text, size=size, prop=BOLD)
    box = glyphs.get_extents()
    return Path(glyphs.vertices - [(box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2], glyphs.codes)


def _png(fig: Figure) -> bytes:
    """The figure as an indexed-color PNG: flat fills and their anti-aliased edges fit in 256
    colors, a fraction of the bytes (and of the time) of RGBA; no timestamp or software tag."""
    from PIL import Image

    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())  # type: ignore[attr-defined]
    img = Image.fromarray(rgba[:, :, :3].copy(), "RGB")
    indexed = img.quantize(256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    palette = np.array(indexed.getpalette() or [], dtype=np.int16).reshape(-1, 3)
    for exact in SNAP:  # the quantizer's near-misses of our own flat colors made exact again
        near = np.abs(palette - exact).max(axis=1) <= 6
        palette[near] = exact
    indexed.putpalette(palette.astype(np.uint8).flatten().tolist())
    buf = io.BytesIO()
    indexed.save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


LEGEND_HEIGHT = HEIGHT - MAP_TOP - MAP_SIZE  # CSS pixels under the map


@functools.lru_cache(maxsize=64)
def _legend_pixels(share_of: int, boundary: bool | None, changed: bool) -> np.ndarray:
    """The legend band under the map, drawn once per kind of map and pasted into each (it was
    half of a map's drawing time): RGBA pixels at the heatmap's own resolution."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(WIDTH / 72, LEGEND_HEIGHT / 72), dpi=DPI, facecolor="white")
        FigureCanvasAgg(fig)
        fig.legend(handles=_legend(share_of, boundary, changed), loc="lower center", ncol=2,
                   frameon=False, fontsize=9, handlelength=1.3, columnspacing=1.2,
                   borderaxespad=0.2)
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba()).copy()  # type: ignore[attr-defined]
    pixels.setflags(write=False)
    return pixels


def _legend(share_of: int, boundary: bool | None, changed: bool) -> list[object]:
    def swatch(fill: str, label: str, dashed: bool = False) -> Patch:
        return Patch(facecolor=fill, edgecolor="#8a9598" if dashed else EDGE, linewidth=0.8,
                     linestyle=(0, (2, 2)) if dashed else "-", label=label)
    if share_of:
        items: list[object] = [swatch(TOP3, "top 3 for most keywords"),
                               swatch(MID, "for a third or more"), swatch(LOW, "for under a third"),
                               swatch(NONE, "for none")]
    else:
        items = [swatch(TOP3, "1-3 (map pack)"), swatch(MID, "4-10"), swatch(LOW, "11-20"),
                 swatch(NONE, "20+ not in top 20")]
    items.append(swatch("#ffffff", "? not measured", dashed=True))
    items.append(Line2D([], [], marker="*", color=CLINIC, markeredgecolor="#3a1a00",
                        linestyle="none", markersize=8, label="the clinic"))
    if changed:
        items.append(Line2D([], [], marker="o", markerfacecolor="none", markeredgecolor=CLINIC,
                            markeredgewidth=2, linestyle="none", markersize=8,
                            label="entered or left the top 3"))
    if boundary is not None:
        items.append(Line2D([], [], color=EDGE, linewidth=1.1,
                            linestyle="-" if boundary else (0, (4, 3)),
                            label="town boundary" if boundary else "town area (circle)"))
    return items
