"""No config value can make a build or a publish delete project files: overlapping targets are
refused before anything is written, and a publish deletes only what an earlier publish wrote."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from hostile_support import check_error, one_line_error, run_cli

from seo import safety


def snapshot(root: Path) -> dict[str, str]:
    """Every file and symlink under `root` (symlinks by their target, never followed); the SQLite
    store (opening it touches its journal) and the writers' lock files are left out."""
    out = {}
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if rel.startswith("build/seo.sqlite3") or rel.endswith(".lock"):
                continue
            out[rel] = ("-> " + os.readlink(path)) if path.is_symlink() else \
                hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def set_option(root: Path, key: str, value: str) -> None:
    site = root / "config/site.yaml"
    text = site.read_text()
    if key == "publish":
        text = text.replace("site:\n", f"site:\n  publish: {{path: {value}}}\n", 1)
    else:
        text = text.replace("  output: build/site\n", f"  output: {value}\n", 1)
    site.write_text(text)


@pytest.fixture
def built(mini: Path) -> Path:
    (mini / ".git").mkdir()
    (mini / ".git/HEAD").write_text("ref: refs/heads/main\n")
    assert run_cli("pages", "build", "--root", str(mini)).code == 0
    return mini


@pytest.mark.parametrize("value,pattern", [
    ('"."', r"is the project folder"),
    ('""', r"is the project folder"),
    ("..", r"contains the project folder"),
    ("build", r"contains the build output"),
    ("content", r"is content/"),
    ("config/public", r"is inside config/"),
    ("templates", r"is templates/"),
    (".git", r"is \.git"),
    ("build/site", r"is the build output"),
    ("build/site/public", r"is inside the build output"),
    ("build/seo.sqlite3", r"is the store"),
    ("build/outbox", r"is the report outbox"),
])
def test_publish_target_overlapping_the_project_is_refused(built: Path, value: str,
                                                           pattern: str) -> None:
    set_option(built, "publish", value)
    before = snapshot(built)
    ran = run_cli("publish", "--root", str(built))
    one_line_error(ran, rf"^error: config/site\.yaml: site\.publish\.path: .*{pattern}.*; refused")
    assert snapshot(built) == before
    check_error(built, rf"site\.publish\.path: .*{pattern}")


def test_publish_target_reaching_the_project_through_a_symlink(built: Path, tmp_path: Path) -> None:
    (tmp_path / "www").symlink_to(built / "content")
    set_option(built, "publish", str(tmp_path / "www"))
    before = snapshot(built)
    one_line_error(run_cli("publish", "--root", str(built)), r"is content/; refused")
    assert snapshot(built) == before


@pytest.mark.parametrize("value,pattern", [
    ('"."', r"is the project folder"), ("build", r"contains the store"),
    ("content", r"is content/"), ("..", r"contains the project folder"),
    ("build/public", r"is the build output"), ('".git"', r"is \.git"),
])
def test_build_output_overlapping_the_project_is_refused(mini: Path, value: str,
                                                         pattern: str) -> None:
    (mini / ".git").mkdir()
    set_option(mini, "output", value)
    before = snapshot(mini)
    one_line_error(run_cli("pages", "build", "--root", str(mini)),
                   rf"^error: config/site\.yaml: site\.(output|publish\.path): .*({pattern})")
    assert snapshot(mini) == before
    if value != "build/public":  # preview serves the output; only its own overlaps matter
        one_line_error(run_cli("preview", "--root", str(mini), "--port", "0"), r"refused")


def test_publish_deletes_only_what_it_wrote(built: Path) -> None:
    target = built / "build/public"
    target.mkdir(parents=True)
    (target / "keep.txt").write_text("the web host's own file\n")
    (target / "media").mkdir()
    (target / "media/photo.jpg").write_bytes(b"\xff\xd8 not ours")
    (target / "shared").symlink_to("/usr/share")
    ran = run_cli("publish", "--root", str(built))
    assert ran.code == 0, ran.stderr
    manifest = json.loads((target / safety.MANIFEST).read_text())
    assert "alpha/knee-pain/index.html" in manifest["files"] and "keep.txt" not in manifest["files"]

    # a town goes: its pages leave the build; one of them was edited on the server meanwhile
    towns = built / "config/towns.yaml"
    towns.write_text(towns.read_text().split("  - name: Beta Springs")[0])
    for folder in ("content/towns/beta-springs",):
        for f in (built / folder).iterdir():
            f.unlink()
        (built / folder).rmdir()
    (built / "content/towns/beta-springs.md").unlink()
    edited = target / "beta-springs/wrist-pain/index.html"
    edited.write_text(edited.read_text() + "<!-- edited on the server -->")
    dry_build = run_cli("pages", "build", "--dry-run", "--root", str(built))
    assert "  would delete beta-springs/knee-pain/index.html" in dry_build.stdout
    assert (built / "build/site/beta-springs/knee-pain/index.html").exists()
    assert run_cli("pages", "build", "--root", str(built)).code == 0

    dry = run_cli("publish", "--dry-run", "--root", str(built))
    assert dry.code == 0, dry.stderr
    assert "  would remove beta-springs/index.html" in dry.stdout
    assert "  would remove beta-springs/knee-pain/index.html" in dry.stdout
    assert ("  skip beta-springs/wrist-pain/index.html (no longer published, but changed since seo "
            "wrote it; left)") in dry.stdout
    assert (target / "beta-springs/index.html").exists()  # dry run: nothing deleted

    ran = run_cli("publish", "--root", str(built))
    assert ran.code == 0, ran.stderr
    assert not (target / "beta-springs/index.html").exists()
    assert not (target / "beta-springs/knee-pain/index.html").exists()
    assert edited.exists()  # ours once, but changed since: left in place
    assert (target / "keep.txt").read_text() == "the web host's own file\n"
    assert (target / "media/photo.jpg").read_bytes() == b"\xff\xd8 not ours"
    assert os.readlink(target / "shared") == "/usr/share"


def test_publish_never_replaces_a_file_it_did_not_write(built: Path) -> None:
    target = built / "build/public"
    target.mkdir(parents=True)
    (target / "index.html").write_text("<p>someone else's home page</p>\n")
    before = snapshot(built)
    one_line_error(run_cli("publish", "--root", str(built)),
                   r"build/public/index\.html exists and was not written by seo publish")
    assert snapshot(built) == before


def test_a_hostile_manifest_deletes_nothing(built: Path) -> None:
    target = built / "build/public"
    target.mkdir(parents=True)
    sha = hashlib.sha256((built / "config/site.yaml").read_bytes()).hexdigest()
    (target / safety.MANIFEST).write_text(json.dumps(
        {"version": 1, "files": {"../../config/site.yaml": sha}}))
    before = snapshot(built)
    one_line_error(run_cli("publish", "--root", str(built)), r"not a manifest this tool wrote")
    assert snapshot(built) == before


def test_a_symlink_in_the_build_output_is_not_published(built: Path, tmp_path: Path) -> None:
    secret = tmp_path / "token.json"
    secret.write_text("SECRET")
    (built / "build/site/token.json").symlink_to(secret)
    one_line_error(run_cli("publish", "--root", str(built)),
                   r"build/site: token\.json is a symlink; refused")
    assert not (built / "build/public").exists()


@pytest.mark.parametrize("files,new,current,delete,kept,conflicts", [
    ({"a": "1", "b": "2"}, {"a": "1"}, {"a": "1", "b": "2"}, ["b"], [], []),
    ({"a": "1", "b": "2"}, {"a": "1"}, {"a": "1", "b": "9"}, [], ["b"], []),
    ({"a": "1"}, {"a": "1", "c": "3"}, {"a": "1", "c": "4"}, [], [], ["c"]),
    ({"a": "1"}, {"a": "1", "c": "3"}, {"a": "1", "c": "3"}, [], [], []),
    ({"a": "1", "b": "2"}, {}, {"a": None, "b": "2"}, ["b"], [], []),
])
def test_plan_deletions(files, new, current, delete, kept, conflicts) -> None:
    plan = safety.plan_deletions(safety.Manifest(files), new, current)
    assert (plan.delete, plan.kept, plan.conflicts) == (delete, kept, conflicts)


@pytest.mark.parametrize("rel,ok", [("a/b.html", True), ("../a", False), ("/etc/x", False),
                                    ("a//b", False), ("a/./b", False), ("", False), ("a\\b", False)])
def test_safe_relpath(rel: str, ok: bool) -> None:
    assert safety.safe_relpath(rel) is ok


def test_an_unwritable_output_folder_is_one_line(mini: Path) -> None:
    set_option(mini, "output", "/proc/seo-site")  # the machine refuses, whoever runs the test
    one_line_error(run_cli("pages", "build", "--root", str(mini)),
                   r"^error: No such file or directory: /proc/\.seo-site\.lock$", code=1)
