"""The store: SQLAlchemy Core over SQLite by default; any SQLAlchemy URL works (PostgreSQL too).

Every table is declared in `seo.tables` (one schema module); `open_store` creates what is missing.
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
from .tables import metadata, page_events, pages, runs

__all__ = ["Store", "metadata", "now", "open_store", "page_events", "pages", "runs", "sqlite_path"]


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


def open_store(url: str, root: Path | None = None, schema: str | None = None) -> Store:
    """Open (and create if needed) the store. Relative SQLite paths are relative to `root`;
    `schema` (PostgreSQL) keeps the project's tables in a schema of their own."""
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
        if schema is not None:
            use_schema(engine, schema)
        metadata.create_all(engine)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, sa.exc.OperationalError) as exc:
        raise UserError(f"cannot open store {url!r}: {str(exc).splitlines()[0]}",
                        file="config/site.yaml", key="site.store") from None
    return Store(engine)


def use_schema(engine: Engine, schema: str) -> None:
    """Every connection of `engine` works in `schema` (created if missing): its search_path is the
    schema alone, so tables are created, read and locked there and nowhere else (APScheduler's
    job store and raw SQL included). PostgreSQL only."""
    if engine.dialect.name != "postgresql":
        raise UserError(f"store_schema {schema!r} needs a PostgreSQL store (site.store is "
                        f"{engine.dialect.name})", file="config/site.yaml", key="site.store_schema")

    def set_path(dbapi_conn: Any, _record: Any) -> None:
        autocommit = dbapi_conn.autocommit
        dbapi_conn.autocommit = True
        cur = dbapi_conn.cursor()
        try:
            cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
            if cur.fetchone() is None:
                try:
                    cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                except Exception:  # created by another process at the same moment
                    cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
                    if cur.fetchone() is None:
                        raise
            cur.execute(f'SET search_path TO "{schema}"')
        finally:
            cur.close()
            dbapi_conn.autocommit = autocommit

    sa.event.listen(engine, "connect", set_path)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()

