"""Property: mutated YAML config and front matter never make `seo check` or `seo pages build` end
in a traceback, a hang or a multi-line error: exit 0, or exit 2 with one line."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(REPO / "bench"))
from mutations import FILES, KINDS, TOKENS, Op, check_and_build, make_project

ops = st.lists(st.builds(Op, st.sampled_from(KINDS), st.floats(0, 1), st.floats(0, 1).map(lambda x: x ** 3),
                         st.integers(0, len(TOKENS) - 1)), min_size=1, max_size=6)
FUZZ = settings(max_examples=30, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(file=st.sampled_from(FILES), mutations=ops)
def test_mutated_config_is_exit_0_or_one_line(file: str, mutations: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp) / "site", file, mutations)
        for outcome in check_and_build(root, limit=30):
            assert not outcome.problem(), outcome.problem()


@settings(max_examples=3, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(file=st.sampled_from(FILES), mutations=ops)
def test_mutated_config_in_a_real_process(file: str, mutations: list[Op]) -> None:
    """A few through the real `python -m seo`: what cron and the staff actually run."""
    with tempfile.TemporaryDirectory() as tmp:
        root = make_project(Path(tmp) / "site", file, mutations)
        for args in (["check"], ["pages", "build"]):
            proc = subprocess.run([sys.executable, "-m", "seo", *args, "--root", str(root)],
                                  capture_output=True, text=True, timeout=60, cwd=REPO)
            lines = proc.stderr.strip().splitlines()
            assert "Traceback" not in proc.stderr, proc.stderr
            assert proc.returncode in (0, 2), (proc.returncode, proc.stderr)
            if proc.returncode == 2:
                assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
