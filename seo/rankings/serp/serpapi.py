"""SerpApi: Google search (organic results and the local pack) and Google Maps.

GET {base}/search.json?engine=google&q=..&location=..  -> organic_results[].position,
local_results.places[].position; engine=google_maps&ll=@lat,lng,zoomz&type=search ->
local_results[].position. The API key ($SEO_SERPAPI_KEY) travels in the query string, so request
URLs are never logged. SerpApi targets web search by place name (its `location`), maps by coordinates.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlencode

from . import AuthError, Call, Provider, Result, Target, Task, TaskError, json_object, ranked

NO_RESULTS = "hasn't returned any results"


class SerpApi(Provider):
    name = "serpapi"
    default_base_url = "https://serpapi.com"
    secret_envs = ("SEO_SERPAPI_KEY",)

    def calls(self, task: Task) -> list[Call]:
        s = self.settings
        key = os.environ.get(self.secret_envs[0], "")
        out = []
        if "organic" in task.kinds:
            q = {"engine": "google", "q": task.keyword, "location": task.place, "hl": s["language_code"],
                 "gl": "us", "num": min(s["depth"], 100), "device": s["device"], "api_key": key}
            out.append(Call("organic", "GET", f"{self.base_url}/search.json?{urlencode(q)}", {}))
        if "maps" in task.kinds:
            q = {"engine": "google_maps", "type": "search", "q": task.keyword,
                 "ll": f"@{task.lat:.7f},{task.lng:.7f},{task.zoom or s['zoom']}z", "hl": s["language_code"],
                 "api_key": key}
            out.append(Call("maps", "GET", f"{self.base_url}/search.json?{urlencode(q)}", {}))
        return out

    def parse(self, call_kind: str, status: int, body: bytes, target: Target) -> list[Result]:
        if status in (401, 403):
            raise AuthError(f"SerpApi rejected the API key ({status}): check SEO_SERPAPI_KEY")
        data = json_object(status, body)
        error = str(data.get("error") or "")
        empty = NO_RESULTS in error
        if error and not empty:
            raise TaskError(f"provider error: {error[:120]}")
        if status != 200:
            raise TaskError(f"HTTP {status}")
        status_text = (data.get("search_metadata") or {}).get("status", "Success")
        if status_text not in ("Success", "Cached") and not empty:
            raise TaskError(f"search status {status_text}")
        try:
            if call_kind == "maps":
                places = data.get("local_results") or []
                return [ranked([_entry(p, "website") for p in places], "maps", target)]
            organic = [_entry(r, "link") for r in data.get("organic_results") or []]
            local = data.get("local_results")
            pack = local.get("places") if isinstance(local, dict) else None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise TaskError(f"result without a usable rank ({type(exc).__name__})") from None
        out = [ranked(organic, "organic", target)]
        if pack:
            try:
                out.append(ranked([_entry(p, "website") for p in pack], "local_pack", target))
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise TaskError(f"local pack without usable ranks ({type(exc).__name__})") from None
        else:
            out.append(Result("local_pack", True, None, "", "no local pack on this results page"))
        return out


def _entry(item: dict[str, Any], link_key: str) -> dict[str, Any]:
    link = str(item.get(link_key) or "")
    return {"position": int(item["position"]), "domain": link, "url": link,
            "title": str(item.get("title") or ""), "place_id": str(item.get("place_id") or "")}
