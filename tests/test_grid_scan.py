"""Grid scans end to end: the real crawl child against a local provider whose maps ranks depend on
where the search is made (DataForSEO and SerpApi), the shared budget under faults, the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from conftest import REPO, run_seo
from grid_support import CLINIC, SECRETS, geo_server, set_grid, setup_grid

from seo.api import Project
from seo.geo import miles_between
from seo.grid import api
from seo.grid.config import build_grids
from seo.grid.run import crawl_dir, grid_spent
from seo.grid.scores import grid_scores
from seo.grid.store import load_points, load_scores, point_of
from seo.rankings import check_rankings
from seo.rankings.observations import spent
from seo.rankings.serp.runner import BUDGET_REASON

DAY = date(2026, 11, 23)
KNEE = "acupuncture for knee pain alpha co"


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for k, v in SECRETS.items():
        monkeypatch.setenv(k, v)


@pytest.fixture
def server():
    with geo_server() as srv:
        yield srv


def assert_no_secret(root: Path, *texts: str) -> None:
    blob = "\n".join(texts)
    for path in root.rglob("*"):
        if path.is_file():
            blob += path.read_bytes().decode("utf-8", "replace")
    for value in SECRETS.values():
        assert value not in blob


@pytest.mark.parametrize("provider", ["dataforseo", "serpapi"])
@pytest.mark.stores
def test_a_scan_stores_ranks_that_follow_the_distance_from_the_clinic(mini, server, provider):
    setup_grid(mini, server, provider=provider)
    project = Project.open(mini)
    report = api.check(project, today=DAY)
    assert report.status == "ok", report.lines()
    grids = build_grids(project.site)
    assert server.total == sum(g.requests for g in grids) == 104  # 2 towns x 13 points x 4 keywords
    rows = load_points(project.store)
    assert len(rows) == 104 and all(r.measured for r in rows)
    for r in rows:  # exactly what the provider answered at that coordinate
        assert r.rank == server.maps_rank(r.keyword, r.lat, r.lng), (r.town, r.row, r.col)
    alpha = [r for r in rows if r.town == "alpha" and r.keyword == KNEE]
    by_distance = sorted(alpha, key=lambda r: miles_between(*CLINIC, r.lat, r.lng))
    assert by_distance[0].rank == 1  # next to the clinic: first
    assert all(r.rank is None for r in rows if r.town == "beta-springs")  # 9 miles away: not listed
    assert sum(r.rank is not None and r.rank <= 3 for r in alpha) < len(alpha)  # not everywhere
    # the coordinates asked for are the grid's own, with the zoom, in each provider's format
    seen = {(round(a, 7), round(b, 7)) for a, b in server.where_seen}
    assert seen == {(p.lat, p.lng) for g in grids for p in g.points}
    if provider == "dataforseo":
        coords = {b[0]["location_coordinate"] for b in server.bodies if isinstance(b, list)}
        assert all(c.endswith(",13z") and len(c.split(",")[0].split(".")[1]) == 7 for c in coords)
    else:
        lls = {b["ll"] for b in server.bodies if isinstance(b, dict) and b.get("engine") == "google_maps"}
        assert len(lls) == 26 and all(ll.startswith("@") and ll.endswith(",13z") for ll in lls)
    # per point: the top 3 (us flagged) and every business with its rank
    near = by_distance[0]
    top3 = json.loads(near.top3)
    assert top3[0] == {"key": "", "name": "Example Acupuncture", "domain": "", "rank": 1, "us": True}
    assert len(top3) == 3
    names = {b["name"]: b["rank"] for b in json.loads(near.businesses)}
    assert {"Rival Acupuncture", "City Wellness"} <= set(names)
    # scores per grid and day, the clinic's and each competitor's, from the points
    scores = [s for s in load_scores(project.store) if s.town == "alpha" and s.keyword == KNEE]
    expect = grid_scores([point_of(r) for r in alpha], 13, "Example Acupuncture")
    assert [(s.business, s.top3, s.found) for s in scores if s.business == ""] == [("", expect[0].top3,
                                                                                      expect[0].found)]
    ours = next(s for s in scores if s.business == "")
    assert ours.solv == pytest.approx(expect[0].solv) and ours.atrp == pytest.approx(expect[0].atrp)
    assert {s.name for s in scores if s.business} == {e.name for e in expect[1:]}
    beta = next(s for s in load_scores(project.store) if s.town == "beta-springs" and s.business == "")
    assert (beta.solv, beta.atrp, beta.arp, beta.found) == (0.0, 21.0, None, 0)
    # spend: counted once, against both budgets; the batch folder is gone; heatmaps written
    assert spent(project.store, provider, "2026-11") == grid_spent(project.store, provider, "2026-11") == 104
    assert report.outcome.grid_budget_left == 500 - 104 and report.outcome.budget_left == 1000 - 104
    assert not list(crawl_dir(project.site).iterdir())
    assert len(report.heatmaps) == 8 and all(p.read_bytes()[:4] == b"\x89PNG" for p in report.heatmaps)
    # run again the same day: nothing is fetched twice
    again = api.check(Project.open(mini), today=DAY)
    assert server.total == 104 and again.outcome.already == 104 and again.status == "ok"
    assert_no_secret(mini, *report.lines())


@pytest.mark.stores
def test_the_budget_is_never_exceeded_under_faults(mini, server):
    # a provider failing now and then (500s, a timeout) and retries that spend the budget too
    server.flaky(KNEE, times=5)
    server.slow("knee pain acupuncture alpha", seconds=3)
    setup_grid(mini, server, {"monthly_budget": 45}, retries=2, timeout=1, monthly_budget=60)
    project = Project.open(mini)
    report = api.check(project, today=DAY)
    # whole grids of 13 points while they fit: 3 of the 8 are started (39 of 45)
    assert len(report.outcome.planned) == 3 and len(report.outcome.skipped) == 5
    assert server.total <= 45
    assert spent(project.store, "dataforseo", "2026-11") == server.total
    rows = load_points(project.store)
    assert len(rows) == 104  # every point is in the store: measured or not, with the reason
    lost = [r for r in rows if not r.measured]
    faulty = (KNEE, "knee pain acupuncture alpha")
    assert {r.reason for r in lost if r.keyword not in faulty} == {BUDGET_REASON}
    assert any("timed out" in r.reason for r in lost) or any("budget" in r.reason for r in lost)
    assert report.status == "incomplete" and report.failed
    # a rank check shares what is left of the provider's budget, and stops there too
    before = server.total
    check_rankings(Project.open(mini), "serp", today=DAY)
    assert spent(project.store, "dataforseo", "2026-11") == server.total <= 60
    assert server.total > before
    # the next scan finds nothing left: no request at all, the points stay "not measured"
    again = api.check(Project.open(mini), today=DAY)
    assert again.outcome.planned == [] and server.total <= 60
    assert spent(project.store, "dataforseo", "2026-11") == server.total


def _crawl_children(root: Path) -> list[int]:
    """Pids of crawl children working on this project's batches."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes()
        except OSError:
            continue
        if b"seo.rankings.serp_crawl" in cmd and str(root).encode() in cmd:
            found.append(int(proc.name))
    return found


def test_a_killed_crawl_loses_nothing_and_is_resumed_without_paying_twice(mini, server):
    server.latency = 0.3
    setup_grid(mini, server, {"towns": {"beta-springs": {"enabled": False}}}, concurrency=2)
    project = Project.open(mini)
    result: list[api.GridCheckReport] = []
    thread = threading.Thread(target=lambda: result.append(api.check(project, today=DAY)))
    thread.start()
    deadline = time.monotonic() + 60
    while server.total < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in _crawl_children(mini):
        os.kill(pid, signal.SIGKILL)  # the crawl dies mid-scan
    thread.join(60)
    (first,) = result
    assert first.status == "failed" and "crawl process failed" in first.message
    rows = load_points(project.store)
    measured = {(r.keyword, f"{r.lat:.7f},{r.lng:.7f},13z") for r in rows if r.measured}
    assert len(rows) == 52 and 0 < len(measured) < 52  # every answer that arrived was kept
    assert {r.reason for r in rows if not r.measured} == {
        "check interrupted before this was fetched (crawl process failed)"}
    paid = spent(project.store, "dataforseo", "2026-11")
    assert paid >= server.total  # every request sent was counted (never fewer)
    server.latency = 0.0
    second = api.check(Project.open(mini), today=DAY)
    assert second.status == "ok" and second.outcome.already == len(measured)
    assert all(r.measured for r in load_points(project.store))
    asked = Counter((b[0]["keyword"], b[0]["location_coordinate"]) for b in server.bodies)
    assert {asked[k] for k in measured} == {1}  # a point measured is never fetched again
    assert len(asked) == 52  # (those whose answer never came are fetched again, and paid again)
    assert spent(project.store, "dataforseo", "2026-11") == paid + 52 - len(measured)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_scan_and_its_rerun_fetch_each_point_once(mini, server, sig):
    """Kill `seo grid check` mid-scan: its crawl child stops with it (finishing only what was in
    flight), the next scan stores those answers and fetches the rest: every point x keyword
    exactly once at the provider, and the spend is what was sent."""
    server.latency = 0.25
    setup_grid(mini, server, {"towns": {"beta-springs": {"enabled": False}}}, concurrency=2,
               retries=0)
    cmd = [sys.executable, "-m", "seo", "grid", "check", "--root", str(mini)]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **SECRETS},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while server.total < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait(10)
    time.sleep(1.5)  # an orphan would go on fetching here
    at_kill = server.total
    assert 6 <= at_kill < 52
    time.sleep(1.0)
    assert server.total == at_kill  # nothing fetched after the scan died
    server.latency = 0.0
    again = run_seo("grid", "check", "--root", str(mini), env=SECRETS)
    assert again.returncode == 0, again.stdout + again.stderr
    asked = Counter((b[0]["keyword"], b[0]["location_coordinate"]) for b in server.bodies)
    assert len(asked) == 52 and set(asked.values()) == {1}
    project = Project.open(mini)
    assert spent(project.store, "dataforseo", project.today().strftime("%Y-%m")) == 52
    assert all(r.measured for r in load_points(project.store))


def test_wrong_credentials_stop_at_the_first_request(mini, server, monkeypatch):
    monkeypatch.setenv("SEO_DATAFORSEO_PASSWORD", "wrong")
    setup_grid(mini, server, retries=0)
    project = Project.open(mini)
    report = api.check(project, today=DAY)
    assert server.unauthorised == 1 and server.total == 0  # one request, then the scan stopped
    assert report.status == "refused" and "rejected the credentials (401)" in report.message
    rows = load_points(project.store)
    assert len(rows) == 104 and all(not r.measured and "401" in r.reason for r in rows)
    assert spent(project.store, "dataforseo", "2026-11") == 1
    proc = run_seo("grid", "check", "--root", str(mini),
                   env={**SECRETS, "SEO_DATAFORSEO_PASSWORD": "wrong"})
    assert proc.returncode == 3 and not proc.stdout.strip(), proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "not configured: dataforseo: DataForSEO rejected the credentials (401): check "
        "SEO_DATAFORSEO_LOGIN and SEO_DATAFORSEO_PASSWORD (You are not authorized to access this "
        "resource.)"]
    assert_no_secret(mini, proc.stdout, proc.stderr)


def test_a_scan_never_runs_beside_a_rank_check(mini, server):
    """They share the month's budget: while one holds the live-check lock the other refuses."""
    from seo.errors import ExternalError
    from seo.rankings.serp.runner import check_lock
    setup_grid(mini, server)
    project = Project.open(mini)
    with check_lock(project.site), pytest.raises(ExternalError, match="is running"):
        api.check(project, today=DAY)
    assert server.total == 0


def test_cli_dry_run_show_export_and_errors(mini, server):
    setup_grid(mini, server)
    env = {**SECRETS}
    dry = run_seo("grid", "check", "--dry-run", "--root", str(mini), env=env)
    assert dry.returncode == 0, dry.stderr
    out = dry.stdout
    assert "grid: would make 104 requests" in out
    assert ("alpha: 5x5, 0.6 mi apart, 13 of 25 points inside a 1.2-mile circle x 4 keywords = "
            "52 requests") in out
    assert "budget this month: grid 500 of 500 approved left; dataforseo 1000 of 1000 left" in out
    assert "weekly scans: about 452 requests a month, within the approved 500" in out
    assert server.total == 0  # nothing spent
    one = run_seo("grid", "check", "--town", "alpha", "--keyword", "wrist", "--root", str(mini), env=env)
    assert one.returncode == 0, one.stderr
    assert server.total == 26 and "grid: ok; 26 points measured" in one.stdout
    assert 'alpha / "acupuncture for wrist pain alpha co": top 3 at' in one.stdout
    show = run_seo("grid", "show", "--map", "--root", str(mini), env=env)
    assert show.returncode == 0 and "ATRP" in show.stdout and "  .   ." in show.stdout
    exported = run_seo("grid", "export", "--csv", "--root", str(mini), env=env)
    table = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(table) == 26 and {r["measured"] for r in table} == {"yes"}
    assert any(r["top_1"] == "Example Acupuncture (us)" for r in table)
    out = io.StringIO()
    api.export_csv(Project.open(mini), out, scores=True, towns=["alpha"])
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert {r["business"] for r in rows} >= {"(us)"} and all(r["town"] == "alpha" for r in rows)
    with socket.socket() as sock:  # a port nothing listens on: the tile server is down
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    set_grid(mini, {"monthly_budget": 500, "size": 5, "spacing_miles": 0.6,
                    "tiles": {"url": f"http://127.0.0.1:{dead}/{{z}}/{{x}}/{{y}}.png",
                              "attribution": "© Test Tiles", "timeout": 1}})
    maps = run_seo("grid", "show", "--png", str(mini / "maps"), "--root", str(mini), env=env)
    assert maps.returncode == 0 and "wrote 2 heatmaps" in maps.stdout
    assert maps.stderr.startswith("warning: heatmaps drawn without a map background: map tiles "
                                  "unavailable (URLError")
    assert len(list((mini / "maps/alpha").glob("*.png"))) == 2
    bad = run_seo("grid", "check", "--town", "gamma", "--root", str(mini), env=env)
    assert bad.returncode == 2 and "unknown town 'gamma'" in bad.stderr and "Traceback" not in bad.stderr
    set_grid(mini, None)
    off = run_seo("grid", "check", "--root", str(mini), env=env)
    assert off.returncode == 3 and off.stderr.startswith("not configured: grid:")
    assert "Traceback" not in off.stderr


def test_points_not_measured_fail_the_check_with_exit_1(mini, server):
    server.task_error(KNEE)
    setup_grid(mini, server, {"towns": {"beta-springs": {"enabled": False}}})
    proc = run_seo("grid", "check", "--root", str(mini), env=SECRETS)
    assert proc.returncode == 1
    assert "error: 13 of 52 points not measured" in proc.stderr
    assert "not measured x13: task error 40501" in proc.stdout
    rows = load_points(Project.open(mini).store)
    assert all(r.rank is None and not r.measured for r in rows if r.keyword == KNEE)


def test_formula_like_names_are_defused_in_csv() -> None:
    assert api.cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert api.cell("-3") == "-3" and api.cell("@rival") == "'@rival" and api.cell("Rival") == "Rival"
