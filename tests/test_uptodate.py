"""The up-to-date check: a rebuild with nothing changed stops early, and anything that could change
the site (an input, a template, seo's code, a missing page file, the store's pages) goes the whole
way."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import run_seo, use_store

from seo import api
from seo.pages import uptodate
from seo.pages.uptodate import build_root


def _quick(root: Path, **kwargs) -> bool:
    result, out = build_root(root, **kwargs)
    assert out == root / "build/site"
    return not isinstance(result, api.BuildResult)


@pytest.mark.stores
def test_nothing_changed_stops_early_with_the_same_summary(mini: Path) -> None:
    first, _ = build_root(mini)
    assert first.rendered == first.planned and (mini / uptodate.STAMP).is_file()
    again, _ = build_root(mini)
    assert not isinstance(again, api.BuildResult)  # answered from the stamp
    assert (again.planned, again.rendered, again.written, again.indexable, again.flagged) == (
        first.planned, 0, 0, first.indexable, first.flagged)
    dry, _ = build_root(mini, dry_run=True)
    assert dry.dry_run is True and dry.written == 0
    cli = run_seo("pages", "build", "--root", str(mini))
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.startswith(f"{first.planned} pages planned, 0 rendered, wrote 0 files, 0 deleted")


@pytest.mark.parametrize("change", ["note", "new-note", "template", "config", "page-file", "store",
                                    "code"])
def test_each_kind_of_change_goes_the_whole_way(mini: Path, change: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    build_root(mini)
    if change == "note":
        note = mini / "content/towns/alpha.md"
        note.write_text(note.read_text() + "\nA new bus stop.\n")
    elif change == "new-note":  # a note where there was none
        (mini / "content/towns/beta-springs.md").rename(mini / "beta.md")
        build_root(mini)
        (mini / "beta.md").rename(mini / "content/towns/beta-springs.md")
    elif change == "template":
        (mini / "templates").mkdir(exist_ok=True)
        shutil.copy(uptodate.BUILTIN_TEMPLATES / "cta.html.j2", mini / "templates/cta.html.j2")
        with (mini / "templates/cta.html.j2").open("a") as fh:
            fh.write("<!-- ours -->\n")
    elif change == "config":
        site = mini / "config/site.yaml"
        site.write_text(site.read_text() + "\n# a comment\n")
    elif change == "page-file":
        (mini / "build/site/alpha/knee-pain/index.html").unlink()
    elif change == "store":
        for f in (mini / "build").glob("seo.sqlite3*"):
            f.unlink()
    elif change == "code":  # seo's own code is an input: a copy of it with one line added
        code = tmp_path / "seo"
        shutil.copytree(uptodate.SEO_PACKAGE, code)
        (code / "pages/plan.py").write_text((code / "pages/plan.py").read_text() + "\n# new\n")
        monkeypatch.setattr(uptodate, "SEO_PACKAGE", code)
    assert not _quick(mini)
    if change == "page-file":
        assert (mini / "build/site/alpha/knee-pain/index.html").is_file()
    assert _quick(mini)  # and then it is up to date again


def test_a_filtered_or_job_build_drops_the_stamp(mini: Path) -> None:
    build_root(mini)
    note = mini / "content/towns/alpha.md"
    before = note.read_text()
    note.write_text(before + "\nA new bus stop.\n")
    build_root(mini, towns=["alpha"])  # renders the changed note's pages
    assert not (mini / uptodate.STAMP).exists()
    note.write_text(before)  # back to what the stamp (now gone) was taken of
    assert not _quick(mini)  # the pages built from the edit are rebuilt, not trusted
    assert _quick(mini)
    api.build(api.Project.open(mini), today=date(2026, 12, 1))  # a job's build: no stamp
    assert not (mini / uptodate.STAMP).exists()


def test_the_digest_covers_names_and_bytes(mini: Path) -> None:
    first = uptodate.input_digest(mini)
    note = mini / "content/towns/alpha.md"
    note.rename(mini / "content/towns/alpha2.md")
    renamed = uptodate.input_digest(mini)
    (mini / "content/towns/alpha2.md").rename(note)
    assert renamed != first and uptodate.input_digest(mini) == first


def test_on_postgresql_in_a_schema_and_with_pages_gone_from_the_store(mini: Path, pg_url: str) -> None:
    use_store(mini, pg_url)
    site = mini / "config/site.yaml"
    site.write_text(site.read_text().replace("  store:", "  store_schema: client_a\n  store:"))
    build_root(mini)
    assert _quick(mini)
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM client_a.pages WHERE path = '/alpha/'"))
    engine.dispose()
    assert not _quick(mini)  # the store lost a page: rebuilt and recorded again
    assert _quick(mini)


def test_a_password_in_the_store_url_is_never_written(mini: Path, pg_url: str) -> None:
    use_store(mini, pg_url.replace("seo@", "seo:secret-pw@"))  # trust auth: any password works
    build_root(mini)
    assert not (mini / uptodate.STAMP).exists()  # no stamp rather than one with the password
    assert not _quick(mini)
