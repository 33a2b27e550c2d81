"""YAML as hostile input: limits, recursion, complex keys, control characters, BOM; both parsers
(libyaml's C parser and the pure-Python one) give the same data, lines and errors."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from hostile_support import check_error, run_cli

from seo import yamlio
from seo.errors import UserError
from seo.yamlio import parse_yaml

PARSERS = [pytest.param(False, id="libyaml"), pytest.param(True, id="python")]

BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['lol'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefg"], "abcdefgh", strict=True))


def test_the_c_parser_is_available() -> None:
    assert yamlio.CParser is not None, "PyYAML without libyaml: towns.yaml loads 7x slower"


@pytest.mark.parametrize("pure", PARSERS)
@pytest.mark.parametrize("text,message,line", [
    ("loop: &r [*r]\n", "recursive alias", 1),
    ("a: 1\nloop: &r {b: *r}\n", "recursive alias", 2),
    ("? [a, b]\n: 1\n", "complex key", 1),
    ("x: {? {a: 1} : 2}\n", "complex key", 1),
    ("a: &k [1]\n*k : 2\n", "complex key", 2),
    ('x: "a\\0b"\n', "control character U\\+0000", 1),
    ("x: a\0b\n", "control character U\\+0000", 1),
    ('a: 1\nx: "\\e[31mred"\n', "control character U\\+001B", 2),
    ("x: " + "[" * 500 + "]" * 500 + "\n", "nested deeper than 50 levels", 1),
    ("".join("  " * i + f"k{i}:\n" for i in range(200)), "nested deeper than 50 levels", 51),
    (BOMB, "aliases expand to more than 1,000,000 values", 7),
    ("a: 1\nb: 2\na: 3\n", "a: duplicate key 'a'", 3),
    ("a: 1\n---\nb: 2\n", "more than one YAML document", 2),
    ("a: !!python/object/apply:os.system [true]\n", "unsupported tag", 1),
    ("a: !!binary AAAA\n", "unsupported tag", 1),
    ("a: !!set {x}\n", "unsupported tag", 1),
    ("a: 2024-13-45\n", "cannot read '2024-13-45' as a date", 1),
    ("a: " + "9" * 5000 + "\n", "as an integer", 1),
    ("a: *nowhere\n", "alias \\*nowhere has no anchor", 1),
    ('a: "open\n', "malformed YAML", 2),
    ("a: {<<: 5}\n", "`<<` merges a mapping", 1),
])
def test_hostile_yaml_is_one_line(pure: bool, text: str, message: str, line: int) -> None:
    started = time.perf_counter()
    with pytest.raises(UserError) as err:
        parse_yaml(text, "config/x.yaml", pure=pure)
    assert time.perf_counter() - started < 1
    shown = str(err.value)
    assert len(shown.splitlines()) == 1
    assert shown.startswith(f"config/x.yaml:{line}: "), shown
    assert re.search(message, shown), shown


@pytest.mark.parametrize("pure", PARSERS)
def test_data_lines_examples_and_merges(pure: bool) -> None:
    text = ("\ufeffbase: &b {x: 1, y: 2}\n"
            "c:\n  <<: *b\n  y: 3\n"
            "e: !example 5\nf: !example '5'\n"
            "g: &g !example {lat: 1}\nh: *g\n"
            "when: 2026-01-02\n"
            "list:\n  - one\n  - {k: v}\n")
    got = parse_yaml(text, "f.yaml", pure=pure)
    assert got.data == {"base": {"x": 1, "y": 2}, "c": {"y": 3, "x": 1}, "e": 5, "f": "5",
                        "g": {"lat": 1}, "h": {"lat": 1}, "when": yaml.safe_load("d: 2026-01-02")["d"],
                        "list": ["one", {"k": "v"}]}
    assert got.examples == ["e", "f", "g", "h"]
    assert got.line_of("c.y") == 4 and got.line_of("c.x") == 3  # merged keys: the `<<` line
    assert got.line_of("list[1].k") == 12 and got.line_of("g.lat") == 7


def test_both_parsers_agree_on_a_large_file(tmp_path: Path) -> None:
    towns = {"towns": [{"name": f"Town {i}", "slug": f"town-{i}", "geo": {"lat": 39.5 + i / 1e4,
                                                                          "lng": -104.9},
                        "roads": [f"Road {j}" for j in range(3)], "zip_codes": ["80000"]}
                       for i in range(300)]}
    text = yaml.safe_dump(towns, sort_keys=False)
    fast, slow = parse_yaml(text, "t.yaml"), parse_yaml(text, "t.yaml", pure=True)
    assert fast.data == slow.data == yaml.safe_load(text)
    assert fast.lines == slow.lines and fast.line_of("towns[299].roads[2]") == text.count("\n") - 2


def test_document_size_is_limited(monkeypatch) -> None:
    monkeypatch.setattr(yamlio, "MAX_BYTES", 1000)
    with pytest.raises(UserError, match="larger than"):
        parse_yaml("a: " + "x" * 2000, "f.yaml")


def test_bom_in_a_condition_file_is_accepted(mini: Path) -> None:
    cond = mini / "content/conditions/knee-pain.md"
    cond.write_bytes(b"\xef\xbb\xbf" + cond.read_bytes().replace(b"\n", b"\r\n"))
    site_yaml = mini / "config/site.yaml"
    site_yaml.write_bytes(b"\xef\xbb\xbf" + site_yaml.read_bytes())
    ran = run_cli("check", "--root", str(mini))
    assert ran.code == 0, ran.stderr


@pytest.mark.parametrize("addition,pattern", [
    ("loop: &r [*r]\n", r"config/site\.yaml:\d+: alias \*r refers to a value that contains it"),
    ("? [a, b]\n: 1\n", r"config/site\.yaml:\d+: a list or mapping used as a key"),
    ('extra: "nul \\0 here"\n', r"config/site\.yaml:\d+: control character U\+0000"),
    ("deep: " + "[" * 500 + "]" * 500 + "\n", r"config/site\.yaml:\d+: nested deeper than 50"),
    (BOMB, r"config/site\.yaml:\d+: aliases expand to more than"),
])
def test_hostile_config_through_the_cli(mini: Path, addition: str, pattern: str) -> None:
    path = mini / "config/site.yaml"
    path.write_text(path.read_text() + addition)
    started = time.perf_counter()
    check_error(mini, pattern)
    assert time.perf_counter() - started < 5


def test_hostile_front_matter_through_the_cli(mini: Path) -> None:
    cond = mini / "content/conditions/knee-pain.md"
    cond.write_text(cond.read_text().replace("---\n", "---\nloop: &r [*r]\n", 1))
    check_error(mini, r"content/conditions/knee-pain\.md:2: alias \*r refers to a value")
