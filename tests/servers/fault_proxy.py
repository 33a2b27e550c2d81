"""An HTTP proxy in front of a real server (the test WordPress) that can misbehave on cue, to test
retries and idempotent creates against the real thing:

    proxy = FaultProxy("http://127.0.0.1:PORT/").start()
    proxy.fault("POST", "/wp-json/batch/v1", drop=True)       # forward it, then close without answering
    proxy.fault("GET", "/wp-json/wp/v2/pages", status=429, retry_after=1, times=2)   # answer 429 twice
    ... point the client at proxy.url ...
    proxy.stop()

`proxy.log` holds (method, path, what happened) for every request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import requests

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding"}


@dataclass
class Fault:
    method: str
    path: str
    status: int = 0
    retry_after: int | None = None
    drop: bool = False  # forward the request, then close the connection without an answer
    times: int = 1


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults: list[Fault] = []
        self.log: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def fault(self, method: str, path: str, *, status: int = 0, retry_after: int | None = None,
              drop: bool = False, times: int = 1) -> None:
        self.faults.append(Fault(method, path, status, retry_after, drop, times))

    def _take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.method == method and path.startswith(fault.path) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = urlsplit(self.path).path
                fault = proxy._take(self.command, path)
                if fault is not None and fault.status:
                    proxy.log.append((self.command, path, str(fault.status)))
                    data = b'{"code":"too_many","message":"slow down"}'
                    self.send_response(fault.status)
                    if fault.retry_after is not None:
                        self.send_header("Retry-After", str(fault.retry_after))
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP | {"host"}}
                upstream = requests.request(self.command, proxy.upstream + self.path, data=body,
                                            headers=headers, allow_redirects=False, timeout=300)
                if fault is not None and fault.drop:
                    proxy.log.append((self.command, path, "dropped"))
                    self.close_connection = True
                    self.connection.close()
                    return
                proxy.log.append((self.command, path, str(upstream.status_code)))
                data = upstream.content
                self.send_response(upstream.status_code)
                for k, v in upstream.headers.items():
                    if k.lower() not in HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
