"""Round trips run side by side, failing the way one call fails."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from functools import partial
from typing import TypeVar

import anyio

from .errors import BulkloadError, RunStopped, Throttled


async def side_by_side(jobs: Iterable[Callable[[], Awaitable[object]]]) -> None:
    """Run `jobs` concurrently. The first BulkloadError cancels the others and is raised as itself, not wrapped
    in an ExceptionGroup, so the command reports it (message and exit code) as it would a single call's. A
    RunStopped (the daily quota spent) cancels none: the others' calls may hold quota already taken, and are
    sent rather than wasted (each stops at its own next call); but Throttled does, as the others would only wait
    out the same 429s."""
    failed: list[BulkloadError] = []

    async def one(job: Callable[[], Awaitable[object]]) -> None:
        try:
            await job()
        except BulkloadError as exc:
            failed.append(exc)
            if not isinstance(exc, RunStopped) or isinstance(exc, Throttled):
                tg.cancel_scope.cancel()

    async with anyio.create_task_group() as tg:
        for job in jobs:
            tg.start_soon(one, job)
    if failed:
        raise failed[0]


K = TypeVar("K")
T = TypeVar("T")


async def results_side_by_side(jobs: Mapping[K, Callable[[], Awaitable[T]]]) -> dict[K, T]:
    """`side_by_side`, keeping each job's result under its key (in `jobs`' order). One job is awaited as it is, in
    no task group of its own: its call takes its place in the limits as the caller's turn comes, not a turn later
    (reconciliation's count of a journal that held nothing went after the walk's pages it was started before)."""
    if len(jobs) == 1:
        ((key, job),) = jobs.items()
        return {key: await job()}
    results: dict[K, T] = {}

    async def keep(key: K, job: Callable[[], Awaitable[T]]) -> None:
        results[key] = await job()

    await side_by_side(partial(keep, key, job) for key, job in jobs.items())
    return {key: results[key] for key in jobs}


U = TypeVar("U")

#: turns of the event loop `calls_then_work` gives the calls before the work: a call's request leaves within a few
#: (its limits' slot, a kept connection, the write), where no limit holds it back
LEAVE_TURNS = 10
#: seconds `calls_then_work` waits at most, in all, for calls the limits hold back before it does the work
WAIT_FOR_CALLS_S = 0.5


async def calls_then_work(
    calls: Callable[[], Awaitable[T]], work: Callable[[], U], held_for_s: Callable[[], float | None] = lambda: None
) -> tuple[T, U]:
    """`calls` (round trips) started, and `work` (local, CPU-bound: reading files again, say) done while their answers
    are on the way: the calls leave first, not after the work. A call the limits hold back (`held_for_s`: seconds
    until it may leave, None where none is held) for at most `WAIT_FOR_CALLS_S` in all is waited for: the work would
    hold the event loop past its place (HaloPSA's last listings, at a rolling window's limit, waited 13 ms for their
    places and then 55 ms more for the files read again, and the window replays that delay). Returns both results.
    Raises what either raises, as itself (not in an ExceptionGroup): the work's first, which cancels the calls."""
    got: list[T] = []
    failed: list[Exception] = []

    async def call() -> None:
        try:
            got.append(await calls())
        except Exception as exc:  # raised below, as itself
            failed.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(call)
        for _ in range(LEAVE_TURNS):
            await anyio.lowlevel.checkpoint()
        waited = 0.0
        while not (got or failed) and (wait := held_for_s()) is not None and waited + wait <= WAIT_FOR_CALLS_S:
            # a longer wait: the work is done meanwhile, long before the call leaves. At least 1 ms a turn: a call
            # another limit holds (the daily quota) while these say "now" is waited for 0.5 s at most
            wait = max(wait, 0.001)
            await anyio.sleep(wait)
            waited += wait
            for _ in range(LEAVE_TURNS):
                await anyio.lowlevel.checkpoint()
        try:
            done = work()
        except Exception as exc:
            tg.cancel_scope.cancel()
            failed.insert(0, exc)
    if failed:
        raise failed[0]
    return got[0], done
