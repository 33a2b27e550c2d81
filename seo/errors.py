"""User-facing errors: one line naming the file, the key or line, and what is wrong."""

from __future__ import annotations


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
        super().__init__(f"{where}{message}")


class NotConfigured(Exception):
    """A step that needs configuration (credentials, a provider) that is absent: skip it and say so."""


class ExternalError(Exception):
    """An outside service failed (HTTP error, quota, bad answer). One line, exit 1."""

    exit_code = 1


class CredentialsRejected(NotConfigured):
    """Credentials exist but the service refuses them (revoked, expired): exit 3 with the command
    that fixes it. A scheduled step with rejected credentials is a failure, not a quiet skip."""
