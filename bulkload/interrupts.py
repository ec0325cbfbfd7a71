"""Ctrl-C, SIGTERM and SIGHUP stop a run by cancelling its main task, once.

The first of them cancels the task: the calls in flight are cancelled and settled (the ledger keeps them
`sending`; resume settles them), the run writes its report, and it ends in CancelledError. A second one while it
does so does not cut that short (an impatient double Ctrl-C would leave no report): it says what is going on and
how to stop at once, which a third does (exit 4, as a kill would: the ledger keeps what was done, and resume goes
on from it). So it stays once the loop is closed, until `installed` gives the handlers back: a KeyboardInterrupt
raised into the loop's teardown could leave a worker thread waiting, and the process with it, for good. A
SIGTERM comes from systemd, docker stop or kill, a SIGHUP when the terminal went away. A signal the process was
started ignoring (SIGINT in a background job of a script, SIGHUP under nohup) stays ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import sys
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, TypeVar

from .errors import EXIT_STOPPED

if TYPE_CHECKING:  # imported by on_signals: `bulkload` installs these handlers before it imports the rest (27 ms)
    import asyncio

T = TypeVar("T")

#: the signals that stop a run like Ctrl-C (outside the event loop, Ctrl-C raises KeyboardInterrupt anyway)
STOPPING = (signal.SIGTERM, signal.SIGHUP)

_received: list[int] = []
#: what a stop at once says to run next (see tell)
_way_on: list[Callable[[], str | None]] = []


def tell(way_on: Callable[[], str | None] | None) -> None:
    """From now on, a stop at once (a third signal) says `way_on()`: what goes on from the ledger, as the command
    that does it with the ledger's absolute path (cli), or None where it has none to say (nor where `way_on` is
    None). Asked only then: a load's ledger is named once the run has one."""
    _way_on[:] = [way_on] if way_on is not None else []


def _then() -> str:
    """How the line of a stop at once ends: the way on `tell` gave, else that resume goes on from the ledger."""
    try:
        said = _way_on[0]() if _way_on else None
    except Exception:  # the process is to end now, whatever the way on could not say
        said = None
    return f": {said}" if said else ", and resume goes on from it"


def _not_ignored() -> list[signal.Signals]:
    """The signals to catch: none off the main thread (only it may handle signals: bulkload run from a thread of a
    program leaves them to that program), and one ignored stays ignored (`nohup`: a hangup is not to stop the
    run)."""
    if threading.current_thread() is not threading.main_thread():
        return []
    return [sig for sig in STOPPING if signal.getsignal(sig) is not signal.SIG_IGN]


def _raise(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    _hung_up(signum)
    raise KeyboardInterrupt


def _hung_up(signum: int) -> None:
    """On SIGHUP the terminal is gone, and a write to it fails (EIO): what stdout and stderr show goes nowhere from
    now on where they were a terminal (a character device), so the run still writes its files and exits 4."""
    if signum != signal.SIGHUP:
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                if stat.S_ISCHR(os.fstat(fd).st_mode):
                    os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def _late(signum: int, frame: FrameType | None) -> None:
    """A stopping signal once the run's own stop is over (see on_signals), until the process ends."""
    _stop(signum, None, len(_received) + 1)


def _caught() -> list[signal.Signals]:
    """The signals that stop a run, where they are to be caught (see _not_ignored): Ctrl-C's too."""
    caught = _not_ignored()
    if caught and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        caught.append(signal.SIGINT)
    return caught


@contextmanager
def installed() -> Iterator[None]:
    """While the block runs, outside the event loop (reading the job file, a dry run), SIGTERM and SIGHUP raise
    KeyboardInterrupt, as Ctrl-C does there (main thread only); the handlers before (Ctrl-C's too, which
    on_signals leaves to the end) are put back after."""
    _received.clear()
    before = {sig: signal.getsignal(sig) for sig in _caught()}
    for sig in STOPPING:
        if sig in before:
            signal.signal(sig, _raise)
    try:
        yield
    finally:
        for sig, handler in before.items():
            # after a stop, one more signal must not end the process by its default (killed by SIGTERM, its
            # report written): the stop's own handler stays
            signal.signal(sig, _late if _received else handler)


def _stop(signum: int, task: asyncio.Task[object] | None, at: int) -> None:
    """The `at`th stopping signal since the loop began: the first cancels `task` (once the loop is closed, None:
    there is nothing left to cancel), a second says what is going on, a third exits."""
    _received.append(signum)
    _hung_up(signum)
    if at == 1 and task is not None:
        task.cancel()
    elif at < 3:
        print(
            "bulkload: stopping: the calls in flight are being settled and the reports written; to stop at once, "
            "press Ctrl-C again (the ledger keeps what was done: resume goes on from it)",
            file=sys.stderr,
            flush=True,
        )
    else:
        print(
            f"bulkload: stopped at once: what was not yet written is not; the ledger keeps what was done{_then()}",
            file=sys.stderr,
        )
        sys.stderr.flush()
        os._exit(EXIT_STOPPED)  # resumable, as after a kill


async def on_signals(work: Awaitable[T]) -> T:
    """Await `work` (asyncio, main thread) with Ctrl-C, SIGTERM and SIGHUP cancelling it once (see the module)."""
    import asyncio

    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    received = len(_received)
    caught = _caught()

    def stop(signum: int) -> None:
        _stop(signum, task, len(_received) - received + 1)

    def late(signum: int, frame: FrameType | None) -> None:
        _stop(signum, None, len(_received) - received + 1)

    for sig in caught:
        loop.add_signal_handler(sig, stop, sig)
    try:
        return await work
    finally:
        for sig in caught:
            loop.remove_signal_handler(sig)
            signal.signal(sig, late)  # until `installed` gives back the handlers from before


def stopped() -> bool:
    """Whether a stopping signal has been received: what fails after it (a write to the terminal that hung up)
    is its doing."""
    return bool(_received)


def reason() -> str:
    """Why the run was interrupted, for its report and message: the first signal received."""
    if _received and _received[0] != signal.SIGINT:
        return f"stopped by {signal.Signals(_received[0]).name}"
    return "interrupted (Ctrl-C)"


def cause() -> str:
    """Why a run's task was cancelled, for its report: the signal that stopped bulkload (`reason`), else its caller's
    cancellation (a script's timeout or task.cancel(), the Ctrl-C asyncio.run turns into one). Before, a script's
    timeout was reported "interrupted (Ctrl-C)" (tester t49g)."""
    return reason() if _received else "cancelled"
