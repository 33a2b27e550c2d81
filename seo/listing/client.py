"""The Google Business Profile client: Business Information v1 through google-api-python-client,
legacy v4 localPosts through google-auth's AuthorizedSession.

Why these choices:
- v1 discovery docs declare no scopes: credentials always carry business.manage (seo.google_auth).
- httplib2 is not thread-safe: one GbpClient per thread.
- `execute(num_retries=N)` retries 429 forever-style against a project with zero quota, with real
  sleeps: retries here are our own loop (5xx and non-zero-quota 429 only, injectable sleep), and a
  zero quota is one line about applying for API access.
- httplib2 silently re-sends a POST when the connection drops before the answer, which would make a
  post twice. Posts go through requests (AuthorizedSession), which never re-sends; a dropped create
  raises `Unanswered` and the caller looks the post up before trying again.
- googleapiclient returns malformed JSON as a string: every answer is checked to be an object.
- At most `edits_per_minute` edits (patches, post creates) per profile, across processes: the
  store's `StoreRateLimiter` (seo.listing.limits); `RateLimiter` keeps the window in memory for a
  client without a store. Clock and sleep are injectable so tests never wait.
- Every call has a timeout (`gbp.timeout`): httplib2's, requests', and the token refresh's.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import CredentialsRejected, ExternalError, NotConfigured
from ..settings import GbpSettings

if TYPE_CHECKING:
    from ..store import Store

Clock = Callable[[], float]
Sleep = Callable[[float], None]
BASIC_ACCESS = "https://developers.google.com/my-business/content/prereqs"
# a 403 with one of these reasons is a rate limit (retry later), not a refused permission
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "RATE_LIMIT_EXCEEDED"}


class Unanswered(ExternalError):
    """The request may have reached Google but no answer came back (connection dropped)."""


class GoogleError(ExternalError):
    def __init__(self, message: str, status: int = 0, retryable: bool = False) -> None:
        super().__init__(message)
        self.status, self.retryable = status, retryable


class Limiter(Protocol):
    """`acquire` blocks until an edit may be sent and returns its slot; `done(slot)` when the
    request is over (the slot then counts from that moment)."""

    waited: float

    def acquire(self, key: str) -> Any: ...

    def done(self, slot: Any) -> None: ...


class RateLimiter:
    """Sliding window in memory: at most `limit` calls per `period` seconds per key (a profile)."""

    def __init__(self, limit: int = 10, period: float = 60.0, clock: Clock = time.time,
                 sleep: Sleep = time.sleep, in_flight: float = 60.0) -> None:
        self.limit, self.period, self.clock, self.sleep = limit, period, clock, sleep
        self.in_flight = in_flight
        self.sent: dict[str, list[list[float]]] = defaultdict(list)
        self.waited = 0.0

    def acquire(self, key: str) -> list[float]:
        while True:
            now = self.clock()
            window = self.sent[key] = [s for s in self.sent[key] if s[0] > now - self.period]
            if len(window) < self.limit:
                slot = [now + self.in_flight]  # until done(): the latest it can arrive
                window.append(slot)
                return slot
            pause = sorted(s[0] for s in window)[-self.limit] + self.period - now
            self.waited += pause
            self.sleep(pause)

    def done(self, slot: list[float]) -> None:
        slot[0] = min(slot[0], self.clock())


class CredentialsRefused(GoogleError, CredentialsRejected):
    """401: the token is not accepted (revoked, wrong account): exit 3, run `seo auth google`."""


def describe_error(op: str, target: str, status: int, body: Any) -> GoogleError:
    """One clear line for an error answer; retryable only where retrying can help."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {"message": str(err or body or "")[:200]}
    message = str(err.get("message") or "").strip()
    details = err.get("details") if isinstance(err.get("details"), list) else []
    fields = [v.get("field", "") + (": " + v["description"] if v.get("description") else "")
              for d in details if isinstance(d, dict) for v in d.get("fieldViolations", [])
              if isinstance(v, dict)]
    quota = [d.get("metadata", {}).get("quota_limit_value") for d in details if isinstance(d, dict)
             and isinstance(d.get("metadata"), dict)]
    where = f"{op} {target}"
    if status == 400:
        extra = f" ({'; '.join(fields)})" if fields else ""
        if "mask" in message.lower() or any("mask" in f for f in fields):
            return GoogleError(f"{where}: Google rejected the field mask (400): {message}{extra}", 400)
        return GoogleError(f"{where}: Google rejected the request (400): {message}{extra}", 400)
    if status == 401:
        return CredentialsRefused(f"{where}: Google refused the credentials (401); run "
                                  "`seo auth google`", 401)
    reasons = {str(e.get("reason", "")) for e in err.get("errors") or [] if isinstance(e, dict)}
    reasons |= {str(d.get("reason", "")) for d in details if isinstance(d, dict)}
    if status == 403 and (reasons & RATE_REASONS or err.get("status") == "RESOURCE_EXHAUSTED"):
        why = ", ".join(sorted(reasons & RATE_REASONS)) or "RESOURCE_EXHAUSTED"
        return GoogleError(f"{where}: rate limited by Google (403 {why}): {message}", 403,
                           retryable=True)
    if status == 403:
        return GoogleError(f"{where}: permission denied (403): {message}; the signed-in Google "
                           "account must own or manage this profile, and the Business Profile APIs "
                           "must be enabled in the Google Cloud project", 403)
    if status == 404:
        return GoogleError(f"{where}: not found (404); check gbp_location and integrations.gbp."
                           "account in config/site.yaml", 404)
    if status == 429:
        if "0" in quota:
            return GoogleError("Google Business Profile API quota is 0 for this Google Cloud project "
                               "(not approved yet): apply for Basic API Access at "
                               f"{BASIC_ACCESS}, then run again", 429)
        return GoogleError(f"{where}: rate limited by Google (429): {message}", 429, retryable=True)
    if status >= 500:
        return GoogleError(f"{where}: Google server error ({status}): {message}", status,
                           retryable=True)
    return GoogleError(f"{where}: unexpected answer ({status}): {message}", status)


class GbpClient:
    """One profile session. Build with `connect()`; not thread-safe (one per thread)."""

    def __init__(self, settings: GbpSettings, credentials: Any, *, clock: Clock = time.time,
                 sleep: Sleep = time.sleep, limiter: Limiter | None = None) -> None:
        import google_auth_httplib2
        import httplib2
        from google.auth.transport.requests import AuthorizedSession
        from googleapiclient.discovery import build

        self.settings = settings
        self.sleep = sleep
        self.limiter: Limiter = limiter or RateLimiter(settings.edits_per_minute, 60.0, clock, sleep,
                                                       in_flight=2 * settings.timeout)
        http = google_auth_httplib2.AuthorizedHttp(credentials,
                                                   http=httplib2.Http(timeout=settings.timeout))
        self.v1 = build("mybusinessbusinessinformation", "v1", http=http, static_discovery=True,
                        cache_discovery=False,
                        client_options={"api_endpoint": settings.endpoints.business_information})
        self.session = AuthorizedSession(credentials, refresh_timeout=settings.timeout)
        self.calls = 0
        self.http = http  # the other v1 APIs (Performance, Place Actions) share it: `service()`
        self._services: dict[str, Any] = {}

    # -- plumbing ------------------------------------------------------------------------------
    def _retrying(self, op: str, target: str, send: Callable[[], Any], *, edit_key: str = "",
                  idempotent: bool = True) -> dict[str, Any]:
        attempts = self.settings.retries + 1
        for attempt in range(attempts):
            slot = self.limiter.acquire(edit_key) if edit_key else None
            self.calls += 1
            try:
                result = send()
            except GoogleError as exc:
                if exc.retryable and attempt + 1 < attempts:
                    self.sleep(min(2.0 ** attempt, 30.0))
                    continue
                raise
            except Unanswered:
                if idempotent and attempt + 1 < attempts:
                    self.sleep(min(2.0 ** attempt, 30.0))
                    continue
                raise
            finally:
                if slot is not None:
                    self.limiter.done(slot)
            if not isinstance(result, dict):
                raise ExternalError(f"{op} {target}: malformed answer from Google (not a JSON "
                                    "object)")
            return result
        raise AssertionError("unreachable")  # pragma: no cover

    def _v1(self, op: str, target: str, request: Any) -> Any:
        from googleapiclient.errors import HttpError
        try:
            return request.execute(num_retries=0)
        except HttpError as exc:
            try:
                body = json.loads(exc.content)
            except (ValueError, TypeError):
                body = None
            raise describe_error(op, target, exc.resp.status, body) from None
        except (OSError, ConnectionError) as exc:
            raise Unanswered(f"{op} {target}: connection failed ({type(exc).__name__})") from None
        except Exception as exc:  # httplib2 errors, refresh errors
            if type(exc).__module__.startswith(("httplib2", "google.auth")):
                raise _transport_error(op, target, exc) from None
            raise

    def _v4(self, op: str, method: str, path: str, *, params: dict[str, Any] | None = None,
            body: dict[str, Any] | None = None) -> Any:
        import requests
        url = self.settings.endpoints.v4 + path
        try:
            resp = self.session.request(method, url, params=params, json=body,
                                        timeout=self.settings.timeout)
        except requests.ConnectionError as exc:
            raise Unanswered(f"{op} {path}: connection dropped before Google answered "
                             f"({type(exc).__name__})") from None
        except requests.Timeout:
            raise Unanswered(f"{op} {path}: no answer within {self.settings.timeout:g}s") from None
        except Exception as exc:
            if type(exc).__module__.startswith("google.auth"):
                raise _transport_error(op, path, exc) from None
            raise
        try:
            data = resp.json()
        except ValueError:
            data = resp.text
        if resp.status_code >= 400:
            raise describe_error(op, path, resp.status_code, data)
        return data

    # -- Business Information v1 ---------------------------------------------------------------
    def get_location(self, name: str, read_mask: str) -> dict[str, Any]:
        req = self.v1.locations().get(name=name, readMask=read_mask)
        return self._retrying("locations.get", name, lambda: self._v1("locations.get", name, req))

    def get_google_updated(self, name: str, read_mask: str) -> dict[str, Any]:
        req = self.v1.locations().getGoogleUpdated(name=name, readMask=read_mask)
        return self._retrying("locations.getGoogleUpdated", name,
                              lambda: self._v1("locations.getGoogleUpdated", name, req))

    def patch_location(self, name: str, body: dict[str, Any], update_mask: str, *,
                       validate_only: bool = False) -> dict[str, Any]:
        req = self.v1.locations().patch(name=name, body=body, updateMask=update_mask,
                                        validateOnly=validate_only)
        op = "locations.patch" + (" (validateOnly)" if validate_only else "")
        # a patch sets fields to given values: sending it twice is harmless
        return self._retrying(op, name, lambda: self._v1(op, name, req), edit_key=name)

    def service(self, api: str) -> Any:
        """Another Business Profile v1 API on this session (built once, from the shipped doc)."""
        if api not in self._services:
            from googleapiclient.discovery import build
            endpoint = {"businessprofileperformance": self.settings.endpoints.performance,
                        "mybusinessplaceactions": self.settings.endpoints.place_actions}[api]
            self._services[api] = build(api, "v1", http=self.http, static_discovery=True,
                                        cache_discovery=False,
                                        client_options={"api_endpoint": endpoint})
        return self._services[api]

    def read(self, op: str, target: str, request: Any) -> dict[str, Any]:
        """Execute a read-only v1 request: retried on 5xx/429, the answer checked to be an object."""
        return self._retrying(op, target, lambda: self._v1(op, target, request))

    # -- legacy v4 localPosts ------------------------------------------------------------------
    def list_posts(self, parent: str) -> list[dict[str, Any]]:
        posts: list[dict[str, Any]] = []
        token = ""
        while True:
            params: dict[str, Any] = {"pageSize": 100}
            if token:
                params["pageToken"] = token
            page = self._retrying("localPosts.list", parent, lambda p=params: self._v4(
                "localPosts.list", "GET", f"{parent}/localPosts", params=p))
            posts += [p for p in page.get("localPosts", []) if isinstance(p, dict)]
            token = page.get("nextPageToken") or ""
            if not token:
                return posts

    def create_post(self, parent: str, body: dict[str, Any], profile: str) -> dict[str, Any]:
        """One attempt, never repeated here: a dropped answer raises Unanswered (look up first)."""
        slot = self.limiter.acquire(profile)
        self.calls += 1
        try:
            data = self._v4("localPosts.create", "POST", f"{parent}/localPosts", body=body)
        finally:
            self.limiter.done(slot)
        if not isinstance(data, dict) or not data.get("name"):
            raise ExternalError(f"localPosts.create {parent}: malformed answer from Google")
        return data

    def get_post(self, name: str) -> dict[str, Any]:
        return self._retrying("localPosts.get", name,
                              lambda: self._v4("localPosts.get", "GET", name))


def _transport_error(op: str, target: str, exc: Exception) -> Exception:
    name = type(exc).__name__
    if "RefreshError" in name:
        if getattr(exc, "retryable", False):  # the token endpoint failed, not the token
            return ExternalError(f"{op} {target}: Google's token endpoint failed; try again later")
        return CredentialsRejected(f"{op} {target}: Google token expired or revoked; run "
                                   "`seo auth google`")
    return Unanswered(f"{op} {target}: connection failed ({name})")


def connect(settings: GbpSettings | None, *, store: Store | None = None, credentials: Any = None,
            clock: Clock = time.time, sleep: Sleep = time.sleep) -> GbpClient:
    """A client from config; credentials from `seo auth google` (business.manage scope).

    With a store, the edit limit is shared by every process using that store.
    """
    if settings is None:
        raise NotConfigured("integrations.gbp is not set in config/site.yaml")
    if credentials is None:
        from ..google_auth import SCOPE_BUSINESS, load_credentials
        # the configured token URI, else the token file's own (google-auth ignores the stored one)
        credentials = load_credentials([SCOPE_BUSINESS], token_uri=settings.endpoints.token_uri)
    limiter: Limiter | None = None
    if store is not None:
        from .limits import StoreRateLimiter
        limiter = StoreRateLimiter(store, settings.edits_per_minute, 60.0, clock, sleep,
                                   in_flight=2 * settings.timeout)  # a token refresh, the request
    return GbpClient(settings, credentials, clock=clock, sleep=sleep, limiter=limiter)
