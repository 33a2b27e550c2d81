"""Content, config and templates are regular files inside the project: a symlink out, a FIFO, a
device, a folder where a file belongs, a bad --root are each one line, never a traceback or a hang,
and never a secret on a page."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from conftest import run_seo
from hostile_support import check_error, one_line_error, run_cli

SECRET = "1//refresh-token-SECRET-do-not-publish"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A token file outside the project, like ~/.config/seo/google-token.json."""
    path = tmp_path / "outside" / "google-token.json"
    path.parent.mkdir()
    path.write_text(f'{{"refresh_token": "{SECRET}", "client_secret": "x"}}\n')
    return path


def assert_no_secret_published(root: Path) -> None:
    out = root / "build"
    for path in out.rglob("*") if out.exists() else []:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_symlinked_town_note_out_of_the_project_is_refused(mini: Path, secret: Path) -> None:
    note = mini / "content/towns/alpha.md"
    note.unlink()
    note.symlink_to(secret)
    check_error(mini, r"^error: content/towns/alpha\.md: leads out of the project through a symlink")
    ran = run_cli("pages", "build", "--root", str(mini))
    one_line_error(ran, r"content/towns/alpha\.md: leads out of the project")
    assert_no_secret_published(mini)


def test_symlinked_content_folder_out_of_the_project_is_refused(mini: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    (mini / "content/towns").rename(outside)
    (mini / "content/towns").symlink_to(outside)
    check_error(mini, r"content/towns/alpha\.md: leads out of the project")


@pytest.mark.parametrize("where", ["config/site.yaml", "content/conditions/knee-pain.md",
                                   "content/towns/alpha/knee-pain.md"])
def test_any_symlink_out_is_refused(mini: Path, secret: Path, where: str) -> None:
    (mini / where).unlink()
    (mini / where).symlink_to(secret)
    check_error(mini, rf"^error: {where.replace('.', r'[.]')}: leads out of the project")


def test_symlink_inside_the_project_is_followed(mini: Path) -> None:
    shared = mini / "content/shared-alpha.md"
    (mini / "content/towns/alpha.md").rename(shared)
    (mini / "content/towns/alpha.md").symlink_to("../shared-alpha.md")
    assert run_cli("check", "--root", str(mini)).code == 0


def test_symlinked_template_out_of_the_project_is_refused(mini: Path, secret: Path) -> None:
    (mini / "templates").mkdir()
    (mini / "templates/cta.html.j2").symlink_to(secret)
    check_error(mini, r"templates/cta\.html\.j2: leads out of the project")
    assert_no_secret_published(mini)


def test_dangling_symlink_and_folder_named_md(mini: Path) -> None:
    (mini / "content/conditions/gout.md").symlink_to(mini / "nowhere.md")
    check_error(mini, r"content/conditions/gout\.md: broken symlink")
    (mini / "content/conditions/gout.md").unlink()
    (mini / "content/conditions/gout.md").mkdir()
    check_error(mini, r"content/conditions/gout\.md: is a folder, not a regular file")


def test_editor_lock_files_are_ignored(mini: Path) -> None:
    (mini / "content/conditions/.#knee-pain.md").symlink_to("user@host.1234:1700000000")
    assert run_cli("check", "--root", str(mini)).code == 0


def test_towns_yaml_as_a_folder(mini: Path) -> None:
    (mini / "config/towns.yaml").unlink()
    (mini / "config/towns.yaml").mkdir()
    check_error(mini, r"^error: config/towns\.yaml: is a folder, not a regular file")


def test_fifo_note_is_refused_without_hanging(mini: Path) -> None:
    note = mini / "content/towns/alpha/knee-pain.md"
    note.unlink()
    os.mkfifo(note)
    done: list[str] = []
    worker = threading.Thread(target=lambda: done.append(
        one_line_error(run_cli("check", "--root", str(mini)), r"is a FIFO \(named pipe\)")))
    worker.start()
    worker.join(20)
    if worker.is_alive():  # unblock the reader so the test run can end, then fail
        with open(note, "w"):
            pass
        worker.join(5)
        pytest.fail("seo check hung on a FIFO")
    assert done


def test_device_as_config_is_refused(mini: Path) -> None:
    (mini / "config/site.yaml").unlink()
    (mini / "config/site.yaml").symlink_to("/dev/zero")
    check_error(mini, r"config/site\.yaml: leads out of the project")


@pytest.mark.parametrize("root,pattern", [
    ("/dev/null", r"--root: '/dev/null' is not a folder"),
    ("/x" * 2500, r"--root: '[/x]+\.\.\.' is too long"),
    ("/no/such/project", r"--root: no such folder"),
])
def test_bad_root_is_one_line(root: str, pattern: str) -> None:
    for args in (["check"], ["pages", "build"], ["publish"], ["schedule", "cron"], ["schedule", "list"]):
        one_line_error(run_cli(*args, "--root", root), pattern)


def test_bad_root_in_a_real_process() -> None:
    proc = run_seo("check", "--root", "/dev/null")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == "error: --root: '/dev/null' is not a folder"
