"""Sending one message on one channel, and saying exactly what became of it.

An outcome is `sent`; `retry` (nothing can have been delivered: DNS, refused connection, a
request or SMTP transaction cut off before it was complete, an answer saying "not accepted, try
later"); `failed` (refused for good: 4xx from a webhook, 5xx from SMTP); or `unknown`: the whole
request was sent and the answer never came (a dropped connection, a timeout while waiting, a
gateway timeout). An unknown message may have arrived; sending it again could make a second copy,
so it is never sent again (see deliver.py).

Webhooks go through http.client, one request per connection and no automatic retries, so the
line between "not sent" and "sent, answer lost" is where this code draws it (httplib2 and urllib3
re-send on their own). Email goes through smtplib, phase by phase: everything before the end of
DATA is a definite answer; after the final "." only the server's reply says whether it took it.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import os
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from typing import Protocol
from urllib.parse import urlsplit

from .. import __version__
from ..settings import AlertChannel, EmailSettings, check_webhook_url
from .messages import Message, dumps
from .model import clean

MAX_ANSWER = 4096
MIN_SECRET = 16


@dataclass
class Outcome:
    state: str  # sent, retry, failed, unknown
    detail: str = ""
    retry_after: float | None = None
    soon: bool = True  # a retry in this run could help (not for missing configuration)


class Sender(Protocol):
    kind: str

    def send(self, msg: Message) -> Outcome: ...


def _oserror(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "DNS lookup failed"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({clean(exc.verify_message or exc, 120)})"
    if isinstance(exc, ssl.SSLError):
        return "TLS failed"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    return clean(f"{type(exc).__name__}: {exc}", 160)


class WebhookSender:
    """Slack, Teams or generic JSON over one HTTP POST."""

    def __init__(self, name: str, channel: AlertChannel, *, clock: Callable[[], float] = time.time,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.channel, self.kind, self.clock = name, channel, channel.type, clock
        self.env = env if env is not None else os.environ

    def url(self) -> str:
        ch = self.channel
        if ch.url:
            return ch.url
        assert ch.url_env
        value = self.env.get(ch.url_env, "")
        if not value:
            raise LookupError(f"${ch.url_env} is not set (the {ch.type} webhook URL)")
        try:
            return check_webhook_url(value)
        except ValueError as exc:
            raise LookupError(f"${ch.url_env}: {exc}") from None

    def request(self, msg: Message) -> tuple[bytes, dict[str, str]]:
        ch = self.channel
        payload = {"slack": msg.slack, "teams": msg.teams}.get(ch.type, msg.generic)()
        body = dumps(payload)
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": msg.key,
                   "User-Agent": f"seo-alerts/{__version__}"}
        if ch.type == "webhook":
            secret = self.env.get(ch.secret_env, "")
            if len(secret) < MIN_SECRET:
                raise LookupError(f"${ch.secret_env} is {'not set' if not secret else 'too short'} "
                                  f"(the webhook signing key, {MIN_SECRET} characters or more)")
            stamp = str(int(self.clock()))
            digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            headers.update({"X-SEO-Timestamp": stamp, ch.signature_header: f"sha256={digest}",
                            "X-SEO-Message-Id": msg.key})
        return body, headers

    def send(self, msg: Message) -> Outcome:
        try:
            url = self.url()
            body, headers = self.request(msg)
        except LookupError as exc:
            return Outcome("retry", str(exc.args[0]), soon=False)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        timeout = self.channel.timeout
        conn: http.client.HTTPConnection
        if parts.scheme == "https":
            conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, timeout=timeout,
                                               context=ssl.create_default_context())
        else:
            conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
        try:
            try:
                conn.connect()
            except OSError as exc:
                return Outcome("retry", f"not sent: {_oserror(exc)}")
            try:
                conn.request("POST", target, body=body, headers=headers)
            except OSError as exc:  # cut off before the request was complete: nothing acted on
                return Outcome("retry", f"not sent: {_oserror(exc)} while sending")
            try:
                resp = conn.getresponse()
                answer = resp.read(MAX_ANSWER)
            except (OSError, http.client.HTTPException) as exc:
                what = (f"no answer within {timeout:g}s" if isinstance(exc, TimeoutError)
                        else f"connection closed before the answer ({type(exc).__name__})")
                return Outcome("unknown", f"sent, but {what}")
        finally:
            conn.close()
        return self.judge(resp.status, answer.decode("utf-8", "replace"), resp.getheader("Retry-After"))

    def judge(self, status: int, text: str, retry_after: str | None) -> Outcome:
        said = clean(text, 120)
        if 200 <= status < 300:
            if self.kind == "teams" and said.startswith("Webhook message delivery failed"):
                # the legacy Teams connector answers 200 with the real error in the text
                return Outcome("retry" if "429" in said else "failed", f"Teams: {said}")
            return Outcome("sent", f"HTTP {status}")
        detail = f"HTTP {status}" + (f" {said}" if said else "")
        if status == 429 or status in (408, 500, 502, 503):
            wait = None
            if retry_after and retry_after.strip().isdigit():
                wait = float(retry_after.strip())
            return Outcome("retry", detail, wait)
        if status == 504:  # a gateway gave up waiting for the receiver, which may have acted
            return Outcome("unknown", f"sent, but {detail} (gateway timeout)")
        return Outcome("failed", detail)


class EmailSender:
    """One SMTP transaction per message through the report's SMTP settings."""

    kind = "email"

    def __init__(self, name: str, channel: AlertChannel, email: EmailSettings, sender: str,
                 sender_name: str, prefix: str, env: dict[str, str] | None = None) -> None:
        self.name, self.channel, self.email, self.prefix = name, channel, email, prefix
        from ..report.mail import parse_address  # the report's header-injection-safe parsing

        self.env = env if env is not None else os.environ
        self.sender = parse_address(sender, "integrations.email.from", email.from_name or sender_name)
        to = channel.to or email.to
        self.recipients: list[Address] = [parse_address(a, f"integrations.alerts.channels.{name}.to")
                                          for a in to]

    def send(self, msg: Message) -> Outcome:
        data = msg.email(self.sender, self.recipients, self.prefix).as_bytes(policy=policy.SMTP)
        rcpts = [a.addr_spec for a in self.recipients]
        try:
            smtp = self._connect()
        except Exception as exc:
            return _definite(exc, self._secrets())
        try:
            try:
                self._envelope(smtp, rcpts)
                code, reply = smtp.docmd("DATA")
                if code != 354:
                    raise smtplib.SMTPDataError(code, reply)
                smtp.send(_dot_stuffed(data))
            except Exception as exc:  # the message was not complete: the server cannot have it
                return _definite(exc, self._secrets())
            try:
                code, reply = smtp.getreply()
            except Exception as exc:
                what = f"no answer within {self.channel.timeout:g}s" if isinstance(exc, TimeoutError) \
                    else "the connection closed before the server answered"
                return Outcome("unknown", f"sent, but {what}")
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
        finally:
            smtp.close()
        said = clean(reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply, 120)
        if code == 250:
            return Outcome("sent", f"{code} {said}")
        return Outcome("retry" if 400 <= code < 500 else "failed", f"server answered {code} {said}")

    def _secrets(self) -> list[str]:
        """What the login put on the wire, so a server's reply quoting it is redacted."""
        from ..redact import login_secrets
        return login_secrets(self.email.username, self.env.get(self.email.password_env, ""))

    def _connect(self) -> smtplib.SMTP:
        from ..report.mail import Permanent
        s = self.email
        context = ssl.create_default_context(cafile=s.ca_file or None)
        local = socket.gethostname() or "localhost"
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(s.host, s.smtp_port, local_hostname=local, timeout=self.channel.timeout,
                                    context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.smtp_port, local_hostname=local, timeout=self.channel.timeout)
        try:
            smtp.ehlo()
            if s.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                password = self.env.get(s.password_env, "")
                if not password:
                    raise Permanent(f"${s.password_env} is not set (the SMTP password for {s.username})")
                smtp.login(s.username, password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _envelope(self, smtp: smtplib.SMTP, rcpts: list[str]) -> None:
        code, reply = smtp.mail(self.sender.addr_spec)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self.sender.addr_spec)
        refused = {}
        for rcpt in rcpts:
            code, reply = smtp.rcpt(rcpt)
            if code not in (250, 251):
                refused[rcpt] = (code, reply)
        if len(refused) == len(rcpts):
            raise smtplib.SMTPRecipientsRefused(refused)


def _dot_stuffed(data: bytes) -> bytes:
    """The DATA payload as RFC 5321 wants it: leading dots doubled, CRLF ends, "." to finish."""
    data = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _definite(exc: BaseException, secrets: list[str]) -> Outcome:
    """A failure before the message was complete: retry later, or failed when retrying can't help."""
    from ..report.mail import Permanent, _classify  # the report's reading of SMTP errors
    if isinstance(exc, Permanent):
        return Outcome("retry", str(exc), soon=False)  # e.g. the password variable: fixable, kept
    err = _classify(exc, secrets)
    state = "failed" if isinstance(err, Permanent) and not isinstance(exc, ssl.SSLError) else "retry"
    return Outcome(state, f"not sent: {clean(err, 200)}")
