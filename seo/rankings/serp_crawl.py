"""The live-SERP crawl: a Scrapy child process, `python -m seo.rankings.serp_crawl JOB.json`.

Scrapy's reactor cannot restart in one process, so every crawl runs in its own child. The parent
writes the job (provider settings, remaining monthly budget, tasks) to JSON; the child appends one
JSON line per event to the job's `out` file, flushed at once, so an interrupted crawl loses nothing
it fetched:

  {"type": "spend"}                                   one request about to be sent (budget)
  {"type": "result", "task": id, "kind": .., ...}     a measurement (position or not found)
  {"type": "failure", "task": id, "kind": .., "reason": ..}
  {"type": "done", "spent": n}

Secrets are read from the environment, never from the job file, and never logged (SerpApi's key is
in its URLs, so request URLs are not logged either: LOG_LEVEL stays at ERROR).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Request, Response

from .serp import Provider, Target, Task, TaskError, get_provider, scrub

KINDS_OF_CALL = {"organic": ("organic", "local_pack"), "maps": ("maps",)}
RETRY_STATUS = {408, 429, 500, 502, 503, 504, 522, 524}
BUDGET_REASON = "monthly request budget exhausted"


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
        self.spent = 0
        self.retries = int(job["settings"]["retries"])
        self.backoff = float(job["settings"]["backoff"])

    def emit(self, record: dict[str, Any]) -> None:
        self.out.write(json.dumps(record, sort_keys=True) + "\n")
        self.out.flush()

    def take_budget(self) -> bool:
        if self.spent >= self.budget:
            return False
        self.spent += 1
        self.emit({"type": "spend"})
        return True

    def fail(self, meta: dict[str, Any], reason: str) -> None:
        for kind in KINDS_OF_CALL[meta["call_kind"]]:
            self.emit({"type": "failure", "task": meta["task"], "kind": kind,
                       "reason": scrub(reason, self.secrets)})

    async def start(self):  # type: ignore[override]
        for raw in self.job["tasks"]:
            task = Task(**{**raw, "kinds": tuple(raw["kinds"])})
            for call in self.provider.calls(task):
                meta = {"task": task.id, "call_kind": call.kind, "attempt": 0,
                        "handle_httpstatus_all": True, "dont_retry": True}
                if not self.take_budget():
                    self.fail(meta, BUDGET_REASON)
                    continue
                yield Request(call.url, method=call.method, headers=call.headers, body=call.body,
                              meta=meta, callback=self.parsed, errback=self.errored,
                              dont_filter=True)

    async def retry(self, request: Request, why: str):
        meta = request.meta
        if meta["attempt"] >= self.retries:
            self.fail(meta, f"{why} (after {meta['attempt'] + 1} attempts)")
            return
        await asyncio.sleep(self.backoff * 2 ** meta["attempt"])
        if not self.take_budget():
            self.fail(meta, f"{why}; retry skipped: {BUDGET_REASON}")
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
        except TaskError as exc:
            self.fail(meta, str(exc))
            return
        for result in results:
            self.emit({"type": "result", "task": meta["task"], **result.to_json()})

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
    job = json.loads(job_path.read_text(encoding="utf-8"))
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
