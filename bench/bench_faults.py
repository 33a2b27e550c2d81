"""Fault runs: real `seo` processes against the local Google Business Profile and SERP servers with
slow creates, dropped connections and kills, counting what must never happen.

1. posts: 100 `seo listing posts` runs on the bundled clinic (example values stripped, one
   location on the local GBP server; client timeout 0.5 s, `posts.max_per_run` 3), in rounds of
   25 on a fresh store and server. Before each run one fault is drawn (seeded): Google finishing
   the next create 0.7-3 s late (after the client's timeout), dropping the connection after making
   it, the run killed (SIGKILL) 0.3-5 s in, two runs at once, or none. Counted: posts made, the
   same post made twice (by its key), the most edits in any 60 s, posts left SENDING.
2. checks: `seo rankings check` killed mid-crawl (SIGKILL or SIGTERM, alternately) and run again,
   on a fresh store and server each time: requests per keyword x kind at the server (must be 1),
   and the spend recorded against the requests the server saw.

    python bench/bench_faults.py [posts|checks|all] [--runs 100] [--cycles 20] [--seed 11]

Nothing here contacts an outside host.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from servers.gbp import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, GbpServer  # noqa: E402
from servers.serp import SerpServer  # noqa: E402

NAME = "locations/111"
ACCOUNT = "accounts/42"


def seo(*args: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "seo", *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


# -- posts ------------------------------------------------------------------------------------

def clinic(root: Path, server: GbpServer) -> None:
    """The bundled clinic with its example values taken as real, its first location on `server`."""
    for name in ("config", "content", "templates"):
        shutil.copytree(REPO / name, root / name)
    site = root / "config/site.yaml"
    text = re.sub(r"!example(?=\s)", "", site.read_text(encoding="utf-8"))
    text = re.sub(r"\n    gbp_location:\s+\S+\n", f"\n    gbp_location: {NAME}\n", text, count=1)
    gbp = (f"integrations:\n  gbp:\n    account: {ACCOUNT}\n    timeout: 0.5\n"
           f"    endpoints: {{business_information: '{server.url}', v4: '{server.v4_url}', "
           f"token_uri: '{server.token_uri}'}}\n"
           "    posts: {max_per_run: 3, poll_attempts: 0, lookup_wait: 3, resend_after: 1}\n")
    assert "\nintegrations: {}\n" in text
    site.write_text(text.replace("\nintegrations: {}\n", "\n" + gbp), encoding="utf-8")


def token(path: Path) -> Path:
    path.write_text(json.dumps({"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID,
                                "client_secret": CLIENT_SECRET,
                                "scopes": ["https://www.googleapis.com/auth/business.manage"]}))
    return path


def post_keys(server: GbpServer) -> list[str]:
    out = []
    for post in server.all_posts():
        m = re.search(r"utm_content=(\w+)", str(post.get("callToAction", {}).get("url", "")))
        out.append(m.group(1) if m else "?")
    return out


def max_per_minute(times: list[float]) -> int:
    times = sorted(times)
    return max((sum(1 for s in times[i:] if s < t + 60) for i, t in enumerate(times)), default=0)


def posts_round(work: Path, runs: int, rng: random.Random, faults: Counter[str]) -> dict[str, Any]:
    server = GbpServer().start()
    try:
        root = work / "clinic"
        clinic(root, server)
        env = {**os.environ, "SEO_GOOGLE_TOKEN": str(token(work / "token.json"))}
        env.pop("SEO_GOOGLE_SERVICE_ACCOUNT", None)
        server.add_location(NAME, {"title": "Acupuncture Associates"})
        built = subprocess.run([sys.executable, "-m", "seo", "pages", "build", "--root", str(root)],
                               cwd=REPO, env=env, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
        failures: Counter[str] = Counter()
        for _ in range(runs):
            fault = rng.choices(["late", "drop", "kill", "pair", "none"], [30, 20, 20, 15, 15])[0]
            faults[fault] += 1
            if fault == "late":
                server.fault("post.create", late=rng.uniform(0.7, 3.0))
            elif fault == "drop":
                server.fault("post.create", drop=True)
            procs = [seo("listing", "posts", "--root", str(root), env=env)
                     for _ in range(2 if fault == "pair" else 1)]
            if fault == "kill":
                try:
                    procs[0].wait(rng.uniform(0.3, 5.0))
                except subprocess.TimeoutExpired:
                    procs[0].send_signal(signal.SIGKILL)
            for p in procs:
                _, err = p.communicate(timeout=600)
                if p.returncode not in (0, -signal.SIGKILL):
                    failures[(err.decode(errors="replace").strip().splitlines() or ["?"])[-1][:120]] += 1
            server.faults.clear()
        time.sleep(3.5)  # let the last late create land before counting
        keys = post_keys(server)
        import sqlite3
        db = sqlite3.connect(root / "build/seo.sqlite3")
        sending = db.execute("SELECT count(*) FROM listing_posts WHERE state='SENDING'").fetchone()[0]
        return {"posts": len(keys), "duplicates": len(keys) - len(set(keys)),
                "creates_sent": len(server.ops("post.create")),
                "max_edits_per_minute": max_per_minute([e.at for e in server.log
                                                        if e.op in ("post.create", "patch")]),
                "left_sending": sending, "failures": dict(failures)}
    finally:
        server.stop()


def bench_posts(runs: int, seed: int) -> None:
    rng = random.Random(seed)
    faults: Counter[str] = Counter()
    rounds = []
    per_round = 25
    started = time.monotonic()
    for i in range(0, runs, per_round):
        with tempfile.TemporaryDirectory(prefix="seo-faults-") as tmp:
            result = posts_round(Path(tmp), min(per_round, runs - i), rng, faults)
        rounds.append(result)
        print(f"round {len(rounds)}: {json.dumps(result, sort_keys=True)}", flush=True)
    total = {"runs": runs, "faults": dict(faults), "posts": sum(r["posts"] for r in rounds),
             "duplicates": sum(r["duplicates"] for r in rounds),
             "max_edits_per_minute": max(r["max_edits_per_minute"] for r in rounds),
             "left_sending": sum(r["left_sending"] for r in rounds),
             "seconds": round(time.monotonic() - started)}
    print(f"posts: {json.dumps(total, sort_keys=True)}", flush=True)


# -- rank checks --------------------------------------------------------------------------------

def check_cycle(work: Path, sig: int, rng: random.Random) -> dict[str, Any]:
    root = work / "mini"
    shutil.copytree(REPO / "tests/fixtures/mini", root, ignore=shutil.ignore_patterns("build"))
    secrets = {"SEO_DATAFORSEO_LOGIN": "bench-login", "SEO_DATAFORSEO_PASSWORD": "bench-password"}
    with SerpServer(login=secrets["SEO_DATAFORSEO_LOGIN"],
                    password=secrets["SEO_DATAFORSEO_PASSWORD"]) as server:
        server.delay_all = 0.2
        import yaml
        path = root / "config/site.yaml"
        data = yaml.safe_load(path.read_text())
        data.setdefault("integrations", {})["serp"] = {
            "provider": "dataforseo", "base_url": server.url, "concurrency": 3, "retries": 0,
            "timeout": 5}
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        env = {**os.environ, **secrets}
        first = seo("rankings", "check", "--source", "serp", "--root", str(root), env=env)
        kill_at = rng.randint(2, 20)
        deadline = time.monotonic() + 120
        while server.total < kill_at and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        first.send_signal(sig)
        first.wait(30)
        time.sleep(0.5)
        at_kill = server.total
        again = seo("rankings", "check", "--source", "serp", "--root", str(root), env=env)
        again.communicate(timeout=600)
        import sqlite3
        db = sqlite3.connect(root / "build/seo.sqlite3")
        spent = db.execute("SELECT coalesce(sum(requests), 0) FROM serp_spend WHERE month=?",
                           (date.today().strftime("%Y-%m"),)).fetchone()[0]
        counts = Counter(server.requests.values())
        return {"killed_after": at_kill, "requests": server.total, "needed": len(server.requests),
                "fetched_twice": sum(n for c, n in counts.items() if c > 1),
                "spend_recorded": spent, "rerun_exit": again.returncode}


def bench_checks(cycles: int, seed: int) -> None:
    rng = random.Random(seed)
    out = []
    started = time.monotonic()
    for i in range(cycles):
        sig = signal.SIGKILL if i % 2 == 0 else signal.SIGTERM
        with tempfile.TemporaryDirectory(prefix="seo-faults-") as tmp:
            result = check_cycle(Path(tmp), sig, rng)
        out.append(result)
        print(f"check {i + 1} ({signal.Signals(sig).name}): {json.dumps(result, sort_keys=True)}",
              flush=True)
    total = {"cycles": cycles, "fetched_twice": sum(r["fetched_twice"] for r in out),
             "requests": sum(r["requests"] for r in out), "needed": sum(r["needed"] for r in out),
             "spend_recorded": sum(r["spend_recorded"] for r in out),
             "seconds": round(time.monotonic() - started)}
    print(f"checks: {json.dumps(total, sort_keys=True)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", nargs="?", default="all", choices=["posts", "checks", "all"])
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    if args.part in ("posts", "all"):
        bench_posts(args.runs, args.seed)
    if args.part in ("checks", "all"):
        bench_checks(args.cycles, args.seed)


if __name__ == "__main__":
    main()
