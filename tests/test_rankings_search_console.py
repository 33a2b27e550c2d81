"""Search Console: the real google-api-python-client and google-auth against a local server."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from conftest import run_seo
from rankings_support import configure, write_token
from servers.search_console import SearchConsoleServer, daily_rows

from seo.api import Project
from seo.rankings import check_rankings, export_csv, show_rankings
from seo.rankings.observations import load
from seo.rankings.search_console import NO_DATA

TODAY = date(2026, 11, 20)
KNEE = "knee pain acupuncture alpha"
TARGET = "https://clinic.test/alpha/knee-pain/"


@pytest.fixture
def server():
    with SearchConsoleServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def no_backoff_sleep(monkeypatch):
    """googleapiclient sleeps up to 2**n s between retries: freeze that clock, keep the retries."""
    sleeps: list[float] = []
    monkeypatch.setattr("googleapiclient.http.time.sleep", sleeps.append)
    return sleeps


@pytest.fixture
def project(mini: Path, server: SearchConsoleServer, tmp_path: Path, monkeypatch) -> Path:
    token = write_token(tmp_path / "google-token.json", server.authorized_user())
    monkeypatch.setenv("SEO_GOOGLE_TOKEN", str(token))
    monkeypatch.delenv("SEO_GOOGLE_SERVICE_ACCOUNT", raising=False)
    configure(mini, search_console={"property": "sc-domain:clinic.test", "api_endpoint": server.url,
                                    "token_uri": server.token_uri, "days": 7, "row_limit": 5})
    return mini


def sc_obs(root: Path, keyword: str = KNEE) -> dict[date, object]:
    return {r.day: r for r in load(Project.open(root).store, keywords=[keyword],
                                   sources=["search_console"])}


def test_paging_provisional_days_empty_days_and_page_issues(project, server):
    start = TODAY - timedelta(days=6)
    empty = TODAY - timedelta(days=3)
    server.rows = daily_rows([(KNEE, TARGET, 4.0), (KNEE, "https://clinic.test/alpha/", 9.0),
                              ("knee pain acupuncture beta springs",
                               "https://clinic.test/alpha/knee-pain/", 6.0),
                              ("an untracked query", "https://clinic.test/", 30.0)],
                             start, TODAY, skip_days=(empty,))
    server.first_incomplete = (TODAY - timedelta(days=1)).isoformat()
    report = check_rankings(Project.open(project), "search-console", today=TODAY)
    (src,) = report.sources
    assert src.status == "ok", src.line()
    rows = len(server.rows)
    assert rows == 24
    # 24 rows at 5 a page: startRow 0, 5, 10, 15, 20 (4 rows), then an empty page ends it
    assert [q["startRow"] for q in server.queries] == [0, 5, 10, 15, 20, 24]
    assert all(q["rowLimit"] == 5 and q["dataState"] == "all" for q in server.queries)
    assert server.queries[0]["dimensions"] == ["date", "query", "page"]
    assert server.sites == ["sc-domain:clinic.test"] * 6
    assert server.tokens and server.tokens[0]["grant_type"] == ["refresh_token"]

    obs = sc_obs(project)
    assert sorted(obs) == [start + timedelta(days=i) for i in range(7)]
    first = obs[start]
    assert first.measured and first.position == 4.0 and first.url == TARGET  # topmost page
    assert first.impressions > 0 and not first.provisional
    assert obs[TODAY].provisional and obs[TODAY - timedelta(days=1)].provisional
    assert not obs[TODAY - timedelta(days=2)].provisional
    assert not obs[empty].measured and obs[empty].position is None and obs[empty].reason == NO_DATA
    # a tracked keyword with no impressions on a day with data: measured, no position
    other = sc_obs(project, "acupuncture alpha co")
    assert other[start].measured and other[start].position is None and other[start].impressions == 0

    kinds = {(i.kind, i.keyword) for i in report.issues}
    assert ("cannibalisation", KNEE) in kinds  # /alpha/knee-pain/ and /alpha/ both get impressions
    assert ("wrong page", "knee pain acupuncture beta springs") in kinds  # the Alpha page ranks

    # a second check of the same window replaces rows: nothing is counted twice
    check_rankings(Project.open(project), "search-console", today=TODAY)
    assert len(sc_obs(project)) == 7
    shown = show_rankings(Project.open(project), towns=["alpha"], keywords=["knee pain"], today=TODAY)
    row = next(r for r in shown if r.keyword == KNEE)
    assert row.position == pytest.approx(obs[TODAY].position) and row.since is not None


def test_429_is_retried_then_succeeds(project, server, no_backoff_sleep):
    server.rows = daily_rows([(KNEE, TARGET, 3.0)], TODAY - timedelta(days=6), TODAY)
    server.fault(status=429)
    report = check_rankings(Project.open(project), "search-console", today=TODAY)
    assert report.sources[0].status == "ok"
    assert len(no_backoff_sleep) == 1  # one backoff, then the same query again
    assert sc_obs(project)[TODAY].position == 3.0


def test_403_is_not_measured_and_never_overwrites_a_measurement(project, server):
    server.rows = daily_rows([(KNEE, TARGET, 3.0)], TODAY - timedelta(days=6), TODAY)
    check_rankings(Project.open(project), "search-console", today=TODAY)
    server.fault(status=403, times=None)
    report = check_rankings(Project.open(project), "search-console", today=TODAY + timedelta(days=1))
    src = report.sources[0]
    assert src.status == "failed" and "403" in src.message and "user of the property" in src.message
    obs = sc_obs(project)
    assert obs[TODAY].measured and obs[TODAY].position == 3.0  # kept
    new = obs[TODAY + timedelta(days=1)]
    assert not new.measured and new.position is None and "403" in new.reason


@pytest.mark.parametrize("body, why", [
    (b"{this is not json", "not a JSON object"),
    (b'{"rows": {"keys": 1}}', "rows is not a list"),
    (b'{"rows": [{"keys": ["2026-11-20", "q", "https://clinic.test/"], "clicks": 1}]}', "KeyError"),
    (b'{"rows": [{"keys": ["2026-11-20", "q", "https://clinic.test/"], "position": 0}]}', "impossible"),
])
def test_malformed_answers_fail_cleanly(project, server, body, why):
    server.fault(body=body)
    report = check_rankings(Project.open(project), "search-console", today=TODAY)
    src = report.sources[0]
    assert src.status == "failed" and "malformed" in src.message and why in src.message
    assert all(not o.measured for o in sc_obs(project).values())


def test_revoked_token_names_the_command_that_fixes_it(project, server):
    server.revoked = True
    result = run_seo("rankings", "check", "--source", "search-console", "--root", str(project))
    assert result.returncode == 3, result.stderr
    assert result.stderr.strip().splitlines() == [
        "not configured: search_console: Google token expired or revoked; run `seo auth google`"]


def test_missing_token_and_missing_config(project, tmp_path):
    result = run_seo("rankings", "check", "--root", str(project),
                     env={"SEO_GOOGLE_TOKEN": str(tmp_path / "nothing.json")})
    assert result.returncode == 3
    assert "run `seo auth google`" in result.stderr and len(result.stderr.splitlines()) == 1


def test_export_csv_is_deterministic(project, server):
    import io
    server.rows = daily_rows([(KNEE, TARGET, 3.0)], TODAY - timedelta(days=6), TODAY)
    check_rankings(Project.open(project), "search-console", today=TODAY)
    a, b = io.StringIO(), io.StringIO()
    n = export_csv(Project.open(project), a, towns=["alpha"])
    export_csv(Project.open(project), b, towns=["alpha"])
    assert a.getvalue() == b.getvalue() and n > 0
    lines = a.getvalue().splitlines()
    assert lines[0].startswith("day,source,kind,keyword,town")
    assert any(f"search_console,organic,{KNEE},alpha,all,yes,3," in line for line in lines)


def test_show_gives_the_latest_measured_day_not_todays_gap(project, server):
    """Search Console has no rows for its last 2-3 days: `show` gives the latest day it measured,
    says which day that is, and notes the newer days that are not in yet."""
    server.rows = daily_rows([(KNEE, TARGET, 3.0)], TODAY - timedelta(days=6),
                             TODAY - timedelta(days=3))
    check_rankings(Project.open(project), "search-console", today=TODAY)
    (row,) = [r for r in show_rankings(Project.open(project), keywords=[KNEE], today=TODAY)
              if r.keyword == KNEE]
    assert row.measured and row.position == 3.0 and row.day == TODAY - timedelta(days=3)
    assert row.unmeasured_since == TODAY and row.unmeasured_reason == NO_DATA
    shown = run_seo("rankings", "show", "--keyword", "knee pain acupuncture alpha", "--days",
                    "3650", "--root", str(project))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == (f"search_console: latest measured day {TODAY - timedelta(days=3)} "
                        "(Search Console's data is 2-3 days behind)")
    knee = next(line for line in lines if KNEE in line)
    assert " 3 " in knee and "not measured" not in knee.split(KNEE)[1].split("2026-11-17")[0]
    assert f"{TODAY} not measured: Search Console has no rows" in knee


def test_revoked_token_in_a_full_check_is_exit_3_not_a_skip(project, server, monkeypatch):
    """Search Console set up but its token revoked, the SERP provider fine: the SERP ranks are
    fetched and shown, and the check still exits 3 naming `seo auth google` (it used to print
    "skipped search_console: not configured" and exit 0); as a job, the step fails."""
    from servers.serp import SerpServer

    from seo.automation.runner import run_job
    server.revoked = True
    with SerpServer(login="l", password="p") as serp:
        configure(project, serp={"provider": "dataforseo", "base_url": serp.url, "maps": False})
        env = {"SEO_DATAFORSEO_LOGIN": "l", "SEO_DATAFORSEO_PASSWORD": "p"}
        result = run_seo("rankings", "check", "--town", "alpha", "--root", str(project), env=env)
        assert result.returncode == 3, result.stdout + result.stderr
        assert "dataforseo: ok; " in result.stdout
        assert result.stderr.strip().splitlines() == [
            "not configured: search_console: Google token expired or revoked; run "
            "`seo auth google`"]
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        outcome = run_job("check_rankings", project)
    assert outcome.status == "failed" and "seo auth google" in outcome.message
