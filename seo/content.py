"""Condition articles and town notes: Markdown files with YAML front matter under `content/`.

content/conditions/<slug>.md          one condition: structured front matter + the full article
content/towns/<town>.md               staff's notes about a town (shown on every page for that town)
content/towns/<town>/<condition>.md   optional notes for one town x condition page

Markdown is converted here (by `seo.markdown_safe`: text with links, never author markup), once per
file, never once per page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pydantic import Field

from .errors import UserError
from .files import Reader
from .markdown_safe import to_html
from .settings import NonEmpty, Slug, Strict, Url
from .validate import validate_model
from .values import Name, OptionalName, PastDay
from .yamlio import Located, parse_yaml

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)^---[ \t]*\n?", re.S | re.M)


class Source(Strict):
    title: Name
    url: Url


class Review(Strict):
    date: PastDay
    by: Slug  # a practitioner id from config


class ConditionMeta(Strict):
    name: Name
    slug: Slug
    short_name: OptionalName = ""  # lower-case form used inside sentences and titles
    synonyms: list[Name] = []
    summary: NonEmpty
    symptoms: list[NonEmpty] = Field(min_length=1)
    causes: list[NonEmpty] = Field(min_length=1)
    tcm_view: NonEmpty
    treatment: list[NonEmpty] = Field(min_length=1)
    what_to_expect: NonEmpty
    sessions: NonEmpty
    self_care: list[NonEmpty] = []
    related: list[Slug] = []
    sources: list[Source] = []
    reviewed: Review | None = None


@dataclass(frozen=True)
class Condition:
    meta: ConditionMeta
    body: str  # Markdown
    file: str
    source_text: str  # raw file text, for fingerprints and the claims lint

    @cached_property
    def body_html(self) -> str:
        """Converted on first use, once per build (a no-change build converts nothing)."""
        return to_html(self.body)

    @property
    def slug(self) -> str:
        return self.meta.slug

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def phrase(self) -> str:
        return self.meta.short_name or self.meta.name.lower()


@dataclass(frozen=True)
class Note:
    text: str
    file: str

    @cached_property
    def html(self) -> str:
        return to_html(self.text)


def split_front_matter(text: str, file: str) -> tuple[Located, str, int]:
    match = FRONT_MATTER.match(text)
    if not match:
        raise UserError("missing YAML front matter (a block between '---' lines at the top)", file=file,
                        line=1)
    located = parse_yaml(match.group(1), file, line_offset=1)
    if not isinstance(located.data, dict):
        raise UserError("front matter must be a mapping of keys to values", file=file, line=2)
    body_line = text[: match.end()].count("\n") + 1
    return located, text[match.end():], body_line


def read_text(path: Path, display: str, reader: Reader | None) -> str:
    """A content file: inside the project, a regular file, UTF-8; Windows line ends accepted."""
    return (reader or Reader(None)).text(path, display).replace("\r\n", "\n")


def load_condition(path: Path, display: str, reader: Reader | None = None) -> Condition:
    text = read_text(path, display, reader)
    located, body, _ = split_front_matter(text, display)
    meta = validate_model(ConditionMeta, located)
    return Condition(meta=meta, body=body.strip(), file=display, source_text=text)


def load_note(path: Path, display: str, reader: Reader | None = None) -> Note:
    text = read_text(path, display, reader)
    if FRONT_MATTER.match(text):
        raise UserError("town notes are plain Markdown; remove the front matter block", file=display,
                        line=1)
    body = text.strip()
    if not body:
        raise UserError("note is empty", file=display)
    return Note(text=body, file=display)


CLAIMS = re.compile(
    r"\b(cures?|cured|curing|guarantee[sd]?|guaranteeing|100\s?%|miracle|permanent(?:ly)? "
    r"(?:fix|cure|relief)|eliminates? (?:all )?pain|never (?:come|comes) back|risk[- ]free)\b",
    re.I,
)


def lint_claims(text: str, file: str) -> list[str]:
    """Cure/guarantee claims in health content (YMYL): one finding per offending line."""
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        for match in CLAIMS.finditer(line):
            findings.append(f"{file}:{number}: claim {match.group(0)!r}: health content must not "
                            "promise a cure or a result")
    return findings

