"""1,000 mutated configs through `seo check` and `seo pages build`: counts of exit codes,
tracebacks, hangs and multi-line errors (the issue's bar: 0, 0, 0).

Each case is a copy of the mini fixture with 1-6 random mutations of one config or content file
(`bench/mutations.py`), run in this process through click's CliRunner with a 30-second limit per
command. Deterministic for a given seed range.

    python bench/fuzz_config.py --cases 1000 [--first-seed 0] [--show 5]
"""

from __future__ import annotations

import argparse
import collections
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutations import check_and_build, make_project, random_ops


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--limit", type=float, default=30.0, help="seconds per command")
    parser.add_argument("--show", type=int, default=5, help="problems to print in full")
    args = parser.parse_args()
    codes: collections.Counter[str] = collections.Counter()
    kinds: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    slowest = 0.0
    started = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.cases):
        file, ops = random_ops(random.Random(seed))
        with tempfile.TemporaryDirectory() as tmp:
            root = make_project(Path(tmp) / "site", file, ops)
            for outcome in check_and_build(root, args.limit):
                codes[f"{outcome.command} exit {outcome.code}"] += 1
                slowest = max(slowest, outcome.seconds)
                problem = outcome.problem()
                if problem:
                    kind = "hang" if outcome.hung else "traceback" if outcome.traceback else \
                        "multi-line error" if outcome.code == 2 else f"exit {outcome.code}"
                    kinds[kind] += 1
                    problems.append(f"seed {seed} ({file}): {problem}")
    print(f"{args.cases} mutated configs, {2 * args.cases} commands in "
          f"{time.perf_counter() - started:.0f} s (slowest command {slowest:.2f} s)")
    for key, count in sorted(codes.items()):
        print(f"  {key}: {count}")
    print(f"tracebacks {kinds['traceback']}, hangs {kinds['hang']}, "
          f"multi-line errors {kinds['multi-line error']}, other exits "
          f"{sum(v for k, v in kinds.items() if k.startswith('exit'))}")
    for line in problems[: args.show]:
        print(f"  {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
