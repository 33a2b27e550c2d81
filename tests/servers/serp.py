"""A local SERP data provider speaking DataForSEO's live SERP API and SerpApi's search API.

    server = SerpServer(domain="clinic.test", login="user", password="pw", api_key="k").start()
    server.set_rank("sciatica acupuncture aurora", organic=3, maps=2, pack=1)  # None: not listed
    server.task_error("knee pain alpha")            # DataForSEO task status 40501 / SerpApi error
    server.slow("wrist pain alpha", seconds=5)      # answers after the client's timeout
    server.flaky("knee pain beta", times=2)         # 500 twice, then a normal answer
    server.fail_all = True                          # 500 for everything
    server.delay_all = 0.2                          # every answer takes 0.2 s
    ... point integrations.serp.base_url at server.url ...
    server.stop()

DataForSEO: POST /v3/serp/google/{organic,maps}/live/advanced with HTTP basic auth.
SerpApi: GET /search.json?engine=google|google_maps&...&api_key=.
Keywords without a set rank get a deterministic one from a hash (sometimes "not listed").
`server.requests` counts answered requests per (provider, kind, keyword); `server.peak` is the
highest number of requests in flight at once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

OTHERS = ["rivals-acupuncture.test", "city-wellness.test", "healthdirectory.test", "painclinic.test",
          "yelp.test", "spine-center.test", "chiro-plus.test", "wellness-hub.test", "mapsguide.test",
          "needle-works.test", "calm-acu.test", "metro-health.test"]


def _hash(*parts: Any) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:8], 16)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


class SerpServer:
    def __init__(self, domain: str = "clinic.test", name: str = "Example Acupuncture",
                 login: str = "seo-login", password: str = "seo-password",
                 api_key: str = "serpapi-key") -> None:
        self.domain, self.name = domain, name
        self.login, self.password, self.api_key = login, password, api_key
        self.ranks: dict[tuple[str, str], int | None] = {}
        self.task_errors: set[str] = set()
        self.delays: dict[str, float] = {}
        self.flaky_left: dict[str, int] = {}
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.bodies: list[Any] = []
        self.unauthorised = 0
        self.fail_all = False  # every request answers 500
        self.delay_all = 0.0  # seconds before every answer
        self.in_flight = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._httpd: _Server | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def set_rank(self, keyword: str, organic: int | None = None, maps: int | None = None,
                 pack: int | None = None) -> None:
        self.ranks[(keyword, "organic")] = organic
        self.ranks[(keyword, "maps")] = maps
        self.ranks[(keyword, "pack")] = pack

    def task_error(self, keyword: str) -> None:
        self.task_errors.add(keyword)

    def slow(self, keyword: str, seconds: float) -> None:
        self.delays[keyword] = seconds

    def flaky(self, keyword: str, times: int) -> None:
        self.flaky_left[keyword] = times

    @property
    def total(self) -> int:
        return sum(self.requests.values())

    def rank(self, keyword: str, kind: str, where: str) -> int | None:
        if (keyword, kind) in self.ranks:
            return self.ranks[(keyword, kind)]
        h = _hash(keyword, kind, where)
        return None if h % 7 == 0 else 1 + h % (3 if kind == "pack" else 15)

    def listing(self, keyword: str, kind: str, where: str, size: int) -> list[dict[str, Any]]:
        """[{position, domain, title}] with us at our rank, others around us."""
        ours = self.rank(keyword, kind, where)
        others = sorted(OTHERS, key=lambda d: _hash(d, keyword, kind))
        out = []
        for pos in range(1, size + 1):
            if pos == ours:
                out.append({"position": pos, "domain": "www." + self.domain, "title": self.name})
            else:
                d = others[pos % len(others)]
                out.append({"position": pos, "domain": d, "title": d.split(".")[0].replace("-", " ").title()})
        return out

    def start(self) -> SerpServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, code: int, payload: Any) -> None:
                body = json.dumps(payload).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def handle_one_request(self) -> None:
                with server._lock:
                    server.in_flight += 1
                    server.peak = max(server.peak, server.in_flight)
                try:
                    super().handle_one_request()
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def behave(self, provider: str, kind: str, keyword: str) -> bool:
                """Count the request; apply delays and flakiness. False: already answered."""
                with server._lock:
                    server.requests[(provider, kind, keyword)] += 1
                    flaky = server.flaky_left.get(keyword, 0)
                    if flaky:
                        server.flaky_left[keyword] = flaky - 1
                    flaky = flaky or server.fail_all
                if keyword in server.delays or server.delay_all:
                    time.sleep(server.delays.get(keyword, server.delay_all))
                if flaky:
                    self.answer(500, {"error": "internal error"} if provider == "serpapi" else
                                {"status_code": 50000, "status_message": "Internal Error.",
                                 "tasks": None})
                    return False
                return True

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                path = urlsplit(self.path).path
                expected = "Basic " + base64.b64encode(
                    f"{server.login}:{server.password}".encode()).decode()
                if self.headers.get("Authorization") != expected:
                    with server._lock:
                        server.unauthorised += 1
                    self.answer(401, {"status_code": 40100, "status_message":
                                      "You are not authorized to access this resource.", "tasks": None})
                    return
                kind = {"/v3/serp/google/organic/live/advanced": "organic",
                        "/v3/serp/google/maps/live/advanced": "maps"}.get(path)
                try:
                    tasks = json.loads(data)
                    task = tasks[0]
                    keyword = task["keyword"]
                    if not isinstance(task["location_coordinate"], str):
                        raise TypeError
                except (ValueError, KeyError, IndexError, TypeError):
                    self.answer(400, {"status_code": 40000, "status_message": "Bad Request.", "tasks": None})
                    return
                if kind is None:
                    self.answer(404, {"status_code": 40400, "status_message": "Not Found.", "tasks": None})
                    return
                with server._lock:
                    server.bodies.append(tasks)
                if not self.behave("dataforseo", kind, keyword):
                    return
                self.answer(200, server._dataforseo(kind, task))

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path != "/search.json":
                    self.answer(404, {"error": "Not found."})
                    return
                if q.get("api_key") != server.api_key:
                    with server._lock:
                        server.unauthorised += 1
                    self.answer(401, {"error": "Invalid API key. Your API key should be here: "
                                               "https://serpapi.com/manage-api-key"})
                    return
                kind = "maps" if q.get("engine") == "google_maps" else "organic"
                keyword = q.get("q", "")
                with server._lock:
                    server.bodies.append({k: v for k, v in q.items() if k != "api_key"})
                if not self.behave("serpapi", kind, keyword):
                    return
                self.answer(200, server._serpapi(kind, q))

        self._httpd = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def _dataforseo(self, kind: str, task: dict[str, Any]) -> dict[str, Any]:
        keyword, where = task["keyword"], task["location_coordinate"]
        head = {"id": f"11{_hash(keyword, where):08d}", "status_code": 20000, "status_message": "Ok.",
                "time": "0.1 sec.", "cost": 0.002, "result_count": 1,
                "path": ["v3", "serp", "google", kind, "live", "advanced"], "data": task}
        if keyword in self.task_errors:
            return {"version": "0.1.20241101", "status_code": 20000, "status_message": "Ok.",
                    "tasks_count": 1, "tasks_error": 1,
                    "tasks": [{**head, "status_code": 40501,
                               "status_message": "Invalid Field: 'keyword'.", "result": None}]}
        items: list[dict[str, Any]] = []
        if kind == "maps":
            for e in self.listing(keyword, "maps", where, 20):
                items.append({"type": "maps_search", "rank_group": e["position"],
                              "rank_absolute": e["position"], "domain": e["domain"],
                              "title": e["title"], "url": f"https://{e['domain']}/",
                              "place_id": e.get("place_id") or f"place-{_hash(e['domain'])}"})
        else:
            pack = self.listing(keyword, "pack", where, 3)
            for e in pack:
                items.append({"type": "local_pack", "rank_group": e["position"],
                              "rank_absolute": 1 + e["position"], "domain": e["domain"],
                              "title": e["title"], "url": f"https://{e['domain']}/"})
            for e in self.listing(keyword, "organic", where, min(int(task.get("depth", 100)), 30)):
                items.append({"type": "organic", "rank_group": e["position"],
                              "rank_absolute": 4 + e["position"], "domain": e["domain"],
                              "title": e["title"], "url": f"https://{e['domain']}/{keyword.split()[0]}/"})
        result = {"keyword": keyword, "type": kind, "se_domain": "google.com",
                  "location_code": None, "language_code": task.get("language_code"),
                  "check_url": "https://www.google.com/search?q=" + keyword.replace(" ", "+"),
                  "items_count": len(items), "items": items}
        return {"version": "0.1.20241101", "status_code": 20000, "status_message": "Ok.",
                "tasks_count": 1, "tasks_error": 0, "tasks": [{**head, "result": [result]}]}

    def _serpapi(self, kind: str, q: dict[str, str]) -> dict[str, Any]:
        keyword = q.get("q", "")
        where = q.get("ll") or q.get("location", "")
        meta = {"id": f"{_hash(keyword, where):024x}", "status": "Success"}
        if keyword in self.task_errors:
            return {"search_metadata": {**meta, "status": "Error"},
                    "error": "Unsupported `location` parameter."}
        if kind == "maps":
            places = [{"position": e["position"], "title": e["title"], "website": f"https://{e['domain']}/",
                       "place_id": e.get("place_id") or f"place-{_hash(e['domain'])}"}
                      for e in self.listing(keyword, "maps", where, 20)]
            return {"search_metadata": meta, "local_results": places}
        organic = [{"position": e["position"], "title": e["title"],
                    "link": f"https://{e['domain']}/{keyword.split()[0]}/", "displayed_link": e["domain"]}
                   for e in self.listing(keyword, "organic", where, min(int(q.get("num", 100)), 30))]
        pack = [{"position": e["position"], "title": e["title"], "website": f"https://{e['domain']}/"}
                for e in self.listing(keyword, "pack", where, 3)]
        return {"search_metadata": meta, "organic_results": organic, "local_results": {"places": pack}}

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SerpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
