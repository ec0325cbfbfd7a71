"""The cursor walks of reconciliation: what they listed (`Walked`), and the walk that runs behind the load (`Behind`).

A walk behind the load is sound where ids only grow: e-conomic numbers draft entries in the order it creates them,
so an entry number below the newest one an answer gave is final — a write that lands later (an answer lost, a
commit late) gets a larger number and is in a range walked later. Where an API breaks that (a number reserved by a
write that becomes visible after a larger one), the count taken after the load says so: `Walked.short_of` names
the scopes whose count is not what the walks listed, and reconciliation walks those again from the baseline, as a
walk after the load would. Targets reconciled another way keep their reading after the load: Visma Core and
PayorCRM read nothing back (their answers are the proof), and HaloPSA lists each resource whole (not by id range),
its records change under later rows of the same run, and a create may commit up to `settle_s` after its answer
was lost — nothing of it is final before the last upload.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from heapq import heappop, heappush
from itertools import compress, repeat
from operator import eq
from typing import Literal

import anyio

from .dispatch import Dispatcher
from .errors import BulkloadError, WalkStalled
from .ledger import Ledger
from .limits import giving_way
from .model import Listed, Totals
from .stages import Stages
from .targets.base import Target

#: records one claim of a walk behind should list: e-conomic's cursor page (1,000 entries), so a claim is one GET
CLAIM_IDS = 1_000

#: records a scope's walks may list beyond what its count says (records created while it walks): a page
WALK_SLACK = 1_000

#: what sized a claim of the walk behind (`Behind._upto`): a claim's width where the scope's records were found about
#: as dense as it expects ("width"), its `reach` grown past that where claims found few ("reach"), or the ids below
#: the run's next record, claimed whole ("gap")
Sized = Literal["width", "reach", "gap"]

#: the least ids a range walked on its own spans: a range costs at least one round trip more than its pages
WALK_RANGE_MIN = 10_000


def id_ranges(after: int, newest: int, most: int, records: int = 0) -> list[tuple[int, int | None]]:
    """(after, upto] id ranges that cover everything above `after`: up to `most` even ranges up to `newest`,
    the last one open-ended (whatever was created after `newest` belongs in the walk too). `records`: how many the
    run expects in them; as many ranges as they fill pages (`CLAIM_IDS`, 95 % full), so that each is about one
    page and they are walked side by side in one round trip rather than page after page (a journal of 1,220 of
    a run's 2,000 entries: two round trips one after the other, now two side by side)."""
    pages = -(-min(records, newest - after) * 100 // (CLAIM_IDS * 95))  # no more records than ids
    n = max(1, min(most, max((newest - after) // WALK_RANGE_MIN, pages)))
    bounds = [after + (newest - after) * i // n for i in range(n)]
    return [(lo, hi) for lo, hi in zip(bounds, [*bounds[1:], None])]


def add_listed(totals: Totals, page: Listed) -> None:
    """Add a walked page's rows, amounts and debits per currency to `totals`, in loops that run in C."""
    currencies = page.currencies
    distinct = set(currencies)
    for currency in distinct:
        units = page.units if len(distinct) == 1 else list(compress(page.units, map(eq, currencies, repeat(currency))))
        acc = totals.get(currency) or totals.setdefault(currency, [0, 0, 0])
        total = sum(units)
        acc[0] += len(units)
        acc[1] += total
        acc[2] += (sum(map(abs, units)) + total) // 2  # the positive ones: (|a| + a) / 2 summed


class Walked:
    """What the walks of a run's scopes listed so far: per scope the records and totals (amounts in minor units per
    currency), the sum of the ids, amounts with more decimals than their currency has, and ids listed twice. The
    ids go to the ledger's remote table (`Ledger.add_remote`) for the diff."""

    def __init__(self, ledger: Ledger, target: Target, dispatcher: Dispatcher, stages: Stages | None = None) -> None:
        self.ledger, self.target, self.dispatcher = ledger, target, dispatcher
        #: where the records walked are counted for the progress display (reconciling), if anywhere
        self.stages = stages
        self.remote: dict[str, Totals] = {}
        self.listed: dict[str, int] = {}
        self.walked_twice = 0
        self.id_sum = 0
        self.fractions = 0
        #: per scope, the records its walks may list in all (WalkStalled beyond): set once the scope is counted
        self.most: dict[str, tuple[int, str]] = {}

    async def walk(self, scope: str, after: int, upto: int | None) -> int:
        """List the scope's records with after < id ≤ upto (None: no upper bound); returns how many it listed.
        WalkStalled when a closed range lists more records than it has ids, or the scope more than `most` allows
        (a cursor that never ends)."""
        totals = self.remote.setdefault(scope, {})
        here = 0
        async for page in self.target.books.walk(self.dispatcher, scope, after, upto):
            here += len(page.ids)
            listed = self.listed[scope] = self.listed.get(scope, 0) + len(page.ids)
            name = f"{self.target.api.scope_name} {scope}"
            if upto is not None and here > upto - after:
                raise WalkStalled(
                    f"the walk of {name} listed {here:,} records with ids from {after + 1} to {upto}: "
                    "its cursor does not end; stopped"
                )
            most, counted = self.most.get(scope, (0, ""))
            if counted and listed > most:
                raise WalkStalled(
                    f"the walk of {name} listed {listed:,} records where {counted}: its cursor does not end; stopped"
                )
            add_listed(totals, page)
            self.id_sum += sum(page.ids)
            self.fractions += page.fractions
            self.walked_twice += self.ledger.add_remote(
                zip(
                    page.ids,
                    repeat(scope),
                    page.groups,
                    page.units,
                    page.checks or repeat(None),
                    page.currencies,
                    page.also or repeat(None),
                )
            )
            if self.stages is not None:
                self.stages.advance(len(page.ids))
        return here

    def short_of(self, counts: dict[str, dict[str, int]]) -> list[str]:
        """The scopes whose count (`counts[scope]`: "before" the run, "before_gone" of those since, and "remote"
        now) is not what is left of what was there before and what the walks listed since: a record landed where a
        walk had passed (or one of the run's range went), or a count that lags (recount.py)."""
        return [s for s, c in counts.items() if _own_count(c) != self.listed.get(s, 0)]

    def counted_short(self, counts: dict[str, dict[str, int]]) -> list[str]:
        """The scopes whose count of the run's range (above the baseline: `short_of`) is below what the walks
        listed there: records the API lists and does not count yet (a count that lags: recount.py). Records there
        before the run and gone since (`before_gone`) are no shortfall of the run's."""
        return [s for s, c in counts.items() if _own_count(c) < self.listed.get(s, 0)]


def _own_count(c: Mapping[str, int]) -> int:
    """What a scope's count (`c`: as `Walked.short_of` takes it) says there is above the baseline: the count less
    what is left of what was there before."""
    return c["remote"] - (c["before"] - c.get("before_gone", 0))


class Behind:
    """The walk of what the load creates, while it loads: `created` is told the ids of each answer and the scopes
    of its records; `chains` walks at once each claim a range of a scope's ids below the newest id answered so far
    and above what was claimed of the scope (from its baseline: `baselines`, scope → {"max_id": …}, filled as the
    load meets scopes), through the load's dispatcher, so within its limits, giving way to the uploads there (a
    walk's call takes a rate slot only when no upload waits for one: `limits.giving_way`). A claim costs a call
    however few records it lists, so each is sized to list about a page (`_upto`): ids are shared by every scope
    of the agreement, and a quiet journal's records may lie millions of ids apart. `finish` (the last upload is
    answered) adds `after_load` walks for the pages left; `follow` returns when none is (`ended`). `left` is the
    rest, for reconciliation. A walk that fails stops the walks behind, never the load: `failed` says why, and
    reconciliation walks it all again. `floor`: the newest id the run's earlier processes created (resume), of
    which `created` is not told."""

    def __init__(
        self, walked: Walked, baselines: dict[str, dict[str, int]], chains: int, after_load: int, floor: int = 0
    ) -> None:
        self.walked = walked
        self.baselines = baselines
        self.chains = chains
        self.after_load = after_load
        self.floor = floor
        self.newest = 0  # the newest id an answer gave
        self.claimed: dict[str, int] = {}  # per scope: ids up to this are walked or being walked
        #: per scope: the ids spanned and the records listed by the claims sized to the run's records (`_width`)
        self.spanned: dict[str, int] = {}
        self.found: dict[str, int] = {}
        #: per scope: (lowest, highest) id of each answer that created records in it, a heap; those below what is
        #: claimed are dropped
        self.ours: dict[str, list[tuple[int, int]]] = {}
        #: per scope: how far a claim where none of the run's records are known to lie reaches (`_upto`)
        self.reach: dict[str, int] = {}
        self.failed: BulkloadError | None = None
        self._moved = anyio.Event()
        self._finished = False
        self.ended = anyio.Event()  # set when `follow` returns

    def created(self, ids: list[int], scopes: Iterable[str] = ()) -> None:
        """An answer gave these ids (in any order) to records of `scopes`: the ranges below the newest are final."""
        if not ids or self.failed:
            return
        lowest, newest = min(ids), max(ids)
        for scope in scopes:
            if lowest <= self.baselines.get(scope, {}).get("max_id", 0):
                # ids that do not grow (seed 002 promises only unique ones): nothing below the newest is final;
                # reconciliation walks the scope whole (Ledger.numbered_below)
                self.failed = BulkloadError(
                    f"{self.walked.target.api.scope_name} {scope}: an answer gave id {lowest}, at or below the "
                    f"newest there before the run ({self.baselines[scope]['max_id']}): ids do not grow"
                )
                self._wake()
                return
            heappush(self.ours.setdefault(scope, []), (lowest, newest))
        if newest > self.newest:
            self.newest = newest
            self._wake()

    def finish(self, newest: int) -> None:
        """The last upload is answered (`newest`: the newest id the run created, earlier processes' too): `after_load`
        walks more join in (the load's connections are free), the walks claim the pages left below it, and end."""
        self.newest = max(self.newest, newest)
        self._finished = True
        self._wake()

    def _wake(self) -> None:
        self._moved.set()
        self._moved = anyio.Event()

    def _claim(self) -> tuple[str, int, int, Sized] | None:
        """(scope, after, upto, sized): the next claim (`_upto`) of the scope furthest behind. Less than a page is
        left to the walk after the counts, with the open end above the newest id: the counts bound that walk (a
        cursor that never ends)."""
        best: tuple[str, int, int, Sized] | None = None
        for scope, base in self.baselines.items():
            after = self.claimed.get(scope, base["max_id"])
            if best is not None and after >= best[1]:
                continue
            end = self._upto(scope, after)
            if end is not None:
                best = (scope, after, *end)
        if best is not None:
            self.claimed[best[0]] = best[2]
        return best

    def _upto(self, scope: str, after: int) -> tuple[int, Sized] | None:
        """Where the next claim of `scope` above `after` ends, and what sized it (`Sized`); None while none is due.
        A claim costs a call however few records it lists, and the ids are the agreement's: a scope's records, the
        run's own too, may lie any distance apart. So a claim spans `reach` ids, at least a claim's width (`_width`),
        and reaches twice as far after each claim that listed less than half a page (`_walked`): a stretch of N ids
        holding few records costs about log2 N calls, not one a page's width, whether or not the run's records lie
        in it (an answer's ids spread over millions of numbers). Ids known to hold none of the records this process
        created (those below the scope's next one) hold other writers' records only: claimed whole once they are a
        claim's width (`gap`). Below `floor` (the run's earlier processes' records, unknown here) and where none of
        the run's records lies ahead, a claim reaching `reach` or more is due only once it can reach up to the
        newest id."""
        width = self._width(scope)
        reach = max(width, self.reach.get(scope, 0))
        if after < self.floor:
            return (after + reach, "reach") if self.newest - after >= reach else None
        heap = self.ours.get(scope)
        while heap and heap[0][1] <= after:
            heappop(heap)
        if not heap:
            return (self.newest, "reach") if self.newest - after >= reach else None
        if heap[0][0] - 1 - after >= width:
            return heap[0][0] - 1, "gap"
        return (after + reach, "reach" if reach > width else "width") if self.newest - after >= reach else None

    def _width(self, scope: str) -> int:
        """The ids a claim of `scope` spans, where the run's records are, to list about a page: ids are shared by
        every scope (e-conomic numbers the entries of all journals in one sequence), so a scope's ids are as sparse
        as its claims so far found them (at first: as many scopes as the load met); 95 % of that, so a claim seldom
        needs a second page."""
        spanned, found = self.spanned.get(scope, 0), self.found.get(scope, 0)
        per_record = spanned / found if found >= CLAIM_IDS else max(1, len(self.baselines))
        return max(CLAIM_IDS, int(CLAIM_IDS * per_record * 0.95))

    def _walked(self, scope: str, span: int, listed: int, sized: Sized) -> None:
        """A claim of `scope` over `span` ids, sized as `sized` says, listed `listed` records: what the next claims
        are sized by. A gap (ids below the run's next record, claimed whole) says nothing of what lies beyond it.
        Otherwise a claim that listed less than half a page doubles `reach`, and one that listed more leaves the
        next claim to a claim's width (`_width`): the density found by the claims of that width, and by those that
        reached further and listed half a page or more (where the ids are as sparse as that, a width of 1,000 ids
        would list too few to learn it from)."""
        if sized == "gap":
            return
        if sized == "width" or listed * 2 >= CLAIM_IDS:
            self.spanned[scope] = self.spanned.get(scope, 0) + span
            self.found[scope] = self.found.get(scope, 0) + listed
        if listed * 2 < CLAIM_IDS:
            self.reach[scope] = 2 * max(span, self.reach.get(scope, 0))
        else:
            self.reach.pop(scope, None)

    async def follow(self) -> None:
        """Walk behind the load until `finish` and what is left below the newest id is walked: `chains` walks
        (`after_load` more once the load is done), each claiming the next final range."""

        async def chain() -> None:
            while not self.failed:
                # the uploads take the rate slots first (limits.giving_way); once the last is answered none is left
                # to give way to, and a call giving way takes its slot only once it is due, late by the event loop's
                # wake-up: every walked page after the load left 1-9 ms late, and the next was spaced from there
                # (e-conomic at 20/s with 100 ms latency: the walk after the load at 18-19/s)
                giving_way.set(not self._finished)
                moved = self._moved
                claim = self._claim()
                if claim is None:
                    if self._finished:
                        return
                    await moved.wait()
                    continue
                try:
                    scope, after, upto, sized = claim
                    self._walked(scope, upto - after, await self.walked.walk(scope, after, upto), sized)
                except BulkloadError as exc:
                    self.failed = exc
                    self._wake()

        async def after_load() -> None:
            while not self._finished:
                await self._moved.wait()
            for _ in range(self.after_load):
                tg.start_soon(chain)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(after_load)
                for _ in range(self.chains):
                    tg.start_soon(chain)
        finally:
            self.ended.set()

    def left(
        self, scopes: list[str], newest: int, width: int, records: Mapping[str, int]
    ) -> list[tuple[str, int, int | None]]:
        """What the walks behind did not reach, per scope of `scopes` (after its baseline `after`): id ranges up
        to `newest` (the newest id the run created) side by side, `width` at most, the last one open-ended, as many
        as the records the run created in the scope (`records`) and the walks have not listed yet fill pages.
        After `follow`: less than a page below the newest id and the open end, for each scope (all of a scope it
        never met)."""
        out: list[tuple[str, int, int | None]] = []
        for scope in scopes:
            after = self.claimed.get(scope, self.baselines.get(scope, {"max_id": 0})["max_id"])
            rest = records.get(scope, 0) - self.walked.listed.get(scope, 0)
            out += [(scope, lo, hi) for lo, hi in id_ranges(after, max(newest, after), width, rest)]
        return out
