"""A small WordPress REST client: Application Password auth, a request rate limit, retries with backoff
for 429/5xx and lost connections (reads and updates only: a create is never re-sent blindly), answers
checked and bounded, and one-line errors that name the setting to fix. The password is never logged,
printed or stored; server text is redacted and cut before it is shown.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from typing import Any

import requests

from .. import __version__
from ..errors import ExternalError, NotConfigured, UserError
from ..settings import WordPressTarget

MAX_ANSWER = 32 * 1024 * 1024
RETRY_STATUS = {429, 500, 502, 503, 504}
HEADER = "X-Seo-Publish"  # marks the tool's own writes (the plugin fingerprints them)

Sleep = Callable[[float], None]
Clock = Callable[[], float]


class Unanswered(ExternalError):
    """A write was sent but no answer came back: WordPress may or may not have made it."""


def clean(text: str, secret: str = "", limit: int = 200) -> str:
    """Server text made safe to print: secrets out, control characters out, cut short."""
    if secret:
        text = text.replace(secret, "[redacted]").replace(secret.replace(" ", ""), "[redacted]")
    text = re.sub(r"[\x00-\x1f\x7f-\x9f]+", " ", text)
    return text[:limit] + ("..." if len(text) > limit else "")


class WpClient:
    def __init__(self, target: WordPressTarget, password: str | None = None, *,
                 key: str = "site.publish", sleep: Sleep = time.sleep, clock: Clock = time.monotonic,
                 session: requests.Session | None = None) -> None:
        self.target, self.key = target, key
        password = password if password is not None else os.environ.get(target.password_env, "")
        if not password.strip():
            raise NotConfigured(f"${target.password_env} is not set: it holds the WordPress "
                                f"application password for user {target.user!r} ({key})")
        self._password = password.strip()
        self.session = session or requests.Session()
        self.session.auth = (target.user, self._password)
        self.session.headers["User-Agent"] = f"seo-publish/{__version__}"
        self.base = target.url + "wp-json"
        self.sleep, self.clock = sleep, clock
        self.interval = 60.0 / target.requests_per_minute
        self._last = -1e9
        self.requests = 0  # HTTP requests sent
        self.writes = 0  # page writes sent (each page inside a batch counts)

    # -- transport ---------------------------------------------------------------------------------

    def _pace(self) -> None:
        wait = self._last + self.interval - self.clock()
        if wait > 0:
            self.sleep(wait)
        self._last = self.clock()

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
             body: Any = None, retry: bool = True) -> tuple[Any, dict[str, str]]:
        """(decoded JSON, headers). `retry`: safe to send again after a lost answer."""
        url = self.base + path
        attempt = 0
        while True:
            self._pace()
            self.requests += 1
            try:
                resp = self.session.request(
                    method, url, params=params, json=body, timeout=self.target.timeout, stream=True,
                    allow_redirects=False, headers={HEADER: "1"} if method != "GET" else None)
                data = self._read(resp)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if retry and attempt < self.target.retries:
                    self._backoff(attempt, None)
                    attempt += 1
                    continue
                kind = "no answer" if isinstance(exc, requests.Timeout) else "connection failed"
                err = Unanswered if method != "GET" else ExternalError
                raise err(f"WordPress at {self.target.url}: {kind} ({type(exc).__name__})") from None
            if resp.status_code in RETRY_STATUS and attempt < self.target.retries and (
                    retry or resp.status_code == 429):
                self._backoff(attempt, resp.headers.get("Retry-After"))
                attempt += 1
                continue
            if not retry and resp.status_code >= 500:  # a create may have been made all the same
                raise Unanswered(f"WordPress at {self.target.url} answered HTTP {resp.status_code}")
            return self._answer(resp, data, path)

    def _backoff(self, attempt: int, retry_after: str | None) -> None:
        delay = self.target.backoff * (2 ** attempt)
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, min(float(retry_after), 300.0))
        self.sleep(delay)

    def _read(self, resp: requests.Response) -> bytes:
        chunks, size = [], 0
        for chunk in resp.iter_content(65536):
            size += len(chunk)
            if size > MAX_ANSWER:
                resp.close()
                raise ExternalError(f"WordPress answered more than {MAX_ANSWER // 2**20} MB")
            chunks.append(chunk)
        return b"".join(chunks)

    def _answer(self, resp: requests.Response, raw: bytes, path: str) -> tuple[Any, dict[str, str]]:
        status = resp.status_code
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
            if status < 300:
                raise ExternalError(f"WordPress answered {path} with something that is not JSON "
                                    "(a security plugin or a cache page in the way?)") from None
        t = self.target
        if status == 401:
            raise UserError(f"WordPress rejected user {t.user!r} and the application password in "
                            f"${t.password_env} (401): check the user name and create a new "
                            "application password (Users > Profile)",
                            file="config/site.yaml", key=f"{self.key}.user")
        if status == 403:
            raise UserError(f"WordPress user {t.user!r} may not do this (403 on {path}): give it "
                            "the Editor or Administrator role", file="config/site.yaml",
                            key=f"{self.key}.user")
        if 300 <= status < 400:
            where = clean(resp.headers.get("Location", ""), self._password)
            raise UserError(f"WordPress redirects {path} to {where!r}: set the site's own address "
                            "(https, www or not) as url", file="config/site.yaml",
                            key=f"{self.key}.url")
        if status >= 400:
            code = clean(str(data.get("code", ""))) if isinstance(data, dict) else ""
            message = clean(str(data.get("message", ""))) if isinstance(data, dict) else ""
            raise ExternalError(f"WordPress answered HTTP {status} to {path}"
                                + (f": {code}: {message}" if code or message else ""),
                                ) from None
        return data, {k.lower(): v for k, v in resp.headers.items()}

    # -- calls -------------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[Any, dict[str, str]]:
        return self.call("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any], *, creates: bool = False) -> Any:
        data, _ = self.call("POST", path, body=body, retry=not creates)
        return data

    def batch(self, items: list[tuple[str, str, dict[str, Any]]], *, creates: bool) -> list[
            tuple[int, Any]]:
        """Up to 25 (method, path, body) requests in one /batch/v1 call: [(status, body)]."""
        body = {"validation": "normal", "requests": [
            {"method": m, "path": p, "body": b, "headers": {HEADER: "1"}} for m, p, b in items]}
        data, _ = self.call("POST", "/batch/v1", body=body, retry=not creates)
        answers = data.get("responses") if isinstance(data, dict) else None
        if not isinstance(answers, list) or len(answers) != len(items):
            raise ExternalError("WordPress answered a batch with a malformed list of responses")
        out = []
        for answer in answers:
            if not isinstance(answer, dict):
                raise ExternalError("WordPress answered a batch with a malformed response")
            status = int(answer.get("status", 0) or 0)
            out.append((status, answer.get("body")))
        return out

    def close(self) -> None:
        self.session.close()
