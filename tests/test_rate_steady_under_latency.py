"""A server that spaces calls strictly (at least 1/R s between the calls it takes, tester t61b) behind a `--rate R`
load whose answers take 0-2 s. The rate's own window (R calls a second) places each call by when its answer came,
so slow answers hold its places past the calls' slots, and the calls it let go together left 1 ms apart: 55 429s in
133 calls. Such a refusal (a call that left less than an interval after one not yet refused) says the server spaces
calls strictly: the spacing widens and from then on every call leaves an interval after the one before it
(`RateMeter.depart`), a window's held calls too; before any such 429 they go as the window lets them, which a server
counting calls per rolling second takes (and the pace at the limit keeps its last 0.3 %)."""

from __future__ import annotations

import random

import anyio
from virtual_time import VirtualTime

from bulkload.limits import Limits
from bulkload.meters import DailyQuota, RateMeter, WindowMeter

RATE = 5.0


def _limits(clock: VirtualTime) -> Limits:
    by_rate = WindowMeter.for_rate(RATE, clock=clock, sleep=clock.sleep)
    assert by_rate is not None
    return Limits(
        quota=DailyQuota(0, clock=clock), rate=RateMeter(RATE, clock=clock, sleep=clock.sleep), windows=[by_rate]
    )


async def test_a_server_spacing_calls_strictly_refuses_a_call_or_two_and_then_the_calls_leave_spaced() -> None:
    clock = VirtualTime()
    limits = _limits(clock)
    latencies = random.Random(61).choices([0.01, 0.3, 0.9, 1.6, 2.0], k=48)
    taken: list[float] = []
    refused: list[float] = []
    left: list[float] = []  # every call as it left, refused ones too

    async def worker(mine: list[float]) -> None:
        for latency in mine:
            while True:
                slot = await limits.acquire()
                limits.sent(slot)
                now = clock()
                left.append(now)
                if taken and now - taken[-1] < 1 / RATE:  # the server: 200 ms since the last call it took
                    refused.append(now)
                    limits.answered(slot, worked=False)
                    limits.on_rate_limited(None, slot)
                    continue
                taken.append(now)
                await clock.sleep(latency)
                limits.answered(slot)
                limits.on_success()
                break

    async with clock.running(), anyio.create_task_group() as tg:
        for i in range(8):  # --concurrency 8
            tg.start_soon(worker, latencies[i::8])
    assert len(taken) == 48
    assert len(refused) <= 2, refused  # before: a third of the calls
    after = sorted(t for t in left if t > refused[-1]) if refused else sorted(left)
    gaps = [b - a for a, b in zip(after, after[1:])]
    assert min(gaps) >= 1 / RATE, sorted(gaps)[:5]


async def test_calls_the_rates_window_held_go_as_it_lets_them_where_no_server_refused_one() -> None:
    """The same load at a server that counts calls per rolling second: no 429, nothing learned, and the calls whose
    slots passed while the window held them go as it lets them go (no spacing of their own: `RateMeter.depart`)."""
    clock = VirtualTime()
    limits = _limits(clock)
    latencies = random.Random(61).choices([0.01, 0.3, 0.9, 1.6, 2.0], k=48)
    left: list[float] = []

    async def worker(mine: list[float]) -> None:
        for latency in mine:
            slot = await limits.acquire()
            left.append(clock())
            limits.sent(slot)
            await clock.sleep(latency)
            limits.answered(slot)

    async with clock.running(), anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(worker, latencies[i::8])
    left.sort()
    assert limits.rate.learned_s == 0.0
    assert min(b - a for a, b in zip(left, left[1:])) < 0.5 / RATE  # held calls went together: the window's count
    assert max(sum(1 for t in left if s <= t < s + 1.0) for s in left) <= RATE  # never more than R in a second
