"""What every `seo` command shares: the error-to-exit-code group and the `--root` option.

A module of its own so that the stages' `cli.py` modules and `seo/cli.py` import it, not each other.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import click

from .errors import ExternalError, NotConfigured, UserError, one_line
from .redact import redact


class SeoGroup(click.Group):
    """Turns user errors into one line and an exit code, never a traceback."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except NotConfigured as exc:  # before ExternalError: a refused token is both
            click.echo(f"not configured: {exc}", err=True)
            ctx.exit(3)
        except ExternalError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except BrokenPipeError:  # `seo ... | head`: the reader left; say nothing more
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(1)
        except OSError as exc:  # the machine, not the input: a full disk, a folder without rights
            where = f": {exc.filename}" if exc.filename else ""
            click.echo(one_line(redact(f"error: {exc.strerror or exc}{where}")), err=True)
            ctx.exit(1)


def root_option(f):
    return click.option("--root", type=click.Path(file_okay=False, path_type=Path),
                        default=lambda: os.environ.get("SEO_ROOT", "."), show_default="SEO_ROOT or .",
                        help="Project folder holding config/ and content/.")(f)


def iso_date(value: str | None, key: str) -> date | None:
    """A --since/--until style option: None, or a date written 2026-11-02."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{value!r} is not a date like 2026-11-02", key=key) from None
