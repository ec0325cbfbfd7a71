"""A process that must end with the one that started it: the planning child (planning.child), and the keeper of a
throwaway PostgreSQL server (sandbox/postgres.py), which a kill -9 or a timeout of the process that started them
would otherwise leave running for nobody."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress

#: Linux prctl(2) option: the signal the kernel sends this process when the thread that made it ends
_PR_SET_PDEATHSIG = 1
#: how often the portable watch looks whether the parent is still there, in seconds
WATCH_S = 1.0


def leave_signals_to_parent() -> None:
    """Ignore a terminal's Ctrl-C and hangup: sent to the whole process group, they are the parent's to answer,
    and the parent ends this process when it is done with it."""
    for sig in (signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


def die_with_parent(parent: int) -> None:
    """This process ends when `parent` does (a kill -9 of the loader leaves no planner planning a huge file for
    nobody): on Linux the kernel kills it at once (PR_SET_PDEATHSIG; the parent's thread that started it is the
    event loop's, which lives as long as the run); everywhere a daemon thread looks every WATCH_S seconds whether
    it was handed to another parent and ends the process if so. Ctrl-C and hangup are left to the parent
    (leave_signals_to_parent)."""
    leave_signals_to_parent()
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    threading.Thread(target=watch_parent, args=(parent, WATCH_S), name="bulkload-parent-watch", daemon=True).start()


def watch_parent(parent: int, every_s: float, orphaned: Callable[[], None] = lambda: os._exit(1)) -> None:
    """Call `orphaned` once `parent` is no longer this process's parent (it died: the process was handed to init
    or a subreaper), looking every `every_s` seconds; also at once, for a parent that died before the watch began."""
    while os.getppid() == parent:
        time.sleep(every_s)
    orphaned()
