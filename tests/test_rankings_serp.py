"""Live SERP checks: the real Scrapy child process against a local DataForSEO / SerpApi server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO, run_seo
from rankings_support import configure
from servers.serp import SerpServer

from seo.api import Project
from seo.rankings import check_rankings
from seo.rankings.observations import load, spent
from seo.rankings.serp.runner import BUDGET_REASON, crawl_dir, plan_tasks

TODAY = date(2026, 11, 20)
KNEE = "knee pain acupuncture alpha"
SECRETS = {"SEO_DATAFORSEO_LOGIN": "login-7f3a", "SEO_DATAFORSEO_PASSWORD": "pw-very-secret-91",
           "SEO_SERPAPI_KEY": "serpapi-key-very-secret-55"}


@pytest.fixture
def server():
    with SerpServer(domain="clinic.test", name="Example Acupuncture", login=SECRETS[
            "SEO_DATAFORSEO_LOGIN"], password=SECRETS["SEO_DATAFORSEO_PASSWORD"],
            api_key=SECRETS["SEO_SERPAPI_KEY"]) as srv:
        yield srv


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


def setup(root: Path, server: SerpServer, **kw) -> Project:
    serp = {"provider": "dataforseo", "base_url": server.url, "concurrency": 4, "retries": 1,
            "backoff": 0.05, "timeout": 2, "monthly_budget": 1000, **kw}
    configure(root, serp=serp)
    return Project.open(root)


def obs(project: Project, source: str = "dataforseo") -> dict[tuple[str, str, str], object]:
    return {(r.keyword, r.town, r.kind): r for r in load(project.store, sources=[source])}


def assert_no_secret(root: Path, *texts: str) -> None:
    blob = "\n".join(texts)
    for path in root.rglob("*"):
        if path.is_file():
            blob += path.read_bytes().decode("utf-8", "replace")
    for value in SECRETS.values():
        assert value not in blob


@pytest.mark.stores
def test_dataforseo_positions_task_errors_timeouts_and_retries(mini, server):
    server.set_rank(KNEE, organic=3, maps=2, pack=1)
    server.set_rank("acupuncturist alpha", organic=None, maps=7, pack=None)
    server.task_error("acupuncture alpha co")
    server.slow("wrist pain acupuncture alpha", seconds=4)  # timeout is 2 s, one retry
    server.flaky("acupuncture beta springs co", times=1)  # 500 once, then fine
    project = setup(mini, server)
    report = check_rankings(project, "serp", today=TODAY)
    (src,) = report.sources
    assert src.status == "incomplete" and report.failed, src.line()  # 6 not measured: exit 1
    assert "6 of 36 not measured" in src.line()
    assert server.unauthorised == 0  # basic auth on every request
    got = obs(project)
    assert len(got) == 12 * 3  # 12 keyword x town pairs x (organic, local pack, maps)
    knee = got[(KNEE, "alpha", "organic")]
    assert knee.measured and knee.position == 3 and knee.url == "https://www.clinic.test/knee/"
    assert got[(KNEE, "alpha", "maps")].position == 2
    assert got[(KNEE, "alpha", "local_pack")].position == 1
    competitors = json.loads(knee.competitors)
    assert competitors[0]["position"] == 1 and competitors[0]["domain"].endswith(".test")
    absent = got[("acupuncturist alpha", "alpha", "organic")]
    assert absent.measured and absent.position is None and absent.reason == "not in the top 30"
    error = got[("acupuncture alpha co", "alpha", "organic")]
    assert not error.measured and error.position is None and "task error 40501" in error.reason
    assert not got[("acupuncture alpha co", "alpha", "local_pack")].measured
    slow = got[("wrist pain acupuncture alpha", "alpha", "organic")]
    assert not slow.measured and slow.reason == "timed out (after 2 attempts)"
    assert got[("acupuncture beta springs co", "beta-springs", "organic")].measured
    # one 500 then fine: whichever of its two requests (organic, maps) came first was sent twice
    assert sum(n for (_, _, kw), n in server.requests.items()
               if kw == "acupuncture beta springs co") == 3
    # geo-targeting: organic "lat,lng,radius", maps "lat,lng,zoomz"
    coords = {b[0]["location_coordinate"] for b in server.bodies if b[0]["keyword"] == KNEE}
    assert coords == {"39.6100000,-104.8100000,5000", "39.6100000,-104.8100000,13z"}
    assert server.peak <= 4
    assert spent(project.store, "dataforseo", "2026-11") == server.total
    assert not [p for p in crawl_dir(project.site).iterdir() if p.is_dir()]  # ingested, removed
    assert_no_secret(mini, src.line())


@pytest.mark.stores
def test_budget_exhaustion_mid_run_then_resume_without_double_counting(mini, server):
    project = setup(mini, server, monthly_budget=10, retries=0)
    report = check_rankings(project, "serp", today=TODAY)
    assert server.total == 10
    got = obs(project)
    measured = {k for k, o in got.items() if o.measured}
    lost = [o for o in got.values() if not o.measured]
    assert len(got) == 36  # nothing lost: every pair is in the store, measured or not
    assert all(o.reason == BUDGET_REASON and o.position is None for o in lost)
    assert report.sources[0].budget_left == 0
    # budget spent: a second check makes no request at all and keeps what was measured
    check_rankings(Project.open(mini), "serp", today=TODAY)
    assert server.total == 10
    assert {k for k, o in obs(project).items() if o.measured} == measured
    # a bigger budget: only what is still missing today is fetched, nothing twice
    configure(mini, serp={"provider": "dataforseo", "base_url": server.url, "monthly_budget": 100,
                          "retries": 0, "timeout": 2})
    check_rankings(Project.open(mini), "serp", today=TODAY)
    assert all(o.measured for o in obs(project).values())
    assert server.total == 24 and max(server.requests.values()) == 1
    assert spent(project.store, "dataforseo", "2026-11") == 24


@pytest.mark.stores
def test_interrupted_check_is_resumed(mini, server):
    """A crawl killed half-way leaves its batch folder: the next check stores it, then does the rest."""
    project = setup(mini, server)
    from seo.rankings.keywords import build_keywords
    keywords = build_keywords(project.site)
    tasks = plan_tasks(project.site, keywords, True, set(), "desktop")
    batch = crawl_dir(project.site) / "20261120T090000000000-1"
    batch.mkdir(parents=True)
    job = {"provider": "dataforseo", "settings": {"device": "desktop"}, "day": TODAY.isoformat(),
           "month": "2026-11", "tasks": [{**t.__dict__, "kinds": list(t.kinds)} for t in tasks]}
    (batch / "job.json").write_text(json.dumps(job))
    first = tasks[0]
    lines = [{"type": "spend"}, {"type": "spend"},
             {"type": "result", "task": first.id, "kind": "organic", "measured": True, "position": 5,
              "url": "https://clinic.test/x/", "reason": "", "competitors": []},
             {"type": "result", "task": first.id, "kind": "local_pack", "measured": True,
              "position": None, "url": "", "reason": "no local pack on this results page",
              "competitors": []}]
    (batch / "results.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines) + '{"type": "res')
    check_rankings(project, "serp", today=TODAY)
    got = obs(project)
    assert got[(first.keyword, first.town, "organic")].position == 5  # from the interrupted crawl
    assert server.requests[("dataforseo", "organic", first.keyword)] == 0  # not fetched again
    assert server.requests[("dataforseo", "maps", first.keyword)] == 1  # its maps call never got sent
    assert all(o.measured for o in got.values())
    assert spent(project.store, "dataforseo", "2026-11") == 2 + server.total


def test_wrong_credentials_stop_at_the_first_request(mini, server, monkeypatch):
    monkeypatch.setenv("SEO_DATAFORSEO_PASSWORD", "wrong")
    project = setup(mini, server, retries=0)
    report = check_rankings(project, "serp", today=TODAY)
    assert server.unauthorised == 1 and server.total == 0  # one request, then the check stopped
    assert [s.status for s in report.sources] == ["refused"] and report.refused
    got = obs(project)
    assert len(got) == 36 and all(not o.measured and "401" in o.reason for o in got.values())
    assert spent(project.store, "dataforseo", "2026-11") == 1
    proc = run_seo("rankings", "check", "--source", "serp", "--root", str(mini),
                   env={**SECRETS, "SEO_DATAFORSEO_PASSWORD": "wrong"})
    assert proc.returncode == 3 and not proc.stdout.strip()
    assert proc.stderr.strip().splitlines() == [
        "not configured: dataforseo: DataForSEO rejected the credentials (401): check "
        "SEO_DATAFORSEO_LOGIN and SEO_DATAFORSEO_PASSWORD (You are not authorized to access this "
        "resource.)"]
    assert server.unauthorised == 2
    assert_no_secret(mini, proc.stderr)


def test_provider_failing_every_request_stops_and_exits_non_zero(mini, server):
    server.fail_all = True  # every request answers 500
    setup(mini, server, retries=0)
    proc = run_seo("rankings", "check", "--source", "serp", "--root", str(mini), env=SECRETS)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert server.total <= 10 + 2 * 4  # the breaker (10 in a row), and what was on its way
    assert "36 of 36 not measured" in proc.stdout and "failed" in proc.stdout
    assert proc.stderr.strip().splitlines()[-1] == "error: 36 of 36 rankings not measured"


@pytest.mark.stores
def test_serpapi_organic_pack_and_maps(mini, server):
    server.set_rank(KNEE, organic=4, maps=1, pack=2)
    server.task_error("acupuncture alpha co")
    project = setup(mini, server, provider="serpapi")
    report = check_rankings(project, "serp", today=TODAY)
    assert report.sources[0].status == "incomplete"  # the task error
    got = obs(project, "serpapi")
    assert got[(KNEE, "alpha", "organic")].position == 4
    assert got[(KNEE, "alpha", "local_pack")].position == 2
    assert got[(KNEE, "alpha", "maps")].position == 1
    assert "Unsupported" in got[("acupuncture alpha co", "alpha", "organic")].reason
    maps = next(b for b in server.bodies if b.get("engine") == "google_maps" and b["q"] == KNEE)
    assert maps["ll"] == "@39.6100000,-104.8100000,13z"
    web = next(b for b in server.bodies if b.get("engine") == "google" and b["q"] == KNEE)
    assert web["location"] == "Alpha,Colorado,United States"  # SerpApi's canonical name
    assert_no_secret(mini, report.sources[0].line())


def test_cli_check_dry_run_show_and_missing_secrets(mini, server):
    setup(mini, server)
    env = {**SECRETS}
    dry = run_seo("rankings", "check", "--source", "serp", "--town", "alpha", "--dry-run",
                  "--root", str(mini), env=env)
    assert dry.returncode == 0, dry.stderr
    assert "dataforseo: would make 12 requests, budget left this month 1000" in dry.stdout
    assert server.total == 0
    run = run_seo("rankings", "check", "--source", "serp", "--keyword", "knee pain acupuncture",
                  "--root", str(mini), env=env)
    assert run.returncode == 0, run.stderr
    assert "dataforseo: ok; 6 measured, 0 not measured, 4 requests" in run.stdout
    shown = run_seo("rankings", "show", "--town", "alpha", "--condition", "knee-pain", "--root",
                    str(mini))
    assert shown.returncode == 0 and KNEE in shown.stdout and "dataforseo" in shown.stdout
    assert_no_secret(mini, dry.stdout, dry.stderr, run.stdout, run.stderr, shown.stdout)
    missing = run_seo("rankings", "check", "--source", "serp", "--root", str(mini),
                      env={"SEO_DATAFORSEO_LOGIN": "", "SEO_DATAFORSEO_PASSWORD": ""})
    assert missing.returncode == 3
    assert missing.stderr.strip().splitlines() == [
        "not configured: dataforseo: SERP provider 'dataforseo' needs the environment variables "
        "SEO_DATAFORSEO_LOGIN and SEO_DATAFORSEO_PASSWORD"]
    bad = run_seo("rankings", "check", "--town", "nowhere", "--root", str(mini))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killed_check_and_rerun_fetch_each_keyword_once(mini, server, sig):
    """Kill `seo rankings check` mid-crawl: its crawl child stops with it (finishing only what was
    in flight), the next check stores those results and fetches the rest: every keyword x kind
    exactly once at the server, and the spend is what was sent."""
    server.delay_all = 0.25
    project = setup(mini, server, concurrency=2, retries=0)
    cmd = [sys.executable, "-m", "seo", "rankings", "check", "--source", "serp", "--root", str(mini)]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **SECRETS},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while server.total < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait(10)
    time.sleep(1.5)  # the orphan would go on fetching here
    at_kill = server.total
    assert 6 <= at_kill < 24
    time.sleep(1.0)
    assert server.total == at_kill  # nothing fetched after the check died
    again = run_seo("rankings", "check", "--source", "serp", "--root", str(mini), env=SECRETS)
    assert again.returncode == 0, again.stdout + again.stderr
    assert server.total == 24 and set(server.requests.values()) == {1}, server.requests
    assert spent(project.store, "dataforseo", project.today().strftime("%Y-%m")) == 24
    assert all(o.measured for o in obs(project).values())
