"""Limits as small objects behind one protocol (`Meter`): a steady rate meter that yields to 429s, a rolling
window, and a rolling daily call quota. limits.Limits composes them.

aiolimiter's bucket lets `max_rate` calls through at once when idle and cannot change its pace at run
time; the GCRA meter below spaces every start by 1/rate from the first call on and slows down on 429.
Each meter takes its clock and its sleep, so a test can run them on a clock of its own.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import anyio
import msgspec

from .errors import RunStopped
from .instants import Instant, passed
from .outputs import held_lock, write_private

log = logging.getLogger(__name__)

#: seconds since some fixed point (time.monotonic for the pacing meters, time.time for the daily quota)
Clock = Callable[[], float]
#: waits the given seconds (anyio.sleep)
Sleep = Callable[[float], Awaitable[None]]
#: seconds a Retry-After in whole seconds may round a server's own short wait up by: a 429 asking for no longer than
#: a meter's own wait and this is a server whose clock is near ours, not a wait the API asks for itself
RETRY_AFTER_ROUNDING_S = 1.0


#: how a stop at the daily quota says to give a raised one (a manifest's run says its job's `daily_quota`:
#: fleet.manifest_words)
QUOTA_RAISED = "give it with `--daily-quota N`"


class Meter(Protocol):
    """One limit every call passes: `acquire` waits for a slot (or raises RunStopped when none will come), and
    hears how the call went: a 429 (the server's Retry-After in seconds, None when it gave none), or a success."""

    async def acquire(self) -> None: ...

    def on_rate_limited(self, retry_after_s: float | None) -> float:
        """Hear of a 429; returns the seconds every call now pauses (0: this meter pauses none)."""
        ...

    def on_success(self) -> None: ...


class RateMeter:
    """Spaces request starts 1/rate apart (no burst, even at start), and finds the pace the server accepts when it
    accepts less (a window it shares with another client): additive increase, multiplicative decrease, as TCP does.

    A 429 pauses everyone for the server's Retry-After or, without one (or with one of 0: "now", which it was not),
    for a bounded wait that doubles with every 429 that follows without a success in between (`BACKOFF_S` up to
    `BACKOFF_CAP_S`); the pace drops to `DECREASE` of what it was, once a round trip: the 429s of calls that
    started before the last cut were sent at the pace it cut and say nothing new (they pause the calls for their
    Retry-After and cut nothing), as the calls in flight when the first 429 came back do. Each success then adds
    `INCREASE` of the pace at that 429 per second of successes, back up to the configured rate (without one: until
    the meter no longer binds, when it lets calls go unpaced again).

    A 429 of a call the configured rate spaced (`widen`) is no pace too fast but the server's clock and ours
    disagreeing by a ms or so at a server that spaces calls strictly (a token bucket with no burst): the spacing
    widens by a learned margin (`learned_s`, in `LEARN_STEPS` steps up to `LEARN_CAP` of the interval), kept
    between the calls as they leave from then on (`depart`), and the pace is kept. Past `LEARN_CAP` such a 429 is
    a server whose arrivals vary more than the clocks (the network's delay, call to call): each keeps
    `SPACED_DECREASE` of the pace the spacing left calls at, and successes ease it back (`on_success`)."""

    DECREASE = 0.7
    #: without a pace set, of the pace the last 429 came at: up to `NEAR` of it the pace rises `NEAR_STEP` of it a
    #: second of successes, past that `PAST_STEP`
    NEAR = 0.9
    NEAR_STEP = 0.25
    PAST_STEP = 0.01
    #: seconds a pace 429s found where none was set is kept for the next command against the same API (`keep`)
    KEPT_S = 900.0
    INCREASE = 0.1  # of the pace at the last 429, per second of successes
    BACKOFF_S = 0.25
    BACKOFF_CAP_S = 8.0
    #: starts since the last pause before their pace is taken for the one the server saw (fewer: the pace set)
    OBSERVED_MIN = 8
    #: of the interval at the configured rate: the widest the learned spacing margin gets (`widen`)
    LEARN_CAP = 0.05
    #: widenings to reach it. Two: a margin learned in ten small steps met a 429 at each (a tester's token bucket of
    #: 10/s, t32c, its calls 99-100 ms apart), and at a window shared with another client each step costs a round
    #: trip of 429s before the share narrows
    LEARN_STEPS = 2
    #: past `LEARN_CAP`, of the pace the spacing left calls at: what each further 429 of a spaced call keeps of it
    #: (`widen`), down to `SPACED_FLOOR` of the configured rate; it eases back `SPACED_EASE` of the configured rate a
    #: second of successes (`on_success`)
    SPACED_DECREASE = 0.9
    SPACED_FLOOR = 0.1
    SPACED_EASE = 0.01
    #: of the configured rate's interval: two calls the server took that left closer than this show it spaces calls
    #: no wider (`took_close`)
    TAKEN_CLOSE = 1.5

    def __init__(self, rate: float | None, clock: Clock = time.monotonic, sleep: Sleep = anyio.sleep) -> None:
        self.configured = rate if rate and rate > 0 else None
        self.rate = self.configured
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        self._backoffs = 0  # 429s without a success since: the next wait without Retry-After doubles
        self._step = 0.0  # calls/s added per second of successes since the last 429
        #: the starts since the last pause: the pace observed (a pause inside them would read as a slow pace)
        self._starts: deque[float] = deque(maxlen=64)
        #: seconds the spacing has widened by since the start (`widen`)
        self.learned_s = 0.0
        #: a 429 showed the server counts a window, not the spacing (`counts_a_window`): past `LEARN_CAP` the
        #: spacing narrows the pace no further (the window's share does)
        self.window_counted = False
        #: the server took two calls that left less than `TAKEN_CLOSE` intervals apart (`Limits.answered`): it spaces
        #: calls no wider than that, and a 429 two intervals after the last call not refused is a window's
        self.took_close = False
        self._widened_at = -math.inf  # when it last widened
        self._left_at = -math.inf  # when the last call left (`depart`)
        self._cut_at = -math.inf  # when a 429 last cut the pace (`on_rate_limited`)
        #: the pace the last 429 cut it to, below what the server took then (None: none yet): what `keep` keeps
        self._cut_to: float | None = None
        #: without a pace set: the pace the last 429 came at, which the pace nears fast and passes slowly
        self._refused_at: float | None = None
        #: whether rolling windows pace the calls beside it (Limits): then they find the room a 429 leaves (a share
        #: of the window), and this meter finds no pace of its own to keep (`keep`, `_refused_at`)
        self.windowed = False

    def keep(self, path: Path) -> None:
        """Save the pace 429s found where none was set (calls/s, with when: the pace the last one cut it to, below
        what the server took), so that the next command against the same API (a reconcile after its load) starts at
        it rather than unpaced: its calls let go together met 429s a burst a second there (tester t50a: 24-40 % of a
        reconcile's calls at a server of 20 calls a second). A pace that no longer binds (unlimited again) keeps
        nothing and leaves nothing kept; a pace set, or windows beside it (`windowed`), keep nothing either."""
        # a cache: a command without it merely finds the pace again
        with contextlib.suppress(OSError):
            if self.windowed:
                return
            if self.configured is None and self.rate is not None and self._cut_to is not None:
                write_private(path, msgspec.json.encode({"rate": self._cut_to, "at": time.time()}).decode())
            elif self.configured is None:
                path.unlink(missing_ok=True)

    def restore(self, path: Path) -> None:
        """Start at the pace `keep` saved, where none is set and it was saved less than `KEPT_S` ago."""
        if self.configured is not None or self.windowed:
            return
        try:
            kept = msgspec.json.decode(path.read_bytes(), type=dict[str, float])
        except (OSError, ValueError):
            return
        rate, at = kept.get("rate"), kept.get("at")
        if rate is not None and rate > 0 and at is not None and 0 <= time.time() - at < self.KEPT_S:
            self.rate = self._cut_to = rate
            self._step = max(0.1, rate * self.INCREASE)
            self._refused_at = rate / self.DECREASE  # the pace the 429 came at, near which it rises slowly again

    def interval_s(self) -> float:
        """Seconds between two starts at the pace set, the learned margin included (0.0: no pace)."""
        return 0.0 if self.rate is None else 1.0 / self.rate + self.learned_s

    async def acquire(self) -> None:
        await self.start()
        await self.depart()

    async def start(self) -> float:
        """Wait for a slot (`acquire`) and return when the call started, in seconds of the meter's clock (for
        `widen` and `on_rate_limited`, which tell its 429 by it)."""
        while True:
            now = self._clock()
            if self._paused_until > now:
                await self._sleep(self._paused_until - now)
                continue
            if self.rate is None:
                break
            slot = max(self._next, now)
            self._next = slot + self.interval_s()
            if slot > now:
                await self._sleep(slot - now)
            if self._paused_until <= self._clock():
                break
        started = self._clock()
        self._starts.append(started)
        return started

    async def depart(self) -> None:
        """The call whose slot `start` gave leaves now, past every other limit too (`Limits`: its rolling windows may
        hold a call past its slot). Once a 429 has shown the server spaces calls strictly (`learned_s`), not before an
        interval after the call before it left: such a server counts calls as they come, not as their slots were handed
        out, so a call late to its slot and the next on time would arrive too close, the slots handed out before the
        spacing widened would leave at the old one, and the calls a window held past their slots would leave together as
        it let them go (tester t61b: answers in 0-2 s held the rate's own window, which places each call by when its
        answer came, and its calls left 1 ms apart: 55 429s in 133 calls). Before that, a call a window held goes as it
        lets it go, and the calls whose slots passed meanwhile with it: a server counting calls per rolling second takes
        them, and spaced, a load at 100/s went at 99.1 % of it where it goes at 99.4 % (three pairs, side by side)."""
        if not self.learned_s:
            return
        now = self._clock()
        self._left_at = due = max(self._left_at + self.interval_s(), now)  # taken now: the next call's is after it
        if due > now:
            await self._sleep(due - now)
        self._left_at = max(self._left_at, self._clock())

    def due_in(self) -> float:
        """Seconds until a call could start without waiting: its spacing's and a pause's (0.0: one can now)."""
        now = self._clock()
        return max(0.0, self._paused_until - now, self._next - now if self.rate is not None else 0.0)

    async def until_due(self) -> None:
        """Sleep until a call could start without waiting (`due_in`)."""
        if (wait_s := self.due_in()) > 0:
            await self._sleep(wait_s)

    async def sleep(self, seconds: float) -> None:
        """Sleep on the meter's clock."""
        await self._sleep(seconds)

    def observed_rate(self) -> float | None:
        """Calls/s over the last starts since the last pause; None for fewer than `OBSERVED_MIN` of them."""
        if len(self._starts) < self.OBSERVED_MIN:
            return None
        span = self._starts[-1] - self._starts[0]
        return (len(self._starts) - 1) / span if span > 0 else None

    def now(self) -> float:
        """The meter's clock, in seconds."""
        return self._clock()

    def backoff_s(self) -> float:
        """The pause a 429 without Retry-After asks for now, in seconds: `BACKOFF_S` doubled per 429 since the last
        success, at most `BACKOFF_CAP_S`."""
        return min(self.BACKOFF_CAP_S, self.BACKOFF_S * 2.0**self._backoffs)

    def widen(
        self, started: float | None, retry_after_s: float | None = None, close: bool = False, keep: bool = False
    ) -> bool:
        """A 429 of the call that started at `started` (seconds of the meter's clock; None: not known): where the
        configured rate spaced it (it started no later than an interval, within `LEARN_CAP`, after the call before
        it), the server spaces calls as strictly as this meter and its clock and ours disagree by a ms or so, so the
        spacing widens (by `LEARN_CAP` / `LEARN_STEPS` of the interval, up to `LEARN_CAP`) and the pace is kept (True).
        A call that started before the last widening was spaced with the old margin and says nothing new (True,
        nothing changes). False where the call is not known, the pace is not the configured one, the call was not
        spaced by it (a share of a window, met by `WindowMeter.shrink`), its Retry-After asks for longer than an
        interval and the rounding of whole seconds (`RETRY_AFTER_ROUNDING_S`: the API's own wait), or the margin is
        at its cap (a server stricter than the clocks: the pace is cut). Before, at a token bucket of 10/s with no
        burst, the first such 429 was taken for a share of the rate's window, which narrowed to 1-2 calls: 50 429s
        and 1.1 calls/s for 60 rows (tester t32c). `close`: the call left less than an interval after one the server
        did not refuse (`WindowMeter.let_go_with`): spaced by the rate or not, it came too soon for such a server.

        Past `LEARN_CAP` (True), the server's arrivals vary more than a clock's ms: the network delays each call
        differently, and two that left an interval apart may arrive closer (tester t62b: 0-50 ms at a strict server
        of 10 a second). Each such 429 of a call that started after the last widening keeps `SPACED_DECREASE` of the
        pace the spacing left calls at, down to `SPACED_FLOOR` of the configured rate (False there: no spacing's),
        and successes ease it back (`on_success`); not once a 429 has shown the server counts a window
        (`counts_a_window`: False, the window's share narrows). Taken for a share of the rate's window past the
        cap, they narrowed it in whole calls, which it let go together: 46 429s in 186 calls, 46.3 s for 3,000 rows
        at --rate 10 (11-13 429s and 20.9-21.5 s now), and at --rate 5 a share of 5 swung between 2 and 5. `keep`:
        a stray 429 (`Limits.STRAY_CALLS` calls or more after the run's last one), which past `LEARN_CAP` keeps the
        pace (True): a busy machine's arrivals vary by a few ms now and then, and each cut a tenth of the pace (tester
        t68a: a strict server of 100/s met 9-20 429s in 1,500 calls, and the pace fell to 60-72 % of it)."""
        if started is None or self.configured is None or self.rate != self.configured:
            return False
        if retry_after_s is not None and retry_after_s > self.interval_s() + RETRY_AFTER_ROUNDING_S:
            return False
        before = [s for s in self._starts if s < started]
        if not close and (not before or started - before[-1] > self.interval_s() * (1.0 + self.LEARN_CAP)):
            return False
        if started < self._widened_at:
            return True
        cap_s = self.LEARN_CAP / self.configured
        if self.learned_s < cap_s:
            self.learned_s = min(cap_s, self.learned_s + cap_s / self.LEARN_STEPS)
        elif keep:
            return True
        elif not self.window_counted and self.interval_s() * self.configured < 1.0 / self.SPACED_FLOOR:
            interval_s = self.interval_s() / self.SPACED_DECREASE
            self.learned_s = min(interval_s, 1.0 / (self.SPACED_FLOOR * self.configured)) - 1.0 / self.configured
        else:
            return False
        self._widened_at = self._clock()
        return True

    def counts_a_window(self) -> None:
        """A 429 of a call that left two intervals after the last one not refused (`WindowMeter.left_long_after`):
        the server counts a window (another client's calls fill it), not the spacing. Past `LEARN_CAP` the spacing
        narrows the pace no further from now on (`widen`: the window's share narrows, and probes its way back within
        a window or two once the other has gone), and what it narrowed eases back as before. Met by the spacing's
        pace alone, a rolling window shared with another client that came and went (tester t63a) narrowed it 10 % a
        429, back 1 % of the rate a second: 51.7-54.1 s for 3,000 rows at --rate 10, against 42.9-43.1 s (42.9 now).
        Restored to the margin's cap at once, the pace met a burst of 429s that narrowed the share to 5 of 100."""
        self.window_counted = True

    def on_rate_limited(self, retry_after_s: float | None, started: float | None = None) -> float:
        """Hear of a 429 (`started`: when the refused call started, seconds of the meter's clock; None: not known);
        returns the seconds every call now pauses. Cuts the pace but for a call that started before the last cut."""
        now = self._clock()
        if self._paused_until > now:
            # the calls in flight when the first 429 came back say the same thing: slow down once
            return self._paused_until - now
        if started is not None and started < self._cut_at:
            # sent at the pace the last cut lowered: its Retry-After holds (0 and "now" pause nothing), no cut
            return self.pause(retry_after_s) if retry_after_s else 0.0
        # a Retry-After of 0 says "now", which it was not: the back-off's wait, as without one. Taken at its word it
        # paused nothing, the calls came back 429 at once and each cut the pace again, to the floor (t32c: 41-44 s
        # for 60 rows at 10 calls a rolling second, 6 s the least)
        unpaced = self.configured is None and not self.windowed
        if unpaced and self._backoffs and self.rate is not None:
            # no pace set, and the server took no call since the pace was cut: its window is still full of what
            # came before (the look-ups let go together at the start), which says nothing of the pace. The wait
            # doubles and the pace stays: cut again, a retried look-up's 429s took the pace found to 2/s at a server
            # of 5 a rolling second, and of 20 to 14 (1.43 times the least time, 1.18 now: tests/test_pace_unset.py)
            return self.back_off(retry_after_s)
        wait = retry_after_s or self.backoff_s()
        self._cut_at = now
        self._backoffs += 1
        # from the pace the calls went at since the last pause (slower than the one set where latency bound them),
        # never from one a pause is part of: each 429 after a Retry-After would cut a pace already cut (3 429s
        # with Retry-After: 1 s took a --rate 40 load to 3.5/s)
        base = min(self.rate or math.inf, self.observed_rate() or math.inf)
        if self.rate is None and not self.windowed and (sent := self._sent_within_s(now)):
            # unpaced, the calls went in bursts (a walk's ranges let go together): a burst's pace is thousands a
            # second, and 70 % of that paced nothing. The calls sent in the last second, at most
            base = min(base, float(sent))
        self.pause(wait)
        self.rate = self._cut_to = max(0.2, (base if base < math.inf else 1.0) * self.DECREASE)
        self._step = max(0.1, self.rate * self.INCREASE)
        if unpaced:  # the lowest pace a 429 came at: one above it, no room
            self._refused_at = min(self._refused_at or math.inf, self.rate / self.DECREASE)
        return wait

    def back_off(self, retry_after_s: float | None = None) -> float:
        """Pause every call for `retry_after_s` (the server's Retry-After; None or 0: the back-off's wait, doubling
        with each 429 since the last success) and cut nothing: a 429 that says nothing of the pace, where the server
        takes no call at all for now. Returns the seconds paused."""
        wait = retry_after_s or self.backoff_s()
        self._backoffs += 1
        return self.pause(wait)

    def _sent_within_s(self, now: float) -> int:
        """How many calls started in the second before `now` (seconds of the meter's clock)."""
        return sum(1 for at in self._starts if at > now - 1.0)

    def paused_s(self) -> float:
        """Seconds the pause a 429 set still runs (0.0: none)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, wait_s: float) -> float:
        """Let no call start for `wait_s` seconds from now (a longer pause already set stands); returns `wait_s`. A
        pause of 0 pauses nothing, and keeps the starts since the last one: cleared, a share's 429 without
        Retry-After (`Limits.on_rate_limited`) left `widen` no call before the next 429's to tell its spacing by, and
        a strict server's 429s were taken for a share's again and again (a 429 a second at --rate 10)."""
        until = self._clock() + wait_s
        if wait_s > 0 and until > self._paused_until:
            self._paused_until = until
            self._next = max(self._next, until)
            self._starts.clear()
        return wait_s

    def on_success(self) -> None:
        """A call succeeded: the back-off restarts, a spacing past `LEARN_CAP` eases back by `SPACED_EASE` of the
        configured rate a second of successes (AIMD: the room a server whose arrivals vary leaves is found again,
        and that of a window shared with another client that left), and a cut pace rises (see the class)."""
        if self._paused_until <= self._clock():
            self._backoffs = 0  # answered after the pause: the server takes calls again
        if self.configured is not None and self.learned_s * self.configured > self.LEARN_CAP:
            # the spacing's own pace, at the configured rate: by `interval_s` at a pace a 429 cut (`on_rate_limited`),
            # each success widened the margin by the two rates' intervals' difference (50 took --rate 10's pace
            # from 6.9 to 1.4/s, eased back at 1 % of the rate a second from there)
            pace = 1.0 / (1.0 / self.configured + self.learned_s)
            raised = pace + self.SPACED_EASE * self.configured / pace  # one success is 1/pace seconds of them
            self.learned_s = max(self.LEARN_CAP / self.configured, 1.0 / raised - 1.0 / self.configured)
        if self.rate is None or self.rate == self.configured:
            return
        step = self._step
        if self._refused_at is not None:
            # no pace set: up to near the pace the last 429 came at fast, past it slowly. The additive increase of a
            # cut pace took seconds to climb back, and then met a 429 every few (each pausing every call): a load
            # at a server of 20 a second went at 15, its reconcile at 15 (bursts of 429s before, at 20)
            near = self.rate < self.NEAR * self._refused_at
            step = self._refused_at * (self.NEAR_STEP if near else self.PAST_STEP)
        raised = self.rate + step / self.rate  # one success is 1/rate seconds of them
        if self.configured is not None:
            self.rate = min(self.configured, raised)
        elif (seen := self.observed_rate()) is not None and raised > 4 * seen:
            self.rate = None  # unlimited again: the pace no longer binds
        else:
            self.rate = raised


@dataclass(slots=True)
class Arrival:
    """One call through a window: when its slot was taken, when it left (its request written; None: not yet, or
    not told) and when its answer came back or it ended otherwise (None: not yet), in seconds of the meter's
    clock; `heard`: that end was told as it happened (`WindowMeter.answered`), not set from a slot or an earlier
    run's cache; `probe`: it took a place past the share a probe for room began at (`WindowMeter.on_success`)."""

    started: float
    answered: float | None = None
    sent: float | None = None
    heard: bool = False
    probe: bool = False
    #: the server took it (answered 2xx: `WindowMeter.answered`)
    took: bool = False
    #: a call of another run, counted from the file that keeps the window's calls (`WindowMeter.restore`)
    earlier: bool = False

    @property
    def left(self) -> float:
        """When it left: sent, else (not told) its slot."""
        return self.started if self.sent is None else self.sent


class KeptWindow(msgspec.Struct):
    """A window's calls as `WindowMeter.keep` saves them: `ago`, seconds before the moment (`wall`, epoch seconds;
    `boot`, the clock since boot's mark: instants.Instant) each arrived; `out`, seconds before it each call still
    unanswered then took its slot (it arrives when it arrives: `WindowMeter.beside` counts it arriving now)."""

    wall: float
    boot: str | None
    ago: list[float]
    out: list[float] = []


class WindowMeter:
    """At most `limit` starts in any rolling `window_s`, the way servers count: the GCRA keeps the average,
    this keeps a late start followed by an on-time one from putting limit + 1 calls into one window.

    The server counts a call when it arrives, which the client does not see; what it sees bounds it: a call arrives
    after its slot was taken and, since the fastest round trip seen (`fastest_s`) is the least any answer takes, no
    later than its answer less that round trip (`arrived`). A busy event loop (the client's, between the slot and the
    send; the server's, before it counts) delays both the arrival and the answer, so each call's own delay is
    measured rather than guessed: the window keeps each call from its latest possible arrival (a slow answer holds
    one of the `limit` places a little longer; a loader short of CPU, whose calls leave up to 125 ms after their
    slot, needs all of it). The window is widened by `margin_s` for what that bound leaves (the fastest
    outbound trip, clocks): by default 0.5 % of the window, at least 5 ms and at most 1 s. It is time, not calls:
    a margin in calls would cost a whole extra window at every multiple of the limit. A call whose answer was heard
    holds its place no longer than from that answer, widened by `DRIFT` of the window only (`frees`): the server
    counted it before it answered, so the answer bounds its arrival whatever the round trip, and the margin
    above (15 ms of a 3-s window, where loopback's fastest trip is 1-2 ms) would hold every place 12-14 ms longer
    than any server can count it, which a rolling window replays once per window.

    And it is learned: a 429 while the window is full is the server's clock and ours disagreeing by a few ms, not
    a pace too fast, so the margin widens (`widen`: in steps of `LEARN_CAP` / `LEARN_STEPS` of the window,
    doubled while 429s keep coming, up to `LEARN_CAP` of it), and the pace is kept.

    A window the server shares with another client (an instance's other integration), or keeps smaller than the one
    given, holds fewer of ours than `limit`: a 429 while ours is not full says how many it leaves us, so the window
    takes `SHARE_DECREASE` of the calls it holds (`shrink`: again at each 429 of a call sent after the last
    narrowing, once a round trip as TCP does; once per window where the refused call is not known) and grows by 1 %
    of the limit per window's worth of successes (`allowed`: additive increase, multiplicative decrease). The other
    client may stop: without Retry-After (with one, `take` probes once it has passed), once the share has held calls
    back through a whole window with no 429, and a window has passed since a probe last ended (or the share was
    first narrowed), it probes for the room left (`on_success`): two calls more for each of the
    probe's calls the server takes (`answered`; a call past the share even as the server counts our calls at the
    earliest, not one our own calls' leaving let in): one for the place that call keeps for the rest of the window,
    one more, so the probe doubles every round trip as TCP's slow start after idle, up to the limit (one more a
    call taken grew it by one a round trip: at HaloPSA's window scaled to 3 s, the window left whole by
    another integration took a window more to fill than the least, 72-75 % of it; 91-98 % now). Its first 429 ends
    it: the share keeps `SHARE_DECREASE` of the calls the server took in the window, on trial for `TRIAL_WINDOWS`
    windows (no probe, no growth meanwhile); a 429 of a call sent in the trial gives the share back to what it was
    before the probe (`shrink`), and the next probe comes a window later, so an other client that stays costs the
    probe's 429 a window (a place of `limit`, on a server that counts the calls it refuses; the additive increase
    meets more: 2-4 a window in all beside one at 90 %, tester t59a), while one that shrank or left leaves its room
    to this client within a window. The next probe waited twice as many windows after one that
    found none (at most 2, first 8): the benchmark's other client at 90 % of HaloPSA's window for two windows and
    none for two was met at its return, and the run took 55 % of the room it left in 6 runs of 10 (91-95 % in
    the others). At 1 % a window, a share of 1 of 60 left by another integration that had stopped took 60 windows
    to fill the window again (a tester, t23a; at HaloPSA's 5 minutes: hours). And one that comes and goes (t25: 54 of 60
    calls a second for 2 s, none for 2 s, again and again, on a server that counts refused calls) held the share at
    ~11 a second for good while the cap was 8 windows and each narrowing's 429 restarted the count of quiet windows:
    the probes that came met the other again; and narrowed once a window, the share sent a 429 for nearly every
    call of the other's return (~290 for 400 calls at 3 s on and off; 60-70 now, in half the time)."""

    LEARN_CAP = 0.05  # of the window: the widest the learned margin gets
    LEARN_STEPS = 10  # widenings to reach it, each at least 5 ms
    SHARE_DECREASE = 0.9
    TRIAL_WINDOWS = 1  # windows: how long the share a probe found is on trial (`shrink`)
    POLL_S = 0.005  # while a call the window waits on is unanswered, it looks again this often
    #: seconds a run waits for another to be done with the file that keeps the window's calls (`keep`, `beside`)
    LOCK_WAIT_S = 0.05
    #: the same, as a run keeps its calls there (`keep`: a second apart, and as it ends)
    KEEP_LOCK_WAIT_S = 0.2
    #: an unanswered call is taken as arriving now for at most this long (twice the default timeout): a slot
    #: whose end was never told stalls the window for that long, not for ever
    UNANSWERED_S = 120.0
    #: answers seen before the fastest of them bounds an arrival; until then a call counts from its answer. The
    #: first trips of a fleet's 100 agreements starting at once were all slowed by the server's busy loop before it
    #: counted them: the fastest of one or two said they were counted when they left, 7-16 ms too early for the
    #: next call of a 1-per-2-s window (`python -m benchmarks.agreements --agreements 100 --rate 0.5`: 9 429s,
    #: each on an agreement's second call). Evaluated when asked, so at 100/s the first calls' places are timed
    #: by the fastest trip long before the window turns over.
    TRUSTED_AFTER = 8
    #: fastest round trips a call may be out before its answer is a slow one (`after_unheard`)
    SLOW_TRIPS = 3
    #: how much longer than the window's own wait a Retry-After of a server whose clock is near ours may be: whole
    #: seconds, rounded up
    RETRY_AFTER_ROUNDING_S = RETRY_AFTER_ROUNDING_S
    #: of the window: how far the server's clock may run ahead of ours over one window (100 ppm, a cheap quartz
    #: clock's worst; at least 1 ms), the only margin a call counted from its answer needs (`frees`)
    DRIFT = 1e-4
    #: a wait for the window at least this long (seconds) is told at WARNING as it begins (once no answer that may
    #: end it is out), with why (`_tell`): at
    #: most once a window, so a load that spans many windows is told once per window, not once per call
    TOLD_S = 5.0

    def __init__(
        self,
        limit: int,
        window_s: float,
        margin_s: float | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        self.limit = limit
        #: the window's span as given, in seconds (`window_s` adds the margin)
        self.span_s = window_s
        self._told_at = -math.inf  # when a long wait was last told (`_tell`)
        #: starts this window lets into its span now: `limit` but while it is shared (`shrink`)
        self.allowed = limit
        self._grown = 0  # successes since `allowed` last grew
        self._refused_at = -math.inf  # when the last 429 that narrows the share came (`shrink`)
        #: when a probe (or its trial) last ended, or the share was first narrowed: the next probe waits a window
        #: from then, not from the 429s of its own additive increase (`_quiet_in`)
        self._settled_at = -math.inf
        self._held_at = -math.inf  # when the share (not the limit) last held a call back (`take`)
        #: while the share probes for room: when it last grew and the share the probe began at (`on_success`)
        self._probe: tuple[float, int] | None = None
        #: while the share a probe found is on trial: when the probe ended and the share it began at (`shrink`)
        self._kept: tuple[float, int] | None = None
        self.window_s = window_s + (min(1.0, max(0.005, window_s * 0.005)) if margin_s is None else margin_s)
        #: the window and the clocks' drift over it (`DRIFT`), in seconds: how long after its answer a call holds
        #: its place at most (`frees`)
        self.after_answer_s = window_s + max(0.001, window_s * self.DRIFT)
        #: seconds the margin has widened by since the start (`widen`)
        self.learned_s = 0.0
        #: the fastest round trip seen, sent (else slot) to answer, in seconds (None before the first answer)
        self.fastest_s: float | None = None
        self._answers = 0
        self._cap_s = window_s * self.LEARN_CAP
        self._step_s = max(0.005, self._cap_s / self.LEARN_STEPS)
        self._step_now = self._step_s  # the last widening's step (`widen`)
        self._widened_at = -math.inf
        self._clock = clock
        self._sleep = sleep
        #: the `limit` calls counted latest (a call answered late may be counted after ones that left later)
        self._calls: list[Arrival] = []
        #: when the earliest call this window counted took its slot (`transient`)
        self._began = math.inf
        #: when a 429 in the run's first window was let pass (`transient`; None: none was)
        self._passed_at: float | None = None
        #: the longest a share narrowed by a 429 holds a call back, in seconds: that 429's Retry-After, rounded up
        #: (None: no Retry-After said it, and the share holds calls until they fit in it; `shrink`)
        self.share_wait_s: float | None = None
        #: per run whose calls `restore` counted (its key in the file), when it had kept them (epoch seconds)
        self._restored: dict[str, float] = {}
        #: the API counts this window for every client at its address, not per run (HaloPSA's per instance): the runs
        #: beside this one count in it too (`beside`, called by Limits)
        self.together = False

    def arrived(self, call: Arrival) -> float:
        """The latest the server can have counted `call`, in seconds of the meter's clock: its answer less the
        fastest round trip seen (its answer until `TRUSTED_AFTER` answers were seen), not before it left (its start,
        when not told); now while it is unanswered (a send held up by a busy loop may be arriving now: the next call
        waits for its answer, `POLL_S` at a time)."""
        if call.answered is None:
            return min(self._clock(), call.started + self.UNANSWERED_S)
        if self.fastest_s is None or self._answers < self.TRUSTED_AFTER:
            return call.answered
        return max(call.left, call.answered - self.fastest_s)

    def frees(self, call: Arrival) -> float:
        """When `call`'s place in the window frees, in seconds of the meter's clock (the learned margin aside): a
        window (with its margin) after its latest possible arrival (`arrived`), and for a call whose answer was
        heard no later than `after_answer_s` after that answer: the server counted it before answering, so only the
        clocks' drift is left to cover (a restored call, or one whose end was set from its slot, keeps the
        margin)."""
        by_trip = self.arrived(call) + self.window_s
        if not call.heard or call.answered is None:
            return by_trip
        return min(by_trip, call.answered + self.after_answer_s)

    def sent(self, call: Arrival) -> None:
        """`call`'s request was written now (again, where the client sent it twice: the later counts)."""
        call.sent = self._clock()

    def answered(self, call: Arrival, worked: bool = True) -> None:
        """`call`'s answer came back now (any status: the server counted it). The round trip is timed from when it
        left: a call held between its slot and the wire (a new connection, a busy loop, a fleet's cap on calls in
        flight) does not make the fastest round trip look slower than it is, which would count calls too early.
        Only a call that did its work (`worked`: answered 2xx) times it: a refusal's trip (a gateway's 429, answered
        before the latency a call's work takes; an error; no answer at all) is no call's, and taken for the fastest
        it held every later call's place up to that latency too long (a tester's 429 answered at once took a 100/s
        load to 93/s for the rest of the run)."""
        call.answered = self._clock()
        call.heard = True
        if not worked:
            return
        call.took = True
        if call.probe and self._probe is not None and self.allowed < self.limit:  # its place, and one more
            self.allowed = min(self.limit, self.allowed + 2)
            self._probe = (call.answered, self._probe[1])
        self._answers += 1
        trip = call.answered - call.left
        self.fastest_s = trip if self.fastest_s is None else min(self.fastest_s, trip)

    async def acquire(self) -> None:
        """Take a slot for a call whose answer the window will not hear of: it counts from its slot."""
        call = await self.take()
        call.answered = call.started

    def now(self) -> float:
        """The meter's clock, in seconds."""
        return self._clock()

    async def take(self, asked: float | None = None) -> Arrival:
        """Wait until the window holds a slot, and take it: the call, for `answered`. A share narrowed by a 429 with
        Retry-After (`share_wait_s`) holds the call back no longer than that Retry-After said from when it asked
        for a slot (`asked`, the meter's clock: now by default; the caller's, where other limits held it first, a
        429's pause among them) or from the last 429, the later: then it goes past the share, within the limit, as
        the first call of a probe for room (`on_success`: the share grows by two for each of the probe's calls the
        server takes, and the probe ends at its first 429, after which the next call waits the Retry-After again).
        Before, the calls the share held all went at once, and the share doubled: on a server that counts the calls
        it refuses, each of them met a 429 that took a place, and the window stayed full (tester t28: 4 rows of 60
        in 90 s beside another integration at 90 % of it; at 30 %, 57 429s for 60 calls where 9 now)."""
        asked = self._clock() if asked is None else asked
        while len(self._calls) >= (room := self._room(asked)):
            now = self._clock()
            frees = sorted(self.frees(call) for call in self._calls)
            wait = frees[-room] + self.learned_s - now
            if wait <= 0:
                break
            if room < self.limit:
                self._held_at = now
                if (until := self._held_until(asked)) is not None:  # then one call past the share
                    wait = min(wait, until - now)
                elif self._probe is None:  # a share of a call or two, or one holding calls, hears few successes
                    if (trial_in := self._on_trial_for(now)) > 0:
                        wait = min(wait, trial_in)
                    elif (quiet_in := self._quiet_in(now)) <= 0:
                        self._begin_probe(now)
                        continue
                    else:
                        wait = min(wait, quiet_in)
            # while a call's answer is out the wait may end with it (a probe's answer grows the share): told only
            # once it is the wait slept (tester t71c: "calls wait 297 s" told, and the calls went 1 s later)
            polled = any(c.answered is None for c in self._calls)
            if wait >= self.TOLD_S and not polled:
                self._tell(wait, room)
            await self._sleep(min(wait, self.POLL_S) if polled else wait)
        now = self._clock()
        if self.allowed < self.limit and self._room(asked) == self.limit and (inside := self._inside()) >= self.allowed:
            self._probe = (now, self.allowed)  # past the share as the Retry-After said: a probe for room
            self.allowed = min(self.limit, inside + 1)
        call = Arrival(now)
        if self._probe is not None:  # past the share even as the server counts at the earliest: room it left
            call.probe = sum(1 for c in self._calls if c.left + self.span_s > now) >= self._probe[1]
        self._count(call)
        return call

    def _tell(self, wait_s: float, room: int, theirs: int = 0) -> None:
        """Log at WARNING that calls wait `wait_s` seconds for the window, which lets `room` calls in (its share or
        its limit), and why (at most once a window): a wait of minutes with nothing said looks like a hung run.
        `theirs`: the calls other runs beside this one hold in it (`beside`)."""
        now = self._clock()
        if now - self._told_at < self.span_s:
            return
        self._told_at = now
        share = f" (the share this run takes of it since a 429 that came before it was full: {room})"
        log.warning(
            "the rolling window of %d calls per %g s holds %d of this run's calls%s%s: calls wait %.0f s, until %s, "
            "for the earliest to leave it",
            self.limit,
            self.span_s,
            self._inside(),
            f" and {theirs} of other runs' at the same address now" if theirs else "",
            share if room < self.limit else "",
            wait_s,
            time.strftime("%H:%M:%S", time.localtime(time.time() + wait_s)),
        )

    def _inside(self) -> int:
        """The calls whose places in the window are not free yet (its margin included)."""
        now = self._clock()
        return sum(1 for call in self._calls if self.frees(call) + self.learned_s > now)

    def _room(self, asked: float) -> int:
        """The calls a call that asked for a slot at `asked` (seconds of the meter's clock) may find in the window
        and still go: its share (`allowed`), or the limit once the share has held it as long as the last Retry-After
        said (`share_wait_s`), from when it asked or the last 429, and no probe for room is under way (`take`)."""
        until = self._held_until(asked)
        return self.limit if until is not None and self._clock() >= until else self.allowed

    def _held_until(self, asked: float) -> float | None:
        """When (the meter's clock) a call that asked at `asked` has been held by a share narrowed with Retry-After
        as long as it said (`share_wait_s`), counted from then or the last 429, the later; None where no such share
        holds it, or a probe for room is under way (`take`)."""
        if self.share_wait_s is None or self._probe is not None:
            return None
        return max(asked, self._refused_at) + self.share_wait_s

    def _count(self, call: Arrival) -> None:
        """Hold `call`, and let go of the one counted earliest once the window holds more than its limit."""
        self._calls.append(call)
        self._began = min(self._began, call.started)
        if len(self._calls) > self.limit:
            self._calls.remove(min(self._calls, key=self.arrived))

    def full(self) -> bool:
        """Whether the window holds its limit of starts (within the widest margin it may learn); a shared one,
        narrowed to its share, is not full: a 429 there says the share is still too wide."""
        span = self.window_s + self._cap_s
        if not self.allowed == len(self._calls) == self.limit:
            return False
        # a call in flight is in the window from its start whenever it arrives
        return min(c.started if c.answered is None else self.arrived(c) for c in self._calls) > self._clock() - span

    def next_free_s(self) -> float:
        """Seconds until the window's earliest place frees (0.0 when it holds a free one), its margin included."""
        if len(self._calls) < self.allowed:
            return 0.0
        return max(0.0, min(map(self.frees, self._calls)) + self.learned_s - self._clock())

    def _asks_longer(self, retry_after_s: float | None) -> bool:
        """Whether a 429's Retry-After (`retry_after_s`, None: none) asks for longer than the window's own next free
        place and the second a Retry-After in whole seconds may round up (`RETRY_AFTER_ROUNDING_S`): a wait the
        API asks for itself, not a server's clock a few ms from ours (`widen`, `transient`)."""
        return retry_after_s is not None and retry_after_s > self.next_free_s() + self.RETRY_AFTER_ROUNDING_S

    def widen(self, call: Arrival | None = None, retry_after_s: float | None = None) -> bool:
        """A 429 met while the window was full (`call`: the refused call's place, where known): the server's clock
        and ours disagree, unless its Retry-After (`retry_after_s`) asks for longer than the window's own next free
        place and the second a Retry-After in whole seconds may round up (`RETRY_AFTER_ROUNDING_S`): a server
        whose clock is a few ms from ours says about that, and a wait far longer is the API's own to ask (a
        window it keeps longer than the one given, a quota: 545 s on a 60-s window was taken for the clocks', and
        8 calls went on meeting 429s). A call that left before the last widening was sent with the old margin and
        says nothing new (True, and nothing changes; without `call`, any 429 within a window of it). Otherwise the
        margin widens by a step that doubles while each widening is followed by another within two windows (a call
        refused though sent with the wider margin: a server 8 % stricter than the window given drew 975 429s in
        10 s at one step a window), up to `LEARN_CAP` of the window. False when the window was not full, or the
        margin is at its cap and a call sent with it was refused, or the Retry-After is the API's own: no clocks'
        disagreement, but a window the server keeps tighter than the one given (the caller then pauses the calls
        and takes a smaller share, see Limits)."""
        now = self._clock()
        if not self.full():
            return False
        if self._asks_longer(retry_after_s):
            return False
        last = self._widened_at
        if (now - last <= self.window_s) if call is None else (call.left < last):
            return True
        if self.learned_s >= self._cap_s:
            return False
        self._step_now = self._step_now * 2 if now - last <= 2 * self.window_s else self._step_s
        self.learned_s = min(self._cap_s, self.learned_s + self._step_now)
        self._widened_at = now
        return True

    def transient(self, call: Arrival | None, pace: float | None, retry_after_s: float | None = None) -> bool:
        """A 429 met while the window was not full (`call`: the refused call's place, where known), before this run,
        sending at most `pace` calls/s (None: no rate, all at once), could have filled it since its first call: its
        own count there is partial by construction, and says nothing of a share. The first such 429 may be a
        transient one, and narrows nothing, pauses nothing and keeps the pace (True): taken for a share (59 of 100
        held at 0.6 s), one 429 narrowed a --rate 100 window to 53 a second, and its 1 % a window took a tester's
        run to 61.8 % of the pace. So are the 429s of calls that left before it was heard (True). A call refused
        though it left after it is a share, or a window smaller than the one given (False: `shrink`); so is a
        Retry-After far longer than the window's own wait (as `widen`)."""
        now = self._clock()
        if self._passed_at is not None:
            return call is not None and call.left < self._passed_at
        if self.full() or not self._partial(pace, now):
            return False
        if self._asks_longer(retry_after_s):
            return False
        self._passed_at = now
        return True

    def previous(self, call: Arrival, refused: bool = True) -> Arrival | None:
        """The call that took its slot last before `call` (None: the window holds none); `refused`: a call the server
        refused (answered, not taken) counts (False: it is passed over)."""
        # held in the order the slots were taken: one taken at the same instant counts (by identity: two calls may
        # hold equal times)
        at = next((i for i, c in enumerate(self._calls) if c is call), None)
        earlier = self._calls[:at] if at is not None else [c for c in self._calls if c.started < call.started]
        before = (c for c in earlier if refused or c.took or c.answered is None)
        return max(before, key=lambda c: c.started, default=None)

    def after_taken(self, call: Arrival) -> bool:
        """Whether the call that took its slot last before `call` (`previous`) was taken by the server (answered 2xx)
        before `call`'s 429 was heard: a server that spaces calls strictly refuses only a call that came too soon
        after one it took, while one whose window is full (shared with another client) refuses calls in a row
        (`Limits`)."""
        last = self.previous(call)
        return last is not None and last.took

    def let_go_with(self, call: Arrival, together_s: float) -> bool:
        """Whether the call before `call` (`previous`), taken or unanswered when `call`'s 429 was heard, left less
        than `together_s` seconds before it: with less than the rate's interval, calls a window let go together as it
        freed their places (slow answers hold the rate's own window, which places each call by when its answer came;
        a share holds calls too), of which the server took that one and refused this one too close behind it
        (`Limits`, testers t61b, t62a); with the interval and its margin, a call the spacing let go behind one still
        out, which a server counting per rolling second takes and a strict one may not (t62b)."""
        last = self.previous(call)
        return last is not None and (last.took or last.answered is None) and call.left - last.left < together_s

    def left_long_after(self, call: Arrival, interval_s: float) -> bool:
        """Whether `call` left at least two `interval_s` (the configured rate's, seconds) after the call before it
        that the server did not refuse (taken, or still out: `previous`): a server that spaces calls strictly (its
        arrivals varying by less than an interval) takes such a call, whatever it refused between; one that counts a
        window refuses it where another client's calls fill it (`Limits`: the spacing then leaves the 429s past its
        margin to the share, `RateMeter.counts_a_window`)."""
        last = self.previous(call, refused=False)
        return last is not None and call.left - last.left >= 2.0 * interval_s

    def taken_within(self, call: Arrival, within_s: float) -> bool:
        """Whether the server took another call this window holds that left less than `within_s` seconds before or
        after `call` (taken too: `Limits.answered`)."""
        return any(c is not call and c.took and abs(c.left - call.left) < within_s for c in self._calls)

    def after_unheard(self, call: Arrival) -> bool:
        """Whether the call before `call` (`previous`) was unanswered when `call`'s 429 was heard, and out longer than
        `SLOW_TRIPS` fastest round trips (or before any trip was timed): a slow answer, which no window's count can
        wait for. A server that answers in 0-2 s and spaces calls strictly (tester t61b) refused calls an interval
        after such a one; taken for a share, they narrowed the rate's window, whose calls then left in bursts
        (55 429s in 133 calls). Out no longer than that, it is an ordinary call in flight (`Limits`)."""
        last = self.previous(call, refused=False)
        if last is None or last.answered is not None:
            return False
        return self.fastest_s is None or self._clock() - last.left > self.SLOW_TRIPS * self.fastest_s

    def unused(self, call: Arrival) -> None:
        """`call`'s slot went unused (nothing was sent with it): its place is free again."""
        with contextlib.suppress(ValueError):  # let go already, by a later call counted in its place
            self._calls.remove(call)

    def shrink(
        self, retry_after_s: float | None = None, call: Arrival | None = None, pace: float | None = None
    ) -> bool:
        """A 429 met while the window was not full (or, without Retry-After, full with its margin at the cap): the
        server counts more in it than this client's calls (another client's, or a smaller window than given), so
        the window takes `SHARE_DECREASE` of the calls this one holds, at most, from this client: again for each
        429 of a call (`call`: the refused call's place, where known) that left after the last narrowing, since it
        was sent with the narrower share (the calls in flight were let go before: once a round trip); without
        `call`, once per window. False when the window holds none of this client's. In the run's first window at
        `pace` (calls/s: the configured rate; None: no rate) the run's count is partial: a 429 of a call after one not
        refused narrows what the pace fills there (the window's limit), one after a refused one (calls refused in a
        row: another client fills the window) the count.

        With a Retry-After above 0 (`retry_after_s`, seconds) the server said when it takes calls again: the share
        then holds a call back that long at most, rounded up by `RETRY_AFTER_ROUNDING_S` (`share_wait_s`), not
        until this client's own calls leave the window. Two 429s at the start of a load, with 4 calls held of 300,
        narrowed the share to 3, and the calls waited the whole 5 minutes for the 4 to leave it; the server had
        said 2 s. Without one (or one of 0: "now", which it was not) the share holds calls until they fit in it.

        A probe for room (`on_success`) ends at its first 429: the share keeps `SHARE_DECREASE` of the calls the
        server took in the window (`Arrival.took`: the room it found; what the probe grew to overshoots it by the
        calls in flight), on trial (`_kept`): a 429 of a call (`call`: the refused call's place, where
        known) that left after it, within `TRIAL_WINDOWS` windows, says the other client is still there, and the
        share goes back to what it was before the probe, as does a probe that grew too little to keep more; the
        next probe comes a window later. Given all back at once, a share whose other client had
        shrunk from 90 % of the window to 10 % probed its way up and back down again and again: 1.9 x the least time
        the room left allowed (tester t24a; kept, 1.08 x: `tests/test_pace.py`)."""
        now = self._clock()
        held = sum(1 for c in self._calls if c.started > now - self.window_s)
        if not held:
            return False
        if self._partial(pace, now) and not self._in_a_row(call):
            # the run's first window at `pace`, its count there partial, and the call before this one not refused:
            # what the run would hold there (the window, which its pace fills) is narrowed. From the partial count,
            # the 429s of a strict server's busy start (calls on new connections read 4-8 ms late, the next on time,
            # each refused between two taken) narrowed a --rate 100 window to 5-10 calls, and the load went at a
            # third of the rate. A window another client fills refuses calls in a row: the partial count, as before
            held = self.limit
        self.share_wait_s = retry_after_s + self.RETRY_AFTER_ROUNDING_S if retry_after_s else None
        self._refused_at = now
        kept = self._kept if self._kept and now - self._kept[0] <= self.TRIAL_WINDOWS * self.window_s else None
        if self._probe is not None:  # the room's end: keep what the probe found, on trial
            self._settled_at = now
            start, self._probe = self._probe[1], None
            found = sum(1 for c in self._calls if c.took and c.started > now - self.window_s)
            self.allowed = max(start, math.floor(found * self.SHARE_DECREASE))
            self._kept = (now, start) if self.allowed > start else None
            self._widened_at = now
        elif kept is not None and call is not None and call.left > kept[0]:  # on trial, refused: no room after all
            self.allowed, self._kept = kept[1], None
            self._widened_at = self._settled_at = now
        elif (now - self._widened_at > self.window_s) if call is None else (call.left > self._widened_at):
            if self.allowed == self.limit:
                self._settled_at = now
            self.allowed = max(1, math.floor(min(self.allowed, held) * self.SHARE_DECREASE))
            self._widened_at = now
            self._grown = 0
        return True

    def _partial(self, pace: float | None, now: float) -> bool:
        """Whether the run, sending at most `pace` calls/s (None: no rate), could not have filled the window yet by
        `now` since its first call: its own count there is partial (`transient`, `shrink`)."""
        return pace is not None and pace * (now - self._began) < self.limit

    def _in_a_row(self, call: Arrival | None) -> bool:
        """Whether the call before `call` (`previous`) was refused too (answered, not taken); True where `call` is not
        known."""
        last = self.previous(call) if call is not None else None
        return call is None or (last is not None and last.answered is not None and not last.took)

    def on_rate_limited(self, retry_after_s: float | None) -> float:
        """A window counts what was sent, 429 or not: it pauses none (its margin is widened by `widen`, its
        share of a shared window narrowed by `shrink`)."""
        return 0.0

    def on_success(self) -> None:
        """A shared window's share grows back by 1 % of the limit per window's worth of successes, or probes for
        room once it held calls back through a window with no 429 (see the class): its first call now, and two
        calls more for each of the probe's calls taken (`answered`). Neither while the share a probe found is on
        trial (`shrink`)."""
        if self._probe is not None:
            if self._clock() - self._probe[0] > self.window_s:  # it has grown, and a window of its calls: no 429
                self._probe = None
            return
        if self.allowed >= self.limit:  # the common case, every success of a window not shared: no clock read
            return
        now = self._clock()
        if self._on_trial_for(now) > 0:
            return  # on trial: no probe, no growth
        if self.share_wait_s is None and self._quiet_in(now) <= 0 and now - self._held_at <= self.window_s:
            self._begin_probe(now)
        else:
            self._grown += 1
            if self._grown >= self.allowed:
                self.allowed = min(self.limit, self.allowed + max(1, self.limit // 100))
                self._grown = 0

    def _on_trial_for(self, now: float) -> float:
        """Seconds the share a probe found stays on trial (`shrink`; 0 or less: it is not, or no longer is). A trial
        passed with no 429 ends here: the room the probe found is there. Asked by the calls the share holds back
        (`take`), not only at a success: a share that held every call until its own calls left the window heard its
        last success before the trial ended, and its next probe waited for those calls, a window later (the
        benchmark's other client coming and going: at its return, 55 % of the room it left in 6 runs of 10, against
        91-95 % where the probe came as the trial ended)."""
        if self._kept is None:
            return 0.0
        left = self._kept[0] + self.TRIAL_WINDOWS * self.window_s - now
        if left <= 0:
            self._kept = None
        return left

    def _quiet_in(self, now: float) -> float:
        """Seconds until the share may probe for room (0 or less: it may): a window with no 429, and a window since
        the last probe ended or the share was first narrowed (`_settled_at`)."""
        return max(self._refused_at, self._settled_at) + self.window_s - now

    def _begin_probe(self, now: float) -> None:
        """The share probes for room (see the class): its first call now."""
        self._probe = (now, self.allowed)
        self.allowed += 1

    def keep(self, path: Path, key: str = "") -> None:
        """Save the calls still inside the window, so the next run against the same API counts them: the
        server's window does not end with this process. Each call is kept as the seconds before this moment it
        arrived, the moment by both clocks (instants.Instant): `restore` tells the time since by the clock since
        boot, which a wall clock stepped meanwhile does not move. The file holds the calls of every run that keeps
        them there, each under its `key` (`Limits`' own): this run's replace its entry, under the file's lock
        (`held_lock`), and those of runs whose calls all left the window are dropped."""
        now, at = self._clock(), Instant.now()
        # a cache: a run without it is merely less careful. The user's own: when and how often they call their API
        with contextlib.suppress(OSError), held_lock(path.with_suffix(".lock"), self.KEEP_LOCK_WAIT_S) as held:
            if held is False:  # another run holds the file: this run's entry as it last wrote it stands
                return
            runs = self._read(path)
            runs[key] = self._own(now, at)
            self._write(path, runs, at)

    def restore(self, path: Path) -> None:
        """Count the calls `keep` saved that are still inside the window, by the time that passed since
        (instants.passed: the clock since boot's; by the wall clock alone, a clock stepped back an hour between two
        runs placed the earlier run's calls an hour ahead, and the next run waited for them, stalled; stepped
        forward, it forgot calls the server still counted, and met its 429s: tester t71f). A file that cannot be
        read (none yet, or kept in an earlier form) counts none. The runs whose calls it counted are noted, each
        with when it kept them (`_restored`): `beside` counts a run's calls again only once it has kept them since
        (a run beside this one: those it had made as this one began are counted twice for a window, the safe
        side), and its calls unanswered then as arriving now."""
        runs = self._read(path)
        now, at = self._clock(), Instant.now()
        starts = sorted(t for kept in runs.values() for t in self._placed(kept, now, at))
        for t in starts[-self.limit :]:
            self._count(Arrival(t, t, earlier=True))  # a call of an earlier run: over, counted by then
        self._restored = {key: kept.wall for key, kept in runs.items()}

    def beside(self, path: Path, key: str) -> float:
        """Where the calls of other runs at this API, beside this one now, count in the window too (HaloPSA's, which
        the instance counts for every client): seconds to wait before the call this window counted last may leave,
        0.0 where the window holds it beside theirs (its calls, this run's `key`'s entry in the file at `path`,
        written then). Read and written under the file's lock, so two runs never both take its last place. Before,
        each run counted the others' calls only as it started, and two loads at once at one instance each sent a
        whole window: 11 of 57 calls refused 429 (tester t71f, 10 calls per 2 s). Where the lock is held by
        another run past `LOCK_WAIT_S`, a moment's wait; where the file cannot be made, no wait (a cache)."""
        with held_lock(path.with_suffix(".lock"), self.LOCK_WAIT_S) as held:
            if held is None:
                return 0.0
            if not held:
                return self.LOCK_WAIT_S
            runs = self._read(path)
            now, at = self._clock(), Instant.now()
            theirs = [
                t + self.window_s
                for other, kept in runs.items()
                if other != key
                for t in self._placed(self._unrestored(other, kept), now, at, out_now=True)
            ]
            frees = sorted([*(self.frees(c) + self.learned_s for c in self._calls), *theirs])
            over = sum(1 for f in frees if f > now) - self.limit
            if over > 0:
                wait_s = max(self.LOCK_WAIT_S, [f for f in frees if f > now][over - 1] - now)
                if wait_s >= self.TOLD_S:
                    self._tell(wait_s, self.limit, len(theirs))
                return wait_s
            runs[key] = self._own(now, at)
            with contextlib.suppress(OSError):
                self._write(path, runs, at)
            return 0.0

    def _unrestored(self, key: str, kept: KeptWindow) -> KeptWindow:
        """Of run `key`'s calls `kept`, those `restore` did not count: all of them once it has kept them since, else
        those unanswered then (`restore` placed them as they were kept, and they arrive when they arrive)."""
        return kept if self._restored.get(key) != kept.wall else KeptWindow(kept.wall, kept.boot, [], kept.out)

    def _placed(self, kept: KeptWindow, now: float, at: Instant, out_now: bool = False) -> list[float]:
        """When (the meter's clock, `now` being the moment `at`) each call `kept` holds arrived, of those still
        inside the window: one unanswered when kept, as it was kept, or `out_now`, now (a run beside this one: its
        call may reach the server as late as now, as this run's own unanswered calls, `arrived`), for a window after
        it was kept at most: a run writes its calls as each takes its place, and one that wrote none since (ended
        without a word, or waiting) holds no place longer. Placed as it was kept, a run's call that left 10 ms after
        its place was written beside the other's was counted too early by the other, which met a 429 (tester t71f);
        placed now until 2 minutes after its slot, the calls of a worker killed in flight stalled the others."""
        since = passed(Instant(kept.wall, kept.boot), at)
        answered = [now - since - ago for ago in kept.ago if since + ago < self.window_s]
        latest = now - max(0.0, since - self.window_s) if out_now else now - since
        return answered + [latest for _ in kept.out if since < (2 * self.window_s if out_now else self.window_s)]

    def _own(self, now: float, at: Instant) -> KeptWindow:
        """This run's calls still inside the window (not those `restore` counted: their runs' own), as `keep` saves
        them at `now` (the meter's clock), the moment `at`."""
        mine = [c for c in self._calls if c.started > now - self.window_s and not c.earlier]
        ago = [now - self.arrived(c) for c in mine if c.answered is not None]
        return KeptWindow(at.wall, at.boot, ago, [now - c.started for c in mine if c.answered is None])

    def _read(self, path: Path) -> dict[str, KeptWindow]:
        """The runs' calls the file at `path` keeps ({} where it cannot be read)."""
        try:
            return msgspec.json.decode(path.read_bytes(), type=dict[str, KeptWindow])
        except (OSError, ValueError):
            return {}

    def _write(self, path: Path, runs: dict[str, KeptWindow], at: Instant) -> None:
        """Write `runs` to the file at `path` (moment `at`), less those whose calls all left the window."""
        now = self._clock()
        kept = {key: calls for key, calls in runs.items() if self._placed(calls, now, at)}
        write_private(path, msgspec.json.encode(kept).decode())

    def wait_for(self, calls: float) -> float:
        """Seconds the window alone makes `calls` more calls take (for an honest ETA; a shared window at its
        share): the places free go at once, each further call when the place of the call `allowed` before it frees,
        a window after it took it. A window lets its calls through in bursts, not evenly: one call more than a full
        window holds waits for the earliest call's place, up to a whole window."""
        if calls <= 0:
            return 0.0
        now = self._clock()
        taken = sorted(call.started + self.window_s for call in self._calls if call.started > now - self.window_s)
        places = ([now] * self.allowed + taken)[-self.allowed :]  # when each of the `allowed` places frees
        last = math.ceil(calls) - 1  # the last call's turn, counted from 0
        return max(0.0, places[last % self.allowed] - now) + last // self.allowed * self.window_s

    @classmethod
    def for_rate(
        cls, rate: float | None, clock: Clock = time.monotonic, sleep: Sleep = anyio.sleep
    ) -> WindowMeter | None:
        """The window that holds a steady `rate` per second: `limit` calls per `limit / rate` seconds; below 1/s,
        1 call per `1 / rate` seconds, as servers count such a rate (the sandbox's `SlidingRate`)."""
        if not rate:
            return None
        limit = max(1, int(rate))
        return cls(limit, limit / rate, clock=clock, sleep=sleep)


#: `DailyQuota.sync`'s partner: given this run's calls per minute (all of them) and the minutes changed since it
#: was last called, keeps them and returns the calls other runs made against the same quota, per minute
Exchange = Callable[[Mapping[int, int], Mapping[int, int]], dict[int, int]]


class DailyQuota:
    """Calls in a rolling 24 h window, counted per minute: this run's (`minutes`, which the ledger keeps so a
    resume counts them) and, since the quota is the agreement's and not the run's, those other runs made against
    the same agreement (`others`, fetched through `exchange` at most every `sync_s` seconds and at `sync`)."""

    WINDOW_MIN = 24 * 60

    def __init__(
        self,
        limit: int,
        used: Mapping[int, int] | None = None,
        clock: Clock = time.time,
        exchange: Exchange | None = None,
        sync_s: float = 1.0,
    ) -> None:
        self.limit = limit
        self._clock = clock
        self.minutes: dict[int, int] = dict(used or {})
        self.others: dict[int, int] = {}
        self._exchange = exchange
        self._sync_s = sync_s
        self._synced_at: float | None = None
        self._changed: set[int] = set(self.minutes)
        self._counted: tuple[int, int] | None = None  # (minute, used then): summed once a minute and a sync
        #: when the quota's rise was last measured and the calls counted then, every run's (`sync`)
        self._rise_from: tuple[float, int] | None = None
        self._rise = 0.0  # calls every run made per `sync_s` then (`_near`)

    def _minute(self) -> int:
        return int(self._clock() // 60)

    def used(self) -> int:
        """Calls in the last 24 h: this run's and the other runs'."""
        return self.used_here() + self.used_elsewhere()

    def used_here(self) -> int:
        floor = self._minute() - self.WINDOW_MIN
        return sum(n for m, n in self.minutes.items() if m > floor)

    def used_elsewhere(self) -> int:
        floor = self._minute() - self.WINDOW_MIN
        return sum(n for m, n in self.others.items() if m > floor)

    def sync(self) -> None:
        """Hand this run's calls over to be kept, and learn the other runs' (no-op without `exchange`)."""
        if self._exchange is None:
            return
        changed = {m: self.minutes[m] for m in self._changed if m in self.minutes}
        self.others = self._exchange(self.minutes, changed)
        self._changed.clear()
        self._synced_at = self._clock()
        self._counted = None
        used, at = self.used(), self._synced_at
        if self._rise_from is None:
            self._rise_from = (at, used)
        elif (span_s := abs(at - self._rise_from[0])) >= self._sync_s:
            self._rise = max(0.0, (used - self._rise_from[1]) / span_s * self._sync_s)
            self._rise_from = (at, used)

    async def acquire(self) -> None:
        """The quota as a Meter: `take`, which never waits (a spent quota frees up in hours, not seconds)."""
        self.take()

    def on_rate_limited(self, retry_after_s: float | None) -> float:
        """A 429 was a call too: counted by `take` as it left; the quota pauses none."""
        return 0.0

    def on_success(self) -> None:
        """Counted by `take` as it left."""

    def take(self) -> None:
        """Count one call, or stop the run (RunStopped) if the agreement's quota is spent. Near its end (`_near`) the
        call is handed over to be kept before it leaves (`sync`), and the quota checked with it and the other runs'
        calls as they are now: a run beside this one, which sees it from then on, never takes the same last calls.
        Before, each run saw the others' calls only once a second, and two runs at once at --rate 20 passed a quota
        of 150 by 4 calls, which the API refused (tester t71f). A call so refused is taken back, and no longer
        counted once the run ends (`sync`)."""
        near = self._exchange is not None and self.limit > 0 and self._near()
        if self._exchange is not None and (
            self._synced_at is None or abs(self._clock() - self._synced_at) >= self._sync_s
        ):
            self.sync()
        now = self._minute()
        if self.limit:
            if self._counted is None or self._counted[0] != now:
                if len(self.minutes) > self.WINDOW_MIN:
                    self.minutes = {m: n for m, n in self.minutes.items() if m > now - self.WINDOW_MIN}
                self._counted = (now, self.used())
            if self._counted[1] >= self.limit:
                raise self._spent(now)
        self.minutes[now] = self.minutes.get(now, 0) + 1
        self._changed.add(now)
        if self._counted is not None:
            self._counted = (now, self._counted[1] + 1)
        if near:
            self.sync()
            if self.used() > self.limit:  # another run took the last call meanwhile
                self.minutes[now] -= 1
                self._changed.add(now)
                raise self._spent(now)

    def _near(self) -> bool:
        """Whether the calls left are few enough that the other runs' calls unseen between two syncs may spend them:
        no more than twice what every run's calls spent of it in `sync_s`, as last measured (`sync`); before it was
        measured, whenever another run counted calls this minute or the last (one started beside a run that had
        spent 130 of 150 calls went on unseen for a second, and the two passed the quota by 4)."""
        if self._rise_from is None or self._rise_from[0] == self._synced_at and self._rise == 0.0:
            # not measured yet: near while another run counted calls this minute or the last (one may be going now)
            now = self._minute()
            return self.others.get(now, 0) + self.others.get(now - 1, 0) > 0
        used = self._counted[1] if self._counted is not None else self.used()
        return self.limit - used <= 2 * self._rise + 1

    def _spent(self, now: int) -> RunStopped:
        """The stop at a spent quota (`now`: this minute), saying whose calls spent it and when calls free up."""
        counted = [m for m in (*self.minutes, *self.others) if m > now - self.WINDOW_MIN]
        free_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime((min(counted) + self.WINDOW_MIN + 1) * 60))
        elsewhere = self.used_elsewhere()
        whose = (
            f" ({self.used_here()} by this run, {elsewhere} by earlier or other runs against the same agreement)"
            if elsewhere
            else ""
        )
        return RunStopped(
            f"daily quota of {self.limit} calls reached{whose}; calls free up from {free_at} (at once where "
            f"the agreement's quota was raised: {QUOTA_RAISED}); continue with `bulkload resume`"
        )
