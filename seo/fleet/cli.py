"""`seo fleet run JOB --roots DIR...` and `seo fleet check`: a thin layer over seo.fleet."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..automation.schedule import JOBS
from ..errors import UserError
from .clients import Client, clients, load_fleet

DIRS = click.argument("dirs", nargs=-1, metavar="[--roots] DIR...",
                      type=click.Path(file_okay=False, path_type=Path))
ROOTS = click.option("--roots", "roots_flag", is_flag=True,
                     help="The client project folders follow (each with its own config/ and store).")
CONFIG = click.option("--config", "config", type=click.Path(dir_okay=False, path_type=Path),
                      help="A fleet file (YAML): roots (folders or glob patterns, relative to the "
                           "file), concurrency, timeout_minutes.")


@click.group()
def fleet() -> None:
    """Many businesses (an agency's clients) from one installation, each in its own folder and store."""


def _clients(dirs: tuple[Path, ...], config: Path | None) -> tuple[list[Client], int | None, int | None]:
    if dirs and config:
        raise UserError("give --roots DIR... or --config FILE, not both", key="--config")
    if config is not None:
        spec, roots = load_fleet(config)
        return clients(roots), spec.concurrency, spec.timeout_minutes
    return clients(list(dirs)), None, None


@fleet.command("run")
@click.argument("job", metavar="JOB", type=click.Choice(JOBS))
@DIRS
@ROOTS
@CONFIG
@click.option("--concurrency", type=click.IntRange(1, 64), default=None,
              help="Clients run at once (default: the fleet file's, else 2).")
@click.option("--timeout-minutes", type=click.IntRange(1, 24 * 60), default=None,
              help="Stop a client's run after this long (default: the fleet file's, else 240).")
def fleet_run(job: str, dirs: tuple[Path, ...], roots_flag: bool, config: Path | None,
              concurrency: int | None, timeout_minutes: int | None) -> None:
    """Run JOB for every client: `seo fleet run weekly --roots clients/a clients/b`.

    Each client runs as `seo run JOB --root DIR` in a child process of its own (its output in the
    client's build/logs/fleet-JOB.log), at most --concurrency at once; one line per client, in the
    order given. Clients whose stores are the same (one SQLite file, or one PostgreSQL database
    and schema) are refused before anything runs. Exit 1 when any client failed.
    """
    from .run import exit_code, run_fleet
    found, file_concurrency, file_timeout = _clients(dirs, config)
    results = run_fleet(found, job, concurrency=concurrency or file_concurrency or 2,
                        timeout_minutes=timeout_minutes or file_timeout or 240,
                        echo=lambda line: click.echo(line, err=True))
    for result in results:
        click.echo(result.line())
    sys.exit(exit_code(results))


@fleet.command("check")
@DIRS
@ROOTS
@CONFIG
def fleet_check(dirs: tuple[Path, ...], roots_flag: bool, config: Path | None) -> None:
    """Load every client's configuration and show where its data lives (exit 1 if any fails)."""
    found, _, _ = _clients(dirs, config)
    for client in found:
        click.echo(f"{client.name}: {client.error}" if client.error else
                   f"{client.name}: ok, store {client.store}")
    sys.exit(1 if any(c.error for c in found) else 0)
