"""YAML load time: config/towns.yaml of an agency project (330 KB at 1,000 towns), read by
`seo.yamlio.parse_yaml` with libyaml's C parser and with the pure-Python parser (the same code
after the events), and by PyYAML's own `yaml.load` (SafeLoader, the loader before the rewrite
composed its nodes with it), side by side, alternating, best of `--repeat`.

    python bench/bench_yaml.py [--towns 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agency import generate

from seo.yamlio import parse_yaml


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = generate(Path(tmp) / "agency", towns=args.towns, conditions=1)
        text = (root / "config/towns.yaml").read_text(encoding="utf-8")
    runs = {"parse_yaml, libyaml events": lambda: parse_yaml(text, "towns.yaml"),
            "parse_yaml, pure-Python events": lambda: parse_yaml(text, "towns.yaml", pure=True),
            "yaml.load(SafeLoader)": lambda: yaml.load(text, Loader=yaml.SafeLoader)}
    found: dict[str, float] = dict.fromkeys(runs, float("inf"))
    for _ in range(2):  # alternate, so both see the same machine
        for name, fn in runs.items():
            found[name] = min(found[name], best(fn, args.repeat))
    fast = found["parse_yaml, libyaml events"]
    print(f"towns.yaml: {args.towns} towns, {len(text.encode()) / 1024:.0f} KB")
    for name, seconds in found.items():
        print(f"  {name:32} {seconds * 1000:8.0f} ms  {seconds / fast:5.1f}x")


if __name__ == "__main__":
    main()
