"""A build killed outright (SIGKILL) takes its forked render child with it, and the next build,
started at once, works; a dead build's staging folder is removed under the folder's lock, never
while another build holds it."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO
from hostile_support import one_line_error, run_cli

from seo.pages import write

sys.path.insert(0, str(REPO / "bench"))
from agency import generate

# The real CLI in a child process; the parallel threshold lowered and each page slowed a little so
# that the kill lands while both processes render (production code otherwise unchanged).
LAUNCH = """
import sys, time
from seo.pages import build, render
build.PARALLEL_MIN_PAGES = int(sys.argv[2])
slow = float(sys.argv[3])
original = render.Renderer.render
def render_slowly(self, *args, **kwargs):
    time.sleep(slow)
    return original(self, *args, **kwargs)
render.Renderer.render = render_slowly
from seo.cli import main
main(["pages", "build", "--root", sys.argv[1]])
"""


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (a dead child waits to be reaped by whoever adopted it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def kill_mid_build(root: Path, threshold: int, slow: float) -> int:
    """Start a two-process build, SIGKILL it while its child renders; return the child's pid."""
    proc = subprocess.Popen([sys.executable, "-c", LAUNCH, str(root), str(threshold), str(slow)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    staging = root / "build/.site.staging"
    deadline = time.monotonic() + 120
    kids: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        kids = children(proc.pid)
        if kids and staging.is_dir() and any(staging.rglob("index.html")):
            break
        time.sleep(0.05)
    assert proc.poll() is None and kids, "the build ended before it could be killed"
    time.sleep(0.3)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return kids[0]


def assert_gone(pid: int) -> None:
    deadline = time.monotonic() + 1
    while running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not running(pid), "the forked render child outlived the killed build"


def test_killed_build_takes_its_child_and_the_next_build_works(tmp_path: Path) -> None:
    root = generate(tmp_path / "agency", towns=24, conditions=4)
    child = kill_mid_build(root, threshold=10, slow=0.05)  # the child has seconds of work left
    assert_gone(child)
    ran = run_cli("pages", "build", "--root", str(root))  # at once
    assert ran.code == 0, ran.stderr
    assert "127 pages planned" in ran.stdout
    assert not (root / "build/.site.staging").exists()
    assert len(list((root / "build/site").rglob("index.html"))) == 127


@pytest.mark.slow
def test_killed_2000_page_build(tmp_path: Path) -> None:
    """The figure from the issue: a 2,213-page build (real threshold, full speed) killed."""
    root = generate(tmp_path / "agency", towns=200, conditions=10)
    child = kill_mid_build(root, threshold=2000, slow=0.0)
    assert_gone(child)
    ran = run_cli("pages", "build", "--root", str(root))
    assert ran.code == 0, ran.stderr
    assert "2213 pages planned" in ran.stdout and not (root / "build/.site.staging").exists()


def test_stale_staging_is_removed_even_with_nothing_to_change(mini: Path) -> None:
    assert run_cli("pages", "build", "--root", str(mini)).code == 0
    assert run_cli("publish", "--root", str(mini)).code == 0
    for name in (".site.staging", ".public.staging"):  # left by builds that were killed
        (mini / "build" / name / "alpha").mkdir(parents=True)
        (mini / "build" / name / "alpha/index.html").write_text("half written")
    build = run_cli("pages", "build", "--root", str(mini))
    assert build.code == 0 and "wrote 0 files" in build.stdout
    assert not (mini / "build/.site.staging").exists()
    assert run_cli("publish", "--root", str(mini)).code == 0
    assert not (mini / "build/.public.staging").exists()


def test_staging_is_never_removed_while_another_build_runs(mini: Path, monkeypatch) -> None:
    assert run_cli("pages", "build", "--root", str(mini)).code == 0
    staging = mini / "build/.site.staging"
    staging.mkdir()
    (staging / "busy.html").write_text("another build is writing this")
    monkeypatch.setattr(write, "LOCK_WAIT", 0.5)
    fd = os.open(mini / "build/.site.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.pwrite(fd, b"4242\n", 0)
        one_line_error(run_cli("pages", "build", "--root", str(mini)),
                       r"another build or publish of .*build/site is running \(pid 4242\)")
        assert (staging / "busy.html").exists()
    finally:
        os.close(fd)
    assert run_cli("pages", "build", "--root", str(mini)).code == 0
    assert not staging.exists()
