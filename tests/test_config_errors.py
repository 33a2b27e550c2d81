"""Bad input: one line naming the file, key or line and what is wrong; exit 2; no traceback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_seo


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def assert_one_line_error(root: Path, pattern: str) -> str:
    proc = run_seo("check", "--root", str(root))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


CASES = [
    ("malformed-yaml", "config/site.yaml", "  name: Example Acupuncture\n",
     "  name: [Example Acupuncture\n", r"^error: config/site\.yaml:\d+: malformed YAML"),
    ("missing-field", "config/site.yaml", '  booking_url: https://clinic.test/book/\n', "",
     r"config/site\.yaml:\d+: business\.booking_url: required field is missing"),
    ("javascript-url", "config/site.yaml", "booking_url: https://clinic.test/book/",
     "booking_url: javascript:alert(1)", r"config/site\.yaml:\d+: business\.booking_url: .*not an http"),
    ("lat-out-of-range", "config/towns.yaml", "lat: 39.61", "lat: 139.61",
     r"config/towns\.yaml:\d+: towns\[0\]\.geo\.lat: .*less than or equal to 90"),
    ("slug-path-chars", "config/towns.yaml", "slug: alpha", "slug: ../alpha",
     r"config/towns\.yaml:\d+: towns\[0\]\.slug: slug '\.\./alpha' must be lowercase"),
    ("duplicate-town-slug", "config/towns.yaml", "slug: beta-springs", "slug: alpha",
     r"config/towns\.yaml:\d+: towns\[1\]\.slug: duplicate town slug 'alpha'"),
    ("unknown-location", "config/towns.yaml", "served_by: main\n    neighborhoods: [Old Mill",
     "served_by: nowhere\n    neighborhoods: [Old Mill",
     r"towns\[0\]\.served_by: unknown location 'nowhere'"),
    ("unknown-key", "config/site.yaml", "  telephone: \"+1-303-555-0100\"\n  description",
     "  telephone: \"+1-303-555-0100\"\n  telefone: x\n  description",
     r"business\.telefone: unknown key"),
    ("bad-hours", "config/site.yaml", 'closes: "17:00"', 'closes: "25:00"',
     r"locations\[0\]\.hours\[0\]\.closes: .*24-hour time"),
    ("front-matter-yaml", "content/conditions/knee-pain.md", "short_name: knee pain",
     "short_name: [knee pain", r"content/conditions/knee-pain\.md:\d+: malformed YAML"),
    ("front-matter-missing", "content/conditions/wrist-pain.md", "---\nname: Wrist Pain\n",
     "name: Wrist Pain\n", r"content/conditions/wrist-pain\.md:1: missing YAML front matter"),
    ("condition-missing-field", "content/conditions/wrist-pain.md",
     "symptoms: [Tingling fingers, Weak grip]\n", "",
     r"content/conditions/wrist-pain\.md:(\d+:)? symptoms: required field is missing"),
    ("unknown-related", "content/conditions/wrist-pain.md", "related: [knee-pain]",
     "related: [elbow-pain]", r"wrist-pain\.md: related\[0\]: unknown related condition 'elbow-pain'"),
    ("duplicate-condition-slug", "content/conditions/wrist-pain.md", "slug: wrist-pain",
     "slug: knee-pain", r"duplicate slug 'knee-pain'"),
    ("source-javascript", "content/conditions/wrist-pain.md", "related: [knee-pain]",
     "related: [knee-pain]\nsources: [{title: x, url: 'javascript:alert(1)'}]",
     r"wrist-pain\.md:\d+: sources\[0\]\.url: .*not an http"),
    # issue 13: pictures need alt text and a file; phones must dial; themes can't inject CSS
    ("image-without-alt", "config/site.yaml", "categories: {primary: Acupuncturist}",
     "categories: {primary: Acupuncturist}\n  logo: {file: logo.png}",
     r"config/site\.yaml:\d+: business\.logo\.alt: required field is missing"),
    ("image-empty-alt", "config/site.yaml", "categories: {primary: Acupuncturist}",
     "categories: {primary: Acupuncturist}\n  logo: {file: logo.png, alt: ''}",
     r"config/site\.yaml:\d+: business\.logo\.alt: must not be blank"),
    ("image-missing-file", "config/site.yaml", "categories: {primary: Acupuncturist}",
     "categories: {primary: Acupuncturist}\n  logo: {file: logo.png, alt: Logo}",
     r"config/site\.yaml:\d+: business\.logo\.file: image not found: content/images/logo\.png"),
    ("image-path-escape", "config/site.yaml", "categories: {primary: Acupuncturist}",
     "categories: {primary: Acupuncturist}\n  logo: {file: ../config/x.png, alt: Logo}",
     r"business\.logo\.file: .*relative path inside the folder"),
    ("image-not-a-picture", "config/site.yaml", "categories: {primary: Acupuncturist}",
     "categories: {primary: Acupuncturist}\n  logo: {file: logo.svg, alt: Logo}",
     r"business\.logo\.file: 'logo\.svg' is not a JPEG, PNG or WebP file"),
    ("phone-not-dialable", "config/site.yaml", '  telephone: "+1-303-555-0100"\n  description',
     '  telephone: "+44 20 1234"\n  description',
     r"config/site\.yaml:\d+: business\.telephone: '\+44 20 1234' is not a valid phone number"),
    ("practitioner-treats-unknown", "config/site.yaml", "credentials: L.Ac.}",
     "credentials: L.Ac., treats: [elbow-pain]}",
     r"business\.practitioners\[0\]\.treats\[0\]: unknown condition 'elbow-pain'"),
    ("theme-css-injection", "config/site.yaml", "  output: build/site",
     "  output: build/site\n  theme: {font: 'a;}body{display:none'}",
     r"site\.theme\.font: String should match pattern"),
    ("theme-bad-color", "config/site.yaml", "  output: build/site",
     "  output: build/site\n  theme: {accent: 'red;x'}", r"site\.theme\.accent: String should match"),
    ("font-not-woff2", "config/site.yaml", "  output: build/site",
     "  output: build/site\n  theme: {fonts: [{family: Inter, file: inter.ttf}]}",
     r"site\.theme\.fonts\[0\]\.file: 'inter\.ttf': web fonts must be \.woff2 files"),
    ("brand-color-unreadable", "config/site.yaml", "  output: build/site",
     "  output: build/site\n  theme_color: '#f0d000'",
     r"config/site\.yaml:\d+: site\.theme_color: #f0d000 against white text \(#ffffff\) has "
     r"contrast 1\.\d:1; text needs at least 4\.5:1"),
    ("unknown-locale", "config/site.yaml", "  output: build/site",
     "  output: build/site\n  locale: fr-FR", r"site\.locale: Input should be 'en-US' or 'en-GB'"),
]


@pytest.mark.parametrize("name,file,old,new,pattern", CASES, ids=[c[0] for c in CASES])
def test_bad_input(mini: Path, name: str, file: str, old: str, new: str, pattern: str) -> None:
    edit(mini / file, old, new)
    assert_one_line_error(mini, pattern)


def test_notes_for_unknown_town(mini: Path) -> None:
    (mini / "content/towns/gamma.md").write_text("Notes.\n")
    assert_one_line_error(mini, r"content/towns/gamma\.md: notes for unknown town 'gamma'")


def test_notes_for_unknown_condition(mini: Path) -> None:
    (mini / "content/towns/alpha/elbow-pain.md").write_text("Notes.\n")
    assert_one_line_error(mini, r"content/towns/alpha/elbow-pain\.md: notes for unknown condition")


def test_template_with_undefined_variable(mini: Path) -> None:
    (mini / "templates").mkdir()
    (mini / "templates/cta.html.j2").write_text("<p>Call {{ business.fax_number }} today</p>\n")
    line = assert_one_line_error(mini, r"templates/cta\.html\.j2:1: undefined variable")
    assert "fax_number" in line


def test_unreadable_image(mini: Path) -> None:
    edit(mini / "config/site.yaml", "categories: {primary: Acupuncturist}",
         "categories: {primary: Acupuncturist}\n  logo: {file: logo.png, alt: Logo}")
    (mini / "content/images").mkdir()
    (mini / "content/images/logo.png").write_bytes(b"not a picture")
    proc = run_seo("pages", "build", "--root", str(mini))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip() == ("error: content/images/logo.png: not a readable JPEG, PNG or "
                                   "WebP image (UnidentifiedImageError)")


def test_biography_for_unknown_practitioner(mini: Path) -> None:
    (mini / "content/practitioners").mkdir()
    (mini / "content/practitioners/nobody.md").write_text("A bio.\n")
    assert_one_line_error(mini, r"content/practitioners/nobody\.md: biography for unknown "
                                r"practitioner 'nobody' \(known: doc\)")


def test_missing_config_file(mini: Path) -> None:
    (mini / "config/towns.yaml").unlink()
    assert_one_line_error(mini, r"config/towns\.yaml: file not found")


@pytest.mark.parametrize("args,pattern", [
    (["pages", "build", "--town", "nowhere"], r"--town: unknown town 'nowhere'"),
    (["pages", "build", "--condition", "gout"], r"--condition: unknown condition 'gout'"),
])
def test_bad_cli_arguments(mini: Path, args: list[str], pattern: str) -> None:
    proc = run_seo(*args, "--root", str(mini))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert re.search(pattern, proc.stderr), proc.stderr
