"""Alert delivery against real receivers: a local HTTP webhook receiver that checks HMAC
signatures and can lose answers, and a local SMTP server (aiosmtpd). One message per event per
channel, never the same one twice even when its answer is lost; retries only where nothing can
have arrived; quiet hours hold messages for one digest after; all on a frozen clock."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from alerts_support import SECRET, FrozenClock, found, step, write_alerts
from report_support import PASSWORD, USER, Handler, make_cert, smtp_server
from servers.webhook import WebhookReceiver

from seo.alerts.api import attention, send_test
from seo.tables import alert_deliveries

SLACK = {"type": "slack", "url_env": "SEO_TEST_SLACK_URL"}
D = alert_deliveries.c


@pytest.fixture
def hook(monkeypatch) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret=SECRET).start()
    monkeypatch.setenv("SEO_TEST_SLACK_URL", receiver.url)
    monkeypatch.setenv("SEO_TEST_TEAMS_URL", receiver.url)
    monkeypatch.setenv("SEO_ALERTS_WEBHOOK_SECRET", SECRET)
    yield receiver
    receiver.stop()


def states(project) -> list[tuple[str, str, int]]:
    with project.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(D.channel, D.state, D.attempts).order_by(D.id))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_slack_teams_and_signed_generic_json_arrive_once_each(mini, hook):
    project = write_alerts(mini, {
        "chat": SLACK, "teams": {"type": "teams", "url_env": "SEO_TEST_TEAMS_URL"},
        "ops": {"type": "webhook", "url": hook.signed_url}})
    clock = FrozenClock()
    hostile = ("Phone <!channel> <https://evil.test|click> **bold** [x](https://evil.test) & more "
               "{{DATE(2017-02-14T06:08:39Z, SHORT)}}")
    changes, report = step(project, clock, found("listing_drift", "main:phone", title=hostile,
                                                 severity="critical"))
    assert [c.kind for c in changes] == ["opened"] and report.count("sent") == 3
    assert len(hook.received) == 3 and len(set(hook.keys())) == 3
    by_kind = {("blocks" in a.json, "attachments" in a.json): a for a in hook.received}
    slack, teams, generic = by_kind[True, False], by_kind[False, True], by_kind[False, False]
    assert slack.signature_ok is None
    assert slack.json["text"].startswith("Alert: Phone &lt;!channel&gt; &lt;https://evil.test|click&gt;")
    assert slack.json["mrkdwn"] is False  # **bold** from outside stays as typed
    header, *rest = slack.json["blocks"]
    assert header["type"] == "header" and "<" not in header["text"]["text"]
    assert all(b["type"] == "rich_text" for b in rest)  # literal text: no mrkdwn, mentions or links
    card = teams.json["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    runs = [i for block in card["content"]["body"] for i in block["inlines"]]
    assert all(r["type"] == "TextRun" for r in runs)
    assert runs[0]["text"] == "Alert: " + hostile.replace("{{", "{\u2060{")  # no DATE() runs
    assert "{{" not in json.dumps(teams.json)
    assert generic.json["items"][0]["title"] == hostile  # the generic body is JSON: kept as is
    body = generic.json
    assert generic.signature_ok is True and body["id"] == generic.key == generic.headers["x-seo-message-id"]
    assert body["type"] == "event" and body["items"][0]["event"] == "opened"
    item = body["items"][0]
    assert item["key"] == "listing_drift:main:phone" and item["severity"] == "critical"
    # nothing more on later runs while nothing changes
    for _ in range(3):
        clock.advance(minutes=30)
        step(project, clock, found("listing_drift", "main:phone", title=hostile))
    assert len(hook.received) == 3


def test_a_lost_answer_is_never_sent_again(mini, hook):
    project = write_alerts(mini, {"chat": SLACK}, reminder_hours=6)
    clock = FrozenClock()
    hook.plan = ["drop"]
    _, report = step(project, clock, found("site_down", "home"))
    (result,) = report.results
    assert result.outcome.state == "unknown"
    assert "connection closed before the answer" in result.outcome.detail
    assert "UNKNOWN (not resent)" in report.lines()[0]
    for _ in range(4):
        clock.advance(minutes=30)
        step(project, clock, found("site_down", "home"))
    assert len(hook.received) == 1 and states(project) == [("chat", "unknown", 1)]
    assert len(attention(project, now=clock()).unknown) == 1
    # the incident goes on: its next reminder is a new message with its own key
    clock.advance(hours=6)
    step(project, clock, found("site_down", "home"))
    assert len(hook.received) == 2 and len(set(hook.keys())) == 2


def test_no_answer_in_time_is_unknown_too(mini, hook):
    project = write_alerts(mini, {"chat": {**SLACK, "timeout": 0.5}})
    hook.plan = ["slow"]
    hook.slow_seconds = 1.5
    clock = FrozenClock()
    _, report = step(project, clock, found("site_down", "home"))
    assert report.results[0].outcome.state == "unknown"
    assert "no answer within 0.5s" in report.results[0].outcome.detail
    clock.advance(hours=1)
    step(project, clock, found("site_down", "home"))
    assert states(project) == [("chat", "unknown", 1)]


def test_a_refusal_before_anything_arrived_is_retried_with_the_same_key(mini, hook, monkeypatch):
    project = write_alerts(mini, {"chat": SLACK}, retries=2, backoff=2)
    clock = FrozenClock()
    hook.plan = [503]
    _, report = step(project, clock, found("site_down", "home"))
    assert report.count("sent") == 1 and clock.slept == [2.0]
    assert len(hook.received) == 2 and len(set(hook.keys())) == 1  # the receiver can tell
    # nothing listening: retried in the run (2 and 4 s), then left for the next run
    monkeypatch.setenv("SEO_TEST_SLACK_URL", f"http://127.0.0.1:{free_port()}/hook")
    clock.advance(hours=1)
    _, report = step(project, clock, found("site_down", "home"), found("job_failed", "weekly", "audit_site"))
    (result,) = report.results  # the channel is down: the second message is not even tried
    assert result.outcome.state == "retry"
    assert "chat: 1 more message(s) wait for the next run" in report.lines()
    assert "connection refused" in result.outcome.detail and clock.slept[-2:] == [2.0, 4.0]
    monkeypatch.setenv("SEO_TEST_SLACK_URL", hook.url)
    clock.advance(minutes=30)
    _, report = step(project, clock, found("site_down", "home"), found("job_failed", "weekly", "audit_site"))
    assert report.count("sent") == 2 and len(hook.received) == 4
    assert [s for _, s, _ in states(project)] == ["sent", "sent", "sent"]


def test_a_long_retry_after_waits_for_the_next_run(mini, hook):
    project = write_alerts(mini, {"chat": SLACK})
    clock = FrozenClock()
    hook.plan, hook.retry_after = [429], "120"
    _, report = step(project, clock, found("site_down", "home"))
    assert report.results[0].outcome.state == "retry" and clock.slept == []
    clock.advance(minutes=30)
    _, report = step(project, clock, found("site_down", "home"))
    assert report.count("sent") == 1 and len(hook.received) == 2


def test_refused_for_good_is_failed_and_not_repeated(mini, hook, monkeypatch):
    project = write_alerts(mini, {"chat": SLACK, "ops": {"type": "webhook", "url": hook.signed_url}})
    monkeypatch.setenv("SEO_ALERTS_WEBHOOK_SECRET", "not-the-receivers-secret-at-all")
    hook.default = 404
    hook.answer_text = "no_service"
    clock = FrozenClock()
    _, report = step(project, clock, found("site_down", "home"))
    got = {r.channel: r.outcome for r in report.results}
    assert got["chat"].state == "failed" and got["chat"].detail == "HTTP 404 error"
    assert got["ops"].state == "failed" and got["ops"].detail == "HTTP 401 bad signature"
    clock.advance(hours=1)
    step(project, clock, found("site_down", "home"))
    assert len(hook.received) == 1  # the 401 was never accepted as received


def test_a_missing_secret_or_url_waits_then_gives_up(mini, hook, monkeypatch):
    project = write_alerts(mini, {"ops": {"type": "webhook", "url": hook.signed_url}}, give_up_hours=2)
    monkeypatch.delenv("SEO_ALERTS_WEBHOOK_SECRET")
    clock = FrozenClock()
    _, report = step(project, clock, found("site_down", "home"))
    assert report.results[0].outcome.detail.startswith("$SEO_ALERTS_WEBHOOK_SECRET is not set")
    assert hook.received == [] and states(project)[0][1] == "pending"
    clock.advance(hours=3)
    _, report = step(project, clock, found("site_down", "home"))
    assert any("gave up on a message after 2 h" in line for line in report.lines())
    assert states(project) == [("ops", "failed", 1)]


def test_a_run_that_died_mid_send_is_not_sent_again(mini, hook):
    project = write_alerts(mini, {"chat": SLACK})
    clock = FrozenClock()
    hook.default = 500
    step(project, clock, found("site_down", "home"))  # left pending after 500s
    with project.store.begin() as conn:  # as if the process died right after marking it
        conn.execute(alert_deliveries.update().values(state="sending"))
    hook.default = 200
    received = len(hook.received)
    clock.advance(minutes=30)
    _, report = step(project, clock, found("site_down", "home"))
    assert "left mid-send by an earlier run: unknown, not resent" in report.lines()[0]
    assert len(hook.received) == received and states(project)[0][1] == "unknown"


def test_quiet_hours_hold_messages_for_one_digest_after(mini, hook, monkeypatch):
    monkeypatch.setenv("SEO_TEST_NIGHT_URL", hook.url)
    project = write_alerts(mini, {
        "night": {"type": "slack", "url_env": "SEO_TEST_NIGHT_URL",
                  "quiet_hours": {"start": "21:00", "end": "07:00"}},
        "ops": {"type": "webhook", "url": hook.signed_url}}, reminder_hours=1)
    clock = FrozenClock(datetime(2026, 11, 4, 5, 0, tzinfo=UTC))  # 22:00 in Denver
    _, report = step(project, clock, found("site_down", "home"))
    assert report.held == {"night": 1} and len(hook.received) == 1  # ops got it at once
    clock.advance(hours=1)  # 23:00
    step(project, clock, found("site_down", "home"), found("job_failed", "weekly"))
    clock.advance(hours=1)  # 00:00
    step(project, clock, found("site_down"), found("job_failed", "weekly"))
    assert len(hook.received) == 5  # on ops, each at once: opened; reminder, opened; resolved, reminder
    clock.advance(hours=8)  # 08:00: quiet hours are over
    _, report = step(project, clock, found("site_down"), found("job_failed", "weekly"))
    digest, reminder = [a.json for a in hook.received[5:] if "blocks" in a.json]
    assert report.digests == 1 and digest["text"] == "5 alert updates during quiet hours"
    text = "\n".join(e["text"] for b in digest["blocks"][1:] for s in b["elements"] for e in s["elements"])
    for said in ("Alert Tue 03 Nov 22:00 MST: site_down home is wrong", "Still open Tue 03 Nov 23:00 MST",
                 "Resolved Wed 04 Nov 00:00 MST: site_down home is wrong"):
        assert said in text
    assert reminder["text"] == "Still open: job_failed weekly is wrong"  # after quiet hours: as usual
    clock.advance(minutes=30)
    before = len(hook.received)
    step(project, clock, found("site_down"), found("job_failed", "weekly"))
    assert len(hook.received) == before  # nothing more


def test_many_at_once_go_out_as_one_message(mini, hook):
    project = write_alerts(mini, {"chat": SLACK, "ops": {"type": "webhook", "url": hook.signed_url}},
                           batch_over=3)
    clock = FrozenClock()
    _, report = step(project, clock, found("ranking_drop", *(f"kw{i}" for i in range(5))))
    assert report.count("sent") == 2 and len(hook.received) == 2
    by = {("blocks" in a.json): a.json for a in hook.received}
    assert by[True]["text"] == "5 alert updates"
    assert by[False]["type"] == "batch" and [i["key"] for i in by[False]["items"]] == [
        f"ranking_drop:kw{i}" for i in range(5)]
    clock.advance(minutes=30)  # three at once: each on its own
    step(project, clock, found("ranking_drop", *(f"kw{i}" for i in range(5))),
         found("job_failed", "a", "b", "c"))
    assert len(hook.received) == 2 + 2 * 3


def test_a_channel_no_longer_configured_drops_what_waited_for_it(mini, hook):
    project = write_alerts(mini, {"chat": SLACK}, retries=0)
    clock = FrozenClock()
    hook.default = 503
    step(project, clock, found("site_down", "home"))
    project = write_alerts(mini, {"ops": {"type": "webhook", "url": hook.signed_url}})
    clock.advance(minutes=30)
    _, report = step(project, clock, found("site_down", "home"))
    assert "1 message(s) for channels no longer configured: dropped" in report.lines()
    assert states(project)[0][:2] == ("chat", "failed")


def test_send_test_goes_out_now_even_in_quiet_hours(mini, hook):
    project = write_alerts(mini, {"chat": {**SLACK, "quiet_hours": {"start": "00:00", "end": "23:59"}}})
    sent = send_test(project, "chat", now=datetime(2026, 11, 4, 5, 0, tzinfo=UTC))
    assert sent.outcome.state == "sent" and len(hook.received) == 1
    assert hook.received[0].json["text"] == "Test message from seo for Example Acupuncture"
    hook.default = "drop"
    assert send_test(project, "chat").outcome.state == "unknown"


def test_a_webhook_url_quoted_back_is_redacted(mini, hook):
    """A Slack or Teams URL is a credential, whatever its variable is called: an answer quoting it
    (or a condition's text) never shows it."""
    project = write_alerts(mini, {"chat": SLACK})
    hook.default = 404
    hook.error_text = f"no_service: nothing at {hook.url} (token path B000)"
    sent = send_test(project, "chat")
    assert sent.outcome.state == "failed" and hook.url not in sent.outcome.detail
    assert sent.outcome.detail.startswith("HTTP 404 no_service: nothing at [redacted]")
    with project.store.engine.connect() as conn:
        assert hook.url not in " ".join(r.error for r in conn.execute(sa.select(D.error)))


# -- email -----------------------------------------------------------------------------------------

class Dropper(Handler):
    """Takes the whole message, then hangs up before saying 250: the sender's answer is lost."""

    async def handle_DATA(self, server, session, envelope):
        self.received.append(envelope.original_content)
        server.transport.close()
        return "250 OK"


@pytest.fixture(scope="module")
def cert(tmp_path_factory):
    return make_cert(tmp_path_factory.mktemp("tls"))


def email_project(mini, port, cert, **alerts):
    from report_support import configure
    configure(mini, email={"host": "127.0.0.1", "port": port, "security": "starttls", "username": USER,
                           "password_env": "SEO_TEST_SMTP_PASSWORD", "from": "seo@clinic.test",
                           "to": ["owner@clinic.test"], "ca_file": str(cert)})
    return write_alerts(mini, {"inbox": {"type": "email", "to": ["marketing@clinic.test"]}}, **alerts)


def test_email_alerts_carry_their_key_as_message_id_and_thread(mini, cert, monkeypatch):
    monkeypatch.setenv("SEO_TEST_SMTP_PASSWORD", PASSWORD)
    handler = Handler()
    controller = smtp_server(handler, *cert)
    try:
        project = email_project(mini, controller.port, cert[0], reminder_hours=2)
        clock = FrozenClock()
        step(project, clock, found("listing_drift", "main:phone", title="Google shows a different phone"))
        clock.advance(hours=2)
        step(project, clock, found("listing_drift", "main:phone", title="Google shows a different phone"))
        clock.advance(hours=1)
        step(project, clock, found("listing_drift"))
    finally:
        controller.stop()
    first, reminder, resolved = (message_from_bytes(r.data, policy=policy.SMTP) for r in handler.received)
    with project.store.engine.connect() as conn:
        keys = conn.execute(sa.select(D.key).order_by(D.id)).scalars().all()
    assert [m["Message-ID"] for m in (first, reminder, resolved)] == [f"<{k}@clinic.test>" for k in keys]
    assert reminder["In-Reply-To"] == resolved["In-Reply-To"] == first["Message-ID"]
    assert [r.rcpt_tos for r in handler.received] == [["marketing@clinic.test"]] * 3
    assert first["Subject"] == "[SEO alert] Alert: Google shows a different phone"
    assert reminder["Subject"].startswith("[SEO alert] Still open: ")
    assert resolved["Subject"] == "[SEO alert] Resolved: Google shows a different phone"
    text = resolved.get_body(("plain",)).get_content()
    assert "open 3 h" in text and "key listing_drift:main:phone" in text
    html = first.get_body(("html",)).get_content()
    assert "seo alerts ack listing_drift:main:phone" in html and "<script" not in html
    assert PASSWORD not in b"".join(r.data for r in handler.received).decode()


def test_an_email_whose_answer_is_lost_after_data_is_not_sent_again(mini, cert, monkeypatch):
    monkeypatch.setenv("SEO_TEST_SMTP_PASSWORD", PASSWORD)
    handler = Dropper()
    controller = smtp_server(handler, *cert)
    try:
        project = email_project(mini, controller.port, cert[0])
        clock = FrozenClock()
        _, report = step(project, clock, found("site_down", "home"))
        for _ in range(3):
            clock.advance(minutes=30)
            step(project, clock, found("site_down", "home"))
    finally:
        controller.stop()
    assert report.results[0].outcome.state == "unknown"
    assert "connection closed before the server answered" in report.results[0].outcome.detail
    assert len(handler.received) == 1 and states(project) == [("inbox", "unknown", 1)]


def test_an_email_refused_with_4xx_is_retried_and_arrives_once(mini, cert, monkeypatch):
    monkeypatch.setenv("SEO_TEST_SMTP_PASSWORD", PASSWORD)
    handler = Handler(fail_data=1)
    controller = smtp_server(handler, *cert)
    try:
        project = email_project(mini, controller.port, cert[0])
        clock = FrozenClock()
        _, report = step(project, clock, found("site_down", "home"))
    finally:
        controller.stop()
    assert report.count("sent") == 1 and handler.attempts == 2 and len(handler.received) == 1
