"""Live checks from the parent's side: plan tasks, spend the budget, run the crawl child, ingest.

Each crawl is a batch folder (`build/rankings/crawls/<batch>/`: job.json and results.jsonl). The
folder is removed only after its results and spend are in the store, so a check killed at any
point is picked up by the next one: leftover batches are ingested first (spend counted once per
batch), and keyword x town x kind already measured today are not fetched again.

One check at a time per project (a lock file in the crawls folder). The crawl child dies with the
check (see `seo.rankings.serp_crawl`): when the check is killed, the child finishes the requests
in flight, writes their results and exits, holding its batch's lock until then; the next check
waits for that lock (at most the request timeout, then it kills the child) before reading the batch.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ...childproc import child_env
from ...errors import ExternalError
from ...site import Site
from ...store import Store
from ..keywords import Keyword
from ..observations import Observation, measured_keys, record_spend, save_observations, spent
from . import Provider, Task, bare, get_provider, norm_name, scrub
from .locations import serp_location

KIND_OF_CALL = {"organic": "organic", "local_pack": "organic", "maps": "maps"}
BUDGET_REASON = "monthly request budget exhausted"
INTERRUPTED = "check interrupted before this was fetched"


@dataclass
class SerpOutcome:
    provider: str
    planned_requests: int = 0
    requests: int = 0
    budget_left: int = 0
    measured: int = 0
    not_measured: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    error: str = ""
    refused: bool = False  # the provider refused the account (credentials, payment)


def crawl_dir(site: Site) -> Path:
    return site.path("build/rankings/crawls")


def target_for(site: Site) -> dict[str, Any]:
    cfg = site.config
    names = sorted({norm_name(cfg.business.name), *(norm_name(loc.name) for loc in cfg.locations)})
    competitors = sorted({bare(c) if "." in c else norm_name(c) for c in cfg.keywords.competitors})
    return {"domain": bare(cfg.business.url), "names": names,
            "place_ids": sorted({loc.place_id for loc in cfg.locations if loc.place_id}),
            "competitors": competitors}


def plan_tasks(site: Site, keywords: list[Keyword], with_maps: bool,
               done: set[tuple[str, str, str, str]], device: str) -> list[Task]:
    towns = {t.slug: t for t in site.towns}
    tasks = []
    for i, kw in enumerate(keywords):
        town = towns[kw.town]
        kinds = [k for k in (("organic", "maps") if with_maps else ("organic",))
                 if (k, kw.text, kw.town, device) not in done]
        if kinds:
            tasks.append(Task(id=str(i), keyword=kw.text, town=kw.town, lat=town.config.geo.lat,
                              lng=town.config.geo.lng,
                              place=serp_location(town.name, town.config.state,
                                                  town.config.serp_location),
                              kinds=tuple(kinds)))
    return tasks


def batch_records(batch_dir: Path) -> Iterator[dict[str, Any]]:
    """The records a crawl child wrote to its batch's results.jsonl (a line cut short by a kill,
    or anything not a JSON object, is skipped)."""
    path = batch_dir / "results.jsonl"
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            yield rec


def ingest(store: Store, batch_dir: Path, run_id: int | None, outcome: SerpOutcome | None = None,
           missing_reason: str = INTERRUPTED) -> SerpOutcome:
    """Store a batch's results; every task x kind without a result becomes "not measured"."""
    job = json.loads((batch_dir / "job.json").read_text(encoding="utf-8"))
    outcome = outcome or SerpOutcome(job["provider"])
    day = date.fromisoformat(job["day"])
    results: dict[tuple[str, str], dict[str, Any]] = {}
    spend = 0
    for rec in batch_records(batch_dir):
        if rec.get("type") == "fatal":
            outcome.error = outcome.error or str(rec.get("reason", ""))[:300]
            outcome.refused = outcome.refused or bool(rec.get("refused"))
            missing_reason = f"check stopped: {outcome.error}"
        if rec.get("type") == "spend":
            spend += 1
        elif rec.get("type") in ("result", "failure"):
            key = (rec["task"], rec["kind"])
            if rec["type"] == "result" or key not in results:
                results[key] = rec
    obs = []
    for t in job["tasks"]:
        for call_kind in t["kinds"]:
            for kind in [k for k, c in KIND_OF_CALL.items() if c == call_kind]:
                base = {"source": job["provider"], "kind": kind, "keyword": t["keyword"],
                        "town": t["town"], "device": job["settings"]["device"], "day": day}
                rec = results.get((t["id"], kind))
                if rec is None:
                    obs.append(Observation(**base, measured=False, reason=missing_reason))
                elif rec["type"] == "failure":
                    obs.append(Observation(**base, measured=False, reason=rec["reason"]))
                else:
                    obs.append(Observation(**base, measured=True, position=rec["position"],
                                           url=rec["url"], reason=rec["reason"],
                                           competitors=rec["competitors"]))
    save_observations(store, obs, run_id)
    record_spend(store, job["provider"], job["month"], spend, batch_dir.name)
    outcome.requests += spend
    for o in obs:
        if o.measured:
            outcome.measured += 1
        else:
            outcome.not_measured += 1
            outcome.reasons[o.reason] = outcome.reasons.get(o.reason, 0) + 1
    shutil.rmtree(batch_dir)
    return outcome


def _is_crawl(pid: int) -> bool:
    try:
        return b"seo.rankings.serp_crawl" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def wait_for_batch(batch: Path, wait: float) -> None:
    """Wait until no crawl child writes `batch` (it holds the batch's lock while it runs): an
    orphan finishing its requests in flight. After `wait` seconds it is killed."""
    lock = batch / "lock"
    if not lock.exists():
        return
    fd = os.open(lock, os.O_RDWR)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            if time.monotonic() >= deadline:
                pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
                if pid.isdigit() and _is_crawl(int(pid)):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
            time.sleep(0.05)
    finally:
        os.close(fd)


def ingest_leftovers(store: Store, site: Site, run_id: int | None, wait: float = 0.0) -> int:
    folder = crawl_dir(site)
    n = 0
    for batch in sorted(folder.iterdir()) if folder.is_dir() else []:
        if (batch / "job.json").exists():
            wait_for_batch(batch, wait)
            ingest(store, batch, run_id)
            n += 1
    return n


@contextlib.contextmanager
def check_lock(site: Site) -> Iterator[None]:
    """One live check at a time per project: a second one would fetch the same keywords."""
    folder = crawl_dir(site)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / ".check.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise ExternalError(f"another live rank check is running (pid {pid}); run this one "
                                "when it has finished") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def _stop(proc: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM (Scrapy's graceful stop: requests in flight finish), then SIGKILL after `grace`."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def check_serp(site: Site, store: Store, keywords: list[Keyword], *, day: date, run_id: int | None,
               dry_run: bool = False, on_start: Callable[[int], None] | None = None) -> SerpOutcome:
    cfg = site.config.integrations.serp
    assert cfg is not None
    settings = cfg.model_dump()
    provider: Provider = get_provider(cfg.provider, settings, cfg.base_url)
    provider.check_secrets()
    month = day.strftime("%Y-%m")
    if dry_run:
        left = max(0, cfg.monthly_budget - spent(store, cfg.provider, month))
        tasks = plan_tasks(site, keywords, cfg.maps, measured_keys(store, cfg.provider, day),
                           cfg.device)
        return SerpOutcome(cfg.provider, planned_requests=sum(len(t.kinds) for t in tasks),
                           budget_left=left)
    grace = cfg.timeout * 2 + 5  # an orphan's requests in flight: one timeout, and a margin
    with check_lock(site):
        ingest_leftovers(store, site, run_id, wait=grace)
        from ...grid.run import ingest_leftovers as grid_leftovers  # they share the budget
        grid_leftovers(store, site, wait=grace)
        left = max(0, cfg.monthly_budget - spent(store, cfg.provider, month))
        done = measured_keys(store, cfg.provider, day)
        tasks = plan_tasks(site, keywords, cfg.maps, done, cfg.device)
        outcome = SerpOutcome(cfg.provider, planned_requests=sum(len(t.kinds) for t in tasks),
                              budget_left=left)
        if not tasks:
            return outcome
        _crawl(site, store, cfg, settings, provider, tasks, day, month, left, run_id, outcome,
               on_start, grace)
    outcome.budget_left = max(0, cfg.monthly_budget - spent(store, cfg.provider, month))
    return outcome


def _crawl(site: Site, store: Store, cfg: Any, settings: dict[str, Any], provider: Provider,
           tasks: list[Task], day: date, month: str, left: int, run_id: int | None,
           outcome: SerpOutcome, on_start: Callable[[int], None] | None, grace: float) -> None:
    batch = f"{datetime.now().strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
    batch_dir = crawl_dir(site) / batch
    batch_dir.mkdir(parents=True)
    job = {"provider": cfg.provider, "base_url": cfg.base_url, "settings": settings, "budget": left,
           "day": day.isoformat(), "month": month, "target": target_for(site),
           "tasks": [{**t.__dict__, "kinds": list(t.kinds)} for t in tasks],
           "out": str(batch_dir / "results.jsonl")}
    (batch_dir / "job.json").write_text(json.dumps(job, sort_keys=True), encoding="utf-8")
    if on_start:
        on_start(outcome.planned_requests)
    missing = INTERRUPTED
    env = child_env({**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in [str(Path(__file__).resolve().parents[3]), os.environ.get("PYTHONPATH")] if p)})
    err_path = batch_dir / "stderr.log"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "seo.rankings.serp_crawl",
                                 str(batch_dir / "job.json")], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=err, env=env)
    try:
        code = proc.wait(cfg.run_timeout)
    except subprocess.TimeoutExpired:
        _stop(proc, grace)
        outcome.error = f"crawl stopped after run_timeout {cfg.run_timeout:g}s"
        missing = f"{INTERRUPTED} (crawl timed out)"
    except BaseException:  # interrupted (a second SIGTERM, Ctrl-C): keep what was fetched
        _stop(proc, grace)
        ingest(store, batch_dir, run_id, outcome, INTERRUPTED)
        raise
    else:
        if code != 0:
            lines = err_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            outcome.error = scrub(f"crawl process failed (exit {code}): "
                                  f"{(lines or ['no output'])[-1]}"[:300], provider.secrets())
            missing = f"{INTERRUPTED} (crawl process failed)"
    ingest(store, batch_dir, run_id, outcome, missing)
