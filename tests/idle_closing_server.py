"""A raw asyncio HTTP/1.1 server (written by a tester from RFC 9112, not from bulkload's sandboxes) that closes a
kept-alive connection once it has been idle `idle_s` seconds, as gunicorn (2 s), uvicorn and Node (5 s) do. The race
such a close makes with a client that sends on that connection just then is played here at its worst, so that a test
sees it every time: a request that arrives on a connection idle past `idle_s` is read and dropped unanswered (the
server had decided to close it; the client cannot tell whether it was carried out). `counts` says what it saw:
connections opened, requests answered, and requests dropped for idleness."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

#: (method, path) -> (status, body) of the answer
Handler = Callable[[str, str], tuple[int, bytes]]


class IdleClosingServer:
    def __init__(self, handler: Handler, idle_s: float) -> None:
        self.handler = handler
        self.idle_s = idle_s
        self.counts: Counter[str] = Counter()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counts["connections"] += 1
        answered_at: float | None = None
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                fields = (line.partition(":") for line in lines[1:] if line)
                headers = {name.strip().lower(): value.strip() for name, _, value in fields}
                await reader.readexactly(int(headers.get("content-length", "0")))
                if answered_at is not None and time.monotonic() - answered_at > self.idle_s:
                    self.counts[f"dropped {method}"] += 1
                    return
                status, body = self.handler(method, path)
                self.counts[f"answered {method}"] += 1
                head = f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                writer.write(head.encode() + body)
                await writer.drain()
                answered_at = time.monotonic()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """Serve on a free loopback port while the block runs; yields the origin."""
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.close()
            await server.wait_closed()
