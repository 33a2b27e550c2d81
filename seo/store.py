"""The store: SQLAlchemy Core over SQLite by default; any SQLAlchemy URL works (PostgreSQL too).

Each pipeline stage declares its tables on the shared `metadata`; `open_store` creates what is
missing. Pages and runs live here because every stage reads them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .errors import UserError

metadata = sa.MetaData()

pages = sa.Table(
    "pages", metadata,
    sa.Column("path", sa.String(512), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("town", sa.String(128)),
    sa.Column("condition", sa.String(128)),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("indexable", sa.Boolean, nullable=False),
    sa.Column("similarity", sa.Float, nullable=False, default=0.0),
    sa.Column("twin", sa.String(512)),
    sa.Column("local_facts", sa.Integer, nullable=False, default=0),
    sa.Column("reasons", sa.Text, nullable=False, default=""),
    sa.Column("first_published", sa.Date, nullable=False),
    sa.Column("last_changed", sa.Date, nullable=False),
    sa.Column("removed", sa.Date),
)

page_events = sa.Table(
    "page_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("path", sa.String(512), nullable=False, index=True),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("event", sa.String(32), nullable=False),  # created, changed, removed, noindexed, indexed
    sa.Column("detail", sa.Text, nullable=False, default=""),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("job", sa.String(64), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime, nullable=False),
    sa.Column("finished_at", sa.DateTime),
    sa.Column("status", sa.String(16), nullable=False),  # running, ok, failed, skipped, interrupted
    sa.Column("counts", sa.Text, nullable=False, default="{}"),
    sa.Column("error", sa.Text, nullable=False, default=""),
    sa.Column("trigger", sa.String(16), nullable=False, default="manual"),
)


def sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///"))
    return None


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def page_rows(self) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as conn:
            return {r.path: dict(r._mapping) for r in conn.execute(sa.select(pages))}

    def start_run(self, job: str, trigger: str = "manual") -> int:
        with self.begin() as conn:
            result = conn.execute(runs.insert().values(
                job=job, started_at=now(), status="running", counts="{}", error="", trigger=trigger))
            return int(result.inserted_primary_key[0])

    def finish_run(self, run_id: int, status: str, counts: dict[str, Any] | None = None,
                   error: str = "") -> None:
        with self.begin() as conn:
            conn.execute(runs.update().where(runs.c.id == run_id).values(
                finished_at=now(), status=status, counts=json.dumps(counts or {}, sort_keys=True,
                                                                    default=str),
                error=error[:2000]))


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def open_store(url: str, root: Path | None = None) -> Store:
    """Open (and create if needed) the store. Relative SQLite paths are relative to `root`."""
    path = sqlite_path(url)
    if path is not None:
        if not path.is_absolute() and root is not None:
            path = root / path
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    try:
        engine = sa.create_engine(url)
        if engine.dialect.name == "sqlite":  # before the first connection, so every one has WAL
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        _register_stage_tables()
        metadata.create_all(engine)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, sa.exc.OperationalError) as exc:
        raise UserError(f"cannot open store {url!r}: {str(exc).splitlines()[0]}",
                        file="config/site.yaml", key="site.store") from None
    return Store(engine)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _register_stage_tables() -> None:
    """Import the modules that declare tables on `metadata` (each stage owns its tables)."""
    from .audit import history as _audit  # noqa: F401
    from .listing import tables as _listing  # noqa: F401
    from .rankings import observations as _rankings  # noqa: F401
