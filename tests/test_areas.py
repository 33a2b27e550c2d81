"""Areas we serve at scale: page weight independent of the number of towns, every page within
three clicks of the home page and in the sitemap."""

from __future__ import annotations

import collections
import re
import sys
from datetime import date
from pathlib import Path

import yaml
from conftest import REPO

from seo import api
from seo.pages import areas
from seo.pages.plan import plan_site
from seo.site import load_site

sys.path.insert(0, str(REPO / "bench"))
from agency import generate

HREF = re.compile(r'<a\s[^>]*href="(/[^"#?]*)"')


def crawl(site: Path) -> tuple[dict[str, Path], dict[str, int]]:
    """Every built page by URL path, and each one's click depth from the home page."""
    pages = {}
    for path in site.rglob("index.html"):
        rel = path.relative_to(site).parent.as_posix()
        pages["/" if rel == "." else f"/{rel}/"] = path
    depth, queue = {"/": 0}, collections.deque(["/"])
    while queue:
        url = queue.popleft()
        for href in HREF.findall(pages[url].read_text()):
            if href in pages and href not in depth:
                depth[href] = depth[url] + 1
                queue.append(href)
    return pages, depth


def test_large_site_splits_areas_by_county_within_three_clicks(tmp_path: Path, monkeypatch) -> None:
    # 60 towns over 3 counties, 3 conditions; pages of 6 towns (24 links) stand in for 240
    root = generate(tmp_path / "agency", towns=60, conditions=3)
    monkeypatch.setattr(areas, "AREA_LINKS_MAX", 24)
    monkeypatch.setattr(areas, "HOME_TOWNS", 5)
    site = load_site(root)
    split = areas.split_areas(site)
    assert all(a.by == "county" and 1 <= len(a.towns) <= 6 for a in split)
    assert sorted(t.slug for a in split for t in a.towns) == sorted(t.slug for t in site.towns)
    assert len({a.slug for a in split}) == len(split)
    assert any(a.parts > 1 for a in split)  # a county of more than 6 towns is split into parts
    api.build(api.Project.open(root), today=date(2026, 11, 1))
    out = root / "build/site"
    pages, depth = crawl(out)
    assert len(pages) == len(plan_site(site)) == 1 + 1 + len(split) + 1 + 3 + 60 * 4
    assert set(depth) == set(pages) and max(depth.values()) == 3
    sitemap = (out / "sitemap.xml").read_text()
    assert all(f"{site.config.business.url.rstrip('/')}{url}</loc>" in sitemap for url in pages)
    links = {url: len(HREF.findall(path.read_text())) for url, path in pages.items()}
    home = pages["/"].read_text()
    listed = [t for t in site.towns if f'href="/{t.slug}/"' in home]
    nearest = sorted(site.towns, key=lambda t: (not t.is_home, t.drive_minutes, t.name, t.slug))[:5]
    assert listed == sorted(nearest, key=site.towns.index) and "All 60 towns we serve" in home
    index = pages["/areas-we-serve/"].read_text()
    assert all(f'href="/areas-we-serve/{a.slug}/"' in index for a in split)
    assert not any(f'href="/{t.slug}/"' in index for t in site.towns)
    part = next(a for a in split if a.parts > 1 and a.part == 2)
    html = pages[f"/areas-we-serve/{part.slug}/"].read_text()
    assert f"part 2 of {part.parts}" in html and "noindex" not in html
    for town in part.towns:  # each town and each of its condition pages, from its area page
        assert f'href="/{town.slug}/"' in html
        assert all(f'href="/{town.slug}/{c.slug}/"' in html for c in site.conditions)
        crumb = pages[f"/{town.slug}/"].read_text()
        assert f'href="/areas-we-serve/{part.slug}/">{part.region}</a>' in crumb
    assert max(links.values()) <= 24 + 40  # the listing, plus the menu, footer and crumbs


def test_small_site_keeps_one_areas_page(clinic: Path) -> None:
    site = load_site(clinic)
    assert areas.split_areas(site) == [] and areas.home_towns(site) == site.towns


def test_too_many_counties_group_by_state(tmp_path: Path, monkeypatch) -> None:
    root = generate(tmp_path / "agency", towns=40, conditions=3)
    data = yaml.safe_load((root / "config/towns.yaml").read_text())
    for i, town in enumerate(data["towns"]):  # every town its own county, two states
        town["county"], town["state"] = f"County {i}", "CO" if i % 2 else "WY"
    (root / "config/towns.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setattr(areas, "AREA_LINKS_MAX", 20)  # 5 towns a page
    monkeypatch.setattr(areas, "INDEX_MAX", 20)  # 40 county pages would be too many to list
    split = areas.split_areas(load_site(root))
    assert [(a.slug, a.by, len(a.towns)) for a in split] == [
        ("co", "state", 5), ("co/2", "state", 5), ("co/3", "state", 5), ("co/4", "state", 5),
        ("wy", "state", 5), ("wy/2", "state", 5), ("wy/3", "state", 5), ("wy/4", "state", 5)]
    assert split[1].name == f"CO: {split[1].towns[0].name} to {split[1].towns[-1].name}"


def test_counties_that_spell_alike_get_their_own_pages(tmp_path: Path, monkeypatch) -> None:
    root = generate(tmp_path / "agency", towns=20, conditions=3)
    data = yaml.safe_load((root / "config/towns.yaml").read_text())
    for i, town in enumerate(data["towns"]):
        town["county"], town["state"] = ("St. Marys County" if i % 2 else "St Marys County"), "CO"
    (root / "config/towns.yaml").write_text(yaml.safe_dump(data))
    monkeypatch.setattr(areas, "AREA_LINKS_MAX", 20)  # 5 towns a page
    split = areas.split_areas(load_site(root))
    assert [a.slug for a in split] == [
        "st-marys-county-co", "st-marys-county-co/2", "st-marys-county-co-2",
        "st-marys-county-co-2/2"]
    assert [a.region for a in split] == ["St Marys County, CO"] * 2 + ["St. Marys County, CO"] * 2
