"""A write sent after an idle gap goes on a fresh connection, never on a kept-alive one the server may be closing for
idleness (gunicorn closes idle connections after 2 s, uvicorn and Node after 5 s): such a POST's answer is lost and,
as RFC 9112 §9.3.1 forbids sending it again on its own, its rows are in doubt. Judged by what the server counted."""

from __future__ import annotations

import anyio
import pytest
from idle_closing_server import IdleClosingServer

from bulkload.http import KEEPALIVE_S, Client

pytestmark = pytest.mark.slow


def created(method: str, path: str) -> tuple[int, bytes]:
    return 201, b'{"id": 1}'


async def test_a_post_after_an_idle_gap_goes_on_a_fresh_connection() -> None:
    # the server drops a request that comes on a connection idle past 1.5 s; the client waits longer than that
    # (and than its own keep-alive) between its two calls, so whatever the machine's load, the second would meet a
    # connection the server is closing were it sent on the first one
    server = IdleClosingServer(created, idle_s=1.5)
    assert server.idle_s > KEEPALIVE_S
    async with server.serving() as origin, Client(origin, {}) as client:
        await client.send("POST", "/upload", body=b"[]")
        await anyio.sleep(max(KEEPALIVE_S, server.idle_s) + 0.2)
        await client.send("POST", "/upload", body=b"[]")
    assert server.counts == {"connections": 2, "answered POST": 2}
