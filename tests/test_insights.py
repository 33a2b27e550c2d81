"""Business Profile Performance against the local server, through the real google-api-python-client
(the shipped businessprofileperformance v1 discovery doc): lagging and missing days, settling,
keyword paging and thresholds, errors, the CLI."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import run_seo
from listing_support import NAME, TODAY, FakeClock
from servers.gbp import GbpServer

from seo.api import Project
from seo.errors import ExternalError
from seo.insights import api, read
from seo.insights.fetch import complete_months
from seo.insights.metrics import VIEWS
from seo.listing.client import GbpClient
from seo.tables import gbp_keyword_months, gbp_keywords, gbp_metrics

pytest_plugins = ["listing_fixtures"]  # fixtures: gbp, root, project, client, clock

CALLS, DIRS = "CALL_CLICKS", "BUSINESS_DIRECTION_REQUESTS"


def cli(*args: str) -> Any:
    from seo.cli import main
    return CliRunner().invoke(main, list(args))


def stored(project: Project, metric: str) -> dict[date, tuple[int | None, bool]]:
    t = gbp_metrics.c
    with project.store.engine.connect() as conn:
        return {d: (v, s) for d, v, s in conn.execute(
            sa.select(t.day, t.value, t.settled).where(t.metric == metric))}


def fill(gbp: GbpServer, first: date, last: date, value: int = 3) -> None:
    d = first
    while d <= last:
        gbp.set_metric(NAME, CALLS, d, value)
        gbp.set_metric(NAME, DIRS, d, 1)
        d += timedelta(days=1)


def test_first_fetch_lagging_and_missing_days(project: Project, client: GbpClient,
                                              gbp: GbpServer) -> None:
    yesterday = TODAY - timedelta(days=1)
    fill(gbp, TODAY - timedelta(days=120), TODAY - timedelta(days=4))
    old_zero = TODAY - timedelta(days=30)
    gbp.set_metric(NAME, CALLS, old_zero, None)  # settled, listed without a value: a zero
    gone = TODAY - timedelta(days=20)
    gbp.unlisted.add((NAME, gone))  # settled, left out by Google: unknown, not zero
    result = api.check_insights(project, client=client, today=TODAY)
    call = gbp.ops("perf.fetch")[0]
    assert call.query["dailyRange.startDate.year"] == "2026" and call.path.endswith(
        "locations/111:fetchMultiDailyMetricsTimeSeries")
    sent = call.query
    assert (sent["dailyRange.endDate.month"], sent["dailyRange.endDate.day"]) == ("11", "1")
    calls = stored(project, CALLS)
    assert min(calls) == TODAY - timedelta(days=120) and max(calls) == yesterday
    assert calls[old_zero] == (0, True)
    assert calls[gone] == (None, True)
    assert calls[TODAY - timedelta(days=8)] == (3, True)
    # inside the 7-day settle window: numbers kept, blanks unknown (not zero), not settled
    assert calls[TODAY - timedelta(days=5)] == (3, False)
    assert calls[TODAY - timedelta(days=2)] == (None, False)
    assert stored(project, "BUSINESS_BOOKINGS")[TODAY - timedelta(days=10)] == (0, True)
    assert result.locations[0].unsettled == 6
    # the week before today: three days not reported yet -> "at least", no percentage
    monday = TODAY - timedelta(days=7)
    total = read.totals(project.store, monday, monday + timedelta(days=6), [CALLS])[CALLS]
    assert (total.value, total.unknown, total.complete) == (12, 3, False)
    assert total.text() == "at least 12 (3 days not reported yet)"


def test_recent_days_fetched_again_until_settled(project: Project, client: GbpClient,
                                                 gbp: GbpServer) -> None:
    fill(gbp, TODAY - timedelta(days=120), TODAY - timedelta(days=4))
    api.check_insights(project, client=client, today=TODAY)
    first_calls = len(gbp.ops("perf.fetch"))
    again = api.check_insights(project, client=client, today=TODAY)
    assert len(gbp.ops("perf.fetch")) == first_calls + 1
    q = gbp.ops("perf.fetch")[-1].query
    assert date(int(q["dailyRange.startDate.year"]), int(q["dailyRange.startDate.month"]),
                int(q["dailyRange.startDate.day"])) == TODAY - timedelta(days=6)
    assert again.locations[0].start == TODAY - timedelta(days=6)
    # a week later Google has caught up: the lagging days settle with their real numbers
    later = TODAY + timedelta(days=7)
    fill(gbp, TODAY - timedelta(days=3), later - timedelta(days=1), value=5)
    gbp.set_metric(NAME, CALLS, TODAY - timedelta(days=2), None)  # still nothing: a zero now
    api.check_insights(project, client=client, today=later)
    calls = stored(project, CALLS)
    assert calls[TODAY - timedelta(days=3)] == (5, True)
    assert calls[TODAY - timedelta(days=2)] == (0, True)
    assert calls[later - timedelta(days=1)] == (5, False)
    monday = TODAY - timedelta(days=7)
    total = read.totals(project.store, monday, monday + timedelta(days=6), [CALLS])[CALLS]
    assert total.complete and total.value == 3 * 4 + 5 + 0 + 5


def test_keywords_paged_with_thresholds(project: Project, client: GbpClient,
                                        gbp: GbpServer) -> None:
    assert complete_months(TODAY, 3) == ["2026-08", "2026-09", "2026-10"]
    gbp.keyword_page_size = 2
    gbp.set_keywords(NAME, "2026-10", [("acupuncture alpha", 40, None), ("knee pain", 12, None),
                                       ("=HYPERLINK(\"http://evil\")", 20, None),
                                       ("dry needling", None, 15), ("\x1b[31mred\x1b[0m", None, 15)])
    gbp.set_keywords(NAME, "2026-09", [("acupuncture alpha", 30, None)])
    api.check_insights(project, client=client, today=TODAY)
    pages = [e for e in gbp.ops("kw.list") if e.query["monthlyRange.startMonth.month"] == "10"]
    assert len(pages) == 3 and pages[1].query["pageToken"] == "2"
    kws = read.keywords(project.store, "2026-10")
    assert [(k.keyword, k.text()) for k in kws] == [
        ("acupuncture alpha", "40"), ('=HYPERLINK("http://evil")', "20"),
        ("dry needling", "under 15"), ("red", "under 15"), ("knee pain", "12")]
    with project.store.engine.connect() as conn:
        row = conn.execute(sa.select(gbp_keywords).where(
            gbp_keywords.c.keyword == "dry needling")).one()
        assert (row.value, row.threshold) == (None, 15)  # never a made-up number
        months = {r.month: r.settled for r in conn.execute(sa.select(gbp_keyword_months))}
    assert months == {"2026-08": True, "2026-09": True, "2026-10": False}  # Oct ended 2 days ago
    n = len(gbp.ops("kw.list"))
    api.check_insights(project, client=client, today=TODAY)
    assert len(gbp.ops("kw.list")) == n + 3  # only the unsettled month again (3 pages)


def test_keywords_summed_over_locations_keep_thresholds() -> None:
    k = read.KeywordCount
    assert k("a", None, 15).text() == "under 15"
    assert k("a", 12, 15).text() == "12 to 26"
    assert sorted([k("x", 14, None), k("y", None, 15), k("z", 15, None)],
                  key=lambda c: -c.sort_value) == [k("z", 15, None), k("y", None, 15),
                                                   k("x", 14, None)]


@pytest.mark.parametrize("fault,expected", [
    ({"status": 503}, 2), ({"status": 429}, 2), ({"drop": True}, 2)])
def test_transient_errors_retried(project: Project, client: GbpClient, gbp: GbpServer,
                                  clock: FakeClock, fault: dict, expected: int) -> None:
    fill(gbp, TODAY - timedelta(days=10), TODAY - timedelta(days=1))
    gbp.fault("perf.fetch", **fault)
    api.check_insights(project, client=client, today=TODAY)
    assert len(gbp.ops("perf.fetch")) >= expected
    assert stored(project, CALLS)[TODAY - timedelta(days=9)] == (3, True)


def test_zero_quota_and_malformed_answers_are_one_line(project: Project, client: GbpClient,
                                                       gbp: GbpServer) -> None:
    gbp.fault("perf.fetch", 429, zero_quota=True, times=None)
    with pytest.raises(ExternalError, match=r"^Google Business Profile API quota is 0"):
        api.check_insights(project, client=client, today=TODAY)
    assert len(gbp.ops("perf.fetch")) == 1
    gbp.faults.clear()
    gbp.fault("perf.fetch", garbage=True)
    with pytest.raises(ExternalError, match="malformed answer"):
        api.check_insights(project, client=client, today=TODAY)
    gbp.set_metric(NAME, CALLS, TODAY - timedelta(days=9), -4)  # nonsense from "Google"
    gbp.metrics[(NAME, CALLS)][TODAY - timedelta(days=9)] = "lots"  # type: ignore[assignment]
    with pytest.raises(ExternalError, match="fetchMultiDailyMetricsTimeSeries: malformed"):
        api.check_insights(project, client=client, today=TODAY)
    with project.store.engine.connect() as conn:  # nothing half-written
        assert conn.execute(sa.select(sa.func.count()).select_from(gbp_metrics)).scalar() == 0


def test_show_and_export(project: Project, client: GbpClient, gbp: GbpServer) -> None:
    fill(gbp, TODAY - timedelta(days=120), TODAY - timedelta(days=1))
    gbp.set_metric(NAME, "BUSINESS_IMPRESSIONS_MOBILE_MAPS", TODAY - timedelta(days=7), 7)
    gbp.set_keywords(NAME, "2026-10", [("knee pain", None, 15)])
    api.check_insights(project, client=client, today=TODAY)
    view = api.show_insights(project, today=TODAY)
    assert view.monday == date(2026, 10, 26)
    lines = {x.metric: x for x in view.lines}
    assert lines[CALLS].now.value == 21 and lines[CALLS].change == "+0%"
    # views: only the Monday is settled; the other six days have no number yet (not zeros)
    assert (lines[VIEWS].now.value, lines[VIEWS].now.unknown, lines[VIEWS].change) == (7, 6, "n/a")
    text = "\n".join(api.show_lines(view))
    assert "knee pain  under 15" in text
    out = api.export_insights(project, start=TODAY - timedelta(days=3), today=TODAY)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["metric"] for r in rows} >= {CALLS, DIRS}
    assert all(r["value"] == "3" for r in rows if r["metric"] == CALLS)
    blank = [r for r in rows if r["metric"] == "WEBSITE_CLICKS"]
    assert blank and all(r["value"] == "" and r["settled"] == "False" for r in blank)
    kws = json.loads(api.export_insights(project, what="keywords", fmt="json",
                                         start=date(2026, 10, 1), today=TODAY))
    assert kws == [{"month": "2026-10", "location": "main", "keyword": "knee pain", "value": None,
                    "threshold": 15, "shown": "under 15"}]


def test_cli(root: Path, project: Project, gbp: GbpServer, tmp_path: Path) -> None:
    yesterday = date.today() - timedelta(days=1)
    fill(gbp, yesterday - timedelta(days=30), yesterday)
    month = complete_months(date.today(), 1)[0]
    gbp.set_keywords(NAME, month, [('=cmd|"/c calc"!A1', 9, None), ("acupuncture", 30, None)])
    proc = run_seo("insights", "check", "--root", str(root))
    assert proc.returncode == 0, proc.stderr
    assert "main (locations/111): fetched" in proc.stdout and "search keywords" in proc.stdout
    proc = cli("insights", "show", "--root", str(root))
    assert proc.exit_code == 0, proc.stderr
    assert "calls" in proc.stdout and "Day by day" in proc.stdout
    out = tmp_path / "kw.csv"
    proc = cli("insights", "export", "--root", str(root), "--keywords", "--out", str(out),
               "--from", str(date.today() - timedelta(days=62)))
    assert proc.exit_code == 0, proc.stderr
    assert "'=cmd|" in out.read_text()  # not a formula when opened in a spreadsheet
    proc = cli("insights", "export", "--root", str(root), "--from", "yesterday")
    assert proc.exit_code == 2 and "--from: 'yesterday' is not a date" in proc.stderr
    proc = cli("insights", "show", "--root", str(root), "--location", "nowhere")
    assert proc.exit_code == 2 and "unknown location 'nowhere'" in proc.stderr


def test_cli_not_configured(mini: Path) -> None:
    proc = cli("insights", "check", "--root", str(mini))
    assert proc.exit_code == 3 and proc.stderr.startswith("not configured: integrations.gbp")
