"""The rankings tables and the rules for writing them.

An observation is one (source, kind, keyword, town, device, day). Three states, never confused:
measured with a position; measured and not found (position NULL, measured true: "not in the top
N"); not measured (a failure, with the reason). Writing is an upsert on that key, so a check that
is run again (or resumed after an interruption) replaces rather than double-counts, and a failure
never overwrites a measurement of the same day.

The unique index leads with the day: a day's check then lands at the end of the index instead of in
one place per series all over it (which made a two-year store crawl at a few thousand rows a
second), and the readers (movements, show, export, a resumed check) all ask for a range of days.
Writes stream in batches inside one transaction: duplicates within a batch are folded in Python by
the same rule as the database's (PostgreSQL refuses to touch one row twice in one statement).
"""

from __future__ import annotations

import functools
import json
import operator
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..redact import redact
from ..store import Store, now
from ..tables import observations, sc_rows, serp_spend

KEY = ("source", "kind", "keyword", "town", "device", "day")  # a series, then its days
INDEX_KEY = ("day", "source", "kind", "keyword", "town", "device")  # the unique index's order


@functools.lru_cache(maxsize=4096)
def _redact(reason: str) -> str:
    """A failure reason can quote the provider's answer: credentials out before it is stored
    (cached: a failed check repeats one reason for many keywords)."""
    return redact(reason) if reason else reason


@dataclass
class Observation:
    source: str
    kind: str
    keyword: str
    town: str
    device: str
    day: date
    measured: bool
    position: float | None = None
    url: str = ""
    reason: str = ""
    clicks: int | None = None
    impressions: int | None = None
    ctr: float | None = None
    provisional: bool = False
    competitors: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.measured and self.position is not None:
            raise ValueError("a failed measurement cannot carry a position")
        if not self.measured and not self.reason:
            raise ValueError("a failed measurement needs a reason")
        if self.position is not None and self.position < 1:
            raise ValueError(f"position {self.position} is not a rank (ranks start at 1)")

    def row(self, run_id: int | None, stamp: datetime) -> dict[str, Any]:
        # spelled out: dataclasses.asdict deep-copies every field and was most of a bulk store's time
        return {"source": self.source, "kind": self.kind, "keyword": self.keyword, "town": self.town,
                "device": self.device, "day": self.day, "measured": self.measured,
                "position": self.position, "url": self.url, "reason": _redact(self.reason),
                "clicks": self.clicks, "impressions": self.impressions, "ctr": self.ctr,
                "provisional": self.provisional,
                "competitors": json.dumps(self.competitors, sort_keys=True) if self.competitors else "[]",
                "run_id": run_id, "updated_at": stamp}


BATCH_ROWS = 5000


def _keep(old: dict[str, Any], new: dict[str, Any], keep_measured: bool) -> dict[str, Any]:
    """The database's rule, for two rows with one key: the later wins, except that a failure
    never replaces a measurement."""
    return old if keep_measured and old["measured"] and not new["measured"] else new


def _batches(rows: Iterable[dict[str, Any]], keys: Sequence[str], keep_measured: bool,
             size: int) -> Iterator[list[dict[str, Any]]]:
    """Rows in batches of distinct keys (duplicates folded by `_keep`), each sorted by key."""
    pending: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple([row[k] for k in keys])
        old = pending.get(key)
        pending[key] = row if old is None else _keep(old, row, keep_measured)
        if len(pending) >= size:
            yield [pending[k] for k in sorted(pending)]
            pending = {}
    if pending:
        yield [pending[k] for k in sorted(pending)]


PG_ROWS = 1000  # rows per multi-VALUES statement (PostgreSQL allows 65,535 parameters)


def _upsert_statement(table: sa.Table, dialect: str, keys: Sequence[str], keep_measured: bool,
                      values: list[dict[str, Any]] | None = None) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    stmt = insert(table) if values is None else insert(table).values(values)
    cols = {c.name: stmt.excluded[c.name] for c in table.columns
            if c.name not in keys and not c.primary_key}
    where = (sa.or_(table.c.measured.is_(False), stmt.excluded.measured.is_(True))
             if keep_measured else None)
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=cols, where=where)


def _sqlite_writer(conn: Connection, table: sa.Table, stmt: Any) -> Any:
    """executemany straight on the driver with the statement SQLAlchemy compiled and the values
    converted by the columns' own SQLAlchemy types (so they read back exactly as Core writes them):
    Core's per-row parameter handling was twice the cost of SQLite's own work."""
    dialect = conn.dialect
    names = [c.name for c in table.columns if not (c.primary_key and c.autoincrement is True)]
    compiled = stmt.compile(dialect=dialect, column_keys=names)
    order = list(compiled.positiontup or [])
    if sorted(order) != sorted(names):  # not the plain positional form expected: use Core
        return lambda rows: conn.execute(stmt, rows)
    cols = [table.c[name] for name in order]
    getter = operator.itemgetter(*order)
    defaults = [c.default.arg if c.default is not None and c.default.is_scalar else None
                for c in cols]
    converted = [(i, proc) for i, c in enumerate(cols)
                 if (proc := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    sql = str(compiled)

    def write(rows: list[dict[str, Any]]) -> None:
        memo: list[dict[Any, Any]] = [{} for _ in converted]  # a batch shares its days and stamp
        params = []
        for row in rows:
            try:
                values = list(getter(row))
            except KeyError:  # a column left to its default
                values = [row.get(name, default) for name, default in zip(order, defaults, strict=True)]
            for (i, proc), seen in zip(converted, memo, strict=True):
                value = values[i]
                if value is not None:
                    done = seen.get(value)
                    if done is None:
                        done = seen[value] = proc(value)
                    values[i] = done
            params.append(tuple(values))
        conn.exec_driver_sql(sql, params)
    return write


def _upsert(store: Store, table: sa.Table, rows: Iterable[dict[str, Any]], keys: Sequence[str],
            keep_measured: bool, batch_rows: int | None = None) -> int:
    """Insert or update `rows` on `keys` in one transaction, in batches; returns rows written."""
    dialect = store.engine.dialect.name
    batch_rows = batch_rows or BATCH_ROWS
    n = 0
    with store.begin() as conn:
        if dialect in ("sqlite", "postgresql"):
            if dialect == "sqlite":
                write = _sqlite_writer(conn, table, _upsert_statement(table, dialect, keys, keep_measured))
            else:  # one multi-VALUES statement per PG_ROWS rows: psycopg2's executemany is a
                def write(batch: list[dict[str, Any]]) -> None:  # round trip per row
                    for i in range(0, len(batch), PG_ROWS):
                        conn.execute(_upsert_statement(table, dialect, keys, keep_measured,
                                                       batch[i:i + PG_ROWS]))
            for batch in _batches(rows, keys, keep_measured, batch_rows):
                write(batch)
                n += len(batch)
            return n
        for batch in _batches(rows, keys, keep_measured, batch_rows):  # portable: row by row
            for row in batch:
                cond = sa.and_(*(table.c[k] == row[k] for k in keys))
                old = conn.execute(sa.select(table.c.measured if keep_measured else table.c[keys[0]])
                                   .where(cond)).first()
                if old is None:
                    conn.execute(table.insert().values(**row))
                elif not keep_measured or not old.measured or row["measured"]:
                    conn.execute(table.update().where(cond).values(**row))
            n += len(batch)
    return n


def save_observations(store: Store, obs: Iterable[Observation], run_id: int | None = None) -> int:
    """Store observations (any iterable, consumed as it goes: a long history never sits in memory
    whole) in one transaction; returns how many were given."""
    stamp = now()
    given = 0

    def rows() -> Iterator[dict[str, Any]]:
        nonlocal given
        for o in obs:
            given += 1
            yield o.row(run_id, stamp)

    _upsert(store, observations, rows(), INDEX_KEY, keep_measured=True)
    return given


def save_sc_rows(store: Store, rows: Iterable[dict[str, Any]]) -> None:
    _upsert(store, sc_rows, rows, ("day", "query", "page"), keep_measured=False)


def record_spend(store: Store, provider: str, month: str, requests: int, batch: str) -> None:
    """Count a crawl batch's requests against the month, once per batch (re-ingesting is a no-op)."""
    with store.begin() as conn:
        seen = conn.execute(sa.select(serp_spend.c.id).where(serp_spend.c.batch == batch)).first()
        if seen is None:
            conn.execute(serp_spend.insert().values(provider=provider, month=month,
                                                    requests=requests, batch=batch,
                                                    recorded_at=now()))


def spent(store: Store, provider: str, month: str) -> int:
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(serp_spend.c.requests), 0))
                             .where(serp_spend.c.provider == provider,
                                    serp_spend.c.month == month)).scalar()
    return int(total or 0)


def measured_keys(store: Store, source: str, day: date) -> set[tuple[str, str, str, str]]:
    """(kind, keyword, town, device) already measured on `day`: a resumed check skips these."""
    with store.engine.connect() as conn:
        result = conn.execute(sa.select(observations.c.kind, observations.c.keyword,
                                        observations.c.town, observations.c.device)
                              .where(observations.c.source == source, observations.c.day == day,
                                     observations.c.measured.is_(True)))
        return {tuple(r) for r in result}  # type: ignore[misc]


def load(store: Store, *, since: date | None = None, until: date | None = None,
         keywords: Sequence[str] | None = None, towns: Sequence[str] | None = None,
         sources: Sequence[str] | None = None) -> list[sa.Row[Any]]:
    """Observations in a stable order (source, kind, keyword, town, device, day)."""
    q = sa.select(observations)
    if since:
        q = q.where(observations.c.day >= since)
    if until:
        q = q.where(observations.c.day <= until)
    if keywords is not None:
        q = q.where(observations.c.keyword.in_(list(keywords)))
    if towns is not None:
        q = q.where(observations.c.town.in_(list(towns)))
    if sources:
        q = q.where(observations.c.source.in_(list(sources)))
    q = q.order_by(*(observations.c[k] for k in KEY))
    with store.engine.connect() as conn:
        return list(conn.execute(q))
