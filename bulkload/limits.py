"""Every limit a call passes, in one object: the daily quota, the rate meter and the rolling windows (each a
meters.Meter), and how many calls go at once. Built for a job by `Limits.for_job`; applied by the dispatcher."""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple

import anyio

from .agreement_calls import AgreementCalls, agreement_file
from .errors import BulkloadError
from .meters import Arrival, Clock, DailyQuota, Meter, RateMeter, Sleep, WindowMeter
from .outputs import cache_dir, private_dir

if TYPE_CHECKING:
    from .job import Job
    from .ledger import Ledger
    from .targets.base import Target


class Slot(NamedTuple):
    """A call's place in the limits, as `Limits.acquire` took it: when the rate meter let it start (`started`,
    seconds of the meters' clock: how `Limits.on_rate_limited` tells its 429 from the pace's and the spacing's) and
    its place in each window (`places`, in the order of `Limits.windows`)."""

    started: float
    places: tuple[Arrival, ...]


#: seconds between two writes of the windows' calls to the user's cache while a run goes on (`Limits.sent`): a run
#: killed (kill -9) leaves its successor all but its last second's calls (one write of a full 300-call window: 0.5 ms)
KEEP_S = 1.0


class Slowdown(NamedTuple):
    """What a 429 made the limits do (`Limits.on_rate_limited`): `pause_s`, the seconds every call now pauses, and
    `why`: "clocks" (a full window, the server's clock and ours disagreeing: its margin widened, no pause),
    "spacing" (a call the configured rate spaced, at a server that spaces calls as strictly: the spacing widened,
    no pause),
    "early" (the first 429 in a window the run could not have filled yet at its pace: nothing narrowed, no pause),
    "share" (the server counts more in a window than this run sent: its share narrowed, the pause is the
    Retry-After or none), "refused" (no share is left to narrow, the server takes no call for now: the back-off's
    pause, the pace kept) or "pace" (the rate meter's pause: the Retry-After, else the back-off; the pace cut)."""

    pause_s: float
    why: Literal["clocks", "spacing", "early", "share", "refused", "pace"]


#: True in a task whose calls give way to the others' (the walk behind the load, walks.Behind): they take a rate slot
#: only when it is due and no other call waits for one, so the uploads keep the pace where the limits bind and the
#: walk takes what they leave (the whole run makes the same calls either way)
giving_way: ContextVar[bool] = ContextVar("giving_way", default=False)


class Limits:
    """The quota, the rate and the windows, passed in that order by every call (`acquire`) and told how it went
    (`on_rate_limited`, `on_success`); `concurrency` calls at most are in flight. `api_url` names the files that
    keep the windows between runs (`kept`)."""

    #: windows of 429s with no call taken after which a 429 without Retry-After is no share's but the back-off's
    REFUSED_WINDOWS = 3
    #: calls that took slots since the run's last 429, at least, for a spaced call's 429 past the spacing's margin
    #: to keep its pace (`RateMeter.widen`'s `keep`)
    STRAY_CALLS = 20
    #: answers whose task's next call's readying `_left` judges by (the quickest of them)
    READYING_SEEN = 8

    def __init__(
        self,
        *,
        quota: DailyQuota,
        rate: RateMeter,
        windows: Sequence[WindowMeter] = (),
        concurrency: int = 8,
        api_url: str = "",
        agreement: str = "",
    ) -> None:
        self.quota = quota
        self.rate = rate
        self.windows = list(windows)
        rate.windowed = bool(self.windows)
        self.concurrency = concurrency
        self.api_url = api_url
        #: the agreement whose limits these are, where the API keeps them per agreement at one address (a keyed hash)
        self.agreement = agreement
        self._meters: list[Meter] = [quota, rate, *self.windows]
        #: calls waiting in `acquire` now (for the progress display)
        self.held = 0
        self._first = 0  # calls waiting in `acquire` that do not give way
        self._none_first: anyio.Event | None = None  # set when `_first` falls to 0
        #: when a call that does not give way was last answered (the rate's clock), until such a call asks again
        self._answered_at = -math.inf
        #: seconds from that answer to the next such call's asking, the last few seen: how long a task readies its next
        #: call (`_left`)
        self._readying: deque[float] = deque(maxlen=self.READYING_SEEN)
        self._giving_way = anyio.Lock()  # held by the one call giving way that waits for a slot (`_left`)
        self._files: list[Path] = []  # where each window's calls are kept, while `kept`
        self._key = secrets.token_hex(8)  # this run's entry in those files, beside other runs' (WindowMeter.keep)
        self._kept_at = -math.inf  # when they were last written (time.monotonic)
        self._full: list[bool] = []  # each window full when they were
        self._refused_since: float | None = None  # the first 429 since the last success (the rate meter's clock)
        self._taken = 0  # slots the run's calls took (`_take`)
        self._taken_at_429 = 0  # `_taken` at the run's last 429
        self._first_at: float | None = None  # when the run's first call started (the rate meter's clock)

    @classmethod
    def for_job(
        cls,
        job: Job,
        target: Target,
        ledger: Ledger,
        credentials: Mapping[str, str],
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
        wall_clock: Clock = time.time,
    ) -> Limits:
        """The job's limits: its rate (and the window that holds it steady), its rolling windows, and the
        agreement's daily quota as this run sees it (`clock`, `sleep`: the pacing meters', in seconds; `wall_clock`:
        the quota's, in seconds since the epoch)."""
        windows = [WindowMeter(limit, span, clock=clock, sleep=sleep) for limit, span in job.windows()]
        for window in windows:
            window.together = True  # the API's: every run at its address counts in it (not the rate's own)
        by_rate = WindowMeter.for_rate(job.rate, clock=clock, sleep=sleep)
        return cls(
            quota=daily_quota(job, target, ledger, credentials, wall_clock),
            rate=RateMeter(job.rate, clock, sleep),
            windows=windows + ([by_rate] if by_rate else []),
            concurrency=job.concurrency,
            api_url=job.api_address,  # names the files other runs at this API share: one spelling
            agreement=job.agreement,
        )

    def held_for_s(self) -> float | None:
        """Seconds until a call these limits hold back may take its slot (the rate's next start, each window's next
        free place; 0.0: it may now), None where no call is held."""
        if not self.held:
            return None
        return max([self.rate.due_in(), *(window.next_free_s() for window in self.windows)])

    async def acquire(self) -> Slot:
        """Wait until every limit lets one more call go, and return its slot (for `answered`); RunStopped when the
        daily quota is spent. Calls `giving_way` go one at a time, each in a rate slot the others leave (`_left`)."""
        if giving_way.get():
            async with self._giving_way:
                await self._left()
                return await self._take(first=False)
        self._first += 1
        if self._answered_at > -math.inf:
            self._readying.append(self.rate.now() - self._answered_at)
        self._answered_at = -math.inf  # the task an answer readied a call in asks: a walk's call waits for it no more
        return await self._take(first=True)

    async def _left(self) -> None:
        """Wait until no call that does not give way waits and the rate lets a call go now (RateMeter.due_in). A slot
        due later is not taken: a call that came meanwhile would find it taken (the walk's 8 calls behind a load at
        concurrency 8, let in together whenever no upload waited, took the next 8 slots ahead of the uploads).

        A slot free when the call asks is left to the task of a call that does not give way answered less than an
        interval ago, until it asks again (`acquire` clears `_answered_at`) or the interval has passed: it readies
        its next call then (an upload's worker its next chunk's) and asks a few ms later, and the walk behind the load,
        woken by that same answer, took the slot ahead of it, which then waited an interval (at concurrency 1, 100/s
        and 50 ms latency: 62 ms a call where the round trip is 55, 10 % of the uploads' pace). A slot the call waited
        for is taken when due, as before: where the uploads and the walk want more than the rate, a due slot left to
        an upload not yet asking went unused (tester t67d, virtual time: at 100/s, concurrency 4 and 40 ms, the walk
        took none during the load and 7 % of the rate went unused). Nor where the quickest of the last readyings seen
        (`_readying`: from an answer to the next such call's asking) would bring the upload's call past an interval
        after the walk's: the slot is due again by then. Left to it, a walk that woke at the interval's end took the
        slot then, just before the upload asked, which waited an interval (virtual time, 100/s, concurrency 1, 10 ms
        latency and 11 ms readying: the uploads at 82 % of their pace without the walk; at 100 % before and now)."""
        waited = False
        while True:
            while self._first:
                if self._none_first is None:
                    self._none_first = anyio.Event()
                await self._none_first.wait()
            if self.rate.due_in() > 0:
                waited = True
                await self.rate.until_due()
            elif (
                not waited
                and (after_s := self._answered_at + self.rate.interval_s() - self.rate.now()) > 0
                and after_s + min(self._readying, default=0.0) < 2 * self.rate.interval_s()
            ):
                await self.rate.sleep(after_s)
            else:
                return

    async def _take(self, first: bool) -> Slot:
        """Pass the quota, the rate and the windows; `first`: the call does not give way (counted in `_first`)."""
        self.held += 1
        asked = [window.now() for window in self.windows]  # a share's hold counts from here (WindowMeter.take)
        try:
            await self.quota.acquire()
            started = await self.rate.start()
            places = tuple([await window.take(at) for window, at in zip(self.windows, asked, strict=True)])
            await self._beside(places)
            await self.rate.depart()
            self._taken += 1
            if self._first_at is None:
                self._first_at = started
            return Slot(started, places)
        finally:
            self.held -= 1
            if first:
                self._first -= 1
                if not self._first and self._none_first is not None:
                    self._none_first.set()
                    self._none_first = None

    async def _beside(self, places: tuple[Arrival, ...]) -> None:
        """Wait until each window the API counts for every client (`WindowMeter.together`: HaloPSA's) holds the call
        that took `places` beside the calls other runs at the same address make in it now, in processes of their own
        or this one (a manifest's agreements side by side): `WindowMeter.beside`, through the file that keeps its
        calls (`window_file`); only while they are `kept`. A call that waited takes its place as the wait ends: its
        slot's time is when it goes (held past a window since its slot, it was left out of the calls kept there, and
        the other run sent beside it: tester t71f)."""
        for window, path, call in zip(self.windows, self._files, places, strict=False):  # none while not kept
            while window.together and (wait_s := window.beside(path, self._key)) > 0:
                await self.rate.sleep(wait_s)
                call.started = window.now()

    def sent(self, slot: Slot) -> None:
        """The call that took `slot` left now (its request written): the windows time its round trip from here, and
        their calls are kept in the user's cache (`kept`) at most every KEEP_S seconds, and at once as a window
        fills: the calls the next ones wait on, which a run started after this one is killed would meet as 429s."""
        for window, call in zip(self.windows, slot.places, strict=True):
            window.sent(call)
        if not self._files:
            return
        full = [window.full() for window in self.windows]
        now = time.monotonic()
        if now - self._kept_at >= KEEP_S or any(f and not was for f, was in zip(full, self._full, strict=True)):
            self._keep(now)
        self._full = full

    def _keep(self, now: float) -> None:
        """Write every window's calls to its file (`window_file`), as of `now` (time.monotonic)."""
        for meter, path in zip(self.windows, self._files, strict=True):
            meter.keep(path, self._key)
        self._kept_at = now

    def answered(self, slot: Slot, worked: bool = True) -> None:
        """The call that took `slot` was answered now, whatever the status: the windows learn when the server
        counted it, at the latest (`WindowMeter.arrived`); `worked`: it did its work (answered 2xx), so its round
        trip is a call's (a 429, an error or no answer is not, `WindowMeter.answered`)."""
        for window, call in zip(self.windows, slot.places, strict=True):
            window.answered(call, worked)
        rate = self.rate
        if not giving_way.get():
            self._answered_at = rate.now()
        if worked and rate.configured and not rate.took_close:
            close_s = rate.TAKEN_CLOSE / rate.configured
            rate.took_close = any(w.taken_within(c, close_s) for w, c in zip(self.windows, slot.places, strict=True))

    def on_rate_limited(self, retry_after_s: float | None, slot: Slot | None = None) -> Slowdown:
        """A 429 (`retry_after_s`: the server's Retry-After, None without one; `slot`: the refused call's); returns the
        seconds every call now pauses and why (`Slowdown`). Met while a window was full, it is the server's clock and
        ours disagreeing by a few ms: the windows widen their margins (`WindowMeter.widen`), the pace is kept and no
        call pauses (0.0); not where its Retry-After is far longer than the window's own wait (then every meter hears
        it, below). Met by a call the configured rate spaced (`slot.started` an interval after the call before it, which
        the server took: `WindowMeter.after_taken`), or one that left less than 95 % of an interval after one not
        refused (`WindowMeter.let_go_with`), it is a server that spaces calls as strictly, its clock a ms from ours or
        the calls let go together by a window: the spacing widens (`RateMeter.widen`; at a full window too) and every
        call leaves an interval after the one before from then on (`RateMeter.depart`); where no window is narrowed to a
        share, the pace is kept and no call pauses (0.0), else the 429 is judged as below; so too, past the first 429 of
        the run's first window, where the call before it is a slow answer still out (`WindowMeter.after_unheard`) or
        one still out that left no more than the spacing and its margin before it (`WindowMeter.let_go_with`: a
        strict server's clock 3 % slow at --rate 20 met 14-23 429s, each taken for a share; tester t62b); past its
        margin such a 429 narrows the spacing's pace (`RateMeter.widen`), until one of a call that left two
        intervals after the last one not refused shows the server counts a window (`RateMeter.counts_a_window`). Met
        in a window the run could not have filled yet at its pace, the first such 429 narrows nothing either
        (`WindowMeter.transient`: the run's count there is partial, no share), and no call pauses (0.0). While a window
        holds calls but is not full, the server counts more in it than this client sent (another client's calls, or a
        window smaller than the one given): the windows take the share it leaves (`WindowMeter.shrink`), their own count
        makes the calls wait (no longer than a Retry-After above 0 said), and the calls pause for the Retry-After, if
        any (0.0 without). The same without Retry-After (or with one of 0, "now", which it was not) where a full
        window's margin is at its cap: a Retry-After of 0 there went to the rate meter, which cut the pace by 30 % a 429
        (tester t28: a share that had probed its way back to the whole window met the other client's return so, and its
        run went at 1-2 calls a second). Otherwise every meter hears it: the rate meter pauses the calls and lowers the
        pace (`RateMeter.on_rate_limited`). In the run's first window (`_first_window`: its first calls go on new
        connections, which a server reads 4-8 ms late) a 429 two intervals after the last call taken shows no window
        another client fills, and a share narrowed there starts from what the run's pace fills (`WindowMeter.shrink`);
        past the spacing's margin, a 429 `STRAY_CALLS` calls or more after the run's last one keeps the pace
        (`RateMeter.widen`'s `keep`): at tester t68a's strict e-conomic server of 100/s (no Retry-After), 6,000 rows
        took 283 and 45 s in two runs of six (19-22 s the others; 15-19 s all six now), 51-60 s with the machine's
        two cores busy (24-33 s now)."""
        calls = slot.places if slot is not None else (None,) * len(self.windows)
        started = slot.started if slot is not None else None
        stray = self._taken - self._taken_at_429 >= self.STRAY_CALLS
        self._taken_at_429 = self._taken
        # the call before it taken, or let go with it by a window (`RateMeter.widen`'s `close`): the spacing widens,
        # and the 429 is the spacing's where no window is narrowed to a share (whose probes for room end at a 429).
        # Where one is, the 429 is judged below, but the calls leave spaced from now on (`RateMeter.depart`): else no
        # spacing was ever learned once a strict server's 429 (the call before still out, not yet slow) was taken for
        # a share, and the narrowed window let its calls go together, a 429 a second (tester t62a: 70 in 210 calls
        # at --rate 10, answers in 0-2 s)
        interval_s = self.rate.interval_s()
        pairs = [(w, call) for w, call in zip(self.windows, calls, strict=True) if call is not None]
        # the calls left at the configured rate's spacing at least (a hair less: the clocks' rounding); not where the
        # server never took two calls that left within 1.5 intervals: one spacing calls wider than two intervals (4/s
        # at --rate 10) refuses such a call too, and taken for a window there, its 429s narrowed a share that let its
        # calls go at the rate's spacing: 404 429s and 325 s for 300 calls (102 and 127 s with the pace narrowed)
        if (
            self.rate.configured
            and self.rate.took_close
            and not self._first_window()
            and any(w.left_long_after(call, 0.975 / self.rate.configured) for w, call in pairs)
        ):
            self.rate.counts_a_window()
        close = any(w.let_go_with(call, interval_s * (1.0 - self.rate.LEARN_CAP)) for w, call in pairs)
        taken = close or any(w.after_taken(call) for w, call in pairs)
        whole = not any(w.allowed < w.limit for w in self.windows)
        spacing = taken and self.rate.widen(started, retry_after_s, close=close, keep=stray) and whole  # full too
        if any([w.widen(call, retry_after_s) for w, call in zip(self.windows, calls, strict=True)]):  # every full one
            return Slowdown(0.0, "clocks")
        if spacing:
            return Slowdown(0.0, "spacing")
        pace = self.rate.configured
        if any([w.transient(call, pace, retry_after_s) for w, call in zip(self.windows, calls, strict=True)]):
            return Slowdown(0.0, "early")
        spaced = any(w.let_go_with(call, interval_s * (1.0 + self.rate.LEARN_CAP)) for w, call in pairs)
        unheard = any(w.after_unheard(call) for w, call in pairs)
        if (spaced or unheard) and whole and self.rate.widen(started, retry_after_s, close=spaced, keep=stray):
            return Slowdown(0.0, "spacing")
        # a share of one call a window, refused again without Retry-After, can narrow no further, and a server that
        # took none of the run's calls for REFUSED_WINDOWS windows of 429s leaves it no share (its probes for room
        # each end at a 429 and give back the share they began with): the server refuses every call (a daily quota
        # another client spent), and the back-off meets it, cutting no pace: once the server takes calls again they
        # go at once at the pace they had. Taken for a share again, no call paused and the call went once a window
        # for its 10 minutes (tester t65b: 600 calls to a spent quota at --rate 10, where the back-off sends 80);
        # with the pace cut at each, 10 s of such 429s at --rate 10 took a load of 30 s of calls 57.5 s (40 s now)
        now = self.rate.now()
        if self._refused_since is None:
            self._refused_since = now
        refused_s = now - self._refused_since
        at_floor = (
            bool(self.windows)
            and not retry_after_s
            and (
                all(w.allowed <= 1 for w in self.windows)
                or refused_s > self.REFUSED_WINDOWS * max(w.window_s for w in self.windows)
            )
        )
        if at_floor:
            return Slowdown(self.rate.back_off(), "refused")
        shares = zip(self.windows, calls, strict=True)
        if any([w.shrink(retry_after_s, call, pace) for w, call in shares if not retry_after_s or not w.full()]):
            return Slowdown(self.rate.pause(retry_after_s or 0.0), "share")
        others: list[Meter] = [self.quota, *self.windows]
        waits = [meter.on_rate_limited(retry_after_s) for meter in others]
        return Slowdown(max([self.rate.on_rate_limited(retry_after_s, started), *waits]), "pace")

    def _first_window(self) -> bool:
        """Whether the run is in its first window, the shortest (the rate's own: its count there is partial, and its
        first calls go on new connections, which a server reads a few ms late). Not the longest: HaloPSA's is 5
        minutes (tester t68c). Told by a count of calls rather (twice the concurrency), a strict server of 100/s took
        6,000 rows in 24-90 s where it took 15-16."""
        if self._first_at is None or not self.windows:
            return True
        return self.rate.now() - self._first_at < min(w.window_s for w in self.windows)

    def unused(self, slot: Slot) -> None:
        """The call that took `slot` sent nothing with it (it must fetch a token first): its places in the windows
        are free again, for that token's call among others. The rate's spacing and the daily quota keep it."""
        for window, call in zip(self.windows, slot.places, strict=True):
            window.unused(call)

    def on_success(self) -> None:
        self._refused_since = None
        for meter in self._meters:
            meter.on_success()

    def wait_for(self, calls: float) -> float:
        """Seconds the windows alone make `calls` more calls take (for an honest ETA)."""
        return max((w.wait_for(calls) for w in self.windows), default=0.0)

    def window_file(self, meter: WindowMeter) -> Path:
        """Where the calls of a window are kept between runs: per API address, agreement (where the target names
        one) and window, in the user's cache."""
        return self._cached("windows", f"{meter.limit}|{meter.window_s}")

    def pace_file(self) -> Path:
        """Where the pace 429s found is kept between commands (RateMeter.keep): per API address and agreement."""
        return self._cached("paces", "")

    def _cached(self, folder: str, what: str) -> Path:
        of = f"{self.api_url}|{what}" if what else self.api_url
        of += f"|{self.agreement}" if self.agreement else ""
        key = hashlib.sha256(of.encode()).hexdigest()[:24]
        return cache_dir() / folder / f"{key}.json"

    @contextmanager
    def kept(self) -> Iterator[None]:
        """The server's rolling window and the agreement's daily quota outlive this process: start from the calls
        earlier runs made in them, and keep this one's calls for the next (the quota's in the ledger too), as they
        leave (`sent`) and as the process ends. So does a pace 429s found where none was set (RateMeter.keep)."""
        files = [self.window_file(meter) for meter in self.windows]
        for meter, path in zip(self.windows, files, strict=True):
            meter.restore(path)
        pace = self.pace_file()
        self.rate.restore(pace)
        for path in [*files, pace]:
            with suppress(OSError):  # a cache: each window's folder on its own, as before
                private_dir(path.parent)
        self.quota.sync()
        self._files, self._full = files, [False] * len(files)  # kept as the calls leave too (`sent`)
        try:
            yield
        finally:
            # a ledger that cannot be written now (a full disk) has said so already; the cache holds the count
            with suppress(BulkloadError):
                self.quota.sync()
            self._keep(time.monotonic())
            self._files = []
            self.rate.keep(pace)


def daily_quota(
    job: Job, target: Target, ledger: Ledger, credentials: Mapping[str, str], clock: Clock = time.time
) -> DailyQuota:
    """The agreement's daily quota as this run sees it: its own calls (the ledger's count merged with what the
    user's cache kept for the run, the larger per minute: a run killed between the two loses neither), and the calls
    of every other run against the same agreement, from the cache. Every call it counts goes to both as it runs.
    `clock`: the wall clock its minutes are counted on (seconds since the epoch)."""
    agreement = AgreementCalls(
        agreement_file(target.name, job.api_address, target.credentials.agreement_of(credentials)),
        ledger.run.key_prefix,
        clock=clock,
    )
    mine = ledger.calls()
    for minute, n in agreement.own().items():
        mine[minute] = max(n, mine.get(minute, 0))

    def exchange(calls: Mapping[int, int], changed: Mapping[int, int]) -> dict[int, int]:
        ledger.save_calls(changed)
        return agreement.exchange(calls, changed)

    return DailyQuota(job.daily_quota, mine, clock=clock, exchange=exchange)
