"""Credentials in outside text (SMTP replies, API error bodies, exception messages) are redacted
before they are printed, logged or stored in the runs table the weekly report reads."""

from __future__ import annotations

import base64
import logging
import re
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from report_support import configure, make_cert

from seo.api import Project
from seo.automation.runner import run_job
from seo.errors import ExternalError, UserError
from seo.redact import MASK, RedactingFilter, login_secrets, redact
from seo.store import runs

USER, PASSWORD = "frontdesk@clinic.test", "Tr0ub4dor&3-horse"
PLAIN = base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()).decode()


@pytest.mark.parametrize("text,secret", [
    (f"535 5.7.8 Authentication failed for AUTH PLAIN {PLAIN}", PLAIN),
    ("535 rejected: AUTH LOGIN ZnJvbnRkZXNr", "ZnJvbnRkZXNr"),
    ("403: request had Authorization: Bearer ya29.a0AfH6SMBx-very-secret-token", "ya29.a0AfH6SMBx"),
    ("GET https://api.test/v3/search?q=x&api_key=9f8e7d6c5b4a3&num=10 failed", "9f8e7d6c5b4a3"),
    ("could not connect to postgresql://seo:hunter2@db.test:5432/seo", "hunter2"),
    ('{"error": {"message": "bad", "access_token": "abc.def.ghi"}}', "abc.def.ghi"),
    ('{"refresh_token": "1//0gSECRETSECRETSECRETSECRET", "client_secret": "GOCSPX-xyz"}', "GOCSPX-xyz"),
    ("invalid key AIzaSyA-1234567890abcdefghijklmnopqrstu", "AIzaSyA-1234567890"),
    ("404 no_service https://hooks.slack.com/services/T0AB/B0CD/x9Y8z7W6v5", "B0CD/x9Y8z7W6v5"),
    ("posting to https://acme.webhook.office.com/webhookb2/1a2b@3c/IncomingWebhook/4d/5e failed",
     "1a2b@3c/IncomingWebhook"),
    ("login failed: password=Tr0ub4dor&3 for user", "Tr0ub4dor"),
    ("basic auth rejected: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA=="),
    ("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", "MIIEvQIBADANBg"),
])
def test_redact_patterns(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out and MASK in out


def test_redact_known_environment_secrets(monkeypatch) -> None:
    monkeypatch.setenv("SEO_SERPAPI_KEY", "zz-plain-looking-value-42")
    text = "provider said: unknown account zz-plain-looking-value-42 (" \
           + base64.b64encode(b"zz-plain-looking-value-42").decode() + ")"
    out = redact(text)
    assert "zz-plain-looking-value-42" not in out and "enotcGxhaW4" not in out


def test_redact_leaves_ordinary_text_alone() -> None:
    for text in ("config/site.yaml:12: business.telephone: '+1 303' is not an E.164 number",
                 "weekly_report: failed: 451 4.3.0 Mailbox temporarily unavailable, try later",
                 "unknown key (check the spelling)", "run `seo auth google` first"):
        assert redact(text) == text


def test_errors_are_redacted_and_one_line() -> None:
    err = ExternalError(f"SMTP said:\n535 AUTH PLAIN {PLAIN}\n\x1b[31mred")
    assert PLAIN not in str(err) and "\n" not in str(err) and "\x1b" not in str(err)
    assert "hunter2" not in str(UserError("cannot open postgresql://a:hunter2@h/db"))


def test_log_records_are_redacted() -> None:
    record = logging.LogRecord("seo.jobs", logging.ERROR, __file__, 1, "server said %s",
                               (f"AUTH PLAIN {PLAIN}",), None)
    try:
        raise RuntimeError(f"token=abcdef123456 AUTH PLAIN {PLAIN}")
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    RedactingFilter().filter(record)
    assert PLAIN not in record.getMessage() and PLAIN not in (record.exc_text or "")
    assert "abcdef123456" not in (record.exc_text or "")


def test_login_secrets_cover_what_smtp_sends() -> None:
    found = login_secrets(USER, PASSWORD)
    assert PLAIN in found and PASSWORD in found
    assert base64.b64encode(PASSWORD.encode()).decode() in found


# -- an SMTP server that echoes the AUTH line in its refusal --------------------------------------

def echoing_authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                          auth_data: Any) -> AuthResult:
    assert isinstance(auth_data, LoginPassword)
    sent = base64.b64encode(b"\0" + auth_data.login + b"\0" + auth_data.password).decode()
    return AuthResult(success=False, handled=False,
                      message=f"535 5.7.8 Authentication rejected: AUTH {mechanism} {sent} "
                              f"({base64.b64encode(auth_data.password).decode()})")


class Sink:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


@pytest.fixture
def echoing_server(tmp_path: Path):
    cert, key = make_cert(tmp_path)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port, tls_context=ctx,
                            require_starttls=True, authenticator=echoing_authenticator,
                            auth_require_tls=True)
    controller.start()
    yield port, cert
    controller.stop()


def test_smtp_reply_echoing_auth_is_never_printed_or_stored(mini: Path, echoing_server,
                                                            monkeypatch) -> None:
    port, cert = echoing_server
    monkeypatch.setenv("MAILPW", PASSWORD)  # a name that does not look secret: only redaction helps
    configure(mini, email={"host": "127.0.0.1", "port": port, "security": "starttls",
                           "username": USER, "password_env": "MAILPW", "from": "seo@clinic.test",
                           "to": ["staff@clinic.test"], "ca_file": str(cert), "timeout": 5,
                           "retries": 0, "backoff": 0})
    project = Project.open(mini)
    lines: list[str] = []
    outcome = run_job("weekly_report", mini, project=project, echo=lines.append)
    assert outcome.status == "failed"
    shown = "\n".join([outcome.line(), *outcome.lines, *lines])
    assert re.search(r"535 5\.7\.8 Authentication rejected: AUTH (PLAIN|LOGIN) \[redacted\]", shown)
    with project.store.engine.connect() as conn:
        stored = " ".join(r.error for r in conn.execute(sa.select(runs.c.error)))
    assert re.search(r"AUTH (PLAIN|LOGIN) \[redacted\]", stored)
    for secret in (PLAIN, PASSWORD, base64.b64encode(PASSWORD.encode()).decode()):
        assert secret not in shown and secret not in stored
