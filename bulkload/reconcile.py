"""Proof at the end: compare what the ledger says arrived with what the API now holds.

Per scope (e-conomic: journal) it compares the count endpoint with the baseline + what loaded (less what was there
before and is gone since: booked, deleted, not the run's), walks the cursor over what was created since the
baseline, and diffs the ids in SQL against the ids the API gave at create: ids missing remotely, entries of this
run's groups it did not create (doubles: `duplicates`), entries of groups it rejected that a refused call stored
(`rejected_found`: a mismatch), and entries of groups it never sent (another writer's: `others`, held by the API's
figures and left out of the comparison).
Control totals are rows and the sum of amounts per currency in exact minor units, plus a hash total of the
ids; and per group (e-conomic: voucher), every group this run loaded must be there with all of its lines and
the same totals.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any

from msgspec import UNSET

from .as_read import input_checks, rows_as_read
from .dispatch import Dispatcher
from .errors import ConfigError, command_on
from .ledger import Ledger
from .masking import masked, secret_rule
from .model import ANY_CURRENCY, BY_PLACE, ECHOED, LIST_LIMIT, NO_ID, ONE_ID, Reconciled, Totals, held_before
from .money import iso_code, money
from .pipeline import listed
from .recount import RECOUNT, Recount, lagging
from .rolled_back import Left, left_of_target, what_is_left
from .side_by_side import results_side_by_side, side_by_side
from .stages import RECONCILING, Stages
from .targets.base import Target
from .walks import WALK_SLACK, Behind, Walked, id_ranges

log = logging.getLogger(__name__)


def _totals_view(totals: Mapping[str, Mapping[str, Sequence[int | None]]], target: Target) -> dict[str, dict[str, Any]]:
    """Per scope and currency: rows, and the sum and debit shown as amounts (`amount`, `debit`: "1250.00"), or as
    the integers of minor units they are (`minor_units`, `debit_minor_units`) where the target cannot tell the
    currency's minor unit (Api.iso_units_only, for a code that is no ISO 4217 code): 2 decimals would be a guess.
    A figure not known (None: an answer did not say it) stays None."""

    def figures(n: int | None, c: int | None, d: int | None, cur: str) -> dict[str, Any]:
        if not target.api.iso_units_only or iso_code(cur) is not None:
            return {"rows": n, "amount": _money(c, cur), "debit": _money(d, cur)}
        return {"rows": n, "minor_units": c, "debit_minor_units": d}

    return {
        scope: {cur: figures(n, c, d, cur) for cur, (n, c, d) in sorted(per.items())}
        for scope, per in sorted(totals.items(), key=lambda kv: kv[0])
    }


def _money(units: int | None, currency: str) -> str | None:
    return None if units is None else money(units, currency)


async def reconcile(
    ledger: Ledger,
    target: Target,
    dispatcher: Dispatcher,
    files: list[str],
    stages: Stages | None = None,
    behind: Behind | None = None,
    recount: Recount = RECOUNT,
    settle_s: float = 0.0,
    later: Collection[int] = (),
) -> Reconciled:
    """Return the report's `reconcile` section; `ok` is True only when everything matches. `stages`: where a cursor
    walk counts the records it walked, of those the counts say were created since the baseline. `behind`: the walk
    that ran behind the load, `recount`: how a count not what the walks listed is read again, and `settle_s`: the
    seconds left of the settle delay since the run's last write (a target reconciling itself is asked again once they
    have passed where it named records of the run missing; see by_walk for the others). `later`: the ids of the
    records later runs on record into the run's place created (alongside.written_since): theirs, never stored by a
    refused call of this run (fill_rejected_found)."""
    log.info("reconciling: by %s", target.api.reconcile_by)
    if target.api.reconcile_by == "responses":
        rows = partial(rows_as_read, ledger, target, files)
        read_back = partial(target.books.read_back, dispatcher, ledger, files, rows)
        rec = await read_back(by_responses(ledger, target, files))
        if settle_s > 0 and rec.differences:
            # what is read back may show a write late (a read replica): read again once the settle delay since the
            # run's last write has passed, and only what still differs is a mismatch
            log.warning(
                "%s fields read back differ from what the file set: read again in %.1f s (the settle delay, "
                "--settle-s)",
                rec.differences_count,
                settle_s,
            )
            await recount.sleep(settle_s)
            rec = await read_back(by_responses(ledger, target, files))
        return rec
    if target.api.reconcile_by == "target":
        books = partial(target.books.reconcile, dispatcher, ledger, files, partial(rows_as_read, ledger, target, files))
        rec = await books()
        # a count below what the run created or what was listed (the target's scope `listed`, no `remote`)
        lagging = [name for name, scope in rec.scopes.items() if "listed" in scope]
        if settle_s > 0 and (rec.missing_count or lagging):
            # a listing that shows new records late (a read replica, its reads by id too), or counts them late:
            # listed again once the settle delay since the run's last write has passed, only what is still absent
            # is missing (tester t69b: a record_count 3 s behind its listing ended a load exit 3, "could not be
            # listed whole", though every record was there and counted a moment later)
            log.warning(  # a wait of up to --settle-s (120 s at HaloPSA): said, or it looks hung
                "%s: listed again in %.1f s (the settle delay, --settle-s)",
                f"{rec.missing_count} records of the run not listed"
                if rec.missing_count
                else f"the count of {', '.join(lagging)} is below the records listed or created (it lags)",
                settle_s,
            )
            await recount.sleep(settle_s)
            rec = await books()
        return _rolled_back_said(_differences_shown(rec, target, len(files)), ledger)
    return await by_walk(ledger, target, dispatcher, files, stages or Stages(), behind, recount, settle_s, later)


def _differences_shown(rec: Reconciled, target: Target, n_files: int) -> Reconciled:
    """`rec` with what a secret key inside a field's nested value holds as ``***`` in its differences' sent and
    found values (the report and the summary show them); a difference of a secret field itself is never listed."""
    if not rec.differences:
        return rec
    rule = secret_rule({name for i in range(n_files) for name in target.kind_of(i).secret_fields})
    rec.differences = [
        {**item, "sent": masked(item.get("sent"), rule), "found": masked(item.get("found"), rule)}
        for item in rec.differences
    ]
    return rec


def _rolled_back_said(rec: Reconciled, ledger: Ledger) -> Reconciled:
    """`rec` (a target's own) with what a rollback took of the run, which the target counted per scope (`rolled_back`:
    model.rolled_out), said as by_walk says it: the report's `rolled_back` and the note first."""
    left = left_of_target(ledger, sum(c.get("rolled_back", 0) for c in rec.scopes.values()))
    if left is not None:
        rec.rolled_back = left.figures()
        said = rolled_back_note(left, ledger.path.absolute(), rec.in_doubt_found_count)
        rec.note = "; ".join(filter(None, [said, rec.note or ""]))
    return rec


#: control totals as reconciliation by responses adds them up: scope -> currency -> [rows, sum, debits], None where
#: an answer did not say the figure
Said = dict[str, dict[str, list[int | None]]]


def _add(into: Said, scope: str, currency: str, figures: list[int] | list[int | None]) -> None:
    """`figures` added to `into`'s scope and currency (3 figures: those missing, and any None, make it None)."""
    acc = into.setdefault(scope, {}).setdefault(currency, [0, 0, 0])
    for i in range(3):
        value = figures[i] if i < len(figures) else None
        have = acc[i]
        acc[i] = None if have is None or value is None else have + value


def _lines_of_one_id(ids: Mapping[int, int], lines: Sequence[int], file: str) -> str:
    """The lines of a call (`lines`, of `file`) that were answered with the first id given to more than one of them
    (`ids`: line -> id), as "lines 2, 3 and 4 of invoices.csv": the lines of one record, not the call's others."""
    by_id: dict[int, list[int]] = {}
    for line in lines:
        if (record_id := ids.get(line, NO_ID)) != NO_ID:
            by_id.setdefault(record_id, []).append(line)
    shared = next((of_id for of_id in by_id.values() if len(of_id) > 1), list(lines))
    return f"{listed('line', shared)} of {file}"


def by_responses(ledger: Ledger, target: Target, files: list[str]) -> Reconciled:
    """For an API that cannot be read back: what each call sent against what its answer said (its totals, and the
    fields it echoes: model.ECHOED), and the rows against the records they made, keyed by (kind, id) — a draft and
    an entry may have the same Id, merged lines share one entry, two rows may patch one cost. What the answers did
    not say (no ids, no amounts, a field left out, an empty 2xx) is counted and named as not checked, never taken
    for a mismatch: the expected figures are what every call sent, the API's are null where an answer did not say
    them (`remote_count` where one gave no count, a currency's figure where one gave none of it)."""
    expected: Said = {}  # what every call carried out sent
    remote: Said = {}  # what their answers said
    sent_count = answered_count = 0
    count_told = True  # every answer said how many records it stored
    no_count = no_amounts = no_fields = 0  # rows of calls whose answers gave none, or left out a field sent
    left_out: set[str] = set()  # the fields those answers left out
    by_place = 0  # rows given the ids at their places in an answer whose records named no key (model.BY_PLACE)
    one_id = [0, 0]  # rows answered with one id with others of their record, and those records (model.ONE_ID)
    one_id_at = ""  # the lines of the first such record: "lines 2, 3 and 4 of invoices.csv"
    differing: list[dict[str, Any]] = []
    n_differing = 0
    for seq, part, file_idx, lines, sent, said in ledger.done_calls():
        n_rows = len(lines)
        for scope, per in sent.items():
            for currency, figures in per.items():
                _add(expected, scope, currency, figures)
                sent_count += figures[0]
        if said is None:
            no_count += n_rows
            no_amounts += n_rows
            count_told = False
            for scope, per in sent.items():
                for currency in per:
                    _add(remote, scope, currency, [])
            continue
        echoes = said.pop(ECHOED, {})
        by_place += sum(figures[0] for figures in said.pop(BY_PLACE, {}).values())
        for shared_rows, records in said.pop(ONE_ID, {}).values():
            one_id = [one_id[0] + shared_rows, one_id[1] + records]
            one_id_at = one_id_at or _lines_of_one_id(ledger.ids_of_lines(file_idx, lines), lines, files[file_idx])
        fields = sorted(name for name, figures in echoes.items() if figures == [0])
        if unsaid := [name for name, figures in echoes.items() if not figures]:
            no_fields += n_rows
            left_out.update(unsaid)
        same, counted_only = not fields, False
        for scope in sent.keys() | said.keys():
            mine_per, theirs_per = sent.get(scope, {}), said.get(scope, {})
            if ANY_CURRENCY in theirs_per:  # a count of the scope, in no currency: none of its currencies' own
                (told,) = theirs_per[ANY_CURRENCY]
                same = same and told == sum(figures[0] for figures in mine_per.values())
                answered_count += told
                counted_only = True
                for currency in mine_per:
                    _add(remote, scope, currency, [])
                continue
            for currency in mine_per.keys() | theirs_per.keys():
                mine = mine_per.get(currency, [0, 0, 0])
                theirs = theirs_per.get(currency, [0, 0, 0])
                same = same and mine[: len(theirs)] == theirs
                answered_count += theirs[0]
                counted_only = counted_only or len(theirs) < len(mine)
                _add(expected, scope, currency, [0, 0, 0])  # a currency only the answer names: none of it was sent
                _add(remote, scope, currency, theirs)
        # a call whose answer said another value than was sent (an amount no number of cents) is named with it in
        # `calls_differing`, never also counted as not checked
        no_amounts += n_rows if counted_only and not fields else 0
        if not same:
            n_differing += 1
            if len(differing) < LIST_LIMIT:
                differing.append(
                    {
                        "call": f"{seq}{'.' + part if part else ''}",
                        "file": files[file_idx],
                        "lines": f"{lines[0]}-{lines[-1]}",
                        "sent": sent,
                        "answered": said,
                    }
                    | ({"fields_differing": fields} if fields else {})
                )
    kinds, shared_ids = ledger.rows_by_kind()
    # ids given to rows of more than one call, in a kind whose calls each create their own records
    shared = [{"kind": kind, "id": record_id} for kind, record_id in shared_ids if kind not in target.api.kinds_updated]
    by_id = sum(k["rows"] - k["rows_without_id"] for k in kinds.values()) - by_place
    by_2xx = sum(k["rows_without_id"] for k in kinds.values())
    unrecorded = sum(k.pop("rows_unrecorded") for k in kinds.values())
    if target.books.creates_nothing:  # a run that changed records that were there (Visma Core's costs)
        # what of them the API can be read back for, Books.read_back adds: never said to be unreadable
        note = (
            "the run created nothing, it changed records that were there: this compares what each call sent with "
            "what the API answered, and counts the rows against the records they changed (by kind and id)"
        )
    else:
        note = (
            f"{target.name} offers no way to read back what was created: this compares what each call sent with "
            "what the API answered, and counts the rows against the records they made (by kind and id)"
        )
    if by_2xx:
        note += (
            f"; {by_2xx:,} rows were confirmed by a 2xx answer that named no ids (or none it could tell whose): "
            "bulkload could not check which record each became"
        )
    if by_place:
        note += (
            f"; {by_place:,} rows were given the ids of the records at their places in the answer, which named no "
            "key: which record each became is not proven"
        )
    if one_id[0]:
        of_records = f"{one_id[1]:,} record{'s' if one_id[1] > 1 else ''}"
        note += (
            f"; {one_id[0]:,} rows, the lines of {of_records}, were answered with one id a record (the first: "
            f"{one_id_at}): whether {target.name} holds every row of each, or only one (an upload keyed by the "
            "record's key, each row replacing the one before), no answer can tell: check those records' amounts in "
            f"{target.name}"
        )
    if no_count:
        note += (
            f"; for {no_count:,} rows the answer said nothing more than 2xx: bulkload could not check their "
            "count or amounts"
        )
    if no_amounts > no_count:
        note += (
            f"; for {no_amounts - no_count:,} rows the answer gave a count but no amounts (or none it could tell "
            "the currency of): bulkload could not check their amounts"
        )
    if no_fields:
        *first, last = sorted(left_out)
        named = f"{', '.join(first)} and {last}" if first else last
        rows, them = "row" if no_fields == 1 else "rows", "them" if first else "it"
        note += (
            f"; for {no_fields:,} {rows} the answer left out {named}, which it echoes of what was sent: bulkload "
            f"could not check {them}"
        )
    return Reconciled(
        ok=n_differing == 0 and not shared and unrecorded == 0,
        remote_read=False,
        note=note,
        expected_count=sent_count,
        remote_count=answered_count if count_told else None,
        ids_returned=sum(k["records"] for k in kinds.values()),
        rows_confirmed_by_id=by_id,
        rows_confirmed_by_2xx=by_2xx,
        rows_ids_by_place=by_place,
        rows_not_checked={"count": no_count, "amounts": no_amounts, "fields": no_fields, "lines_one_id": one_id[0]},
        kinds=kinds,
        calls_differing=differing,
        calls_differing_count=n_differing,
        ids_shared=shared[:LIST_LIMIT],
        ids_shared_count=len(shared),
        rows_unrecorded=unrecorded,
        expected_totals={"per_scope": _totals_view(expected, target)},
        remote_totals={"per_scope": _totals_view(remote, target)},
        scopes={},
        scope_name=target.api.scope_name,
    )


def _walked_behind(ledger: str | os.PathLike[str]) -> str:
    """What a reconciliation walked behind the load proves, and what it cannot see (docs/reconciliation.md, The walk
    behind the load): an edit made in place (seed 002: PUT /draft-entries) after the walk passed the record keeps
    the counts as they were. The command names `ledger` as a shell reads it back (`command_on`)."""
    return (
        "walked behind the load: each record is proved as it was when the walk listed it, while the load went on; an "
        f"edit another writer made in place after that is not seen here. `{command_on('reconcile', ledger)}` proves "
        "them all as they are now"
    )


async def by_walk(
    ledger: Ledger,
    target: Target,
    dispatcher: Dispatcher,
    files: list[str],
    stages: Stages,
    behind: Behind | None = None,
    recount: Recount = RECOUNT,
    settle_s: float = 0.0,
    later: Collection[int] = (),
) -> Reconciled:
    """Counts and a cursor walk of what was created since the baseline, diffed against the ledger. `behind`: the
    walk that ran while the load went on; what it listed stands where the counts agree, and only the rest is walked
    (see walks.py); otherwise everything is walked now. A count that is not what the walks listed is read again as
    `recount` says (recount.py): one below it before a walk behind is walked again; where the walks did not list
    records the run created that a count above what they listed counts, everything is walked again after the same
    waits (Recount.until_listed: a listing that shows new records late). Where the walks did not list a
    record the run created and `settle_s` (what is left of the settle delay since the run's last write) is above 0,
    everything is counted and walked again once it has passed (`recount`'s sleep): a listing that shows new records
    late (a read replica). Raises what a walk raises (WalkStalled, a failed call)."""
    before_run = ledger.baselines()
    # scopes whose ids do not grow (the run was given ids at or below their newest of before the run): what is
    # above the baseline is not what the run created, so they are walked whole, from no baseline (`out_of_order`)
    unordered = ledger.numbered_below(before_run)
    baselines = {**before_run, **{scope: {"count": 0, "max_id": 0} for scope in unordered}}
    fresh = behind is None or behind.failed is not None or bool(unordered)
    # only the ids go to the ledger (for the diff); totals are summed as the pages arrive
    newest_created = ledger.begin_remote(fresh=fresh)
    expected = ledger.expected()
    scopes = sorted(set(expected) | set(baselines), key=lambda s: (len(s), s))
    counts: dict[str, dict[str, int]] = {}
    width = dispatcher.limits.concurrency

    loaded = {scope: sum(figures[0] for figures in per.values()) for scope, per in expected.items()}
    # per scope, the records its walk lists, for the progress display: the run's, until the counts say how many are
    # above the baseline (others' created since, too: the display showed "34,849/2,983 records", 100 %)
    to_walk = dict(loaded)

    async def count(scope: str) -> None:
        base = baselines.get(scope, {"count": 0, "max_id": 0})
        reads = {"remote": partial(target.books.count, dispatcher, scope)}
        if held_before(base):  # and what is left of what was there before (ids up to its newest)
            reads["there"] = partial(target.books.count, dispatcher, scope, base["max_id"])
        read = await results_side_by_side(reads)
        there = read.get("there", base["count"])
        # more there now than the baseline counted, below its newest id (where nothing lands later: ids only grow):
        # its count lagged behind what was listed then, and what is there is what was there before
        before = max(base["count"], there)
        if scope in before_run and scope not in unordered and there > base["count"]:
            ledger.counted_before(scope, there)  # a later reconciliation counts those gone since from these
        counts[scope] = {
            "before": before,
            "loaded": loaded.get(scope, 0),
            "expected": before + loaded.get(scope, 0),
            "remote": read["remote"],
            # booked or deleted since: not this run's to find
            "before_gone": before - there,
        }
        to_walk[scope] = max(loaded.get(scope, 0), read["remote"] - there)
        stages.total = sum(to_walk.values())
        bound(scope)

    def bound(scope: str) -> None:
        # what the count endpoint says the scope holds bounds the walk: a cursor that never ends stops here
        c = counts[scope]
        walked.most[scope] = (
            max(c["remote"], c["expected"]) + WALK_SLACK,
            f"the API counts {c['remote']:,} (and this run expected {c['expected']:,})",
        )

    def walks(ranges: list[tuple[str, int, int | None]]) -> list[Callable[[], Awaitable[object]]]:
        return [partial(walked.walk, scope, lo, hi) for scope, lo, hi in ranges]

    def from_baselines() -> list[tuple[str, int, int | None]]:
        return [
            (scope, lo, hi)
            for scope in scopes
            for lo, hi in id_ranges(
                baselines.get(scope, {"max_id": 0})["max_id"], newest_created, width, loaded.get(scope, 0)
            )
        ]

    # A cursor walk is a chain of round trips, one page after the other. Walking disjoint id ranges side by
    # side (every scope, and within a scope up to `concurrency` ranges of what this run created, about a page
    # each) turns the chain into `concurrency` chains, so the walk runs at the API's pace, not at one page per
    # round trip. The counts go with the first pages: they bound the walks from the page after they are known
    # (a cursor that never ends is stopped a page later), and are compared with what was listed once all is.
    stages.enter(RECONCILING, sum(loaded.values()), "records")
    if behind is None or fresh:
        walked = Walked(ledger, target, dispatcher, stages)
        ranges = from_baselines()
    else:
        walked = behind.walked
        stages.advance(sum(walked.listed.values()))  # walked behind the load already
        walked.stages = stages
        ranges = behind.left(scopes, newest_created, width, loaded)
    await side_by_side([*(partial(count, scope) for scope in scopes), *walks(ranges)])
    walked_behind = not fresh  # what the walk lists is each record as it was when the walk passed it

    async def walk_again(counting: bool = False) -> None:
        """Everything walked again from the baselines (and counted again where `counting`), the walk before
        forgotten."""
        nonlocal walked, walked_behind
        walked_behind = False
        ledger.begin_remote(fresh=True)
        walked = Walked(ledger, target, dispatcher, stages)
        for scope in scopes:
            bound(scope)
        await side_by_side([*(partial(count, scope) for scope in scopes if counting), *walks(from_baselines())])

    def not_listed() -> bool:
        """Records of the run the walks did not list where the API counts more than they listed."""
        return bool(walked.short_of(counts)) and ledger.missing_remotely(0)[0] > 0

    # an eventually consistent count may not count yet what the walks listed: read again, before it sends a walk
    # behind the load to walk everything again, or is taken for a mismatch
    lagged = await recount.until_counted(partial(walked.counted_short, counts), count)
    if not fresh and walked.short_of(counts):  # a record landed where the walk behind had passed: walk it all now
        await walk_again()
    # records of the run counted but not listed: a listing that shows new records late (a read replica behind the
    # primary, a tester's server t52d: exit 3, "booked or deleted since"), walked again after growing waits
    lagged = await recount.until_listed(not_listed, partial(walk_again, counting=True), lagged)
    # a count above what the walks listed, they finding nothing more, may lag as well (a record taken out that it
    # still counts): read again within what is left of the same waits
    lagged = await recount.until_counted(partial(walked.short_of, counts), count, lagged)
    if settle_s > 0 and ledger.missing_remotely(0)[0]:
        log.warning(  # a wait of up to --settle-s: said, or it looks hung
            "records of the run not listed: counted and walked again in %.1f s (the settle delay, --settle-s)", settle_s
        )
        await recount.sleep(settle_s)
        await walk_again(counting=True)
        lagged = await recount.until_counted(partial(walked.short_of, counts), count, lagged)
    if lagged.reads:
        log.info("counts read again (%s): %s", "; ".join(f"{s}: {n}" for s, n in lagged.reads.items()), lagged.short)
    advice = lagging(lagged, counts, walked.listed, target.api.scope_name, ledger.path.absolute())
    left = what_is_left(ledger, target, files)
    if left is not None:  # what a rollback took is not expected: what is left of the run is (missing or not)
        expected = left.expected
        for scope, c in counts.items():
            c["rolled_back"] = c["loaded"] - left.rows.get(scope, 0)
    ledger.refusals_walked(whole=not walked.short_of(counts))
    # each of the four sets of walked records apart from the run's (rejected_found, others, landed, doubles) is of
    # records it did not create: where the walks listed none, one pass says so, and none of them is looked for
    apart = not ledger.listed_only_created()
    # of this run's rejected groups first: `others` are of groups it never sent
    stray = set_aside(ledger, "rejected_found", partial(fill_rejected_found, unordered=unordered, later=later), apart)
    remote, foreign, in_doubt = (
        walked.remote,
        set_aside(ledger, "others", fill_others, apart),
        set_aside(ledger, "landed", fill_landed, apart),
    )
    counts = {scope: counts[scope] for scope in scopes}
    missing_n, missing_at = ledger.missing_remotely(LIST_LIMIT)
    missing = [{"id": i, "file": files[f], "line": line} for i, f, line in missing_at]
    others_n, others_at, others_id_sum, others_per_scope = found_aside(ledger, "others", LIST_LIMIT)
    landed_n, landed_at, landed_id_sum, landed_per_scope = found_aside(ledger, "landed", LIST_LIMIT)
    stray_n, stray_at, stray_id_sum, stray_per_scope = found_aside(ledger, "rejected_found", LIST_LIMIT)
    label = target.kind_of(0).group_label
    others = [{"id": i, "scope": s, "group": label(g)} for i, s, g in others_at]
    for scope, figures in counts.items():
        figures["others"] = others_per_scope.get(scope, 0)
        figures["in_doubt"] = landed_per_scope.get(scope, 0)
        if stray_per_scope.get(scope):
            figures["rejected_found"] = stray_per_scope[scope]
    others_n -= out_of_order(counts, unordered, before_run)
    resent_n = resent(ledger, unordered) if left is not None else 0
    rejected_since_n = rejected_since(ledger, unordered)
    rejected_left_n = rejected_left(ledger, unordered) if rejected_since_n else None
    others = [item for item in others if item["scope"] not in unordered]
    extra_n, extra_at = doubles(ledger, LIST_LIMIT) if apart else (0, [])
    extra = [{"id": i, "scope": s, "group": label(grp)} for i, s, grp in extra_at]
    id_sum = ledger.created_id_sum()
    differing_n, differing = group_differences(ledger, target)
    changed_n, changed_at = ledger.lines_changed(LIST_LIMIT)
    # an answer that named its ids in another order than the call's lines (none is promised) gives lines their
    # neighbours' ids: paired again by what the walk found, the books hold what was sent
    reordered = ledger.pair_by_walk() if changed_n else 0
    unread = checks_damaged(ledger, target, files) if changed_n else ""
    if reordered or changed_n:  # not those whose line the API holds as the input gives it: their ledger is damaged
        changed_n, changed_at = ledger.lines_changed(LIST_LIMIT)
    changed = [{"id": i, "file": files[f], "line": line} for i, f, line in changed_at]
    damaged_n, damaged_at = ledger.lines_damaged(LIST_LIMIT)
    damaged = [{"id": i, "file": files[f], "line": line, "api_holds": held} for i, f, line, held in damaged_at]
    reused_n, reused_at = ledger.ids_reused(LIST_LIMIT)
    expected_count = sum(c["expected"] for c in counts.values())
    remote_count = sum(c["remote"] for c in counts.values())
    exp_view = _totals_view(expected, target)
    rem_view = _totals_view({scope: per for scope, per in remote.items() if per}, target)
    ours = _without(_without(_without(remote, foreign), in_doubt), stray)
    ours_view = _totals_view({scope: per for scope, per in ours.items() if per}, target)
    before_gone = sum(c["before_gone"] for c in counts.values())
    rolled = sum(c.get("rolled_back", 0) for c in counts.values())
    ok = (
        expected_count + others_n + landed_n + stray_n == remote_count + before_gone + rolled
        and exp_view == ours_view
        and missing_n == 0
        and extra_n == 0
        and stray_n == 0
        and walked.walked_twice == 0
        and id_sum + others_id_sum + landed_id_sum + stray_id_sum == walked.id_sum
        and differing_n == 0
        and changed_n == 0
        and damaged_n == 0
        and reused_n == 0
        and walked.fractions == 0
    )
    notes = [
        rolled_back_note(left, ledger.path.absolute(), landed_n) if left else "",
        gone_before(counts, target.api.scope_name),
        gone_of_ours(missing_n, target.api.scope_name),
        numbered_out_of_order(counts, unordered, target.api.scope_name),
        advice if not ok else "",
        unread,
        _walked_behind(ledger.path.absolute()) if walked_behind and ok else "",
    ]
    return Reconciled(
        ok=ok,
        remote_read=True,
        note="; ".join(filter(None, notes)) or UNSET,
        expected_count=expected_count,
        remote_count=remote_count,
        expected_totals={"per_scope": exp_view, "id_sum": id_sum},
        remote_totals={"per_scope": rem_view, "id_sum": walked.id_sum},
        missing=missing,
        missing_count=missing_n,
        duplicates=extra,
        duplicates_count=extra_n,
        others=others,
        others_count=others_n,
        others_resent_count=resent_n if resent_n else UNSET,
        others_rejected_count=rejected_since_n if rejected_since_n else UNSET,
        rejected_left_count=UNSET if rejected_left_n is None else rejected_left_n,
        others_totals={
            "per_scope": _totals_view({s: per for s, per in foreign.items() if s not in unordered}, target),
            "id_sum": others_id_sum,
        },
        in_doubt_found=[{"id": i, "scope": s, "group": label(g)} for i, s, g in landed_at],
        in_doubt_found_count=landed_n,
        rejected_found=rejected_found(ledger, stray_at, label, files),
        rejected_found_count=stray_n,
        before_gone_count=before_gone,
        rolled_back=left.figures() if left else UNSET,
        walk_repeated_ids=walked.walked_twice,
        groups_differing=differing,
        groups_differing_count=differing_n,
        lines_changed=changed,
        lines_changed_count=changed_n,
        lines_damaged=damaged if damaged_n else UNSET,
        lines_damaged_count=damaged_n if damaged_n else UNSET,
        ids_reused=[{"id": i, "file": files[f], "line": line, "holds": label(g)} for i, f, line, g in reused_at],
        ids_reused_count=reused_n,
        answers_reordered=reordered,
        amounts_with_more_decimals=walked.fractions,
        scopes=counts,
        scope_name=target.api.scope_name,
    )


def checks_damaged(ledger: Ledger, target: Target, files: list[str]) -> str:
    """Of the lines whose walked record holds another line than the ledger's check of it says the run sent
    (Ledger.checks_changed), mark those whose kept check is not the one the input's own row makes (as_read.
    input_checks): the ledger is damaged there (a byte of it changed), and the API changed only where it holds
    neither (Ledger.mark_damaged). Before, each was said "changed in the API since it was loaded". A note where the
    input cannot be read as the run read it (changed since, gone): which it is cannot be told then, and those lines
    stay changed in the API; "" otherwise."""
    changed = list(ledger.checks_changed())
    wanted: dict[int, list[int]] = {}
    for file_idx, line, *_ in changed:
        wanted.setdefault(file_idx, []).append(line)
    try:
        own = input_checks(ledger, target, files, wanted)
    except ConfigError as exc:
        return (
            "whether the lines said changed in the API are instead damaged in the ledger cannot be told without "
            f"the input as the run read it: {exc}"
        )
    ledger.mark_damaged(
        (file_idx, line, own[file_idx, line] in (walked, also))
        for file_idx, line, _, kept, walked, also in changed
        if (file_idx, line) in own and own[file_idx, line] != kept
    )
    return ""


def rolled_back_note(left: Left, ledger: str | os.PathLike[str], landed: int = 0) -> str:
    """What the note says of a run a rollback took records of, or is taking (`left`), the rollback of the ledger at
    `ledger`; `landed`: the records of its calls in doubt the API holds (reconciliation's `in_doubt_found_count`),
    which the rollback leaves where a look found them (before, the note said "nothing of it is left" beside them:
    tester t49d)."""
    finish = f"`{command_on('rollback', ledger)}` finishes the rollback"
    if not left.records:  # it stopped before it removed anything
        return (
            f"the run is being rolled back (the rollback stopped before it removed any of its {left.left:,} entries): "
            f"all {left.left:,} are left, compared here; {finish}"
        )
    said = (
        f"the run was rolled back{' in part (the rollback stopped)' if left.in_part else ''}: "
        f"{left.records:,} of its {left.records + left.left:,} entries are removed (rolled back, not missing), "
    )
    if left.left:
        said += f"{left.left:,} left, compared here"
    elif landed:  # the records of its calls in doubt a rollback's look found are not the ledger's, and are there
        said += f"nothing of it the ledger records is left, but the {landed:,} records of its calls in doubt (below)"
    else:
        said += "nothing of it is left"
    if left.unchecked:  # the input cannot say what those calls' lines sent: their totals are the walks', said so
        said += (
            "; the control totals of what is left of the calls it rolled back in part are not checked (taken as the "
            f"API holds them; each of their entries is still checked by its id and its line): {left.unchecked}"
        )
    if left.in_part:
        said += f"; {finish}"
    return said


def out_of_order(counts: dict[str, dict[str, int]], unordered: set[str], before_run: Mapping[str, Any]) -> int:
    """Give each scope of `unordered` (walked whole: its ids do not grow) in `counts` the figures of what was there
    before the run (`before_run[scope]["count"]`, the baseline's count) against what the walk found of others
    (`others`: every record listed that is neither the run's nor of its groups, there before or added since: they
    cannot be told apart by id): only what is more than there was is counted added by others, only what is less
    gone since. Returns how many records that takes out of `others` in all."""
    taken = 0
    for scope in unordered:
        c, before = counts[scope], int(before_run[scope]["count"])
        not_ours = c["others"]
        c.update(
            before=before,
            expected=before + c["loaded"],
            others=max(0, not_ours - before),
            before_gone=max(0, before - not_ours),
        )
        taken += not_ours - c["others"]
    return taken


def numbered_out_of_order(counts: dict[str, dict[str, int]], unordered: set[str], scope_name: str) -> str:
    """What the note says of the scopes walked whole (`unordered`, `counts` as `out_of_order` left them); "" for
    none."""
    if not unordered:
        return ""
    where = ", ".join(
        f"{scope_name} {scope}: {counts[scope]['before'] - counts[scope]['before_gone'] + counts[scope]['others']:,} "
        f"not this run's, {counts[scope]['before']:,} there before"
        for scope in sorted(unordered, key=lambda s: (len(s), s))
    )
    return (
        "the API numbers entries out of order (this run's were given numbers at or below the newest there before "
        "it; seed 002 promises entry numbers only to be unique): each such "
        f"{scope_name} was walked whole and the run's entries told by the numbers they were given; those there "
        f"before the run cannot be told from those others added since, so only the difference is counted as added "
        f"or gone ({where})"
    )


def gone_before(counts: dict[str, dict[str, int]], scope_name: str) -> str:
    """What the note says of the records there before the run that are gone since (`counts[scope]["before_gone"]`):
    not the run's, no mismatch; "" where none is."""
    gone = {scope: c["before_gone"] for scope, c in counts.items() if c["before_gone"]}
    if not gone:
        return ""
    n = sum(gone.values())
    where = ", ".join(f"{scope_name} {scope}: {k:,}" for scope, k in gone.items())
    return (
        f"{n:,} {'entry' if n == 1 else 'entries'} there before the run {'is' if n == 1 else 'are'} gone (booked or "
        f"deleted): not this run's ({where}); left out of the comparison, not a mismatch"
    )


def gone_of_ours(missing_n: int, scope_name: str) -> str:
    """What the note says of the run's own records that are gone (`missing`): a mismatch, and what it may mean for
    the books; "" where none is. A reconciliation run again after a bookkeeper booked the run's drafts finds them
    gone (booking takes drafts out of the journal) and names every one missing; before, it said nothing of why. Nor
    did it say that an API whose count and listing both lag behind its writes (a read replica: neither shows them
    yet) cannot be told from that (tester t70e: 60 entries created 2 s before named "booked or deleted since")."""
    if not missing_n:
        return ""
    these = "entry" if missing_n == 1 else "entries"
    return (
        f"{missing_n:,} {these} this run created {'is' if missing_n == 1 else 'are'} no longer in the {scope_name}s "
        f"(missing): booked or deleted since, or taken out another way; or not shown yet, where the API's count and "
        "listing both lag behind its writes (a read replica), which cannot be told from that: `bulkload reconcile` "
        "in a while tells, and --settle-s S waits that long for them in a run. Reconciliation reads what the API "
        "holds now, so an entry booked since counts missing: where they were booked, check them in the books, and do "
        "not load them again"
    )


#: the records the walks listed of other writers: not created by this run, of a group this run neither sent (one not
#: sent yet was not; one the API refused, which the run rejected, is `rejected_found`'s where the refusal may have
#: stored it) nor left to an earlier run's call in doubt
#: (a group key of ours found again is a double, `duplicates`), or of a group a rollback took out whole numbered above
#: the newest record the run created (made after all of the run's: rolled_back.py); a record of no group cannot be
#: told apart. One statement after the walks and what_is_left, when the ledger's index of created ids is built
#: (Ledger.begin_remote).
_OTHERS = (
    "INSERT INTO others SELECT r.id FROM remote r WHERE r.grp != '' "
    "AND NOT EXISTS (SELECT 1 FROM created c WHERE c.id = r.id) "
    "AND NOT EXISTS (SELECT 1 FROM rejected_found s WHERE s.id = r.id) "
    "AND ((NOT EXISTS (SELECT 1 FROM groups g JOIN chunks k ON k.seq = g.seq AND k.part = g.part "
    "WHERE g.key = r.grp AND k.state IN ('done', 'sending', 'in_doubt')) "
    "AND NOT EXISTS (SELECT 1 FROM skip_groups s WHERE s.key = r.grp AND s.bucket = 'in_doubt')) "
    "OR (r.id > (SELECT MAX(id) FROM created) AND EXISTS (SELECT 1 FROM rolled_groups w WHERE w.key = r.grp)))"
)


#: the records the walks listed of the groups this run rejected after the API refused a call that carried them (its
#: rows rejected; the group's last call `rejected`, or `split` apart), not created by it: those a whole walk listed
#: once that call was answered (refused_listed: what it stored was stored by then; one listed only later was written
#: after, a later run of the fixed rejects file's, another writer's, whatever the numbers), or, where no such walk is
#: kept for the call (a ledger made before it, walks not whole), those numbered up to the newest id the walks listed
#: then (refused_walked), or anywhere in a scope whose ids do not grow ({unordered}: a number tells nothing there).
#: Seed 002 never says a refused call stores nothing: a server that stores the entries before the first bad one
#: leaves part of a group the run rejected in the books
_REJECTED_FOUND = (
    "INSERT INTO rejected_found SELECT r.id FROM remote r JOIN groups g ON g.key = r.grp "
    "JOIN chunks c ON c.seq = g.seq AND c.part = g.part JOIN refused_walked w ON w.seq = g.seq AND w.part = g.part "
    "WHERE c.state IN ('rejected', 'split') AND NOT EXISTS (SELECT 1 FROM created x WHERE x.id = r.id) "
    "AND r.grp IN (SELECT grp FROM rows WHERE bucket = 'rejected') AND (r.id <= w.upto{unordered}) "
    "AND (NOT EXISTS (SELECT 1 FROM refused_listed l WHERE l.seq = g.seq AND l.part = g.part AND l.id = 0) "
    "OR EXISTS (SELECT 1 FROM refused_listed l WHERE l.seq = g.seq AND l.part = g.part AND l.id = r.id))"
)


def fill_rejected_found(db: sqlite3.Connection, unordered: set[str], later: Collection[int] = ()) -> None:
    """List the walked records of groups this run rejected, which a refused call stored part of, into
    `rejected_found` (_REJECTED_FOUND; `unordered`: the scopes whose ids do not grow, where every one is), but those
    of `later` (ids later runs on record created, alongside.written_since): there, the fixed rejects file's vouchers
    were named stored by the refusal, to be removed, and exit 3 (tester t56b)."""
    if not db.execute("SELECT EXISTS (SELECT 1 FROM refused_walked)").fetchone()[0]:
        return  # no group the run sent was rejected: no walked record to look at
    scopes = sorted(unordered)
    anywhere = f" OR r.scope IN ({', '.join('?' * len(scopes))})" if scopes else ""
    db.execute(_REJECTED_FOUND.format(unordered=anywhere), scopes)
    db.executemany("DELETE FROM rejected_found WHERE id = ?", ((i,) for i in later))


def rejected_found(
    ledger: Ledger, listed: list[tuple[int, str, str]], label: Callable[[str], str], files: list[str]
) -> list[dict[str, Any]]:
    """The report's `rejected_found` of the records `listed` (id, scope, group key) of `rejected_found`: each with
    its group's label and the input `file` and `lines` the run rejected of it (those the rejects file holds)."""
    lines = ledger.rejected_lines(key for _, _, key in listed)
    out: list[dict[str, Any]] = []
    for record_id, scope, key in listed:
        item: dict[str, Any] = {"id": record_id, "scope": scope, "group": label(key)}
        if key in lines:
            file_idx, rejected = lines[key]
            item |= {"file": files[file_idx], "lines": rejected}
        out.append(item)
    return out


#: the records the walks listed of this run's groups whose calls are in doubt (sent, their answers never recorded:
#: a run cut short while they were in flight, `bulkload reconcile` of it), and not created by it: each with its
#: group's lines, by group and id (landed)
_IN_DOUBT = (
    "SELECT r.id, r.grp, g.lines FROM remote r JOIN groups g ON g.key = r.grp "
    "JOIN chunks c ON c.seq = g.seq AND c.part = g.part WHERE c.state IN ('sending', 'in_doubt') "
    "AND NOT EXISTS (SELECT 1 FROM created x WHERE x.id = r.id) ORDER BY r.grp, r.id"
)


def fill_landed(db: sqlite3.Connection) -> None:
    """List the records this run's calls in doubt created into `landed`: in the API but not in the ledger as
    loaded, so no doubles; `bulkload resume` records them (`in_doubt_found`). A group's first records up to its
    lines: any more of it are doubles (a second load of the file, say), as ever."""
    if not db.execute("SELECT EXISTS (SELECT 1 FROM chunks WHERE state IN ('sending', 'in_doubt'))").fetchone()[0]:
        return
    batch: list[tuple[int]] = []
    last, taken = None, 0
    for record_id, group, lines in db.execute(_IN_DOUBT):
        taken = taken + 1 if group == last else 1
        last = group
        if taken <= lines:
            batch.append((record_id,))
    db.executemany("INSERT INTO landed VALUES (?)", batch)


def rejected_since(ledger: Ledger, unordered: set[str]) -> int:
    """How many of the records set aside as `others` (in scopes whose ids grow: not of `unordered`) are of groups
    this run rejected (sent and refused, or refused before sending) and not of groups a rollback took (`resent`):
    created since by another writer or run, its rejects file loaded say, not groups this run never met."""
    return _others_where(
        ledger,
        "r.grp IN (SELECT grp FROM rows WHERE bucket = 'rejected' AND grp != '') "
        "AND r.grp NOT IN (SELECT key FROM rolled_groups)",
        unordered,
    )


def rejected_left(ledger: Ledger, unordered: set[str]) -> int:
    """How many rows this run rejected are of no group, or of a group none of whose records `rejected_since` counts:
    rows still to load (0: every rejected group was created since, its rejects file loaded say)."""
    scopes = f" AND r.scope NOT IN ({', '.join('?' * len(unordered))})" if unordered else ""
    sql = (
        "SELECT COUNT(*) FROM rows WHERE bucket = 'rejected' AND (grp = '' OR grp NOT IN "
        "(SELECT r.grp FROM others o JOIN remote r ON r.id = o.id "
        f"WHERE r.grp IS NOT NULL AND r.grp NOT IN (SELECT key FROM rolled_groups){scopes}))"
    )
    (n,) = ledger.db().execute(sql, sorted(unordered)).fetchone()
    return int(n)


def resent(ledger: Ledger, unordered: set[str]) -> int:
    """How many of the records set aside as `others` (in scopes whose ids grow: not of `unordered`) are of groups
    this run sent and a rollback took (`rolled_groups`): created since by another writer or run, not groups this run
    never sent."""
    return _others_where(ledger, "r.grp IN (SELECT key FROM rolled_groups)", unordered)


def _others_where(ledger: Ledger, condition: str, unordered: set[str]) -> int:
    """How many of the records set aside as `others`, in scopes not of `unordered`, meet `condition` (SQL on the
    walked record `r`). No empty IN list: PostgreSQL refuses one (a PostgreSQL ledger's reconcile stopped on it)."""
    scopes = f" AND r.scope NOT IN ({', '.join('?' * len(unordered))})" if unordered else ""
    sql = f"SELECT COUNT(*) FROM others o JOIN remote r ON r.id = o.id WHERE {condition}{scopes}"
    (n,) = ledger.db().execute(sql, sorted(unordered)).fetchone()
    return int(n)


def fill_others(db: sqlite3.Connection) -> None:
    """List the walked records of other writers into `others` (_OTHERS)."""
    db.execute(_OTHERS)


def set_aside(
    ledger: Ledger, table: str, fill: Callable[[sqlite3.Connection], None], apart: bool = True
) -> dict[str, Totals]:
    """Set aside walked records the comparison leaves out (`fill` lists their ids into the temporary `table`:
    `others`, `landed`; `found_aside` reads them) and return their totals per scope and currency ([records,
    amount, debits] in minor units), a share of what the walks listed. `apart` False: the walks listed no record
    the run did not create (Ledger.listed_only_created), of which alone `fill` lists any: `table` is left empty."""
    db = ledger.db()
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} (id INTEGER PRIMARY KEY)")
    db.execute(f"DELETE FROM {table}")
    if not apart:
        return {}
    fill(db)
    found: dict[str, Totals] = {}
    for scope, currency, n, total, debit in db.execute(
        "SELECT r.scope, r.currency, COUNT(*), SUM(r.units), SUM((ABS(r.units) + r.units) / 2) "
        f"FROM {table} o JOIN remote r ON r.id = o.id GROUP BY r.scope, r.currency"
    ):
        found.setdefault(scope, {})[currency] = [n, total, debit]
    return found


def _without(totals: dict[str, Totals], part: dict[str, Totals]) -> dict[str, Totals]:
    """`totals` less `part` (a share of them), per scope and currency; a currency left at nothing is dropped."""
    out: dict[str, Totals] = {}
    for scope, per in totals.items():
        less = part.get(scope, {})
        figures = {c: [a - b for a, b in zip(f, less.get(c, [0] * len(f)))] for c, f in per.items()}
        out[scope] = {c: f for c, f in figures.items() if any(f)}
    return out


def found_aside(ledger: Ledger, table: str, limit: int) -> tuple[int, list[tuple[int, str, str]], int, dict[str, int]]:
    """The records `set_aside` put in `table`: how many, the first `limit` as (id, scope, group key) in id order,
    the sum of their ids and how many per scope."""
    db = ledger.db()
    per_scope = dict(
        db.execute(f"SELECT r.scope, COUNT(*) FROM {table} o JOIN remote r ON r.id = o.id GROUP BY r.scope").fetchall()
    )
    (id_sum,) = db.execute(f"SELECT COALESCE(SUM(id), 0) FROM {table}").fetchone()
    listed = db.execute(
        f"SELECT r.id, r.scope, r.grp FROM {table} o JOIN remote r ON r.id = o.id ORDER BY o.id LIMIT ?", (limit,)
    ).fetchall()
    return sum(per_scope.values()), listed, int(id_sum), per_scope


def doubles(ledger: Ledger, limit: int) -> tuple[int, list[tuple[int, str, str]]]:
    """Walked records this run did not create that are not other writers' nor of its calls in doubt nor of groups
    it rejected (doubles of its own groups): how many, and the first `limit` as (id, scope, group key) in id
    order."""
    sql = (
        "FROM remote r WHERE NOT EXISTS (SELECT 1 FROM created c WHERE c.id = r.id) "
        "AND NOT EXISTS (SELECT 1 FROM others o WHERE o.id = r.id) "
        "AND NOT EXISTS (SELECT 1 FROM landed l WHERE l.id = r.id) "
        "AND NOT EXISTS (SELECT 1 FROM rejected_found s WHERE s.id = r.id)"
    )
    db = ledger.db()
    (n,) = db.execute(f"SELECT COUNT(*) {sql}").fetchone()
    return n, db.execute(f"SELECT r.id, r.scope, r.grp {sql} ORDER BY r.id LIMIT ?", (limit,)).fetchall() if n else []


def group_differences(ledger: Ledger, target: Target) -> tuple[int, list[dict[str, Any]]]:
    """Every group this run loaded against what the walk found of it (lines, sum, sum of debits). A group missing
    a line, or holding a changed amount or a line more, is named. Groups the run did not load (other writers',
    earlier runs') are the id diff's business."""
    n, listed = ledger.group_differences(LIST_LIMIT)
    label = target.kind_of(0).group_label
    return n, [
        {
            "group": label(key),
            "key": key,
            "expected": dict(zip(_GROUP_FIGURES, expected)),
            "remote": dict(zip(_GROUP_FIGURES, found)),
        }
        for key, expected, found in listed
    ]


#: how a group's figures are named in the report: sums in the currency's minor unit (cents for DKK)
_GROUP_FIGURES = ("lines", "total_minor_units", "debit_minor_units")
