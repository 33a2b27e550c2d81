"""Small PNG charts (matplotlib, Agg) that give the same bytes for the same data.

No pyplot (no global figure state, safe in a scheduler thread); DejaVu Sans (shipped with
matplotlib) at fixed sizes; PNG metadata (matplotlib's Software tag) left out.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 144
INK = "#1f5f4a"
GREY = "#9aa5a1"
STYLE = {"font.family": "DejaVu Sans", "font.size": 8, "axes.linewidth": 0.6,
         "svg.hashsalt": "seo", "path.simplify": False}


@dataclass(frozen=True)
class Chart:
    name: str  # file name and Content-ID stem, e.g. "rank-03.png"
    png: bytes
    alt: str
    width: int  # CSS pixels in the email
    height: int


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, facecolor="white")
    return buf.getvalue()


def _figure(width_px: int, height_px: int) -> Figure:
    with matplotlib.rc_context(STYLE):
        return Figure(figsize=(width_px / 72, height_px / 72), dpi=DPI)


def sparkline(name: str, values: Sequence[float | None], label: str) -> Chart:
    """Rank over the last weeks, best at the top; gaps where nothing was measured."""
    width, height = 120, 32
    with matplotlib.rc_context(STYLE):
        fig = _figure(width, height)
        ax = fig.add_axes((0.03, 0.1, 0.94, 0.8))
        xs = [i for i, v in enumerate(values) if v is not None]
        ys = [v for v in values if v is not None]
        if ys:
            ax.plot(xs, ys, color=INK, linewidth=1.4)
            ax.plot(xs[-1:], ys[-1:], "o", color=INK, markersize=2.5)
            lo, hi = min(ys), max(ys)
            pad = max(1.0, (hi - lo) * 0.15)
            ax.set_ylim(hi + pad, max(0.5, lo - pad))  # inverted: position 1 at the top
        ax.set_xlim(-0.3, max(len(values) - 1, 1) + 0.3)
        ax.axis("off")
        png = _png(fig)
    shown = ", ".join("-" if v is None else f"{v:g}" for v in values)
    alt = f"{label}: weekly position over {len(values)} weeks, oldest first: {shown} (lower is better)"
    return Chart(name, png, alt, width, height)


def clicks_chart(name: str, weeks: Sequence[tuple[str, int, int]]) -> Chart:
    """Search Console clicks per week (bars) with impressions (line, right axis)."""
    width, height = 520, 170
    with matplotlib.rc_context(STYLE):
        fig = _figure(width, height)
        ax = fig.add_axes((0.08, 0.14, 0.84, 0.74))
        xs = list(range(len(weeks)))
        clicks = [c for _, c, _ in weeks]
        imps = [i for _, _, i in weeks]
        ax.bar(xs, clicks, color=[GREY] * (len(xs) - 1) + [INK], width=0.6)
        ax.set_xticks(xs, [w[-3:] for w, _, _ in weeks])
        ax.set_ylabel("clicks")
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(0, max([*clicks, 1]) * 1.15)
        ax2 = ax.twinx()
        ax2.plot(xs, imps, color="#c0692b", linewidth=1.2, marker="o", markersize=2.5)
        ax2.set_ylabel("impressions", color="#c0692b")
        ax2.set_ylim(0, max([*imps, 1]) * 1.15)
        ax2.spines[["top"]].set_visible(False)
        ax.set_title("Google search: clicks (bars) and impressions (line) per week", fontsize=8)
        png = _png(fig)
    alt = "Clicks and impressions per week: " + "; ".join(
        f"{w} {c:,} clicks, {i:,} impressions" for w, c, i in weeks)
    return Chart(name, png, alt, width, height)


def metric_bars(name: str, weeks: Sequence[tuple[str, int, bool]], label: str) -> Chart:
    """One Business Profile number per week (bars; this week dark). A week Google has not fully
    reported is drawn light and hatched: its bar is a floor, not the total."""
    width, height = 240, 110
    with matplotlib.rc_context(STYLE):
        fig = _figure(width, height)
        ax = fig.add_axes((0.1, 0.2, 0.86, 0.62))
        xs = list(range(len(weeks)))
        values = [v for _, v, _ in weeks]
        last = len(weeks) - 1
        for x, (_, v, complete) in zip(xs, weeks, strict=True):
            colour = INK if x == last else GREY
            ax.bar([x], [v], width=0.62, color=colour if complete else "white",
                   edgecolor=colour, hatch=None if complete else "////", linewidth=0.8)
        ax.set_xticks(xs, [w[-3:] for w, _, _ in weeks])
        ax.spines[["top", "right"]].set_visible(False)
        ax.set_ylim(0, max([*values, 1]) * 1.2)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.set_title(f"{label} per week", fontsize=8)
        png = _png(fig)
    alt = f"{label.capitalize()} per week: " + "; ".join(
        f"{w} {v:,}" + ("" if complete else " or more (not fully reported)")
        for w, v, complete in weeks)
    return Chart(name, png, alt, width, height)


def rating_chart(name: str, months: Sequence[tuple[str, int, float | None]]) -> Chart:
    """Reviews per month (bars) and the average rating of all reviews so far (line, 1 to 5)."""
    width, height = 520, 150
    with matplotlib.rc_context(STYLE):
        fig = _figure(width, height)
        ax = fig.add_axes((0.08, 0.16, 0.84, 0.7))
        xs = list(range(len(months)))
        counts = [c for _, c, _ in months]
        ax.bar(xs, counts, color=[GREY] * (len(xs) - 1) + [INK], width=0.6)
        ax.set_xticks(xs, [m for m, _, _ in months])
        ax.set_ylabel("new reviews")
        ax.set_ylim(0, max([*counts, 1]) * 1.25)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.spines[["top", "right"]].set_visible(False)
        ax2 = ax.twinx()
        pts = [(x, a) for x, (_, _, a) in zip(xs, months, strict=True) if a is not None]
        if pts:
            ax2.plot([x for x, _ in pts], [a for _, a in pts], color="#c0692b", linewidth=1.2,
                     marker="o", markersize=2.5)
        ax2.set_ylim(1, 5.2)
        ax2.set_ylabel("average rating", color="#c0692b")
        ax2.spines[["top"]].set_visible(False)
        ax.set_title("Reviews per month (bars) and average rating (line)", fontsize=8)
        png = _png(fig)
    alt = "Reviews per month and average rating: " + "; ".join(
        f"{m} {c} new, average {a:.2f}" if a is not None else f"{m} {c} new"
        for m, c, a in months)
    return Chart(name, png, alt, width, height)
