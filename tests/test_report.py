"""The weekly report: facts from a seeded week, HTML and text with the same numbers, the first
week with nothing configured, deterministic charts, settings validation and the CLI."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import yaml
from conftest import run_seo
from report_support import WEEK, configure, seed_week

from seo.api import Project
from seo.errors import UserError
from seo.report import build_report
from seo.report.week import parse_week


@pytest.fixture
def seeded(mini):
    return seed_week(mini)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(html)
    return parser.tags


def test_week_is_iso_in_denver_and_bad_weeks_are_one_line_errors():
    # by default: the seven days up to now, in Denver. Monday 23 Nov 2026 03:00 UTC is still
    # Sunday 22 Nov there: Mon 16 - Sun 22 (W47); on Monday 05:41 Denver: Tue 17 - Mon 23, which
    # is mostly W47 too, and includes that morning up to the build
    sunday = parse_week(None, now=datetime(2026, 11, 23, 3, tzinfo=UTC))
    assert (sunday.label, sunday.start.isoformat(), sunday.end.isoformat()) == (
        "2026-W47", "2026-11-16", "2026-11-22")
    monday = parse_week(None, now=datetime(2026, 11, 23, 12, 41, tzinfo=UTC))
    assert (monday.label, monday.start.isoformat(), monday.end.isoformat()) == (
        "2026-W47", "2026-11-17", "2026-11-23")
    assert monday.span == "Nov 17-23, 2026, up to Mon, Nov 23, 5:41 AM"
    assert monday.utc_bounds() == (datetime(2026, 11, 16, 12, 41), datetime(2026, 11, 23, 12, 41))
    assert parse_week(None, now=datetime(2026, 11, 26, 18, tzinfo=UTC)).label == "2026-W48"
    week = parse_week("2026-W47")
    assert (week.start.isoformat(), week.end.isoformat(), week.span) == ("2026-11-16", "2026-11-22",
                                                                         "Nov 16-22, 2026")
    lo, hi = week.utc_bounds()
    assert (lo, hi) == (datetime(2026, 11, 16, 7), datetime(2026, 11, 23, 7))  # MST = UTC-7
    for bad in ("2026-47", "2026-W54", "next week"):
        with pytest.raises(UserError, match="--week"):
            parse_week(bad)


@pytest.mark.stores
def test_seeded_week_facts(seeded):
    report = build_report(seeded, WEEK)
    f = report.facts
    r = f.rankings
    assert (r.series, r.measured, r.not_measured) == (5, 4, 1)
    assert [m.keyword for m in r.up] == ["knee pain acupuncture alpha", "acupuncture alpha co"]
    assert [(m.keyword, m.current) for m in r.down] == [("wrist pain acupuncture alpha", 15.0)]
    assert [m.keyword for m in r.new_top3] == ["knee pain acupuncture alpha"]
    assert [m.keyword for m in r.new_top10] == ["acupuncture alpha co"]
    assert r.reasons == [("provider timed out", 1)]
    row = next(x for x in r.rows if x.keyword == "knee pain acupuncture alpha")
    assert (row.town, row.condition, row.position, row.status) == ("Alpha", "Knee Pain", 2.0, "up")
    assert len(row.trend) == 8 and row.trend[-1] == 2.0
    assert any("page created: /alpha/knee-pain/" in e for e in r.up[0].events)
    sc = f.search_console
    assert (sc.clicks, sc.prev_clicks, sc.impressions, sc.prev_impressions) == (49, 35, 1680, 1610)
    assert sc.provisional_days == 2
    assert len(f.pages.created) == 11 and f.pages.indexable == 11  # 10 location pages, 1 practitioner
    assert f.listing.posts_live == ["/alpha/knee-pain/ (main, new page)"]
    assert f.listing.posts_rejected == ["/beta-springs/ (main, new page)"]
    assert f.listing.drift == ["main: phone changed by Google (policy: report)"]
    assert [i.type for i in f.audit.new] == ["broken_link"]
    assert [i.type for i in f.audit.fixed] == ["title_too_long"]
    assert f.audit.still_open == 1
    jobs = {j.job: j for j in f.jobs}
    assert jobs["rankings:serp"].ok and jobs["rankings:serp"].runs == 7
    assert jobs["listing-drift"].problem == "last run failed"
    assert jobs["listing-drift"].error == "HTTP 403: quota is 0 for this project"
    assert jobs["audit"].problem.startswith("no run for")
    assert 3 <= len(f.summary) <= 5
    assert any("listing-drift" in a for a in f.actions)
    assert any("broken link" in a for a in f.actions)


@pytest.mark.stores
def test_html_and_text_carry_the_same_numbers(seeded):
    report = build_report(seeded, WEEK)
    html, text = report.html, report.text
    for needle in ("49", "1,680", "+40%", "not measured", "provider timed out", "/old-page/",
                   "listing-drift", "HTTP 403: quota is 0 for this project", "Wed, Nov 18"):
        assert needle in text, needle
        assert needle in html, needle
    for sentence in report.facts.summary:
        assert sentence in text
    # email-safe HTML: no scripts, no styles sheets, no remote resources, images by cid with alt
    found = tags(html)
    names = {t for t, _ in found}
    assert not names & {"script", "style", "link", "iframe", "form", "object"}
    assert not re.search(r"\son\w+=", html)
    imgs = [a for t, a in found if t == "img"]
    assert len(imgs) == len(report.charts) == 6
    cids = set(report.content_ids())
    for a in imgs:
        assert a["src"].startswith("cid:") and a["src"][4:] in cids
        assert a["alt"] and a["width"] and a["height"]
    assert "http://" not in html and "https://" not in html
    assert "<" not in text.replace("->", "")  # plain text, no markup


@pytest.mark.stores
def test_output_is_deterministic(seeded):
    a, b = build_report(seeded, WEEK), build_report(seeded, WEEK)
    assert a.html == b.html and a.text == b.text
    assert [c.png for c in a.charts] == [c.png for c in b.charts]
    for chart in a.charts:
        assert chart.png.startswith(b"\x89PNG") and b"tEXt" not in chart.png  # no Software tag


@pytest.mark.stores
def test_first_week_with_nothing_configured_is_short_and_honest(mini):
    report = build_report(Project.open(mini), WEEK)
    text = report.text
    assert "Rankings: not configured" in text and "seo auth google" in text
    assert "Search Console: not configured" in text
    assert "Business Profile: not configured" in text
    assert "Site audit: not run yet" in text
    assert "No job has run yet." in text
    assert report.charts == []
    assert 3 <= len(report.facts.summary) <= 5
    assert len(text.splitlines()) < 48  # a short line or two per section (the map pack: 3)


def test_secrets_never_reach_the_report(seeded, monkeypatch):
    monkeypatch.setenv("SEO_SMTP_PASSWORD", "hunter2-very-secret")
    from seo.store import runs
    with seeded.store.begin() as conn:
        conn.execute(runs.insert().values(job="report", started_at=datetime(2026, 11, 20, 12),
                                          status="failed", counts="{}", trigger="schedule",
                                          error="login hunter2-very-secret refused"))
    report = build_report(seeded, WEEK)
    assert "hunter2-very-secret" not in report.html + report.text
    assert "login [redacted] refused" in report.text


def test_email_settings_are_typed_and_refuse_injection(mini):
    configure(mini, email={"host": "smtp.test", "from": "seo@clinic.test", "to": ["a@clinic.test"],
                           "password_env": "SMTP_PW"})
    settings = Project.open(mini).site.config.integrations.email
    assert settings is not None and settings.smtp_port == 587 and settings.outbox == "build/outbox"
    for bad, key in (({"to": ["a@clinic.test\r\nBcc: evil@x.test"]}, "to"),
                     ({"subject_prefix": "[SEO]\nBcc: evil@x.test"}, "subject_prefix"),
                     ({"password": "plain"}, "password"),
                     ({"security": "tls"}, "security"),
                     ({"host": "smtp.test"}, "email")):
        path = mini / "config/site.yaml"
        data = yaml.safe_load(path.read_text())
        data["integrations"]["email"] = bad
        path.write_text(yaml.safe_dump(data))
        with pytest.raises(UserError, match=key):
            Project.open(mini)


def test_cli_build_preview_and_bad_week(seeded, tmp_path):
    root = str(seeded.site.root)
    out = run_seo("report", "build", "--root", root, "--week", WEEK)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Example Acupuncture: weekly SEO report") and "6 charts" in out.stderr
    target = tmp_path / "r.html"
    out = run_seo("report", "preview", "--root", root, "--week", WEEK, "--out", str(target))
    assert out.returncode == 0 and str(target) in out.stdout
    html = target.read_text()
    assert html.count('src="data:image/png;base64,') == 6 and "cid:" not in html
    bad = run_seo("report", "build", "--root", root, "--week", "2026-13")
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "--week" in bad.stderr
    helped = run_seo("report", "--help")
    assert all(cmd in helped.stdout for cmd in ("build", "preview", "send"))
