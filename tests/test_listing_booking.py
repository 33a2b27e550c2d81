"""booking_link: the clinic's booking URL as the preferred APPOINTMENT link, through Place Actions v1
(the real google-api-python-client against the local server): plan, apply, verify, drift,
rollback, aggregator links left alone, a lost answer, stale plans, the edit limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from listing_support import NAME, TODAY, booking_uri
from servers.gbp import GbpServer

from seo.api import Project
from seo.errors import UserError
from seo.listing import api
from seo.listing.client import GbpClient
from seo.listing.plan import render_plan

pytest_plugins = ["listing_fixtures"]  # fixtures: gbp, root, project, client, clock

AGGREGATOR = "https://booking-platform.example/clinic/123?src=gbp"


def links(gbp: GbpServer) -> list[tuple[str, str, bool]]:
    return [(x["uri"], x["providerType"], x["isPreferred"]) for x in gbp.links.get(NAME, [])]


def test_uri_is_utm_tagged(project: Project) -> None:
    assert booking_uri(project) == ("https://clinic.test/book/?utm_source=google&utm_medium=organic"
                                    "&utm_campaign=gbp-booking")


def test_missing_link_is_created_preferred_and_verified(project: Project, client: GbpClient,
                                                        gbp: GbpServer) -> None:
    gbp.links.clear()
    plan = api.plan_listing(project, client=client, today=TODAY).plan
    lp = plan.locations[0]
    assert [c.field for c in lp.changes] == ["phone", "hours", "booking_link"]
    assert lp.update_mask == "phoneNumbers.primaryPhone,regularHours"  # not a v1 field
    text = render_plan(plan)
    assert f"  ~ booking_link\n      - (no preferred link)\n      + preferred: {booking_uri(project)}" \
        in text
    _, result = api.apply_listing(project, client=client, today=TODAY)
    assert result.pushed[0].fields == ["phone", "hours", "booking_link"]
    assert result.pushed[0].status == "verified"
    assert links(gbp) == [(booking_uri(project), "MERCHANT", True)]
    assert len(gbp.ops("pal.create")) == 1
    again = api.plan_listing(project, client=client, today=TODAY).plan.locations[0]
    assert not again.changes and "booking_link" in again.unchanged


def test_aggregator_links_reported_never_touched(project: Project, client: GbpClient,
                                                 gbp: GbpServer) -> None:
    gbp.links.clear()
    gbp.add_link(NAME, AGGREGATOR, provider="AGGREGATOR_3P", preferred=True)
    gbp.add_link(NAME, "https://other-platform.example/x", provider="AGGREGATOR_3P")
    plan = api.plan_listing(project, client=client, today=TODAY).plan
    text = render_plan(plan)
    assert f"note: booking_link: aggregator link {AGGREGATOR} (preferred now): not ours, left " \
           "alone" in text
    assert f"      - preferred: {AGGREGATOR} (aggregator's link)" in text
    api.apply_listing(project, client=client, today=TODAY)
    touched = [e.path for e in gbp.log if e.op in ("pal.patch", "pal.delete")]
    assert touched == []  # only a create of our own link
    assert (AGGREGATOR, "AGGREGATOR_3P", False) in links(gbp)  # Google moved the preference
    assert (booking_uri(project), "MERCHANT", True) in links(gbp)
    assert len(links(gbp)) == 3


def test_our_existing_link_is_made_preferred(project: Project, client: GbpClient,
                                             gbp: GbpServer) -> None:
    gbp.links.clear()
    gbp.add_link(NAME, booking_uri(project))  # ours, not preferred
    api.apply_listing(project, client=client, today=TODAY)
    assert [e.query["updateMask"] for e in gbp.ops("pal.patch")] == ["isPreferred"]
    assert links(gbp) == [(booking_uri(project), "MERCHANT", True)]
    assert not gbp.ops("pal.create")


def test_merchants_preferred_link_is_repointed(project: Project, client: GbpClient,
                                               gbp: GbpServer) -> None:
    gbp.links.clear()
    gbp.add_link(NAME, "https://old-booking.example/clinic", preferred=True)  # staff's old URL
    api.apply_listing(project, client=client, today=TODAY)
    assert [e.query["updateMask"] for e in gbp.ops("pal.patch")] == ["uri,isPreferred"]
    assert links(gbp) == [(booking_uri(project), "MERCHANT", True)]
    assert not gbp.ops("pal.create")


def test_rollback_deletes_only_what_the_tool_made(project: Project, client: GbpClient,
                                                  gbp: GbpServer) -> None:
    gbp.links.clear()
    gbp.add_link(NAME, "https://old-booking.example/clinic")  # the merchant's, not preferred
    gbp.add_link(NAME, AGGREGATOR, provider="AGGREGATOR_3P", preferred=True)
    _, applied = api.apply_listing(project, client=client, today=TODAY)
    assert len(links(gbp)) == 3
    result = api.rollback_listing(project, to_run=applied.run_id, client=client)
    assert "booking_link" in result.pushed[0].fields and result.pushed[0].status == "verified"
    assert links(gbp) == [("https://old-booking.example/clinic", "MERCHANT", False),
                          (AGGREGATOR, "AGGREGATOR_3P", False)]
    assert len(gbp.ops("pal.delete")) == 1 and not gbp.ops("pal.patch")
    again = api.rollback_listing(project, to_run=applied.run_id, client=client)
    assert not again.pushed  # nothing left to undo


def test_drift_after_our_link_was_set(root: Path, project: Project, client: GbpClient,
                                      gbp: GbpServer) -> None:
    gbp.links.clear()
    api.apply_listing(project, client=client, today=TODAY)
    # someone makes an aggregator's link preferred in the Business Profile
    gbp.add_link(NAME, AGGREGATOR, provider="AGGREGATOR_3P", preferred=True)
    found = api.detect_drift(project, client=client, today=TODAY)[0]
    drifted = {d.field: d for d in found.drifted}
    assert drifted["booking_link"].google == [f"preferred: {AGGREGATOR} (aggregator's link)"]
    assert drifted["booking_link"].policy == "report"
    lp = api.plan_listing(project, client=client, today=TODAY).plan.locations[0]
    assert not lp.changes and [h.field for h in lp.held] == ["booking_link"]
    site = root / "config/site.yaml"
    site.write_text(site.read_text() + "    drift: {booking_link: restore}\n")
    restored = Project.open(root)
    lp = api.plan_listing(restored, client=client, today=TODAY).plan.locations[0]
    assert [(c.field, c.reason) for c in lp.changes] == [("booking_link", "restore")]
    api.apply_listing(restored, client=client, today=TODAY)
    assert (booking_uri(project), "MERCHANT", True) in links(gbp)


def test_lost_answer_on_create_makes_one_link(project: Project, client: GbpClient,
                                              gbp: GbpServer) -> None:
    gbp.links.clear()
    gbp.fault("pal.create", drop=True)  # Google makes the link; the answer never arrives
    _, result = api.apply_listing(project, client=client, today=TODAY)
    # httplib2 silently sends the POST again: Google refuses the duplicate (409); we adopt ours
    assert len(gbp.ops("pal.create")) == 2 and result.pushed[0].status == "verified"
    assert links(gbp) == [(booking_uri(project), "MERCHANT", True)]
    assert len(api.plan_listing(project, client=client, today=TODAY).plan.locations[0].unchanged) \
        == 12


def test_stale_plan_when_links_changed(project: Project, client: GbpClient, gbp: GbpServer,
                                       tmp_path: Path) -> None:
    gbp.links.clear()
    out = tmp_path / "plan.json"
    api.plan_listing(project, client=client, out=out, today=TODAY)
    gbp.add_link(NAME, AGGREGATOR, provider="AGGREGATOR_3P")
    with pytest.raises(UserError, match="stale plan"):
        api.apply_listing(project, plan_file=out, client=client, today=TODAY)
    assert not gbp.ops("pal.create")


def test_link_writes_count_against_the_edit_limit(project: Project, client: GbpClient,
                                                  gbp: GbpServer,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    gbp.links.clear()
    taken: list[str] = []
    real = client.limiter.acquire

    def acquire(key: str) -> None:
        taken.append(key)
        real(key)

    monkeypatch.setattr(client.limiter, "acquire", acquire)
    api.apply_listing(project, client=client, today=TODAY)
    edits = [e.op for e in gbp.log if e.op in ("patch", "pal.create")]
    assert edits == ["patch", "patch", "pal.create"]  # validateOnly patch, patch, create
    assert taken == [NAME, NAME, NAME]  # every one took a slot of the profile's edit limit


def test_tampered_plan_is_one_line(project: Project, client: GbpClient, gbp: GbpServer,
                                   tmp_path: Path) -> None:
    gbp.links.clear()
    out = tmp_path / "plan.json"
    api.plan_listing(project, client=client, out=out, today=TODAY)
    out.write_text(out.read_text().replace('"op": "create"', '"op": "create", "evil": 1'))
    with pytest.raises(UserError, match="not a listing plan"):
        api.apply_listing(project, plan_file=out, client=client, today=TODAY)
    assert not gbp.ops("pal.create")
