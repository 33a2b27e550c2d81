"""Watch job benchmark: what one `seo run watch` (whole process) costs on an agency project of
5,000 keyword x town pairs with two years of daily rank history, side by side (alternated) with the
same run on an empty store: a run right after new rank measurements (every series judged again),
and a run with nothing new (most runs: 47 of 48 a day); plus the requests it makes.

    python bench/bench_watch.py [--towns 500] [--conditions 10] [--days 730] [--rounds 3]

The live site is a local server answering every page; pages changed this week: the whole build
(every page is new), of which the watch checks `max_pages` (25). No Business Profile (one
getGoogleUpdated per location is all the listing check adds). A local webhook receives the
messages: the first run opens incidents (rank falls planted in 1 of 50 pairs), later runs send
nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench"), str(REPO / "tests")]


def fill_history(project, keywords, days: int, end: date) -> int:
    from seo.rankings.observations import observations
    cols = [c.name for c in observations.columns if c.name != "id"]
    sql = f"INSERT INTO rank_observations ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
    start = end - timedelta(days=days - 1)
    stamp = datetime.combine(end, datetime.min.time())
    raw = project.store.engine.raw_connection()
    try:
        cur = raw.cursor()
        for d in range(days):
            day = start + timedelta(days=d)
            batch = []
            for p, kw in enumerate(keywords):
                base = 1 + p % 40
                wobble = ((p * 31 + d * 17) % 5) - 2
                fell = d >= days - 2 and p % 50 == 0  # the last two checks: a fall of 20 places
                pos = float(max(1, base + wobble + (20 if fell else 0)))
                batch.append(("dataforseo", "organic", kw.text, kw.town, "desktop", day, True, pos, "",
                              "", None, None, None, False, "[]", None, stamp))
            cur.executemany(sql, batch)
        raw.commit()
    finally:
        raw.close()
    return days * len(keywords)


def timed_watch(root: Path, env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "seo", "run", "watch", "--root", str(root)],
                          capture_output=True, text=True, env=env, timeout=3600)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"watch failed ({proc.returncode}): {proc.stdout}{proc.stderr}")
    return took, proc.stdout.splitlines()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=500)
    parser.add_argument("--conditions", type=int, default=10)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from agency import generate
    from servers.webhook import SiteServer, WebhookReceiver

    from seo.api import Project, build
    from seo.automation.schedule import load_schedule
    from seo.rankings.keywords import build_keywords
    from seo.tables import alert_memos

    site, hook = SiteServer().start(), WebhookReceiver().start()
    env = {**os.environ, "SEO_BENCH_HOOK": hook.url}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            full = generate(Path(tmp) / "full", args.towns, args.conditions)
            cfg_path = full / "config/site.yaml"
            cfg = yaml.safe_load(cfg_path.read_text())
            cfg["keywords"] = {"patterns": ["{condition} acupuncture {town}"], "town_patterns": []}
            cfg.setdefault("integrations", {})["serp"] = {"provider": "dataforseo"}
            cfg["integrations"]["alerts"] = {
                "channels": {"chat": {"type": "slack", "url_env": "SEO_BENCH_HOOK"}},
                "site_checks": {"url": site.url}}
            cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
            empty = Path(tmp) / "empty"
            shutil.copytree(full, empty)
            project = Project.open(full)
            today = datetime.now(ZoneInfo(load_schedule(full).timezone)).date()  # the clinic's day
            t0 = time.perf_counter()
            build(project, today=today)
            built = time.perf_counter() - t0
            keywords = build_keywords(project.site)
            t0 = time.perf_counter()
            rows = fill_history(project, keywords, args.days, today)
            print(f"agency project: {args.towns} towns x {args.conditions} conditions, "
                  f"{len(keywords):,} keyword x town pairs; built in {built:.0f} s; "
                  f"{rows:,} rank observations stored in {time.perf_counter() - t0:.0f} s")
            first, line = timed_watch(full, env)
            print(f"first run (opens the planted incidents): {first:.2f} s; {line}")
            print(f"  messages sent: {len(hook.received)}; live-site requests: {len(site.hits)}")
            sent = len(hook.received)
            times: dict[str, list[float]] = {"new": [], "steady": [], "empty": []}
            hits: dict[str, list[int]] = {"new": [], "steady": [], "empty": []}
            for _ in range(args.rounds):
                for name, root in (("new", full), ("steady", full), ("empty", empty)):
                    if name == "new":  # as after a rank check: the memo no longer matches
                        with project.store.begin() as conn:
                            conn.execute(alert_memos.delete())
                    before = len(site.hits)
                    took, _line = timed_watch(root, env)
                    times[name].append(took)
                    hits[name].append(len(site.hits) - before)
            n, st, e = (min(times[k]) for k in ("new", "steady", "empty"))
            print(f"later runs, fastest of {args.rounds} each, alternated: after new measurements "
                  f"{n:.2f} s, nothing new {st:.2f} s, empty store {e:.2f} s; ratios to the empty "
                  f"store {n / e:.2f} and {st / e:.2f}")
            print(f"  messages sent by the later runs: {len(hook.received) - sent} (nothing changed); "
                  f"live-site requests per run: {max(hits['steady'])} (the project, 25 pages changed "
                  f"this week + home), {max(hits['empty'])} (the empty copy: never built, home only)")
    finally:
        site.stop()
        hook.stop()


if __name__ == "__main__":
    main()
