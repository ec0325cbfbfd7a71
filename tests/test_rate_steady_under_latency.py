"""`--rate R` is "steady, no burst" (its help): calls leave 1/R apart however long their answers take. A tester's
server that spaces calls strictly (t61b: at least 1/R s between the calls it takes) met a `--rate 5` load whose
answers took 0-2 s with 55 429s in 133 calls, calls arriving 1 ms apart: the rate spaced the slots, then the rate's
own window (5 calls a second, placed by when their answers came) held them and let several go at once."""

from __future__ import annotations

import random

import anyio
import pytest
from virtual_time import VirtualTime

from bulkload.limits import Limits
from bulkload.meters import DailyQuota, RateMeter, WindowMeter


@pytest.mark.xfail(
    strict=True,
    reason="open (t61b): the rate spaces slots before the windows hold calls; spacing the departures of held calls "
    "passes this but cost the pace at the limit (test_pace's busy server 98.8 %) or, exempting a share, fed the "
    "share logic bursts (issue 15's note of 2026-12-06)",
)
async def test_calls_leave_one_interval_apart_when_slow_answers_hold_the_rates_window() -> None:
    clock = VirtualTime()
    rate = 5.0
    by_rate = WindowMeter.for_rate(rate, clock=clock, sleep=clock.sleep)
    assert by_rate is not None
    limits = Limits(
        quota=DailyQuota(0, clock=clock),
        rate=RateMeter(rate, clock=clock, sleep=clock.sleep),
        windows=[by_rate],
    )
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
        for i in range(8):  # --concurrency 8
            tg.start_soon(worker, latencies[i::8])
    left.sort()
    gaps = [b - a for a, b in zip(left, left[1:])]
    assert len(left) == 48
    # the server spaces calls 200 ms apart: none may leave much closer to the one before
    assert min(gaps) >= 0.9 / rate, sorted(gaps)[:5]
