"""The report's HTML in headless Debian Chromium (tests/webdriver.py): at 390 px (a phone) and
1366 px (a laptop) it does not scroll sideways, every chart loads, and the screenshot is not blank.
The HTML is the email's own, with each cid: image served as a file next to it."""

from __future__ import annotations

import io
import shutil

import pytest
from conftest import require_tool
from report_support import WEEK, seed_week, serve_report
from webdriver import Chrome

from seo.report import build_report

pytestmark = pytest.mark.browser


def test_report_renders_at_phone_and_desktop_width(mini, tmp_path):
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    require_tool(bool(chromium and driver), "Debian chromium and chromium-driver")
    report = build_report(seed_week(mini), WEEK)
    server, url = serve_report(report, tmp_path / "www")
    try:
        with Chrome(chromium, driver, tmp_path / "profile", tmp_path / "driver.log") as chrome:
            for width, height in ((390, 844), (1366, 900)):
                chrome.viewport(width, height)
                chrome.get(url)
                scroll = chrome.execute("return document.documentElement.scrollWidth")
                assert scroll <= width, f"{width}px: scrolls sideways ({scroll}px)"
                loaded = chrome.execute(
                    "return [...document.images].map(i => i.complete && i.naturalWidth > 0)")
                assert loaded and all(loaded), f"{width}px: an image did not load"
                assert chrome.execute("return document.scripts.length") == 0
                shot = chrome.screenshot()
                assert not_blank(shot), f"{width}px: blank screenshot"
                (tmp_path / f"shot-{width}.png").write_bytes(shot)
    finally:
        server.shutdown()


def not_blank(png: bytes) -> bool:
    """More than one colour, and a fair share of non-background pixels."""
    from matplotlib.image import imread
    pixels = imread(io.BytesIO(png), format="png")
    flat = pixels.reshape(-1, pixels.shape[-1])
    background = flat[0]
    differs = (abs(flat - background).sum(axis=1) > 0.05).mean()
    return bool(differs > 0.05)
