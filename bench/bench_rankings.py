"""Rankings benchmark.

1. serp:  500 keywords x 7 towns = 3,500 live checks (one organic request each) through the real
          Scrapy child process against the local provider server (tests/servers/serp.py):
          requests/s and the peak concurrency seen by the server.
2. store: two years of daily observations for 5,000 keyword x town pairs (3.65 million rows) into
          SQLite, then the week's movements: seconds and peak RSS.

    python bench/bench_rankings.py [serp|store] [--concurrency 16] [--pairs 5000] [--days 730]

Each part runs in its own process so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_serp(concurrency: int) -> None:
    from rankings_support import configure
    from servers.serp import SerpServer

    from seo.api import Project
    from seo.rankings.keywords import build_keywords
    from seo.rankings.serp.runner import check_serp

    os.environ.update({"SEO_DATAFORSEO_LOGIN": "bench", "SEO_DATAFORSEO_PASSWORD": "bench-pw"})
    with tempfile.TemporaryDirectory() as tmp, SerpServer(
            domain="acupunctureassociates.example", login="bench", password="bench-pw") as server:
        root = Path(tmp)
        for name in ("config", "content", "templates"):
            shutil.copytree(REPO / name, root / name)
        site_yaml = root / "config/site.yaml"  # plain values, so the helper can rewrite the YAML
        site_yaml.write_text(site_yaml.read_text(encoding="utf-8").replace("!example", ""),
                             encoding="utf-8")
        extra = [{"keyword": f"acupuncture topic {i:03d}"} for i in range(500)]
        configure(root, keywords={"patterns": [], "town_patterns": [], "extra": extra},
                  serp={"provider": "dataforseo", "base_url": server.url, "maps": False,
                        "concurrency": concurrency, "monthly_budget": 10000, "retries": 1,
                        "backoff": 0.1, "timeout": 30})
        project = Project.open(root)
        keywords = build_keywords(project.site)
        assert len(keywords) == 3500, len(keywords)
        t0 = time.perf_counter()
        out = check_serp(project.site, project.store, keywords, day=date(2026, 11, 20), run_id=None)
        secs = time.perf_counter() - t0
        print(f"serp: {out.requests} requests ({out.measured} measured, {out.not_measured} not measured) "
              f"in {secs:.1f} s = {out.requests / secs:.0f} requests/s including the child's start-up; "
              f"concurrency setting {concurrency}, peak in flight at the server {server.peak}")


def bench_store(pairs: int, days: int) -> None:
    from seo.rankings.movements import compute
    from seo.rankings.observations import Observation, save_observations
    from seo.store import open_store

    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite3")
        end = date(2026, 11, 22)
        start = end - timedelta(days=days - 1)
        t0 = time.perf_counter()
        for d in range(days):
            day = start + timedelta(days=d)
            batch = []
            for p in range(pairs):
                base = 1 + p % 40
                wobble = ((p * 31 + d * 17) % 5) - 2
                if (p + d) % 97 == 0:
                    batch.append(Observation("dataforseo", "organic", f"kw {p // 7}", f"town{p % 7}",
                                             "desktop", day, False, reason="timed out"))
                else:
                    pos = max(1, base + wobble - (8 if d > days - 8 and p % 50 == 0 else 0))
                    batch.append(Observation("dataforseo", "organic", f"kw {p // 7}", f"town{p % 7}",
                                             "desktop", day, True, float(pos)))
            save_observations(store, batch)
        stored = time.perf_counter() - t0
        t1 = time.perf_counter()
        report = compute(store, end)
        moved = time.perf_counter() - t1
        size = Path(tmp, "bench.sqlite3").stat().st_size / 2**20
        print(f"store: {pairs * days:,} observations ({pairs} pairs x {days} days) stored in {stored:.1f} s "
              f"({pairs * days / stored:,.0f}/s), database {size:.0f} MB")
        print(f"movements: {len(report.rows)} series for week {report.week_start} in {moved:.2f} s: "
              f"{len(report.winners)} up, {len(report.losers)} down, {len(report.not_measured)} not measured")
        print(f"store: peak RSS {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", choices=["serp", "store"])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    if args.part == "serp":
        bench_serp(args.concurrency)
    elif args.part == "store":
        bench_store(args.pairs, args.days)
    else:
        for part in ("serp", "store"):
            subprocess.run([sys.executable, __file__, part, "--concurrency", str(args.concurrency),
                            "--pairs", str(args.pairs), "--days", str(args.days)], check=True)


if __name__ == "__main__":
    main()
