"""Weekly report benchmark: build the report from two years of daily history for 5,000
keyword x town pairs (an agency project of 500 towns x 10 conditions, one keyword pattern), plus
Search Console rows and page events: seconds and peak RSS.

    python bench/bench_report.py [--towns 500] [--conditions 10] [--days 730]

The history goes in with plain executemany INSERTs (the bench measures the report, not upserts).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

WEEK = "2026-W47"
END = date(2026, 11, 22)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=500)
    parser.add_argument("--conditions", type=int, default=10)
    parser.add_argument("--days", type=int, default=730)
    args = parser.parse_args()

    from agency import generate

    from seo.api import Project
    from seo.rankings.keywords import build_keywords
    from seo.rankings.observations import observations, sc_rows
    from seo.report import build_report

    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "agency", args.towns, args.conditions)
        cfg_path = root / "config/site.yaml"
        cfg = yaml.safe_load(cfg_path.read_text())
        cfg["keywords"] = {"patterns": ["{condition} acupuncture {town}"], "town_patterns": []}
        cfg.setdefault("integrations", {})["serp"] = {"provider": "dataforseo"}
        cfg["integrations"]["search_console"] = {"property": "sc-domain:clinic.test"}
        cfg["site"]["store"] = f"sqlite:///{tmp}/bench.sqlite3"
        cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
        project = Project.open(root)
        keywords = build_keywords(project.site)
        start = END - timedelta(days=args.days - 1)
        stamp = datetime(2026, 11, 23)
        t0 = time.perf_counter()
        cols = [c.name for c in observations.columns if c.name != "id"]
        sql = (f"INSERT INTO rank_observations ({', '.join(cols)}) "
               f"VALUES ({', '.join('?' for _ in cols)})")
        raw = project.store.engine.raw_connection()
        try:
            cur = raw.cursor()
            for d in range(args.days):
                day = start + timedelta(days=d)
                batch = []
                for p, kw in enumerate(keywords):
                    base = 1 + p % 40
                    wobble = ((p * 31 + d * 17) % 5) - 2
                    measured = (p + d) % 97 != 0
                    pos = float(max(1, base + wobble - (8 if d > args.days - 8 and p % 50 == 0 else 0)))
                    batch.append(("dataforseo", "organic", kw.text, kw.town, "desktop", day, measured,
                                  pos if measured else None, "", "" if measured else "timed out", None,
                                  None, None, False, "[]", None, stamp))
                cur.executemany(sql, batch)
                sc = [(day, kw.text, f"https://clinic.test{kw.target}", (p + d) % 3, 20 + p % 7, 0.05,
                       float(1 + p % 30), False) for p, kw in enumerate(keywords[:500])]
                cur.executemany(f"INSERT INTO {sc_rows.name} VALUES (?, ?, ?, ?, ?, ?, ?, ?)", sc)
            raw.commit()
        finally:
            raw.close()
        stored = time.perf_counter() - t0
        rows = args.days * len(keywords)
        print(f"history: {rows:,} observations ({len(keywords):,} pairs x {args.days} days) + "
              f"{args.days * 500:,} Search Console rows inserted in {stored:.1f} s")
        rss_before = peak_rss_mb()
        t1 = time.perf_counter()
        report = build_report(project, WEEK)
        built = time.perf_counter() - t1
        r = report.facts.rankings
        print(f"report {WEEK}: built in {built:.2f} s: {r.series:,} series, {len(r.up)} up, "
              f"{len(r.down)} down, {r.not_measured} not measured, {len(report.charts)} charts, "
              f"HTML {len(report.html):,} bytes, text {len(report.text):,} bytes")
        print(f"peak RSS {peak_rss_mb():.0f} MB (after loading the project and inserting: "
              f"{rss_before:.0f} MB)")


if __name__ == "__main__":
    main()
