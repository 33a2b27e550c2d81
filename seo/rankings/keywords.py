"""Tracked keywords: generated from patterns (condition x town, town) plus explicit ones.

Each keyword is checked in one town (the town whose coordinates a live check is geo-targeted at)
and has a target page, so "the wrong page ranks" can be told apart from "we don't rank".
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from ..errors import UserError
from ..pages.plan import town_condition_path, town_path
from ..site import Site

FIELDS = {"condition", "town", "state", "county"}
CONDITION_FIELDS = FIELDS
TOWN_FIELDS = FIELDS - {"condition"}


@dataclass(frozen=True, order=True)
class Keyword:
    town: str  # town slug
    text: str  # normalised: lower case, single spaces
    condition: str | None  # condition slug
    target: str  # URL path of the page meant to rank, e.g. "/aurora/sciatica/"

    @property
    def key(self) -> tuple[str, str]:
        return (self.text, self.town)


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


def _fields(pattern: str, allowed: set[str], key: str) -> None:
    try:
        parsed = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(pattern)
                  if f is not None]
    except ValueError as exc:
        raise UserError(f"bad pattern {pattern!r}: {exc}", file="config/site.yaml", key=key) from None
    if any(spec or conv for _, spec, conv in parsed):  # {town:>99999999} would build a huge string
        raise UserError(f"placeholders take no format or conversion in {pattern!r} (write {{town}})",
                        file="config/site.yaml", key=key)
    if not normalise(pattern):
        raise UserError("empty pattern", file="config/site.yaml", key=key)
    names = {f for f, _, _ in parsed}
    unknown = names - allowed
    if unknown:
        raise UserError(f"unknown placeholder {{{sorted(unknown)[0]}}} in {pattern!r} "
                        f"(allowed: {', '.join('{' + f + '}' for f in sorted(allowed))})",
                        file="config/site.yaml", key=key)


def build_keywords(site: Site) -> list[Keyword]:
    """Every tracked keyword, sorted by town then text; a repeated (text, town) is kept once."""
    cfg = site.config.keywords
    out: dict[tuple[str, str], Keyword] = {}

    def add(kw: Keyword) -> None:
        if kw.text and kw.key not in out:
            out[kw.key] = kw

    for i, pattern in enumerate(cfg.patterns):
        _fields(pattern, CONDITION_FIELDS, f"keywords.patterns[{i}]")
    for i, pattern in enumerate(cfg.town_patterns):
        _fields(pattern, TOWN_FIELDS, f"keywords.town_patterns[{i}]")
    for town in site.towns:
        values = {"town": town.name.lower(), "state": town.config.state.lower(),
                  "county": town.config.county.lower()}
        for cond in site.conditions:
            for pattern in cfg.patterns:
                add(Keyword(town.slug, normalise(pattern.format(condition=cond.phrase, **values)),
                            cond.slug, town_condition_path(town.slug, cond.slug)))
        for pattern in cfg.town_patterns:
            add(Keyword(town.slug, normalise(pattern.format(**values)), None, town_path(town.slug)))
    towns = {t.slug for t in site.towns}
    conds = {c.slug for c in site.conditions}
    for i, extra in enumerate(cfg.extra):
        for j, slug in enumerate(extra.towns):
            if slug not in towns:
                raise UserError(f"unknown town {slug!r}", file="config/site.yaml",
                                key=f"keywords.extra[{i}].towns[{j}]")
        if extra.condition and extra.condition not in conds:
            raise UserError(f"unknown condition {extra.condition!r}", file="config/site.yaml",
                            key=f"keywords.extra[{i}].condition")
        for slug in extra.towns or [t.slug for t in site.towns]:
            target = extra.target or (town_condition_path(slug, extra.condition) if extra.condition
                                      else town_path(slug))
            add(Keyword(slug, normalise(extra.keyword), extra.condition, target))
    return sorted(out.values())


def select(keywords: list[Keyword], site: Site, towns: list[str] | None = None,
           texts: list[str] | None = None, conditions: list[str] | None = None) -> list[Keyword]:
    """Filter by town slugs, condition slugs and keyword text (substring match, case-insensitive)."""
    for slug in towns or ():
        site.town(slug)
    for slug in conditions or ():
        site.condition(slug)
    chosen = [k for k in keywords
              if (not towns or k.town in towns) and (not conditions or k.condition in conditions)
              and (not texts or any(normalise(t) in k.text for t in texts))]
    if texts and not chosen:
        raise UserError(f"no tracked keyword matches {texts[0]!r}", key="--keyword")
    return chosen
