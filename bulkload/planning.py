"""Planning in a child process.

Reading, validating and encoding are Python work for every row; sending is Python work for every chunk.
Under one GIL the two take turns on one core. In a child process the plan is made on another core while
the event loop sends. The child streams framed msgpack messages through a socketpair; the socket's buffer
is the back-pressure, so the child is never more than a buffer ahead of the sender.

Messages, each `(kind, rows_read, ...)`:
    ("chunk", n, seq, file_idx, lines, body, summary)   a planned chunk with its control totals
    ("rejects", n, rows)                                 RowOutcome tuples to record
    ("stop", n, message)                                 the input cannot be read further (SourceError)
    ("end", n)                                           every file is planned
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import msgspec

from .chunking import Planner
from .errors import BulkloadError, SourceError
from .sources import Source

_HEADER = 4
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode


@dataclass(frozen=True)
class PlanSpec:
    """What the child needs to make the same plan the parent would: plain values, so it pickles."""

    target: str
    target_options: dict[str, Any]
    #: the files of this phase, with their indexes among all the run's files
    files: list[str]
    indexes: list[int]
    context: dict[str, Any]
    delimiter: str | None
    columns: dict[str, str]
    max_items: int
    max_bytes: int


def _plan(sock: socket.socket, spec: PlanSpec) -> None:
    """The child: plan every file and send what comes out."""
    from .targets import TARGETS

    def send(*message: Any) -> None:
        data = _encode(message)
        sock.sendall(len(data).to_bytes(_HEADER, "big") + data)

    target = TARGETS[spec.target].from_options(spec.target_options)
    target.use_context(spec.context)
    planner = Planner(target, spec.max_items, spec.max_bytes)
    def send_rejects() -> None:
        if planner.rejected:
            send("rejects", planner.rows_read, [tuple(r) for r in planner.rejected])
            planner.rejected.clear()

    try:
        for file_idx, path in zip(spec.indexes, spec.files):
            source = Source(path, delimiter=spec.delimiter, columns=spec.columns)
            for chunk in planner.plan(file_idx, source):
                send_rejects()
                if chunk is not None:
                    send("chunk", planner.rows_read, chunk.seq, chunk.file_idx, chunk.lines, chunk.body,
                         target.summarize(chunk.records or []))
            send_rejects()  # those after the file's last chunk
        send("end", planner.rows_read)
    except SourceError as exc:
        send_rejects()
        send("stop", planner.rows_read, str(exc))
    except (BrokenPipeError, ConnectionResetError):
        return  # the parent is gone: nobody to plan for
    except BaseException:
        send("failed", planner.rows_read, traceback.format_exc())
        raise
    finally:
        sock.close()


class PlanningFailed(BulkloadError):
    """The planning process ended without finishing its plan."""


async def planned(spec: PlanSpec) -> AsyncIterator[tuple[Any, ...]]:
    """Start the child and yield its messages in order; the child is stopped when the caller is done."""
    ours, theirs = socket.socketpair()
    for sock, option in ((theirs, socket.SO_SNDBUF), (ours, socket.SO_RCVBUF)):
        sock.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
    process = multiprocessing.get_context("spawn").Process(
        target=_plan, args=(theirs, spec), name="bulkload-planner", daemon=True
    )
    process.start()
    theirs.close()
    reader, writer = await asyncio.open_connection(sock=ours)
    try:
        while True:
            try:
                size = int.from_bytes(await reader.readexactly(_HEADER), "big")
                message = _decode(await reader.readexactly(size))
            except asyncio.IncompleteReadError:
                raise PlanningFailed("the planning process ended before its plan was done") from None
            if message[0] == "failed":
                raise PlanningFailed(f"planning failed:\n{message[2]}")
            yield message
            if message[0] in ("end", "stop"):
                return
    finally:
        writer.close()
        if process.is_alive():
            process.kill()
        await asyncio.to_thread(process.join)
