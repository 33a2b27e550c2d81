"""What every `seo` command shares: the error-to-exit-code group and the `--root` option.

A module of its own so that the stages' `cli.py` modules and `seo/cli.py` import it, not each other.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from .errors import ExternalError, NotConfigured, UserError


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


def root_option(f):
    return click.option("--root", type=click.Path(file_okay=False, path_type=Path),
                        default=lambda: os.environ.get("SEO_ROOT", "."), show_default="SEO_ROOT or .",
                        help="Project folder holding config/ and content/.")(f)
