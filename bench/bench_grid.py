"""Geo-grid benchmark: 7 towns x 10 keywords x 49 points = 3,430 maps searches.

The clinic's own project (7 towns, 5 conditions x 2 patterns = 10 keywords a town) with 7 x 7
grids half a mile apart (no point dropped), against the local DataForSEO-speaking provider
(tests/servers/geo_serp.py) answering every request in 50 ms, run in a process of its own so that
its CPU is not counted as ours. What is timed is what a user runs: `seo grid check` as a whole
process (start-up, the crawl child, storing points and scores, writing the 70 heatmaps).

Reported, side by side from one run:
- wall time, against the floor set by the provider (requests x 50 ms / concurrency);
- peak RSS of the largest process (the command or its crawl child);
- our CPU (user + system, the command and its crawl child) per point, against the 50 ms each
  point waits for the provider; and the share of it spent on heatmaps (timed in-process after).

    python bench/bench_grid.py [--concurrency 16] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]
SECRETS = {"SEO_DATAFORSEO_LOGIN": "bench", "SEO_DATAFORSEO_PASSWORD": "bench-pw"}


def serve(latency: float, conn: object) -> None:
    """The provider, in its own process: its CPU is not ours."""
    from servers.geo_serp import GeoSerpServer

    server = GeoSerpServer(clinic=(39.5480, -104.7900), reach=6.0, domain="acupunctureassociates.example",
                           name="Acupuncture Associates", login="bench", password="bench-pw")
    for i, (lat, lng) in enumerate([(39.52, -104.76), (39.58, -104.88), (39.65, -104.99),
                                    (39.61, -104.95), (39.73, -104.83), (39.61, -105.02),
                                    (39.74, -104.99)]):
        for j in range(3):
            server.add_business(f"Rival {i}-{j}", f"rival-{i}-{j}.test", lat + 0.01 * j, lng - 0.01 * j,
                                prominence=0.2 * j, reach=5.0)
    server.latency = latency
    server.start()
    conn.send(server.url)  # type: ignore[attr-defined]
    conn.recv()  # type: ignore[attr-defined]  # until told to stop
    conn.send(server.total)  # type: ignore[attr-defined]
    server.stop()


def project(root: Path, url: str, concurrency: int) -> None:
    from grid_support import set_grid
    from rankings_support import configure

    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, root / name)
    site_yaml = root / "config/site.yaml"  # plain values, so the helper can rewrite the YAML
    site_yaml.write_text(site_yaml.read_text(encoding="utf-8").replace("!example", ""), encoding="utf-8")
    configure(root, serp={"provider": "dataforseo", "base_url": url, "concurrency": concurrency,
                          "monthly_budget": 10000, "retries": 1, "backoff": 0.1, "timeout": 30})
    set_grid(root, {"monthly_budget": 5000, "size": 7, "spacing_miles": 0.5, "area_radius_miles": 5})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    provider = ctx.Process(target=serve, args=(args.latency, theirs), daemon=True)
    provider.start()
    url = ours.recv()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        project(root, url, args.concurrency)
        env = {**os.environ, **SECRETS, "PYTHONPATH": str(REPO)}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "seo", "grid", "check", "--root", str(root)],
                              env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        ours.send("stop")
        served = ours.recv()
        provider.join(10)
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            raise SystemExit(f"seo grid check failed (exit {proc.returncode})")
        head = proc.stdout.splitlines()[0]
        points = int(head.split(" points measured")[0].rsplit(" ", 1)[1])
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        floor = served * args.latency / args.concurrency
        heatmaps = time_heatmaps(root)
        print(f"grid: {points:,} points measured ({served:,} requests answered in "
              f"{args.latency * 1000:.0f} ms "
              f"each, concurrency {args.concurrency})")
        print(f"  wall {wall:.1f} s for the whole `seo grid check`, {wall / floor:.2f}x the provider's "
              f"floor of {floor:.1f} s (requests x latency / concurrency)")
        print(f"  peak RSS {after.ru_maxrss / 1024:.0f} MB (the largest process: the command or its "
              f"crawl child)")
        print(f"  our CPU {cpu:.1f} s = {cpu / points * 1000:.1f} ms a point, "
              f"{cpu / points / args.latency:.2f}x the {args.latency * 1000:.0f} ms each point waits "
              f"for the provider; heatmaps {heatmaps:.1f} s of CPU ({heatmaps / cpu:.0%} of it, "
              f"{heatmaps / 70 * 1000:.0f} ms a map)")


def time_heatmaps(root: Path) -> float:
    """CPU seconds to draw the 70 heatmaps again (in this process), from the stored scan."""
    from seo.api import Project
    from seo.grid.api import write_heatmaps
    from seo.grid.config import build_grids

    p = Project.open(root)
    grids = build_grids(p.site)
    which = [(g.town, k) for g in grids for k in g.keywords]
    t0 = time.process_time()
    out = write_heatmaps(p, which, grids, out=root / "again")
    spent = time.process_time() - t0
    assert len(out) == 70, len(out)
    return spent


if __name__ == "__main__":
    main()
