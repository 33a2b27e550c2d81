"""Page generation: incremental and atomic writes, sitemap, guard, filters, publish."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import run_seo

from seo import api
from seo.errors import UserError
from seo.pages import guard
from seo.store import page_events, pages

DAY1, DAY2 = date(2026, 11, 1), date(2026, 11, 8)


def build(root: Path, today: date = DAY1, **kw):
    return api.build(api.Project.open(root), today=today, **kw)


def test_rebuild_with_nothing_changed_writes_nothing(mini: Path) -> None:
    first = build(mini)
    assert first.written == 25 and first.rendered >= 11  # 11 pages, 11 social cards, 3 files
    stamp = {p: p.stat().st_mtime_ns for p in (mini / "build/site").rglob("*") if p.is_file()}
    again = build(mini, DAY2)
    assert (again.rendered, again.written, again.deleted) == (0, 0, 0)
    assert stamp == {p: p.stat().st_mtime_ns for p in (mini / "build/site").rglob("*")
                     if p.is_file()}


def test_content_change_rebuilds_only_affected_pages_and_moves_lastmod(mini: Path) -> None:
    build(mini)
    note = mini / "content/towns/alpha/knee-pain.md"
    note.write_text(note.read_text() + "\nThe Alpha Library lends walking poles.\n")
    result = build(mini, DAY2)
    assert "alpha/knee-pain/index.html" in result.changed_paths
    assert set(result.changed_paths) <= {"alpha/knee-pain/index.html",
                                         "beta-springs/knee-pain/index.html", "sitemap.xml"}
    assert result.rendered == 1
    sitemap = (mini / "build/site/sitemap.xml").read_text()
    entries = dict(re.findall(r"<loc>([^<]+)</loc><lastmod>([^<]+)</lastmod>", sitemap))
    assert entries.get("https://clinic.test/") == "2026-11-01"
    if "https://clinic.test/alpha/knee-pain/" in entries:
        assert entries["https://clinic.test/alpha/knee-pain/"] == "2026-11-08"
    with api.Project.open(mini).store.engine.connect() as conn:
        events = conn.execute(sa.select(page_events.c.path, page_events.c.event)
                              .where(page_events.c.day == DAY2)).all()
    assert ("/alpha/knee-pain/", "changed") in events


def test_template_change_rebuilds_every_page(mini: Path) -> None:
    build(mini)
    (mini / "templates").mkdir()
    src = Path(__file__).parent.parent / "templates/cta.html.j2"
    (mini / "templates/cta.html.j2").write_text(src.read_text().replace("Book online at any time",
                                                                         "Book online any day"))
    result = build(mini, DAY2)
    assert result.rendered == 11 and result.written == 12  # every page, and the sitemap's lastmod
    assert not any(p.endswith("og.png") for p in result.changed_paths)  # same titles: same cards
    assert "Book online any day" in (mini / "build/site/index.html").read_text()


def test_dry_run_writes_nothing(mini: Path) -> None:
    result = build(mini, dry_run=True)
    assert result.written == 25 and not (mini / "build").joinpath("site").exists()
    proc = run_seo("pages", "build", "--dry-run", "--root", str(mini))
    assert proc.returncode == 0 and "would write 25 files" in proc.stdout


def test_filters_render_only_selected_pages(mini: Path) -> None:
    build(mini)
    for f in (mini / "content/conditions").glob("*.md"):
        f.write_text(f.read_text().replace("Acupuncture can help", "Acupuncture may help"))
    result = build(mini, DAY2, towns=["alpha"], conditions=["knee-pain"])
    assert result.planned == 1 and result.rendered == 1
    assert result.changed_paths == ["alpha/knee-pain/index.html", "sitemap.xml"]


def test_crash_mid_build_leaves_old_site_whole(mini: Path, monkeypatch) -> None:
    build(mini)
    site = mini / "build/site"
    before = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    for f in (mini / "content/conditions").glob("*.md"):
        f.write_text(f.read_text().replace("Knee Pain", "Knee Ache"))
    calls = {"n": 0}
    real_write = Path.write_bytes

    def dying_write(self: Path, data: bytes) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated crash)")
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", dying_write)
    with pytest.raises(OSError):
        build(mini, DAY2)
    monkeypatch.undo()
    after = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    assert after == before  # the live site is untouched
    result = build(mini, DAY2)  # and the next build completes the change
    assert result.written > 0
    assert "Knee Ache" in (site / "conditions/knee-pain/index.html").read_text()


def test_two_pages_on_one_path_is_an_error(mini: Path) -> None:
    towns = mini / "config/towns.yaml"
    towns.write_text(towns.read_text().replace("slug: beta-springs", "slug: conditions"))
    shutil.rmtree(mini / "content/towns/beta-springs")
    (mini / "content/towns/beta-springs.md").unlink()
    (mini / "content/conditions/alpha.md").write_text(
        (mini / "content/conditions/wrist-pain.md").read_text().replace(
            "slug: wrist-pain", "slug: alpha").replace("name: Wrist Pain", "name: Alpha Pain"))
    with pytest.raises(UserError, match="two pages map to"):
        build(mini)


def test_removed_town_pages_are_deleted(mini: Path) -> None:
    build(mini)
    towns = mini / "config/towns.yaml"
    text = towns.read_text()
    towns.write_text(text[: text.index("  - name: Beta Springs")])
    shutil.rmtree(mini / "content/towns/beta-springs")
    (mini / "content/towns/beta-springs.md").unlink()
    result = build(mini, DAY2)
    assert result.deleted == 6  # three pages and their social cards
    assert not (mini / "build/site/beta-springs").exists()
    assert "beta-springs" not in (mini / "build/site/sitemap.xml").read_text()


def test_guard_catches_a_name_swap_duplicate(clinic: Path) -> None:
    """Copy Parker's notes to Aurora with the names swapped: the pair must be caught."""
    first = build(clinic)
    assert first.flagged == [] and first.indexable == 50
    notes = clinic / "content/towns"
    swap = {"Parker": "Aurora", "Stroh Ranch": "Saddle Rock", "E-470": "I-225"}
    for src in [notes / "parker.md", *sorted((notes / "parker").glob("*.md"))]:
        text = src.read_text()
        for a, b in swap.items():
            text = text.replace(a, b)
        rel = src.relative_to(notes / "parker") if src.parent.name == "parker" else Path("aurora.md")
        dst = notes / "aurora" / rel if src.parent.name == "parker" else notes / "aurora.md"
        dst.write_text(text)
    towns = clinic / "config/towns.yaml"
    parker = re.search(r"  - name: Parker\n(.*?)\n\n", towns.read_text(), re.S).group(1)
    aurora = re.search(r"  - name: Aurora\n(.*?)\n\n", towns.read_text(), re.S).group(1)
    fake = parker.replace("slug: parker", "slug: aurora").replace("39.5186", "39.7294")
    towns.write_text(towns.read_text().replace(aurora, fake))
    result = build(clinic, DAY2)
    flagged = dict(result.flagged)
    assert "/aurora/sciatica/" in flagged and "/parker/sciatica/" in flagged
    assert "/parker/sciatica/" in flagged["/aurora/sciatica/"][0]
    page = (clinic / "build/site/aurora/sciatica/index.html").read_text()
    assert '<meta name="robots" content="noindex, follow">' in page
    assert '<link rel="canonical" href="https://www.acupunctureassociates.example/aurora/">' in page
    assert "/aurora/sciatica/" not in (clinic / "build/site/sitemap.xml").read_text()
    untouched = (clinic / "build/site/denver/sciatica/index.html").read_text()
    assert '<meta name="robots" content="index, follow">' in untouched


def test_guard_requires_local_facts(mini: Path) -> None:
    settings = mini / "config/site.yaml"
    settings.write_text(settings.read_text().replace("min_local_facts: 4", "min_local_facts: 9"))
    result = build(mini)
    reasons = dict(result.flagged)
    assert any("local facts (minimum 9)" in r for r in reasons["/alpha/"])


def test_guard_similarity_is_exact_for_known_overlap() -> None:
    vocab = guard.Vocabulary()
    words = [f"w{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(200)]
    other = [f"x{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(100)]
    a = guard.shingles(vocab.ids(" ".join(words), None), 5)
    b = guard.shingles(vocab.ids(" ".join(words[:100] + other), None), 5)
    # 96 shared 5-shingles out of 196 + 196 - 96
    assert guard.jaccard(a, b) == pytest.approx(96 / 296)


def test_guard_masks_town_words_and_numbers(clinic: Path) -> None:
    site = api.Project.open(clinic).site
    parker, aurora = site.town("parker"), site.town("aurora")
    a_text = "Parker patients on E-470 drive 12 minutes"
    b_text = "Aurora patients on I-225 drive 25 minutes"
    a = guard.tokens(a_text, guard.town_words(parker))
    assert a == guard.tokens(b_text, guard.town_words(aurora))
    assert a == ["\x00", "patients", "on", "\x00", "\x00", "drive", "\x00", "minutes"]
    vocab = guard.Vocabulary()
    ids_a = vocab.ids(a_text, parker)
    ids_b = vocab.ids(b_text, aurora)
    assert (ids_a == ids_b).all() and len(set(ids_a.tolist())) == 5
    assert not (vocab.ids("Denver patients", parker) == ids_a[:2]).all()
    # the batch path gives each page exactly what the one-page path gives it
    pages = [f"<main>{t} and more words to make several windows here</main>" for t in
             (a_text, b_text, "Denver is not masked on a Parker page at all today", "")]
    towns = [parker, aurora, parker, None]
    batch = guard.analyse_many([(str(i), "town", h, t) for i, (h, t) in
                                enumerate(zip(pages, towns, strict=True))], 5, vocab)
    for i, (h, t) in enumerate(zip(pages, towns, strict=True)):
        one = guard.analyse(str(i), "town", h, t, 5, guard.Vocabulary())
        assert (one.shingles == batch[i].shingles).all()
        assert (one.signature == batch[i].signature).all() and one.facts == batch[i].facts
    assert (batch[0].shingles == batch[1].shingles).all()


def test_store_records_pages(mini: Path) -> None:
    build(mini)
    with api.Project.open(mini).store.engine.connect() as conn:
        rows = {r.path: r for r in conn.execute(sa.select(pages))}
    assert len(rows) == 11
    row = rows["/alpha/knee-pain/"]
    assert row.first_published == DAY1 and row.last_changed == DAY1 and len(row.content_hash) == 64


def test_check_lists_examples_and_publish_refuses(clinic: Path) -> None:
    proc = run_seo("check", "--root", str(clinic))
    assert proc.returncode == 0
    assert "example values to replace before publishing" in proc.stdout
    assert re.search(r"config/site\.yaml:\d+: business\.telephone", proc.stdout)
    run_seo("pages", "build", "--root", str(clinic))
    proc = run_seo("publish", "--root", str(clinic))
    assert proc.returncode == 2 and "publish refused" in proc.stderr
    assert not (clinic / "build/public").exists()


def test_claims_lint_blocks_publish(mini: Path) -> None:
    note = mini / "content/towns/alpha.md"
    note.write_text(note.read_text() + "\nWe guarantee results.\n")
    proc = run_seo("check", "--root", str(mini))
    assert proc.returncode == 1 and "content/towns/alpha.md:5: claim 'guarantee'" in proc.stdout


def test_publish_copies_atomically(mini: Path) -> None:
    build(mini)
    result = api.publish(api.Project.open(mini))
    assert result.copied == 25
    assert (mini / "build/public/alpha/knee-pain/index.html").exists()
    assert api.publish(api.Project.open(mini)).copied == 0


def test_jsonld_is_complete(mini: Path) -> None:
    build(mini)
    page = (mini / "build/site/alpha/knee-pain/index.html").read_text()
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page,
                                re.S).group(1))
    types = {node["@type"]: node for node in data["@graph"]}
    clinic = types["MedicalClinic"]
    assert clinic["@id"] == "https://clinic.test/#clinic-main"
    for key in ("name", "address", "geo", "telephone", "url", "openingHoursSpecification",
                "areaServed"):
        assert clinic[key]
    assert types["MedicalWebPage"]["lastReviewed"] == "2026-10-01"
    reviewer = types["MedicalWebPage"]["reviewedBy"]["@id"]
    assert types["Person"]["@id"] == reviewer == "https://clinic.test/practitioners/doc/#person"
    assert types["Person"]["name"] == "Pat Tester"
    assert types["MedicalClinic"]["telephone"].startswith("+1") and "-" not in clinic["telephone"]
    assert types["MedicalCondition"]["name"] == "Knee Pain"
    crumbs = types["BreadcrumbList"]["itemListElement"]
    assert [c["name"] for c in crumbs] == ["Home", "Areas we serve", "Alpha", "Knee Pain"]
    assert all(c["item"].startswith("https://clinic.test/") for c in crumbs)
    assert '"@type": "Review"' not in page and "aggregateRating" not in page


def test_titles_and_descriptions_fit_and_are_unique(clinic: Path) -> None:
    build(clinic)
    titles, descs = set(), set()
    for f in (clinic / "build/site").rglob("index.html"):
        html = f.read_text()
        title = re.search(r"<title>(.*?)</title>", html).group(1)
        desc = re.search(r'<meta name="description" content="(.*?)">', html).group(1)
        import html as h
        assert len(h.unescape(title)) <= 60, title
        assert len(h.unescape(desc)) <= 155, desc
        assert html.count("<h1") == 1
        titles.add(title)
        descs.add(desc)
    assert len(titles) == 50 and len(descs) == 50


def test_escaping_of_content(mini: Path) -> None:
    cond = mini / "content/conditions/knee-pain.md"
    cond.write_text(cond.read_text().replace("Aching after stairs", "Aching <script>x</script>"))
    build(mini)
    page = (mini / "build/site/conditions/knee-pain/index.html").read_text()
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_lsh_candidates_are_exactly_the_pairs_sharing_a_band() -> None:
    import itertools

    import numpy as np
    rng = np.random.default_rng(1)
    sigs = rng.integers(0, 3, size=(60, guard.NUM_PERM)).astype(np.uint32)  # many collisions
    got = set(map(tuple, guard.candidate_pairs(sigs).tolist()))
    expected = {(i, j) for i, j in itertools.combinations(range(60), 2)
                if any((sigs[i, b * guard.ROWS:(b + 1) * guard.ROWS]
                        == sigs[j, b * guard.ROWS:(b + 1) * guard.ROWS]).all()
                       for b in range(guard.BANDS))}
    assert got == expected and len(got) > 100


def test_two_process_build_is_byte_identical(clinic: Path, tmp_path: Path, monkeypatch) -> None:
    """Large builds render half their pages in a forked child: same files, rows and verdicts."""
    from seo.pages import build as build_module
    other = tmp_path / "other"
    shutil.copytree(clinic, other)
    sequential = build(clinic)
    monkeypatch.setattr(build_module, "PARALLEL_MIN_PAGES", 1)
    monkeypatch.setattr(build_module.threading, "active_count", lambda: 1)  # pytest's own threads
    forked = []
    real = build_module._render_in_two_processes

    def spy(todo, state):
        forked.append(len(todo))
        return real(todo, state)

    monkeypatch.setattr(build_module, "_render_in_two_processes", spy)
    parallel = build(other)
    assert forked == [50]
    assert parallel.counts() == sequential.counts()
    assert parallel.changed_paths == sequential.changed_paths

    def tree(root: Path) -> dict[str, bytes]:
        site = root / "build/site"
        return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*")
                if p.is_file()}

    assert tree(other) == tree(clinic)
    again = build(other, DAY2)  # and the incremental state it stored is complete
    assert (again.rendered, again.written) == (0, 0)
