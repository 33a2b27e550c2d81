"""A local HTTP receiver for alert webhooks (Slack, Teams, generic JSON): on `signed_url` it checks
the generic body's HMAC-SHA256 signature as a real receiver would (401 when it is wrong), records
what arrived, and can misbehave on purpose, one request at a time:

    hook = WebhookReceiver(secret="...").start()
    hook.plan = ["drop", 503, "slow", 200]   # then `hook.default` (200) for every later request
    ...
    hook.stop()

"drop": read the whole request, count it as received (a real receiver would have posted it), then
close the connection without answering: the sender's answer is lost. "slow": answer after
`slow_seconds` (longer than the sender's timeout). An int: answer with that status
(`retry_after` adds the header to a 429/503).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Arrived:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None  # None: not a signed path

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def key(self) -> str:
        return self.headers.get("idempotency-key", "")


class WebhookReceiver:
    def __init__(self, secret: str | None = None, header: str = "X-SEO-Signature",
                 max_skew: float = 300.0) -> None:
        self.secret, self.header, self.max_skew = secret, header, max_skew
        self.received: list[Arrived] = []  # everything that arrived whole, answered or not
        self.plan: list[int | str] = []
        self.default: int | str = 200
        self.answer_text = "ok"
        self.error_text = "error"  # the body of a 3xx-5xx answer
        self.retry_after: str | None = None
        self.slow_seconds = 3.0
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(_Handler):
            hook = receiver

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
        """Slack- or Teams-style: the URL itself is the secret; nothing else is checked."""
        assert self._httpd
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/hook/T000/B000"

    @property
    def signed_url(self) -> str:
        """The generic receiver: every request must carry a valid signature (else 401)."""
        assert self._httpd
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/signed/alerts"

    def verify(self, headers: dict[str, str], body: bytes) -> bool | None:
        if self.secret is None:
            return None
        stamp = headers.get("x-seo-timestamp", "")
        given = headers.get(self.header.lower(), "")
        if not stamp.isdigit() or not given.startswith("sha256="):
            return False
        if abs(time.time() - int(stamp)) > self.max_skew:
            return False
        want = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, given.removeprefix("sha256="))

    def keys(self) -> list[str]:
        return [a.key for a in self.received]


class _Handler(BaseHTTPRequestHandler):
    hook: WebhookReceiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        hook = self.hook
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        ok = hook.verify(headers, body) if self.path.startswith("/signed/") else None
        with hook.lock:
            action = hook.plan.pop(0) if hook.plan else hook.default
            if ok is not False:
                hook.received.append(Arrived(self.path, headers, body, ok))
        if ok is False:
            return self._answer(401, "bad signature")
        if action == "drop":
            self.close_connection = True
            return
        if action == "slow":
            time.sleep(hook.slow_seconds)
            action = 200
        assert isinstance(action, int)
        self._answer(action, hook.answer_text if action < 300 else hook.error_text)

    def _answer(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        if self.hook.retry_after and status in (429, 503):
            self.send_header("Retry-After", self.hook.retry_after)
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(data)


class SiteServer:
    """A live site for the watch's HEAD/GET checks: `status[path]` (default 200), "slow" to
    answer after `slow_seconds`, or "drop" to close without answering; `no_head` paths answer
    405 to HEAD; `hits` counts (method, path)."""

    def __init__(self) -> None:
        self.status: dict[str, int | str] = {}
        self.no_head: set[str] = set()
        self.slow_seconds = 3.0
        self.hits: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    def start(self) -> SiteServer:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                path = self.path.split("?", 1)[0]
                with site.lock:
                    site.hits.append((self.command, path))
                    action = site.status.get(path, 200)
                if self.command == "HEAD" and path in site.no_head:
                    action = 405
                if action == "drop":
                    self.close_connection = True
                    return
                if action == "slow":
                    time.sleep(site.slow_seconds)
                    action = 200
                assert isinstance(action, int)
                data = f"<!doctype html><title>{action}</title>".encode()
                self.send_response(action)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    with contextlib.suppress(OSError):
                        self.wfile.write(data)

            do_GET = do_HEAD = _serve

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._httpd.handle_error = lambda *_args: None  # type: ignore[method-assign]  # clients hang up
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
