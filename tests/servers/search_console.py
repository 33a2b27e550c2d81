"""A local Search Console (searchconsole v1 searchanalytics.query) and OAuth token endpoint,
speaking Google's JSON shapes and errors, for the real google-api-python-client and google-auth.

    server = SearchConsoleServer().start()
    server.rows = daily_rows([("sciatica acupuncture aurora", "https://clinic.test/aurora/sciatica/", 4.0)],
                             date(2026, 11, 1), date(2026, 11, 14))
    server.first_incomplete = "2026-11-13"             # metadata.firstIncompleteDate
    server.fault(status=429)                            # the next query answers 429, then normal
    server.fault(status=403, times=None)                # permission denied, forever
    server.fault(body=b"{not json", times=1)            # a malformed answer
    server.revoked = True                               # the token endpoint answers invalid_grant
    ... build(..., client_options={"api_endpoint": server.url}) ...
    server.stop()

`server.queries` holds each query's JSON body (paging is visible as startRow), `server.tokens` the
token requests. Rows are filtered by the body's startDate/endDate and paged by startRow/rowLimit.

URL Inspection (urlInspection.index.inspect): `server.inspections` holds each request's body; a URL
answers "URL is unknown to Google" until `server.indexed(url)` (or `server.index_status[url] = {...}`)
says otherwise; a URL outside the property answers 403 as Google does.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

ACCESS_TOKEN = "sc-test-access-token"
REFRESH_TOKEN = "sc-test-refresh-token"
CLIENT_ID = "sc-test-client.apps.googleusercontent.com"
CLIENT_SECRET = "sc-test-client-secret"
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED",
          404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass
class Fault:
    status: int = 0
    body: bytes | None = None  # raw answer (e.g. malformed JSON) with status 200 unless given
    times: int | None = 1  # None: forever


def error_body(code: int, message: str) -> dict[str, Any]:
    reason = {403: "forbidden", 429: "rateLimitExceeded"}.get(code, "backendError")
    return {"error": {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN"),
                      "errors": [{"message": message, "domain": "global", "reason": reason}]}}


def daily_rows(series: list[tuple[str, str, float]], start: date, end: date,
               skip_days: tuple[date, ...] = (), wobble: float = 0.0) -> list[dict[str, Any]]:
    """One row per day per (query, page, position); `wobble` adds a deterministic +-wobble."""
    rows = []
    day = start
    while day <= end:
        if day not in skip_days:
            for query, page, position in series:
                h = int(hashlib.sha256(f"{query}{page}{day}".encode()).hexdigest()[:8], 16)
                pos = max(1.0, round(position + ((h % 201) / 100 - 1) * wobble, 1))
                impressions = 20 + h % 30
                clicks = impressions // max(1, int(pos) * 3)
                rows.append({"keys": [day.isoformat(), query, page], "clicks": clicks,
                             "impressions": impressions, "ctr": round(clicks / impressions, 4),
                             "position": pos})
        day += timedelta(days=1)
    return rows


class SearchConsoleServer:
    def __init__(self, require_token: bool = True) -> None:
        self.rows: list[dict[str, Any]] = []
        self.first_incomplete: str | None = None
        self.revoked = False
        self.require_token = require_token
        self.faults: list[Fault] = []
        self.queries: list[dict[str, Any]] = []
        self.sites: list[str] = []
        self.inspections: list[dict[str, Any]] = []
        self.index_status: dict[str, dict[str, Any]] = {}
        self.tokens: list[dict[str, list[str]]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    @property
    def token_uri(self) -> str:
        return self.url + "token"

    def fault(self, status: int = 0, body: bytes | None = None, times: int | None = 1) -> None:
        self.faults.append(Fault(status, body, times))

    def indexed(self, url: str, google_canonical: str | None = None,
                coverage: str = "Submitted and indexed", verdict: str = "PASS") -> None:
        """Google's answer for `url` from now on (indexed, by default under its own canonical)."""
        self.index_status[url] = {
            "verdict": verdict, "coverageState": coverage, "robotsTxtState": "ALLOWED",
            "indexingState": "INDEXING_ALLOWED", "pageFetchState": "SUCCESSFUL",
            "lastCrawlTime": "2026-11-20T08:15:00Z", "crawledAs": "MOBILE",
            "googleCanonical": google_canonical or url, "userCanonical": url,
            "sitemap": [], "referringUrls": []}

    def _inspect(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        url, site = str(body.get("inspectionUrl", "")), str(body.get("siteUrl", ""))
        host = urlsplit(url).hostname or ""
        inside = (host == site[len("sc-domain:"):] or host.endswith("." + site[len("sc-domain:"):])
                  if site.startswith("sc-domain:") else url.startswith(site))
        if not url or not inside:
            return 403, error_body(403, "You do not own this site, or the inspected URL is not part "
                                        "of this property.")
        status = self.index_status.get(url) or {
            "verdict": "NEUTRAL", "coverageState": "URL is unknown to Google",
            "robotsTxtState": "ROBOTS_TXT_STATE_UNSPECIFIED",
            "indexingState": "INDEXING_STATE_UNSPECIFIED",
            "pageFetchState": "PAGE_FETCH_STATE_UNSPECIFIED"}
        link = f"https://search.google.com/search-console/inspect?resource_id={site}&id={url}"
        return 200, {"inspectionResult": {"inspectionResultLink": link, "indexStatusResult": status,
                                          "mobileUsabilityResult": {"verdict": "PASS"}}}

    def authorized_user(self) -> dict[str, Any]:
        """What `seo auth google` stores, pointing at this server's token endpoint."""
        return {"refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                "token_uri": self.token_uri, "type": "authorized_user",
                "scopes": ["https://www.googleapis.com/auth/webmasters.readonly"]}

    def start(self) -> SearchConsoleServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, code: int, payload: Any = None, raw: bytes | None = None) -> None:
                body = raw if raw is not None else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                path = urlsplit(self.path).path
                if path == "/token":
                    form = parse_qs(data.decode())
                    with server._lock:
                        server.tokens.append(form)
                    if server.revoked or form.get("refresh_token") != [REFRESH_TOKEN]:
                        self.answer(400, {"error": "invalid_grant",
                                          "error_description": "Token has been expired or revoked."})
                        return
                    self.answer(200, {"access_token": ACCESS_TOKEN, "expires_in": 3600,
                                      "token_type": "Bearer"})
                    return
                prefix, suffix = "/webmasters/v3/sites/", "/searchAnalytics/query"
                inspect = path == "/v1/urlInspection/index:inspect"
                if not inspect and not (path.startswith(prefix) and path.endswith(suffix)):
                    self.answer(404, error_body(404, "Requested entity was not found."))
                    return
                if server.require_token and self.headers.get("Authorization") != f"Bearer {ACCESS_TOKEN}":
                    self.answer(401, error_body(401, "Request had invalid authentication credentials."))
                    return
                try:
                    body = json.loads(data or b"{}")
                except ValueError:
                    self.answer(400, error_body(400, "Invalid JSON payload received."))
                    return
                site = str(body.get("siteUrl", "")) if inspect else unquote(path[len(prefix):-len(suffix)])
                with server._lock:
                    server.sites.append(site)
                    (server.inspections if inspect else server.queries).append(body)
                    fault = server.faults[0] if server.faults else None
                    if fault is not None and fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            server.faults.pop(0)
                if fault is not None:
                    if fault.body is not None:
                        self.answer(fault.status or 200, raw=fault.body)
                    else:
                        msg = {403: f"User does not have sufficient permission for site '{site}'.",
                               429: "Quota exceeded for quota metric 'Queries'."}.get(
                            fault.status, "Backend error.")
                        self.answer(fault.status, error_body(fault.status, msg))
                    return
                if inspect:
                    self.answer(*server._inspect(body))
                    return
                self.answer(200, server._query(body))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def _query(self, body: dict[str, Any]) -> dict[str, Any]:
        start, end = body.get("startDate", ""), body.get("endDate", "")
        rows = sorted((r for r in self.rows if start <= r["keys"][0] <= end),
                      key=lambda r: (r["keys"][0], r["keys"][1], r["keys"][2]))
        first = int(body.get("startRow", 0))
        limit = int(body.get("rowLimit", 1000))
        page = rows[first:first + limit]
        out: dict[str, Any] = {"responseAggregationType": "byPage"}
        if page:
            out["rows"] = page
        if self.first_incomplete and body.get("dataState") == "all" and start <= self.first_incomplete <= end:
            out["metadata"] = {"firstIncompleteDate": self.first_incomplete}
        return out

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SearchConsoleServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
