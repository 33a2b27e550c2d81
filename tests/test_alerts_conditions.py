"""Each watch condition against real parts: a local live site (HEAD/GET, timeouts, dropped
connections), the local Business Profile server (one getGoogleUpdated per location), and the
store's runs, rank observations, SERP spend and outbox folder; on a frozen clock."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from alerts_support import FrozenClock, write_alerts
from listing_support import NAME
from servers.webhook import SiteServer

from seo import api
from seo.alerts.api import run_checks, settings_of, watch
from seo.alerts.model import WatchContext
from seo.automation.schedule import load_schedule
from seo.rankings.observations import Observation, record_spend, save_observations
from seo.store import runs

pytest_plugins = ["listing_fixtures"]  # fixtures: gbp, root, project, client, clock

BUILT = date(2026, 11, 2)  # the pages were built (created) on Monday
NOW = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)  # Tuesday 10:00 in Denver

pytestmark = pytest.mark.stores  # on SQLite and on PostgreSQL


def context(project, clock: FrozenClock, **live) -> WatchContext:
    return WatchContext(project, settings_of(project), load_schedule(project.site.root), clock(), live,
                        clock.sleep)


def results(project, clock, **live) -> dict:
    return {r.condition: r for r in run_checks(context(project, clock, **live))}


# -- the live site -------------------------------------------------------------------------------

@pytest.fixture
def site() -> Iterator[SiteServer]:
    server = SiteServer().start()
    yield server
    server.stop()


def site_project(mini, site: SiteServer, **checks):
    project = write_alerts(mini, {}, conditions={"site_down": {}, "page_4xx": {}},
                           site_checks={"url": site.url, "timeout": 1, **checks})
    api.build(project, today=BUILT)
    return project


def test_a_healthy_site_costs_one_get_and_a_head_per_page_changed_this_week(mini, site):
    project = site_project(mini, site)
    got = results(project, FrozenClock(NOW))
    assert got["site_down"].status == got["page_4xx"].status == "ok"
    assert got["site_down"].findings == got["page_4xx"].findings == []
    assert site.hits[0] == ("GET", "/")
    heads = [p for m, p in site.hits if m == "HEAD"]
    built = sorted(path for path in project.store.page_rows() if path != "/")
    assert sorted(heads) == built and len(site.hits) == len(built) + 1 and "/alpha/knee-pain/" in heads
    # a week later nothing changed this week: only the home page
    site.hits.clear()
    results(project, FrozenClock(NOW + timedelta(days=8)))
    assert site.hits == [("GET", "/")]


def test_pages_answering_4xx_and_5xx_servers_that_refuse_head(mini, site):
    project = site_project(mini, site, max_pages=50)
    site.status.update({"/alpha/knee-pain/": 404, "/beta-springs/": 410, "/alpha/": 503})
    site.no_head.add("/conditions/knee-pain/")  # 405 to HEAD, fine with GET
    got = results(project, FrozenClock(NOW))
    (four,) = got["page_4xx"].findings
    assert four.title == "2 pages answer 4xx on " + site.url[7:-1] + " (/alpha/knee-pain/ answered 404)"
    assert four.detail[:2] == ["/alpha/knee-pain/ answered 404", "/beta-springs/ answered 410"]
    (five,) = got["site_down"].findings
    assert five.key == "pages" and five.severity == "warning" and "/alpha/ answered 503" in five.title
    assert ("GET", "/conditions/knee-pain/") in site.hits and ("GET", "/alpha/knee-pain/") in site.hits


@pytest.mark.parametrize("trouble, why", [(503, "answered 503"), ("slow", "no answer in time"),
                                          ("drop", "connection failed"), ("refused", "connection refused")])
def test_home_page_down_is_tried_twice_then_critical(mini, site, trouble, why):
    project = site_project(mini, site, timeout=0.5)
    if trouble == "refused":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        project = write_alerts(mini, {}, conditions={"site_down": {}, "page_4xx": {}},
                               site_checks={"url": f"http://127.0.0.1:{port}/", "timeout": 0.5})
    else:
        site.status["/"] = trouble
        site.slow_seconds = 1.5
    clock = FrozenClock(NOW)
    got = results(project, clock)
    (down,) = got["site_down"].findings
    assert down.key == "home" and down.severity == "critical" and down.title.endswith(why)
    assert clock.slept == [5.0] and got["page_4xx"].findings == []
    assert [p for m, p in site.hits if m == "HEAD"] == []  # pages not fetched while home is down


def test_site_checks_wait_for_a_real_url(mini):
    write_alerts(mini, {}, conditions={"site_down": {}, "page_4xx": {}})
    path = mini / "config/site.yaml"
    path.write_text(path.read_text().replace("url: https://clinic.test/",
                                             "url: !example https://clinic.test/", 1))
    project = api.Project.open(mini)
    got = results(project, FrozenClock(NOW))
    assert got["site_down"].status == "unavailable" and "business.url is still an example" in \
        got["site_down"].message


# -- jobs ----------------------------------------------------------------------------------------

def add_runs(project, *rows: tuple[str, datetime, str]) -> None:
    with project.store.begin() as conn:
        conn.execute(runs.insert(), [
            {"job": job, "started_at": at.replace(tzinfo=None), "finished_at": at.replace(tzinfo=None),
             "status": status, "counts": "{}", "error": "403 quota is 0\nmore" if status == "failed" else "",
             "trigger": "schedule"} for job, at, status in rows])


def test_a_job_failing_twice_in_a_row(mini):
    project = write_alerts(mini, {})
    day = timedelta(days=1)
    add_runs(project, ("sync_listing", NOW - 3 * day, "ok"), ("sync_listing", NOW - 2 * day, "failed"),
             ("sync_listing", NOW - 1.5 * day, "skipped"), ("sync_listing", NOW - day, "failed"),
             ("check_rankings", NOW - 2 * day, "failed"), ("check_rankings", NOW - day, "ok"))
    (f,) = results(project, FrozenClock(NOW))["job_failed"].findings
    assert f.key == "sync_listing" and f.title == "Job sync_listing failed 2 times in a row"
    assert f.detail[0] == "last run Mon 02 Nov 10:00 MST: 403 quota is 0"


def test_dead_man_uses_each_jobs_interval_from_the_schedule(mini):
    project = write_alerts(mini, {})
    h = timedelta(hours=1)
    add_runs(project, ("weekly", NOW - 24 * 9 * h, "ok"),  # monitoring began 9 days ago
             ("check_rankings", NOW - 47 * h, "ok"),  # daily: fine up to 48 h
             ("sync_listing", NOW - 50 * h, "ok"),  # daily (24.5 h at most): silent after 49 h
             ("audit_site", NOW - 24 * 9 * h, "ok"))  # weekly inside `weekly`: fine up to 14 days
    got = {f.key: f for f in results(project, FrozenClock(NOW))["job_silent"].findings}
    # (the daily Business Profile jobs never ran in the 9 days since monitoring began)
    assert set(got) == {"sync_listing", "fetch_insights", "check_reviews"}
    assert got["sync_listing"].title == "Job sync_listing has not run for 50 h (it runs at least every 24 h)"
    # six days on, the weekly steps that never ran are silent too, counted from the first run
    later = {f.key for f in results(project, FrozenClock(NOW + timedelta(days=6)))["job_silent"].findings}
    assert later == {"check_rankings", "sync_listing", "weekly", "build_pages", "audit_site",
                     "publish_site", "verify_live", "inspect_index", "check_grid", "publish_posts",
                     "weekly_report", "fetch_insights", "check_reviews"}


# -- outbox, SERP budget, reviews -----------------------------------------------------------------

def test_a_report_waiting_in_the_outbox_over_a_day(mini):
    project = write_alerts(mini, {})
    folder = mini / "build/outbox"
    folder.mkdir(parents=True)
    old, new = folder / "2026-W44-aaaa.eml", folder / "2026-W45-bbbb.eml"
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    os.utime(old, (NOW.timestamp() - 30 * 3600,) * 2)
    os.utime(new, (NOW.timestamp() - 3600,) * 2)
    (f,) = results(project, FrozenClock(NOW))["outbox_waiting"].findings
    assert f.title == "1 report message waiting in the outbox for 30 h"
    assert "no SMTP host is configured" in f.detail[1] and "2026-W44-aaaa.eml" in f.detail[0]
    old.unlink()
    assert results(project, FrozenClock(NOW))["outbox_waiting"].findings == []


def test_serp_budget_nine_tenths_spent_then_a_new_month(mini):
    from report_support import configure
    configure(mini, serp={"provider": "dataforseo", "monthly_budget": 2000})
    project = write_alerts(mini, {})
    record_spend(project.store, "dataforseo", "2026-11", 1700, "b1")
    assert results(project, FrozenClock(NOW))["serp_budget"].findings == []
    record_spend(project.store, "dataforseo", "2026-11", 100, "b2")
    (f,) = results(project, FrozenClock(NOW))["serp_budget"].findings
    assert f.key == "dataforseo:2026-11" and f.title.startswith("SERP budget 90% spent for 2026-11: 1,800 of")
    december = datetime(2026, 12, 1, 17, tzinfo=UTC)
    assert results(project, FrozenClock(december))["serp_budget"].findings == []


def test_what_is_not_configured_says_so(mini):
    got = results(write_alerts(mini, {}), FrozenClock(NOW))
    assert got["new_review"].status == "unavailable"
    assert got["new_review"].message.startswith("integrations.gbp is not set")
    assert got["serp_budget"].status == "unavailable" and got["ranking_drop"].status == "unavailable"


# -- rankings ------------------------------------------------------------------------------------

def series(keyword: str, town: str, positions: list[float | None], last: date) -> list[Observation]:
    first = last - timedelta(days=len(positions) - 1)
    return [Observation("dataforseo", "organic", keyword, town, "desktop", first + timedelta(days=i),
                        True, p) for i, p in enumerate(positions)]


def test_a_top_ten_keyword_falling_beyond_its_noise_band(mini):
    project = write_alerts(mini, {})
    today = NOW.date()
    steady = [4.0 + (i % 3) * 0.5 for i in range(40)]  # 4 to 5: a band of about 1.5
    save_observations(project.store, [
        *series("knee pain acupuncture alpha", "alpha", [*steady, 15.0, 16.0], today),
        *series("wrist pain acupuncture alpha", "alpha", [*steady, 15.0], today),  # one check only
        *series("acupuncture alpha co", "alpha", [12.0] * 40 + [30.0, 31.0], today),  # never top 10
        *series("acupuncturist alpha", "alpha", [*steady, None, None], today)])  # dropped out
    got = results(project, FrozenClock(NOW))["ranking_drop"]
    titles = sorted(f.title for f in got.findings)
    assert titles == ["“acupuncturist alpha” fell from 4.5 to not found (alpha, organic, dataforseo)",
                      "“knee pain acupuncture alpha” fell from 4.5 to 16 (alpha, organic, dataforseo)"]
    f = next(f for f in got.findings if "knee" in f.title)
    assert f.data["usual"] == 4.5 and f.detail[1] == "latest checks: Nov 02 15, Nov 03 16"
    # open with what it remembered: it stays until a check is back within usual + band
    live = {"ranking_drop:" + f.key: f.data}
    save_observations(project.store, series("knee pain acupuncture alpha", "alpha", [14.0],
                                            today + timedelta(days=1)))
    later = FrozenClock(NOW + timedelta(days=1))
    assert any("knee" in x.title for x in results(project, later, **live)["ranking_drop"].findings)
    save_observations(project.store, series("knee pain acupuncture alpha", "alpha", [5.0],
                                            today + timedelta(days=2)))
    later = FrozenClock(NOW + timedelta(days=2))
    assert not any("knee" in x.title for x in results(project, later, **live)["ranking_drop"].findings)


# -- the Business Profile ------------------------------------------------------------------------

def test_listing_drift_one_call_per_location_only_the_watched_fields(root, gbp, client):
    project = write_alerts(root, {})
    gbp.google_edit(NAME, "phoneNumbers.primaryPhone", "+1 303-555-0999")
    gbp.google_edit(NAME, "categories", {"primaryCategory": {"name": "gcid:spa",
                                                             "displayName": "Spa"}})
    clock = FrozenClock(NOW)
    ctx = context(project, clock)
    ctx.gbp_client = client
    got = {r.condition: r for r in run_checks(ctx)}["listing_drift"]
    (f,) = got.findings
    assert f.key == "main:phone" and f.severity == "critical"
    assert f.title == "Google shows a different phone number for Example Acupuncture: +13035550999"
    assert f.detail[:2] == ["Google shows: +13035550999", "ours:         +13035550100"]
    assert len(gbp.ops("google_updated")) == 1 and gbp.ops("patch") == []


def test_a_check_that_keeps_failing_becomes_its_own_incident(root, gbp, client):
    project = write_alerts(root, {})
    gbp.google_edit(NAME, "phoneNumbers.primaryPhone", "+1 303-555-0999")
    clock = FrozenClock(NOW)
    first = watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
    assert [c.key for c in first.changes] == ["listing_drift:main:phone"]
    gbp.fault("google_updated", 503, times=None)
    for n in range(3):
        clock.advance(minutes=30)
        result = watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
        assert any(line.startswith("could not check listing_drift: ") for line in result.lines())
        assert [(c.kind, c.key) for c in result.changes] == (
            [("opened", "check_failed:listing_drift")] if n == 2 else [])
    assert result.open == 2  # the drift incident stays open: not seeing it is not seeing it fixed
    gbp.faults.clear()
    clock.advance(minutes=30)
    result = watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
    assert [(c.kind, c.key) for c in result.changes] == [("resolved", "check_failed:listing_drift")]


def test_refused_credentials_are_an_error_not_a_reason_to_resolve(root, gbp, client):
    project = write_alerts(root, {})
    gbp.google_edit(NAME, "phoneNumbers.primaryPhone", "+1 303-555-0999")
    clock = FrozenClock(NOW)
    watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
    gbp.fault("google_updated", 401, times=None)
    clock.advance(minutes=30)
    result = watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
    assert result.changes == [] and result.open == 1
    assert any(line.startswith("could not check listing_drift: ") and "refused the credentials" in line
               for line in result.lines())


def test_listing_not_configured_is_not_available(mini):
    got = results(write_alerts(mini, {}), FrozenClock(NOW))["listing_drift"]
    assert got.status == "unavailable" and "integrations.gbp is not set" in got.message


def test_rank_findings_are_reused_until_the_measurements_change(mini):
    import sqlalchemy as sa
    project = write_alerts(mini, {})
    today = NOW.date()
    steady = [4.0 + (i % 3) * 0.5 for i in range(40)]
    save_observations(project.store, series("knee pain acupuncture alpha", "alpha", [*steady, 15.0, 16.0],
                                            today))
    clock = FrozenClock(NOW)
    first = watch(project, now=clock(), sleep=clock.sleep)
    assert [(c.kind, c.key.split("|")[-1]) for c in first.changes] == [
        ("opened", "knee pain acupuncture alpha")]
    reads: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if "rank_observations" in statement:
            reads.append(statement)

    sa.event.listen(project.store.engine, "before_cursor_execute", count)
    try:
        clock.advance(minutes=30)
        again = watch(project, now=clock(), sleep=clock.sleep)
        assert again.changes == [] and again.open == 1 and len(reads) == 1  # the fingerprint only
        # a re-check of today puts it back near its usual place: the next run sees it
        save_observations(project.store, series("knee pain acupuncture alpha", "alpha", [5.0], today))
        clock.advance(minutes=30)
        reads.clear()
        later = watch(project, now=clock(), sleep=clock.sleep)
    finally:
        sa.event.remove(project.store.engine, "before_cursor_execute", count)
    assert [c.kind for c in later.changes] == ["resolved"] and len(reads) > 1


def test_a_new_low_review_opens_until_it_is_answered(root, gbp, client):
    from listing_support import ACCOUNT
    parent = f"{ACCOUNT}/{NAME}"
    project = write_alerts(root, {})
    stamp = (NOW - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    old = (NOW - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    bad = gbp.add_review(parent, "r1", 1, "Rude \x1b[31mstaff\u202e, <b>never</b> again", reviewer="Pat Q",
                         created=stamp)
    gbp.add_review(parent, "r2", 5, "Lovely.", created=stamp)
    gbp.add_review(parent, "r3", 2, "Meh.", created=old)  # old: the report's business
    clock = FrozenClock(NOW)
    first = watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
    got = {c.key: c for c in first.changes if c.condition == "new_review"}
    assert list(got) == ["new_review:main:r1"] and got["new_review:main:r1"].kind == "opened"
    inc = next(i for i in api_incidents(project) if i.key == "new_review:main:r1")
    assert inc.severity == "critical" and inc.title == "New 1-star review for Example Acupuncture"
    assert inc.detail[0] == "“Rude staff, <b>never</b> again”" and inc.detail[1].startswith("by Pat Q, ")
    assert len(gbp.ops("review.list")) == 1  # one call per location, the newest page only
    clock.advance(minutes=30)
    assert [c for c in watch(project, now=clock(), gbp_client=client).changes
            if c.condition == "new_review"] == []
    bad["reviewReply"] = {"comment": "We are sorry to hear this.", "updateTime": "2026-11-03T18:00:00Z"}
    bad["updateTime"] = "2026-11-03T18:00:00Z"
    clock.advance(minutes=30)
    done = watch(project, now=clock(), gbp_client=client)
    assert [(c.kind, c.key) for c in done.changes] == [("resolved", "new_review:main:r1")]
    # an old 5-star review re-rated to one star today is news too, worded as a change
    happy = gbp.add_review(parent, "r4", 5, "Great.", reviewer="Lee", created=old)
    clock.advance(minutes=30)
    assert [c for c in watch(project, now=clock(), gbp_client=client).changes
            if c.condition == "new_review"] == []
    happy["starRating"] = "ONE"
    happy["updateTime"] = (NOW - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    clock.advance(minutes=30)
    rerated = watch(project, now=clock(), gbp_client=client)
    assert [(c.kind, c.key, c.title) for c in rerated.changes] == [
        ("opened", "new_review:main:r4", "A review for Example Acupuncture now has 1 star")]


def api_incidents(project):
    from seo.alerts.api import list_incidents
    return list_incidents(project)
