"""Google's limit of 10 edits a minute per Business Profile, kept across processes.

Back-to-back runs, a manual `seo listing posts` beside the scheduled sync, two machines on one
PostgreSQL store: each process had its own window and together they sent 36-40 edits a minute.
`StoreRateLimiter` keeps the window in the store (`gbp_edits`): taking a slot is one short
transaction that holds the database's write lock (SQLite `BEGIN IMMEDIATE`, a PostgreSQL advisory
lock per profile), counts the profile's edits in the last minute and records the new one only if
there is room; otherwise it sleeps until the oldest edit of the window is a minute old and tries
again. A slot taken by a process that then dies still counts: the limit errs on the safe side.

Google counts an edit when it arrives, which can be well after the slot was taken (a token refresh
first, a loaded machine): measured at the server, slots stamped when taken let 11 edits into one
minute. So a slot is stamped with the latest moment its request can arrive (taken + `in_flight`,
the client's timeouts) until the request is over, then with the moment it ended: the 11th edit
starts only once the first one's request has been over for a minute.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import ExternalError
from ..store import Store
from ..tables import gbp_edits

Clock = Callable[[], float]
Sleep = Callable[[float], None]
KEEP = 3600.0  # seconds of edit history kept
SKEW = 0.05  # seconds added to each wait, for clocks of different processes


class StoreRateLimiter:
    """At most `limit` edits per `period` seconds per profile, for every process on the store.

    `clock` must be wall-clock time shared by the processes (time.time), not a monotonic clock.
    """

    def __init__(self, store: Store, limit: int = 10, period: float = 60.0,
                 clock: Clock = time.time, sleep: Sleep = time.sleep, max_wait: float = 3600.0,
                 in_flight: float = 60.0) -> None:
        self.store, self.limit, self.period = store, limit, period
        self.clock, self.sleep, self.max_wait, self.in_flight = clock, sleep, max_wait, in_flight
        self.waited = 0.0

    @contextmanager
    def _locked(self, key: str) -> Iterator[Connection]:
        engine = self.store.engine
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, before counting
            elif engine.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"),
                             {"k": zlib.crc32(f"gbp-edits|{key}".encode())})
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def try_acquire(self, key: str) -> tuple[int, float]:
        """Take a slot now: (its id, 0.0); or (0, seconds until one frees up)."""
        now = self.clock()
        with self._locked(key) as conn:
            window = [at for (at,) in conn.execute(
                sa.select(gbp_edits.c.at).where(gbp_edits.c.profile == key,
                                                gbp_edits.c.at > now - self.period)
                .order_by(gbp_edits.c.at))]
            if len(window) < self.limit:
                conn.execute(gbp_edits.delete().where(gbp_edits.c.at < now - KEEP))
                slot = conn.execute(gbp_edits.insert().values(profile=key,
                                                              at=now + self.in_flight))
                return int(slot.inserted_primary_key[0]), 0.0
            return 0, max(window[-self.limit] + self.period - now, 0.0) + SKEW

    def done(self, slot: int) -> None:
        """The slot's request is over: from now on it counts from this moment."""
        with self.store.begin() as conn:
            conn.execute(gbp_edits.update().where(gbp_edits.c.id == slot,
                                                  gbp_edits.c.at > self.clock())
                         .values(at=self.clock()))

    def acquire(self, key: str) -> int:
        waited = 0.0
        while True:
            slot, pause = self.try_acquire(key)
            if slot:
                return slot
            if waited + pause > self.max_wait:  # a clock far off, or a flood of edits elsewhere
                raise ExternalError(f"no Business Profile edit slot for {key} within "
                                    f"{self.max_wait:g}s (integrations.gbp.edits_per_minute)")
            waited += pause
            self.waited += pause
            self.sleep(pause)
