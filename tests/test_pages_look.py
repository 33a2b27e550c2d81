"""Issue 13: pages patients trust. Pictures (responsive, encoded once), social cards, practitioner
pages with Person markup, the en-US locale and its spelling lint, the town x condition pages'
own text, and `seo check`'s warnings. One build of the bundled clinic serves most tests here."""

from __future__ import annotations

import io
import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO, run_seo
from PIL import Image

from seo import api
from seo.locale import get_locale
from seo.pages import guard, images, og
from seo.pages.plan import plan_site
from seo.spelling import lint_spelling

DAY1, DAY2 = date(2026, 11, 1), date(2026, 11, 8)


def copy_clinic(dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, dst / name)
    return dst


def build(root: Path, today: date = DAY1):
    return api.build(api.Project.open(root), today=today)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_clinic(tmp_path_factory.mktemp("look") / "clinic")
    build(root)
    return root


def page(root: Path, path: str) -> str:
    return (root / "build/site" / path.lstrip("/") / "index.html").read_text()


def jsonld(html: str) -> dict[str, dict]:
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html,
                                re.S).group(1))
    return {node["@type"]: node for node in data["@graph"]}


# -- locale ---------------------------------------------------------------------------------------

def test_us_locale_formats() -> None:
    us = get_locale("en-US")
    assert us.span("09:00", "18:00") == "9 am–6 pm"
    assert us.time("12:30") == "12:30 pm" and us.time("00:15") == "12:15 am"
    assert us.date(date(2026, 11, 1)) == "November 1, 2026"
    phone = us.phone("+1-303-555-0142", "US")
    assert (phone.display, phone.e164) == ("(303) 555-0142", "+13035550142")
    assert us.compass("south-east") == "southeast" and us.spell("neighborhoods") == "neighborhoods"


def test_british_locale_formats() -> None:
    gb = get_locale("en-GB")
    assert gb.span("09:00", "18:00") == "09:00–18:00"
    assert gb.date(date(2026, 11, 1)) == "1 November 2026"
    assert gb.phone("020 7946 0018", "GB").display == "020 7946 0018"
    assert gb.spell("Neighborhoods") == "Neighbourhoods" and gb.spell("License") == "Licence"
    with pytest.raises(ValueError, match="not a valid phone number"):
        gb.phone("+44 20 12", "GB")


def test_pages_speak_us_english(site: Path) -> None:
    html = page(site, "/aurora/sciatica/")
    assert '<a href="tel:+13035550142">' in html and "(303) 555-0142" in html
    assert "+1-303-555-0142" not in html
    assert "Mon–Thu 9 am–6 pm" in html and "<td>9 am–6 pm</td>" in html
    assert "on November 1, 2026." in html and "2026-11-01." not in html
    for file in (site / "build/site").rglob("*.html"):
        text = file.read_text()
        assert not re.search(r"recognis|neighbour|colour|\bcentre\b|south-east|north-west", text), file


def test_british_site_gets_british_built_in_text(tmp_path: Path) -> None:
    root = copy_clinic(tmp_path / "clinic")
    config = root / "config/site.yaml"
    text = config.read_text().replace("locale: en-US", "locale: en-GB")
    config.write_text(text)
    build(root)
    html = page(root, "/practitioners/lead-acupuncturist/")
    assert 'lang="en-GB"' in html and "Licence and credentials" in html
    assert "<td>09:00–18:00</td>" in html


def test_spelling_lint_flags_british_spellings_in_us_content() -> None:
    text = ("Signs you may recognise.\nOur neighbourhood clinic near Fiddler's Green Amphitheatre.\n"
            "Colour of the skin. We organized it.\n")
    found = lint_spelling(text, "content/x.md", "en-US")
    assert found == [
        "content/x.md:1: 'recognise' is British spelling; en-US uses 'recognize'",
        "content/x.md:2: 'neighbourhood' is British spelling; en-US uses 'neighborhood'",
        "content/x.md:3: 'Colour' is British spelling; en-US uses 'Color'",
    ]  # "Amphitheatre" inside a name is left alone
    assert lint_spelling("We recognise it.", "x", "en-US", allow=frozenset({"recognise"})) == []
    assert lint_spelling("We recognize the color.", "x", "en-GB") == [
        "x:1: 'recognize' is American spelling; en-GB uses 'recognise'",
        "x:1: 'color' is American spelling; en-GB uses 'colour'"]


def test_seo_check_lists_spellings_and_warnings(tmp_path: Path) -> None:
    root = copy_clinic(tmp_path / "clinic")
    note = root / "content/towns/parker.md"
    note.write_text(note.read_text() + "\nThe town centre is a short walk from the trail.\n")
    config = root / "config/site.yaml"
    text = config.read_text()
    config.write_text(text.replace("{lat: 39.54802, lng: -104.79004}", "{lat: 39.548, lng: -104.79004}")
                      .replace("    photos: !example\n      - {file: parker-clinic.jpg, alt: "
                               "\"The front of the Acupuncture Associates clinic in Parker\"}\n", ""))
    cond = root / "content/conditions/sciatica.md"
    cond.write_text(cond.read_text().replace(
        "summary: >-\n  Sharp, burning nerve pain",
        "summary: >-\n  Sharp, burning, searing, electric, shooting nerve pain that can travel from the "
        "buttock through the thigh and calf to the foot and toes, often worse on long drives and long "
        "days at a desk, and"))
    proc = run_seo("check", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"content/towns/parker\.md:\d+: 'centre' is British spelling; en-US uses "
                     r"'center'", out), out
    assert re.search(r"config/site\.yaml:\d+: locations\[0\]\.geo\.lat: 3 decimals; Google asks "
                     r"for at least 5", out), out
    assert "locations[0].geo.lng" not in out
    assert re.search(r"locations\[0\]\.photos: no photo of the location; Google recommends an "
                     r"`image`", out), out
    assert re.search(r"/conditions/sciatica/: meta description cut to fit 155 characters", out), out


def test_bundled_clinic_checks_clean() -> None:
    report = api.check(REPO)
    assert report.warnings == [] and report.spelling == [] and report.claims == []


def test_self_hosted_fonts_only_when_configured(site: Path, tmp_path: Path) -> None:
    assert "@font-face" not in page(site, "/") and "/fonts/" not in page(site, "/")
    root = copy_clinic(tmp_path / "clinic")
    (root / "content/fonts").mkdir()
    (root / "content/fonts/brand.woff2").write_bytes(b"wOF2 test font bytes")
    config = root / "config/site.yaml"
    config.write_text(config.read_text().replace(
        "    background: \"#f4f1ea\"\n",
        "    background: \"#f4f1ea\"\n    heading_font: '\"Brand Serif\", Georgia, serif'\n"
        "    fonts: [{family: Brand Serif, file: brand.woff2, weight: \"400 700\"}]\n"))
    build(root)
    html = page(root, "/")
    assert '<link rel="preload" href="/fonts/brand.woff2" as="font" type="font/woff2" crossorigin>' in html
    assert ('@font-face{font-family:"Brand Serif";src:url(/fonts/brand.woff2) format("woff2");'
            'font-weight:400 700;font-style:normal;font-display:swap}') in html
    assert 'h1,h2,h3,.brand{font-family:"Brand Serif", Georgia, serif}' in html
    assert (root / "build/site/fonts/brand.woff2").read_bytes() == b"wOF2 test font bytes"


# -- pictures -------------------------------------------------------------------------------------

def test_hero_is_responsive_and_first(site: Path) -> None:
    assert_pictures_exist(site)
    html = page(site, "/")
    hero = re.search(r'<picture class="hero">(.*?)</picture>', html, re.S).group(1)
    webp = re.search(r'<source type="image/webp" srcset="([^"]+)" sizes="([^"]+)">', hero)
    assert webp and len(webp.group(1).split(", ")) >= 3, hero
    img = re.search(r"<img ([^>]+)>", hero).group(1)
    assert 'fetchpriority="high"' in img and 'loading="lazy"' not in img
    assert re.search(r'width="\d+" height="\d+"', img) and 'alt="The front of' in img
    assert re.search(r'srcset="/images/parker-clinic-[0-9a-f]{10}-480\.jpg 480w', img)
    # the first picture in the page is the logo or the hero; only the hero asks for priority
    assert html.count('fetchpriority="high"') == 1
    team = re.search(r'<section aria-labelledby="team-heading">(.*?)</section>', html, re.S).group(1)
    assert 'loading="lazy"' in team  # below the fold
    for url in re.findall(r"(/images/[^ \"]+)", html):
        variant = site / "build/site" / url.lstrip("/")
        assert variant.is_file(), url
        with Image.open(variant) as im:
            width = int(re.search(r"-(\d+)\.\w+$", url).group(1))
            assert im.width == width and im.format in ("WEBP", "JPEG", "PNG")
            assert not im.getexif(), f"{url} carries EXIF metadata"


def test_images_encode_only_when_the_source_changes(tmp_path: Path, monkeypatch) -> None:
    root = copy_clinic(tmp_path / "clinic")
    encoded: list[str] = []
    real = images.encode
    monkeypatch.setattr(images, "encode", lambda im, fmt: encoded.append(fmt) or real(im, fmt))
    first = build(root)
    assert encoded and first.written > 50
    encoded.clear()
    (root / "content/towns/parker.md").write_text("Parker is home to the clinic.\n")
    again = build(root, DAY2)  # pages change, pictures don't: nothing re-encoded
    assert encoded == [] and again.rendered > 0
    photo = root / "content/images/parker-clinic.jpg"
    with Image.open(photo) as im:
        im.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(photo, "JPEG", quality=90)
    third = build(root, DAY2)
    assert encoded and all(f in ("webp", "jpeg") for f in encoded)
    old = [p for p in third.changed_paths if p.startswith("images/")]
    assert old and all("parker-clinic" in p for p in old)
    live = {p.name for p in (root / "build/site/images").iterdir()}
    assert sum("parker-clinic" in n for n in live) == len(old)  # the old variants were deleted
    again = build(root, DAY2)
    assert (again.written, again.deleted) == (0, 0)
    monkeypatch.setattr(images, "VERSION", "next")  # a new encoding: new names, pages follow
    upgraded = build(root, DAY2)
    assert upgraded.rendered == len(plan_site(api.Project.open(root).site))
    assert_pictures_exist(root)


def assert_pictures_exist(root: Path) -> None:
    """Every picture any page refers to is in the built site (no 404 after a change)."""
    out = root / "build/site"
    for file in out.rglob("index.html"):
        for url in re.findall(r'(/images/[^ ",]+)', file.read_text()):
            assert (out / url.lstrip("/")).is_file(), f"{file}: {url} missing"


def test_huge_image_is_refused(tmp_path: Path) -> None:
    root = copy_clinic(tmp_path / "clinic")
    Image.new("L", (8000, 7000)).save(root / "content/images/parker-clinic.jpg", "JPEG")
    proc = run_seo("pages", "build", "--root", str(root))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("error: content/images/parker-clinic.jpg: 8000x7000 pixels is "
                                   "more than 50 megapixels; export a smaller copy")


# -- social cards ---------------------------------------------------------------------------------

def test_every_page_has_its_own_social_card(site: Path) -> None:
    project = api.Project.open(site)
    plan = plan_site(project.site)
    keys = set()
    for p in plan:
        html = page(site, p.url_path)
        url = re.search(r'<meta property="og:image" content="([^"]+)">', html).group(1)
        assert url.startswith(f"{project.site.config.business.url}{p.og_file}?v=")
        assert '<meta property="og:image:width" content="1200">' in html
        with Image.open(site / "build/site" / p.og_file) as card:
            assert card.size == (1200, 630) and card.format == "PNG"
            keys.add(card.text[og.KEY_CHUNK])
    assert len(keys) == len(plan)  # one card per page, each with its own title


def test_cards_are_deterministic_and_drawn_once(tmp_path: Path) -> None:
    a, b = copy_clinic(tmp_path / "a"), copy_clinic(tmp_path / "b")
    build(a)
    build(b)
    card = "parker/sciatica/og.png"
    assert (a / "build/site" / card).read_bytes() == (b / "build/site" / card).read_bytes()
    again = build(a, DAY2)
    assert (again.rendered, again.written) == (0, 0)
    cond = a / "content/conditions/sciatica.md"
    cond.write_text(cond.read_text().replace("name: Sciatica", "name: Sciatic Nerve Pain"))
    changed = build(a, DAY2).changed_paths
    cards = sorted(p for p in changed if p.endswith("og.png"))
    assert "parker/sciatica/og.png" in cards and "parker/og.png" not in cards
    assert all("sciatica" in p for p in cards)


# -- practitioners --------------------------------------------------------------------------------

def test_practitioner_page_and_person_markup(site: Path) -> None:
    html = page(site, "/practitioners/lead-acupuncturist/")
    nodes = jsonld(html)
    person = nodes["Person"]
    assert nodes["ProfilePage"]["mainEntity"] == {"@id": person["@id"]}
    assert person["name"] == "Jordan Example" and person["jobTitle"] == "Licensed Acupuncturist"
    license_ = person["hasCredential"][0]
    assert license_["credentialCategory"] == "license" and license_["identifier"] == "AC.0000000"
    assert license_["recognizedBy"]["name"] == "Colorado Division of Professions and Occupations"
    members = [m.get("name") or m.get("@id") for m in person["memberOf"]]
    assert "Acupuncture Association of Colorado" in members
    assert any(str(m).endswith("#clinic-parker") for m in members)
    assert person["image"].startswith("https://") and "Sciatica" in person["knowsAbout"]
    assert "License and credentials" in html and "AC.0000000" in html


def test_reviewed_pages_link_their_reviewer(site: Path) -> None:
    for path in ("/conditions/sciatica/", "/aurora/sciatica/"):
        html = page(site, path)
        nodes = jsonld(html)
        assert nodes["MedicalWebPage"]["reviewedBy"] == {"@id": nodes["Person"]["@id"]}
        assert nodes["Person"]["url"].endswith("/practitioners/lead-acupuncturist/")
        assert 'Medically reviewed by <a href="/practitioners/lead-acupuncturist/">' in html


def test_clinic_markup_has_image_and_logo(site: Path) -> None:
    clinic = jsonld(page(site, "/parker/"))["MedicalClinic"]
    assert clinic["image"][0].startswith("https://") and "parker-clinic" in clinic["image"][0]
    assert "/images/logo-" in clinic["logo"] and clinic["telephone"] == "+13035550142"
    lat = str(clinic["geo"]["latitude"])
    assert len(lat.split(".")[1]) >= 5


# -- every page: the visit card -------------------------------------------------------------------

def test_visit_card_on_every_page(site: Path) -> None:
    for file in (site / "build/site").rglob("index.html"):
        html = file.read_text()
        card = re.search(r'<aside class="visit wrap".*?</aside>', html, re.S)
        assert card, file
        assert "https://www.google.com/maps/dir/?api=1&amp;destination=" in card.group(0)
        assert "destination_place_id=ChIJexample-parker-clinic" in card.group(0)
        assert "9 am–6 pm" in card.group(0)
        if "/practitioners/" not in str(file):
            assert 'href="/practitioners/lead-acupuncturist/"' in card.group(0)
        assert html.index('class="visit') < html.index("<main")


# -- page structure and the guard's numbers -------------------------------------------------------

def test_town_condition_pages_lead_with_their_own_text(site: Path) -> None:
    html = page(site, "/aurora/sciatica/")
    main = html[html.index("<main"):]
    assert main.index("Sciatica in Aurora") < main.index("From Aurora to the clinic") \
        < main.index("About sciatica")
    hub_note = (site / "content/towns/aurora.md").read_text().split("\n\n")
    assert hub_note[1][:60] not in html  # the town's notes in full only on its hub
    assert hub_note[1][:60] in page(site, "/aurora/")


def test_sentences_handle_the_clinics_town_and_city_counties(site: Path) -> None:
    parker = page(site, "/parker/")
    assert "Our clinic is here in Parker" in parker
    for path in ("/parker/", "/parker/sciatica/"):
        assert not re.search(r"Parker (lies|is) \w+ of (our|the)", page(site, path))
    assert "from central Parker" not in parker.split("<main")[0]  # the visit card
    assert "Patients from Denver come to our Parker clinic" in page(site, "/denver/")
    for path in ("/denver/", "/denver/sciatica/"):
        assert "in City and County of Denver" not in page(site, path)
    assert "our clinic's town" in page(site, "/areas-we-serve/")


def test_no_indexable_pair_near_the_limit(site: Path) -> None:
    """Masked similarity, measured exactly over every pair: town x condition pages against their
    hub stay below 0.25 (0.39 before), and no pair reaches 0.35."""
    project = api.Project.open(site)
    items = [(p.key, p.kind, page(site, p.url_path), project.site.town(p.town) if p.town else None)
             for p in plan_site(project.site)]
    analysed = guard.analyse_many(items, 5, guard.Vocabulary())
    worst, worst_hub = 0.0, 0.0
    for i, a in enumerate(analysed):
        for b in analysed[i + 1:]:
            sim = guard.jaccard(a.shingles, b.shingles)
            worst = max(worst, sim)
            if {a.kind, b.kind} == {"town", "town_condition"} and (
                    a.key.startswith(b.key) or b.key.startswith(a.key)):
                worst_hub = max(worst_hub, sim)
    assert worst < 0.35 and worst_hub < 0.25, (worst, worst_hub)


# -- placeholders ---------------------------------------------------------------------------------

def test_placeholders_fill_only_missing_pictures(tmp_path: Path) -> None:
    root = copy_clinic(tmp_path / "clinic")
    shutil.rmtree(root / "content/images")
    (root / "content/images").mkdir()
    (root / "content/images/logo.png").write_bytes(b"the clinic's own logo")
    proc = run_seo("pages", "placeholders", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "wrote content/images/parker-clinic.jpg" in proc.stdout
    assert "wrote content/images/practitioners/lead-acupuncturist.jpg" in proc.stdout
    assert (root / "content/images/logo.png").read_bytes() == b"the clinic's own logo"
    for rel in ("parker-clinic.jpg", "practitioners/lead-acupuncturist.jpg"):  # deterministic
        assert (root / "content/images" / rel).read_bytes() == (REPO / "content/images" / rel).read_bytes()
    again = run_seo("pages", "placeholders", "--root", str(root))
    assert "nothing to do" in again.stdout


def test_example_photos_block_publishing() -> None:
    report = api.check(REPO)
    assert any("locations[0].photos" in e for e in report.examples)
    assert any("practitioners[0].photo" in e for e in report.examples)
    with Image.open(io.BytesIO((REPO / "content/images/logo.png").read_bytes())) as logo:
        assert logo.mode == "RGBA"
