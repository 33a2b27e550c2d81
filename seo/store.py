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
from .redact import redact
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
                error=redact(error)[:2000]))


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# DBAPI module -> what to install (the README's PostgreSQL example needs psycopg)
DRIVERS = {"psycopg": "pip install 'seo[postgres]' (psycopg 3)",
           "psycopg2": "pip install psycopg2-binary, or use postgresql+psycopg:// with "
                       "pip install 'seo[postgres]'",
           "pg8000": "pip install pg8000", "asyncpg": "a synchronous driver: use postgresql+psycopg://",
           "pymysql": "pip install pymysql", "MySQLdb": "pip install mysqlclient",
           "mysql": "pip install mysql-connector-python", "oracledb": "pip install oracledb",
           "pyodbc": "pip install pyodbc"}
CONNECT_TIMEOUT = 10  # seconds to reach a database server


WHERE = {"file": "config/site.yaml", "key": "site.store"}


def check_store(url: str, root: Path | None = None) -> None:
    """What `open_store` would refuse, found without connecting or creating anything (`seo check`):
    a bad URL, an unknown database, a missing driver, a SQLite folder that cannot be made."""
    path = sqlite_path(url)
    if path is not None:
        path = path if path.is_absolute() or root is None else root / path
        if path.is_dir():
            raise UserError(f"{str(path)!r} is a folder; give a file path for the SQLite store",
                            **WHERE)
        existing = next((p for p in path.parents if p.exists()), None)
        if existing is not None and not existing.is_dir():
            raise UserError(f"cannot create the folder {str(path.parent)!r} for the SQLite store: "
                            f"{str(existing)!r} is a file", **WHERE)
        return
    _engine(url).dispose()


def open_store(url: str, root: Path | None = None) -> Store:
    """Open (and create if needed) the store. Relative SQLite paths are relative to `root`.

    Every way this can fail (a driver that is not installed, a server that does not answer, a
    folder that cannot be created) is one line naming `site.store` and what to install or fix;
    the URL is shown without its password."""
    where = WHERE
    path = sqlite_path(url)
    if path is not None:
        if not path.is_absolute() and root is not None:
            path = root / path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"cannot create the folder {str(path.parent)!r} for the SQLite store: "
                            f"{exc.strerror or type(exc).__name__}", **where) from None
        if path.is_dir():
            raise UserError(f"{str(path)!r} is a folder; give a file path for the SQLite store",
                            **where)
        url = f"sqlite:///{path}"
    engine = _engine(url)
    shown = engine.url.render_as_string(hide_password=True)
    try:
        if engine.dialect.name == "sqlite":  # before the first connection, so every one has WAL
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        metadata.create_all(engine)
    except sa.exc.DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None and str(exc.orig) \
            else type(exc.orig or exc).__name__
        hint = " (is the server running and reachable?)" if isinstance(
            exc, sa.exc.OperationalError) and engine.dialect.name != "sqlite" else ""
        raise UserError(f"cannot open store {shown!r}: {reason}{hint}", **where) from None
    except (sa.exc.SQLAlchemyError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot open store {shown!r}: {reason}", **where) from None
    return Store(engine)


def _engine(url: str) -> Engine:
    """An engine for `url` (no connection yet), or one line: bad URL, unknown type, no driver."""
    where = WHERE
    try:
        parsed = sa.engine.make_url(url)
        shown = parsed.render_as_string(hide_password=True)
    except (sa.exc.ArgumentError, ValueError):
        raise UserError("not a database URL (e.g. sqlite:///build/seo.sqlite3 or "
                        "postgresql+psycopg://user@host/seo)", **where) from None
    try:
        args = {"connect_timeout": CONNECT_TIMEOUT} if parsed.get_backend_name() in (
            "postgresql", "mysql", "mariadb") else {}
        return sa.create_engine(parsed, connect_args=args)
    except sa.exc.NoSuchModuleError:
        raise UserError(f"unknown database type in {shown!r} (sqlite or postgresql+psycopg)",
                        **where) from None
    except ImportError as exc:
        module = (exc.name or "").split(".")[0]
        hint = DRIVERS.get(module, f"install the Python package that provides {module!r}")
        raise UserError(f"the database driver {module!r} for {shown!r} is not installed: {hint}",
                        **where) from None
    except (sa.exc.SQLAlchemyError, ValueError, TypeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"cannot use store {shown!r}: {reason}", **where) from None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()

