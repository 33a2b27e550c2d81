"""Live SERP providers behind one interface, chosen by name in `integrations.serp.provider`.

A provider turns a task (keyword x town, with the town's coordinates) into HTTP requests, one per
kind it measures (organic, maps), and parses an answer into results: the clinic's position (or
"not found" in the depth fetched) and the top competitors. Anything that isn't a clean answer is
raised as TaskError and stored as "not measured" with the reason, never as a position.
Providers are pure (no I/O): the Scrapy child process (`seo.rankings.serp_crawl`) does the
fetching, so the same code runs in tests, the benchmark and production.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlparse

from ...errors import NotConfigured

TOP = 5  # competitors kept per result


class TaskError(Exception):
    """The provider answered, but not with a usable result (task error, bad shape)."""


class AuthError(TaskError):
    """The provider refused the account (credentials, payment, access): no other request can
    succeed, so the check stops at once."""


@dataclass(frozen=True)
class Task:
    id: str
    keyword: str
    town: str
    lat: float
    lng: float
    place: str  # "Aurora,Colorado,United States": for providers that target by place name
    kinds: tuple[str, ...] = ("organic", "maps")
    zoom: int = 0  # maps zoom at this point (grid scans); 0: the provider settings' zoom


@dataclass(frozen=True)
class Target:
    """Who "we" are in a results page, and whom to flag as a competitor."""

    domain: str  # "acupunctureassociates.com" (no www.)
    names: tuple[str, ...]  # business / location names, normalised
    place_ids: tuple[str, ...] = ()
    competitors: tuple[str, ...] = ()  # domains or names, normalised
    keep: int = TOP  # other results kept per answer (grid scans keep every one in the depth)

    def is_us(self, domain: str = "", title: str = "", place_id: str = "") -> bool:
        if domain and bare(domain) == self.domain:
            return True
        if place_id and place_id in self.place_ids:
            return True
        return bool(title) and norm_name(title) in self.names

    def is_competitor(self, domain: str = "", title: str = "") -> bool:
        return bool(self.competitors) and (bare(domain) in self.competitors
                                           or norm_name(title) in self.competitors)


@dataclass
class Result:
    kind: str  # organic, local_pack, maps
    measured: bool
    position: int | None = None
    url: str = ""
    reason: str = ""
    competitors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Call:
    kind: str  # the kind this request measures ("organic" may also yield "local_pack")
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


def json_object(status: int, body: bytes) -> dict[str, Any]:
    """A provider's answer as a JSON object, or TaskError saying what it was instead."""
    try:
        data = json.loads(body)
    except ValueError:
        raise TaskError(f"HTTP {status}, answer is not JSON") from None
    if not isinstance(data, dict):
        raise TaskError("answer is not a JSON object")
    return data


def bare(domain_or_url: str) -> str:
    host = urlparse(domain_or_url).hostname if "//" in domain_or_url else domain_or_url
    host = (host or "").lower().strip(".")
    return host.removeprefix("www.")


def norm_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def ranked(entries: list[dict[str, Any]], kind: str, target: Target) -> Result:
    """entries: [{position, domain, title, url, place_id}] in rank order -> our position + top."""
    entries = sorted(entries, key=lambda e: e["position"])
    ours = next((e for e in entries if target.is_us(e.get("domain", ""), e.get("title", ""),
                                                    e.get("place_id", ""))), None)
    top = [{"position": e["position"], "domain": bare(e.get("domain", "")),
            "title": e.get("title", ""),
            "competitor": target.is_competitor(e.get("domain", ""), e.get("title", "")),
            **({"place_id": e["place_id"]} if e.get("place_id") else {})}
           for e in entries if e is not ours][:target.keep]
    if ours is None:
        return Result(kind, True, None, "", f"not in the top {len(entries)}", top)
    return Result(kind, True, int(ours["position"]), ours.get("url", ""), "", top)


class Provider:
    name: ClassVar[str]
    default_base_url: ClassVar[str]
    secret_envs: ClassVar[tuple[str, ...]]

    def __init__(self, settings: dict[str, Any], base_url: str | None = None) -> None:
        self.settings = settings  # SerpSettings.model_dump()
        self.base_url = (base_url or self.default_base_url).rstrip("/")

    @classmethod
    def check_secrets(cls, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        missing = [name for name in cls.secret_envs if not env.get(name)]
        if missing:
            raise NotConfigured(f"SERP provider {cls.name!r} needs the environment variable"
                                f"{'s' if len(missing) > 1 else ''} {' and '.join(missing)}")

    def secrets(self) -> list[str]:
        """The secret values, so that callers can scrub them from any text they show."""
        return [os.environ[n] for n in self.secret_envs if os.environ.get(n)]

    def calls(self, task: Task) -> list[Call]:
        raise NotImplementedError

    def parse(self, call_kind: str, status: int, body: bytes, target: Target) -> list[Result]:
        raise NotImplementedError


def get_provider(name: str, settings: dict[str, Any], base_url: str | None = None) -> Provider:
    from .dataforseo import DataForSEO
    from .serpapi import SerpApi
    providers: dict[str, type[Provider]] = {"dataforseo": DataForSEO, "serpapi": SerpApi}
    if name not in providers:
        raise NotConfigured(f"unknown SERP provider {name!r} (known: {', '.join(providers)})")
    return providers[name](settings, base_url)


def scrub(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
