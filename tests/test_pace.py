"""Pacing at the limit: a 429 at the configured rate widens the window's margin and keeps the pace (learned,
bounded); a 429 without Retry-After backs off a bounded, growing wait and finds the pace the server accepts
(AIMD), judged on a clock of the test's own against the sandbox's own window; and a token renewed after the wait
for a rate slot, so no call leaves with a token that ran out while it waited (the sandbox counts the 401s)."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, write_entries
from virtual_time import VirtualTime

from bulkload import Job, load
from bulkload.errors import RunStopped
from bulkload.limits import Limits
from bulkload.meters import Arrival, DailyQuota, RateMeter, WindowMeter
from bulkload.sandbox import SandboxOptions, running
from bulkload.sandbox.common import SlidingWindow

HALO_ENV = {"HALO_CLIENT_ID": "pace-client", "HALO_CLIENT_SECRET": "pace-secret"}


def halo_file(path: Path, n: int) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "tenant_id", "client_id"])
        w.writerows([f"Pace {i:04d}", f"tenant-{i}", f"client-{i}"] for i in range(n))
    return path


async def stats(url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/stats") as r:
        body: dict[str, Any] = await r.json()
        return body


def paced(clock: VirtualTime, rate: float | None, windows: list[WindowMeter] | None = None) -> Limits:
    meter = RateMeter(rate, clock=clock, sleep=clock.sleep)
    if windows is None:
        by_rate = WindowMeter.for_rate(rate, clock=clock, sleep=clock.sleep)
        windows = [by_rate] if by_rate else []
    return Limits(quota=DailyQuota(0, clock=clock), rate=meter, windows=windows)


async def test_a_429_at_the_configured_rate_keeps_the_pace_and_widens_the_margin_a_little() -> None:
    """100/s against a server counting 100 per second: the client's margin (calls answered at once: 1 ms after
    the answer, `WindowMeter.DRIFT`) covers its own clock, but a 429 says the server's stamps differ by more. The
    pace stays 100/s, no call pauses, and the window widens by 5 ms (once for the calls in flight with it), up to 5 %
    of the window; past that, a 429 is no clocks' disagreement and the pace drops."""
    clock = VirtualTime()
    limits = paced(clock, 100.0)
    (window,) = limits.windows
    async with clock.running():
        for _ in range(150):
            limits.answered(await limits.acquire())
        for _ in range(8):  # the calls in flight come back 429 together: one step
            assert limits.on_rate_limited(1.0).pause_s == 0.0
        assert (limits.rate.rate, window.learned_s) == (100.0, pytest.approx(0.005))
        starts = []
        for _ in range(300):
            limits.answered(await limits.acquire())
            starts.append(clock())
    assert starts[200] - starts[100] == pytest.approx(1.0 + 0.001 + 0.005)  # the pace: 100 per 1.006 s
    async with clock.running():
        for _ in range(30):  # one 429 per window, every window
            await clock.sleep(1.1)
            for _ in range(100):
                limits.answered(await limits.acquire())
            if limits.on_rate_limited(1.0).pause_s > 0:
                break
    assert window.learned_s == pytest.approx(0.05)  # bounded: 5 % of the window, in ten steps
    assert limits.rate.rate is not None and limits.rate.rate < 100.0  # then the pace gave way


async def test_a_retry_after_far_longer_than_a_full_windows_own_wait_is_the_apis_to_ask_not_the_clocks() -> None:
    """20 calls a rolling 60 s, the window full: a 429 saying Retry-After 1 s is the clocks' disagreement (the window
    widens, no call pauses); one saying 545 s is not (before: taken for the clocks', no call paused, and the calls
    went on meeting 429s until 8 had): every call pauses 545 s."""
    clock = VirtualTime()
    window = WindowMeter(20, 60.0, clock=clock, sleep=clock.sleep)
    limits = paced(clock, None, [window])
    async with clock.running():
        for _ in range(20):
            limits.answered(await limits.acquire())
    assert window.full()
    assert limits.on_rate_limited(1.0) == (0.0, "clocks") and window.learned_s > 0
    assert limits.on_rate_limited(545.0) == (545.0, "pace")
    assert window.next_free_s() == pytest.approx(60.0 + window.learned_s, abs=0.01)  # what 545 s is far beyond


def test_a_call_answered_late_holds_its_place_in_the_window_until_the_latest_it_can_have_arrived() -> None:
    """The fastest round trip (50 ms) bounds every arrival: a call answered 30 ms slower can have been counted up
    to 30 ms after its slot, and the window keeps it from then (one answered 950 ms slower, from 950 ms on); an
    unanswered call may be arriving now. Until `TRUSTED_AFTER` answers, the fastest of so few may itself have been
    slowed: a call counts from its answer."""
    now = [0.0]
    window = WindowMeter(3, 1.0, margin_s=0.0, clock=lambda: now[0])
    calls = [Arrival(0.0), Arrival(0.0), Arrival(0.0), Arrival(0.0)]
    for call, answered in zip(calls, (0.05, 0.08, 1.0), strict=False):
        now[0] = answered
        window.answered(call)
    assert window.fastest_s == pytest.approx(0.05)
    assert [window.arrived(c) for c in calls] == pytest.approx([0.05, 0.08, 1.0, 1.0])
    for _ in range(WindowMeter.TRUSTED_AFTER - 3):
        window.answered(Arrival(now[0] - 0.06))
    assert [window.arrived(c) for c in calls] == pytest.approx([0.0, 0.03, 0.95, 1.0])


def test_a_call_held_between_its_slot_and_the_wire_is_timed_from_when_it_left() -> None:
    """A fleet's first call of an agreement waits 250 ms after its slot (a new connection, the loop busy with the
    other jobs' start, the cap on calls in flight) and is answered 50 ms after it left: timed from its slot, the
    fastest round trip looked like 300 ms and the call was counted from its slot, so the next call of a 1-per-2-s
    window left 250 ms early by the server's count (one 429 per agreement). Timed from when it left: 50 ms, and
    it is counted from 250 ms on."""
    now = [0.0]
    window = WindowMeter(1, 2.0, margin_s=0.0, clock=lambda: now[0])
    first, unsent = Arrival(0.0), Arrival(0.0)
    now[0] = 0.25
    window.sent(first)
    now[0] = 0.30
    window.answered(first)
    window.answered(unsent)  # a call never told it left (a test's, a window's own) is timed from its slot
    for _ in range(WindowMeter.TRUSTED_AFTER - 2):  # enough answers for the fastest trip to bound arrivals
        window.answered(Arrival(0.2))
    assert window.fastest_s == pytest.approx(0.05)
    assert window.arrived(first) == pytest.approx(0.25)
    assert window.arrived(unsent) == pytest.approx(0.25)


async def test_a_busy_server_stamping_calls_late_meets_no_429_and_the_pace_stays_at_the_limit() -> None:
    """The sandbox's own window (100 per rolling second) on a clock of the test's own, and a server whose loop
    is busy now and then: every 37th call is counted 30 ms after it left (and answered as late), the others after
    0.5 ms; 50 ms latency, 16 calls at once, 100/s configured. A margin that is a guess (10 ms) meets 429s a
    second after each stall; bounded by the answers, none, and the server counts ≥ 99 % of 100/s."""
    clock = VirtualTime()
    server = SlidingWindow(100, 1.0, clock=clock)
    limits = paced(clock, 100.0)
    sent, refused, counted = [0], [0], [0]
    first: list[float] = []

    async def calls(n: int) -> None:
        while sent[0] < n:
            sent[0] += 1
            slot = await limits.acquire()
            stall = 0.03 if sent[0] % 37 == 0 else 0.0005
            await clock.sleep(stall)
            if server.try_acquire() > 0:
                refused[0] += 1
            else:
                counted[0] += 1
                first.append(clock())
            await clock.sleep(0.05)
            limits.answered(slot)
            limits.on_success()

    async with clock.running(), anyio.create_task_group() as tg:
        for _ in range(16):
            tg.start_soon(calls, 1_000)
    assert refused[0] == 0
    assert (counted[0] - 1) / (max(first) - min(first)) >= 99.0


async def test_a_429_without_retry_after_backs_off_a_bounded_growing_wait_and_finds_the_pace() -> None:
    """No Retry-After: every 429 that follows another without a success pauses twice as long (0.25 s, 0.5 s,
    1 s ... at most 8 s), and the pace drops by 30 %; a success after the pause starts the waits over, and the
    pace climbs back by 10 % of where it dropped to per second of successes (additive increase)."""
    now = [100.0]
    meter = RateMeter(100.0, clock=lambda: now[0])
    meter._starts.extend([100.0 - i / 100 for i in range(64)][::-1])  # going at 100/s
    waits = []
    for _ in range(8):
        waits.append(meter.on_rate_limited(None))
        now[0] += waits[-1] + 0.001  # the pause is over, and the next call is refused again
    assert waits == pytest.approx([0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0])
    assert meter.rate == pytest.approx(100 * 0.7**8)
    meter.on_success()  # answered after the pause: the waits start over
    assert meter.on_rate_limited(None) == pytest.approx(0.25)
    low = meter.rate
    assert low is not None
    now[0] += 1.0
    for _ in range(int(low)):  # a second's successes at the lowered pace
        meter.on_success()
    assert meter.rate == pytest.approx(low * 1.1, rel=0.05)


async def test_a_window_shared_with_another_client_is_used_as_fully_as_it_leaves_it() -> None:
    """The sandbox's own window (100 per rolling second, no Retry-After) on a clock of the test's own; another
    client takes 80/s of it; ours (the window's limit and no rate of its own, as HaloPSA's) sends 400 calls,
    each retried after a 429 until it goes through. Its window narrows to the share the other leaves and grows
    back a little at a time: the 20/s left would carry the calls in 20 s; within 1.15 × of it, and a bounded count
    of 429s."""
    clock = VirtualTime()
    server = SlidingWindow(100, 1.0, clock=clock)
    limits = paced(clock, None, [WindowMeter(100, 1.0, clock=clock, sleep=clock.sleep)])
    done, refused = [0], [0]

    async def other() -> None:
        while True:
            server.try_acquire()  # its refusals are its own concern
            await clock.sleep(1 / 80)

    async def ours(calls: int) -> None:
        while done[0] < calls:
            slot = await limits.acquire()
            await clock.sleep(0.01)  # the way to the server
            if server.try_acquire() > 0:
                refused[0] += 1
                await clock.sleep(0.01)
                limits.answered(slot, worked=False)  # as the dispatcher: the answer heard, then the 429 taken in
                await clock.sleep(limits.on_rate_limited(None).pause_s)
            else:
                done[0] += 1
                await clock.sleep(0.01)
                limits.answered(slot)
                limits.on_success()

    async with clock.running(), anyio.create_task_group() as tg:
        tg.start_soon(other)
        await clock.sleep(1.0)  # the other client was there first
        started = clock()
        async with anyio.create_task_group() as ourselves:
            for _ in range(8):
                ourselves.start_soon(ours, 400)
        took = clock() - started
        tg.cancel_scope.cancel()
    assert done[0] >= 400
    assert took <= 1.15 * 20.0, (took, refused[0])  # 21.2 s; a rate cut by 30 % a 429: 24-25 s
    # 29 with each answer heard as the dispatcher hears it (11 unheard); 41 since a probe for room comes every two
    # windows at most, not eight: each meets a 429 or two (for an other that comes and goes: test_shared_window_regrows)
    assert refused[0] <= 45, refused[0]


def _job(tmp_path: Path, target: str, data: Path, url: str, **kw: Any) -> Job:
    return Job(
        target=target,
        files=[str(data)],
        base_url=url,
        ledger=str(tmp_path / "l.sqlite"),
        rejects=str(tmp_path / "r.csv"),
        report=str(tmp_path / "r.json"),
        **kw,
    )


def _halo_job(tmp_path: Path, data: Path, url: str, **kw: Any) -> Job:
    return _job(tmp_path, "halopsa", data, url, target_options={"resources": ["XeroDetails"]}, **kw)


async def test_a_token_that_runs_out_while_calls_wait_for_a_rate_slot_is_renewed_before_they_leave(
    tmp_path: Path,
) -> None:
    """A one-hour token at time factor 1800 lives 2 s and is renewed 0.2 s early; 8 calls wait for slots of a
    20/s pace, up to 0.4 s each: a token checked before that wait runs out during it. ~65 calls, ~3.5 s."""
    data = halo_file(tmp_path / "xero.csv", 60)
    options = SandboxOptions(window_limit=0, time_factor=1800)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = _halo_job(tmp_path, data, url, batch_size=1, concurrency=8, rate=20.0)
            report = await load(job, env=HALO_ENV)
            seen = await stats(url)
    assert report.loaded == 60 and report.status == "complete", report.stop_reason
    assert seen["tokens_issued"] >= 2, "no token ran out during the run: the test proves nothing"
    assert seen["by_status"].get("401", 0) == 0, seen["by_status"]
    assert seen["requests"] < 90


async def test_a_token_that_runs_out_again_while_a_renewing_call_waits_is_renewed_again_not_refused(
    tmp_path: Path,
) -> None:
    """1-s tokens (time factor 3600; renewed 0.1 s early) and a window of 2 calls a second: 5 calls wait up to 2 s
    for a place, and a token renewed for one runs out again before its place comes. That call went out with the
    token it knew had run out, the server's 401 to it was its second, and the run stopped: refused credentials
    (exit 2; a tester's server, 6 of 10 rows loaded). Now no call leaves with a token known to have run out: the
    server answers no 401 and the load completes."""
    data = halo_file(tmp_path / "xero.csv", 10)
    options = SandboxOptions(window_limit=0, time_factor=3600)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = _halo_job(tmp_path, data, url, batch_size=2, window_limit=2, window_s=1.0)
            report = await load(job, env=HALO_ENV)
            seen = await stats(url)
    assert report.loaded == 10 and report.status == "complete", report.stop_reason
    assert seen["tokens_issued"] >= 3, "no token ran out during the run: the test proves nothing"
    assert seen["by_status"].get("401", 0) == 0, seen["by_status"]


async def test_tokens_that_live_shorter_than_the_wait_for_one_place_stop_the_run_unsent(tmp_path: Path) -> None:
    """1-s tokens and one call per 2 s: every token runs out before the next place comes, so a call would renew
    for ever, each renewal a call of its own. After 4 in a row with no call sent, the run stops (NoToken, resumable:
    nothing sent with a token known to have run out, so no 401 taken for refused credentials)."""
    data = halo_file(tmp_path / "xero.csv", 2)
    options = SandboxOptions(window_limit=0, time_factor=3600)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = _halo_job(tmp_path, data, url, batch_size=2, concurrency=1, window_limit=1, window_s=2.0)
            with pytest.raises(RunStopped, match="ran out while the call waited .* 4 times in a row with no call sent"):
                await load(job, env=HALO_ENV)
            seen = await stats(url)
    assert seen["by_status"].get("401", 0) == 0, seen["by_status"]
    assert seen["tokens_issued"] <= 6, seen  # bounded: the listing's, then one a wait


async def test_at_the_servers_own_rate_it_counts_no_429(tmp_path: Path) -> None:
    """The e-conomic sandbox counting 100 per rolling second, with 50 ms latency, in the test's own event loop: the
    client's work (planning, the ledger) delays the sandbox's count of calls already sent, the jitter a busy
    machine adds. 100/s configured, 16 at once, ~310 calls, ~3.5 s: the sandbox answers no 429."""
    data = tmp_path / "entries.csv"
    write_entries(data, 300)  # two-line vouchers, one a call
    options = SandboxOptions(latency_ms=50, rate_limit=100)
    with anyio.fail_after(60):
        async with running("economic", options) as url:
            job = _job(tmp_path, "economic", data, url, batch_size=2, concurrency=16, rate=100.0)
            report = await load(job, env=CREDS)
            seen = await stats(url.split("/journalsapi")[0])
    assert report.status == "complete", report.stop_reason
    assert seen["faults"]["rate_limited"] == 0 and seen["by_status"].get("429", 0) == 0, seen["by_status"]
    assert seen["requests"] < 340


async def test_below_one_call_a_second_a_call_that_left_late_holds_the_next_one_back() -> None:
    """0.5/s against a server that lets 1 call into any 2 s (the sandbox's rate below 1/s; a per-agreement limit
    in a migration of many agreements): a busy loop sends every third call 300 ms after its slot. Paced by the
    slots alone, the next call on time arrives 1.7 s after it: 429. The window of one call per 2 s, kept from
    each call's latest arrival, holds it back; the server counts no refusal, and the pace loses no more than the
    late sends themselves (0.3 s in every 6 s: at best 95 % of 0.5/s; ≥ 93 % with the margins)."""
    clock = VirtualTime()
    server = SlidingWindow(1, 2.0, clock=clock)
    limits = paced(clock, 0.5)
    refused, first = [0], []
    async with clock.running():
        for n in range(30):
            slot = await limits.acquire()
            await clock.sleep(0.3 if n % 3 == 1 else 0.0005)
            if server.try_acquire() > 0:
                refused[0] += 1
            else:
                first.append(clock())
            await clock.sleep(0.02)
            limits.answered(slot)
            limits.on_success()
    assert refused[0] == 0
    assert (len(first) - 1) / (max(first) - min(first)) >= 0.93 * 0.5


async def test_a_call_held_up_past_the_window_before_it_arrives_is_waited_for() -> None:
    """0.5/s, 1 call per 2 s at the server: every fifth send is held up 2.5 s by a busy loop before it reaches
    the server, longer than the window, and the next slot comes before that call is answered. Counted from its
    slot it would be out of the window already, and the next call would arrive first (a 429 for the held one);
    unanswered, it may be arriving now, so the next call waits for its answer. No refusal."""
    clock = VirtualTime()
    server = SlidingWindow(1, 2.0, clock=clock)
    limits = paced(clock, 0.5)
    refused = [0]

    async def call(n: int) -> None:
        slot = await limits.acquire()
        await clock.sleep(2.5 if n % 5 == 2 else 0.0005)
        refused[0] += server.try_acquire() > 0
        await clock.sleep(0.02)
        limits.answered(slot)

    async with clock.running(), anyio.create_task_group() as tg:
        for n in range(20):
            tg.start_soon(call, n)
            await clock.sleep(0)
    assert refused[0] == 0


def test_a_call_whose_answer_was_heard_frees_its_place_a_window_after_that_answer() -> None:
    """The server counts a call before it answers it: a window (3 s; its margin 15 ms) holds a call whose answer
    was heard no longer than `WindowMeter.DRIFT` of the window (at least 1 ms) past that answer, where its latest
    possible arrival plus the margin held it 12 ms longer on loopback (the fastest trip 2 ms); a call of an earlier
    run, restored from the cache, and one never heard keep the margin."""
    now = [0.0]
    window = WindowMeter(300, 3.0, clock=lambda: now[0])
    for _ in range(WindowMeter.TRUSTED_AFTER):  # trips of 2 ms: the fastest bounds arrivals
        window.answered(Arrival(now[0] - 0.002))
    call = Arrival(10.0)
    window.sent(call)  # left at once
    now[0] = 10.010  # and answered 10 ms later (a busy server, or a busy loop reading the answer)
    window.answered(call)
    assert window.arrived(call) == pytest.approx(10.008)
    assert window.frees(call) == pytest.approx(10.010 + 3.0 + 0.001)  # was 10.008 + 3.015
    restored = Arrival(10.0, 10.0)  # as `restore` counts an earlier run's call: from its kept arrival
    assert window.frees(restored) == pytest.approx(10.0 + 3.015)
    long = WindowMeter(300, 300.0, clock=lambda: now[0])  # HaloPSA's own 5 minutes: 30 ms of drift, not its 1 s
    heard = Arrival(0.0)
    long.answered(heard)
    assert long.frees(heard) == pytest.approx(10.010 + 300.03)


async def test_a_rolling_window_turns_over_a_few_ms_after_the_calls_it_counted() -> None:
    """HaloPSA's window as the pace benchmark scales it (300 per rolling 3 s), the server's own count on a clock of
    the test's own: 607 calls (a token and three listings, then uploads 8 at a time, 0.5 ms to the server and 1.5 ms
    back, every 40th 20 ms slower after it was counted) need two whole windows. The window holds each call until a
    window after its answer: the server refuses none, and the run spans the two windows and 10 ms (99.8 % of the
    window's minimum, the pace benchmark's share); with the margin after each latest possible arrival instead
    (15 ms a window, where the fastest trip is 2 ms) it spanned them and 34 ms (99.4 %), before any gap at the
    start."""
    clock = VirtualTime()
    server = SlidingWindow(300, 3.0, clock=clock)
    limits = paced(clock, None, [WindowMeter(300, 3.0, clock=clock, sleep=clock.sleep)])
    arrivals: list[float] = []
    refused = [0]
    todo = [607]

    async def call(n: int) -> None:
        slot = await limits.acquire()
        limits.sent(slot)
        await clock.sleep(0.0005)
        if server.try_acquire() > 0:
            refused[0] += 1
        else:
            arrivals.append(clock())
        await clock.sleep(0.0215 if n % 40 == 39 else 0.0015)
        limits.answered(slot)

    async def worker() -> None:
        while todo[0] > 0:
            todo[0] -= 1
            await call(todo[0])

    async with clock.running():
        await call(0)  # the token
        async with anyio.create_task_group() as tg:  # the listings, side by side
            for n in range(3):
                tg.start_soon(call, n)
        todo[0] -= 4
        async with anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(worker)
    assert refused[0] == 0 and len(arrivals) == 607
    minimum = (math.ceil(607 / 300) - 1) * 3.0
    assert minimum / (max(arrivals) - min(arrivals)) >= 0.997, max(arrivals) - min(arrivals)


async def _through(limits: Limits, clock: VirtualTime, arrive: Any, calls: int, retry_after_s: float | None) -> int:
    """`calls` calls, 8 at a time, each retried after a 429 until it goes through, as the dispatcher makes them:
    10 ms each way (`arrive()`: whether the server took it), the answer heard, then the 429 taken in with the
    refused call's slot. Returns the 429s."""
    done, refused = [0], [0]

    async def worker() -> None:
        while done[0] < calls:
            slot = await limits.acquire()
            await clock.sleep(0.01)
            ok = arrive()
            await clock.sleep(0.01)
            limits.answered(slot, worked=ok)
            if ok:
                done[0] += 1
                limits.on_success()
            else:
                refused[0] += 1
                await clock.sleep(limits.on_rate_limited(retry_after_s, slot).pause_s)

    async with clock.running(), anyio.create_task_group() as tg:
        for _ in range(8):
            tg.start_soon(worker)
    return refused[0]


def _counting_refusals(limit: int, window_s: float, clock: VirtualTime) -> Any:
    """A server's window that counts every arrival, the refused ones too: whether each arrival is taken."""
    times: list[float] = []

    def arrive() -> bool:
        now = clock()
        times[:] = [t for t in times if t > now - window_s]
        times.append(now)
        return len(times) <= limit

    return arrive


async def test_a_server_stricter_than_the_window_given_is_learned_within_a_few_windows() -> None:
    """100/s given, the server counting 100 per 1.08 s and every refused call with them: past the few ms a widened
    margin covers. A call refused though it left after the last widening widens the margin again at once, by a
    step twice the last, and once the margin is at its cap such a call narrows the window (and pauses the calls for
    its Retry-After). One step a window drew 1,088 429s here and took 26.6 s (a tester's proxy: 975 in 2,060
    calls); now 18, and 14.1 s against the server's 10.8 s minimum."""
    clock = VirtualTime()
    limits = paced(clock, 100.0)
    (window,) = limits.windows
    started = clock()
    refused = await _through(limits, clock, _counting_refusals(100, 1.08, clock), 1000, 1.0)
    assert window.learned_s == pytest.approx(window.LEARN_CAP)  # the cap, in steps of 5, 10, 20 ms
    assert window.allowed < 100  # then the window narrowed
    assert refused <= 40, refused
    assert clock() - started < 1.5 * 10.8


def test_a_retry_after_pause_is_no_part_of_the_pace_the_next_429_lowers() -> None:
    """40/s given: a 429 with Retry-After: 1 s lowers the pace to 28/s and pauses the calls; the next 429 after a few
    calls lowers it from 28/s, not from a pace read over the pause (3 429s took a tester's load to 3.5/s)."""
    now = [100.0]
    meter = RateMeter(40.0, clock=lambda: now[0])
    for _ in range(30):
        meter._starts.append(now[0])
        now[0] += 1 / 40
    assert meter.on_rate_limited(1.0) == 1.0
    assert meter.rate == pytest.approx(28.0)
    now[0] += 1.0
    for _ in range(3):
        meter._starts.append(now[0])
        now[0] += 1 / 28
    meter.on_rate_limited(1.0)
    assert meter.rate == pytest.approx(28.0 * 0.7)


async def test_a_window_the_server_keeps_smaller_is_taken_in_with_a_retry_after() -> None:
    """HaloPSA's window given (300 per 3 s), the server's smaller (200) and saying Retry-After: 0: a 429 while the
    client's window is not full is a share, as without Retry-After, and the window narrows to what the server leaves
    (800 calls: 31 429s, 9.9 s, most at the probes for room the Retry-After of 0 leaves it to, one a window; 24 and
    12.3 s while a probe that found none made the next wait two windows). Before, the rate
    meter cut the pace instead, the 429s came back as it grew (the tester's run: 208 in 811 calls), and each cut
    read the pace over the pauses: 136.7 s here."""
    clock = VirtualTime()
    limits = paced(clock, None, [WindowMeter(300, 3.0, clock=clock, sleep=clock.sleep)])
    server = SlidingWindow(200, 3.0, clock=clock)
    started = clock()
    refused = await _through(limits, clock, lambda: server.try_acquire() == 0, 800, 0.0)
    assert refused <= 35, refused
    assert clock() - started < 1.5 * 12.0


async def test_a_window_the_server_keeps_a_little_smaller_saying_retry_after_0_keeps_the_pace() -> None:
    """The server counts 55 calls a second where 60 were given, and says Retry-After: 0 (tester t28): a 429 while the
    window is full with its margin at the cap is a share, as without Retry-After (a Retry-After of 0 says "now",
    which it was not). Before, it went to the rate meter, which cut the pace by 30 % a 429: six cuts, 37/s, 31 s for
    800 calls where 14.5 are the least (30.0 s here); now 14.9 s and 31 429s, as without Retry-After."""
    clock = VirtualTime()
    limits = paced(clock, None, [WindowMeter(60, 1.0, clock=clock, sleep=clock.sleep)])
    server = SlidingWindow(55, 1.0, clock=clock)
    started = clock()
    refused = await _through(limits, clock, lambda: server.try_acquire() == 0, 800, 0.0)
    assert clock() - started < 1.25 * 800 / 55, (clock() - started, refused)


async def _beside_one_that_counts_refusals(other_rate: float, retry_after_s: float | None) -> tuple[float, int]:
    """60 calls through a window of 60 per 10 s that counts the calls it refuses (as HaloPSA's "300 Requests per
    rolling 5 minute window" may), another client there a window first at `other_rate` calls/s, dropping its
    refused calls; 429s with `retry_after_s` (None: without). At most 600 s. Returns the run's seconds and 429s."""
    clock = VirtualTime()
    server = SlidingWindow(60, 10.0, clock=clock, counts_refused=True)
    limits = paced(clock, None, [WindowMeter(60, 10.0, clock=clock, sleep=clock.sleep)])
    refused: list[float] = []

    async def other() -> None:
        while True:
            server.try_acquire()
            await clock.sleep(1 / other_rate)

    async def ours() -> None:
        refused.extend(
            (await _at_latency(limits, clock, lambda: server.try_acquire() == 0, 60, retry_after_s, 0.02))[1]
        )
        tg.cancel_scope.cancel()

    async with clock.running(), anyio.create_task_group() as tg:
        tg.start_soon(other)
        await clock.sleep(10.0)
        started = clock()
        tg.start_soon(ours)
        await clock.sleep(600.0)
        tg.cancel_scope.cancel()
    return clock() - started, len(refused)


@pytest.mark.parametrize(("other_rate", "least_s", "within"), [(3.0, 20.0, 1.25), (4.8, 50.0, 1.75)])
async def test_calls_held_for_a_retry_after_go_one_at_a_time_where_refusals_count(
    other_rate: float, least_s: float, within: float
) -> None:
    """Tester t28: a server that counts the calls it refuses and says when its earliest place frees (Retry-After: 2,
    a fifth of its window, as HaloPSA's seconds are of its 5 minutes), another client at 30 % (80 %) of the window.
    Every call the share held went at once when the Retry-After had passed, and the share doubled: each met a 429
    that took a place, and the window stayed full (31.7 s and 57 429s for the 60 calls, 20 s the least; at 80 %
    112 s and 149; at 90 % with Retry-After: 1 nothing in 600 s, the tester's server 4 rows of 60 in 90 s). Now one
    call goes, a probe for room that grows as the server takes its calls, and a 429 makes the next wait the
    Retry-After from it: 21.3 s and 9 429s (80 %: 79 s and 42), as without Retry-After (20.3 s, 3)."""
    elapsed, refused = await _beside_one_that_counts_refusals(other_rate, 2.0)
    assert refused, "no 429: the test proves nothing"
    assert elapsed <= within * least_s, (elapsed, refused)
    assert refused <= 45, refused


async def test_a_token_renewed_in_a_window_of_one_call_gets_a_place_of_its_own(tmp_path: Path) -> None:
    """A window of one call per 0.4 s and 2-s tokens (time factor 1800): the call whose token ran out while it
    waited gives its place back before the token is fetched (the token's call needs one). Held, the window counted
    it unanswered for two minutes: the tester's load of 40 rows stalled after 2 requests. ~20 calls, ~8 s."""
    data = halo_file(tmp_path / "xero.csv", 12)
    options = SandboxOptions(window_limit=0, time_factor=1800)
    with anyio.fail_after(60):
        async with running("halopsa", options) as url:
            job = _halo_job(tmp_path, data, url, batch_size=1, concurrency=1, window_limit=1, window_s=0.4)
            report = await load(job, env=HALO_ENV)
            seen = await stats(url)
    assert report.loaded == 12 and report.status == "complete", report.stop_reason
    assert seen["tokens_issued"] >= 2, "no token ran out during the run: the test proves nothing"
    assert seen["by_status"].get("401", 0) == 0, seen["by_status"]


async def _at_latency(
    limits: Limits,
    clock: VirtualTime,
    arrive: Any,
    calls: int,
    retry_after_s: float | None,
    refusal_s: float,
    latency_s: float = 0.05,
    workers: int = 16,
) -> tuple[list[float], list[float]]:
    """`calls` calls, `workers` at a time, each retried after a 429 until it goes through, as the dispatcher makes
    them: each arrives as it leaves (`arrive()`: whether the server took it), is answered `latency_s` later and a
    refusal `refusal_s` later, the answer heard (a refusal as no call's work), then the 429 taken in with the
    refused call's slot. Returns when the server took the calls and when it refused them."""
    took: list[float] = []
    refused: list[float] = []

    async def worker() -> None:
        while len(took) < calls:
            slot = await limits.acquire()
            limits.sent(slot)
            ok = arrive()
            (took if ok else refused).append(clock())
            await clock.sleep(latency_s if ok else refusal_s)
            limits.answered(slot, worked=ok)
            if ok:
                limits.on_success()
            else:
                await clock.sleep(limits.on_rate_limited(retry_after_s, slot).pause_s)

    async with anyio.create_task_group() as tg:  # on the caller's `clock.running()`
        for _ in range(workers):
            tg.start_soon(worker)
    return took, refused


def _pace_after(took: list[float], since: float) -> float:
    """Calls/s the server took from `since` (a 429) on: the calls after it over their first-to-last span."""
    after = [t for t in took if t > since]
    return (len(after) - 1) / (after[-1] - after[0])


async def test_a_429_answered_at_once_is_no_round_trip_and_the_pace_is_kept() -> None:
    """A gateway counts 100 calls per 1.01 s (its clock 10 ms from ours) and answers its 429 at once, before the
    50 ms a call takes; 100/s given, 16 calls at once. The instant 429 was taken for the fastest round trip, so each
    later call held its place 50 ms too long: a tester's run went at 93/s for its last 15 s where the gateway
    took 99/s. A refusal times no trip: the fastest stays the calls' 50 ms, and the pace after the 429 is what the
    widened margin leaves (two 429s widen it by 15 ms: 98/s; before, 94.7/s)."""
    clock = VirtualTime()
    server = SlidingWindow(100, 1.01, clock=clock)
    limits = paced(clock, 100.0)
    (window,) = limits.windows
    async with clock.running():
        took, refused = await _at_latency(limits, clock, lambda: server.try_acquire() == 0, 1200, 1.0, 0.0)
    assert refused, "the gateway refused none: the test proves nothing"
    assert window.fastest_s == pytest.approx(0.05)
    assert _pace_after(took, refused[0]) >= 97.5, _pace_after(took, refused[0])


@pytest.mark.parametrize("retry_after_s", [None, 1.0])
async def test_one_429_in_the_runs_first_window_narrows_nothing_and_the_pace_is_kept(
    retry_after_s: float | None,
) -> None:
    """100/s given against a server counting 100 per second, which refuses the 60th call once (a transient 429, at
    0.6 s). The run's own count in a window it has not been sending in for a whole window is partial by
    construction: taken for a share (59 of 100 held), the 429 narrowed the window to 53 a second and it grew back
    1 % of the limit a window: a tester's run went at 61.8 % of the pace (60.7 % with Retry-After: 1). The first
    429 of a paced run's first window now narrows nothing, pauses nothing and keeps the pace: ≥ 98/s after it."""
    clock = VirtualTime()
    server = SlidingWindow(100, 1.0, clock=clock)
    limits = paced(clock, 100.0)
    (window,) = limits.windows
    arrivals = [0]

    def arrive() -> bool:
        arrivals[0] += 1
        return arrivals[0] != 60 and server.try_acquire() == 0

    async with clock.running():
        took, refused = await _at_latency(limits, clock, arrive, 1200, retry_after_s, 0.0)
    assert len(refused) == 1
    assert window.allowed == 100
    assert limits.rate.rate == 100.0
    assert _pace_after(took, refused[0]) >= 98.0, _pace_after(took, refused[0])


async def test_a_paced_run_sharing_its_window_narrows_to_its_share_a_round_trip_later() -> None:
    """100/s given; another client there first takes 50/s of the server's 100 per second. The run's first 429 in
    its first window narrows nothing (it may be a transient one); a call refused though it left after that 429 was
    heard is the share: the window narrows, and the calls the other leaves carry the load (50/s: 600 calls in 12
    s; within 1.15 × of it), with a bounded count of 429s. In its first window the run's count is partial, and a
    call refused between two the server took narrows the window from its limit, not from that count (a strict
    server's busy start, `WindowMeter.shrink`): 90, 81, ... a 429 each, seven to its half (12-14 429s before)."""
    clock = VirtualTime()
    server = SlidingWindow(100, 1.0, clock=clock)
    limits = paced(clock, 100.0)
    (window,) = limits.windows

    async def other() -> None:
        while True:
            server.try_acquire()
            await clock.sleep(1 / 50)

    async with clock.running(), anyio.create_task_group() as tg:
        tg.start_soon(other)
        await clock.sleep(1.0)
        started = clock()
        took, refused = await _at_latency(limits, clock, lambda: server.try_acquire() == 0, 600, None, 0.0)
        tg.cancel_scope.cancel()
    assert window.allowed < 100
    assert clock() - started <= 1.15 * 12.0, clock() - started
    # the first two, seven narrowing the first window from its limit to the half the other leaves, then a probe for
    # room a window: 20
    assert len(refused) <= 2 + 7 + (clock() - started) / 1.0, len(refused)


async def _paced_beside(rate: float, other_rate: Callable[[float], float], calls: int) -> tuple[float, int, Limits]:
    """--rate `rate` at a server counting `rate` per rolling second, another client there a second first taking
    `other_rate(s)` calls a second `s` seconds after it began (0: none then); `calls` calls of 50 ms, 8 at once,
    each retried after a 429 (without Retry-After). Returns the run's seconds, its 429s and its limits."""
    clock = VirtualTime()
    server = SlidingWindow(int(rate), 1.0, clock=clock)
    limits = paced(clock, rate)

    async def other() -> None:
        begun = clock()
        while True:
            if per_s := other_rate(clock() - begun):
                server.try_acquire()
                await clock.sleep(1 / per_s)
            else:
                await clock.sleep(0.01)

    async with clock.running(), anyio.create_task_group() as tg:
        tg.start_soon(other)
        await clock.sleep(1.0)
        started = clock()
        _, refused = await _at_latency(limits, clock, lambda: server.try_acquire() == 0, calls, None, 0.0, 0.05, 8)
        tg.cancel_scope.cancel()
    assert refused, "the other client took no room: the test proves nothing"
    return clock() - started, len(refused), limits


@pytest.mark.parametrize(("rate", "other_rate"), [(10.0, 4.0), (20.0, 8.0)])
async def test_a_paced_run_beside_another_client_that_comes_and_goes_takes_the_room_it_leaves(
    rate: float, other_rate: float
) -> None:
    """--rate R at a server counting R per rolling second, another client taking 40 % of it for 5 s and none for
    10 s, again and again (tester t63a); 30 s of calls at the rate, 50 ms each, 8 at once. The room: R less the
    other's 40 % a third of the time, 34.6 s at least. Its 429s came to calls the rate spaced behind one the server
    took, and past the spacing's margin each narrowed the spacing's pace by 10 %, back 1 % of the rate a second:
    46.3 s (43.8 s at --rate 20), 1.3 x. A 429 of a call that left two intervals after the last one not refused
    shows the server counts a window: the share narrows from then on and probes its way back (39.4 s; 38.0 s)."""
    calls = int(30 * rate)
    elapsed_s, refused, limits = await _paced_beside(rate, lambda s: other_rate if s % 15.0 < 5.0 else 0.0, calls)
    least_s = calls / (rate - other_rate / 3)
    assert elapsed_s <= 1.2 * least_s, (elapsed_s, refused)
    assert limits.rate.window_counted


async def test_a_paced_run_whose_window_another_client_fills_at_first_takes_the_whole_rate_once_it_stops() -> None:
    """--rate 10 at a server counting 10 per rolling second, another client there a second first at 9 a second for
    5 s, then none; 300 calls of 50 ms, 8 at once. The run's first calls find one place a second: the server never
    takes two of them close together, and refuses one two intervals after the last it took, as a strict server
    slower than the rate does. Taken for such a server (the spacing jumped to the gap), its pace came back 1 % of
    the rate a second once the other had gone: 45.7 s on t62b's server where the share's probe took 22.0 s (here
    71.3 s against 37.7 s, the least 34.5 s)."""
    elapsed_s, refused, _ = await _paced_beside(10.0, lambda s: 9.0 if s < 6.0 else 0.0, 300)
    least_s = 5.0 + (300 - 5) / 10.0  # a call a second while the other is there, the rate after
    assert elapsed_s <= 1.25 * least_s, (elapsed_s, refused)


async def test_a_paced_run_beside_another_client_taking_nine_tenths_of_its_window_takes_the_tenth() -> None:
    """--rate 10 at a server counting 10 per rolling second, another client there a second first taking 9 a second
    all along; 60 calls of 50 ms, 8 at once: one place a second is the run's, 60 s at least. Its 429s, too, look
    like a strict server's far slower than the rate; taken for one (the spacing jumped to the refused gap, and was
    probed back after 2 s without a 429), the spacing and the share held the calls together: 192 s for 120 calls on
    t62b's server where the share alone took 141 s, the least 140 s (here 85.0 s against 75.1 s)."""
    elapsed_s, refused, _ = await _paced_beside(10.0, lambda s: 9.0, 60)
    assert elapsed_s <= 1.35 * 60.0, (elapsed_s, refused)


async def _sharing(
    other_rate: float,
    other_for_s: float | None,
    calls: int,
    then_rate: float = 0.0,
    insists: bool = False,
    cycle_s: float | None = None,
    retry_after_s: float | None = None,
    counts_refused: bool = False,
) -> tuple[float, int, WindowMeter]:
    """A window of 60 per second, no pace given, shared with another client there a second first, taking
    `other_rate` calls/s of it for `other_for_s` seconds (None: all along), then `then_rate` (0: none), and again
    each `cycle_s` seconds where given; `calls` calls at 50 ms, 429s with `retry_after_s` (None: without
    Retry-After). The other sends each call again 50 ms after a 429 until the server takes it where it `insists`
    (as an integration does: the room it takes is not given up to the run), else it drops it. With
    `counts_refused` the server counts the calls it refuses (`SlidingWindow`'s). Returns the run's seconds, its 429s and
    its window."""
    clock = VirtualTime()
    server = SlidingWindow(60, 1.0, clock=clock, counts_refused=counts_refused)
    window = WindowMeter(60, 1.0, clock=clock, sleep=clock.sleep)
    limits = paced(clock, None, [window])

    def rate_at(since_s: float) -> float:
        since_s = since_s % cycle_s if cycle_s else since_s
        return other_rate if other_for_s is None or since_s < other_for_s else then_rate

    async def other() -> None:
        begun = clock()
        while (rate := rate_at(clock() - begun)) > 0 or cycle_s:
            if not rate:
                await clock.sleep(0.01)
                continue
            due = clock() + 1 / rate
            while server.try_acquire() != 0 and insists:
                await clock.sleep(0.05)
            await clock.sleep(max(0.0, due - clock()))

    async with clock.running(), anyio.create_task_group() as tg:
        tg.start_soon(other)
        await clock.sleep(1.0)
        started = clock()
        _, refused = await _at_latency(limits, clock, lambda: server.try_acquire() == 0, calls, retry_after_s, 0.0)
        tg.cancel_scope.cancel()
    return clock() - started, len(refused), window


async def test_a_share_follows_another_client_that_comes_and_goes_though_it_says_retry_after_0() -> None:
    """The other takes half the window for 2 s, none for 2 s, again and again; the server counts the calls it
    refuses and says Retry-After: 0 (tester t28). Room: 45 a second on average, 600 calls in 13.3 s. A probe that
    grew the share to the whole window while the other was away met its return at a full window, and the 429 with
    Retry-After: 0 went to the rate meter, which cut the pace by 30 % a 429 (the tester's runs: 37-62 s, 1-2 calls
    a second and regrowing ~0.1/s a second; start-1204c, whose probes came less often: 18-26 s; 41.1 s here). It
    narrows the share now, as without Retry-After: 15.2 s, 21 429s."""
    elapsed, refused, window = await _sharing(30.0, 2.0, 600, cycle_s=4.0, retry_after_s=0.0, counts_refused=True)
    assert refused, "the other client took no share: the test proves nothing"
    assert elapsed <= 1.5 * 600 / 45, (elapsed, refused)


async def test_a_share_grows_back_to_the_whole_window_once_the_other_client_stops() -> None:
    """The other takes the whole window (200/s) and stops 1.5 s into the run: its calls leave the server's window
    by 2.5 s, and the run's 240 calls take 1.5 + 240 / 60 = 5.5 s at least. The share, narrowed to a call or two,
    probes for room after a window with no 429 and is the limit again a few round trips later: 6.4 s, each call
    the server takes past the share letting two more go, so the probe doubles every round trip (a call more a
    window: 14.2 s, the share at 26 of 60 when the run ended; one more a call taken, growing by one a round trip:
    7.1 s)."""
    elapsed, refused, window = await _sharing(200.0, 2.5, 240)
    assert refused, "the other client took no share: the test proves nothing"
    assert window.allowed == 60
    assert elapsed <= 1.25 * 5.5, elapsed


async def test_a_share_keeps_the_room_a_probe_found_where_the_other_client_shrank() -> None:
    """The other takes 90 % of the window (54/s), and from 1 s into the run 10 % (6/s) all along: the run's 600
    calls take 2 + 594 / 54 = 13 s at least. A probe for room that met its 429 at the room's end gave all it had
    found back, and probed up and down again, window after window: 24.8 s (tester t24a: 1.7-2.1 x on a server of
    its own). The share keeps 90 % of the calls the server took in the window, on trial for a window: 14.0 s (14.8
    s where the other sends its refused calls again)."""
    elapsed, refused, window = await _sharing(54.0, 2.0, 600, then_rate=6.0, insists=True)
    assert refused, "the other client took no share: the test proves nothing"
    assert window.allowed >= 48, window.allowed
    assert elapsed <= 1.2 * 13.0, elapsed


async def test_a_probe_for_room_that_finds_none_gives_it_back_and_costs_a_429_a_window_at_most() -> None:
    """The other takes half the window all along, and sends each call the server refuses again until it takes it:
    each probe for room meets a 429, the share goes back to what it was before the probe, and the next probe comes
    a window later: the share stays about the half the other leaves, the load takes the calls it leaves (1,500
    calls at 30 a window: 50 s; 53.0 s), and the other pays a 429 a window (53; 36 and 50.3 s while a probe that
    found none made the next wait two windows, 17 while it waited up to 8)."""
    elapsed, refused, window = await _sharing(30.0, None, 1500, insists=True)
    assert refused >= 20, "the probes met no 429: the test proves nothing"
    assert window.allowed <= 33, window.allowed
    assert elapsed <= 1.15 * 50.0, elapsed
    assert refused <= 5 + elapsed / 1.0, refused


async def _coming_and_going(limit: int, window_s: float, latency_s: float, lead_windows: float) -> float:
    """The benchmark's other client that comes and goes (`benchmarks/pace.py`), at `limit` calls per `window_s`: it
    takes 90 % of the window for two windows, none for two, again and again, on a server that counts the calls it
    refuses (its own it sends once); the run comes `lead_windows` windows after it started, with 8 calls at once
    answered `latency_s` later, and makes 4 windows' worth of calls. Returns the calls over the room the other left
    in the run's time: 10 % of the window while it called, all of it while it did not."""
    clock = VirtualTime()
    server = SlidingWindow(limit, window_s, clock=clock, counts_refused=True)
    limits = paced(clock, None, [WindowMeter(limit, window_s, clock=clock, sleep=clock.sleep)])
    cycle_s, rate = 4 * window_s, 0.9 * limit / window_s

    async def other() -> None:
        begun = clock()
        while True:
            if (since := (clock() - begun) % cycle_s) >= cycle_s / 2:
                await clock.sleep(cycle_s - since)
                continue
            due = clock() + 1 / rate
            server.try_acquire()
            await clock.sleep(max(0.0, due - clock()))

    calls = 4 * limit
    async with clock.running(), anyio.create_task_group() as tg:
        tg.start_soon(other)
        await clock.sleep(lead_windows * window_s)
        started = clock()
        await _at_latency(limits, clock, lambda: server.try_acquire() == 0, calls, None, latency_s, latency_s, 8)
        tg.cancel_scope.cancel()
    elapsed, step_s = clock() - started, window_s / 1000
    there = [(lead_windows * window_s + i * step_s) % cycle_s < cycle_s / 2 for i in range(int(elapsed / step_s))]
    room = sum(0.1 if t else 1.0 for t in there) * limit / window_s * step_s
    return calls / room


@pytest.mark.parametrize(("limit", "window_s"), [(300, 3.0), (60, 1.0)])
async def test_a_share_finds_the_room_another_client_leaves_each_time_it_goes(limit: int, window_s: float) -> None:
    """The other client takes 90 % of the window for two windows and none for two, again and again (benchmark 9's
    case, its window scaled to seconds: a round trip is a few ms of it, as 200 ms is of HaloPSA's 5 minutes). At
    each of its visits the share narrows; as it goes, the share must find the room again within a window or so,
    whenever the run began. It did in some phases only (55 % of the room in 6 benchmark runs of 10, 62 % here): the
    share a probe found was on trial while every call waited for its own to leave the window, the trial's end was
    seen only at a success, and the next probe came a window later, as the other came back; and the probe a window
    after its last 429, which met the other's calls still in the window as it left, made the next wait two windows.
    Now 92-95 % in every phase here."""
    shares = [await _coming_and_going(limit, window_s, 0.005, lead) for lead in (1.0, 1.1, 1.2, 1.3, 1.5, 1.7)]
    assert min(shares) >= 0.85, [f"{share:.2f}" for share in shares]
