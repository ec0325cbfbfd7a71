"""SIGTERM and SIGHUP stop a run the way Ctrl-C does: by cancelling the run's main task.

Under anyio.run, asyncio's runner answers the first SIGINT by cancelling the main task: the calls in flight are
cancelled and settled as on Ctrl-C (the ledger keeps them `sending`; resume settles them), the run writes its
report, and the runner raises KeyboardInterrupt at the end. A SIGTERM (systemd, docker stop, kill) or SIGHUP (the
terminal went away) cancels the same task the same way; the run then ends in CancelledError. A signal the process
was started ignoring (SIGINT in a background job of a script, SIGHUP under nohup) stays ignored.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TypeVar

T = TypeVar("T")

#: the signals that stop a run like Ctrl-C
STOPPING = (signal.SIGTERM, signal.SIGHUP)

_received: list[int] = []


def _not_ignored() -> list[signal.Signals]:
    """The signals to catch: none off the main thread (only it may handle signals: bulkload run from a thread of a
    program leaves them to that program), and one ignored stays ignored (`nohup`: a hangup is not to stop the
    run)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    return [sig for sig in STOPPING if signal.getsignal(sig) is not signal.SIG_IGN]


def _raise(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


@contextmanager
def installed() -> Iterator[None]:
    """While the block runs, outside the event loop (reading the job file, a dry run), SIGTERM and SIGHUP raise
    KeyboardInterrupt, as Ctrl-C does there (main thread only); the handlers before are put back after."""
    _received.clear()
    before = {sig: signal.getsignal(sig) for sig in _not_ignored()}
    for sig in before:
        signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler)


def _stop(signum: int, task: asyncio.Task[object]) -> None:
    _received.append(signum)
    task.cancel()


async def on_signals(work: Awaitable[T]) -> T:
    """Await `work` (asyncio, main thread) with SIGTERM and SIGHUP cancelling it as Ctrl-C does."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    before = {sig: signal.getsignal(sig) for sig in _not_ignored()}
    for sig in before:
        loop.add_signal_handler(sig, _stop, sig, task)
    try:
        return await work
    finally:
        for sig, handler in before.items():
            loop.remove_signal_handler(sig)
            signal.signal(sig, handler)  # as before the loop, not the default it leaves


def reason() -> str:
    """Why the run was interrupted, for its report and message: the first signal received."""
    if _received:
        return f"stopped by {signal.Signals(_received[0]).name}"
    return "interrupted (Ctrl-C)"
