"""A minimal W3C WebDriver client for chromedriver over urllib (no selenium).

Only what the browser tests need: one headless Chromium session, navigation, window size, script
execution, screenshots and the browser console log. Nothing here downloads a browser: it drives the
system's Debian `chromium` through the system's `chromedriver`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

CHROME_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-quic",
]


class WebDriverError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Chrome:
    """chromedriver in a subprocess with one Chromium session; use as a context manager."""

    def __init__(self, chromium: str, chromedriver: str, profile: Path, log: Path) -> None:
        self.chromium, self.chromedriver, self.profile, self.log = chromium, chromedriver, profile, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.base = ""
        self.session = ""

    def __enter__(self) -> Chrome:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        port = _free_port()
        self.base = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen([self.chromedriver, f"--port={port}"], stdout=log,
                                         stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self._call("GET", "/status")["ready"]:
                    break
            except (OSError, WebDriverError):
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise WebDriverError(f"chromedriver did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.05)
        caps = {
            "browserName": "chrome",
            "pageLoadStrategy": "normal",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": self.chromium,
                "args": [*CHROME_FLAGS, f"--user-data-dir={self.profile}"],
            },
        }
        value = self._call("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        self.session = value["sessionId"]
        self._call("POST", f"/session/{self.session}/timeouts",
                   {"script": 30_000, "pageLoad": 30_000, "implicit": 0})

    def stop(self) -> None:
        if self.session:
            with contextlib.suppress(OSError, WebDriverError):
                self._call("DELETE", f"/session/{self.session}")
            self.session = ""
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None

    # -- raw protocol -------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                payload = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            try:
                value = json.loads(exc.read()).get("value", {})
            except ValueError:
                value = {}
            raise WebDriverError(f"{method} {path}: {value.get('error', exc.code)}: "
                                 f"{value.get('message', '')}") from None
        return payload.get("value")

    def _session(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    # -- commands -----------------------------------------------------------------------------

    def viewport(self, width: int, height: int) -> None:
        """Resize so the page's layout viewport is `width` x `height` CSS pixels."""
        self._session("POST", "/window/rect", {"width": width, "height": height})
        inner = self.execute("return [window.innerWidth, window.innerHeight]")
        if inner != [width, height]:  # window decorations: grow the window by the difference
            self._session("POST", "/window/rect", {"width": 2 * width - inner[0],
                                                   "height": 2 * height - inner[1]})
            inner = self.execute("return [window.innerWidth, window.innerHeight]")
        if inner[0] != width:
            raise WebDriverError(f"could not set the viewport to {width} px wide (got {inner[0]})")

    def get(self, url: str) -> None:
        self._session("POST", "/url", {"url": url})

    def execute(self, script: str, *args: Any) -> Any:
        return self._session("POST", "/execute/sync", {"script": script, "args": list(args)})

    def execute_async(self, script: str, *args: Any) -> Any:
        return self._session("POST", "/execute/async", {"script": script, "args": list(args)})

    def screenshot(self) -> bytes:
        return base64.b64decode(self._session("GET", "/screenshot"))

    def browser_log(self) -> list[dict[str, Any]]:
        """Console and network messages since the last call (chromedriver's legacy log endpoint)."""
        return self._session("POST", "/se/log", {"type": "browser"}) or []
