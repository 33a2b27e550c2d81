"""Run one crawl in a child process: `python -m seo.audit.crawl --start URL --out FILE ...`.

Scrapy's reactor cannot be restarted, so a second crawl in one process fails; every crawl gets
its own child, which writes its records as JSONL through FEEDS and a small stats JSON at the end.
The parent (`run_crawl`) waits with a timeout and reads the child's peak RSS from wait4().
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ..childproc import die_with_parent
from ..errors import ExternalError
from .records import JsonlTail, Record
from .scope import Scope

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class CrawlOptions:
    start_url: str
    scope: Scope
    user_agent: str
    max_pages: int = 20000
    max_depth: int = 20
    concurrency: int = 8
    autothrottle: bool = True
    timeout: float = 3600.0
    request_timeout: float = 30.0  # seconds per request


@dataclass
class CrawlStats:
    requested: int = 0
    canonical_fetches: int = 0  # of those, URLs fetched only as some page's canonical target
    truncated: bool = False
    finish_reason: str = ""
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    extra: dict = field(default_factory=dict)


def is_local(origin: str) -> bool:
    """Loopback: crawled at full speed, without AutoThrottle."""
    return (urlsplit(origin).hostname or "") in LOCAL_HOSTS


def scrapy_settings(opts: CrawlOptions, out: Path) -> dict:
    local = is_local(opts.scope.origin)
    concurrency = max(opts.concurrency, 32) if local else opts.concurrency
    return {
        "BOT_NAME": "seo-audit",
        "USER_AGENT": opts.user_agent,
        "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,  # 2.19 default: a local server that runs code
        "LOG_LEVEL": "WARNING",
        "LOG_STDOUT": False,
        "COOKIES_ENABLED": False,
        "REDIRECT_ENABLED": False,  # redirects are recorded and followed by the spider
        "METAREFRESH_ENABLED": False,
        "HTTPERROR_ALLOW_ALL": True,
        "RETRY_TIMES": 1,
        "RETRY_HTTP_CODES": [502, 503, 504, 522, 524, 408, 429],
        "DOWNLOAD_TIMEOUT": opts.request_timeout,
        "DOWNLOAD_MAXSIZE": 20 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 0,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "AUTOTHROTTLE_ENABLED": opts.autothrottle and not local,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": min(concurrency, 4),
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
        "SCHEDULER_PRIORITY_QUEUE": "scrapy.pqueues.ScrapyPriorityQueue",
        "DEPTH_LIMIT": 0,
        # Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback's output; ours yields
        # one record and a few requests, so 100 (the default) is pure overhead (profiled).
        "CONCURRENT_ITEMS": 2,
        "SPIDER_MIDDLEWARES": {
            "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
            "scrapy.spidermiddlewares.urllength.UrlLengthMiddleware": None,
            "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
        },
        "EXTENSIONS": {"scrapy.extensions.memusage.MemoryUsage": None},
        "LOGSTATS_INTERVAL": 0,
        "FEEDS": {out.as_uri(): {"format": "jsonlines", "encoding": "utf8", "overwrite": True}},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m seo.audit.crawl")
    parser.add_argument("--options", required=True, type=Path, help="CrawlOptions as JSON")
    parser.add_argument("--out", required=True, type=Path, help="records, JSONL")
    parser.add_argument("--stats", required=True, type=Path, help="crawl stats, JSON")
    args = parser.parse_args(argv)
    die_with_parent(signal.SIGKILL)  # an orphaned audit crawl is of no use to anyone
    raw = json.loads(args.options.read_text(encoding="utf-8"))
    scope = Scope(**{k: tuple(v) if isinstance(v, list) else v for k, v in raw.pop("scope").items()})
    opts = CrawlOptions(scope=scope, **raw)

    from scrapy.crawler import CrawlerProcess

    from .spider import AuditSpider
    process = CrawlerProcess(scrapy_settings(opts, args.out))
    crawler = process.create_crawler(AuditSpider)
    process.crawl(crawler, start_url=opts.start_url, scope=scope, max_pages=opts.max_pages,
                  max_depth=opts.max_depth)
    process.start()
    spider = crawler.spider
    stats = crawler.stats.get_stats() if crawler.stats else {}
    args.stats.write_text(json.dumps({
        "requested": min(len(spider.scheduled), opts.max_pages) if spider else 0,
        "canonical_fetches": spider.canonical_fetches if spider else 0,
        "truncated": bool(spider and spider.truncated),
        "finish_reason": str(stats.get("finish_reason", "")),
    }), encoding="utf-8")
    return 0


def run_crawl(opts: CrawlOptions, workdir: Path,
              on_record: Callable[[Record], None] | None = None) -> tuple[Path, CrawlStats]:
    """Crawl in a child process; returns the JSONL path and the stats (with the child's peak RSS).
    `on_record` is called with each record as the child writes it, while the crawl runs."""
    workdir.mkdir(parents=True, exist_ok=True)
    options, out, stats_path = workdir / "options.json", workdir / "pages.jsonl", workdir / "stats.json"
    options.write_text(json.dumps(asdict(opts)), encoding="utf-8")
    cmd = [sys.executable, "-m", "seo.audit.crawl", "--options", str(options), "--out", str(out),
           "--stats", str(stats_path)]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    err_file = workdir / "stderr.txt"
    try:
        status, rss_kb = _wait(proc, opts.timeout, err_file, JsonlTail(out), on_record)
    except BaseException:  # Ctrl-C in the parent: the child is in its own session, stop it
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    seconds = time.monotonic() - started
    if status is None:
        raise ExternalError(f"crawl of {opts.start_url} timed out after {opts.timeout:.0f}s "
                            "(integrations.audit.timeout)")
    if status != 0 or not stats_path.exists():
        tail = err_file.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        last = tail[-1] if tail else f"exit status {status}"
        raise ExternalError(f"crawl of {opts.start_url} failed: {last}")
    raw = json.loads(stats_path.read_text(encoding="utf-8"))
    return out, CrawlStats(requested=raw["requested"], canonical_fetches=raw["canonical_fetches"],
                           truncated=raw["truncated"],
                           finish_reason=raw["finish_reason"], seconds=seconds,
                           peak_rss_mb=rss_kb / 1024)


def _wait(proc: subprocess.Popen, timeout: float, err_file: Path, tail: JsonlTail,
          on_record: Callable[[Record], None] | None) -> tuple[int | None, int]:
    """Wait for the child, draining stderr to a file and handing new records to `on_record`;
    (exit status or None on timeout, peak RSS in KB)."""
    import threading
    assert proc.stderr is not None
    stderr = proc.stderr

    def drain() -> None:
        with err_file.open("wb") as fh:
            for chunk in iter(lambda: stderr.read(65536), b""):
                fh.write(chunk)
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        records = tail.poll() if on_record else []
        for record in records:
            on_record(record)  # type: ignore[misc]
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            reader.join(5)
            if on_record:
                for record in tail.poll():
                    on_record(record)
            tail.close()
            return proc.returncode, usage.ru_maxrss
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            reader.join(5)
            tail.close()
            return None, usage.ru_maxrss
        if not records:
            time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
