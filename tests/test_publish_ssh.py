"""The `ssh` publish target against a real OpenSSH server on loopback (temporary host and user keys,
host-key checking on): releases uploaded with rsync, `current` switched atomically, nothing sent when
nothing changed, the last N releases kept, a rollback in one step, one-line errors."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import run_seo
from publish_support import cli, clinic_root, set_config, ssh_target

from seo.api import Project, build
from seo.pages.preview import serve_in_thread
from seo.publish.api import publish_site
from seo.publish.verify import verify_live

pytest_plugins = ["publish_fixtures"]  # fixtures: ssh_server

RELEASE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{12}$")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return tmp_path / "server" / "srv" / "clinic"  # the "server" is this machine


@pytest.fixture
def served(remote: Path) -> Iterator[str]:
    """A web server whose document root is the remote `current` symlink, as nginx would have it."""
    remote.mkdir(parents=True)
    server, url = serve_in_thread(remote / "current")
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def root(ssh_server: Any, remote: Path, served: str, tmp_path: Path) -> Path:
    root = clinic_root(tmp_path / "clinic")
    set_config(root, site_publish=[ssh_target(ssh_server, remote, keep=3, url=served)])
    build(Project.open(root))
    return root


def releases(remote: Path) -> list[str]:
    return sorted(p.name for p in (remote / "releases").iterdir())


def change_page(root: Path, text: str) -> None:
    note = root / "content/towns/parker/sciatica.md"
    note.write_text(note.read_text() + f"\n{text}\n")
    build(Project.open(root))


def test_publish_over_ssh_then_nothing_then_a_change(root: Path, remote: Path, served: str) -> None:
    files = sum(1 for p in (root / "build/site").rglob("*") if p.is_file())
    dry = publish_site(Project.open(root), dry_run=True)
    counts = dry.targets[0].counts()
    assert counts["create"] == files and counts["update"] == counts["remove"] == 0
    assert not (remote / "releases").exists()  # a dry run writes nothing

    first = publish_site(Project.open(root), audit=False).targets[0]
    assert RELEASE.match(first.release) and first.writes == files
    assert os.readlink(remote / "current") == f"releases/{first.release}"
    assert (remote / "current/parker/sciatica/index.html").read_bytes() == \
        (root / "build/site/parker/sciatica/index.html").read_bytes()
    verified = verify_live(Project.open(root))
    pages = len(Project.open(root).store.page_rows())
    assert verified.counts() == {"checked": pages, "live": pages, "not_live": 0}, verified.lines(True)

    again = publish_site(Project.open(root), audit=False).targets[0]
    assert again.writes == 0 and again.counts()["unchanged"] == files
    assert again.release == first.release and releases(remote) == [first.release]

    change_page(root, "Parking is free behind the building.")
    third = publish_site(Project.open(root), audit=False).targets[0]
    assert third.release != first.release and third.counts()["update"] >= 1
    assert third.writes == third.counts()["update"] + third.counts()["create"]
    assert os.readlink(remote / "current") == f"releases/{third.release}"
    # unchanged files are hard links to the previous release's (rsync --link-dest)
    a = remote / "releases" / first.release / "aurora/index.html"
    b = remote / "releases" / third.release / "aurora/index.html"
    assert a.stat().st_ino == b.stat().st_ino
    assert verify_live(Project.open(root)).counts()["checked"] == 1  # only the changed page


def test_rollback_restores_the_previous_release_in_one_step(root: Path, remote: Path) -> None:
    first = publish_site(Project.open(root), audit=False).targets[0].release
    change_page(root, "Parking is free behind the building.")
    second = publish_site(Project.open(root), audit=False).targets[0].release
    assert "Parking is free" in (remote / "current/parker/sciatica/index.html").read_text()

    proc = cli("publish", "--root", str(root), "--rollback", "--dry-run")
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert f"would switch current from {second} back to {first}" in proc.stdout
    assert proc.stdout.startswith(f"ssh: would roll back to release {first}; ")
    assert os.readlink(remote / "current") == f"releases/{second}"

    proc = run_seo("publish", "--root", str(root), "--rollback")  # the real command, once
    assert proc.returncode == 0, proc.stderr
    assert f"switched current from {second} back to {first}" in proc.stdout
    assert proc.stdout.startswith(f"ssh: rolled back to release {first}; ")
    assert os.readlink(remote / "current") == f"releases/{first}"
    assert "Parking is free" not in (remote / "current/parker/sciatica/index.html").read_text()
    assert releases(remote) == [first, second]  # nothing deleted by a rollback

    # the next publish makes a new release of the current build
    third = publish_site(Project.open(root), audit=False).targets[0]
    assert third.release not in (first, second) and third.writes >= 1


def test_keeps_the_last_releases_and_only_its_own(root: Path, remote: Path, ssh_server: Any) -> None:
    set_config(root, site_publish=[ssh_target(ssh_server, remote, keep=2)])
    made = []
    for n in range(3):
        change_page(root, f"Note number {n} about parking.")
        made.append(publish_site(Project.open(root), audit=False).targets[0].release)
        if n == 0:  # a folder of someone else's in releases/ is never touched
            (remote / "releases/backup-2019").mkdir()
            (remote / "releases/backup-2019/keep.txt").write_text("mine")
    assert sorted(made) == made and len(set(made)) == 3
    assert releases(remote) == sorted([*made[-2:], "backup-2019"])
    assert (remote / "releases/backup-2019/keep.txt").read_text() == "mine"


def test_refuses_a_current_folder_it_did_not_make(root: Path, remote: Path) -> None:
    (remote / "current").rmdir() if (remote / "current").is_dir() else None
    (remote / "current").mkdir(parents=True)
    (remote / "current/index.html").write_text("the old site")
    proc = cli("publish", "--root", str(root), "--no-audit")
    assert proc.returncode == 2
    assert re.match(r"error: config/site\.yaml: site\.publish\.path: .*/current on 127\.0\.0\.1 "
                    r"is a real folder, not a symlink this tool made", proc.stderr), proc.stderr
    assert (remote / "current/index.html").read_text() == "the old site"


@pytest.mark.parametrize("case", ["host-key", "no-known-hosts", "wrong-key"])
def test_one_line_ssh_errors(case: str, root: Path, ssh_server: Any, remote: Path,
                             tmp_path: Path) -> None:
    other = tmp_path / "known_hosts_other"
    if case == "host-key":  # another server's key recorded for this host and port
        key = ssh_server.other_key.with_suffix(".pub").read_text().split()
        other.write_text(f"[127.0.0.1]:{ssh_server.port} {key[0]} {key[1]}\n")
        set_config(root, site_publish=[ssh_target(ssh_server, remote, known_hosts=str(other))])
    elif case == "no-known-hosts":
        set_config(root, site_publish=[ssh_target(ssh_server, remote, known_hosts=str(other))])
    else:
        set_config(root, site_publish=[ssh_target(ssh_server, remote, key=str(ssh_server.other_key))])
    proc = cli("publish", "--root", str(root), "--no-audit")
    expected = {
        "host-key": r"error: config/site\.yaml: site\.publish\.known_hosts: the host key of "
                    r"\S+@127\.0\.0\.1:\d+ is not the one in",
        "no-known-hosts": r"error: config/site\.yaml: site\.publish\.known_hosts: known_hosts "
                          r"file \S+ not found",
        "wrong-key": r"error: config/site\.yaml: site\.publish\.key: \S+@127\.0\.0\.1:\d+ refused "
                     r"the key",
    }[case]
    assert proc.returncode == 2 and re.match(expected, proc.stderr), proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert not (remote / "releases").exists()


def test_a_new_release_sorts_after_every_release_made_before() -> None:
    """Rollback takes the release before `current` by name: two publishes in one second (or a
    server clock set back) must still name the newer release after the older one."""
    from datetime import UTC, datetime

    from seo.publish.ssh import release_name
    now = datetime(2026, 12, 2, 4, 30, 9, 500000, tzinfo=UTC)
    first = release_name([], "f" * 64, now)
    assert first == "20261202T043009Z-ffffffffffff"
    same_second = release_name([first], "0" * 64, now)
    assert same_second == "20261202T043010Z-000000000000" and same_second > first
    clock_back = release_name([first, same_second], "a" * 64, datetime(2026, 1, 1, tzinfo=UTC))
    assert clock_back > same_second
    assert release_name(["20261399T999999Z-000000000000"], "b" * 64, now).startswith("20261202T043009Z")
