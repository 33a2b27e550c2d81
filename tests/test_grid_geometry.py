"""Grid geometry, the grid section of config, and the scores (no network)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest
from grid_support import set_grid

from seo.errors import NotConfigured, UserError
from seo.geo import miles_between
from seo.grid.config import NOT_FOUND, build_grids
from seo.grid.geometry import Area, destination, in_rings, miles_from, offsets
from seo.grid.scores import PointResult, Score, from_result, grid_scores
from seo.site import load_site

BOX = [[-104.83, 39.59], [-104.79, 39.59], [-104.79, 39.63], [-104.83, 39.63], [-104.83, 39.59]]


def test_points_keep_their_spacing_on_the_sphere() -> None:
    rows, cols, east, north = offsets(9, 0.5)
    lat, lng = destination(61.2, -149.9, east, north)  # Anchorage: far from the equator
    dist = miles_from(61.2, -149.9, lat, lng)
    assert np.allclose(dist, np.hypot(east, north), atol=1e-9)  # exact distance from the center
    assert rows[0] == 0 and cols[0] == 0 and lat[0] > 61.2 and lng[0] < -149.9  # row 0: northwest
    # neighbors along a row and a column are half a mile apart (to a hundredth of a percent)
    for i, j in [(40, 41), (40, 49), (0, 1), (0, 9)]:
        assert miles_between(lat[i], lng[i], lat[j], lng[j]) == pytest.approx(0.5, rel=1e-4)
    # across the antimeridian, longitudes wrap
    _, lng2 = destination(0.0, 179.99, np.array([2.0]), np.array([0.0]))
    assert -180 <= lng2[0] < -179.9


def test_polygons_with_holes_and_parts() -> None:
    outer = np.array([[0, 0], [4, 0], [4, 4], [0, 4], [0, 0]], dtype=float)
    hole = np.array([[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]], dtype=float)
    far = np.array([[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]], dtype=float)
    lat = np.array([0.5, 2.0, 3.5, 10.5, 5.0])
    lng = np.array([0.5, 2.0, 3.5, 10.5, 5.0])
    assert in_rings(lat, lng, [outer, hole, far]).tolist() == [True, False, True, True, False]


def test_circle_area_drops_the_corners() -> None:
    area = Area(39.5, -104.8, 1.5)
    *_, east, north = offsets(7, 0.5)
    lat, lng = destination(39.5, -104.8, east, north)
    kept = area.contains(lat, lng)
    assert kept.sum() == 29  # of 49: the points within 3 steps of the center
    assert not kept[0] and kept[24]


def test_grid_config_defaults_overrides_keywords_and_areas(mini: Path) -> None:
    with pytest.raises(NotConfigured, match="monthly_budget"):
        build_grids(load_site(mini))
    (mini / "config/boundaries").mkdir()
    (mini / "config/boundaries/alpha.geojson").write_text(json.dumps(
        {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [BOX]}}]}))
    set_grid(mini, {"monthly_budget": 100, "towns": {
        "beta-springs": {"size": 3, "radius_miles": 2, "zoom": 15,
                         "keywords": ["acupuncture near me", "acupuncture {town} {state}"]}}})
    alpha, beta = build_grids(load_site(mini))
    assert (alpha.size, alpha.spacing_miles, alpha.zoom) == (7, 0.5, 13)  # defaults
    assert alpha.area.is_boundary and alpha.area.source == "config/boundaries/alpha.geojson"
    assert 0 < len(alpha.points) < 49  # only the points inside the box
    assert all(-104.83 <= p.lng <= -104.79 and 39.59 <= p.lat <= 39.63 for p in alpha.points)
    assert alpha.keywords == ("acupuncture for knee pain alpha co", "acupuncture for wrist pain alpha co",
                              "knee pain acupuncture alpha", "wrist pain acupuncture alpha")
    assert (beta.size, beta.spacing_miles, beta.zoom) == (3, 2.0, 15)
    assert beta.area.radius_miles == 2 and len(beta.points) == 5  # a circle: the corners go
    assert beta.keywords == ("acupuncture near me", "acupuncture beta springs co")
    assert beta.requests == 10 and alpha.key != beta.key
    # the key follows the geometry, not the keywords
    set_grid(mini, {"monthly_budget": 100, "towns": {"beta-springs": {"size": 3, "radius_miles": 2,
                                                                        "zoom": 15}}})
    assert build_grids(load_site(mini))[1].key == beta.key
    only = build_grids(load_site(mini), towns=["beta-springs"], keywords=["KNEE"])
    assert [(g.town, g.keywords) for g in only] == [
        ("beta-springs", ("acupuncture for knee pain beta springs co", "knee pain acupuncture beta springs"))]


@pytest.mark.parametrize("grid, message", [
    ({"monthly_budget": 1, "towns": {"gamma": {"size": 3}}}, "grid.towns.gamma: unknown town 'gamma'"),
    ({"monthly_budget": 1, "spacing_miles": 1, "radius_miles": 2}, "give spacing_miles or radius_miles"),
    ({"monthly_budget": 1, "size": 11}, "grid.size"),
    ({"size": 5}, "grid.monthly_budget: required field is missing"),
    ({"monthly_budget": 1, "keywords": ["{condition} acupuncture"]}, "unknown placeholder {condition}"),
    ({"monthly_budget": 1, "towns": {"alpha": {"boundary": "../outside.geojson"}}},
     "must be a file under config/"),
    ({"monthly_budget": 1, "towns": {"alpha": {"boundary": "config/none.geojson"}}}, "not found"),
    ({"monthly_budget": 1, "tiles": {"url": "https://tiles.test/{z}/{x}/{y}.png"}}, "attribution: required"),
    ({"monthly_budget": 1, "tiles": {"url": "ftp://tiles.test/{z}/{x}/{y}.png", "attribution": "x"}},
     "grid.tiles.url"),
])
def test_bad_grid_config_is_one_line(mini: Path, grid: dict, message: str) -> None:
    set_grid(mini, grid)
    with pytest.raises(UserError) as err:
        build_grids(load_site(mini))
    assert message in str(err.value) and "\n" not in str(err.value)
    assert str(err.value).startswith("config/site.yaml")


@pytest.mark.parametrize("content, message", [
    ("{not json", "config/boundaries/alpha.geojson: not valid JSON"),
    ('{"type": "Point", "coordinates": [1, 2]}', "type: expected a Polygon or MultiPolygon"),
    ('{"type": "Polygon", "coordinates": [[[1, 2], [3, 4]]]}', "coordinates[0]: a ring needs at least 4"),
    ('{"type": "Polygon", "coordinates": [[[1, 2], [3, 4], [5, "x"], [1, 2]]]}', "[longitude, latitude]"),
    # latitude and longitude swapped: no point of the grid falls inside
    (json.dumps({"type": "Polygon", "coordinates": [[[b, a] for a, b in BOX]]}), "swapped"),
    # a boundary somewhere else: no point of the grid falls inside it
    (json.dumps({"type": "MultiPolygon", "coordinates": [[[[a + 1, b] for a, b in BOX]]]}),
     "no point of Alpha's grid falls inside config/boundaries/alpha.geojson"),
])
def test_bad_boundary_files_are_one_line(mini: Path, content: str, message: str) -> None:
    (mini / "config/boundaries").mkdir()
    (mini / "config/boundaries/alpha.geojson").write_text(content)
    set_grid(mini, {"monthly_budget": 1})
    with pytest.raises(UserError) as err:
        build_grids(load_site(mini), towns=["alpha"])
    assert message in str(err.value) and "\n" not in str(err.value)


def test_seo_check_finds_a_bad_grid_section(mini: Path) -> None:
    from conftest import run_seo
    set_grid(mini, {"monthly_budget": 10, "towns": {"parkr": {"size": 5}}})
    proc = run_seo("check", "--root", str(mini))
    assert proc.returncode == 2 and "grid.towns.parkr: unknown town 'parkr'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_boundary_linked_from_outside_the_project_is_refused(mini: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.geojson"
    outside.write_text(json.dumps({"type": "Polygon", "coordinates": [BOX]}))
    (mini / "config/boundaries").mkdir()
    (mini / "config/boundaries/alpha.geojson").symlink_to(outside)
    set_grid(mini, {"monthly_budget": 1})
    with pytest.raises(UserError, match="links out of it are refused"):
        build_grids(load_site(mini))


def test_a_boundary_that_is_a_fifo_is_refused_without_blocking(mini: Path) -> None:
    (mini / "config/boundaries").mkdir()
    os.mkfifo(mini / "config/boundaries/alpha.geojson")
    set_grid(mini, {"monthly_budget": 1})
    with pytest.raises(UserError, match=r"config/boundaries/alpha\.geojson: .*FIFO"):
        build_grids(load_site(mini))


def test_disabled_towns_have_no_grid(mini: Path) -> None:
    set_grid(mini, {"monthly_budget": 1, "towns": {"alpha": {"enabled": False}}})
    assert [g.town for g in build_grids(load_site(mini))] == ["beta-springs"]
    with pytest.raises(UserError, match="enabled is false"):
        build_grids(load_site(mini), towns=["alpha"])


def test_scores_count_not_found_as_21_and_leave_unmeasured_points_out() -> None:
    def point(rank: int | None, measured: bool = True, others: tuple = ()) -> PointResult:
        return PointResult(0, 0, 0.0, 0.0, measured, rank, "" if measured else "timed out",
                           [{"key": k, "name": k, "domain": "", "rank": r, "competitor": False}
                            for k, r in others])
    points = [point(1, others=(("rival", 2),)), point(3, others=(("rival", 1),)),
              point(8, others=(("rival", 4),)), point(None, others=(("rival", 1),)),
              point(None, measured=False)]
    us, rival = grid_scores(points, 5, "Clinic")
    assert (us.business, us.points, us.measured, us.found, us.top3) == ("", 5, 4, 3, 2)
    assert us.arp == pytest.approx(4.0)  # (1 + 3 + 8) / 3
    assert us.atrp == pytest.approx((1 + 3 + 8 + NOT_FOUND) / 4)
    assert us.solv == pytest.approx(0.5)
    assert (rival.name, rival.found, rival.top3, rival.solv) == ("rival", 4, 3, 0.75)
    assert rival.atrp == pytest.approx(2.0)
    nothing = Score.of("", "Clinic", False, [], 5)
    assert (nothing.arp, nothing.atrp, nothing.solv) == (None, None, None)
    assert not math.isnan(us.atrp)


def test_a_maps_answer_as_a_point() -> None:
    rec = {"position": 4, "reason": "", "competitors": [
        {"position": 1, "domain": "rival.test", "title": "Rival", "place_id": "P1", "competitor": True},
        {"position": 2, "domain": "b.test", "title": "B"},
        {"position": 3, "domain": "rival.test", "title": "Rival", "place_id": "P1"},  # twice: best kept
        {"position": 25, "domain": "deep.test", "title": "Deep"},  # beyond the depth: dropped
        {"position": "x", "domain": "bad.test"}]}
    p = from_result(1, 2, 39.0, -104.0, rec)
    assert p.rank == 4 and [b["rank"] for b in p.businesses] == [1, 2]
    assert p.businesses[0]["key"] == "p:P1" and p.businesses[0]["competitor"]
    assert p.businesses[1]["key"] == "n:b|b.test"
    assert [b["name"] for b in p.top3("Clinic")] == ["Rival", "B"]
    assert from_result(0, 0, 0, 0, {"position": None, "reason": "not in the top 20"}).rank is None
    hostile = from_result(0, 0, 0, 0, {"position": None, "competitors": [
        {"position": 1, "title": "Rival\x1b]8;;http://evil\x07\u202eCo", "domain": "r.test"}]})
    assert hostile.businesses[0]["name"] == "Rival ]8;;http://evil  Co"  # no escape reaches a terminal
