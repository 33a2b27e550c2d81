"""Generated pages in real tools (issue 2 item 7): valid HTML, accessible, usable on a phone.

- the W3C Nu HTML checker (vnu.jar, `$SEO_VNU_JAR`) over every built page, in one JVM;
- sitemap.xml: well-formed, the sitemaps namespace, exactly the indexable pages;
- headless Debian Chromium through chromedriver's W3C WebDriver API (tests/webdriver.py, no
  selenium, nothing downloaded): a sample of pages at 390 px (a phone) and 1366 px (a laptop) must
  not scroll sideways, log nothing to the console, have one h1, carry JSON-LD that parses in the page
  with the clinic's name, address and phone, and paint a screenshot that is not blank;
- axe-core (`$SEO_AXE_JS`) in the same pages: no WCAG 2.x A/AA violations.

Locally each tool skips when missing; in CI (`SEO_REQUIRE_TOOLS=1`, set by .ci/run) it fails.
One site build, one JVM and one Chromium session serve the whole module.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO, require_tool
from webdriver import Chrome

from seo import api
from seo.pages import plan as paths
from seo.pages.preview import serve_in_thread
from seo.site import Site

pytestmark = pytest.mark.browser

CACHE = REPO / ".ci" / ".cache" / "node_modules"
SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
WIDTHS = {390: 844, 1366: 900}  # viewport width -> height: a phone, a laptop
SAMPLE = ("home", "areas", "town", "condition", "town_condition", "town_condition_2", "practitioner")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


@dataclass
class Built:
    root: Path
    out: Path
    site: Site
    pages: dict[str, str]  # sample name -> url path


def copy_clinic(dst: Path) -> Path:
    """What the `clinic` fixture does, at module scope: one build serves every test here."""
    dst.mkdir(parents=True)
    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, dst / name)
    return dst


def build(root: Path) -> Site:
    project = api.Project.open(root)
    api.build(project)
    return project.site


def sample_pages(site: Site) -> dict[str, str]:
    """Home, areas, and the hubs and town x condition pages with the longest names (most likely
    to overflow a phone), plus one with the shortest."""
    towns = sorted(site.towns, key=lambda t: (-len(t.name), t.slug))
    conds = sorted(site.conditions, key=lambda c: (-len(c.name), c.slug))
    return {
        "home": paths.home_path(),
        "areas": paths.areas_path(),
        "town": paths.town_path(towns[0].slug),
        "condition": paths.condition_path(conds[0].slug),
        "town_condition": paths.town_condition_path(towns[0].slug, conds[0].slug),
        "town_condition_2": paths.town_condition_path(towns[-1].slug, conds[-1].slug),
        "practitioner": paths.practitioner_path(site.config.business.practitioners[0].id),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = copy_clinic(tmp_path_factory.mktemp("browser") / "clinic")
    site = build(root)
    return Built(root=root, out=site.path(site.config.site.output), site=site,
                 pages=sample_pages(site))


def html_files(out: Path) -> list[Path]:
    return sorted(out.rglob("*.html"))


def robots_of(html: str) -> str:
    start = html.index('<meta name="robots" content="') + len('<meta name="robots" content="')
    return html[start:html.index('"', start)]


# -- W3C Nu HTML checker ------------------------------------------------------------------------

def vnu_jar() -> Path | None:
    jar = os.environ.get("SEO_VNU_JAR") or str(CACHE / "vnu-jar/build/dist/vnu.jar")
    return Path(jar) if Path(jar).is_file() and shutil.which("java") else None


def test_every_page_passes_the_nu_html_checker(built: Built, tmp_path: Path) -> None:
    jar = vnu_jar()
    require_tool(jar is not None, "java and the Nu HTML checker (vnu.jar, $SEO_VNU_JAR)")
    files = html_files(built.out)
    assert len(files) == len(built.site.towns) * (len(built.site.conditions) + 1) \
        + len(built.site.conditions) + 2 + len(built.site.config.business.practitioners)
    # A canary with a known error proves the checker really ran and reports in this format.
    canary = tmp_path / "canary.html"
    canary.write_text("<!DOCTYPE html><html lang=en><title>x</title><p><div></span>\n")
    proc = subprocess.run(["java", "-Xss8m", "-jar", str(jar), "--format", "json",
                           "--exit-zero-always", str(canary), *map(str, files)],
                          capture_output=True, text=True, timeout=180)
    report = json.loads(proc.stderr or proc.stdout)
    errors, warnings, canary_errors = [], [], 0
    for msg in report["messages"]:
        where = msg.get("url", "").removeprefix("file:")
        if where == str(canary):
            canary_errors += msg["type"] == "error"
            continue
        line = (f"{Path(where).relative_to(built.out) if where else '?'}:{msg.get('lastLine', '?')}: "
                f"{msg['type']}{'/' + msg['subType'] if msg.get('subType') else ''}: {msg['message']}"
                f"\n    {msg.get('extract', '').strip()}")
        (errors if msg["type"] in ("error", "non-document-error") else warnings).append(line)
    assert canary_errors, f"the checker did not report the canary's errors: {proc.stderr[:2000]}"
    if warnings:
        print("Nu HTML checker warnings:\n" + "\n".join(warnings))
    assert not errors, (f"{len(errors)} Nu HTML checker errors in {len(files)} files:\n"
                        + "\n".join(errors[:60]) + ("\n..." if len(errors) > 60 else ""))


# -- sitemap.xml --------------------------------------------------------------------------------

def check_sitemap(out: Path, base: str) -> set[str]:
    """Parse sitemap.xml; assert it lists exactly the pages whose robots meta says index."""
    root = ET.fromstring((out / "sitemap.xml").read_bytes())  # raises on malformed XML
    assert root.tag == f"{{{SITEMAP_NS}}}urlset"
    locs = []
    for url in root:
        assert url.tag == f"{{{SITEMAP_NS}}}url"
        assert [c.tag for c in url] == [f"{{{SITEMAP_NS}}}loc", f"{{{SITEMAP_NS}}}lastmod"]
        locs.append(url.findtext(f"{{{SITEMAP_NS}}}loc"))
    assert len(locs) == len(set(locs)), "duplicate URLs in sitemap.xml"
    indexable = set()
    for file in html_files(out):
        robots = robots_of(file.read_text(encoding="utf-8"))
        assert robots in ("index, follow", "noindex, follow"), (file, robots)
        if robots == "index, follow":
            rel = file.relative_to(out).parent.as_posix()
            indexable.add(base + ("" if rel == "." else rel + "/"))
    assert set(locs) == indexable
    assert f"Sitemap: {base}sitemap.xml" in (out / "robots.txt").read_text()
    return indexable


def test_sitemap_lists_exactly_the_indexable_pages(built: Built) -> None:
    base = built.site.config.business.url
    assert len(check_sitemap(built.out, base)) == len(html_files(built.out))


def test_sitemap_leaves_out_noindex_pages(tmp_path: Path) -> None:
    root = copy_clinic(tmp_path / "clinic")
    config = root / "config/site.yaml"
    text = config.read_text()
    assert "min_local_facts: 6" in text
    config.write_text(text.replace("min_local_facts: 6", "min_local_facts: 999"))  # no page has 999
    site = build(root)
    out = site.path(site.config.site.output)
    base = site.config.business.url
    indexable = check_sitemap(out, base)
    expected = {base.rstrip("/") + p for p in
                [paths.home_path(), paths.areas_path(),
                 *(paths.condition_path(c.slug) for c in site.conditions),
                 *(paths.practitioner_path(p.id) for p in site.config.business.practitioners)]}
    assert indexable == expected


# -- headless Chromium --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chrome]:
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    require_tool(bool(chromium and driver), "Debian chromium and chromedriver")
    tmp = tmp_path_factory.mktemp("chromium")
    with Chrome(str(chromium), str(driver), profile=tmp / "profile", log=tmp / "chromedriver.log") as chrome:
        yield chrome


@pytest.fixture(scope="module")
def served(built: Built) -> Iterator[str]:
    server, base = serve_in_thread(built.out)
    try:
        yield base.rstrip("/")
    finally:
        server.shutdown()
        server.server_close()


def open_page(chrome: Chrome, url: str, width: int) -> None:
    chrome.viewport(width, WIDTHS[width])
    chrome.browser_log()  # drain what earlier pages logged
    chrome.get(url)
    assert chrome.execute("return document.readyState") == "complete"


LAYOUT_JS = """
const doc = document.documentElement, vw = doc.clientWidth;
function clipped(el) {  // inside a scroll container, or hidden on purpose
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (p === document.body || p === doc) break;
    if (getComputedStyle(p).overflowX !== 'visible') return true;
  }
  return false;
}
const sticking = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0 || r.right <= 0) continue;  // empty, or parked off-screen
  if ((r.right > vw + 1 || r.left < -1) && !clipped(el))
    sticking.push(`${el.tagName.toLowerCase()}.${el.className} ` +
                  `[${Math.round(r.left)}, ${Math.round(r.right)}]`);
}
return {scrollWidth: doc.scrollWidth, clientWidth: vw, innerWidth: window.innerWidth,
        h1: [...document.querySelectorAll('h1')].map(h => h.textContent.trim()),
        sticking: sticking.slice(0, 20),
        fontSize: parseFloat(getComputedStyle(document.body).fontSize)};
"""

JSONLD_JS = """
return [...document.querySelectorAll('script[type="application/ld+json"]')].map(s => {
  try { return {data: JSON.parse(s.textContent)}; } catch (e) { return {error: String(e)}; }
});
"""


def nodes_of(data: object) -> Iterator[dict]:
    """Every JSON object in a JSON-LD document (top level, @graph and nested values)."""
    if isinstance(data, dict):
        yield data
        for value in data.values():
            yield from nodes_of(value)
    elif isinstance(data, list):
        for item in data:
            yield from nodes_of(item)


def types_of(node: dict) -> list[str]:
    t = node.get("@type", [])
    return [t] if isinstance(t, str) else list(t)


def expected_location(built: Built, path: str):
    town = next((t for t in built.site.towns if path.startswith(paths.town_path(t.slug))), None)
    return town.location if town else built.site.config.locations[0]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", SAMPLE)
def test_page_in_chromium(built: Built, browser: Chrome, served: str, name: str, width: int,
                          tmp_path_factory: pytest.TempPathFactory) -> None:
    from PIL import Image  # matplotlib's own dependency, so always installed with seo

    path = built.pages[name]
    open_page(browser, served + path, width)

    layout = browser.execute(LAYOUT_JS)
    assert layout["innerWidth"] == width
    assert layout["scrollWidth"] <= layout["clientWidth"], f"{path} scrolls sideways at {width} px"
    assert not layout["sticking"], f"{path} at {width} px: elements stick out of the viewport"
    assert layout["fontSize"] >= 16, "body text smaller than 16 px is hard to read on a phone"
    assert len(layout["h1"]) == 1, f"{path}: {len(layout['h1'])} h1 elements: {layout['h1']}"

    scripts = browser.execute(JSONLD_JS)
    assert scripts, f"{path}: no JSON-LD"
    assert all("data" in s for s in scripts), f"{path}: JSON-LD does not parse: {scripts}"
    loc = expected_location(built, path)
    clinics = [n for s in scripts for n in nodes_of(s["data"]) if "MedicalClinic" in types_of(n)]
    assert clinics, f"{path}: no MedicalClinic node in the JSON-LD"
    clinic = clinics[0]
    assert clinic["name"] == loc.name
    assert clinic["telephone"] == built.site.phone(loc.telephone).e164
    assert clinic["address"] == {
        "@type": "PostalAddress", "streetAddress": loc.address.street,
        "addressLocality": loc.address.locality, "addressRegion": loc.address.region,
        "postalCode": loc.address.postal_code, "addressCountry": loc.address.country,
    }

    png = browser.screenshot()
    shot = tmp_path_factory.getbasetemp() / "screenshots" / f"{name}-{width}.png"
    shot.parent.mkdir(exist_ok=True)
    shot.write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.width == width, (image.size, shot)
    # A rendered page has hundreds of colours (anti-aliased text) and no colour above ~80% of it;
    # a blank one is one colour plus a scrollbar.
    colours = image.getcolors(maxcolors=1 << 16) or []
    dominant = max(colours)[0] / (image.width * image.height) if colours else 0
    assert (not colours or len(colours) > 100) and dominant < 0.95, \
        f"{path} at {width} px looks blank ({len(colours)} colours, {dominant:.0%} one colour): {shot}"

    # Read the console last, so anything logged while the page settled is caught too.
    logged = [e for e in browser.browser_log() if e.get("level") in ("SEVERE", "WARNING")]
    assert not logged, f"{path} at {width} px logged to the console:\n" + "\n".join(
        f"{e['level']} {e.get('source', '')}: {e['message']}" for e in logged)


# -- axe-core -----------------------------------------------------------------------------------

def axe_js() -> Path | None:
    js = Path(os.environ.get("SEO_AXE_JS") or CACHE / "axe-core/axe.min.js")
    return js if js.is_file() else None


AXE_RUN_JS = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done({violations: r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
      nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, why: n.failureSummary}))}))}))
  .catch(e => done({error: String(e)}));
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    js = axe_js()
    require_tool(js is not None, "axe-core (npm; $SEO_AXE_JS)")
    assert js is not None
    return js.read_text(encoding="utf-8")


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize("name", SAMPLE)
def test_page_has_no_axe_violations(built: Built, browser: Chrome, served: str, axe_source: str,
                                    name: str, width: int) -> None:
    path = built.pages[name]
    open_page(browser, served + path, width)
    browser.execute(axe_source)
    result = browser.execute_async(AXE_RUN_JS, WCAG_TAGS)
    assert "error" not in result, result
    lines = []
    for v in result["violations"]:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} {v['url']}")
        lines += [f"    {n['target']}: {n['html'][:200]}\n      {n['why']}" for n in v["nodes"]]
    assert not result["violations"], f"{path} at {width} px: axe violations:\n" + "\n".join(lines)


# -- the first screen on a phone (issue 13) -----------------------------------------------------

FIRST_SCREEN_JS = """
const h = window.innerHeight;
function seen(sel) {
  const el = document.querySelector(sel);
  if (!el) return null;
  const r = el.getBoundingClientRect();
  return r.height > 0 && r.top >= 0 && r.top < h;
}
return {height: h, clinic: seen('picture.hero img'), logo: seen('.brand img'),
        practitioner: seen('.visit .people a'), directions: seen('.visit a[href^="https://www.google.com/maps/dir/"]'),
        hours: seen('.visit .hours-line'), call: seen('.visit a[href^="tel:+"]'), h1: seen('h1')};
"""


@pytest.mark.parametrize("name", ["home", "town", "town_condition"])
def test_first_screen_on_a_phone_shows_clinic_people_and_the_way(
        built: Built, browser: Chrome, served: str, name: str) -> None:
    """On a 390 x 844 phone, without scrolling: the clinic (its photo and logo), who you will see,
    the hours, a call link and directions, and the page's heading."""
    open_page(browser, served + built.pages[name], 390)
    seen = browser.execute(FIRST_SCREEN_JS)
    assert seen["height"] == WIDTHS[390]
    missing = [key for key, value in seen.items() if key != "height" and value is not True]
    assert not missing, f"{built.pages[name]}: not in the first screen on a phone: {missing}"
