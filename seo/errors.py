"""User-facing errors: one line naming the file, the key or line, and what is wrong."""

from __future__ import annotations

import re

from .redact import redact


class UserError(Exception):
    """Bad input from the user (config, content, arguments). The CLI prints it on one line, exit 2."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 line: int | None = None) -> None:
        self.file, self.key, self.line, self.detail = file, key, line, message
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        if key:
            where += f"{key}: "
        # only the message is outside text: a key such as `site.publish.key` must not read as a
        # "key: value" credential to the redaction
        super().__init__(one_line(f"{where}{redact(message)}"))


_BREAKS = re.compile(r"\s*[\r\n\u2028\u2029\x0b\x0c\x1c-\x1e\x85]+\s*")
_CONTROL = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f]")


def one_line(text: str) -> str:
    """Line breaks folded to spaces and other control characters shown as escapes, so a message
    quoting outside text stays one line and cannot drive the terminal (an ESC sequence)."""
    text = _BREAKS.sub(" ", text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class NotConfigured(Exception):
    """A step that needs configuration (credentials, a provider) that is absent: skip it and say so."""

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(redact(str(message))), *args)


class ExternalError(Exception):
    """An outside service failed (HTTP error, quota, bad answer). One line, exit 1; the message
    (which often quotes the service's answer) is redacted of credentials."""

    exit_code = 1

    def __init__(self, message: object = "", *args: object) -> None:
        super().__init__(one_line(redact(str(message))), *args)


class CredentialsRejected(NotConfigured):
    """Credentials exist but the service refuses them (revoked, expired): exit 3 with the command
    that fixes it. A scheduled step with rejected credentials is a failure, not a quiet skip."""
