"""Run one job for every client, a few at a time, each in a child process of its own.

A child per client: one client's crash, memory or Scrapy reactor never touches another's, and each
child is the same `seo run JOB --root DIR` a person would type (its run recorded in that client's
own store, under that client's own job lock). The child's output goes to the client's
`build/logs/fleet-JOB.log`; the result is read back from the client's store (its runs row).

SIGTERM (or Ctrl-C): no new client starts, running ones get SIGTERM (each finishes its running
step); a second one is passed on too (they stop now). A client past its time limit gets SIGTERM,
then SIGKILL after a grace period.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa

from ..store import open_store
from ..tables import runs
from .clients import Client

CHILD = [sys.executable, "-m", "seo"]  # the `seo` command each client runs as
POLL = 0.1  # seconds between looks at the running children
KILL_GRACE = 120.0  # seconds between SIGTERM and SIGKILL for a client past its time limit
FAILING = ("failed", "error", "interrupted", "timed out")


@dataclass
class ClientResult:
    client: Client
    status: str  # ok, failed, skipped, interrupted, timed out, error (config), not started
    seconds: float = 0.0
    detail: str = ""
    log: Path | None = None

    @property
    def failed(self) -> bool:
        return self.status in FAILING or self.detail.startswith("already running")

    def line(self) -> str:
        text = f"{self.client.name}: {self.status}"
        if self.status not in ("error", "not started"):
            text += f" in {self.seconds:.0f} s"
        if self.detail:
            text += f": {self.detail}"
        if self.failed and self.log is not None:
            text += f" (log: {self.log})"
        return text


@dataclass
class _Running:
    client: Client
    proc: subprocess.Popen[bytes]
    started: float
    last_run_id: int
    log: Path
    deadline: float
    terminated_at: float | None = None


Echo = Callable[[str], None]


def run_fleet(clients: list[Client], job: str, *, concurrency: int = 2,
              timeout_minutes: float = 240, echo: Echo | None = None) -> list[ClientResult]:
    """Run `job` for every client, at most `concurrency` at once; results in the clients' order."""
    echo = echo or (lambda _line: None)
    results: dict[int, ClientResult] = {}
    queue = []
    for i, client in enumerate(clients):
        if client.error:
            results[i] = ClientResult(client, "error", detail=client.error.removeprefix("error: "))
        else:
            queue.append(i)
    running: dict[int, _Running] = {}
    started = 0
    stop = _StopSignals()
    with stop:
        while queue or running:
            while queue and len(running) < concurrency and not stop.requested:
                i = queue.pop(0)
                running[i] = _start(clients[i], job, timeout_minutes)
                started += 1
                echo(f"{clients[i].name}: started ({started} of {len(clients)})")
            if stop.requested and queue:
                for i in queue:
                    results[i] = ClientResult(clients[i], "not started", detail="stopping (signal)")
                queue = []
            for i, r in list(running.items()):
                if r.proc.poll() is None:
                    _enforce(r, stop)
                    continue
                del running[i]
                results[i] = _finish(r, job)
                echo(results[i].line())
            if running:
                time.sleep(POLL)
    return [results[i] for i in range(len(clients))]


def _start(client: Client, job: str, timeout_minutes: float) -> _Running:
    log_dir = client.root / "build" / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"fleet-{job}.log"
    last = _last_run_id(client)
    with log.open("wb") as out:  # the child keeps its own handle
        proc = subprocess.Popen([*CHILD, "run", job, "--root", str(client.root), "--trigger", "fleet"],
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, cwd=client.root,
                                start_new_session=True)  # our Ctrl-C is passed on by us, once
    now = time.monotonic()
    return _Running(client, proc, now, last, log, deadline=now + timeout_minutes * 60)


def _enforce(r: _Running, stop: _StopSignals) -> None:
    """Pass on signals, and stop a client past its time limit."""
    now = time.monotonic()
    for signum in stop.pending_for(r):
        r.proc.send_signal(signum)
    if r.terminated_at is None and now > r.deadline:
        r.proc.send_signal(signal.SIGTERM)
        r.terminated_at = now
    elif r.terminated_at is not None and now > r.terminated_at + KILL_GRACE:
        r.proc.kill()


def _finish(r: _Running, job: str) -> ClientResult:
    seconds = time.monotonic() - r.started
    if r.terminated_at is not None:
        return ClientResult(r.client, "timed out", seconds, "stopped at its time limit", r.log)
    row = _run_row(r.client, job, r.last_run_id)
    if row is None:  # it stopped before recording a run: a configuration error, most likely
        return ClientResult(r.client, "error", seconds, _last_line(r.log) or
                            f"exit {r.proc.returncode}", r.log)
    return ClientResult(r.client, row["status"], seconds, _detail(row), r.log)


def _detail(row: dict[str, Any]) -> str:
    try:
        counts = json.loads(row["counts"] or "{}")
    except ValueError:
        counts = {}
    steps = counts.get("steps") if isinstance(counts, dict) else None
    if isinstance(steps, dict) and steps:
        tally: dict[str, list[str]] = {}
        for name, status in steps.items():
            tally.setdefault(str(status), []).append(str(name))
        parts = [f"{len(names)} {status}" + ("" if status in ("ok", "skipped") else
                                             f" ({', '.join(names)})")
                 for status, names in sorted(tally.items())]
        text = f"{len(steps)} steps: " + ", ".join(parts)
        return f"{text}; {row['error']}" if row["error"] and row["status"] != "failed" else text
    if row["error"]:
        return str(row["error"]).splitlines()[0][:300]
    if isinstance(counts, dict):
        return ", ".join(f"{k} {v}" for k, v in counts.items() if not isinstance(v, dict | list))
    return ""


def _store(client: Client) -> Any:
    return open_store(client.url, client.root, client.schema)


def _last_run_id(client: Client) -> int:
    store = _store(client)
    try:
        with store.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(runs.c.id), 0))).scalar()
                       or 0)
    finally:
        store.engine.dispose()


def _run_row(client: Client, job: str, after: int) -> dict[str, Any] | None:
    """The run the child recorded: its job's first row with trigger fleet after `after`."""
    store = _store(client)
    try:
        with store.engine.connect() as conn:
            row = conn.execute(sa.select(runs).where(runs.c.id > after, runs.c.job == job,
                                                     runs.c.trigger == "fleet")
                               .order_by(runs.c.id).limit(1)).first()
    finally:
        store.engine.dispose()
    return dict(row._mapping) if row is not None else None


def _last_line(log: Path) -> str:
    try:
        with log.open("rb") as fh:
            fh.seek(max(0, log.stat().st_size - 4096))
            lines = fh.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1][:300].removeprefix("error: ") if lines else ""


class _StopSignals:
    """SIGTERM/SIGINT while the fleet runs: remembered, and passed on to each running child once
    per signal received (children started later are not sent earlier signals)."""

    def __init__(self) -> None:
        self.received: list[int] = []
        self.sent: dict[int, int] = {}  # id(running) -> signals already passed on
        self.saved: dict[int, Any] = {}

    @property
    def requested(self) -> bool:
        return bool(self.received)

    def pending_for(self, r: _Running) -> list[int]:
        done = self.sent.get(id(r), 0)
        self.sent[id(r)] = len(self.received)
        return [signal.SIGTERM] * (len(self.received) - done)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)
        print(f"{signal.Signals(signum).name}: stopping; no new client starts, running ones are "
              "told to stop (send again to interrupt them)", file=sys.stderr, flush=True)

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self.saved[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)


def exit_code(results: list[ClientResult]) -> int:
    return 1 if any(r.failed for r in results) else 0

