"""A clock and a sleep to inject into the meters (bulkload.meters, bulkload.limits): time moves only when every
task waits, and then straight to the earliest wake-up asked for, so pacing judged on it holds however busy the
machine is, and takes no wall time."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio


class VirtualTime:
    """Call it for the time (seconds); `sleep` waits on it; `running()` moves it while the block runs."""

    def __init__(self, now: float = 100.0) -> None:
        self.now = now
        self._sleepers: list[tuple[float, int, anyio.Event]] = []
        self._order = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        woken = anyio.Event()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), woken))
        await woken.wait()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._advance)
            yield
            tg.cancel_scope.cancel()

    async def _advance(self) -> None:
        while True:
            await anyio.wait_all_tasks_blocked()
            if self._sleepers:
                when, _, woken = heapq.heappop(self._sleepers)
                self.now = max(self.now, when)
                woken.set()
            else:
                await anyio.lowlevel.checkpoint()
