"""The report with Business Profile numbers and reviews (hostile text included) in headless Debian
Chromium at 390 px and 1366 px: no sideways scrolling, every chart loads, no script runs (the
hostile review's <script> and <img onerror> stay text), the screenshot is not blank.
SEO_SHOTS=folder keeps the screenshots to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import require_tool
from profile_support import add_location, seed_profile
from report_support import WEEK, seed_week, serve_report
from test_report_browser import not_blank
from webdriver import Chrome

from seo.api import Project
from seo.report import build_report

pytestmark = pytest.mark.browser


def test_profile_sections_at_phone_and_desktop_width(mini: Path, tmp_path: Path) -> None:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    require_tool(bool(chromium and driver), "Debian chromium and chromium-driver")
    seed_week(mini)
    add_location(mini)
    project = Project.open(mini)
    seed_profile(project)
    report = build_report(project, WEEK)
    server, url = serve_report(report, tmp_path / "www")
    shots = Path(os.environ.get("SEO_SHOTS") or tmp_path)
    try:
        with Chrome(chromium, driver, tmp_path / "profile", tmp_path / "driver.log") as chrome:
            for width, height in ((390, 844), (1366, 900)):
                chrome.viewport(width, height)
                chrome.get(url)
                scroll = chrome.execute("return document.documentElement.scrollWidth")
                assert scroll <= width, f"{width}px: scrolls sideways ({scroll}px)"
                loaded = chrome.execute(
                    "return [...document.images].map(i => i.complete && i.naturalWidth > 0)")
                assert len(loaded) == len(report.charts) and all(loaded), f"{width}px: a chart"
                assert chrome.execute("return document.scripts.length") == 0
                shown = chrome.execute("return document.body.innerText")
                assert "<script>alert('x')</script>" in shown  # the reviewer's words, as text
                assert "Eve <img src=x>" in shown  # a name with markup stays text
                top = chrome.execute(
                    "return document.evaluate(\"//h2[text()='Calls and directions from Google']\","
                    " document, null, 9, null).singleNodeValue.getBoundingClientRect().top")
                assert top > 0
                chrome.execute("window.scrollTo(0, arguments[0] - 10)", top)
                shot = chrome.screenshot()
                assert not_blank(shot), f"{width}px: blank screenshot"
                (shots / f"profile-{width}.png").write_bytes(shot)
                chrome.execute(
                    "window.scrollTo(0, document.evaluate(\"//h2[text()='Reviews']\", document, "
                    "null, 9, null).singleNodeValue.getBoundingClientRect().top + window.scrollY"
                    " - 10)")
                (shots / f"reviews-{width}.png").write_bytes(chrome.screenshot())
    finally:
        server.shutdown()
