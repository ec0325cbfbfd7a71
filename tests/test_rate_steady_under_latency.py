"""A server that spaces calls strictly (at least 1/R s between the calls it takes, tester t61b) behind a `--rate R`
load whose answers take 0-2 s. The rate's own window (R calls a second) places each call by when its answer came,
so slow answers hold its places past the calls' slots, and the calls it let go together left 1 ms apart: 55 429s in
133 calls. Such a refusal (a call that left less than an interval after one not yet refused) says the server spaces
calls strictly: the spacing widens and from then on every call leaves an interval after the one before it
(`RateMeter.depart`), a window's held calls too; before any such 429 they go as the window lets them, which a server
counting calls per rolling second takes (and the pace at the limit keeps its last 0.3 %)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from virtual_time import VirtualTime

from bulkload.limits import Limits
from bulkload.meters import DailyQuota, RateMeter, WindowMeter

RATE = 5.0


def _limits_on(clock: Callable[[], float], sleep: Callable[[float], Awaitable[None]], rate: float = RATE) -> Limits:
    """Limits at `--rate rate` (its own window and no quota) on `clock` and `sleep`."""
    by_rate = WindowMeter.for_rate(rate, clock=clock, sleep=sleep)
    assert by_rate is not None
    return Limits(quota=DailyQuota(0, clock=clock), rate=RateMeter(rate, clock=clock, sleep=sleep), windows=[by_rate])


async def _strict_server_load(
    rate: float, latencies: list[float], workers: int, strict_by: float = 0.0
) -> tuple[list[float], list[float], list[float], float]:
    """Load len(`latencies`) calls at `--rate rate` through a server that takes a call only `strict_by` of an
    interval more than 1/rate after the last it took (its clock a little stricter than ours). Returns the calls as
    they left, the taken ones, the refused ones and the seconds the load took, on a clock of its own."""
    clock = VirtualTime()
    limits = _limits_on(clock, clock.sleep, rate)
    spacing_s = (1 + strict_by) / rate
    taken: list[float] = []
    refused: list[float] = []
    left: list[float] = []

    async def worker(mine: list[float]) -> None:
        for latency in mine:
            while True:
                slot = await limits.acquire()
                limits.sent(slot)
                now = clock()
                left.append(now)
                if taken and now - taken[-1] < spacing_s:
                    refused.append(now)
                    limits.answered(slot, worked=False)
                    await clock.sleep(limits.on_rate_limited(None, slot).pause_s)
                    continue
                taken.append(now)
                await clock.sleep(latency)
                limits.answered(slot)
                limits.on_success()
                break

    async with clock.running():
        started = clock()
        async with anyio.create_task_group() as tg:
            for i in range(workers):
                tg.start_soon(worker, latencies[i::workers])
        return left, taken, refused, clock() - started


async def test_a_server_spacing_calls_strictly_refuses_a_call_or_two_and_then_the_calls_leave_spaced() -> None:
    latencies = random.Random(61).choices([0.01, 0.3, 0.9, 1.6, 2.0], k=48)
    left, taken, refused, _ = await _strict_server_load(RATE, latencies, 8)  # --concurrency 8
    assert len(taken) == 48
    assert len(refused) <= 2, refused  # before: a third of the calls
    after = sorted(t for t in left if t > refused[-1]) if refused else sorted(left)
    gaps = [b - a for a, b in zip(after, after[1:])]
    assert min(gaps) >= 1 / RATE, sorted(gaps)[:5]


async def test_calls_the_rates_window_held_go_as_it_lets_them_where_no_server_refused_one() -> None:
    """The same load at a server that counts calls per rolling second: no 429, nothing learned, and the calls whose
    slots passed while the window held them go as it lets them go (no spacing of their own: `RateMeter.depart`)."""
    clock = VirtualTime()
    limits = _limits_on(clock, clock.sleep)
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


class _Run:
    """A --rate 5 run on a clock of its own (seconds; `sleep` moves it on), past its first window: ten calls
    answered `trip_s` after they left, so the fastest round trip is timed and the first window's 429 rule is past,
    then a second with none."""

    def __init__(self, trip_s: float) -> None:
        self.now = 100.0
        self.limits = _limits_on(lambda: self.now, self._sleep)
        self.trip_s = trip_s

    async def _sleep(self, seconds: float) -> None:
        self.now += seconds

    async def warm(self) -> None:
        for _ in range(10):
            slot = await self.limits.acquire()
            self.limits.sent(slot)
            self.now += self.trip_s
            self.limits.answered(slot)
        self.now += 1.0  # the window not full: a 429 now is no clocks' disagreement


async def test_a_429_of_a_call_that_left_close_behind_one_still_out_teaches_the_spacing() -> None:
    """The call before left 150 ms late (a window held it) and is still out; this one left 50 ms after it, at its
    slot: a server counting calls per rolling second takes that, one that spaces calls strictly does not."""
    run = _Run(trip_s=0.05)
    await run.warm()
    held = await run.limits.acquire()
    run.now += 0.15
    run.limits.sent(held)
    refused = await run.limits.acquire()
    run.limits.sent(refused)
    run.limits.answered(refused, worked=False)
    assert run.limits.on_rate_limited(None, refused).why == "spacing"  # before: "share", the window narrowed
    assert run.limits.rate.learned_s > 0 and run.limits.windows[0].allowed == run.limits.windows[0].limit


@pytest.mark.parametrize(("trip_s", "why"), [(0.01, "spacing"), (0.1, "share")])
async def test_a_429_an_interval_after_a_slow_answer_teaches_the_spacing_and_after_one_in_flight_a_share(
    trip_s: float, why: str
) -> None:
    """The call before left at its slot, an interval before this one, and is still out 200 ms later: longer than
    three of the fastest round trips (10 ms), a slow answer that says nothing yet of whether the server took it,
    so the 429 is the spacing's; within them (100 ms trips), an ordinary call in flight, and the 429 a share's."""
    run = _Run(trip_s=trip_s)
    await run.warm()
    out = await run.limits.acquire()
    run.limits.sent(out)
    refused = await run.limits.acquire()
    run.limits.sent(refused)
    run.limits.answered(refused, worked=False)
    assert run.limits.on_rate_limited(None, refused).why == why


@pytest.mark.parametrize(("rate", "seed", "skew_s"), [(10.0, 1, 0.0), (5.0, 4, 0.001)])
async def test_a_strict_servers_429_first_taken_for_a_share_still_teaches_the_spacing(
    rate: float, seed: int, skew_s: float
) -> None:
    """A server that spaces calls strictly (its clock `skew_s` from ours) behind a --rate load whose answers take
    0-2 s, 8 calls at once (tester t62a). The run's first 429 passes (its first window); the next came while the call
    before it was out but not yet slow (three fastest trips), so it was taken for a share and the rate's window
    narrowed; no spacing is learned while a window is narrowed, so the calls the narrowed window let go together met a
    429 about every second, each taken for a share again: at --rate 10, 58 429s and 80 s for 120 calls (70 429s in
    210 calls and 88 s for 3,000 rows at the tester's server); 22 429s at --rate 5. A 429 of a call let go together
    with one not refused now turns the spacing on where a window is narrowed too, still judged a share there: 2-3."""
    rng = random.Random(seed)
    latencies = [rng.random() * 2.0 for _ in range(120)]
    _, taken, refused, _ = await _strict_server_load(rate, latencies, 8, skew_s * rate)  # --concurrency 8
    assert len(taken) == 120
    assert len(refused) <= 4, len(refused)
    # the rate's window, counting each slow answer's call from its answer, binds: 29 s at --rate 10 (80 s before)
    assert taken[-1] - taken[0] <= 3.5 * len(taken) / rate, taken[-1] - taken[0]


@given(
    rate=st.sampled_from([2.0, 5.0, 10.0, 20.0]),
    latencies=st.lists(st.floats(0.0, 2.0), min_size=10, max_size=40),
    workers=st.integers(1, 16),
    strict_by=st.floats(0.0, 0.02),
)
def test_at_a_server_spacing_calls_strictly_the_429s_stop_once_the_spacing_is_learned(
    rate: float, latencies: list[float], workers: int, strict_by: float
) -> None:
    """Whatever the answers' latencies and the calls in flight: every call is taken once, the 429s are the ones
    that taught the spacing and those already on their way (at most the calls of one second), every call after the
    last 429 left an interval after the one before it, and the pace does not collapse (no pause, no cut)."""
    left, taken, refused, took_s = anyio.run(_strict_server_load, rate, latencies, workers, strict_by)
    assert len(taken) == len(latencies)
    assert len(refused) <= rate + 2, (len(refused), refused[:5])
    after = sorted(t for t in left if not refused or t > refused[-1])
    assert all(b - a >= 1 / rate for a, b in zip(after, after[1:]))
    # each call holds a place of the rate's second until its answer: the slowest answer stretches a second; a 429
    # taken for a share's (the call before merely in flight) holds calls in the narrowed share until a window (1 s
    # at these rates) has passed with no 429 and one since it narrowed, and its probe for room takes another
    calls = len(latencies) + len(refused)
    assert took_s <= calls * (1.06 + max(latencies)) / rate + sum(latencies) / workers + 1.0 + 1.5 * len(refused)
