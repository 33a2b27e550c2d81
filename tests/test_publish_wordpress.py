"""The `wordpress` publish target against a real WordPress (Debian's package, MariaDB, PHP's server,
the companion plugin from wordpress/): the clinic published as a page hierarchy with its head fields,
nothing sent when nothing changed, removed pages drafted, staff edits left alone, one-line errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import lxml.html
import pytest
import yaml
from conftest import run_seo
from publish_support import cli, clinic_root, set_config, wordpress_target

from seo.api import Project, build
from seo.publish.api import publish_site
from seo.publish.verify import verify_live

pytest_plugins = ["publish_fixtures"]  # fixtures: wordpress_server, wp


@pytest.fixture
def root(wp: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = clinic_root(tmp_path / "clinic", url=wp.url)
    set_config(root, site_publish=[wordpress_target(wp)])
    monkeypatch.setenv("SEO_WORDPRESS_PASSWORD", wp.password)
    build(Project.open(root))
    return root


def head_of(body: str) -> dict[str, Any]:
    doc = lxml.html.document_fromstring(body.encode())
    return {"title": doc.xpath("//title/text()"),
            "description": doc.xpath('//meta[@name="description"]/@content'),
            "robots": doc.xpath('//meta[@name="robots"]/@content'),
            "canonical": doc.xpath('//head/link[@rel="canonical"]/@href'),
            "jsonld": [json.loads(t) for t in doc.xpath('//head/script[@type="application/ld+json"]/text()')]}


def built_head(root: Path, path: str) -> dict[str, Any]:
    return head_of((root / "build/site" / path.lstrip("/") / "index.html").read_text())


def planned(root: Path) -> tuple[int, int]:
    """(pages built, folders without a page of their own: /conditions/, /practitioners/)."""
    paths = set(Project.open(root).store.page_rows())
    folders = {"/" + p.strip("/").split("/")[0] + "/" for p in paths if p.count("/") > 2} - paths
    return len(paths), len(folders)


def page_status(wp: Any, path: str) -> str:
    out = wp.php(f"$p = get_page_by_path({json.dumps(path.strip('/'))}); echo $p ? $p->post_status : 'none';")
    return out.strip()


def test_publish_the_clinic_to_wordpress(root: Path, wp: Any) -> None:
    project = Project.open(root)
    indexable = [p for p, r in project.store.page_rows().items() if r["indexable"]]
    pages, folders = planned(root)
    assert len(indexable) == pages >= 49 and folders >= 1

    dry = publish_site(project, dry_run=True)
    counts = dry.targets[0].counts()
    assert counts["create"] == pages + folders and counts["update"] == 0  # and the private folders
    assert "would create /parker/sciatica/" in "\n".join(dry.lines())
    assert wp.get("/parker/sciatica/")[0] == 404  # a dry run writes nothing

    report = publish_site(project, audit=False)
    assert report.targets[0].counts()["create"] == pages + folders
    for path in indexable:
        status, body = wp.get(path)
        assert status == 200, path
        live, want = head_of(body), built_head(root, path)
        assert live["title"] == want["title"], path
        assert live["description"] == want["description"], path
        assert live["canonical"] == want["canonical"] == [wp.url + path.lstrip("/")], path
        assert want["jsonld"][0] in live["jsonld"], path
        assert len(live["robots"]) == 1 and "index, follow" in live["robots"][0], path
    # the hierarchy of the URL paths: sciatica under parker; /conditions/ is a private folder
    assert wp.php("$p = get_page_by_path('parker/sciatica'); echo get_post($p->post_parent)->post_name;"
                  ) == "parker"
    assert wp.get("/conditions/")[0] == 404 and page_status(wp, "/conditions/") == "private"
    assert wp.get("/conditions/sciatica/")[0] == 200
    # the home page is the front page; the body is the page's main content, exactly
    assert wp.php("echo get_option('show_on_front'), ' ', get_post(get_option('page_on_front'))->post_name;"
                  ) == "page home"
    home = wp.get("/")[1]
    assert "data-seo-main" in home and head_of(home)["title"] == built_head(root, "/")["title"]
    # the pictures the pages show, and their social images, are served from WordPress's uploads
    body = wp.get("/parker/sciatica/")[1]
    doc = lxml.html.document_fromstring(body.encode())
    pictures = doc.xpath('//*[@data-seo-main]//img/@src')
    assert pictures and all(src.startswith(wp.url + "wp-content/uploads/seo-publish/images/")
                            for src in pictures)
    for src in [*pictures, *doc.xpath('//meta[@property="og:image"]/@content')]:
        path = src[len(wp.url) - 1:].split("?")[0]
        status, data = wp.get(path)
        rel = path.removeprefix("/wp-content/uploads/seo-publish/")
        assert status == 200 and data.encode("utf-8", "surrogateescape") is not None, src
        assert (root / "build/site" / rel).exists(), src

    verified = verify_live(Project.open(root))
    assert verified.counts() == {"checked": pages, "live": pages, "not_live": 0}, verified.lines(True)

    again = publish_site(Project.open(root), audit=False)
    assert again.targets[0].writes == 0
    assert again.targets[0].counts()["unchanged"] == pages + folders
    assert verify_live(Project.open(root)).counts()["checked"] == 0  # nothing new to check


def test_removed_town_becomes_drafts_and_comes_back(root: Path, wp: Any) -> None:
    publish_site(Project.open(root), audit=False)
    towns = root / "config/towns.yaml"
    original = towns.read_text()
    data = yaml.safe_load(original)
    data["towns"] = [t for t in data["towns"] if t["slug"] != "denver"]
    towns.write_text(yaml.safe_dump(data, sort_keys=False))
    aside = root.parent / "aside"
    aside.mkdir()
    for name in ("denver", "denver.md"):
        (root / "content/towns" / name).rename(aside / name)
    build(Project.open(root))

    report = publish_site(Project.open(root), audit=False)
    removed = [c.item for c in report.targets[0].changes if c.action == "remove"]
    assert removed == ["/denver/"] + [f"/denver/{c}/" for c in (
        "acute-low-back-spasm", "chronic-low-back-soreness", "neck-and-upper-back-pain",
        "pain-between-the-shoulder-blades", "sciatica")]
    assert page_status(wp, "/denver/sciatica/") == "draft"  # a draft, never deleted
    assert wp.get("/denver/")[0] == 404

    towns.write_text(original)  # the town is back: the same pages are published again
    for name in ("denver", "denver.md"):
        (aside / name).rename(root / "content/towns" / name)
    build(Project.open(root))
    report = publish_site(Project.open(root), audit=False)
    assert report.targets[0].counts()["create"] == 0 and report.targets[0].counts()["update"] >= 6
    assert wp.get("/denver/sciatica/")[0] == 200


def test_page_edited_in_wordpress_is_left_alone_unless_forced(root: Path, wp: Any) -> None:
    publish_site(Project.open(root), audit=False)
    # (a second later: WordPress keeps modified times to the second, and the page list reads a page's
    # content only when that time moved since the tool wrote it)
    wp.php("sleep(1); $p = get_page_by_path('parker/sciatica'); wp_update_post(array('ID' => $p->ID, "
           "'post_content' => '<p>Written by the front desk.</p>'));")
    # "Update" pressed on another page without changing a word: not an edit
    wp.php("$p = get_page_by_path('parker'); wp_update_post(array('ID' => $p->ID));")
    note = root / "content/towns/parker/sciatica.md"
    note.write_text(note.read_text() + "\nA new sentence from the clinic about sitting at work.\n")
    build(Project.open(root))

    report = publish_site(Project.open(root), audit=False)
    skipped = {c.item: c.detail for c in report.targets[0].changes if c.action == "skip"}
    assert "edited in WordPress since the last publish" in skipped["/parker/sciatica/"]
    assert "/parker/" not in skipped and "/parker/" in report.targets[0].published
    assert "Written by the front desk." in wp.get("/parker/sciatica/")[1]
    # not published with the new content: verify does not check it, no post will announce it
    assert "/parker/sciatica/" not in report.targets[0].published

    proc = cli("publish", "--root", str(root), "--no-audit", "--force")
    assert proc.returncode == 0, proc.stderr
    assert "A new sentence from the clinic" in wp.get("/parker/sciatica/")[1]
    assert publish_site(Project.open(root), audit=False).targets[0].writes == 0


def test_a_page_the_tool_did_not_create_is_never_touched(root: Path, wp: Any) -> None:
    own = wp.php("echo wp_insert_post(array('post_type' => 'page', 'post_status' => 'publish', "
                 "'post_name' => 'parker', 'post_title' => 'Our Parker office', "
                 "'post_content' => 'Hand-made by the clinic.'));")
    report = publish_site(Project.open(root), audit=False)
    skipped = {c.item: c.detail for c in report.targets[0].changes if c.action == "skip"}
    assert f"WordPress page {own} (not created by this tool) already holds this path" in skipped["/parker/"]
    assert "Hand-made by the clinic." in wp.get("/parker/")[1]
    # the town's condition pages hang under the clinic's own page, at their paths
    assert wp.get("/parker/sciatica/")[0] == 200
    assert wp.php("$p = get_page_by_path('parker/sciatica'); echo $p->post_parent;") == own
    assert publish_site(Project.open(root), audit=False).targets[0].writes == 0


def test_dry_run_with_example_values_says_it_would_refuse(wp: Any, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    root = clinic_root(tmp_path / "c", url=wp.url)
    set_config(root, site_publish=[wordpress_target(wp)])
    site_yaml = root / "config/site.yaml"  # one value still an example
    site_yaml.write_text(site_yaml.read_text().replace("  email: ", "  email: !example ", 1))
    monkeypatch.setenv("SEO_WORDPRESS_PASSWORD", wp.password)
    build(Project.open(root))
    proc = cli("publish", "--root", str(root), "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "would create /parker/sciatica/" in proc.stdout
    assert re.search(r"would refuse to publish: 1 example values remain in config \(first: "
                     r"config/site\.yaml:\d+: business\.email\)", proc.stdout), proc.stdout
    proc = run_seo("publish", "--root", str(root))  # the real command, once
    assert proc.returncode == 2 and proc.stderr.startswith("error: publish refused: 1 example values")
    assert wp.get("/parker/")[0] == 404


def test_one_line_errors(root: Path, wp: Any) -> None:
    """Each bad setting or site state gives one line naming what to fix, never the password."""
    reader = wp.add_user("reader", "subscriber")
    cases = [
        ("no-env", {"SEO_WORDPRESS_PASSWORD": ""}, None,
         3, r"not configured: \$SEO_WORDPRESS_PASSWORD is not set"),
        ("password", {"SEO_WORDPRESS_PASSWORD": "abcd efgh ijkl mnop qrst uvwx"}, None,
         2, r"error: config/site\.yaml: site\.publish\.user: WordPress rejected user "
            r"'clinic-admin' and the application password in \$SEO_WORDPRESS_PASSWORD \(401\)"),
        ("role", {"SEO_WORDPRESS_PASSWORD": reader}, None,
         2, r"error: config/site\.yaml: site\.publish\.user: WordPress user 'reader' may "
            r"not do this \(403"),
        ("permalinks", {}, "update_option('permalink_structure', '');",
         2, r"error: config/site\.yaml: site\.publish\.url: WordPress permalinks are set to Plain"),
        ("plugin", {}, "update_option('permalink_structure', '/%postname%/'); "
                       "require_once ABSPATH . 'wp-admin/includes/plugin.php'; "
                       "deactivate_plugins('seo-publish/seo-publish.php');",
         2, r"error: config/site\.yaml: site\.publish\.url: the companion plugin is not "
            r"active on http://127\.0\.0\.1:\d+/: install wordpress/seo-publish"),
    ]
    for case, env, php, code, expected in cases:
        if case == "role":
            set_config(root, site_publish=[wordpress_target(wp, user="reader")])
        elif case == "permalinks":
            set_config(root, site_publish=[wordpress_target(wp)])
        if php:
            wp.php(php)
        proc = cli("publish", "--root", str(root), "--no-audit", env=env)
        assert proc.returncode == code, (case, proc.stdout + proc.stderr)
        assert re.match(expected, proc.stderr), (case, proc.stderr)
        assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
        for secret in ("abcd efgh", wp.password, reader):
            assert secret not in proc.stderr + proc.stdout
    assert wp.get("/parker/")[0] == 404


def test_a_taken_slug_and_the_sites_own_front_page(root: Path, wp: Any) -> None:
    # an image in the media library took the slug `englewood`; the site shows a page of its own at /
    wp.php("wp_insert_attachment(array('post_title' => 'Map', 'post_name' => 'englewood', "
           "'post_status' => 'inherit', 'post_mime_type' => 'image/png'));")
    own = wp.php("$id = wp_insert_post(array('post_type' => 'page', 'post_status' => 'publish', "
                 "'post_name' => 'welcome', 'post_title' => 'Welcome', 'post_content' => 'Our own home.'));"
                 "update_option('show_on_front', 'page'); update_option('page_on_front', $id); echo $id;")
    report = publish_site(Project.open(root), audit=False).targets[0]
    skipped = {c.item: c.detail for c in report.changes if c.action == "skip"}
    assert skipped["/"].startswith("the site's front page is its own page (Settings > Reading)")
    assert skipped["/englewood/"].startswith("WordPress put it at /englewood-2/")
    assert skipped["/englewood/sciatica/"] == "its parent /englewood/ was not published"
    assert page_status(wp, "/englewood-2/") == "draft"  # never left live at the wrong URL
    assert "Our own home." in wp.get("/")[1] and wp.get("/parker/")[0] == 200
    assert {"/", "/englewood/", "/englewood/sciatica/"}.isdisjoint(report.published)
    counts = report.counts()
    pages, folders = planned(root)
    assert counts["create"] == pages + folders - 1 - 6 and counts["skip"] == 7  # home, and Englewood's 6

    forced = publish_site(Project.open(root), audit=False, force=True).targets[0]
    assert "/" in forced.published
    assert wp.php("echo get_post(get_option('page_on_front'))->post_name;") == "home"
    assert wp.php(f"echo get_post({own})->post_status;") == "publish"  # the clinic's page stays


def test_lost_answers_and_busy_answers_make_no_duplicates(root: Path, wp: Any) -> None:
    """Through a proxy that drops the answer to a batch of creates (WordPress made them) and answers
    429 and 503 now and then: every page exactly once, nothing sent twice blindly."""
    from servers.fault_proxy import FaultProxy
    with FaultProxy(wp.url) as proxy:
        set_config(root, site_publish=[wordpress_target(wp, url=proxy.url)])
        proxy.fault("GET", "/wp-json/wp/v2/pages", status=429, retry_after=0, times=2)
        proxy.fault("POST", "/wp-json/batch/v1", drop=True)  # the first creates: made, answer lost
        report = publish_site(Project.open(root), audit=False).targets[0]
        assert ("POST", "/wp-json/batch/v1", "dropped") in proxy.log
        assert [e for e in proxy.log if e[2] == "429"] == [("GET", "/wp-json/wp/v2/pages", "429")] * 2
        pages, folders = planned(root)
        assert report.counts()["create"] == pages + folders and len(report.published) == pages
        proxy.fault("POST", "/wp-json/batch/v1", status=503, times=1)
        note = root / "content/towns/aurora.md"
        note.write_text(note.read_text() + "\nThe Aurora light rail now stops two blocks away.\n")
        build(Project.open(root))
        changed = publish_site(Project.open(root), audit=False).targets[0]
        assert changed.counts()["update"] >= 1 and ("POST", "/wp-json/batch/v1", "503") in proxy.log
    count = wp.php("echo count(get_posts(array('post_type' => 'page', 'post_status' => 'any', "
                   "'numberposts' => -1, 'meta_key' => '_seo_path')));")
    assert count == str(pages + folders)  # no page made twice


def test_noindex_pages_keep_their_robots_and_stay_out_of_wordpress_sitemap(root: Path, wp: Any) -> None:
    site_yaml = root / "config/site.yaml"  # a strict guard: town pages lack local facts, so noindex
    site_yaml.write_text(site_yaml.read_text().replace("min_local_facts: 6", "min_local_facts: 40"))
    build(Project.open(root))
    held = [p for p, r in Project.open(root).store.page_rows().items() if not r["indexable"]]
    assert "/parker/sciatica/" in held
    publish_site(Project.open(root), audit=False)
    live = head_of(wp.get("/parker/sciatica/")[1])
    assert len(live["robots"]) == 1  # merged into WordPress's own tag
    directives = {d.strip() for d in live["robots"][0].split(",")}
    assert {"noindex", "follow"} <= directives and "index" not in directives
    assert live["canonical"] == [wp.url + "parker/"]  # to the town hub, as the build says
    sitemap = wp.get("/wp-sitemap-posts-page-1.xml")[1]
    assert wp.url + "conditions/sciatica/" in sitemap and "/parker/sciatica/" not in sitemap
    assert verify_live(Project.open(root)).counts()["not_live"] == 0
