"""Crawl children that die with their parent.

A Scrapy crawl runs in a child process (the reactor can't restart). If the parent is killed
(SIGKILL, the OOM killer, a second SIGTERM) the child used to live on as an orphan: a rank check
killed and started again had two crawls fetching the same keywords. On Linux a child asks the
kernel for a signal when its parent dies (prctl PR_SET_PDEATHSIG); the parent's pid is passed in,
and checked after the call, so a parent that died before it is noticed too.

The kernel sends that signal once for every thread of the dying parent (the child is handed to
the next thread, then the next), so a graceful stop that takes a second signal as "force" must
not get it raw: `graceful_on_parent_death` turns the first one into a single SIGTERM.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PARENT_ENV = "SEO_PARENT_PID"


def die_with_parent(sig: int = signal.SIGTERM) -> bool:
    """Have `sig` sent to this process when the parent process ends. False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)  # the C library already loaded (no find_library fork)
    if libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) != 0:
        return False
    expected = os.environ.get(PARENT_ENV)
    if expected and expected.isdigit() and os.getppid() != int(expected):
        os.kill(os.getpid(), sig)  # the parent was gone before we asked
    return True


def graceful_on_parent_death() -> bool:
    """When the parent dies, send this process one SIGTERM (Scrapy: stop gracefully), however
    many threads the parent had."""
    fired = False

    def once(_signum: int, _frame: object) -> None:
        nonlocal fired
        if not fired:
            fired = True
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGUSR1, once)
    return die_with_parent(signal.SIGUSR1)


def child_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a crawl child: the parent's pid, for `die_with_parent`."""
    return {**(os.environ if env is None else env), PARENT_ENV: str(os.getpid())}
