"""The incident engine on a real store and a frozen clock: one message when an incident opens,
reminders at most every N hours, one when it resolves; confirmation runs, acknowledgement, and
what a check that errs (or is turned off) does to its incidents."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from alerts_support import FrozenClock, found, write_alerts

from seo.alerts.api import ack
from seo.alerts.incidents import live_incidents, reconcile
from seo.alerts.model import CheckResult, utc_naive
from seo.errors import UserError
from seo.tables import alert_deliveries, alert_events, alert_incidents

CHAT = {"type": "slack", "url_env": "SEO_TEST_SLACK_URL"}


def run(project, clock, *results):
    from seo.alerts.api import settings_of
    return [(c.kind, c.key) for c in reconcile(project.store, list(results), settings_of(project),
                                               utc_naive(clock()))]


def events(project):
    with project.store.engine.connect() as conn:
        return [(r.kind, r.title) for r in conn.execute(sa.select(alert_events).order_by(alert_events.c.id))]


def test_opens_once_reminds_at_most_every_n_hours_and_resolves_once(mini):
    project = write_alerts(mini, {"chat": CHAT}, reminder_hours=4)
    clock = FrozenClock()
    assert run(project, clock, found("site_down", "home")) == [("opened", "site_down:home")]
    for _ in range(7):  # every half hour up to 3.5 h
        clock.advance(minutes=30)
        assert run(project, clock, found("site_down", "home")) == []
    clock.advance(minutes=29)
    assert run(project, clock, found("site_down", "home")) == []
    clock.advance(minutes=1)  # 4 h after it opened
    assert run(project, clock, found("site_down", "home")) == [("reminder", "site_down:home")]
    clock.advance(hours=3)
    assert run(project, clock, found("site_down", "home")) == []
    clock.advance(hours=1)
    assert run(project, clock, found("site_down", "home")) == [("reminder", "site_down:home")]
    clock.advance(minutes=30)
    assert run(project, clock, found("site_down")) == [("resolved", "site_down:home")]
    for _ in range(3):
        clock.advance(hours=5)
        assert run(project, clock, found("site_down")) == []
    assert [k for k, _ in events(project)] == ["opened", "reminder", "reminder", "resolved"]
    with project.store.engine.connect() as conn:
        rows = conn.execute(sa.select(alert_deliveries.c.channel, alert_deliveries.c.key)).all()
        inc = conn.execute(sa.select(alert_incidents)).one()
    assert [r.channel for r in rows] == ["chat"] * 4 and len({r.key for r in rows}) == 4
    assert inc.status == "resolved" and inc.reminders == 2 and inc.resolution == "no longer found"
    # the same key failing again later is a new incident, announced again
    clock.advance(hours=1)
    assert run(project, clock, found("site_down", "home")) == [("opened", "site_down:home")]
    assert len(live_incidents(project.store)) == 1


def test_confirm_runs_waits_and_a_blip_is_never_announced(mini):
    project = write_alerts(mini, {"chat": CHAT}, conditions={"job_failed": {"confirm_runs": 3}})
    clock = FrozenClock()
    assert run(project, clock, found("job_failed", "weekly")) == []
    (pending,) = live_incidents(project.store)
    assert pending.status == "pending" and pending.seen_runs == 1
    clock.advance(minutes=30)
    assert run(project, clock, found("job_failed")) == []  # gone before it was confirmed
    assert live_incidents(project.store) == [] and events(project) == []
    for n in range(3):
        clock.advance(minutes=30)
        got = run(project, clock, found("job_failed", "weekly"))
        assert got == ([("opened", "job_failed:weekly")] if n == 2 else [])


def test_a_check_that_errs_leaves_its_incidents_alone_unavailable_or_off_resolves(mini):
    project = write_alerts(mini, {"chat": CHAT})
    clock = FrozenClock()
    run(project, clock, found("listing_drift", "main:phone"), found("serp_budget", "dataforseo:2026-11"))
    for _ in range(4):
        clock.advance(hours=1)
        assert run(project, clock, CheckResult("listing_drift", "error", message="Google 503"),
                   found("serp_budget", "dataforseo:2026-11")) == []
    assert {i.key for i in live_incidents(project.store)} == {"listing_drift:main:phone",
                                                             "serp_budget:dataforseo:2026-11"}
    clock.advance(hours=1)
    got = run(project, clock, CheckResult("listing_drift", "unavailable", message="integrations.gbp is gone"),
              CheckResult("serp_budget", "off"))
    assert sorted(got) == [("resolved", "listing_drift:main:phone"),
                           ("resolved", "serp_budget:dataforseo:2026-11")]
    with project.store.engine.connect() as conn:
        why = dict(conn.execute(sa.select(alert_incidents.c.key, alert_incidents.c.resolution)).all())
    assert why == {"listing_drift:main:phone": "no longer checked: integrations.gbp is gone",
                   "serp_budget:dataforseo:2026-11": "no longer checked: the condition was turned off"}


def test_ack_stops_reminders_not_the_resolution(mini):
    project = write_alerts(mini, {"chat": CHAT}, reminder_hours=1)
    clock = FrozenClock()
    run(project, clock, found("listing_drift", "main:phone", "main:website"))
    with pytest.raises(UserError, match="matches 2 open incidents"):
        ack(project, "listing_drift:main", "pat", clock())
    with pytest.raises(UserError, match="no open incident 'nope'"):
        ack(project, "nope", "pat", clock())
    inc, now = ack(project, "listing_drift:main:ph", "pat", clock())
    assert now and inc.key == "listing_drift:main:phone" and inc.acked_by == "pat"
    assert ack(project, "listing_drift:main:phone", "sam", clock())[1] is False
    clock.advance(hours=2)
    assert run(project, clock, found("listing_drift", "main:phone", "main:website")) == [
        ("reminder", "listing_drift:main:website")]
    clock.advance(hours=1)
    assert sorted(run(project, clock, found("listing_drift", "main:website"))) == [
        ("reminder", "listing_drift:main:website"), ("resolved", "listing_drift:main:phone")]


def test_channels_take_only_their_conditions(mini):
    project = write_alerts(mini, {"chat": CHAT, "ops": {**CHAT, "conditions": ["job_failed"]}})
    clock = FrozenClock()
    run(project, clock, found("listing_drift", "main:phone"), found("job_failed", "weekly"))
    with project.store.engine.connect() as conn:
        rows = conn.execute(sa.select(alert_events.c.title, alert_deliveries.c.channel)
                            .join(alert_deliveries, alert_deliveries.c.event_id == alert_events.c.id)
                            .order_by(alert_deliveries.c.id)).all()
    assert sorted((t.split()[0], c) for t, c in rows) == [("job_failed", "chat"), ("job_failed", "ops"),
                                                          ("listing_drift", "chat")]


def test_outside_text_is_stored_as_one_clean_bounded_line(mini):
    project = write_alerts(mini, {"chat": CHAT})
    clock = FrozenClock()
    res = found("listing_drift", "main:phone",
                title="Phone \x1b[31mred\x1b[0m\r\nBcc: x\u202e password=hunter22 " + "y" * 500)
    run(project, clock, res)
    (inc,) = live_incidents(project.store)
    assert "\x1b" not in inc.title and "\n" not in inc.title and "\u202e" not in inc.title
    assert len(inc.title) <= 300 and inc.title.startswith("Phone red Bcc: x password=[redacted] yyy")
    assert json.loads(json.dumps(inc.detail)) == ["detail main:phone"]


def test_the_store_allows_one_live_incident_per_key(mini):
    project = write_alerts(mini, {})
    clock = FrozenClock()
    run(project, clock, found("site_down", "home"))
    row = dict(key="site_down:home", condition="site_down", severity="critical", status="open", title="x",
               detail="[]", data="{}", seen_runs=1, first_seen=utc_naive(clock()),
               last_seen=utc_naive(clock()), reminders=0, acked_by="", resolution="")
    with pytest.raises(sa.exc.IntegrityError), project.store.begin() as conn:
        conn.execute(alert_incidents.insert().values(**row))
    with project.store.begin() as conn:  # a resolved one beside it is fine
        conn.execute(alert_incidents.insert().values(**{**row, "status": "resolved"}))
