"""Which clients a fleet run covers: `--roots DIR...` or a fleet file, each checked to have a store
of its own."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from pydantic import Field

from ..errors import UserError
from ..settings import Strict
from ..site import load_site
from ..store import sqlite_path
from ..validate import validate_model
from ..yamlio import load_yaml

MAX_CLIENTS = 10_000


class FleetFile(Strict):
    """fleet.yaml: the clients' project folders (relative to the file; glob patterns allowed)."""

    roots: list[str] = Field(min_length=1)
    concurrency: int = Field(default=2, ge=1, le=64)
    timeout_minutes: int = Field(default=240, ge=1, le=24 * 60)


@dataclass
class Client:
    name: str  # the folder's name, or its path when two folders share a name
    root: Path
    store: str = ""  # where its data lives (no password): a SQLite file, or a database and schema
    error: str = ""  # its configuration cannot be loaded: reported, not run
    url: str = ""  # site.store and site.store_schema, to read its runs
    schema: str | None = None


def load_fleet(path: Path) -> tuple[FleetFile, list[Path]]:
    """The fleet file and the folders it names, in order (patterns expanded, sorted)."""
    shown = str(path)
    fleet = validate_model(FleetFile, load_yaml(path, shown))
    base = path.resolve().parent
    roots: list[Path] = []
    for i, entry in enumerate(fleet.roots):
        pattern = str(base / entry) if not Path(entry).is_absolute() else entry
        if glob.has_magic(pattern):
            found = sorted(Path(p) for p in glob.glob(pattern) if (Path(p) / "config").is_dir())
            if not found:
                raise UserError(f"{entry!r} matches no project folder", file=shown,
                                key=f"roots[{i}]")
            roots += found
        else:
            roots.append(Path(pattern))
    return fleet, roots


def store_identity(url: str, root: Path, schema: str | None) -> str:
    """Where a project's data lives, comparable between projects, without a password."""
    path = sqlite_path(url)
    if path is not None:
        path = path if path.is_absolute() else root / path
        return f"sqlite:{path.resolve()}"
    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        return url  # loading the project already refused it
    where = f"{parsed.get_backend_name()}://{parsed.host or ''}:{parsed.port or ''}/{parsed.database}"
    return f"{where} schema {schema or 'public'}"


def clients(roots: list[Path]) -> list[Client]:
    """Each folder loaded (a bad configuration is that client's error, not the fleet's); two clients
    on one store refuse the whole run."""
    if not roots:
        raise UserError("no client folders: give --roots DIR... or --config FLEET_FILE")
    if len(roots) > MAX_CLIENTS:
        raise UserError(f"{len(roots)} client folders; at most {MAX_CLIENTS:,} in one fleet run")
    resolved = [r.resolve() for r in roots]
    seen_roots: dict[Path, int] = {}
    for i, r in enumerate(resolved):
        if r in seen_roots:
            raise UserError(f"{roots[i]} is given twice", key="--roots")
        seen_roots[r] = i
    names = [r.name for r in resolved]
    out = []
    for given, root, name in zip(roots, resolved, names, strict=True):
        client = Client(name=name if names.count(name) == 1 else str(given), root=root)
        try:
            site = load_site(root)
        except UserError as exc:
            client.error = f"error: {exc}"
        else:
            options = site.config.site
            client.store = store_identity(options.store, site.root, options.store_schema)
            client.url, client.schema = options.store, options.store_schema
        out.append(client)
    owners: dict[str, Client] = {}
    for client in out:
        if not client.store:
            continue
        other = owners.get(client.store)
        if other is not None:
            raise UserError(f"clients {other.name} and {client.name} share one store ({client.store}); "
                            "give each its own database, SQLite file or site.store_schema, so that "
                            "their data never mixes")
        owners[client.store] = client
    return out
