"""Helpers for the listing tests (fixtures: listing_fixtures.py): a fixture site without example
values pointing at the local GBP server, real stored credentials, a fake clock."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from servers.gbp import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, GbpServer

from seo.api import Project
from seo.listing.desired import desired_state

TODAY = date(2026, 11, 2)  # a Monday
NAME = "locations/111"
ACCOUNT = "accounts/42"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds


def gbp_block(server: GbpServer, extra: str = "") -> str:
    return (f"integrations:\n  gbp:\n    account: {ACCOUNT}\n"
            f"    endpoints: {{business_information: '{server.url}', v4: '{server.v4_url}', "
            f"performance: '{server.url}', place_actions: '{server.url}', "
            f"token_uri: '{server.token_uri}'}}\n" + extra)


def configure(root: Path, server: GbpServer, extra: str = "") -> None:
    site = root / "config/site.yaml"
    text = site.read_text()
    old = '    telephone: "+1-303-555-0100"\n    hours:'
    assert old in text
    text = text.replace(old, f'    telephone: "+1-303-555-0100"\n    gbp_location: {NAME}\n'
                             "    special_hours:\n"
                             "      - {date: 2026-12-25, closed: true, name: Christmas Day}\n"
                             "      - {date: 2026-01-01, closed: true, name: past}\n    hours:")
    site.write_text(text + gbp_block(server, extra))
    towns = root / "config/towns.yaml"
    t = towns.read_text()
    t = t.replace("    served_by: main\n", "    served_by: main\n    place_id: ChIJ{slug}\n")
    t = t.replace("ChIJ{slug}", "ChIJalpha", 1).replace("ChIJ{slug}", "ChIJbeta", 1)
    towns.write_text(t)


def write_token(path: Path, server: GbpServer) -> None:
    path.write_text(json.dumps({
        "refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "token_uri": "https://oauth2.googleapis.com/token",  # replaced by the configured one
        "scopes": ["https://www.googleapis.com/auth/business.manage"]}))


def live_location(project: Project) -> dict[str, Any]:
    """What the profile holds before the first sync: config's listing, with an old phone and hours."""
    settings = project.site.config.integrations.gbp
    assert settings is not None
    data = copy.deepcopy(desired_state(project.site, settings, TODAY)[0].data)
    data["phoneNumbers"] = {"primaryPhone": "(303) 555-0199", "additionalPhones": ["(303) 555-0111"]}
    data["regularHours"]["periods"][0]["closeTime"] = {"hours": 16, "minutes": 30}
    data["metadata"] = {"placeId": "ChIJclinic", "mapsUri": "https://maps.google.com/?cid=1"}
    return data


def booking_uri(project: Project) -> str:
    """The booking link config asks for (the profile's preferred APPOINTMENT link)."""
    settings = project.site.config.integrations.gbp
    assert settings is not None
    return desired_state(project.site, settings, TODAY)[0].booking_uri
