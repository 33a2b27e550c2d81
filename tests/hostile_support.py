"""Helpers for the hostile-input tests: the CLI in-process (fast) and the one-line-error check."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from seo.cli import main


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str
    exception: BaseException | None


def run_cli(*args: str) -> Ran:
    """`seo ARGS` in this process (click's CliRunner): what a user would see, without a fork."""
    result = CliRunner().invoke(main, list(args), catch_exceptions=True)
    exc = result.exception if not isinstance(result.exception, SystemExit) else None
    return Ran(result.exit_code, result.stdout, result.stderr, exc)


def one_line_error(ran: Ran, pattern: str, code: int = 2) -> str:
    """Assert exit `code`, no traceback, exactly one stderr line matching `pattern`."""
    assert ran.exception is None, repr(ran.exception)
    assert ran.code == code, (ran.code, ran.stdout, ran.stderr)
    lines = ran.stderr.strip().splitlines()
    assert len(lines) == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    assert re.search(pattern, lines[0]), lines[0]
    return lines[0]


def check_error(root: Path, pattern: str, code: int = 2) -> str:
    return one_line_error(run_cli("check", "--root", str(root)), pattern, code)
