"""Credentials out of every text that came from outside, before it is printed, logged, stored or
reported.

Servers echo what they were sent: an SMTP server's rejection can quote the `AUTH PLAIN` line
(base64 of user and password), an API error body can carry a token or the request URL with its
key, a driver's exception can print the database URL with its password. `redact` replaces:

- SMTP `AUTH <mechanism> <data>` lines (and the base64 of any known secret, as AUTH LOGIN sends);
- `Authorization:` headers and `Bearer`/`Basic` credentials;
- passwords in URLs (`scheme://user:password@host`);
- secret-looking query parameters and JSON/`key=value` fields (api_key, key, token, password,
  client_secret, refresh_token, access_token, signature, ...);
- Google access tokens (`ya29.`), refresh tokens (`1//`) and API keys (`AIza...`);
- Slack and Teams (Office 365 connector) incoming-webhook URLs;
- the values of secret-looking environment variables (`*PASSWORD*`, `*TOKEN*`, `*SECRET*`,
  `*KEY*`, `*AUTH*`, `*CREDENTIAL*`), as they are and base64-encoded.

It is applied where outside text meets the world: `UserError`/`ExternalError` messages (every one
printed by the CLI), `Store.finish_run` (the runs table, which the weekly report reads), stored
rank-check reasons, SMTP failure descriptions and the scheduler's log records.
"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Iterable

MASK = "[redacted]"
_SECRET_NAMES = re.compile(r"PASSWORD|PASSWD|TOKEN|SECRET|KEY|AUTH|CREDENTIAL", re.I)
_SECRET_KEYS = (r"api[_-]?key|apikey|key|access[_-]?token|refresh[_-]?token|id[_-]?token|token|"
                r"client[_-]?secret|secret|password|passwd|pwd|pass|signature|sig|auth|"
                r"authorization|credentials?|private[_-]?key|session")

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    # SMTP AUTH with its initial response, e.g. "AUTH PLAIN AHVzZXIAcGFzcw=="
    (re.compile(r"(\bAUTH\s+[A-Z0-9_-]+)(\s+)[^\s\"']+", re.I), rf"\1\2{MASK}"),
    # Authorization headers and bearer/basic credentials
    (re.compile(r"(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?"
                r"[^\s\"',;]+", re.I), rf"\1{MASK}"),
    (re.compile(r"\b(bearer|basic)(\s+)[A-Za-z0-9._~+/=-]{6,}", re.I), rf"\1\2{MASK}"),
    # scheme://user:password@host
    (re.compile(r"\b([a-z][a-z0-9+.\-]*://[^\s:/@]*):[^\s@/]*@", re.I), rf"\1:{MASK}@"),
    # ?key=value&token=value in URLs and form bodies
    (re.compile(rf"([?&;](?:{_SECRET_KEYS})=)[^&#\s\"']+", re.I), rf"\1{MASK}"),
    # "password": "value" in JSON, password=value / password: value in text
    (re.compile(rf"([\"'](?:{_SECRET_KEYS})[\"']\s*:\s*[\"'])[^\"']*", re.I), rf"\1{MASK}"),
    (re.compile(rf"(\b(?:{_SECRET_KEYS})\s*[=:]\s*)(?![\"'\s]|{re.escape(MASK)})[^\s,;&\"']+",
                re.I), rf"\1{MASK}"),
    # Google credentials by shape
    (re.compile(r"\bya29\.[0-9A-Za-z_\-]{10,}"), MASK),
    (re.compile(r"\b1//[0-9A-Za-z_\-]{20,}"), MASK),
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), MASK),
    # incoming-webhook URLs: whoever has one can post to the channel
    (re.compile(r"https?://hooks\.slack\.com/(?:services|workflows|triggers)/[^\s\"'<>]+", re.I), MASK),
    (re.compile(r"https?://[a-z0-9.-]+\.webhook\.office\.com/[^\s\"'<>]+", re.I), MASK),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)",
                re.S), MASK),
]


def known_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """Values of secret-looking environment variables (6 characters or more), and their base64."""
    env = os.environ if environ is None else environ
    values = {v for k, v in env.items() if _SECRET_NAMES.search(k) and len(v) >= 6}
    values |= {base64.b64encode(v.encode()).decode() for v in list(values)}
    return sorted(values, key=len, reverse=True)


def login_secrets(username: str, password: str) -> list[str]:
    """What an SMTP login puts on the wire, for `redact(extra=...)`: the password, and the base64
    of the password, the user name and the AUTH PLAIN response."""
    if not password:
        return []
    encode = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    found = [password, encode(password), encode(f"\0{username}\0{password}")]
    if username:
        found += [encode(username), encode(f"{username}\0{username}\0{password}")]
    return found


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every credential replaced by "[redacted]"; `extra`: more secret values."""
    if not text:
        return text
    secrets = sorted({*known_secrets(), *(v for v in extra if len(v) >= 4)}, key=len, reverse=True)
    for value in secrets:
        if value and value in text:
            text = text.replace(value, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """A log handler filter: the message and any traceback redacted before they are written."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def redact_logs(logger: logging.Logger | None = None) -> None:
    """Add the filter to every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
