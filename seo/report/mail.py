"""The report as a MIME message, the outbox, and SMTP delivery that never loses a message.

Structure: multipart/alternative [text/plain, multipart/related [text/html, image/png...]], each
image inline with a Content-ID the HTML refers to. Header values (addresses, subject) with a CR or
LF are refused, and addresses must parse to exactly one addr-spec, so nothing from config or data
can add a header or a recipient.

Every message is first written (atomically) into the outbox folder as an .eml and removed only
after the server accepted it. A refused connection, a 4xx answer, an authentication failure or a
timeout is retried with doubling backoff (`sleep` is injectable); then the message stays in the
outbox and the failure is reported. `flush` sends whatever waits there.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime, make_msgid
from pathlib import Path

from ..errors import UserError, one_line
from ..redact import login_secrets, redact
from ..settings import EmailSettings
from .render import Report

Sleep = Callable[[float], None]


@dataclass
class Delivery:
    """What happened to the report's message(s): sent, or waiting in the outbox and why."""

    outbox: Path
    server: str = ""  # "host:port", or "" when no SMTP host is configured
    sent: list[str] = field(default_factory=list)  # .eml names sent (and removed)
    waiting: list[Path] = field(default_factory=list)  # still in the outbox
    failures: list[str] = field(default_factory=list)  # one line each
    warnings: list[str] = field(default_factory=list)  # e.g. some recipients refused

    @property
    def ok(self) -> bool:
        return not self.failures

    def lines(self) -> list[str]:
        out = [f"sent {name} via {self.server}" for name in self.sent]
        out += [f"warning: {w}" for w in self.warnings]
        out += [f"failed: {f}" for f in self.failures]
        if self.waiting:
            why = "no SMTP host configured (integrations.email.host)" if not self.server else \
                "run `seo report send --outbox` to retry"
            out.append(f"{len(self.waiting)} message(s) wait in {self.outbox}: {why}")
            out += [f"  {p}" for p in self.waiting]
        if not out:
            out.append(f"nothing to send: {self.outbox} is empty")
        return out


class Transient(Exception):
    """Worth another try: refused connection, 4xx, authentication failure, timeout."""


class Permanent(Exception):
    """Retrying will not help (5xx, TLS verification, no password): the message waits."""


# -- headers ------------------------------------------------------------------------------------

def safe_header(value: str, what: str) -> str:
    if any(c in value for c in "\r\n") or any(ord(c) < 32 and c != "\t" for c in value):
        raise UserError("line breaks and control characters are not allowed in mail headers",
                        key=what)
    return value


def parse_address(value: str, what: str, name: str = "") -> Address:
    """Exactly one plain address (user@domain); anything that parses as more, or with defects, is refused."""
    safe_header(value, what)
    safe_header(name, what)
    header = policy.SMTP.header_factory("To", value)
    addrs = getattr(header, "addresses", ())
    if header.defects or len(addrs) != 1 or not addrs[0].username or not addrs[0].domain \
            or addrs[0].display_name:
        raise UserError(f"{value!r} is not one plain email address", key=what)
    try:
        return Address(display_name=name, username=addrs[0].username, domain=addrs[0].domain)
    except (ValueError, IndexError) as exc:
        raise UserError(f"{value!r}: {exc}", key=what) from None


# -- the message --------------------------------------------------------------------------------

def compose(report: Report, settings: EmailSettings, sender: str, sender_name: str) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    frm = parse_address(sender, "integrations.email.from", settings.from_name or sender_name)
    msg["Subject"] = safe_header(report.subject, "subject")
    msg["From"] = frm
    if settings.to:
        msg["To"] = [parse_address(a, f"integrations.email.to[{i}]") for i, a in enumerate(settings.to)]
    msg["Date"] = format_datetime(_now(), usegmt=True)
    msg["Message-ID"] = make_msgid(f"report.{report.week.label}", domain=frm.domain)
    msg["X-SEO-Report-Week"] = report.week.label
    msg.set_content(report.text, subtype="plain", charset="utf-8")
    msg.add_alternative(report.html, subtype="html", charset="utf-8")
    html_part = msg.get_payload()[1]
    for cid, chart in report.content_ids().items():
        html_part.add_related(chart.png, "image", "png", cid=f"<{cid}>", filename=chart.name,
                              disposition="inline")
    return msg


def _now():
    from datetime import UTC, datetime
    return datetime.now(UTC)


# -- the outbox ---------------------------------------------------------------------------------

def _recipients(msg: Message) -> str:
    header = msg.get("To")
    addrs = getattr(header, "addresses", None)
    found = [a.addr_spec.lower() for a in addrs] if addrs else \
        [a.strip().lower() for a in str(header or "").split(",") if a.strip()]
    return ",".join(sorted(found))


def outbox_name(week: str, msg: Message) -> str:
    """One name per week and recipient list: a re-run replaces the message still waiting."""
    return f"{week}-{hashlib.sha256(_recipients(msg).encode()).hexdigest()[:10]}.eml"


def _same_report(path: Path, week: str, recipients: str) -> bool:
    """A waiting message (any naming) of the same week for the same recipients."""
    try:
        with path.open("rb") as fh:
            head = BytesHeaderParser(policy=policy.SMTP).parse(fh)
    except OSError:
        return False
    return str(head.get("X-SEO-Report-Week", "")) == week and _recipients(head) == recipients


def write_outbox(folder: Path, msg: EmailMessage, week: str) -> Path:
    """Atomically (temp file, fsync, rename) store the message; its name sorts oldest week first.

    The outbox holds at most one message per week and recipient list: this one replaces the
    same week's message still waiting (call with the outbox lock held)."""
    folder.mkdir(parents=True, exist_ok=True)
    data = msg.as_bytes(policy=policy.SMTP)
    path = folder / outbox_name(week, msg)
    recipients = _recipients(msg)
    for other in waiting(folder):
        if other != path and _same_report(other, week, recipients):
            other.unlink()
    tmp = folder / f".{path.name}.tmp"
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    with contextlib.suppress(OSError):
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    return path


def waiting(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml")) if folder.is_dir() else []


@contextlib.contextmanager
def outbox_lock(folder: Path) -> Iterator[None]:
    """One sender at a time (a manual send and the scheduled one must not both send a message)."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("a") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"another `seo report send` is using {folder}; try again later") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# -- SMTP ---------------------------------------------------------------------------------------

def _describe(exc: BaseException, secrets: list[str] | None = None) -> str:
    """One line for an SMTP failure; the server's words redacted (a reply can echo AUTH data)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) \
            else str(exc.smtp_error)
        return one_line(redact(f"{exc.smtp_code} {' '.join(text.split())}", secrets or []))[:500]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "all recipients refused: " + "; ".join(
            f"{rcpt}: {code}" for rcpt, (code, _) in sorted(exc.recipients.items()))
    text = str(exc) or type(exc).__name__
    return one_line(redact(" ".join(text.split()), secrets or []))[:500]


def _classify(exc: BaseException, secrets: list[str] | None = None) -> Exception:
    """Map an smtplib/socket error to Transient or Permanent, with a one-line reason."""
    what = _describe(exc, secrets)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return Transient(f"authentication failed ({what})")
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return (Transient if codes and all(400 <= c < 500 for c in codes) else Permanent)(what)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return Transient(f"server disconnected ({what})")
    if isinstance(exc, smtplib.SMTPResponseException):
        return (Transient if 400 <= exc.smtp_code < 500 else Permanent)(f"server answered {what}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return Permanent(f"server does not support it: {what}")
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Permanent(f"TLS failed ({what})")
    if isinstance(exc, TimeoutError | socket.timeout):
        return Transient("timed out")
    if isinstance(exc, ConnectionRefusedError):
        return Transient("connection refused")
    if isinstance(exc, OSError | smtplib.SMTPException):
        return Transient(what)
    return Permanent(what)


def _send_once(settings: EmailSettings, sender: str, recipients: list[str], data: bytes) -> list[str]:
    """One SMTP session; returns the recipients the server refused (when it accepted others)."""
    context = ssl.create_default_context(cafile=settings.ca_file or None)
    port = settings.smtp_port
    local = socket.gethostname() or "localhost"  # not getfqdn(): no DNS lookups
    smtp: smtplib.SMTP
    if settings.security == "ssl":
        smtp = smtplib.SMTP_SSL(settings.host, port, local_hostname=local, timeout=settings.timeout,
                                context=context)
    else:
        smtp = smtplib.SMTP(settings.host, port, local_hostname=local, timeout=settings.timeout)
    try:
        smtp.ehlo()
        if settings.security == "starttls":
            smtp.starttls(context=context)
            smtp.ehlo()
        if settings.username:
            password = os.environ.get(settings.password_env, "")
            if not password:
                raise Permanent(f"${settings.password_env} is not set (the SMTP password for "
                                f"{settings.username})")
            smtp.login(settings.username, password)
        refused = smtp.sendmail(sender, recipients, data)
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
        return sorted(f"{rcpt}: {code}" for rcpt, (code, _) in refused.items())
    finally:
        smtp.close()


def send_file(path: Path, settings: EmailSettings, delivery: Delivery, sleep: Sleep = time.sleep) -> bool:
    """Send one outbox message with retries; remove it only when the server accepted it."""
    data = path.read_bytes()
    msg = message_from_bytes(data, policy=policy.SMTP)
    try:
        sender = msg["From"].addresses[0].addr_spec
        recipients = [a.addr_spec for a in msg["To"].addresses] if msg["To"] else []
    except (AttributeError, IndexError, TypeError):
        delivery.failures.append(f"{path.name}: no usable From/To headers")
        delivery.waiting.append(path)
        return False
    if not recipients:
        delivery.failures.append(f"{path.name}: no recipients (set integrations.email.to)")
        delivery.waiting.append(path)
        return False
    last = ""
    for attempt in range(settings.retries + 1):
        if attempt:
            sleep(settings.backoff * 2 ** (attempt - 1))
        try:
            refused = _send_once(settings, sender, recipients, data)
        except Permanent as exc:
            last = str(exc)
            break
        except Exception as exc:  # smtplib and socket errors, classified
            err = _classify(exc, login_secrets(
                settings.username, os.environ.get(settings.password_env, "")))
            last = str(err)
            if isinstance(err, Permanent):
                break
            continue
        path.unlink()
        delivery.sent.append(path.name)
        if refused:
            delivery.warnings.append(f"{path.name}: recipients refused: {', '.join(refused)}")
        return True
    tries = attempt + 1
    delivery.failures.append(f"{path.name}: {last} (after {tries} attempt{'s' * (tries != 1)})")
    delivery.waiting.append(path)
    return False


def flush(folder: Path, settings: EmailSettings | None, sleep: Sleep = time.sleep,
          only: list[Path] | None = None, locked: bool = False) -> Delivery:
    """Send what waits in the outbox (or just `only`), oldest first. `locked`: the caller
    holds the outbox lock already."""
    server = f"{settings.host}:{settings.smtp_port}" if settings and settings.host else ""
    delivery = Delivery(folder, server)
    with contextlib.nullcontext() if locked else outbox_lock(folder):
        todo = only if only is not None else waiting(folder)
        if not server:
            delivery.waiting = list(todo)
            return delivery
        assert settings is not None
        for path in todo:
            if path.exists():
                send_file(path, settings, delivery, sleep)
    return delivery
