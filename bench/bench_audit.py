"""Benchmark: `seo audit` (all checks) against a bare Scrapy CrawlSpider, on an agency-scale build.

    python bench/bench_audit.py                     # 1000 towns x 10 conditions (~10,000 pages)
    python bench/bench_audit.py --towns 100 --conditions 5 --reuse

Generates the synthetic project (bench/agency.py) into /dev/shm, builds it with the real
`seo pages build`, serves the output with nginx on loopback (config in a temp dir; started and
stopped here), then in the same run crawls it with:
  - a bare CrawlSpider that only follows links (Rule(LinkExtractor(allow=<origin>), follow=True));
    `allow_domains` cannot be used: it matches nothing on host:port;
  - `run_audit` with every check on, timed end to end (crawl child + checks + store).
Both crawls use the same concurrency, robots.txt on, telnet and remote control off. Reports pages/s
for each, their ratio (target >= 1.2) and each crawl child's peak RSS from wait4() (target <= 300 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))
SHM = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
CONCURRENCY = 32

NGINX_CONF = """
worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; application/xml xml; text/plain txt; }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_requests 100000;
    client_body_temp_path {tmp}/client; proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi; uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        index index.html;
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Nginx:
    def __init__(self, root: Path) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="seo-bench-nginx-"))
        self.port = free_port()
        conf = self.tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=self.tmp, port=self.port, root=root))
        self.proc = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(self.tmp)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.url = f"http://127.0.0.1:{self.port}/"
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise SystemExit(f"nginx failed: {self.proc.stderr.read().decode()}") from None
                time.sleep(0.05)
        raise SystemExit("nginx did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def bare_child(url: str, out: Path, seconds: float) -> None:
    """The baseline, run in its own process: a CrawlSpider that follows every internal link."""
    import re

    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor
    from scrapy.spiders import CrawlSpider, Rule

    class Bare(CrawlSpider):
        name = "bare"
        start_urls = [url]
        rules = (Rule(LinkExtractor(allow=[re.escape(url)]), callback="page", follow=True),)
        pages = 0

        def parse_start_url(self, response, **kwargs):
            Bare.pages += 1
            return []

        def page(self, response):
            Bare.pages += 1

    process = CrawlerProcess({
        "USER_AGENT": "seo-bench-bare", "ROBOTSTXT_OBEY": True, "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False, "LOG_LEVEL": "WARNING", "COOKIES_ENABLED": False,
        "CONCURRENT_REQUESTS": CONCURRENCY, "CONCURRENT_REQUESTS_PER_DOMAIN": CONCURRENCY,
        "LOGSTATS_INTERVAL": 0, "CLOSESPIDER_TIMEOUT": seconds,
    })
    crawler = process.create_crawler(Bare)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats()
    out.write_text(json.dumps({"pages": Bare.pages, "elapsed": stats["elapsed_time_seconds"],
                               "reason": stats.get("finish_reason")}))


def run_bare(url: str, limit: float) -> dict:
    """pages/s of the bare spider over its own elapsed crawl time (start-up excluded, which
    flatters it: the audit's figure includes its child's start-up and the checks)."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    proc = subprocess.Popen([sys.executable, __file__, "--bare-child", url, str(out), str(limit)])
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bare crawl failed ({proc.returncode})")
    raw = json.loads(out.read_text())
    out.unlink()
    return {"pages": raw["pages"], "seconds": raw["elapsed"], "pages_per_s": raw["pages"] / raw["elapsed"],
            "stopped": raw["reason"], "peak_rss_mb": usage.ru_maxrss / 1024}


def run_seo_audit(root: Path, url: str) -> dict:
    from seo import api
    from seo.audit import run_audit
    project = api.Project.open(root)
    started = time.monotonic()
    result = run_audit(project, url, max_pages=100_000)
    seconds = time.monotonic() - started
    return {"pages": result.pages, "seconds": seconds, "pages_per_s": result.pages / seconds,
            "crawl_seconds": result.crawl.seconds, "peak_rss_mb": result.crawl.peak_rss_mb,
            "findings": result.counts}


def prepare(towns: int, conditions: int, reuse: bool) -> Path:
    root = SHM / f"seo-bench-audit-{towns}x{conditions}"
    out = root / "build/site"
    if reuse and (out / "sitemap.xml").exists():
        return root
    from agency import generate
    generate(root, towns, conditions)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "seo", "pages", "build", "--root", str(root)], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"built {root} in {time.monotonic() - started:.0f}s", flush=True)
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=int, default=1000)
    parser.add_argument("--conditions", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="reuse an existing build in /dev/shm")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the two crawls N times")
    parser.add_argument("--bare-limit", type=float, default=300,
                        help="stop the bare CrawlSpider after this many seconds (0: crawl it all); "
                             "at agency scale it needs about an hour for the whole site")
    parser.add_argument("--bare-child", nargs=3, metavar=("URL", "OUT", "SECONDS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_child:
        bare_child(args.bare_child[0], Path(args.bare_child[1]), float(args.bare_child[2]))
        return
    root = prepare(args.towns, args.conditions, args.reuse)
    files = sum(1 for _ in (root / "build/site").rglob("index.html"))
    nginx = Nginx(root / "build/site")
    try:
        rows = []
        for _ in range(args.rounds):
            bare = run_bare(nginx.url, args.bare_limit)
            audit = run_seo_audit(root, nginx.url)
            rows.append((bare, audit))
            stopped = " (time limit)" if bare["stopped"] == "closespider_timeout" else ""
            print(f"bare CrawlSpider: {bare['pages']} pages{stopped} in {bare['seconds']:.1f}s = "
                  f"{bare['pages_per_s']:.0f} pages/s, peak RSS {bare['peak_rss_mb']:.0f} MB", flush=True)
            print(f"seo audit:        {audit['pages']} URLs in {audit['seconds']:.1f}s "
                  f"(crawl {audit['crawl_seconds']:.1f}s) = {audit['pages_per_s']:.0f} pages/s, "
                  f"crawl child peak RSS {audit['peak_rss_mb']:.0f} MB, findings {audit['findings']}",
                  flush=True)
    finally:
        nginx.stop()
    ratio = sum(a["pages_per_s"] for _, a in rows) / sum(b["pages_per_s"] for b, _ in rows)
    rss = max(a["peak_rss_mb"] for _, a in rows)
    print(f"site: {files} pages served by nginx on {nginx.url}")
    print(f"ratio audit/bare: {ratio:.2f}x (target >= 1.2): {'ok' if ratio >= 1.2 else 'MISSED'}")
    print(f"audit crawl peak RSS: {rss:.0f} MB (target <= 300): {'ok' if rss <= 300 else 'MISSED'}")


if __name__ == "__main__":
    main()
