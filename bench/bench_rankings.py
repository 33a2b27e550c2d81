"""Rankings benchmark.

1. serp:  500 keywords x 7 towns = 3,500 live checks (one organic request each) through the real
          Scrapy child process against the local provider server (tests/servers/serp.py):
          requests/s and the peak concurrency seen by the server.
2. store: two years of daily observations for 5,000 keyword x town pairs (3.65 million rows) into
          SQLite, one save per day as the daily check does (rows/s, seconds, peak RSS), then the
          week's movements (seconds, peak RSS), each phase in its own child process. With
          --postgres, the same into a PostgreSQL server started for the run (Debian's binaries,
          initdb into a temporary folder, as the tests do; fsync off).

    python bench/bench_rankings.py [serp|store] [--concurrency 16] [--pairs 5000] [--days 730]
    python bench/bench_rankings.py store --postgres

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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
END = date(2026, 11, 22)  # a Sunday: the stored history ends with a whole week


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


def _day_observations(pairs: int, days: int, d: int, start: date) -> Iterator[Any]:
    """Day `d`'s check of every pair: positions that wobble, a failure now and then, and in the
    last week one pair in 50 up 8 places."""
    from seo.rankings.observations import Observation

    day = start + timedelta(days=d)
    for p in range(pairs):
        keyword, town = f"kw {p // 7}", f"town{p % 7}"
        if (p + d) % 97 == 0:
            yield Observation("dataforseo", "organic", keyword, town, "desktop", day, False,
                              reason="timed out")
        else:
            base = 1 + p % 40
            wobble = ((p * 31 + d * 17) % 5) - 2
            pos = max(1, base + wobble - (8 if d > days - 8 and p % 50 == 0 else 0))
            yield Observation("dataforseo", "organic", keyword, town, "desktop", day, True, float(pos))


def bench_store_write(url: str, pairs: int, days: int) -> None:
    """Child: two years of daily checks, one save (one transaction) per day, as the daily job does."""
    import sqlalchemy as sa

    from seo.rankings.observations import observations, save_observations
    from seo.store import open_store, sqlite_path

    store = open_store(url)
    start = END - timedelta(days=days - 1)
    t0 = time.perf_counter()
    for d in range(days):
        save_observations(store, _day_observations(pairs, days, d, start))
    stored = time.perf_counter() - t0
    t1 = time.perf_counter()  # the last day's check run again: every row an update, none added
    save_observations(store, _day_observations(pairs, days, days - 1, start))
    again = time.perf_counter() - t1
    size = 0.0
    with store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(observations)).scalar()
        if store.engine.dialect.name == "postgresql":
            size = conn.execute(sa.text("SELECT pg_database_size(current_database())")).scalar() / 2**20
    assert count == pairs * days, (count, pairs * days)
    dialect = store.engine.dialect.name
    store.engine.dispose()
    db = sqlite_path(url)
    if db is not None:
        size = sum(f.stat().st_size for f in db.parent.glob(db.name + "*")) / 2**20
    print(f"store ({dialect}): {pairs * days:,} observations ({pairs} pairs x {days} days, one save "
          "per day) "
          f"in {stored:.1f} s = {pairs * days / stored:,.0f} rows/s; database {size:.0f} MB; "
          f"peak RSS {peak_rss_mb():.0f} MB")
    print(f"store: the last day's check re-run ({pairs:,} rows, all updates) in {again:.2f} s; "
          f"{count:,} rows, none doubled")


def bench_movements(url: str) -> None:
    """Child: the week's movements over the stored history."""
    from seo.rankings.movements import compute
    from seo.store import open_store

    store = open_store(url)
    t0 = time.perf_counter()
    report = compute(store, END)
    moved = time.perf_counter() - t0
    print(f"movements: {len(report.rows)} series for week {report.week_start} in {moved:.2f} s: "
          f"{len(report.winners)} up, {len(report.losers)} down, {len(report.not_measured)} not measured; "
          f"peak RSS {peak_rss_mb():.0f} MB")


def bench_store(pairs: int, days: int, postgres: bool = False) -> None:
    """Each phase in its own child process, so each peak RSS is that phase's own."""
    with tempfile.TemporaryDirectory() as tmp, _store_url(Path(tmp), postgres) as url:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "store-write", "--url", url, "--pairs", str(pairs),
                        "--days", str(days)], check=True)
        t1 = time.perf_counter()
        subprocess.run([sys.executable, __file__, "movements", "--url", url], check=True)
        t2 = time.perf_counter()
        print(f"store part: {t2 - t0:.1f} s wall (store child {t1 - t0:.1f} s, movements child "
              f"{t2 - t1:.1f} s, each including its interpreter start-up)")


@contextmanager
def _store_url(tmp: Path, postgres: bool) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    from pg_support import PostgresServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql)")
    server = PostgresServer(bindir).start()
    try:
        yield server.url(server.create_database())
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", choices=["serp", "store", "store-write", "movements"])
    parser.add_argument("--url", help="(store-write, movements) the store's URL")
    parser.add_argument("--postgres", action="store_true", help="(store) into a PostgreSQL server")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--pairs", type=int, default=5000)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()
    if args.part == "serp":
        bench_serp(args.concurrency)
    elif args.part == "store":
        bench_store(args.pairs, args.days, args.postgres)
    elif args.part == "store-write":
        bench_store_write(args.url, args.pairs, args.days)
    elif args.part == "movements":
        bench_movements(args.url)
    else:
        for part in ("serp", "store"):
            subprocess.run([sys.executable, __file__, part, "--concurrency", str(args.concurrency),
                            "--pairs", str(args.pairs), "--days", str(args.days)]
                           + (["--postgres"] if args.postgres else []), check=True)


if __name__ == "__main__":
    main()
