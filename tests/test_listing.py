"""Listing sync against a local Business Profile server, with the real google-api-python-client and
google-auth: plan, apply, stale plans, rollback, drift, errors, token refresh, the edit rate."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from conftest import run_seo
from listing_support import NAME, TODAY, FakeClock, booking_uri
from servers.gbp import GbpServer

from seo.api import Project
from seo.errors import ExternalError, UserError
from seo.listing import api
from seo.listing.client import GbpClient, connect
from seo.listing.desired import READ_MASK, desired_state
from seo.listing.plan import render_plan
from seo.tables import listing_changes

pytest_plugins = ["listing_fixtures"]  # fixtures: gbp, root, project, client, clock


def cli(*args: str) -> Any:
    """The real CLI in-process (fast); one test per module runs it as a subprocess."""
    from seo.cli import main
    return CliRunner().invoke(main, list(args))


def patches(server: GbpServer) -> list[tuple[str, str]]:
    return [(e.query.get("updateMask", ""), e.query.get("validateOnly", "false"))
            for e in server.ops("patch")]


def test_plan_shows_changed_fields_and_saves(project: Project, client: GbpClient, gbp: GbpServer,
                                             tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    result = api.plan_listing(project, client=client, out=out, today=TODAY)
    lp = result.plan.locations[0]
    assert [c.field for c in lp.changes] == ["phone", "hours"]
    assert lp.update_mask == "phoneNumbers.primaryPhone,regularHours"
    text = render_plan(result.plan, str(out))
    assert "  ~ phone\n      - +13035550199\n      + +13035550100" in text
    assert "      - Monday 09:00-16:30\n      + Monday 09:00-17:00" in text
    assert "Plan: 2 fields to change at 1 location." in text
    assert json.loads(out.read_text())["locations"][0]["update_mask"] == lp.update_mask
    assert not gbp.ops("patch")  # planning never writes
    assert gbp.ops("get")[0].query["readMask"] == READ_MASK


def test_apply_validates_first_sends_exact_mask_verifies_and_logs(
        project: Project, client: GbpClient, gbp: GbpServer) -> None:
    before = copy.deepcopy(gbp.locations[NAME])
    _, result = api.apply_listing(project, client=client, today=TODAY)
    mask = "phoneNumbers.primaryPhone,regularHours"
    assert patches(gbp) == [(mask, "true"), (mask, "false")]
    assert [p.status for p in result.pushed] == ["verified"]
    live = gbp.locations[NAME]
    assert live["phoneNumbers"] == {"primaryPhone": "+1-303-555-0100",
                                    "additionalPhones": ["(303) 555-0111"]}  # untouched
    assert live["title"] == before["title"]
    with project.store.engine.connect() as conn:
        row = conn.execute(sa.select(listing_changes)).one()
    assert row.fields == "phone,hours" and row.update_mask == mask and row.status == "verified"
    assert json.loads(row.before)["phoneNumbers"]["primaryPhone"] == "(303) 555-0199"
    assert json.loads(row.after)["phoneNumbers"]["primaryPhone"] == "+1-303-555-0100"
    again = api.plan_listing(project, client=client, today=TODAY)
    assert again.plan.change_count == 0


def test_stale_plan_is_refused(project: Project, client: GbpClient, gbp: GbpServer,
                               tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    api.plan_listing(project, client=client, out=out, today=TODAY)
    gbp.locations[NAME]["title"] = "Someone Else's Edit"
    with pytest.raises(UserError, match="stale plan"):
        api.apply_listing(project, plan_file=out, client=client)
    assert not gbp.ops("patch")


def test_saved_plan_applies(project: Project, client: GbpClient, gbp: GbpServer,
                            tmp_path: Path) -> None:
    out = tmp_path / "plan.json"
    api.plan_listing(project, client=client, out=out, today=TODAY)
    _, result = api.apply_listing(project, plan_file=out, client=client)
    assert result.pushed[0].fields == ["phone", "hours"]
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(UserError, match="not a listing plan"):
        api.apply_listing(project, plan_file=bad, client=client)


def test_rollback_restores_exactly(project: Project, client: GbpClient, gbp: GbpServer,
                                   root: Path) -> None:
    original = copy.deepcopy(gbp.locations[NAME])
    _, first = api.apply_listing(project, client=client, today=TODAY)
    site = root / "config/site.yaml"
    site.write_text(site.read_text().replace('telephone: "+1-303-555-0100"\n    gbp_location',
                                             'telephone: "+1-303-555-0177"\n    gbp_location'))
    site.write_text(site.read_text().replace("name: Example Acupuncture\n  type",
                                             "name: Example Acupuncture Studio\n  type"))
    project2 = Project.open(root)
    _, second = api.apply_listing(project2, client=client, today=TODAY)
    assert second.pushed[0].fields == ["title", "phone", "description"]  # name is in it
    assert gbp.locations[NAME] != original
    result = api.rollback_listing(project2, to_run=first.run_id, client=client)
    assert sorted(result.pushed[0].fields) == ["description", "hours", "phone", "title"]
    assert gbp.locations[NAME] == original  # byte for byte, metadata and other phones included
    # rolling back the latest apply only (the default) undoes the second run alone
    api.apply_listing(project2, client=client, today=TODAY)
    api.rollback_listing(project2, client=client)
    assert gbp.locations[NAME]["phoneNumbers"]["primaryPhone"] == "(303) 555-0199"
    with pytest.raises(UserError, match="not a logged listing apply"):
        api.rollback_listing(project2, to_run=999, client=client)


def test_drift_found_and_restored(root: Path, gbp: GbpServer, clock: FakeClock) -> None:
    site = root / "config/site.yaml"
    site.write_text(site.read_text() + "    drift: {phone: restore, title: accept}\n")
    project = Project.open(root)
    gbp.add_location(NAME, desired_state(project.site, project.site.config.integrations.gbp,
                                         TODAY)[0].data)
    gbp.add_link(NAME, booking_uri(project), preferred=True)
    client = connect(project.site.config.integrations.gbp, clock=clock.now, sleep=clock.sleep)
    assert api.plan_listing(project, client=client, today=TODAY).plan.change_count == 0
    # a member of the public suggests a new phone number and Google publishes it
    gbp.google_edit(NAME, "phoneNumbers.primaryPhone", "+1 303-555-0999")
    gbp.google_edit(NAME, "title", "Example Acupuncture - Best Acupuncturist Alpha")
    gbp.google_edit(NAME, "profile.description", "Google's own words.")
    found = api.detect_drift(project, client=client, today=TODAY)[0]
    by = {d.field: d for d in found.drifted}
    assert set(by) == {"phone", "title", "description"}
    assert by["phone"].policy == "restore" and by["phone"].google == ["+13035550999"]
    assert by["description"].policy == "report"
    assert "set business.name in config/site.yaml to Example Acupuncture - Best" in by["title"].hint
    plan = api.plan_listing(project, client=client, today=TODAY).plan
    lp = plan.locations[0]
    assert [(c.field, c.reason) for c in lp.changes] == [("phone", "restore")]
    assert {h.field for h in lp.held} == {"title", "description"}
    api.apply_listing(project, client=client, today=TODAY)
    assert patches(gbp)[-1] == ("phoneNumbers.primaryPhone", "false")
    after = api.detect_drift(project, client=client, today=TODAY)[0]
    assert "phone" not in {d.field for d in after.drifted}
    assert {d.field for d in after.drifted} == {"title", "description"}


def test_pending_edits_reported(project: Project, client: GbpClient, gbp: GbpServer) -> None:
    gbp.pending_on_patch = True
    api.apply_listing(project, client=client, today=TODAY)
    found = api.detect_drift(project, client=client, today=TODAY)[0]
    assert found.pending == ["phone", "hours"]


def test_burst_of_edits_stays_under_ten_a_minute(project: Project, client: GbpClient,
                                                 gbp: GbpServer, clock: FakeClock) -> None:
    started = time.monotonic()
    body = {"title": "x"}
    for n in range(25):
        client.patch_location(NAME, {**body, "title": f"Title {n}"}, "title")
    stamps = [e.at for e in gbp.ops("patch")]
    assert len(stamps) == 25
    for i, t in enumerate(stamps):
        assert sum(1 for s in stamps[i:] if s < t + 60) <= 10
    assert stamps[-1] - stamps[0] >= 120  # 25 edits need at least two more minutes
    assert time.monotonic() - started < 10  # never real waiting


def test_token_refresh_and_bearer(project: Project, client: GbpClient, gbp: GbpServer) -> None:
    client.get_location(NAME, READ_MASK)
    assert gbp.token_count == 1
    gbp.expire_tokens()
    client.get_location(NAME, READ_MASK)  # 401 -> google-auth refreshes -> retried
    assert gbp.token_count == 2
    assert len(gbp.ops("token")) == 2


@pytest.mark.parametrize("status,kw,pattern", [
    (400, {}, r"Google rejected the field mask \(400\)"),
    (403, {}, r"permission denied \(403\).*own or manage"),
    (404, {}, r"not found \(404\); check gbp_location"),
    (429, {"zero_quota": True, "times": None}, r"^Google Business Profile API quota is 0 .*Basic API"),
    (500, {"times": None}, r"Google server error \(500\)"),
])
def test_errors_are_one_clear_line(project: Project, client: GbpClient, gbp: GbpServer,
                                   status: int, kw: dict, pattern: str) -> None:
    gbp.fault("get", status, **kw)
    with pytest.raises(ExternalError, match=pattern) as info:
        api.plan_listing(project, client=client, today=TODAY)
    assert "\n" not in str(info.value)
    expected = {429: 1, 500: 3}.get(status, 1)  # zero quota: no retry storm; 5xx: retries=2
    assert len(gbp.ops("get")) == expected


def test_transient_errors_are_retried(project: Project, client: GbpClient, gbp: GbpServer,
                                      clock: FakeClock) -> None:
    gbp.fault("get", 503)
    gbp.fault("google_updated", 429)  # quota left: a plain rate limit, retried
    gbp.fault("get", drop=True)  # idempotent read: httplib2's own retry covers a dropped answer
    result = api.plan_listing(project, client=client, today=TODAY)
    assert result.plan.change_count == 2
    assert clock.slept  # backoff on the injected clock


def test_malformed_answer(project: Project, client: GbpClient, gbp: GbpServer) -> None:
    gbp.fault("get", garbage=True, times=None)
    with pytest.raises(ExternalError, match="malformed answer"):
        client.get_location(NAME, READ_MASK)


def test_description_rules(project: Project, root: Path) -> None:
    settings = project.site.config.integrations.gbp
    (root / "templates").mkdir(exist_ok=True)
    tpl = root / "templates/gbp_description.txt.j2"
    tpl.write_text("Visit https://clinic.test/ today.")
    with pytest.raises(UserError, match="contains a link"):
        desired_state(Project.open(root).site, settings, TODAY)
    tpl.write_text("Call 303-555-0100 today.")
    with pytest.raises(UserError, match="phone number"):
        desired_state(Project.open(root).site, settings, TODAY)
    tpl.write_text("word " * 200)
    with pytest.raises(UserError, match="999 characters; Google allows 750"):
        desired_state(Project.open(root).site, settings, TODAY)


def test_desired_state(project: Project) -> None:
    d = desired_state(project.site, project.site.config.integrations.gbp, TODAY)[0]
    data = d.data
    assert data["title"] == "Example Acupuncture"
    assert data["websiteUri"] == ("https://clinic.test/?utm_source=google&utm_medium=organic&"
                                  "utm_campaign=gbp-listing")
    assert data["specialHours"] == {"specialHourPeriods": [
        {"startDate": {"year": 2026, "month": 12, "day": 25}, "closed": True}]}  # past ones dropped
    assert [p["placeId"] for p in data["serviceArea"]["places"]["placeInfos"]] == [
        "ChIJalpha", "ChIJbeta"]
    assert len(data["serviceItems"]) == len(project.site.conditions)
    assert len(data["profile"]["description"]) <= 750
    assert data["categories"]["primaryCategory"]["name"] == "categories/gcid:acupuncturist"


def test_cli_plan_apply_drift(root: Path, gbp: GbpServer) -> None:
    gbp.add_location(NAME, {"title": "Old Name", "phoneNumbers": {"primaryPhone": "+1 303 555 0100"}})
    proc = cli("listing", "plan", "--root", str(root))
    assert proc.exit_code == 0, proc.stderr
    assert "~ title\n      - Old Name\n      + Example Acupuncture" in proc.stdout
    assert "Saved to build/listing-plan.json" in proc.stdout
    assert "ya29" not in proc.stdout + proc.stderr  # no token in output
    proc = cli("listing", "apply", "--root", str(root), "--plan",
                   str(root / "build/listing-plan.json"))
    assert proc.exit_code == 0, proc.stderr
    assert "applied main (locations/111): title," in proc.stdout
    gbp.google_edit(NAME, "phoneNumbers.primaryPhone", "+1 303-555-0999")
    proc = cli("listing", "drift", "--root", str(root))
    assert proc.exit_code == 0, proc.stderr
    assert "! phone (policy report)\n      google: +13035550999\n      ours:   +13035550100" \
        in proc.stdout
    proc = cli("listing", "rollback", "--root", str(root))
    assert proc.exit_code == 0, proc.stderr
    assert gbp.locations[NAME]["title"] == "Old Name"


def test_cli_zero_quota_one_line(root: Path, gbp: GbpServer) -> None:
    gbp.add_location(NAME, {"title": "x"})
    gbp.fault("get", 429, zero_quota=True, times=None)
    proc = run_seo("listing", "plan", "--root", str(root))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Google Business Profile API quota is 0")
    assert len(gbp.ops("get")) == 1


def test_cli_apply_refuses_examples(clinic: Path, gbp: GbpServer) -> None:
    site = clinic / "config/site.yaml"
    site.write_text(site.read_text().replace("integrations: {}\n", "") +
                    f"integrations:\n  gbp: {{endpoints: {{business_information: '{gbp.url}'}}}}\n")
    proc = cli("listing", "apply", "--root", str(clinic))
    assert proc.exit_code == 2
    assert proc.stderr.startswith("error: listing apply refused:") and "example values" in proc.stderr
    assert not gbp.log


def test_cli_not_configured(mini: Path) -> None:
    proc = cli("listing", "plan", "--root", str(mini))
    assert proc.exit_code == 3
    assert proc.stderr.strip() == ("not configured: integrations.gbp is not set in config/site.yaml "
                                   "(see README, Google Business Profile)")


def test_cli_bad_config(root: Path) -> None:
    site = root / "config/site.yaml"
    site.write_text(site.read_text() + "    drift: {fone: restore}\n")
    proc = cli("listing", "plan", "--root", str(root))
    assert proc.exit_code == 2
    assert "integrations.gbp.drift" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_every_listing_command_has_help() -> None:
    from seo.cli import main
    for name, cmd in main.commands["listing"].commands.items():  # type: ignore[attr-defined]
        assert cmd.help, name


def test_several_locations(root: Path, gbp: GbpServer, clock: FakeClock) -> None:
    site = root / "config/site.yaml"
    text = site.read_text().replace("site:\n  output", (
        "  - id: east\n    name: Example Acupuncture\n"
        "    address: {street: 9 East Road, locality: Beta Springs, region: CO, postal_code: '80001'}\n"
        "    geo: {lat: 39.70, lng: -104.94}\n    telephone: '+1-303-555-0200'\n"
        "    gbp_location: locations/222\n"
        "    hours:\n      - {days: [Tu, Th], opens: '10:00', closes: '19:00'}\n"
        "site:\n  output"), 1)
    site.write_text(text)
    towns = root / "config/towns.yaml"
    t = towns.read_text()
    head, tail = t.split("  - name: Beta Springs", 1)
    towns.write_text(head + "  - name: Beta Springs" + tail.replace("served_by: main", "served_by: east"))
    project = Project.open(root)
    settings = project.site.config.integrations.gbp
    wanted = {d.gbp_name: d for d in desired_state(project.site, settings, TODAY)}
    assert sorted(wanted) == [NAME, "locations/222"]
    east = wanted["locations/222"].data
    assert east["phoneNumbers"] == {"primaryPhone": "+1-303-555-0200"}
    assert east["websiteUri"].endswith("&utm_content=east")
    assert [p["placeId"] for p in east["serviceArea"]["places"]["placeInfos"]] == ["ChIJbeta"]
    assert "Beta Springs" in east["profile"]["description"]
    for name, d in wanted.items():
        gbp.add_location(name, {**d.data, "title": "Old"})
        gbp.add_link(name, d.booking_uri, preferred=True)
    client = connect(settings, clock=clock.now, sleep=clock.sleep)
    plan = api.plan_listing(project, client=client, today=TODAY).plan
    assert [(lp.location, [c.field for c in lp.changes]) for lp in plan.locations] == [
        ("main", ["title"]), ("east", ["title"])]
    api.apply_listing(project, client=client, today=TODAY)
    assert {gbp.locations[n]["title"] for n in wanted} == {"Example Acupuncture"}
