"""The rankings tables and the rules for writing them.

An observation is one (source, kind, keyword, town, device, day). Three states, never confused:
measured with a position; measured and not found (position NULL, measured true: "not in the top
N"); not measured (a failure, with the reason). Writing is an upsert on that key, so a check that
is run again (or resumed after an interruption) replaces rather than double-counts, and a failure
never overwrites a measurement of the same day.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ..store import Store, metadata, now

observations = sa.Table(
    "rank_observations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(32), nullable=False),  # search_console, dataforseo, serpapi
    sa.Column("kind", sa.String(16), nullable=False),  # organic, local_pack, maps
    sa.Column("keyword", sa.String(256), nullable=False),
    sa.Column("town", sa.String(128), nullable=False),  # "" = not town-specific (Search Console)
    sa.Column("device", sa.String(16), nullable=False),  # desktop, mobile, all
    sa.Column("day", sa.Date, nullable=False),
    sa.Column("measured", sa.Boolean, nullable=False),
    sa.Column("position", sa.Float),  # NULL: not found (measured) or not measured
    sa.Column("url", sa.String(1024), nullable=False, default=""),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("clicks", sa.Integer),
    sa.Column("impressions", sa.Integer),
    sa.Column("ctr", sa.Float),
    sa.Column("provisional", sa.Boolean, nullable=False, default=False),
    sa.Column("competitors", sa.Text, nullable=False, default="[]"),  # JSON list, top results
    sa.Column("run_id", sa.Integer),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("source", "kind", "keyword", "town", "device", "day", name="uq_rank_obs"),
)
sa.Index("ix_rank_obs_day", observations.c.day)

sc_rows = sa.Table(
    "search_console_rows", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("query", sa.String(512), primary_key=True),
    sa.Column("page", sa.String(1024), primary_key=True),
    sa.Column("clicks", sa.Integer, nullable=False),
    sa.Column("impressions", sa.Integer, nullable=False),
    sa.Column("ctr", sa.Float, nullable=False),
    sa.Column("position", sa.Float, nullable=False),
    sa.Column("provisional", sa.Boolean, nullable=False),
)

serp_spend = sa.Table(
    "serp_spend", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("provider", sa.String(32), nullable=False),
    sa.Column("month", sa.String(7), nullable=False, index=True),  # "2026-11"
    sa.Column("requests", sa.Integer, nullable=False),
    sa.Column("batch", sa.String(64), nullable=False, unique=True),  # one row per crawl batch
    sa.Column("recorded_at", sa.DateTime, nullable=False),
)

KEY = ("source", "kind", "keyword", "town", "device", "day")


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
        data = asdict(self)
        data["competitors"] = json.dumps(self.competitors, sort_keys=True)
        data["run_id"] = run_id
        data["updated_at"] = stamp
        return data


def _upsert(store: Store, table: sa.Table, rows: Sequence[dict[str, Any]], keys: Sequence[str],
            keep_measured: bool) -> None:
    if not rows:
        return
    dialect = store.engine.dialect.name
    if dialect in ("sqlite", "postgresql"):
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        stmt = insert(table)
        cols = {c.name: stmt.excluded[c.name] for c in table.columns
                if c.name not in keys and not c.primary_key}
        where = (sa.or_(table.c.measured.is_(False), stmt.excluded.measured.is_(True))
                 if keep_measured else None)
        stmt = stmt.on_conflict_do_update(index_elements=list(keys), set_=cols, where=where)
        with store.begin() as conn:
            for start in range(0, len(rows), 20000):
                conn.execute(stmt, list(rows[start:start + 20000]))
        return
    with store.begin() as conn:  # portable fallback: one row at a time
        for row in rows:
            cond = sa.and_(*(table.c[k] == row[k] for k in keys))
            old = conn.execute(sa.select(table).where(cond)).first()
            if old is None:
                conn.execute(table.insert().values(**row))
            elif not keep_measured or not old.measured or row["measured"]:
                conn.execute(table.update().where(cond).values(**row))


def save_observations(store: Store, obs: Iterable[Observation], run_id: int | None = None) -> int:
    stamp = now()
    rows = [o.row(run_id, stamp) for o in obs]
    _upsert(store, observations, rows, KEY, keep_measured=True)
    return len(rows)


def save_sc_rows(store: Store, rows: Sequence[dict[str, Any]]) -> None:
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
