"""Benchmark `seo pages build` as a user runs it: whole processes, timed from the outside.

    python bench/bench_pages.py                       # the bundled clinic, then 1,000 towns x 10
    python bench/bench_pages.py --towns 1000 --conditions 10 --only agency --repeats 3
    python bench/bench_pages.py --weights 7,100,1000  # bytes and links per page at those scales

Every figure is a whole process (interpreter start-up, imports, loading the project and all),
measured by bench/proctree.py: wall time, CPU time of the whole process tree, and the peak memory
of the whole tree (the build's forked render child included; PSS, shared pages counted once; RSS
summed as an upper bound). Everything lives on tmpfs (/dev/shm). Side by side, alternating, the
fastest of `--repeats` runs of each kept (this machine's 2 cores are shared with other work, and
timings move by 20-50% from one minute to the next; the load average is printed):
  full       `seo pages build` from an empty output folder and store (pictures and one social
             card per page included)
  no-cards   the same, with the social cards not drawn (a whole `seo` process with the card
             drawing stubbed out): full / no-cards is what the cards cost on a first build
  floor      bench/floor.py: the same project loaded, the same pages rendered through the same
             Jinja2 templates and written; nothing else (no guard, store, sitemap, atomic swap;
             one process)
  hugo       Debian's `hugo` building a site with the same number of pages and the same text
             (bench/hugo_site.py)
  no-change  `seo pages build` again, nothing changed (must write nothing)
  one-change one town's note edited, then `seo pages build` (the incremental rebuild)
Targets (issue 18, at 10,000 pages): full <= 2x floor and <= hugo; peak memory <= 300 MiB;
no-change <= 10% of full.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from proctree import Measure, measure  # noqa: E402

SHM = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")
LINK = re.compile(rb"<a\s[^>]*href=")


def seo_command() -> list[str]:
    script = Path(sys.executable).parent / "seo"
    return [str(script)] if script.exists() else [sys.executable, "-m", "seo"]


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def clinic_project() -> Path:
    root = SHM / "seo-bench-clinic"
    shutil.rmtree(root, ignore_errors=True)
    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, root / name)
    return root


def agency_project(towns: int, conditions: int) -> Path:
    from agency import generate
    return generate(SHM / f"seo-bench-agency-{towns}x{conditions}", towns, conditions)


def _check(m: Measure, what: str) -> Measure:
    if m.returncode != 0:
        raise SystemExit(f"{what} failed (exit {m.returncode}):\n{m.stdout[-2000:]}")
    return m


def run_full(root: Path) -> Measure:
    shutil.rmtree(root / "build", ignore_errors=True)
    return _check(measure([*seo_command(), "pages", "build", "--root", str(root)]), "seo pages build")


def run_build(root: Path) -> Measure:
    return _check(measure([*seo_command(), "pages", "build", "--root", str(root)]), "seo pages build")


NO_CARDS = ("import sys; from seo.pages.og import Cards; "
            "Cards.ensure = lambda self, rel, title: self.key(title); "
            "from seo.cli import main; main(args=sys.argv[1:], prog_name='seo')")


def run_no_cards(root: Path) -> Measure:
    shutil.rmtree(root / "build", ignore_errors=True)
    return _check(measure([sys.executable, "-c", NO_CARDS, "pages", "build", "--root", str(root)]),
                  "seo pages build without cards")


def run_floor(root: Path) -> Measure:
    out = root.parent / (root.name + "-floor")
    return _check(measure([sys.executable, str(REPO / "bench/floor.py"), str(root), str(out)]),
                  "floor")


def run_hugo(site: Path) -> Measure:
    public = site.parent / (site.name + "-public")
    shutil.rmtree(public, ignore_errors=True)
    return _check(measure(["hugo", "--quiet", "-s", str(site), "-d", str(public)]), "hugo")


def written(m: Measure) -> int:
    found = re.search(r"wrote (\d+) files", m.stdout)
    return int(found.group(1)) if found else -1


def best(runs: list[Measure]) -> Measure:
    return min(runs, key=lambda m: m.wall)


def row(name: str, m: Measure, pages: int, extra: str = "") -> str:
    return (f"{name:>10}: {m.wall:7.2f} s wall {m.cpu:7.2f} s CPU {pages / m.wall:7.0f} pages/s  "
            f"peak {m.pss_mib:6.1f} MiB PSS ({m.rss_mib:6.1f} RSS sum, {m.processes} proc){extra}")


def bench(label: str, root: Path, repeats: int, hugo: bool) -> None:
    from hugo_site import generate as hugo_generate

    hugo_site = root.parent / (root.name + "-hugo")
    hugo_pages = hugo_generate(root, hugo_site) if hugo and shutil.which("hugo") else 0
    print(f"\n== {label} (load average before: {load()}) ==", flush=True)
    runs: dict[str, list[Measure]] = {"floor": [], "full": [], "hugo": [], "no-cards": []}
    for _ in range(repeats):
        runs["floor"].append(run_floor(root))
        if hugo_pages:
            runs["hugo"].append(run_hugo(hugo_site))
        runs["no-cards"].append(run_no_cards(root))
        runs["full"].append(run_full(root))
    no_change = [run_build(root) for _ in range(repeats)]
    one_change = []
    town = sorted((root / "content/towns").glob("*.md"))
    note = town[len(town) // 2]
    for i in range(repeats):
        note.write_text(note.read_text() + f"\nA new bus route ({i}) now stops near the clinic.\n")
        one_change.append(run_build(root))
    full, floor, nc, oc = best(runs["full"]), best(runs["floor"]), best(no_change), best(one_change)
    pages = json.loads(floor.stdout.strip().splitlines()[-1])["pages"]
    print(f"{pages} pages; fastest of {repeats}, alternating floor, hugo, no-cards, full; "
          f"load average after: {load()}")
    phases = json.loads(floor.stdout.strip().splitlines()[-1])
    print(row("floor", floor, pages, f"  [import {phases['import']} s, load {phases['load']} s, "
                                    f"render+write {phases['render_write']} s]"))
    if hugo_pages:
        print(row("hugo", best(runs["hugo"]), hugo_pages, f"  [{hugo_pages} pages]"))
    print(row("full", full, pages, f"  wrote {written(full)} files"))
    print(row("no-cards", best(runs["no-cards"]), pages))
    print(row("no-change", nc, pages, f"  wrote {written(nc)} files"))
    print(row("one-change", oc, pages, f"  wrote {written(oc)} files"))
    print(f"full / floor      = {full.wall / floor.wall:5.2f}x   (target <= 2x)")
    if hugo_pages:
        print(f"full / hugo       = {full.wall / best(runs['hugo']).wall:5.2f}x   (target <= 1x)")
    cards = sum(1 for _ in (root / "build/site").rglob("og.png"))
    print(f"full / no-cards   = {full.wall / best(runs['no-cards']).wall:5.2f}x   (drawing "
          f"{cards} social cards: one per page, a town's shared by its town x condition pages)")
    print(f"no-change / full  = {nc.wall / full.wall:6.1%}   (target <= 10%)")
    print(f"one-change / full = {oc.wall / full.wall:6.1%}")
    print(f"peak memory, full build: {full.pss_mib:.0f} MiB PSS (target <= 300 MiB; RSS summed over "
          f"the tree {full.rss_mib:.0f} MiB, per-process peaks summed {full.hwm_mib:.0f} MiB)")
    print("all runs (wall s): " + "; ".join(
        f"{k} {', '.join(f'{m.wall:.1f}' for m in v)}" for k, v in
        (*runs.items(), ("no-change", no_change), ("one-change", one_change)) if v))


KINDS = (("home", re.compile(r"^index\.html$")),
         ("areas", re.compile(r"^areas-we-serve/index\.html$")),
         ("area pages", re.compile(r"^areas-we-serve/.+/index\.html$")),
         ("practitioner", re.compile(r"^practitioners/")),
         ("condition", re.compile(r"^conditions/")), ("town", re.compile(r"^[^/]+/index\.html$")),
         ("town_condition", re.compile(r"^[^/]+/[^/]+/index\.html$")))


def weights(root: Path) -> None:
    """Bytes and links of every page of a build, by kind: max and median."""
    site = root / "build/site"
    if not site.is_dir():
        run_build(root)
    stats: dict[str, list[tuple[int, int]]] = {}
    for path in sorted(site.rglob("index.html")):
        rel = path.relative_to(site).as_posix()
        kind = next((k for k, pattern in KINDS if pattern.search(rel)), "other")
        data = path.read_bytes()
        stats.setdefault(kind, []).append((len(data), len(LINK.findall(data))))
    every = [v for values in stats.values() for v in values]
    towns = len(stats.get("town", []))
    print(f"\n-- page weight at {towns} towns: {len(every)} pages --")
    for kind, values in [("all", every), *sorted(stats.items())]:
        sizes, links = [v[0] for v in values], [v[1] for v in values]
        print(f"{kind:>15}: {len(values):6d} pages  bytes max {max(sizes) / 1024:6.1f} KB  median "
              f"{statistics.median(sizes) / 1024:6.1f} KB   links max {max(links):5d}  median "
              f"{statistics.median(links):5.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=1000)
    parser.add_argument("--conditions", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", choices=["clinic", "agency", "weights"])
    parser.add_argument("--weights", default="7,100,1000", help="town counts for the page-weight table")
    args = parser.parse_args()
    version = subprocess.run([*seo_command(), "--version"], capture_output=True, text=True).stdout
    print(f"{version.strip()}; hugo: {shutil.which('hugo') or 'not installed'}; tmpfs: {SHM}")
    if args.only in (None, "clinic"):
        bench("bundled clinic, 7 towns", clinic_project(), max(args.repeats, 5), hugo=True)
    if args.only in (None, "agency"):
        bench(f"agency: {args.towns} towns x {args.conditions} conditions",
              agency_project(args.towns, args.conditions), args.repeats, hugo=True)
    if args.only in (None, "weights"):
        for n in (int(x) for x in args.weights.split(",")):
            weights(clinic_project() if n == 7 else agency_project(n, args.conditions))


if __name__ == "__main__":
    main()
