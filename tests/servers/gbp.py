"""A local Google Business Profile: Business Information v1, legacy v4 localPosts and an OAuth token
endpoint, speaking Google's JSON shapes and errors, for the real google-api-python-client and
google-auth to talk to.

    server = GbpServer().start()
    server.add_location("locations/111", {...})       # the merchant's version
    server.google_edit("locations/111", "phoneNumbers", {"primaryPhone": "..."})  # a public edit
    server.fault("post.create", drop=True)               # close the socket after creating the post
    server.fault("post.create", late=2.0)                # make the post 2 s later (after the
                                                         # client's timeout), then answer
    server.fault("get", status=429, zero_quota=True, times=None)   # forever
    ...
    server.stop()

`late` finishes the request after the client's timeout: the post is made, and listed, only then.

Operations named in faults and in `server.log`: token, get, patch, google_updated, post.create,
post.list, post.get; and those of tests/servers/gbp_profile.py (Performance, v4 reviews, Place
Actions), mixed in. `clock` (any callable) stamps the log, so a test with a fake clock can check
the rate of edits without waiting.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .gbp_profile import ProfileApis, profile_route

REFRESH_TOKEN = "test-refresh-token"
CLIENT_ID = "test-client.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"

UPDATABLE = {"title", "phoneNumbers", "phoneNumbers.primaryPhone", "phoneNumbers.additionalPhones",
             "categories", "websiteUri", "storefrontAddress", "regularHours", "specialHours",
             "serviceArea", "profile", "profile.description", "serviceItems", "openInfo",
             "openInfo.status", "labels", "storeCode", "moreHours"}
READABLE = UPDATABLE | {"name", "metadata", "languageCode", "latlng"}
STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
          429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


@dataclass
class Fault:
    op: str
    status: int = 0
    message: str = ""
    drop: bool = False  # perform the operation, then close the connection without answering
    lose: bool = False  # close the connection without performing the operation
    garbage: bool = False  # answer 200 with a body that is not JSON
    zero_quota: bool = False
    late: float = 0.0  # seconds (real time) before the request is acted on and answered
    rate_limit_403: bool = False  # a 403 whose reason is rateLimitExceeded
    times: int | None = 1  # None: forever


@dataclass
class Logged:
    at: float
    op: str
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)


def error_body(code: int, message: str, zero_quota: bool = False,
               violations: list[dict[str, str]] | None = None) -> dict[str, Any]:
    details: list[dict[str, Any]] = []
    if code == 429:
        details.append({"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                        "metadata": {"quota_limit_value": "0" if zero_quota else "300",
                                     "quota_metric": "mybusinessbusinessinformation.googleapis.com/"
                                                     "default_requests",
                                     "consumer": "projects/123456789"}})
    if violations:
        details.append({"@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": violations})
    return {"error": {"code": code, "message": message, "status": STATUS.get(code, "UNKNOWN"),
                      "details": details}}


def _get_path(obj: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def _set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    if value is None:
        obj.pop(parts[-1], None)
    else:
        obj[parts[-1]] = copy.deepcopy(value)


class GbpServer(ProfileApis):
    def __init__(self, clock: Callable[[], float] = monotonic, require_auth: bool = True,
                 list_page_size: int = 10) -> None:
        self.clock = clock
        self.require_auth = require_auth
        self.list_page_size = list_page_size
        self.locations: dict[str, dict[str, Any]] = {}
        self.google: dict[str, dict[str, Any]] = {}  # name -> {field path: value Google shows}
        self.pending: dict[str, set[str]] = {}
        self.pending_on_patch = False
        self.posts: dict[str, list[dict[str, Any]]] = {}  # v4 parent -> posts
        self.reject: Callable[[dict[str, Any]], bool] = lambda post: False
        self.faults: list[Fault] = []
        self.log: list[Logged] = []
        self.tokens: set[str] = set()
        self.token_count = 0
        self.lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._init_profile()

    # -- control -------------------------------------------------------------------------------
    def start(self) -> GbpServer:
        server = self

        class Handler(_Handler):
            gbp = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()

    @property
    def url(self) -> str:
        assert self._httpd
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    @property
    def v4_url(self) -> str:
        return self.url + "v4/"

    @property
    def token_uri(self) -> str:
        return self.url + "token"

    def add_location(self, name: str, data: dict[str, Any]) -> None:
        with self.lock:
            self.locations[name] = {**copy.deepcopy(data), "name": name}

    def google_edit(self, name: str, path: str, value: Any) -> None:
        """What Google shows now differs from the merchant's data (a public or Google edit)."""
        with self.lock:
            self.google.setdefault(name, {})[path] = copy.deepcopy(value)

    def fault(self, op: str, status: int = 0, *, message: str = "", drop: bool = False,
              garbage: bool = False, zero_quota: bool = False, late: float = 0.0,
              rate_limit_403: bool = False, times: int | None = 1, lose: bool = False) -> None:
        with self.lock:
            self.faults.append(Fault(op, status, message, drop, lose, garbage, zero_quota, late,
                                     rate_limit_403, times))

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def ops(self, op: str) -> list[Logged]:
        return [e for e in self.log if e.op == op]

    def all_posts(self) -> list[dict[str, Any]]:
        return [p for posts in self.posts.values() for p in posts]

    def _take_fault(self, op: str) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.op == op:
                    if f.times is not None:
                        f.times -= 1
                        if f.times <= 0:
                            self.faults.remove(f)
                    return f
        return None

    # -- the APIs ------------------------------------------------------------------------------
    def handle(self, op: str, method: str, path: str, query: dict[str, str],
               body: Any, multi: dict[str, list[str]] | None = None) -> tuple[int, Any]:
        if op.startswith(("perf.", "kw.", "review.", "pal.")):
            return self.handle_profile(op, path, query, multi or {}, body)
        if op == "token":
            return self._token(body)
        if op == "get":
            return self._read(path, query, google=False)
        if op == "google_updated":
            return self._read(path.removesuffix(":getGoogleUpdated"), query, google=True)
        if op == "patch":
            return self._patch(path, query, body)
        if op == "post.create":
            return self._create_post(path, body)
        if op == "post.list":
            return self._list_posts(path, query)
        if op == "post.get":
            return self._get_post(path)
        return 404, error_body(404, f"Method not found: {method} {path}")

    def _token(self, form: dict[str, str]) -> tuple[int, Any]:
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != REFRESH_TOKEN \
                or form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
        with self.lock:
            self.token_count += 1
            token = f"ya29.test-{self.token_count}"
            self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer",
                     "scope": "https://www.googleapis.com/auth/business.manage"}

    def _location(self, path: str) -> dict[str, Any] | None:
        return self.locations.get(path.removeprefix("v1/"))

    def _mask(self, raw: str | None, allowed: set[str], what: str) -> tuple[list[str], Any]:
        if not raw:
            return [], (400, error_body(400, f"Request contains an invalid argument: {what} is "
                                             "required", violations=[{"field": what,
                                                                      "description": "required"}]))
        paths = [p.strip() for p in raw.split(",") if p.strip()]
        bad = [p for p in paths if p not in allowed]
        if bad:
            return [], (400, error_body(400, f"Invalid field mask provided: {bad[0]}",
                                        violations=[{"field": what,
                                                     "description": f"Invalid field: {bad[0]}"}]))
        return paths, None

    def _read(self, path: str, query: dict[str, str], google: bool) -> tuple[int, Any]:
        with self.lock:
            loc = self._location(path)
            if loc is None:
                return 404, error_body(404, "Requested entity was not found.")
            paths, err = self._mask(query.get("readMask"), READABLE, "read_mask")
            if err:
                return err
            name = loc["name"]
            shown = copy.deepcopy(loc)
            overrides = self.google.get(name, {}) if google else {}
            for p, value in overrides.items():
                _set_path(shown, p, value)
            shown.setdefault("metadata", {})["hasGoogleUpdated"] = bool(self.google.get(name))
            shown["metadata"]["hasPendingEdits"] = bool(self.pending.get(name))
            out: dict[str, Any] = {}
            for p in paths:
                value = _get_path(shown, p)
                if value is not None:
                    _set_path(out, p, value)
            if not google:
                return 200, out
            in_mask = [p for p in sorted(overrides)
                       if any(p == m or p.startswith(m + ".") or m.startswith(p + ".") for m in paths)]
            pend = [p for p in sorted(self.pending.get(name, ()))
                    if any(p == m or p.startswith(m + ".") for m in paths)]
            return 200, {"location": out, "diffMask": ",".join(in_mask),
                         "pendingMask": ",".join(pend)}

    def _patch(self, path: str, query: dict[str, str], body: Any) -> tuple[int, Any]:
        with self.lock:
            loc = self._location(path)
            if loc is None:
                return 404, error_body(404, "Requested entity was not found.")
            paths, err = self._mask(query.get("updateMask"), UPDATABLE, "update_mask")
            if err:
                return err
            if not isinstance(body, dict):
                return 400, error_body(400, "Invalid JSON payload received.")
            if "title" in paths and not body.get("title"):
                return 400, error_body(400, "Request contains an invalid argument.",
                                       violations=[{"field": "title", "description": "required"}])
            desc = _get_path(body, "profile.description") or ""
            if len(desc) > 750:
                return 400, error_body(400, "Request contains an invalid argument.",
                                       violations=[{"field": "profile.description",
                                                    "description": "Description too long"}])
            updated = copy.deepcopy(loc)
            for p in paths:
                _set_path(updated, p, _get_path(body, p))
            if query.get("validateOnly") == "true":
                return 200, updated
            self.locations[loc["name"]] = updated
            overrides = self.google.get(loc["name"], {})
            for p in list(overrides):
                if any(p == m or p.startswith(m + ".") or m.startswith(p + ".") for m in paths):
                    del overrides[p]
            if self.pending_on_patch:
                self.pending.setdefault(loc["name"], set()).update(paths)
            return 200, updated

    def _create_post(self, parent: str, body: Any) -> tuple[int, Any]:
        parent = parent.removeprefix("v4/").removesuffix("/localPosts")
        with self.lock:
            if parent.split("/locations/")[-1] not in {n.split("/")[-1] for n in self.locations}:
                return 404, error_body(404, "Requested entity was not found.")
            if not isinstance(body, dict) or body.get("topicType") not in (
                    "STANDARD", "EVENT", "OFFER", "ALERT") or not body.get("summary"):
                return 400, error_body(400, "Request contains an invalid argument.")
            if len(body["summary"]) > 1500:
                return 400, error_body(400, "Summary too long.")
            posts = self.posts.setdefault(parent, [])
            n = sum(len(v) for v in self.posts.values()) + 1
            post = {**copy.deepcopy(body), "name": f"{parent}/localPosts/{n:06d}",
                    "state": "PROCESSING", "createTime": f"2026-01-01T00:00:{n % 60:02d}Z",
                    "searchUrl": f"https://local.google.com/place?id=1&use=posts&lpsid={n}"}
            posts.append(post)
            return 200, post

    def _list_posts(self, parent: str, query: dict[str, str]) -> tuple[int, Any]:
        parent = parent.removeprefix("v4/").removesuffix("/localPosts")
        with self.lock:
            posts = list(reversed(self.posts.get(parent, [])))  # newest first, as Google lists
            size = min(int(query.get("pageSize", self.list_page_size)), 100)
            start = int(query.get("pageToken") or 0)
            page = posts[start:start + size]
            out: dict[str, Any] = {"localPosts": copy.deepcopy(page)} if page else {}
            if start + size < len(posts):
                out["nextPageToken"] = str(start + size)
            return 200, out

    def _get_post(self, name: str) -> tuple[int, Any]:
        name = name.removeprefix("v4/")
        with self.lock:
            for post in self.all_posts():
                if post["name"] == name:
                    if post["state"] == "PROCESSING":
                        post["state"] = "REJECTED" if self.reject(post) else "LIVE"
                    return 200, copy.deepcopy(post)
        return 404, error_body(404, "Requested entity was not found.")


def route(method: str, path: str) -> str:
    if path == "token":
        return "token"
    profile = profile_route(method, path)
    if profile:
        return profile
    if path.startswith("v1/locations/"):
        if path.endswith(":getGoogleUpdated"):
            return "google_updated"
        return {"GET": "get", "PATCH": "patch"}.get(method, "?")
    if re.match(r"^v4/accounts/[^/]+/locations/[^/]+/localPosts$", path):
        return {"POST": "post.create", "GET": "post.list"}.get(method, "?")
    if re.match(r"^v4/accounts/[^/]+/locations/[^/]+/localPosts/[^/]+$", path):
        return "post.get" if method == "GET" else "?"
    return "?"


class _Handler(BaseHTTPRequestHandler):
    gbp: GbpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        server = self.gbp
        parts = urlsplit(self.path)
        path = parts.path.lstrip("/")
        multi = parse_qs(parts.query)
        query = {k: v[-1] for k, v in multi.items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        op = route(self.command, path)
        with server.lock:
            server.log.append(Logged(server.clock(), op, self.command, path, query))
        if op == "token":
            body: Any = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        else:
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
        fault = server._take_fault(op)
        if op != "token" and server.require_auth:
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in server.tokens:
                return self._answer(401, error_body(401, "Request had invalid authentication "
                                                         "credentials. Expected OAuth 2 access "
                                                         "token."))
        if fault and fault.lose:
            self.close_connection = True  # the request never reached the API
            return
        if fault and fault.status:
            answer = error_body(
                fault.status, fault.message or _default_message(fault), fault.zero_quota,
                [{"field": "update_mask", "description": "Invalid field"}]
                if fault.status == 400 else None)
            if fault.rate_limit_403:  # Google's older style: the reason in error.errors[]
                answer["error"]["errors"] = [{"message": answer["error"]["message"],
                                              "domain": "usageLimits", "reason": "rateLimitExceeded"}]
            return self._answer(fault.status, answer)
        if fault and fault.late:
            time.sleep(fault.late)  # the client has given up by now; the create still happens
        status, answer = server.handle(op, self.command, path, query, body, multi)
        if fault and fault.drop:
            self.close_connection = True  # the request was received and acted on; no answer
            return
        if fault and fault.garbage:
            return self._answer(200, None, raw=b'{"name": "locations/1", "title": ')
        self._answer(status, answer)

    def _answer(self, status: int, answer: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(answer).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            if status == 401:
                self.send_header("WWW-Authenticate", 'Bearer realm="https://accounts.google.com/"')
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up waiting (a late fault)
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve


def _default_message(fault: Fault) -> str:
    if fault.status == 429:
        return ("Quota exceeded for quota metric 'Requests' and limit 'Requests per minute' of "
                "service 'mybusinessbusinessinformation.googleapis.com' for consumer "
                "'project_number:123456789'.")
    return {400: "Request contains an invalid argument.",
            403: "The caller does not have permission",
            404: "Requested entity was not found.",
            500: "Internal error encountered.",
            503: "The service is currently unavailable."}.get(fault.status, "error")
