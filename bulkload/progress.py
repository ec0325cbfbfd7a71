"""Progress on long runs. A terminal gets rich's progress display: the phase of the work (stages.py), a bar with
the percent of the phase's work, its pace and ETA. A pipe or a file (cron) gets one timestamped line every `every_s`
seconds and one at every change of phase. The ETA is the rows still to settle over the pace at which rows settle
(loaded, rejected, in doubt or skipped: done), never the pace of reading, which runs ahead of sending; when a rolling
window binds, the wait the limiter still has in store if that is longer.

Cheap by construction: the display asks for a Snapshot 4×/s (`TICK_S`), never per row; time comes from an injected
clock and sleep, so a test drives it."""

from __future__ import annotations

import sys
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TextIO

import anyio
from rich.console import Console, RenderableType
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from .logs import progress_line
from .stages import LOADING, PAUSED, PLANNING, SETTLING, WAITING

#: seconds between two looks at the run
TICK_S = 0.25
#: the pace is what was done in the last this many seconds of the phase
PACE_WINDOW_S = 30.0
#: the calls are shown waiting for the rate window when the limits hold some back and none left for this long
WAITING_AFTER_S = 1.0


@dataclass
class Snapshot:
    """The run as the display sees it. `phase` (stages.py) with its own `done` of `total` `unit`; while loading the
    rows settle instead (`loaded + rejected + in_doubt + skipped` of the input's rows). `limit_wait`: seconds the
    rate windows alone need for a number of further calls; `held`: calls the limits hold back now; `paused_s`: the
    pause a 429 set that is still to run; `earlier`: of the rows settled, those an earlier invocation of the run
    settled (a resume reads them again and finds them so in the ledger): counted, not timed."""

    phase: str
    done: int
    total: int | None
    unit: str
    rows_read: int = 0
    #: rows of this invocation's calls that left (the reader runs ahead of them: rows read are not rows sent)
    rows_sent: int = 0
    loaded: int = 0
    rejected: int = 0
    in_doubt: int = 0
    #: of those in doubt, the rows of calls held back unsent when a ledger write failed (Tally.held_back)
    held_back: int = 0
    skipped: int = 0
    earlier: int = 0
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    limit_wait: Callable[[float], float] | None = None
    held: int = 0
    #: seconds every call still pauses for a 429 (its Retry-After, or the back-off)
    paused_s: float = 0.0
    #: seconds until the last chunk waiting out a settle delay (`--settle-s`) looks for its records again
    settling_s: float = 0.0

    @property
    def settled(self) -> int:
        """Rows done with: loaded, rejected, in doubt or skipped."""
        return self.loaded + self.rejected + self.in_doubt + self.skipped


@dataclass
class Figures:
    """What the display shows: the `phase` (WAITING while the limits hold the calls back, PAUSED while they pause
    for a 429) on the `bar` of the phase it waits in, `done` of `total` `unit`, the pace (`per_s`, units a second;
    None until the phase was seen twice), the ETA in seconds (None: not known) and a line of `detail`."""

    phase: str
    bar: str
    done: int
    total: int | None
    unit: str
    per_s: float | None
    eta_s: float | None
    detail: str


class Pace:
    """Figures from successive snapshots: the pace over the last PACE_WINDOW_S of the current phase, and the ETA.
    `rows`: the input's rows (the loading phase's total; None: not known); `clock`: seconds (time.monotonic). The
    pace is of this
    invocation's own rows: those an earlier one settled (`Snapshot.earlier`) count to the done, not to the pace."""

    def __init__(self, rows: int | None, clock: Callable[[], float]) -> None:
        self.rows = rows
        self.clock = clock
        self._phase: str | None = None
        self._samples: deque[tuple[float, int]] = deque()
        self._requests = -1
        self._requests_at = 0.0
        self._last_per_s: float | None = None  # the phase's last pace above nothing: what a pause stops, not ends

    def figures(self, snap: Snapshot) -> Figures:
        """The figures of `snap`, taken now: call it once a look (it samples the pace)."""
        now = self.clock()
        loading = snap.phase == LOADING
        done = snap.settled if loading else snap.done
        total = snap.total
        if loading and self.rows is not None:
            total = self.rows
        if snap.phase != self._phase:
            self._phase = snap.phase
            self._samples.clear()
            self._last_per_s = None
        # a resume finds the rows an earlier invocation settled in the ledger as fast as it reads them again
        self._samples.append((now, done - snap.earlier if loading else done))
        while len(self._samples) > 2 and self._samples[1][0] <= now - PACE_WINDOW_S:
            self._samples.popleft()
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        per_s = (d1 - d0) / (t1 - t0) if t1 > t0 else None
        if per_s:
            self._last_per_s = per_s
        eta_s = None
        # held by a pause or a full window, the pace drops to nothing: the pace before it says what follows it
        going = per_s or ((snap.paused_s or snap.held or snap.settling_s) and self._last_per_s)
        if total is not None and going:
            eta_s = snap.paused_s + max(0.0, total - done) / going
            if loading and snap.limit_wait is not None and snap.rows_sent and snap.requests and done < total:
                # when a rolling window binds, the pace so far says nothing about the wait still to come. Calls a
                # row: this invocation's calls for the rows they carried, not for the rows read (the reader runs
                # thousands of rows ahead of the calls the window holds back), nor for those settled (a call in
                # flight would count as many rows again) or an earlier invocation settled (none of this one's)
                eta_s = max(eta_s, snap.limit_wait((total - done) * snap.requests / snap.rows_sent))
        if snap.requests != self._requests:
            self._requests, self._requests_at = snap.requests, now
        # calls held back by the limits (loading, or the walk of reconciling), and none has left for a while
        held = snap.held > 0 and now - self._requests_at >= WAITING_AFTER_S
        bar = PLANNING if loading and not snap.rows_read else snap.phase  # loading, before the first chunk is planned
        unit = snap.unit if not loading else "rows"
        phase = (PAUSED if snap.paused_s else WAITING) if held else bar
        if loading and snap.settling_s and not per_s:  # nothing settles but the calls waiting out a settle delay
            phase = SETTLING
            eta_s = max(eta_s or 0.0, snap.settling_s)
        return Figures(phase, bar, done, total, unit, per_s, eta_s, _detail(snap, loading))


def _detail(snap: Snapshot, loading: bool) -> str:
    calls = f"requests {snap.requests:,} (retries {snap.retries:,}, 429s {snap.rate_limited:,})"
    if not loading:
        return calls
    return (
        f"read {snap.rows_read:,} | loaded {snap.loaded:,} | rejected {snap.rejected:,} | "
        f"in doubt {snap.in_doubt:,} | {calls}"
    )


def clock_time(seconds: float) -> str:
    """Seconds as H:MM:SS."""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}"


def figures_text(fig: Figures) -> str:
    """The figures after the bar: done of total, pace and ETA, each where known (a phase that counts nothing yet,
    planning, shows none)."""
    parts = []
    if fig.total is not None or fig.done:
        of = f"/{fig.total:,}" if fig.total is not None else ""
        parts.append(f"{fig.done:,}{of} {fig.unit}")
    if fig.per_s is not None and parts:
        parts.append(f"{fig.per_s:,.0f} {fig.unit}/s")
    if fig.eta_s is not None:
        parts.append(f"ETA {clock_time(fig.eta_s)}")
    return " | ".join(parts)


def describe(fig: Figures) -> str:
    """One line off a terminal: the phase, its percent when its total is known, the figures and the details."""
    percent = f" {min(100.0, 100 * fig.done / fig.total):.0f}%" if fig.total else ""
    return " | ".join(filter(None, (f"{fig.phase}{percent}", figures_text(fig), fig.detail)))


async def show_progress(
    snapshot: Callable[[], Snapshot],
    rows: int | None,
    *,
    stream: TextIO | None = None,
    console: Console | None = None,
    every_s: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
    wall_clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
) -> None:
    """Show `snapshot()` every TICK_S until cancelled: on `console` (made for `stream`, default stderr, when that is
    a terminal) as rich's progress display; otherwise as a line on `stream` every `every_s` seconds and at every
    change of phase, each beginning with the ISO time of `wall_clock` (seconds since the epoch). `clock` (seconds)
    times the pace; `sleep` waits a tick. `rows`: the input's rows, the loading phase's total (None: no total, so the
    bar has no end and there is no ETA)."""
    out = stream or sys.stderr
    pace = Pace(rows, clock)
    if console is None and out.isatty():
        console = Console(file=out)
    if console is not None:
        await _live(snapshot, pace, console, clock, sleep)
    else:
        await _lines(snapshot, pace, out, every_s, clock, wall_clock, sleep)


class _Display(Progress):
    """rich's Progress with a line of details under the bar (rich's documented way: `get_renderables`)."""

    detail = ""

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        yield Text(self.detail, style="dim", no_wrap=True, overflow="ellipsis")


async def _live(
    snapshot: Callable[[], Snapshot],
    pace: Pace,
    console: Console,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    display = _Display(
        TextColumn("[bold cyan]{task.description}"),
        BarColumn(bar_width=40),
        TaskProgressColumn(),
        TimeElapsedColumn(),  # of the phase: each has a task of its own
        TextColumn("{task.fields[figures]}", markup=False),
        console=console,
        get_time=clock,
        auto_refresh=False,
        transient=True,
    )
    task: TaskID | None = None
    bar = ""
    with display:
        while True:
            fig = pace.figures(snapshot())
            if task is None or fig.bar != bar:
                if task is not None:  # a phase of its own bar: another total, or none
                    display.remove_task(task)
                task, bar = display.add_task(fig.phase, total=fig.total, figures=""), fig.bar
            display.update(task, description=fig.phase, completed=fig.done, total=fig.total, figures=figures_text(fig))
            display.detail = fig.detail
            display.refresh()
            await sleep(TICK_S)


#: by stream, the last line a display off a terminal printed there and when (its clock's seconds); a stream gone
#: takes its entry with it (another one never inherits it)
_LAST_SAID: weakref.WeakKeyDictionary[TextIO, tuple[str, float]] = weakref.WeakKeyDictionary()


async def _lines(
    snapshot: Callable[[], Snapshot],
    pace: Pace,
    out: TextIO,
    every_s: float,
    clock: Callable[[], float],
    wall_clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> None:
    phase: str | None = None  # of the last line
    last = 0.0
    while True:
        fig = pace.figures(snapshot())
        now = clock()
        if fig.phase != phase or now - last >= every_s:
            said = describe(fig)
            before = _LAST_SAID.get(out)
            # a display that follows another on the stream (a load's read of its files, then its run) does not say
            # again what that one said last less than `every_s` ago: every load printed its first line twice
            if phase is not None or before is None or before[0] != said or now - before[1] >= every_s:
                line = progress_line(said, wall_clock(), phase=fig.phase, done=fig.done, total=fig.total)
                print(line, file=out, flush=True)
                _LAST_SAID[out] = (said, now)
            phase, last = fig.phase, now
        await sleep(TICK_S)


@asynccontextmanager
async def shown(snapshot: Callable[[], Snapshot], rows: int | None, enabled: bool = True) -> AsyncIterator[None]:
    """Show progress (show_progress, on stderr; `rows`: the input's) while the body runs, when `enabled`. An error of
    the body comes out as itself, not in an exception group."""
    if not enabled:
        yield
        return
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(show_progress, snapshot, rows)
            try:
                yield
            finally:
                tg.cancel_scope.cancel()
    except BaseExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


@contextmanager
def shown_beside(snapshot: Callable[[], Snapshot], enabled: bool = True) -> Iterator[None]:
    """`shown` for a body that is not async (a dry run): the display runs on an event loop in a thread of its own
    (anyio's blocking portal), reading `snapshot()` as the body writes it, and is gone (its transient lines cleared)
    once the body is over; a Ctrl-C reaches the body as it would without a display."""
    if not enabled:
        yield
        return
    with anyio.from_thread.start_blocking_portal() as portal:
        display = portal.start_task_soon(show_progress, snapshot, None)
        try:
            yield
        finally:
            display.cancel()
