"""The rest of a local Business Profile, mixed into `GbpServer` (tests/servers/gbp.py): the
Performance API v1 (daily metrics, monthly search keywords), legacy v4 reviews and replies, and
Place Actions v1 links, in Google's JSON shapes, with paging, lagging days and thresholds.

    server.set_metric("locations/111", "CALL_CLICKS", date(2026, 11, 3), 4)
    server.set_metric("locations/111", "CALL_CLICKS", date(2026, 11, 4), None)  # listed, no value
    server.unlisted.add(("locations/111", date(2026, 11, 5)))   # Google leaves the date out
    server.set_keywords("locations/111", "2026-10", [("acupuncture parker", 40, None),
                                                     ("dry needling", None, 15)])  # "< 15"
    server.add_review("accounts/42/locations/111", "r1", 5, "Great!", reviewer="Ann B.")
    server.add_link("locations/111", "https://booking.example/x", provider="AGGREGATOR_3P")

Operations (for `fault()` and `ops()`): perf.fetch, kw.list, review.list, review.get, review.reply,
review.delete_reply, pal.list, pal.get, pal.create, pal.patch, pal.delete.
"""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta
from typing import Any

DAILY_METRICS = {"BUSINESS_IMPRESSIONS_DESKTOP_MAPS", "BUSINESS_IMPRESSIONS_DESKTOP_SEARCH",
                 "BUSINESS_IMPRESSIONS_MOBILE_MAPS", "BUSINESS_IMPRESSIONS_MOBILE_SEARCH",
                 "BUSINESS_CONVERSATIONS", "BUSINESS_DIRECTION_REQUESTS", "CALL_CLICKS",
                 "WEBSITE_CLICKS", "MESSAGING_CLICKS", "BUSINESS_BOOKINGS", "BUSINESS_FOOD_ORDERS",
                 "BUSINESS_FOOD_MENU_CLICKS"}
STARS = {1: "ONE", 2: "TWO", 3: "THREE", 4: "FOUR", 5: "FIVE"}
ACTION_TYPES = {"APPOINTMENT", "ONLINE_APPOINTMENT", "DINING_RESERVATION", "FOOD_ORDERING",
                "FOOD_DELIVERY", "FOOD_TAKEOUT", "SHOP_ONLINE", "SOLOPRENEUR_APPOINTMENT"}


def profile_route(method: str, path: str) -> str | None:
    loc = r"^v1/locations/[^/:]+"
    if re.match(loc + r":fetchMultiDailyMetricsTimeSeries$", path):
        return "perf.fetch" if method == "GET" else "?"
    if re.match(loc + r"/searchkeywords/impressions/monthly$", path):
        return "kw.list" if method == "GET" else "?"
    if re.match(loc + r"/placeActionLinks$", path):
        return {"GET": "pal.list", "POST": "pal.create"}.get(method, "?")
    if re.match(loc + r"/placeActionLinks/[^/]+$", path):
        return {"GET": "pal.get", "PATCH": "pal.patch", "DELETE": "pal.delete"}.get(method, "?")
    v4 = r"^v4/accounts/[^/]+/locations/[^/]+/reviews"
    if re.match(v4 + "$", path):
        return "review.list" if method == "GET" else "?"
    if re.match(v4 + r"/[^/]+$", path):
        return "review.get" if method == "GET" else "?"
    if re.match(v4 + r"/[^/]+/reply$", path):
        return {"PUT": "review.reply", "DELETE": "review.delete_reply"}.get(method, "?")
    return None


def _day(query: dict[str, str], prefix: str) -> date | None:
    try:
        return date(int(query[prefix + ".year"]), int(query[prefix + ".month"]),
                    int(query.get(prefix + ".day", "1") or 1))
    except (KeyError, ValueError):
        return None


def _dateobj(d: date) -> dict[str, int]:
    return {"year": d.year, "month": d.month, "day": d.day}


class ProfileApis:
    """State and handlers; `GbpServer` calls `_init_profile()` and routes these ops here."""

    lock: Any
    locations: dict[str, dict[str, Any]]

    def _init_profile(self) -> None:
        # (location, metric) -> {day: value or None (listed without a value)}
        self.metrics: dict[tuple[str, str], dict[date, int | None]] = {}
        self.unlisted: set[tuple[str, date]] = set()  # dates Google leaves out of the answer
        self.metric_days_default_blank = True  # unset dates in range: listed without value
        self.keywords: dict[tuple[str, str], list[tuple[str, int | None, int | None]]] = {}
        self.keyword_page_size = 100
        self.reviews: dict[str, list[dict[str, Any]]] = {}  # v4 parent -> reviews
        self.review_page_size = 50
        self.links: dict[str, list[dict[str, Any]]] = {}  # location -> place action links
        self.link_count = 0
        self.review_clock = 0

    # -- control ---------------------------------------------------------------------------------
    def set_metric(self, name: str, metric: str, day: date, value: int | None) -> None:
        with self.lock:
            self.metrics.setdefault((name, metric), {})[day] = value

    def set_keywords(self, name: str, month: str,
                     rows: list[tuple[str, int | None, int | None]]) -> None:
        with self.lock:
            self.keywords[(name, month)] = list(rows)

    def add_review(self, parent: str, review_id: str, stars: int | None, comment: str = "", *,
                   reviewer: str = "A Reviewer", anonymous: bool = False,
                   created: str = "2026-11-10T15:00:00Z", updated: str | None = None,
                   reply: str | None = None) -> dict[str, Any]:
        review: dict[str, Any] = {
            "name": f"{parent}/reviews/{review_id}", "reviewId": review_id,
            "reviewer": {"displayName": reviewer, "isAnonymous": anonymous,
                         "profilePhotoUrl": "https://lh3.googleusercontent.com/a/x"},
            "starRating": STARS.get(stars or 0, "STAR_RATING_UNSPECIFIED"),
            "createTime": created, "updateTime": updated or created}
        if comment:
            review["comment"] = comment
        if reply is not None:
            review["reviewReply"] = {"comment": reply, "updateTime": updated or created}
        with self.lock:
            self.reviews.setdefault(parent, []).append(review)
        return review

    def review(self, name: str) -> dict[str, Any] | None:
        with self.lock:
            for reviews in self.reviews.values():
                for r in reviews:
                    if r["name"] == name:
                        return r
        return None

    def remove_review(self, name: str) -> None:
        with self.lock:
            for parent, reviews in self.reviews.items():
                self.reviews[parent] = [r for r in reviews if r["name"] != name]

    def add_link(self, location: str, uri: str, *, action: str = "APPOINTMENT",
                 provider: str = "MERCHANT", preferred: bool = False) -> dict[str, Any]:
        with self.lock:
            self.link_count += 1
            link = {"name": f"{location}/placeActionLinks/{self.link_count:04d}", "uri": uri,
                    "placeActionType": action, "providerType": provider,
                    "isEditable": provider == "MERCHANT", "isPreferred": preferred,
                    "createTime": "2026-01-01T00:00:00Z", "updateTime": "2026-01-01T00:00:00Z"}
            if preferred:
                self._unprefer(location, action)
            self.links.setdefault(location, []).append(link)
            return link

    # -- handlers ------------------------------------------------------------------------------
    def handle_profile(self, op: str, path: str, query: dict[str, str], multi: dict[str, list[str]],
                       body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        handler = {"perf.fetch": self._fetch_metrics, "kw.list": self._list_keywords,
                   "review.list": self._list_reviews, "review.get": self._get_review,
                   "review.reply": self._put_reply, "review.delete_reply": self._delete_reply,
                   "pal.list": self._list_links, "pal.get": self._get_link,
                   "pal.create": self._create_link, "pal.patch": self._patch_link,
                   "pal.delete": self._delete_link}.get(op)
        if handler is None:
            return 404, error_body(404, f"Method not found: {path}")
        return handler(path, query, multi, body)  # type: ignore[operator]

    def _known(self, name: str) -> bool:
        return name in self.locations

    def _fetch_metrics(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                       body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        name = path.removeprefix("v1/").removesuffix(":fetchMultiDailyMetricsTimeSeries")
        if not self._known(name):
            return 404, error_body(404, "Requested entity was not found.")
        wanted = multi.get("dailyMetrics", [])
        start, end = _day(query, "dailyRange.startDate"), _day(query, "dailyRange.endDate")
        if not wanted or any(m not in DAILY_METRICS for m in wanted) or not start or not end \
                or end < start:
            return 400, error_body(400, "Request contains an invalid argument.")
        out = []
        with self.lock:
            for metric in wanted:
                values = self.metrics.get((name, metric), {})
                dated = []
                d = start
                while d <= end:
                    if (name, d) not in self.unlisted:
                        entry: dict[str, Any] = {"date": _dateobj(d)}
                        v = values.get(d)
                        if v:  # proto3 JSON leaves zero out; so does a day not counted yet
                            entry["value"] = str(v)
                        if d in values or self.metric_days_default_blank:
                            dated.append(entry)
                    d += timedelta(days=1)
                out.append({"dailyMetric": metric, "timeSeries": {"datedValues": dated}})
        return 200, {"multiDailyMetricTimeSeries": [{"dailyMetricTimeSeries": out}]}

    def _list_keywords(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                       body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        name = path.removeprefix("v1/").removesuffix("/searchkeywords/impressions/monthly")
        if not self._known(name):
            return 404, error_body(404, "Requested entity was not found.")
        start, end = _day(query, "monthlyRange.startMonth"), _day(query, "monthlyRange.endMonth")
        if not start or not end or end < start:
            return 400, error_body(400, "Request contains an invalid argument.")
        months = []
        m = start.replace(day=1)
        while m <= end:
            months.append(f"{m.year:04d}-{m.month:02d}")
            m = (m + timedelta(days=32)).replace(day=1)
        with self.lock:
            rows = [r for month in months for r in self.keywords.get((name, month), [])]
        size = min(int(query.get("pageSize") or 100), 100, self.keyword_page_size)
        at = int(query.get("pageToken") or 0)
        page = rows[at:at + size]
        counts = []
        for kw, value, threshold in page:
            iv = {"value": str(value)} if value is not None else {"threshold": str(threshold)}
            counts.append({"searchKeyword": kw, "insightsValue": iv})
        out: dict[str, Any] = {"searchKeywordsCounts": counts} if counts else {}
        if at + size < len(rows):
            out["nextPageToken"] = str(at + size)
        return 200, out

    def _list_reviews(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                      body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        parent = path.removeprefix("v4/").removesuffix("/reviews")
        if parent.split("/locations/")[-1] not in {n.split("/")[-1] for n in self.locations}:
            return 404, error_body(404, "Requested entity was not found.")
        size = int(query.get("pageSize") or 50)
        if size > 50:
            return 400, error_body(400, "Request contains an invalid argument.")
        size = min(size, self.review_page_size)
        with self.lock:
            reviews = sorted(self.reviews.get(parent, []), key=lambda r: r["updateTime"],
                             reverse=True)
            at = int(query.get("pageToken") or 0)
            page = copy.deepcopy(reviews[at:at + size])
            stars = [list(STARS.values()).index(r["starRating"]) + 1 for r in reviews
                     if r["starRating"] in STARS.values()]
        out: dict[str, Any] = {"totalReviewCount": len(reviews)}
        if stars:
            out["averageRating"] = round(sum(stars) / len(stars), 1)
        if page:
            out["reviews"] = page
        if at + size < len(reviews):
            out["nextPageToken"] = str(at + size)
        return 200, out

    def _get_review(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                    body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        review = self.review(path.removeprefix("v4/"))
        if review is None:
            return 404, error_body(404, "Requested entity was not found.")
        return 200, copy.deepcopy(review)

    def _put_reply(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                   body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        review = self.review(path.removeprefix("v4/").removesuffix("/reply"))
        if review is None:
            return 404, error_body(404, "Requested entity was not found.")
        comment = body.get("comment") if isinstance(body, dict) else None
        if not isinstance(comment, str) or not comment.strip() \
                or len(comment.encode("utf-8")) > 4096:
            return 400, error_body(400, "Request contains an invalid argument.")
        with self.lock:
            self.review_clock += 1
            reply = {"comment": comment,
                     "updateTime": f"2026-11-20T12:{self.review_clock // 60:02d}:"
                                   f"{self.review_clock % 60:02d}Z"}
            review["reviewReply"] = reply
        return 200, copy.deepcopy(reply)

    def _delete_reply(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                      body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        review = self.review(path.removeprefix("v4/").removesuffix("/reply"))
        if review is None:
            return 404, error_body(404, "Requested entity was not found.")
        with self.lock:
            review.pop("reviewReply", None)
        return 200, {}

    # -- place action links ----------------------------------------------------------------------
    def _unprefer(self, location: str, action: str) -> None:
        for link in self.links.get(location, []):
            if link["placeActionType"] == action:
                link["isPreferred"] = False

    def _find_link(self, name: str) -> dict[str, Any] | None:
        location = name.split("/placeActionLinks/")[0]
        return next((x for x in self.links.get(location, []) if x["name"] == name), None)

    def _list_links(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                    body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        location = path.removeprefix("v1/").removesuffix("/placeActionLinks")
        if not self._known(location):
            return 404, error_body(404, "Requested entity was not found.")
        with self.lock:
            links = list(self.links.get(location, []))
        wanted = (query.get("filter") or "").removeprefix("place_action_type=")
        if wanted:
            links = [x for x in links if x["placeActionType"] == wanted]
        size = int(query.get("pageSize") or 10)
        at = int(query.get("pageToken") or 0)
        out: dict[str, Any] = {}
        if links[at:at + size]:
            out["placeActionLinks"] = copy.deepcopy(links[at:at + size])
        if at + size < len(links):
            out["nextPageToken"] = str(at + size)
        return 200, out

    def _get_link(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                  body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        link = self._find_link(path.removeprefix("v1/"))
        return (200, copy.deepcopy(link)) if link else \
            (404, error_body(404, "Requested entity was not found."))

    def _create_link(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        location = path.removeprefix("v1/").removesuffix("/placeActionLinks")
        if not self._known(location):
            return 404, error_body(404, "Requested entity was not found.")
        if not isinstance(body, dict) or body.get("placeActionType") not in ACTION_TYPES \
                or not str(body.get("uri", "")).startswith(("http://", "https://")):
            return 400, error_body(400, "Request contains an invalid argument.")
        with self.lock:
            for x in self.links.get(location, []):
                if x["uri"] == body["uri"] and x["placeActionType"] == body["placeActionType"]:
                    return 409, {"error": {"code": 409, "message": "Link already exists.",
                                           "status": "ALREADY_EXISTS"}}
            link = self.add_link(location, body["uri"], action=body["placeActionType"],
                                 preferred=bool(body.get("isPreferred")))
            return 200, copy.deepcopy(link)

    def _patch_link(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                    body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        with self.lock:
            link = self._find_link(path.removeprefix("v1/"))
            if link is None:
                return 404, error_body(404, "Requested entity was not found.")
            if not link["isEditable"]:
                return 403, error_body(403, "The link is not editable by the merchant.")
            mask = [p.strip() for p in (query.get("updateMask") or "").split(",") if p.strip()]
            allowed = {"uri", "placeActionType", "isPreferred", "place_action_type", "is_preferred"}
            if not mask or any(p not in allowed for p in mask) or not isinstance(body, dict):
                return 400, error_body(400, "Invalid field mask provided.")
            if "uri" in mask:
                link["uri"] = body.get("uri", link["uri"])
            if "isPreferred" in mask or "is_preferred" in mask:
                if body.get("isPreferred"):
                    self._unprefer(link["name"].split("/placeActionLinks/")[0],
                                   link["placeActionType"])
                link["isPreferred"] = bool(body.get("isPreferred"))
            link["updateTime"] = "2026-11-20T00:00:00Z"
            return 200, copy.deepcopy(link)

    def _delete_link(self, path: str, query: dict[str, str], multi: dict[str, list[str]],
                     body: Any) -> tuple[int, Any]:
        from .gbp import error_body
        name = path.removeprefix("v1/")
        with self.lock:
            link = self._find_link(name)
            if link is None:
                return 404, error_body(404, "Requested entity was not found.")
            if not link["isEditable"]:
                return 403, error_body(403, "The link is not editable by the merchant.")
            location = name.split("/placeActionLinks/")[0]
            self.links[location] = [x for x in self.links[location] if x["name"] != name]
        return 200, {}
