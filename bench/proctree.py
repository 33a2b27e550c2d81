"""Time a command as a user runs it, from the outside: wall time, CPU time and the peak memory of
its whole process tree (the process and every descendant, e.g. a forked render child).

Memory: a sampler thread walks the tree every 20 ms (children from /proc/PID/task/*/children) and
reads each process's /proc/PID/smaps_rollup. Two sums per sample; the peak of each is reported:
  pss  proportional set size: a page shared by k processes counts 1/k in each, so the sum is the
       tree's resident memory with pages shared after a fork counted once (the figure to hold
       against a memory budget);
  rss  resident set size: shared pages counted in every process that maps them (an upper bound:
       a forked child's copy-on-write pages appear twice).
`/usr/bin/time -v` reports only the largest single process's peak (getrusage's ru_maxrss); a
cgroup's memory.peak would also charge the files written to tmpfs. Sampling can miss a spike
shorter than 20 ms; each process's own kernel high-water mark (VmHWM) bounds it, and the sum of
those is reported as `hwm` (an upper bound of anything sampled).

CPU: user + system seconds of the process and all its descendants that were waited for (wait4).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

INTERVAL = 0.02


@dataclass
class Measure:
    wall: float  # seconds
    cpu: float  # user + system seconds, whole tree
    pss_mib: float  # peak of the tree's summed PSS
    rss_mib: float  # peak of the tree's summed RSS
    hwm_mib: float  # sum of each process's own peak RSS (VmHWM), last seen
    returncode: int
    processes: int  # processes seen in the tree
    stdout: str


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            except OSError:
                continue
            out += [int(c) for c in text.split()]
    except OSError:
        pass
    return out


def _tree(root: int) -> list[int]:
    seen, todo = [], [root]
    while todo and len(seen) < 10_000:
        pid = todo.pop()
        seen.append(pid)
        todo += _children(pid)
    return seen


def _rollup(pid: int) -> tuple[int, int]:
    """(rss kB, pss kB) of one process; (0, 0) once it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"Pss:"):
                    pss = int(line.split()[1])
                    break
    except (OSError, ValueError):
        pass
    return rss, pss


def _hwm(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 3600) -> Measure:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = {"rss": 0, "pss": 0}
    hwm: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            rss = pss = 0
            for pid in _tree(proc.pid):
                r, p = _rollup(pid)
                rss, pss = rss + r, pss + p
                h = _hwm(pid)
                if h:
                    hwm[pid] = max(hwm.get(pid, 0), h)
            peak["rss"], peak["pss"] = max(peak["rss"], rss), max(peak["pss"], pss)
            done.wait(INTERVAL)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    reader.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.002)
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    reader.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measure(wall=wall, cpu=usage.ru_utime + usage.ru_stime, pss_mib=peak["pss"] / 1024,
                   rss_mib=peak["rss"] / 1024, hwm_mib=sum(hwm.values()) / 1024,
                   returncode=proc.returncode, processes=len(hwm),
                   stdout=b"".join(out_chunks).decode("utf-8", "replace"))
