"""DataForSEO SERP API, live mode: Google organic and Google Maps, geo-targeted by coordinates.

POST {base}/v3/serp/google/organic/live/advanced and .../maps/live/advanced with a one-task array;
HTTP basic auth (login and API password from $SEO_DATAFORSEO_LOGIN / $SEO_DATAFORSEO_PASSWORD).
Organic `location_coordinate` is "latitude,longitude,radius" (radius in mm, 199.9-199999); maps is
"latitude,longitude,zoom" ("39.7294,-104.8319,13z"). A task-level status_code other than 20000 is
a task error.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

from . import AuthError, Call, Provider, Result, Target, Task, TaskError, json_object, ranked

OK = 20000


class DataForSEO(Provider):
    name = "dataforseo"
    default_base_url = "https://api.dataforseo.com"
    secret_envs = ("SEO_DATAFORSEO_LOGIN", "SEO_DATAFORSEO_PASSWORD")

    def _headers(self) -> dict[str, str]:
        pair = f"{os.environ.get(self.secret_envs[0], '')}:{os.environ.get(self.secret_envs[1], '')}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode(),
                "Content-Type": "application/json"}

    def calls(self, task: Task) -> list[Call]:
        s = self.settings
        out = []
        if "organic" in task.kinds:
            body = [{"keyword": task.keyword, "language_code": s["language_code"],
                     "location_coordinate": f"{task.lat:.7f},{task.lng:.7f},{s['radius']:g}",
                     "device": s["device"], "depth": s["depth"]}]
            out.append(Call("organic", "POST", f"{self.base_url}/v3/serp/google/organic/live/advanced",
                            self._headers(), json.dumps(body).encode()))
        if "maps" in task.kinds:
            body = [{"keyword": task.keyword, "language_code": s["language_code"],
                     "location_coordinate": f"{task.lat:.7f},{task.lng:.7f},{task.zoom or s['zoom']}z",
                     "device": s["device"], "depth": min(s["depth"], 100)}]
            out.append(Call("maps", "POST", f"{self.base_url}/v3/serp/google/maps/live/advanced",
                            self._headers(), json.dumps(body).encode()))
        return out

    def parse(self, call_kind: str, status: int, body: bytes, target: Target) -> list[Result]:
        if status in (401, 402, 403):
            try:
                data = json_object(status, body)
            except TaskError:
                data = {}
            raise AuthError(_refused(status, data))
        data = json_object(status, body)
        code = data.get("status_code")
        if isinstance(code, int) and 40100 <= code < 40400:
            raise AuthError(_refused(code // 100, data))
        if status != 200:
            raise TaskError(f"HTTP {status}")
        if data.get("status_code") != OK:
            raise TaskError(f"provider error {data.get('status_code')}: "
                            f"{str(data.get('status_message', ''))[:120]}")
        tasks = data.get("tasks")
        if not isinstance(tasks, list) or len(tasks) != 1 or not isinstance(tasks[0], dict):
            raise TaskError("answer without its one task")
        task = tasks[0]
        if task.get("status_code") != OK:
            raise TaskError(f"task error {task.get('status_code')}: "
                            f"{str(task.get('status_message', ''))[:120]}")
        results = task.get("result")
        if not isinstance(results, list) or not results or not isinstance(results[0], dict):
            raise TaskError("task finished without a result")
        items = results[0].get("items") or []
        if not isinstance(items, list):
            raise TaskError("result items is not a list")
        try:
            if call_kind == "maps":
                maps = [_entry(i) for i in items if isinstance(i, dict) and i.get("type") == "maps_search"]
                return [ranked(maps, "maps", target)]
            organic = [_entry(i) for i in items if isinstance(i, dict) and i.get("type") == "organic"]
            pack = [_entry(i) for i in items if isinstance(i, dict) and i.get("type") == "local_pack"]
        except (KeyError, TypeError, ValueError) as exc:
            raise TaskError(f"item without a usable rank ({type(exc).__name__})") from None
        out = [ranked(organic, "organic", target)]
        if pack:
            out.append(ranked(pack, "local_pack", target))
        else:
            out.append(Result("local_pack", True, None, "", "no local pack on this results page"))
        return out


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    return {"position": int(item["rank_group"]), "domain": str(item.get("domain") or ""),
            "title": str(item.get("title") or ""), "url": str(item.get("url") or ""),
            "place_id": str(item.get("place_id") or "")}


def _refused(status: int, data: dict[str, Any]) -> str:
    what = {401: "rejected the credentials (401): check SEO_DATAFORSEO_LOGIN and "
                 "SEO_DATAFORSEO_PASSWORD",
            402: "refused the request: payment required (402), top up the account",
            403: "refused access (403): check the account's API access and IP allow-list"}
    message = str(data.get("status_message") or "")[:120]
    return f"DataForSEO {what.get(status, f'refused the request ({status})')}" + \
        (f" ({message})" if message else "")
