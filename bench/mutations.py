"""Mutated config and content for the robustness property: whatever the staff (or a hostile
commit) write, `seo check` and `seo pages build` end with exit 0 or one line and exit 2, never a
traceback or a hang.

A mutation is a list of `Op`s applied to one file of a copy of the mini fixture; the same engine
feeds the Hypothesis test (`tests/test_fuzz_config.py`, shrinkable op lists) and the 1,000-case
run (`bench/fuzz_config.py`, seeded random op lists).
"""

from __future__ import annotations

import random
import re
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MINI = REPO / "tests/fixtures/mini"

FILES = ("config/site.yaml", "config/towns.yaml", "config/schedule.yaml",
         "content/conditions/knee-pain.md", "content/towns/alpha.md",
         "content/towns/alpha/knee-pain.md")
SCHEDULE = ("timezone: America/Denver\njobs:\n  weekly:\n    cron: \"30 5 * * 1\"\n"
            "    grace_minutes: 720\n  check_rankings:\n    cron: \"30 5 * * 0,2-6\"\n")

TOKENS = (
    "&a ", "*a", "*b", "? ", "[", "]", "{", "}", ": ", "- ", ", ", "!example ", "!!str ",
    "!!python/object/apply:os.system ", "!!binary ", "!!set ", "!foo ", '"\\0"', '"\\e[31m"',
    "\t", "\n", "\n---\n", "<<: *a\n", "~", "null", "0", "-1", "1e999", ".nan", "0x1F", "0o17",
    "2099-01-01", "2024-13-45", "1970-01-01 10:00:00", "0, 0", "javascript:alert(1)",
    "<script>alert(1)</script>", '{: onclick="alert(1)" }', "[x](javascript:alert(1))",
    "![i](data:x)", "\ufeff", "é", "\U0001f642", "\u2028", "\x85", "'", '"', "#", "%", "@", "`",
    "|\n", ">\n", "a" * 300, "[" * 70 + "]" * 70, "x: &r [*r]\n", "\x00", "\x1b", "\x7f",
    "00:00", "25:00", "+1 303", "ZZ", "abc", "America", "Mars/Base", "sun#1", "mon-fri2", "L",
    "* * * * *", "61", "..", ".", "content", "build", "  ", "\r\n", "yes", "no", "on", "=",
    "9" * 5000, "- - - - -", "&b [*a, *a, *a, *a, *a, *a, *a, *a]",
    "\udcff",  # written as the byte 0xFF: not UTF-8
)
KINDS = ("insert", "delete", "duplicate", "replace", "swap_lines", "indent", "dedent", "truncate")


@dataclass(frozen=True)
class Op:
    kind: str
    where: float  # position in the text, 0..1
    size: float  # length of the slice, 0..1 of the text (capped)
    token: int  # index into TOKENS


def apply(text: str, ops: list[Op]) -> str:
    for op in ops:
        n = len(text)
        at = min(int(op.where * n), n)
        size = min(int(op.size * n), 400)
        token = TOKENS[op.token % len(TOKENS)]
        if op.kind == "insert":
            text = text[:at] + token + text[at:]
        elif op.kind == "delete":
            text = text[:at] + text[at + size:]
        elif op.kind == "duplicate":
            text = text[:at + size] + text[at:at + size] + text[at + size:]
        elif op.kind == "replace":
            text = text[:at] + token + text[at + max(size, 1):]
        elif op.kind == "truncate":
            text = text[:at]
        else:
            lines = text.split("\n")
            i = min(int(op.where * len(lines)), len(lines) - 1)
            if op.kind == "swap_lines" and len(lines) > 1:
                j = min(int(op.size * len(lines)), len(lines) - 1)
                lines[i], lines[j] = lines[j], lines[i]
            elif op.kind == "indent":
                lines[i] = "  " + lines[i]
            elif op.kind == "dedent":
                lines[i] = lines[i][2:] if lines[i].startswith("  ") else lines[i].lstrip()
            text = "\n".join(lines)
    return text


def random_ops(rng: random.Random) -> tuple[str, list[Op]]:
    """One file and 1-6 operations on it."""
    return rng.choice(FILES), [Op(rng.choice(KINDS), rng.random(), rng.random() ** 3,
                                  rng.randrange(len(TOKENS))) for _ in range(rng.randint(1, 6))]


def make_project(dest: Path, file: str, ops: list[Op]) -> Path:
    """A copy of the mini fixture with a schedule, and `ops` applied to `file`.

    The store, output and publish settings are left at their defaults so that no mutation can
    point them outside the scratch folder (those keys have tests of their own)."""
    shutil.copytree(MINI, dest, ignore=shutil.ignore_patterns("build"))
    site = dest / "config/site.yaml"
    site.write_text(re.sub(r"(?m)^  (output|store): .*\n", "", site.read_text()))
    (dest / "config/schedule.yaml").write_text(SCHEDULE)
    path = dest / file
    path.write_bytes(apply(path.read_text(encoding="utf-8"), ops).encode("utf-8", "surrogateescape"))
    return dest


@dataclass
class Outcome:
    command: str
    code: int
    stderr: str
    traceback: str = ""  # the exception, when the CLI let one escape
    seconds: float = 0.0
    hung: bool = False

    def problem(self) -> str:
        """Why this outcome breaks the property ("" when it holds)."""
        lines = self.stderr.strip().splitlines()
        if self.hung:
            return f"{self.command}: hung"
        if self.traceback:
            return f"{self.command}: traceback: {self.traceback}"
        if self.code not in (0, 2):
            return f"{self.command}: exit {self.code}: {self.stderr.strip()[:300]}"
        if self.code == 2 and (len(lines) != 1 or not lines[0].startswith("error: ")):
            return f"{self.command}: {len(lines)}-line error: {self.stderr.strip()[:300]}"
        return ""


class _Hang(Exception):
    pass


def _name(args: list[str]) -> str:
    return " ".join(a for a in args[:2] if not a.startswith("-"))


def run(args: list[str], limit: float = 30.0) -> Outcome:
    """`seo ARGS` in this process (click's CliRunner), with a time limit (SIGALRM)."""
    from click.testing import CliRunner

    from seo.cli import main

    def alarm(_signum: int, _frame: object) -> None:
        raise _Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    started = time.perf_counter()
    try:
        result = CliRunner().invoke(main, args, catch_exceptions=True)
    except _Hang:
        return Outcome(_name(args), -1, "", hung=True, seconds=limit)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    exc = result.exception
    if isinstance(exc, _Hang):
        return Outcome(_name(args), -1, "", hung=True, seconds=limit)
    shown = "" if exc is None or isinstance(exc, SystemExit) else f"{type(exc).__name__}: {exc}"
    return Outcome(_name(args), result.exit_code, result.stderr, shown[:500],
                   time.perf_counter() - started)


def check_and_build(root: Path, limit: float = 30.0) -> list[Outcome]:
    return [run(["check", "--root", str(root)], limit),
            run(["pages", "build", "--root", str(root)], limit)]
