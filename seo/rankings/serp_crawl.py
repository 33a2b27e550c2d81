"""The live-SERP crawl: a Scrapy child process, `python -m seo.rankings.serp_crawl JOB.json`.

Scrapy's reactor cannot restart in one process, so every crawl runs in its own child. The parent
writes the job (provider settings, remaining monthly budget, tasks) to JSON; the child appends one
JSON line per event to the job's `out` file, flushed at once, so an interrupted crawl loses nothing
it fetched:

  {"type": "spend"}                                   one request handed to the downloader
  {"type": "result", "task": id, "kind": .., ...}     a measurement (position or not found)
  {"type": "failure", "task": id, "kind": .., "reason": ..}
  {"type": "fatal", "reason": ..}                     the check stopped (credentials refused,
                                                      the provider failing request after request)
  {"type": "done", "spent": n}

Spend is written when a request reaches Scrapy's downloader (`request_reached_downloader`), not
when it is queued: a check killed with a queue of requests counts only what it sent. The monthly
budget is still never exceeded: every request (and retry) reserves its unit before it is queued.
The first request goes alone: if the provider refuses the credentials the check stops there, one
request spent. A run of `BREAKER` failures in a row (5xx, timeouts) stops it too.

The child dies with its parent (PR_SET_PDEATHSIG: SIGTERM, Scrapy's graceful stop: requests in
flight finish and their results are written; nothing new is sent) and holds an exclusive lock on
the batch folder while it runs, so the next check waits for it before reading its results.

Secrets are read from the environment, never from the job file, and never logged (SerpApi's key is
in its URLs, so request URLs are not logged either: LOG_LEVEL stays at ERROR).
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

import scrapy
from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response

from ..childproc import graceful_on_parent_death
from .serp import AuthError, Provider, Target, Task, TaskError, get_provider, scrub

KINDS_OF_CALL = {"organic": ("organic", "local_pack"), "maps": ("maps",)}
RETRY_STATUS = {408, 429, 500, 502, 503, 504, 522, 524}
BUDGET_REASON = "monthly request budget exhausted"
BREAKER = 10  # failures in a row (after retries) that stop the check


class SerpSpider(scrapy.Spider):
    name = "serp"

    def __init__(self, job: dict[str, Any], out: TextIO, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job = job
        self.out = out
        self.provider: Provider = get_provider(job["provider"], job["settings"], job.get("base_url"))
        self.secrets = self.provider.secrets()
        t = job["target"]
        self.target = Target(t["domain"], tuple(t["names"]), tuple(t.get("place_ids", ())),
                             tuple(t.get("competitors", ())), int(t.get("keep", Target.keep)))
        self.budget = int(job["budget"])
        self.reserved = 0  # budget units taken by requests queued (never more than the budget)
        self.spent = 0  # requests that reached the downloader
        self.retries = int(job["settings"]["retries"])
        self.backoff = float(job["settings"]["backoff"])
        self.in_a_row = 0  # failures since the last answer that measured something
        self.stopped = ""
        self.first_done = asyncio.Event()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SerpSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.sent, signal=signals.request_reached_downloader)
        return spider  # type: ignore[no-any-return]

    def emit(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record, sort_keys=True) + "\n")
        self.out.flush()

    def sent(self, request: Request, spider: Any = None) -> None:
        self.spent += 1
        self.emit({"type": "spend"})

    def take_budget(self) -> bool:
        if self.reserved >= self.budget:
            return False
        self.reserved += 1
        return True

    def fail(self, meta: dict[str, Any], reason: str, provider_down: bool = True) -> None:
        for kind in KINDS_OF_CALL[meta["call_kind"]]:
            self.emit({"type": "failure", "task": meta["task"], "kind": kind,
                       "reason": scrub(reason, self.secrets)})
        self.settled(meta)
        if provider_down:
            self.in_a_row += 1
            if self.in_a_row >= BREAKER:
                self.stop(f"the provider failed {self.in_a_row} requests in a row (last: "
                          f"{scrub(reason, self.secrets)})")

    def settled(self, meta: dict[str, Any]) -> None:
        if meta.get("first"):
            self.first_done.set()

    def stop(self, reason: str, refused: bool = False) -> None:
        if not self.stopped:
            self.stopped = reason
            self.emit({"type": "fatal", "reason": scrub(reason, self.secrets), "refused": refused})
        self.first_done.set()
        raise CloseSpider("fatal")

    async def start(self):  # type: ignore[override]
        first = True
        for raw in self.job["tasks"]:
            task = Task(**{**raw, "kinds": tuple(raw["kinds"])})
            for call in self.provider.calls(task):
                if self.stopped:
                    return
                meta = {"task": task.id, "call_kind": call.kind, "attempt": 0, "first": first,
                        "handle_httpstatus_all": True, "dont_retry": True}
                if not self.take_budget():
                    self.fail(meta, BUDGET_REASON, provider_down=False)
                    continue
                yield Request(call.url, method=call.method, headers=call.headers, body=call.body,
                              meta=meta, callback=self.parsed, errback=self.errored,
                              dont_filter=True)
                if first:  # the first request alone: refused credentials cost one request
                    first = False
                    await self.first_done.wait()

    async def retry(self, request: Request, why: str):
        meta = request.meta
        if meta["attempt"] >= self.retries:
            self.fail(meta, f"{why} (after {meta['attempt'] + 1} attempts)")
            return
        await asyncio.sleep(self.backoff * 2 ** meta["attempt"])
        if not self.take_budget():
            self.fail(meta, f"{why}; retry skipped: {BUDGET_REASON}", provider_down=False)
            return
        yield request.replace(meta={**meta, "attempt": meta["attempt"] + 1}, dont_filter=True)

    async def parsed(self, response: Response):
        meta = response.meta
        if response.status in RETRY_STATUS:
            async for req in self.retry(response.request, f"HTTP {response.status}"):
                yield req
            return
        try:
            results = self.provider.parse(meta["call_kind"], response.status, response.body,
                                          self.target)
        except AuthError as exc:
            self.fail(meta, str(exc), provider_down=False)
            self.stop(str(exc), refused=True)
        except TaskError as exc:  # an answer about this task: the provider itself works
            self.in_a_row = 0
            self.fail(meta, str(exc), provider_down=False)
            return
        self.in_a_row = 0
        for result in results:
            self.emit({"type": "result", "task": meta["task"], **result.to_json()})
        self.settled(meta)

    async def errored(self, failure: Any):
        request = failure.request
        why = type(failure.value).__name__
        if "Timeout" in why or "TimedOut" in why:
            why = "timed out"
        async for req in self.retry(request, why):
            yield req


def settings_for(job: dict[str, Any]) -> dict[str, Any]:
    s = job["settings"]
    return {
        "LOG_LEVEL": "ERROR", "LOGSTATS_INTERVAL": 0, "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False, "ROBOTSTXT_OBEY": False,  # an API, not a site
        "RETRY_ENABLED": False,  # retries with backoff are the spider's own (they spend budget)
        "COOKIES_ENABLED": False, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0,
        "CONCURRENT_REQUESTS": s["concurrency"], "CONCURRENT_REQUESTS_PER_DOMAIN": s["concurrency"],
        "DOWNLOAD_TIMEOUT": s["timeout"], "USER_AGENT": "seo-rank-check (+local SEO tool)",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
        "HTTPERROR_ALLOW_ALL": True, "REDIRECT_ENABLED": False,
    }


def run(job_path: Path) -> int:
    graceful_on_parent_death()  # one SIGTERM when the check dies: Scrapy's graceful stop
    job = json.loads(job_path.read_text(encoding="utf-8"))
    lock = os.open(job_path.parent / "lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lock, fcntl.LOCK_EX)  # held until this process ends: the batch is being written
    os.ftruncate(lock, 0)
    os.pwrite(lock, f"{os.getpid()}\n".encode(), 0)
    with open(job["out"], "a", encoding="utf-8") as out:
        process = CrawlerProcess(settings=settings_for(job))
        crawler = process.create_crawler(SerpSpider)
        process.crawl(crawler, job=job, out=out)
        process.start()
        spider = crawler.spider
        out.write(json.dumps({"type": "done", "spent": spider.spent if spider else 0}) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m seo.rankings.serp_crawl JOB.json", file=sys.stderr)
        sys.exit(2)
    sys.exit(run(Path(sys.argv[1])))
