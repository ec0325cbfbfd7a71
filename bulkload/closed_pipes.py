"""stdout and stderr whose reader may stop reading (`bulkload load … | head -1`, a pager quit early): the command
goes on to its end and exits with its own code (docs/report.md's exit codes); what it would have printed since is
dropped (its report and output files still say it all).

Python ignores SIGPIPE, so a write to a pipe nobody reads raises BrokenPipeError: a run's summary would end the
command as cut short (exit 4), and rich's Console exits 1 at it (`Console.on_broken_pipe`), which a script reads as
"rows rejected or in doubt" after a load that was complete."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO, cast


class KeptStream:
    """A text stream (`stream`) whose writes never fail for a reader gone: its file descriptor then points at
    /dev/null. Everything else is the stream's own."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._to_devnull()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _to_devnull(self) -> None:
        """What is still buffered, and every later write, goes to /dev/null (Python's own advice for SIGPIPE)."""
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        finally:
            os.close(devnull)


def opened() -> None:
    """Descriptors 0, 1 and 2 open, on /dev/null where they were closed when the process began (`bulkload … >&-`,
    `2>&-`, a daemon's), and sys.stdin, sys.stdout and sys.stderr streams on them. Python makes the stream of a
    closed descriptor None: the first write to it (the progress, the summary, an error) raised AttributeError, so a
    load with stderr closed ended at once, exit 120 and nothing done, and one with stdout closed loaded every row,
    then ended as a bug (exit 120) at its summary; and the first file bulkload opened took the closed number, where a
    child's (the planner's) output to it would land. What would have been printed is dropped, as for a reader gone:
    the report and the output files still say it all."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)  # the lowest number free: this one, the lower ones being open
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
    if sys.stdin is None:
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's own, never closed
    for name, fd in (("stdout", 1), ("stderr", 2)):
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=False))  # noqa: SIM115


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """sys.stdout and sys.stderr as KeptStreams while a command runs, flushed before they are given back (a reader
    gone would otherwise fail the interpreter's last flush); on /dev/null where they were closed (opened)."""
    opened()
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = cast(TextIO, KeptStream(out)), cast(TextIO, KeptStream(err))
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = out, err
