"""A count that lags behind: an API's count endpoint may be eventually consistent, answering fewer records than it
lists for a while after they were created, or more for a while after some were taken out. Where a scope's count of
the run's range (the count less what is left of what was there before the run: walks.Walked.short_of) is not what
the walks listed there — below it (the records are there: the count has not caught up), or above it with the walks
finding nothing more (a record deleted that it still counts) — reconciliation reads it again, a bounded number of
times after a growing wait, bounded in total seconds; a count still off is a mismatch that says the count may lag,
and how to reconcile again later (`lagging`). Where the walks did not list records the run created that the count
counts, the listing may show new records late (a read replica behind the primary): everything is walked again after
the same growing waits, within the same bound (`Recount.until_listed`).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

import anyio

from .errors import command_on
from .meters import Clock, Sleep
from .side_by_side import side_by_side

#: the wait before a count is read again the first time, in seconds; each next wait is twice the one before
FIRST_WAIT_S = 0.5
#: reads again at most (0.5 + 1 + 2 + 4 + 8 s of waits, then what is left of TOTAL_WAIT_S)
READS_AGAIN = 6
#: the seconds the reads again of one reconciliation take at most, waits and reads
TOTAL_WAIT_S = 30.0
#: walks again at most where the walks did not list records of the run the API counts (Recount.until_listed): as
#: many as the count's reads again, so that a listing late by up to the 30 s is walked once it shows them (with 3,
#: a tester's listing 6 s late ended a mismatch, t53c)
WALKS_AGAIN = READS_AGAIN


@dataclass(frozen=True)
class Lagged:
    """What reading the counts again found: `short`, the scopes whose count is still not what was listed there;
    `reads`, per scope read again, how many times; `waited_s`, the seconds it took in all."""

    short: list[str] = field(default_factory=list)
    reads: dict[str, int] = field(default_factory=dict)
    waited_s: float = 0.0
    #: times everything was counted and walked again for records counted but not listed (Recount.until_listed)
    walks: int = 0


@dataclass(frozen=True)
class Recount:
    """How a count that is not what was listed is read again: at most `reads` times, the first after `first_s`, each
    next wait twice the one before, all within `total_s` (on `clock`, in seconds; `sleep` waits: a test's own)."""

    first_s: float = FIRST_WAIT_S
    reads: int = READS_AGAIN
    total_s: float = TOTAL_WAIT_S
    clock: Clock = time.monotonic
    sleep: Sleep = anyio.sleep

    async def until_counted(
        self, short: Callable[[], list[str]], read: Callable[[str], Awaitable[object]], after: Lagged = Lagged()
    ) -> Lagged:
        """Read the count of each scope `short()` names again (`read(scope)`, side by side) after a growing wait,
        until `short()` names none, or `reads` reads again or `total_s` are spent, those of `after` (the reads
        again of this reconciliation so far) counted in. Raises what `read` raises."""
        started = self.clock() - after.waited_s
        done = max(after.reads.values(), default=0)
        reads = dict(after.reads)
        async for _ in self._after_waits(started, self.first_s * 2**done, self.reads - done, lambda: bool(short())):
            lagging = short()  # as it was before the wait: only a read changes it
            await side_by_side(partial(read, scope) for scope in lagging)
            for scope in lagging:
                reads[scope] = reads.get(scope, 0) + 1
        return Lagged(short(), reads, self.clock() - started, after.walks)

    async def until_listed(
        self, not_listed: Callable[[], bool], walk_again: Callable[[], Awaitable[object]], after: Lagged
    ) -> Lagged:
        """Walk again (`walk_again()`) after a growing wait while `not_listed()` (records of the run the walks did
        not list where the API counts more than they listed: a listing that shows new records late, a read replica
        behind the primary, which seed 002 does not rule out), WALKS_AGAIN times at most, the waits within `total_s`
        with those of `after` (the reads again so far) counted in; `after` with the time taken. Each walk again
        costs the run's pages again: only where records are not listed, never where all are. Raises what
        `walk_again` raises."""
        started, walks = self.clock() - after.waited_s, after.walks
        async for _ in self._after_waits(started, self.first_s, WALKS_AGAIN, not_listed):
            await walk_again()
            walks += 1
        return Lagged(after.short, after.reads, self.clock() - started, walks)

    async def _after_waits(
        self, started: float, wait_s: float, times: int, needed: Callable[[], bool]
    ) -> AsyncIterator[None]:
        """At most `times` turns, each after a wait of `wait_s`, doubled at each turn, while `needed()` and the
        `total_s` since `started` (on `clock`) last: the last wait is what is left of them."""
        for _ in range(times):
            left = self.total_s - (self.clock() - started)
            if left <= 0 or not needed():
                return
            await self.sleep(min(wait_s, left))
            yield
            wait_s *= 2


#: the waits of a run's reconciliation, on the real clock
RECOUNT = Recount()


def lagging(
    lagged: Lagged,
    counts: dict[str, dict[str, int]],
    listed: dict[str, int],
    scope_name: str,
    ledger: str | os.PathLike[str],
) -> str:
    """The advice for the scopes whose count stayed off what was listed (`lagged.short`; `counts[scope]`: "before"
    the run, "before_gone" of those since, and "remote", what the count said last; `listed[scope]`: what the walks
    listed since the baseline), with the command that reconciles the run of the ledger at path `ledger` again; ""
    where none did."""
    if not lagged.short:
        return ""
    off = {
        scope: (
            counts[scope]["remote"],
            counts[scope]["before"] - counts[scope].get("before_gone", 0) + listed.get(scope, 0),
        )
        for scope in lagged.short
    }
    where = ", ".join(f"{scope_name} {scope}: counted {n:,}, listed {k:,}" for scope, (n, k) in off.items())
    fewer = sum(n < k for n, k in off.values())
    how, after = (
        ("fewer records than", "a load")
        if fewer == len(off)
        else ("more records than", "a deletion")
        if not fewer
        else ("other numbers of records than", "a load or a deletion")
    )
    reads = max(lagged.reads.values(), default=0)
    again = f"reading the count again {reads} times"
    if lagged.walks:  # records counted but not listed: walked again as well (Recount.until_listed)
        again = f"counting and walking the {scope_name}s again {lagged.walks} times" + (
            f" and {again}" if reads else ""
        )
        after += "; a listing may show new records late"
    return (
        f"the API counts {how} it lists ({where}), still after {again} over {lagged.waited_s:.0f} s: its count may "
        f"lag behind what it holds (an eventually consistent count catches up a while after {after}); "
        f"`{command_on('reconcile', ledger)}` reconciles again, in a while"
    )
