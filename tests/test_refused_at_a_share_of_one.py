"""A server that refuses every call without Retry-After (a daily quota another integration spent, an API that
throttles everyone) under `--rate`: the rate's rolling second narrows the run's share at the first 429s; once the
server has taken none of the run's calls for a few windows of 429s (or the share is one call a window), there is
no share to narrow, and each 429 after is met by the back-off (docs/guarantees.md, 429 Too Many Requests: without
Retry-After the calls pause 0.25 s, 0.5 s, 1 s … up to 8 s), as without `--rate`. Before, each 429 was taken for a
share again: no call paused, and the calls went once a window for their whole 10 minutes, 600 calls and more to a
spent quota (a tester's server, t65b: 206 429s in 200 s at --rate 10, against 10 in 40 s without --rate)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.lowlevel
import pytest
from aiohttp import web
from conftest import serving
from test_pace import _at_latency
from test_rate_steady_under_latency import _limits_on
from virtual_time import VirtualTime

from bulkload.dispatch import Dispatcher, RetryPolicy
from bulkload.errors import RunStopped
from bulkload.http import Client
from bulkload.limits import Limits
from bulkload.meters import DailyQuota, RateMeter, WindowMeter
from bulkload.targets import TARGETS


@asynccontextmanager
async def refusing(rate: float | None, sent: list[float]) -> AsyncIterator[Dispatcher]:
    """A dispatcher at `rate` (None: no --rate) whose every call a loopback server answers 429 without Retry-After,
    noting in `sent` when each arrived on the test's own clock. A wait moves that clock on to its end at once; waits
    begun together end together (calls side by side), not one after the other."""
    clock = [0.0]

    async def handle(request: web.Request) -> web.Response:
        sent.append(clock[0])
        return web.json_response({"message": "quota spent"}, status=429)

    async def sleep(seconds: float) -> None:
        until = clock[0] + seconds
        await anyio.lowlevel.checkpoint()
        clock[0] = max(clock[0], until)

    app = web.Application()
    app.router.add_route("*", "/things", handle)
    async with serving(app) as origin, Client(origin, {}) as client:
        by_rate = WindowMeter.for_rate(rate, clock=lambda: clock[0], sleep=sleep)
        limits = Limits(
            quota=DailyQuota(0),
            rate=RateMeter(rate, lambda: clock[0], sleep),
            windows=[by_rate] if by_rate else [],
        )
        yield Dispatcher(
            client,
            TARGETS["economic"].from_options({}),
            limits=limits,
            policy=RetryPolicy(total_s=600.0),
            clock=lambda: clock[0],
        )


@pytest.mark.parametrize("calls", [1, 4], ids=["one-call", "four-side-by-side"])
@pytest.mark.parametrize("rate", [None, 10.0, 3.0], ids=["no-rate", "rate-10", "rate-3"])
async def test_429s_to_every_call_back_off_as_without_a_rate(rate: float | None, calls: int) -> None:
    sent: list[float] = []
    stops: list[str] = []

    async def one(dispatcher: Dispatcher) -> None:
        try:
            await dispatcher.send("GET", "/things", authorized=False)
        except RunStopped as stopped:
            stops.append(str(stopped))

    async with refusing(rate, sent) as dispatcher:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for _ in range(calls):
                    tg.start_soon(one, dispatcher)
    assert stops and "answered 429 to every try for 10 min" in stops[0], stops
    # the back-off's pauses of up to 8 s: under 100 tries a call in its 600 s (before, at --rate: one a window each,
    # 600 and more)
    assert len(sent) < 100 * calls, len(sent)


async def test_once_the_server_takes_calls_again_they_go_at_the_pace_they_had() -> None:
    """--rate 10 at a server that refuses every call without Retry-After for its first 10 s (a window another
    client held whole), then takes 10 a rolling second; 300 calls of 50 ms, 8 at once, on a virtual clock. The
    back-off meets its 429s and cuts no pace: cut at each, the pace went down to about a call a second and came
    back 0.1/s a second, 58.2 s where 40 s is the least (45.3 s now, the back-off's pauses ending up to 4 s after the
    server takes calls again)."""
    clock = VirtualTime()
    limits = _limits_on(clock, clock.sleep, 10.0)
    taken: deque[float] = deque()
    began = clock()

    def takes() -> bool:
        now = clock()
        while taken and taken[0] <= now - 1.0:
            taken.popleft()
        if now - began < 10.0 or len(taken) >= 10:
            return False
        taken.append(now)
        return True

    async with clock.running():
        _, refused = await _at_latency(limits, clock, takes, 300, None, 0.05, 0.05, 8)
        took_s = clock() - began
    assert took_s < 1.2 * 40.0, (took_s, len(refused))
