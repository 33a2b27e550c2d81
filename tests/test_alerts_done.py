"""The issue's "done" scenario, end to end with real parts: someone changes the profile's phone
number on the (local) Business Profile server; one `seo run watch` later the marketing inbox
(aiosmtpd) and the team's chat (a local Slack-style webhook) each have one alert; one reminder
after reminder_hours; `seo listing apply` puts our number back; one "resolved"; nothing more."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import yaml
from alerts_support import FrozenClock, write_alerts
from conftest import run_seo
from listing_support import NAME
from report_support import PASSWORD, USER, Handler, make_cert, smtp_server
from servers.webhook import WebhookReceiver

from seo.alerts.api import watch
from seo.api import Project
from seo.listing.api import apply_listing

pytest_plugins = ["listing_fixtures"]  # fixtures: gbp, root, project, client, clock


def test_hijacked_phone_number_alert_reminder_resolved_and_nothing_more(root, gbp, project, client,
                                                                      tmp_path, monkeypatch):
    # the listing in sync with config, with `restore` as the phone's drift policy
    path = root / "config/site.yaml"
    data = yaml.safe_load(path.read_text())
    data["integrations"]["gbp"]["drift"] = {"phone": "restore"}
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    apply_listing(Project.open(root), client=client)
    cert, key = make_cert(tmp_path)
    inbox = Handler()
    smtp = smtp_server(inbox, cert, key)
    chat = WebhookReceiver().start()
    monkeypatch.setenv("SEO_TEST_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("SEO_TEST_CHAT_URL", chat.url)
    try:
        from report_support import configure
        configure(root, email={"host": "127.0.0.1", "port": smtp.port, "username": USER,
                               "password_env": "SEO_TEST_SMTP_PASSWORD", "from": "seo@clinic.test",
                               "to": ["owner@clinic.test"], "ca_file": str(cert)})
        write_alerts(root, {"marketing": {"type": "email", "to": ["marketing@clinic.test"]},
                            "team-chat": {"type": "slack", "url_env": "SEO_TEST_CHAT_URL"}},
                     reminder_hours=4,
                     # the frozen clock runs days ahead with no scheduler running the daily jobs,
                     # which job_silent would rightly report (tested in test_alerts_conditions)
                     conditions={"job_silent": {"enabled": False}})
        # a member of the public changes the phone number, and Google publishes it
        gbp.google_edit(NAME, "phoneNumbers.primaryPhone", "+1 720-555-0666")

        first = run_seo("run", "watch", "--root", str(root))
        assert first.returncode == 0, first.stdout + first.stderr
        assert "opened listing_drift:main:phone" in first.stdout
        assert len(inbox.received) == 1 and len(chat.received) == 1

        project = Project.open(root)
        clock = FrozenClock(datetime.now(UTC))
        sent = [(len(inbox.received), len(chat.received))]
        for _ in range(8):  # every half hour for four hours
            clock.advance(minutes=30)
            watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
            sent.append((len(inbox.received), len(chat.received)))
        assert sent == [(1, 1)] * 8 + [(2, 2)]  # the reminder, four hours after the alert

        fixed = run_seo("listing", "apply", "--root", str(root))
        assert fixed.returncode == 0, fixed.stdout + fixed.stderr
        clock.advance(minutes=30)
        result = watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
        assert [(c.kind, c.key) for c in result.changes] == [("resolved", "listing_drift:main:phone")]
        assert (len(inbox.received), len(chat.received)) == (3, 3)

        for hours in (0.5, 4, 24, 48):  # nothing more, however long we wait
            clock.advance(hours=hours)
            watch(project, now=clock(), gbp_client=client, sleep=clock.sleep)
        assert (len(inbox.received), len(chat.received)) == (3, 3)
        listed = run_seo("alerts", "list", "--root", str(root))
        assert listed.returncode == 0 and listed.stdout.startswith("no open incidents")
    finally:
        smtp.stop()
        chat.stop()

    mails = [message_from_bytes(r.data, policy=policy.SMTP) for r in inbox.received]
    assert [m["Subject"] for m in mails] == [
        "[SEO alert] Alert: Google shows a different phone number for Example Acupuncture: +17205550666",
        "[SEO alert] Still open: Google shows a different phone number for Example Acupuncture: "
        "+17205550666",
        "[SEO alert] Resolved: Google shows a different phone number for Example Acupuncture: "
        "+17205550666"]
    assert {r.rcpt_tos[0] for r in inbox.received} == {"marketing@clinic.test"}
    assert len({m["Message-ID"] for m in mails}) == 3
    body = mails[0].get_body(("plain",)).get_content()
    assert "Google shows: +17205550666" in body and "ours goes back on the next `seo listing apply`" in body
    assert [m.json["text"].split(":")[0] for m in chat.received] == ["Alert", "Still open", "Resolved"]
    assert len(set(chat.keys())) == 3
