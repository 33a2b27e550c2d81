"""Geo-grid map-pack scans (`grid:` in config/site.yaml)."""

from __future__ import annotations

from pydantic import (
    Field,
    model_validator,
)

from ..values import (
    Name,
    OptionalName,
)
from .base import (
    Slug,
    Strict,
)


class GridTiles(Strict):
    """An optional map background for grid heatmaps, from a slippy-map tile server (off by default).

    Tiles are fetched with a timeout and this user agent, cached under build/grid/tiles (bounded),
    and the attribution is printed on every heatmap drawn over them (tile servers require it)."""

    url: str = Field(default="", pattern=r"^(https?://[^\s]*\{z\}[^\s]*)?$")  # .../{z}/{x}/{y}.png
    attribution: OptionalName = Field(default="", max_length=120)  # "© OpenStreetMap contributors"
    user_agent: OptionalName = ""  # default "seo-grid/<version> (+business.url)"
    timeout: float = Field(default=10, gt=0, le=60)  # seconds per tile
    max_tiles: int = Field(default=16, ge=1, le=64)  # per heatmap; a coarser zoom when more
    cache_mb: int = Field(default=50, ge=1, le=2000)  # oldest tiles dropped beyond this

    @model_validator(mode="after")
    def _complete(self) -> GridTiles:
        if self.url and not all(p in self.url for p in ("{z}", "{x}", "{y}")):
            raise ValueError("url: a tile URL needs {z}, {x} and {y}")
        if self.url and not self.attribution.strip():
            raise ValueError("attribution: required with a tile url (the tile server's terms)")
        return self


class GridShape(Strict):
    """A grid's shape: `size` x `size` points, `spacing_miles` apart or spread to `radius_miles`
    from the town's center; points outside the town's area (its GeoJSON `boundary`, else a circle
    of `area_radius_miles`) are dropped. Unset fields come from the grid section's defaults."""

    size: int | None = Field(default=None, ge=3, le=9)
    spacing_miles: float | None = Field(default=None, gt=0, le=10)
    radius_miles: float | None = Field(default=None, gt=0, le=40)
    area_radius_miles: float | None = Field(default=None, gt=0, le=60)  # default: the grid's reach
    zoom: int | None = Field(default=None, ge=3, le=21)  # maps zoom at each point
    keywords: list[Name] | None = Field(default=None, max_length=50)  # {town} {state} {county}

    @model_validator(mode="after")
    def _one_spread(self) -> GridShape:
        if self.spacing_miles is not None and self.radius_miles is not None:
            raise ValueError("give spacing_miles or radius_miles, not both")
        return self


class GridTown(GridShape):
    enabled: bool = True
    boundary: str = ""  # GeoJSON Polygon/MultiPolygon under config/ (default boundaries/<slug>.geojson)


class GridSettings(GridShape):
    """Geo-grid map-pack scans (`seo grid`): one maps search per point x keyword, through
    integrations.serp, counted against its monthly budget."""

    monthly_budget: int = Field(ge=0)  # grid requests a month the staff approved (within serp's)
    towns: dict[Slug, GridTown] = {}  # per-town overrides; every town has a grid unless enabled: false
    tiles: GridTiles = GridTiles()
