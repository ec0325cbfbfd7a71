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


@contextlib.contextmanager
def kept() -> Iterator[None]:
    """sys.stdout and sys.stderr as KeptStreams while a command runs, flushed before they are given back (a reader
    gone would otherwise fail the interpreter's last flush)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = cast(TextIO, KeptStream(out)), cast(TextIO, KeptStream(err))
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = out, err
