"""`seo alerts list|test|ack` and `seo run watch` as a user meets them: output, exit codes, and
one-line errors for bad config or arguments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from alerts_support import FrozenClock, found, step, write_alerts
from click.testing import CliRunner
from conftest import run_seo
from report_support import configure
from servers.webhook import WebhookReceiver

from seo.store import runs

CHAT = {"type": "slack", "url_env": "SEO_TEST_SLACK_URL"}


def cli(*args: str) -> Any:
    from seo.cli import main
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def hook(monkeypatch) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    monkeypatch.setenv("SEO_TEST_SLACK_URL", receiver.url)
    yield receiver
    receiver.stop()


def test_not_configured_is_exit_3_and_the_watch_job_skips(mini):
    got = cli("alerts", "list", "--root", str(mini))
    assert got.exit_code == 3 and "not configured: integrations.alerts is not set" in got.output
    ran = run_seo("run", "watch", "--root", str(mini))
    assert ran.returncode == 0 and ran.stdout.startswith("watch: not configured: integrations.alerts")


@pytest.mark.parametrize("channel, error", [
    ({"type": "email"}, "config/site.yaml: integrations.alerts.channels.bad: an email channel needs an "
                        "SMTP server (integrations.email.host)"),
    ({"type": "slack", "url": "https://hooks.slack.com/services/T/B/x"},
     "integrations.alerts.channels.bad: a slack webhook URL lets anyone post to the channel, so it "
     "stays out of config: put it in an environment variable and give that variable's name in url_env"),
    ({"type": "webhook", "url": "http://example.com/hook"}, "integrations.alerts.channels.bad.url: not "
                                                           "an https:// URL"),
    ({"type": "teams", "url_env": "X", "quiet_hours": {"start": "22:00", "end": "22:00"}},
     "integrations.alerts.channels.bad.quiet_hours: start and end are the same time"),
    ({"type": "slack", "url_env": "X", "conditions": ["phone"]},
     "channels.bad.conditions[0]: Input should be"),
])
def test_bad_channel_config_is_one_line_exit_2(mini, channel, error):
    configure(mini, alerts={"channels": {"bad": channel}})
    got = run_seo("alerts", "list", "--root", str(mini))
    assert got.returncode == 2, got.stderr
    assert error in got.stderr and len(got.stderr.strip().splitlines()) == 1 and "Traceback" not in got.stderr


def test_test_ack_and_list(mini, hook):
    root = str(mini)
    project = write_alerts(mini, {"chat": CHAT}, reminder_hours=1)
    got = cli("alerts", "test", "nope", "--root", root)
    assert got.exit_code == 2 and "no alert channel 'nope' (channels: chat)" in got.output
    got = cli("alerts", "test", "chat", "--root", root)
    assert got.exit_code == 0 and got.output == "sent a test message to chat (HTTP 200)\n"
    hook.plan = ["drop"]
    got = cli("alerts", "test", "chat", "--root", root)
    assert got.exit_code == 1
    assert "error: chat: sent, but connection closed before the answer (RemoteDisconnected): the answer " \
           "was lost; look in the channel (it is not sent again)" in got.output
    clock = FrozenClock(datetime.now(UTC))  # `alerts list` looks back 7 days from now
    step(project, clock, found("listing_drift", "main:phone", title="Google shows a different phone \x1b[2J"))
    got = cli("alerts", "list", "--root", root)
    assert got.exit_code == 0
    lines = got.output.splitlines()
    assert lines[0].startswith("OPEN     listing_drift:main:phone  [warning] open since ")
    assert lines[1].strip() == "Google shows a different phone" and "\x1b" not in got.output
    assert not any(line.startswith("UNKNOWN") for line in lines)  # the test said so when it ran
    hook.plan = ["drop"]
    clock.advance(minutes=30)
    step(project, clock, found("listing_drift", "main:phone"), found("job_failed", "weekly"))
    lines = cli("alerts", "list", "--root", root).output.splitlines()
    assert [line.split(" sent ")[0] for line in lines if "may not have arrived" in line] == [
        "UNKNOWN  chat: a message"]
    got = cli("alerts", "ack", "listing_drift:main", "--by", "pat", "--root", root)
    assert got.exit_code == 0 and got.output.startswith("acknowledged listing_drift:main:phone: no more")
    got = cli("alerts", "ack", "listing_drift:main:phone", "--root", root)
    assert "was already acknowledged by pat" in got.output
    assert "acknowledged by pat" in cli("alerts", "list", "--root", root).output
    got = cli("alerts", "ack", "site_down:home", "--root", root)
    assert got.exit_code == 2 and "no open incident 'site_down:home'" in got.output
    clock.advance(hours=3)  # acknowledged: no reminder
    before = len(hook.received)
    step(project, clock, found("listing_drift", "main:phone"))
    assert len(hook.received) == before


def test_a_watch_run_with_a_message_refused_for_good_fails(mini, hook):
    project = write_alerts(mini, {"chat": CHAT})
    hook.default = 404
    with project.store.begin() as conn:
        conn.execute(runs.insert(), [
            {"job": "sync_listing", "started_at": at, "finished_at": at, "status": "failed",
             "counts": "{}", "error": "boom", "trigger": "schedule"}
            for at in (datetime(2026, 1, 1), datetime(2026, 1, 2))])
    ran = run_seo("run", "watch", "--root", str(mini))
    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "watch: failed: chat: failed: HTTP 404" in ran.stderr
    assert "opened job_failed:sync_listing: Job sync_listing failed 2 times in a row" in ran.stdout
    assert "new_review: not available: integrations.gbp is not set" in ran.stdout


def test_the_readme_example_is_a_valid_alerts_section():
    import re

    import yaml
    from conftest import REPO

    from seo.settings import ALERT_CONDITIONS, AlertSettings
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Alerts between reports"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    settings = AlertSettings.model_validate(yaml.safe_load(block.group(1))["integrations"]["alerts"])
    assert {ch.type for ch in settings.channels.values()} == {"email", "slack", "webhook"}
    table = section[:section.index("```yaml")]
    assert [c for c in ALERT_CONDITIONS if f"| `{c}` |" not in table] == []  # every condition documented
