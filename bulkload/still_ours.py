"""What the ids of a run's records hold now, read before a rollback deletes them: an API that lost its data (restored
from a backup, reset) gives the run's ids again to other writers' records, and a DELETE by id would remove those.
A record is the run's only where it holds what the run sent, where the run created it — as reconciliation compares
it (Ledger.lines_changed, ids_reused; a target's own Books.reconcile).

Targets reconciled by walk: the scopes the run wrote into are walked over the run's ids only (from its lowest id to
its highest, cut into ranges of about a page walked side by side, as reconciliation does: one GET a page of the
records in that range, the run's and others' between them, and a round trip more a range), its answers paired again
by what was found (Ledger.pair_by_walk, as reconciliation does), and each id judged by its line check and its group
(Ledger.walked_apart). Targets reconciled by themselves read what they hold their own way (Books.held: HaloPSA lists
each resource, as its reconciliation does).

What a refused call of the run stored of a group it rejected (a server that stores the entries before the first bad
one) the API gave no id for: `refused_stored` walks for it by the rule reconciliation names it by
(reconcile.fill_rejected_found), which cannot tell it from another writer's entry made alike: named, never deleted.
So are the doubles that walk finds (reconcile.doubles): entries of groups the run loaded that it did not create, as a
refused call stores them where the look for what it stored did not find them before the run sent them again."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from functools import partial
from typing import Any

from .as_read import rows_as_read
from .dispatch import Dispatcher
from .ledger import Ledger
from .model import NO_ID, Held
from .reconcile import (
    checks_damaged,
    doubles,
    fill_landed,
    fill_others,
    fill_rejected_found,
    found_aside,
    rejected_found,
    set_aside,
)
from .side_by_side import side_by_side
from .targets.base import Target
from .walks import Walked, id_ranges

log = logging.getLogger(__name__)

#: the entries of groups the run rejected a rollback names one by one (undo.REPORT_LIST)
LISTED = 100


async def read_back(
    target: Target,
    ledger: Ledger,
    dispatcher: Dispatcher,
    files: list[str],
    items: Sequence[tuple[str, int]],
    *,
    counted: Collection[tuple[str, int]] = (),
) -> Held:
    """What `items` ((scope, id) of the run's records, as Books.created_by_run names them) hold now (model.Held).
    Raises what a walk or a listing raises (a failed call, RunStopped, WalkStalled)."""
    if not items:
        return Held({}, frozenset(), {})
    if target.api.reconcile_by == "target":
        wanted = set(items)
        held = await target.books.held(dispatcher, ledger, files, partial(rows_as_read, ledger, target, files))
        return Held(
            {item: why for item, why in held.apart.items() if item in wanted},
            held.absent & wanted,
            {item: why for item, why in held.unread.items() if item in wanted},
        )
    ledger.begin_remote()
    ids = [record_id for _, record_id in items if record_id != NO_ID]  # a row given no id: listed nowhere
    walked = Walked(ledger, target, dispatcher)
    lo = hi = 0
    scopes = sorted(set(ledger.expected()) | set(ledger.baselines()), key=lambda s: (len(s), s))
    if ids:
        # the range cut as reconciliation cuts it (about a page each, walked side by side), closed at the newest id
        lo, hi = min(ids) - 1, max(ids)
        ranges = [(a, hi if b is None else b) for a, b in id_ranges(lo, hi, dispatcher.limits.concurrency, len(ids))]
        await side_by_side(partial(walked.walk, scope, a, b) for scope in scopes for a, b in ranges)
    absent, apart = ledger.walked_apart()
    if apart and ledger.pair_by_walk():  # an answer that named its ids in another order than its lines
        absent, apart = ledger.walked_apart()
    if None in apart.values() and (ours := _held_as_the_input_gives(ledger, target, files)):
        apart = {record_id: group for record_id, group in apart.items() if record_id not in ours}
    label = target.kind_of(0).group_label

    def holds(group: str | None) -> str:
        if group is None:
            return "it holds another line than the run sent"
        return f"it is a line of {label(group)}, which the run's call of that line did not carry"

    gone = [item for item in items if item[1] in absent]
    unproven = [item for item in gone if item in counted and item[1] != NO_ID]
    short = await _listed_short(target, dispatcher, walked, scopes, lo, hi) if unproven else ""
    return Held(
        {item: holds(apart[item[1]]) for item in items if item[1] in apart},
        frozenset(item for item in gone if not short or item not in unproven),
        dict.fromkeys(unproven, short) if short else {},
    )


def _held_as_the_input_gives(ledger: Ledger, target: Target, files: list[str]) -> frozenset[int]:
    """The ids walked_apart takes for another line than the run sent whose check the ledger keeps is damaged while
    the record holds the line as the input gives it (reconcile.checks_damaged: the check made again from the input's
    row): the run's records, which its rollback deletes (before, one was kept as "not the run's record now", and a
    voucher was left half rolled back, tester t70f). Said as a warning: the ledger is damaged."""
    ledger.lines_changed(0)  # what it finds first (ids reused), as reconciliation asks it
    checks_damaged(ledger, target, files)
    n, _ = ledger.lines_damaged(0)
    ours = ledger.damaged_held()
    if n:
        log.warning(
            "the ledger %s is damaged: the check it keeps of %s of its lines is not the line's own, made again from "
            "the input (%s of them held in the API as the input gives them, deleted as the run's); put back a whole "
            "copy of it from a backup before you use it again",
            ledger.path,
            n,
            len(ours),
        )
    return ours


async def _listed_short(
    target: Target, dispatcher: Dispatcher, walked: Walked, scopes: Sequence[str], lo: int, hi: int
) -> str:
    """Why the walk over the ids lo < id <= hi of `scopes` proves no record of the run's absent, or "": a scope whose
    count of that range is more than the walk listed. A listing that leaves records out (one a page boundary skips,
    a read replica behind) does not show that a record of the run's it left out is gone: it may still be in the API
    (before, such a record was named gone, "possibly booked: reverse it in the books", and never deleted)."""
    short = []
    for scope in scopes:
        counted = await target.books.count(dispatcher, scope, hi) - await target.books.count(dispatcher, scope, lo)
        listed = walked.listed.get(scope, 0)
        if counted > listed:
            short.append(f"{target.api.scope_name} {scope}: {counted:,} counted, {listed:,} listed")
    if not short:
        return ""
    return (
        f"the API counts more records with ids from {lo + 1} to {hi} than its listing gave ({'; '.join(short)}): "
        "the listing leaves records out, and one of the run's it does not show is not known to be gone"
    )


async def refused_stored(
    target: Target, ledger: Ledger, dispatcher: Dispatcher, files: list[str], later: Collection[int] = ()
) -> tuple[int, int, list[dict[str, Any]]]:
    """The entries of groups this run rejected that a refused call of it stored (reconciliation's `rejected_found`),
    and the doubles of groups it loaded (reconciliation's `duplicates`: after the rollback's deletes, what is left of
    them the run did not create, such as what a refusal stored that its look did not find): how many of each, and the
    first LISTED of each as the report's `rejected_found` names them (id, scope, group, file, lines; a double with
    `double` true, and no file). Each scope the run wrote into is walked from its baseline (whole where its ids do not
    grow) where a refused call carried a group the run rejected; (0, 0, []) where none did, or for a target reconciled
    by itself; `later`: the ids later runs on record created (reconcile.fill_rejected_found). Raises what a walk
    raises."""
    if target.api.reconcile_by == "target" or not ledger.refused_rejected():
        return 0, 0, []
    baselines = ledger.baselines()
    unordered = ledger.numbered_below(baselines)
    ledger.begin_remote()
    walked = Walked(ledger, target, dispatcher)
    scopes = sorted(set(ledger.expected()) | set(baselines), key=lambda s: (len(s), s))
    after = {scope: 0 if scope in unordered else int(baselines.get(scope, {"max_id": 0})["max_id"]) for scope in scopes}
    await side_by_side(partial(walked.walk, scope, after[scope], None) for scope in scopes)
    ledger.refusals_walked()  # where no reconciliation kept it yet: what the calls stored is listed by now
    set_aside(ledger, "rejected_found", partial(fill_rejected_found, unordered=unordered, later=later))
    n, listed, _, _ = found_aside(ledger, "rejected_found", LISTED)
    set_aside(ledger, "others", fill_others)
    set_aside(ledger, "landed", fill_landed)
    label = target.kind_of(0).group_label
    doubled, at = doubles(ledger, LISTED)
    twice = [{"id": i, "scope": scope, "group": label(grp), "double": True} for i, scope, grp in at]
    return n, doubled, rejected_found(ledger, listed, label, files) + twice
