"""The planning child of `bulkload load`, started as the command starts, before it imports the rest of bulkload.

A planning child (planning.PlanningProcess) is a Python start and its imports, some 0.1 s of CPU, more on a busy
machine; started where the run begins (runner.load) it raced the run's own start (inspecting the files, the ledger,
the token and the first look-ups, some 0.1 s too) and on a busy machine lost it by up to 0.2 s: the first upload
waited for it, and a rolling window replays such a gap at the end of the run. Started here it has the parent's
imports (0.2 s) ahead of it. Only this module, interrupts (SIGTERM and SIGHUP stop bulkload as Ctrl-C does from
its start) and the standard library are imported before it starts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence

#: plain inputs of fewer bytes than this, all files of the run together, are planned in the parent process
#: (planning.planning_for): starting the planning child (a Python start and its imports, some 0.15 s of CPU; 0.3 s
#: while it imported aiohttp) costs more than planning them there does, and planning them takes the event loop a
#: few milliseconds at a time
IN_PROCESS_BYTES = 256 * 1024
#: the first two bytes of every gzip file (RFC 1952)
GZIP_MAGIC = b"\x1f\x8b"
#: the planning child's program (`python -c`; its arguments: the socket's descriptor, the parent's pid, then the
#: parent's sys.path): bulkload from where the parent has it, then `planning.child`
CHILD = (
    "import sys; sys.path[:] = sys.argv[3:]; from bulkload.planning import child; child(int(sys.argv[1]), "
    "int(sys.argv[2]))"
)

Started = tuple[socket.socket, "subprocess.Popen[bytes]"]
_started: Started | None = None


#: a terminal's Ctrl-C and hangup, sent to the whole process group: the parent's to answer (parent_watch)
LEFT_TO_PARENT = {signal.SIGINT, signal.SIGHUP}


def spawn() -> Started:
    """A planning child, waiting for its spec on the returned socket. It starts with LEFT_TO_PARENT blocked, and
    they stay so: a Ctrl-C while it starts Python and imports bulkload (0.1-1 s, the first moment of every load of
    a big file) raised KeyboardInterrupt there, and its traceback followed the parent's own `interrupted` line."""
    ours, theirs = socket.socketpair()
    for sock, option in ((theirs, socket.SO_SNDBUF), (ours, socket.SO_RCVBUF)):
        sock.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
    # the child inherits the mask of this thread; here a signal blocked meanwhile waits, and comes once unblocked.
    # The mask is read first and blocked inside the try: a stopping signal's handler may raise as the block returns
    # (pthread_sigmask runs the handlers), and the finally then unblocks them all the same
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())
    with theirs:
        try:
            signal.pthread_sigmask(signal.SIG_BLOCK, LEFT_TO_PARENT)
            process = subprocess.Popen(
                [sys.executable, "-c", CHILD, str(theirs.fileno()), str(os.getpid()), *sys.path],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return ours, process


def is_gzip(path: str | os.PathLike[str]) -> bool:
    """Whether the file is gzip-compressed, by its first two bytes (its name says nothing for sure). Here, with the
    standard library only, for `in_child`; sources.py reads files by it too."""
    with open(path, "rb") as fh:
        return fh.read(2) == GZIP_MAGIC


def in_child(paths: Sequence[str | os.PathLike[str]]) -> bool:
    """Whether a run's input files are planned in a child process: all but small plain files. A gzip file always
    is: its size says nothing of what it expands to. OSError for a file that cannot be read."""
    return any(map(is_gzip, paths)) or sum(map(os.path.getsize, paths)) >= IN_PROCESS_BYTES


def start(argv: Sequence[str]) -> None:
    """Start the planning child now when `argv` (sys.argv) is a `bulkload load` whose input files, as named on the
    command line, are planned in a child (planning.planning_for's rule); a guess from argv alone: a child the run
    does not take is closed (`discard`), and a run that needs one and finds none here starts its own."""
    global _started
    if _started is not None or len(argv) < 3 or argv[1] != "load" or "--dry-run" in argv:
        return
    files = [a for a in argv[3:] if not a.startswith("-") and os.path.isfile(a)]
    try:
        if files and in_child(files):
            _started = spawn()
    except OSError:
        return


def take() -> Started | None:
    """The child `start` started, once; None when there is none."""
    global _started
    started, _started = _started, None
    return started


def discard() -> None:
    """Close the child `start` started if no run took it: it ends as its socket closes."""
    started = take()
    if started is not None:
        sock, process = started
        sock.close()
        process.wait()
