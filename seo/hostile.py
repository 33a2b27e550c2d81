"""Text from strangers (reviews, reviewer names, search keywords) made safe to show.

A terminal obeys escape sequences (colours, cursor moves, window titles, even clipboard writes),
and bidirectional-override characters make text read differently from what it is. Such text is
shown with every control, format and bidi character removed and its length bounded; it is never
run, and never read as instructions. HTML escaping is the template's job (autoescape).
"""

from __future__ import annotations

import re
import unicodedata

_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def plain(text: object, limit: int = 0) -> str:
    """One line: escape sequences, control and format characters removed, spaces collapsed."""
    s = _ANSI.sub("", str(text or ""))
    s = _INVISIBLE.sub("", s)
    s = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in s)
    s = " ".join(s.split())
    if limit and len(s) > limit:
        s = s[:max(limit - 1, 1)].rstrip() + "…"
    return s


def terminal(text: object) -> str:
    """For a line the tool laid out itself (columns, indents) holding outside text: escape
    sequences, control, format and bidi characters removed; spacing kept."""
    s = _INVISIBLE.sub("", _ANSI.sub("", str(text or "")))
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in s)
