"""The drafts file: proposed replies that staff read, edit and approve (`approved: true`) before
`seo reviews reply` sends them.

`seo reviews draft` merges: a reply staff edited or approved is kept as they left it; a review that
changed since its draft loses its approval (read it again); reviews answered or deleted meanwhile
drop out; new unanswered reviews get a reply from the template for their star rating. Every
reply's privacy check is written next to it. The file is written atomically and never outside the
project; an existing file that does not parse is reported and left untouched (staff work is never
overwritten).

The review's text is in the file for context only: it is cleaned of control characters, and
nothing reads it back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field

from ..atomic import atomic_write
from ..errors import UserError
from ..hostile import plain
from ..settings import Strict
from ..validate import validate_model
from ..yamlio import load_yaml
from .privacy import PrivacyLint

HEADER = """\
# Proposed replies to Google reviews, written by `seo reviews draft`.
#
# For each reply: read the review, edit `reply` if you like, then set `approved: true`.
# `seo reviews reply` sends approved replies that pass the privacy check, each one once.
# A reply must never confirm that the reviewer is a patient, mention a condition, treatment,
# practitioner, appointment or bill, or give a phone number or link: `privacy_check` says why
# a reply would be refused. `review_text` is there for context only; it is never sent.
# Running `seo reviews draft` again keeps your edits and approvals.

"""


class DraftEntry(Strict):
    review: str = Field(min_length=1)
    location: str
    stars: int | None = None
    reviewer: str = ""
    written: str = ""
    review_text: str = ""
    review_version: str = ""  # the review's updateTime the reply was drafted for
    reply: str = ""
    privacy_check: str | list[str] = "ok"
    approved: bool = False


class DraftsFile(Strict):
    replies: list[DraftEntry] = []


def drafts_path(root: Path, setting: str) -> Path:
    """The drafts file inside the project (a symlink out of it is refused)."""
    path = Path(setting)
    path = path if path.is_absolute() else root / path
    resolved = path.resolve()
    if not resolved.is_relative_to(root.resolve()):
        raise UserError("the drafts file must be inside the project folder",
                        file="config/site.yaml", key="integrations.gbp.reviews.drafts_file")
    return resolved


def read_drafts(path: Path, display: str) -> DraftsFile:
    if not path.exists():
        return DraftsFile()
    located = load_yaml(path, display)
    if located.data in (None, {}):
        return DraftsFile()
    if not isinstance(located.data, dict):
        raise UserError("expected a mapping with `replies:`", file=display, line=1)
    return validate_model(DraftsFile, located)


class _Dumper(yaml.SafeDumper):
    pass


class _Block(str):
    """Written as a YAML literal block: the text as staff will edit it, line for line."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _block(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Block, _block)


def _text_block(text: str) -> str:
    """Review text for the file: each line cleaned of control and bidi characters."""
    return "\n".join(plain(line) for line in text.splitlines() if plain(line)).strip()


def write_drafts(path: Path, entries: list[DraftEntry]) -> None:
    rows = []
    for e in entries:
        row = e.model_dump()
        for key in ("reply", "review_text"):
            if row[key].strip():
                row[key] = _Block(row[key])
        rows.append(row)
    body = yaml.dump({"replies": rows}, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     width=100)
    atomic_write(path, (HEADER + body).encode("utf-8"))


def version(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def check_text(lint: PrivacyLint, reply: str, reviewer: str) -> str | list[str]:
    hits = lint.check(reply, reviewer)
    return [h.line() for h in hits] if hits else "ok"


@dataclass
class DraftResult:
    path: Path
    added: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unapproved: list[str] = field(default_factory=list)  # approval withdrawn: review changed
    dropped: list[str] = field(default_factory=list)  # answered or deleted meanwhile
    flagged: list[str] = field(default_factory=list)  # replies the lint would refuse
    auto: int = 0  # 5-star reviews without text left to auto-reply


def merge(existing: DraftsFile, wanted: list[dict[str, Any]], lint: PrivacyLint,
          result: DraftResult) -> list[DraftEntry]:
    """`wanted`: the unanswered reviews, each with a `proposed` reply from its template."""
    old = {e.review: e for e in existing.replies}
    out = []
    for w in wanted:
        prev = old.get(w["name"])
        entry = DraftEntry(
            review=w["name"], location=w["location"], stars=w["stars"],
            reviewer=plain(w["reviewer"], 80), written=w["created"].date().isoformat(),
            review_text=_text_block(w["comment"]), review_version=version(w["updated"]),
            reply=w["proposed"], approved=False)
        if prev is None:
            result.added.append(w["name"])
        else:
            changed = bool(prev.review_version) and prev.review_version != entry.review_version
            entry = entry.model_copy(update={"reply": prev.reply,
                                             "approved": prev.approved and not changed})
            (result.unapproved if changed and prev.approved else result.kept).append(w["name"])
        check = check_text(lint, entry.reply, w["reviewer"])
        if check != "ok":
            result.flagged.append(w["name"])
        out.append(entry.model_copy(update={"privacy_check": check}))
    result.dropped = sorted(set(old) - {w["name"] for w in wanted})
    return out
