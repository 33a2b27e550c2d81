"""Helpers for the grid tests: the mini project with a grid section and a geo-aware SERP server."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from rankings_support import configure
from servers.geo_serp import GeoSerpServer

SECRETS = {"SEO_DATAFORSEO_LOGIN": "grid-login-5c1", "SEO_DATAFORSEO_PASSWORD": "grid-pw-secret-77",
           "SEO_SERPAPI_KEY": "grid-serpapi-secret-31"}
CLINIC = (39.60, -104.80)  # the mini fixture's location


def geo_server(**kw: Any) -> GeoSerpServer:
    """The mini clinic ranks 1 next to its door and is not listed 1.6 miles away; six rivals."""
    srv = GeoSerpServer(clinic=CLINIC, reach=kw.pop("reach", 1.6), domain="clinic.test",
                        name="Example Acupuncture", login=SECRETS["SEO_DATAFORSEO_LOGIN"],
                        password=SECRETS["SEO_DATAFORSEO_PASSWORD"],
                        api_key=SECRETS["SEO_SERPAPI_KEY"], **kw)
    srv.add_business("Rival Acupuncture", "rival.test", 39.63, -104.83, prominence=0.2)
    srv.add_business("City Wellness", "city-wellness.test", 39.59, -104.78)
    srv.add_business("Needle Works", "needle.test", 39.70, -104.95, prominence=0.5)
    srv.add_business("Calm Acupuncture", "calm.test", 39.612, -104.79, reach=1.5)
    srv.add_business("North Acupuncture", "north-acu.test", 39.626, -104.826, reach=2.5)
    srv.add_business("Peak Wellness", "peak.test", 39.622, -104.818, reach=2.5)
    return srv


def set_grid(root: Path, grid: dict[str, Any] | None) -> None:
    path = root / "config/site.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if grid is None:
        data.pop("grid", None)
    else:
        data["grid"] = grid
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def setup_grid(root: Path, server: GeoSerpServer, grid: dict[str, Any] | None = None,
               **serp: Any) -> None:
    configure(root, serp={"provider": "dataforseo", "base_url": server.url, "concurrency": 4,
                          "retries": 1, "backoff": 0.05, "timeout": 5, "monthly_budget": 1000,
                          **serp})
    set_grid(root, {"monthly_budget": 500, "size": 5, "spacing_miles": 0.6, **(grid or {})})


def seed_grid_weeks(root: Path, last: date, weeks: int = 10, surge: float = 1.0) -> GeoSerpServer:
    """Weekly scans (Mondays up to `last`) written with the grid stage's own store functions, from
    the geo server's model (no HTTP): ranks wobble a little week to week, and in the last week
    the clinic slips and Peak Wellness surges (`surge` miles of prominence)."""
    from seo.api import Project
    from seo.grid.config import build_grids
    from seo.grid.scores import from_result
    from seo.grid.store import rescore, save_points

    set_grid(root, {"monthly_budget": 500, "size": 5, "spacing_miles": 0.6})
    configure(root, serp={"provider": "dataforseo", "monthly_budget": 1000})
    project = Project.open(root)
    srv = geo_server()
    name = project.site.config.business.name
    for w in range(weeks):
        day = last - timedelta(weeks=weeks - 1 - w)
        srv.clinic = replace(srv.clinic, prominence=0.05 * (w % 3))  # week-to-week wobble
        if w == weeks - 1:  # the clinic slips, Peak Wellness surges
            srv.clinic = replace(srv.clinic, prominence=-0.4)
            srv.businesses = [b if b.name != "Peak Wellness" else
                              replace(b, prominence=b.prominence + surge) for b in srv.businesses]
        for grid in build_grids(project.site):
            for kw in grid.keywords:
                points = []
                for p in grid.points:
                    listing = srv.geo_listing(kw, p.lat, p.lng, 20)
                    ours = next((e["position"] for e in listing if e["place_id"] == "place-clinic"), None)
                    rec = {"position": ours, "competitors": [
                        {**e, "title": e["title"]} for e in listing if e["place_id"] != "place-clinic"]}
                    points.append(from_result(p.row, p.col, p.lat, p.lng, rec))
                save_points(project.store, day=day, source="dataforseo", town=grid.town, keyword=kw,
                            grid=grid.key, points=points, our_name=name, run_id=None)
                rescore(project.store, day=day, source="dataforseo", town=grid.town, keyword=kw,
                        grid=grid.key, total=len(grid.points), our_name=name, run_id=None)
    return srv
