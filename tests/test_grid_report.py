"""The weekly report's map-pack section: for each town where the clinic is in the top 3 and where
not, how that changed (against the noise band), who beats it there, the maps that changed most,
the competitor who gained most, at the cost approved; in the HTML, the text part and Chromium."""

from __future__ import annotations

import io
import shutil
from datetime import date

import pytest
from conftest import require_tool
from grid_support import seed_grid_weeks, set_grid
from PIL import Image
from report_support import serve_report
from webdriver import Chrome

from seo.api import Project
from seo.grid.history import noise_band
from seo.report import build_report
from seo.report.mail import compose
from seo.settings import EmailSettings

MONDAY = date(2026, 11, 16)  # in 2026-W47


@pytest.fixture
def seeded(mini):
    seed_grid_weeks(mini, MONDAY)
    return mini


def section(text: str) -> str:
    start = text.index("MAP PACK ACROSS EACH TOWN")
    return text[start:text.index("GOOGLE SEARCH (SEARCH CONSOLE)")]


@pytest.mark.stores
def test_the_monday_mail_shows_each_town_its_change_and_who_beats_the_clinic(seeded):
    report = build_report(Project.open(seeded), "2026-W47")
    g = report.facts.grid
    assert g.configured and [t.name for t in g.towns] == ["Alpha", "Beta Springs"]
    alpha, beta = g.towns
    # where on the map: the clinic's side of town in the top 3, the north not
    assert alpha.where == "in the top 3 except in the north, northeast, west and northwest"
    assert (alpha.top3, alpha.measured, alpha.keywords) == (27, 52, 4)
    assert alpha.series.now_text == "52%" and alpha.series.status == "down"
    assert alpha.series.change_text == "-13 percentage points on the week before (beyond its usual ±4)"
    assert alpha.beaten_by[0] == ("Peak Wellness", 25)
    assert beta.where == "not in the top 3 anywhere on the grid" and beta.series.status == "steady"
    # the maps that changed most: beyond their band, biggest first, with the points that flipped
    assert [(c.keyword, c.series.status) for c in g.changes][:1] == [
        ("acupuncture for knee pain alpha co", "down")]
    first = g.changes[0]
    assert (first.gained, first.lost) == (0, 2) and first.before is not None
    assert first.before_day == date(2026, 11, 9) and first.now_day == MONDAY
    # the competitor who gained most, beyond its own band
    assert (g.gainer.name, g.gainer.town, g.gainer.beyond_noise) == ("Peak Wellness", "Alpha", True)
    text = section(report.text)
    assert "- Alpha: SoLV 52%, -13 percentage points on the week before (beyond its usual ±4)" in text
    assert "Where: in the top 3 except in the north, northeast, west and northwest." in text
    assert "the map pack shows Peak Wellness (25)" in text
    assert '- Alpha, "acupuncture for knee pain alpha co": SoLV 46%, -15 percentage points' in text
    assert "- Peak Wellness in Alpha: SoLV 100%, +15 percentage points on the week before" in text
    assert "Trend (SoLV, oldest first): 65%, 65%, 65%, 65%, 65%, 65%, 65%, 52%" in text
    assert "Grid scans this month: 0 of 500 approved requests." in text
    assert report.facts.actions[0].startswith(
        "Look at Alpha's map pack: the clinic's share fell from 65% to 52% of the grid")
    html = report.html
    assert "Alpha: SoLV 52%" in html and "Maps that changed most" in html
    assert "Competitor who gained most" in html and "Peak Wellness" in html
    # every map is in the email, each with alt text saying what it shows
    names = {c.name for c in report.charts}
    assert {"grid-town-01.png", "grid-town-02.png", "grid-trend-01.png", "grid-change-01-now.png",
            "grid-change-01-before.png"} <= names
    town_map = next(c for c in report.charts if c.name == "grid-town-01.png")
    assert town_map.alt.startswith("Map of Alpha, Nov 16, 2026: at each grid point")
    assert f'alt="{town_map.alt}"' in html
    msg = compose(report, EmailSettings(), "seo@clinic.test", "Example Acupuncture")
    related = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(related) == len(report.charts)
    # deterministic: the same store gives the same maps
    again = build_report(Project.open(seeded), "2026-W47")
    assert [c.png for c in again.charts] == [c.png for c in report.charts]


def test_business_names_are_escaped(mini):
    srv = seed_grid_weeks(mini, MONDAY, weeks=2)
    assert srv  # the seed's server model
    from seo.tables import grid_points
    with Project.open(mini).store.begin() as conn:  # a hostile name in the stored answers
        conn.execute(grid_points.update().values(top3=grid_points.c.top3.op("||")("")))
        rows = conn.execute(grid_points.select().where(grid_points.c.top3.like("%Peak Wellness%")))
        for r in list(rows):
            conn.execute(grid_points.update().where(grid_points.c.id == r.id).values(
                top3=r.top3.replace("Peak Wellness", "<img src=x onerror=alert(1)> & Co")))
    html = build_report(Project.open(mini), "2026-W47").html
    assert "<img src=x onerror" not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; Co" in html


def test_not_configured_and_no_scan_this_week_are_said_plainly(mini):
    text = section(build_report(Project.open(mini), "2026-W47").text)
    assert "Geo-grid tracking: not configured, add a `grid:` section" in text
    seed_grid_weeks(mini, date(2026, 11, 2), weeks=2)
    text = section(build_report(Project.open(mini), "2026-W47").text)
    assert "No grid scan this week (the last was on Nov 2, 2026)." in text


def test_noise_band_is_learned() -> None:
    assert noise_band([50, 60]) == 10.0  # too little history: the default
    assert noise_band([50, 50, 50, 50, 50, 50]) == 4.0  # at least 4 points
    assert noise_band([40, 60, 40, 60, 40, 60]) == pytest.approx(59.3, abs=0.1)


@pytest.mark.browser
def test_the_section_reads_at_phone_and_desktop_width(seeded, tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    require_tool(bool(chromium and driver), "Debian chromium and chromium-driver")
    report = build_report(Project.open(seeded), "2026-W47")
    server, url = serve_report(report, tmp_path / "www")
    try:
        with Chrome(chromium, driver, tmp_path / "profile", tmp_path / "driver.log") as chrome:
            for width, height in ((390, 844), (1366, 900)):
                chrome.viewport(width, height)
                chrome.get(url)
                scroll = chrome.execute("return document.documentElement.scrollWidth")
                assert scroll <= width, f"{width}px: scrolls sideways ({scroll}px)"
                images = chrome.execute(
                    "return [...document.images].filter(i => i.src.includes('/grid-'))"
                    ".map(i => [i.src.split('/').pop(), i.complete && i.naturalWidth > 0, i.width])")
                assert len(images) == 10 and all(ok for _, ok, _ in images), f"{width}px: a map did not load"
                widths = [w for name, _, w in images if "trend" not in name]
                assert min(widths) >= 280, f"{width}px: maps too small to read ({min(widths)}px)"
                chrome.execute("document.querySelector('h2 ~ h3').scrollIntoView()")
                shot = Image.open(io.BytesIO(chrome.screenshot())).convert("RGB")
                assert len(shot.getcolors(1 << 20) or []) > 20, f"{width}px: a blank screenshot"
    finally:
        server.shutdown()


def test_grid_section_survives_a_broken_grid_config(seeded):
    set_grid(seeded, {"monthly_budget": 5, "towns": {"alpha": {"boundary": "config/gone.geojson"}}})
    report = build_report(Project.open(seeded), "2026-W47")
    assert report.facts.grid.towns  # the stored scans are still reported, the problem said
    assert "boundary file 'config/gone.geojson' not found" in section(report.text)
