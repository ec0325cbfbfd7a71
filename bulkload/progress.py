"""Progress on long runs: a live line on a terminal, a plain line every few seconds otherwise."""

from __future__ import annotations

import gzip
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TextIO

import anyio
from rich.console import Console
from rich.live import Live
from rich.text import Text

from .sources import is_gzip


@dataclass
class Snapshot:
    rows_read: int
    loaded: int
    rejected: int
    in_doubt: int
    requests: int
    retries: int
    rate_limited: int
    #: seconds the rate limits alone need for a number of further calls
    limit_wait: Callable[[float], float] | None = None


def estimate_rows(paths: Sequence[str]) -> int | None:
    """Rows in the files, counted as newlines (less the CSV header); None when a file is compressed."""
    total = 0
    for path in paths:
        if is_gzip(path):
            return None
        with open(path, "rb") as fh:
            lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
        total += lines - (0 if str(path).endswith((".jsonl", ".ndjson")) else 1)
    return max(total, 0)


def _eta(seconds: float) -> str:
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def describe(snap: Snapshot, elapsed: float, total: int | None) -> str:
    rate = snap.rows_read / elapsed if elapsed > 0 else 0.0
    parts = [
        f"read {snap.rows_read:,}" + (f"/{total:,}" if total else ""),
        f"loaded {snap.loaded:,}",
        f"rejected {snap.rejected:,}",
        f"in doubt {snap.in_doubt:,}",
        f"{rate:,.0f} rows/s",
        f"requests {snap.requests:,} (retries {snap.retries:,}, 429s {snap.rate_limited:,})",
    ]
    if total and rate > 0 and snap.rows_read < total:
        eta = (total - snap.rows_read) / rate
        if snap.limit_wait is not None and snap.rows_read and snap.requests:
            # when a rolling window binds, rows/s so far says nothing about the wait still to come
            more_calls = (total - snap.rows_read) * snap.requests / snap.rows_read
            eta = max(eta, snap.limit_wait(more_calls))
        parts.append(f"ETA {_eta(eta)}")
    return " | ".join(parts)


async def show_progress(
    snapshot: Callable[[], Snapshot],
    files: Sequence[str],
    *,
    stream: TextIO | None = None,
    every_s: float = 10.0,
) -> None:
    """Runs until cancelled. A terminal gets a live line; a pipe or file a line every `every_s` seconds."""
    out = stream or sys.stderr
    started = time.monotonic()
    total: int | None = None
    try:
        total = await anyio.to_thread.run_sync(estimate_rows, files)
    except (OSError, gzip.BadGzipFile):
        total = None
    if out.isatty():
        console = Console(file=out)
        with Live(Text(""), console=console, refresh_per_second=4, transient=True) as live:
            while True:
                live.update(Text(describe(snapshot(), time.monotonic() - started, total)))
                await anyio.sleep(0.25)
    while True:
        await anyio.sleep(every_s)
        print(describe(snapshot(), time.monotonic() - started, total), file=out, flush=True)
