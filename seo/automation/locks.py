"""Store-wide locks on PostgreSQL: two processes on one store (two machines, or two project folders
sharing one database) never run one job twice, nor two schedulers.

A lock is a session-level advisory lock (`pg_try_advisory_lock`, keyed by the store's schema and
the lock's name) taken on a connection of its own
(autocommit: no transaction stays open for the length of a job) and held while the job runs. The
server drops it the moment the holding process's connection closes, so a process killed outright
never leaves a stale lock behind (no lease to expire). The `lock_holders` row says who holds it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from ..store import Store, now
from ..tables import lock_holders

log = logging.getLogger("seo.locks")


def uses_advisory_locks(store: Store) -> bool:
    return store.engine.dialect.name == "postgresql"


def _key(schema: str, name: str) -> int:
    """A signed 64-bit key (advisory locks are keyed by bigint) for the lock name in the schema:
    advisory locks are per database, and projects sharing a database each have their own schema."""
    digest = hashlib.sha256(f"seo:{schema}:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def me() -> str:
    return f"pid {os.getpid()} on {socket.gethostname()}"


@contextmanager
def advisory_lock(store: Store, name: str) -> Iterator[str | None]:
    """Hold the store-wide lock `name` for the block; yields None when held, else who holds it."""
    conn = store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    try:
        key = _key(str(conn.execute(sa.text("SELECT current_schema()")).scalar()), name)
        got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
        if not got:
            holder = conn.execute(sa.select(lock_holders.c.holder)
                                  .where(lock_holders.c.name == name)).scalar()
            yield holder or "another process on this store"
            return
        holder = me()
        conn.execute(lock_holders.delete().where(lock_holders.c.name == name))
        conn.execute(lock_holders.insert().values(name=name, holder=holder, since=now()))
        try:
            yield None
        finally:
            try:
                conn.execute(lock_holders.delete().where(lock_holders.c.name == name,
                                                         lock_holders.c.holder == holder))
                conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            except sa.exc.DBAPIError:  # the connection is gone, and the lock with it
                log.warning("lock %s: connection lost before release", name)
    finally:
        conn.close()
