"""The plain values the engine and the targets pass each other: a chunk and its groups, a call, a walked page, a
group already there, control totals, a row that did not load, and the states a chunk goes through.

Nothing here knows the engine: this module imports only the standard library and msgspec.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any, Literal, NamedTuple, Protocol

import msgspec
from msgspec import UNSET, UnsetType

#: totals of one scope: currency -> [rows, sum of amounts, sum of the positive amounts (debits)], in the
#: currency's minor unit (bulkload.money). What an API answered may hold only [rows] (it gave no amounts)
Totals = dict[str, list[int]]


def add_totals(into: dict[str, Totals], totals: Mapping[str, Totals]) -> None:
    """Add `totals` (per scope and currency, see Totals) to `into`, figure by figure."""
    for scope, per in totals.items():
        acc_scope = into.setdefault(scope, {})
        for currency, figures in per.items():
            acc = acc_scope.setdefault(currency, [0] * len(figures))
            for i, value in enumerate(figures):
                acc[i] += value


#: in a call's returned totals (RecordKind.returned_totals), beside its scopes: per field the answer echoes of what
#: the call sent, [1] where it said the value sent, [0] where it said another, [] where it left the field out (not
#: checked). Reconciliation by responses names a call with a [0] in `calls_differing` (`fields_differing`) and counts
#: the rows of one with a [] in `rows_not_checked.fields`
ECHOED = "~echoed"


#: in a scope of a call's returned totals, in place of its currencies: [rows] of every currency together, where the
#: answer said how many records it stored but not of which currency (PayorCRM's count of a call short of the rows
#: sent, which ledgers of earlier versions hold: such an answer now puts its call in doubt). Reconciliation by
#: responses compares it with the rows of all of the scope's currencies, whose own figures the answer did not say
ANY_CURRENCY = "~any currency"

#: in a call's returned totals, beside its scopes: {"": [rows]} the rows whose ids were taken by their place in the
#: answer, its records naming no key (which record each row became is not proven). Reconciliation by responses
#: counts them in `rows_ids_by_place`
BY_PLACE = "~by place"

#: in a call's returned totals, beside its scopes: {"": [rows, records]} the rows the answer gave one id with others
#: of their record (an invoice's lines: RecordKind.record_of), and how many records so. Whether the API holds each
#: such record's every row, or only one (an upload keyed by the record's key, each row replacing the one before),
#: no answer can tell. Reconciliation by responses counts them in `rows_not_checked.lines_one_id`
ONE_ID = "~one id"


def echoed(fields: Iterable[tuple[str, Any, Any]]) -> Totals:
    """The ECHOED figures of an answer, from (field, the value sent, the value answered: UNSET where the answer
    leaves the field out). A value of another type than the one sent differs (`"1001"` is not the case 1001). A
    field given more than once (one per row of a call) differs where any of its values does; else it is not checked
    where any is left out; else it is the value sent."""
    figures: Totals = {}
    for name, sent, said in fields:
        figure = [] if said is UNSET else [int(type(said) is type(sent) and said == sent)]
        had = figures.get(name, figure)
        figures[name] = [0] if [0] in (had, figure) else [] if [] in (had, figure) else [1]
    return figures


#: the id of a row the API confirmed with a 2xx answer that named no ids (PayorCRM documents no answer): the row is
#: loaded, and the ledger says the API gave it no id
NO_ID = -1

#: the largest id of a record the ledger keeps (an SQLite INTEGER, a PostgreSQL bigint): an API's ids are kept from 0
#: to this; one past it cannot be stored, and a negative one is none the seeds give (-1 would read as NO_ID)
LARGEST_ID = 2**63 - 1

#: where a chunk is: planned but not sent (`pending`), its call on the way (`sending`), carried out (`done`),
#: perhaps carried out (`in_doubt`), refused whole (`rejected`) or sent as parts (`split`)
ChunkState = Literal["pending", "sending", "done", "in_doubt", "rejected", "split"]

#: the states a chunk may move to from each state; "done", "rejected" and "split" are final. A call waits for its
#: place in the limits `pending` (Ledger.sending), so one that never left is settled `pending` again, with why
TRANSITIONS: dict[ChunkState, frozenset[ChunkState]] = {
    "pending": frozenset({"pending", "sending", "in_doubt", "rejected", "split"}),
    "sending": frozenset({"sending", "done", "in_doubt", "pending", "rejected", "split"}),
    "in_doubt": frozenset({"sending", "done", "pending", "rejected", "split"}),
    "done": frozenset(),
    "rejected": frozenset(),
    "split": frozenset(),
}


class Listed(NamedTuple):
    """One page of a cursor walk as columns, so the engine sums and stores it without a Python step per record."""

    ids: list[int]
    currencies: list[str]
    #: amounts in the currency's minor unit
    units: list[int]
    #: each record's group key as `group_key` makes it ("" for none)
    groups: list[str]
    #: amounts with more decimals than their currency's minor unit (the API keeps something else than was sent)
    fractions: int = 0
    #: each record's `line_check`, made from what the API holds (None: the target compares no lines)
    checks: list[int] | None = None
    #: each record's check as a line sent with a field the API also sets itself where none is sent, as it lists the
    #: field (e-conomic's exchange rate): the line sent is either check (None, or None a record: no such field)
    also: list[int | None] | None = None


class Known(NamedTuple):
    """A group of the input that is already there: `bucket` "skipped" (it loaded) or "in_doubt" (it may have),
    why, and its lines and totals in minor units as they are there, when known; `differs`: the reason to give
    instead when the input's version of the group is another (`digest`, see group_digest, when known; else its
    lines and totals; and `also`, when known: the line checks of the group's lines as there with a field the API
    also sets itself where none is sent, which RecordKind.group_checks leaves out of the digest, e-conomic's
    exchange rate: a line of the input that gives the field must be one of them, see also_differs)."""

    key: str
    bucket: str
    reason: str
    lines: int | None = None
    total: int | None = None
    debit: int | None = None
    differs: str | None = None
    digest: int | None = None
    also: tuple[int, ...] | None = None


#: the version of line checks (RecordKind.line_check, chunking.record_check) and of the group digests made from
#: them: a ledger keeps the one it was made with (meta "checks"), and a check of another version is not compared,
#: unless no version since changed what made it (CHECKS_CHANGED, checks_alike). Each version changed (CHECKS_CHANGED):
#: 2: e-conomic's line check takes the currency, VAT codes, entry type, customer, supplier and due date too
#: 3: e-conomic's line check hashes its fields together (a sum let a date and a due date changed together cancel)
#: 4: a record_check hashes a nested value's numbers as written (`1.50`), no longer as floats (`1.5`)
#: 5: e-conomic's line check takes the voucher, and the exchange rate where one is sent
#: 6: a record_check takes amounts by value (100.50 is 100.5) and a date at midnight as the date
CHECKS_VERSION = 6
#: what makes the line checks of a kind's lines: its own RecordKind.line_check ("line": e-conomic's entries), or
#: chunking.record_check ("record": a kind without one; Visma Core's, PayorCRM's and HaloPSA's). A target's kinds
#: all make them one way (Api.checks_by)
CheckMaker = Literal["line", "record"]
#: which checks each version after the first changed (its line at CHECKS_VERSION): a version that changes both
#: names both, a new one its own line here too
CHECKS_CHANGED: dict[int, frozenset[CheckMaker]] = {
    2: frozenset({"line"}),
    3: frozenset({"line"}),
    4: frozenset({"record"}),
    5: frozenset({"line"}),
    6: frozenset({"record"}),
}
#: the versions whose line checks of a row of no group (chunking.record_check then) chunking.older_check makes: a
#: line such a ledger kept is told given again as it was (ledger._loaded_lines, Planner.line_loaded); of "record"
#: checks only (a kind with its own line check has no such rows)
OLDER_CHECKS = frozenset({4, 5})


def checks_alike(version: int, made_by: CheckMaker | None) -> int:
    """The latest version whose line checks made by `made_by` (None: not known, so either) are those of `version`,
    and so the group digests made of them: CHECKS_VERSION where no version since changed them (CHECKS_CHANGED:
    e-conomic's of version 5 are version 6's, Visma Core's are not); `version` itself where it is this version's, or
    a later bulkload's (unknown here)."""
    if version >= CHECKS_VERSION:
        return version
    changed = (v for v in range(version + 1, CHECKS_VERSION + 1) if made_by is None or made_by in CHECKS_CHANGED[v])
    return next(changed, CHECKS_VERSION + 1) - 1


def group_digest(checks: Iterable[int]) -> int:
    """One number (63 bits) for what a group's lines are, whatever their order: from each line's check (a
    RecordKind.line_check, or chunking.record_check), so that a group loaded again is told from a corrected one even
    where its count and totals stay the same (an account, a date or two signs changed)."""
    digest = _DIGEST.copy()  # a copy of a made hash costs less than making one
    digest.update(array("q", sorted(checks)))
    return int.from_bytes(digest.digest(), "big") >> 1


_DIGEST = blake2b(digest_size=8)


def also_differs(checks: Sequence[int], group_checks: Sequence[int], also: Collection[int]) -> bool:
    """Whether a group of the input whose digest is the one there differs all the same in a field the API also sets
    itself where none is sent (Known.also): a line that gives it (its line check in `checks` is not the one in
    `group_checks`, which leaves the field out) whose check is not among `also`, as often as the group gives it.
    A line that gives none is left to the digest: what the API set on it cannot be told from a value sent."""
    left = Counter(also)
    for check, bare in zip(checks, group_checks):
        if check != bare:
            if left[check] <= 0:
                return True
            left[check] -= 1
    return False


#: the bytes of one digest of `lookalikes`: two match keys that collide only cost a look its proof (in doubt)
LOOKALIKE_BYTES = 8


def lookalikes(keys: Iterable[str]) -> bytes:
    """What a look compares (RecordKind.lookalikes: match keys, never a secret) as the ledger keeps it for a call: a
    blake2b digest of LOOKALIKE_BYTES bytes a key, without repeats, in order."""
    digests = {blake2b(k.encode(), digest_size=LOOKALIKE_BYTES).digest() for k in keys}
    return b"".join(sorted(digests))


def alike(a: bytes, b: bytes) -> bool:
    """Whether two `lookalikes` share a digest: a look for the one call could find what the other created."""
    n = LOOKALIKE_BYTES
    return not {a[i : i + n] for i in range(0, len(a), n)}.isdisjoint(b[i : i + n] for i in range(0, len(b), n))


class Call(NamedTuple):
    """One request that sends a chunk."""

    method: str
    path: str
    body: bytes
    #: sending it again can do no harm (a keyed create, an update to fixed values): retried when its answer is
    #: lost. A create the API cannot deduplicate is not: it is settled by looking (`RecordKind.resolve`), else its
    #: rows become in doubt
    repeatable: bool
    #: the ids of the records the call changes, where it changes some known before it is sent (a cost a PATCH sets):
    #: sent again on the user's word, it must not undo a later row's change to them that landed (Ledger.later_write)
    writes: tuple[int, ...] = ()
    #: what the records the call writes held, of what it sets, when it was built (a cost's fields before its PATCH),
    #: as the kind encodes it: kept with the call in the ledger as it leaves (Ledger.sending), so that the look after
    #: a lost answer can tell it was not carried out, in this process or a later one (`RecordKind.resolve`'s `held`)
    held: bytes | None = None


class Partly(NamedTuple):
    """What a look for a call whose outcome is unknown found where it found some of its records and not the others:
    per row of the call, the id of the record found for it (created by the call), or None for a row whose record it
    did not find: certainly not there where the look proves absence (RecordKind.resolve, in a listing that holds
    every record: sending it again is safe once a second look agrees), else not found (RecordKind.find_sent at
    e-conomic, where an entry booked or deleted since leaves no trace), which the look for that row's group alone
    settles as it can. A group some of whose rows were found and not all is never sent again (Loader.found_in_part)."""

    ids: tuple[int | None, ...]


class RowOutcome(NamedTuple):
    """A row that did not load: `bucket` is "rejected" or "skipped" (an earlier load created its group)."""

    file_idx: int
    line_no: int
    bucket: str
    field: str
    reason: str
    #: the row's group key ("" for none), so that rejected groups can be counted
    group: str = ""


#: the imbalance of a group that balances (or has nothing to balance), as the ledger keeps it
NO_IMBALANCE = "0"


class GroupInfo(NamedTuple):
    """One group of a chunk, in the chunk's order: its key ("" for a row of no group), how many lines it has,
    its control totals in minor units (sum, sum of the positive amounts), how far it is from balancing (as the
    ledger keeps it: imbalance_text), and its `group_digest` (0 for a row of no group)."""

    key: str
    lines: int
    total: int = 0
    debit: int = 0
    imbalance: str = NO_IMBALANCE
    digest: int = 0


def imbalance_text(by_currency: dict[str, int]) -> str:
    """How far a group is from balancing (RecordKind.imbalance: currency -> minor units) as the ledger keeps it:
    NO_IMBALANCE, else JSON such as `{"DKK":100,"EUR":50}`."""
    return msgspec.json.encode(by_currency).decode() if by_currency else NO_IMBALANCE


def imbalance_of(text: str) -> dict[str, int] | int:
    """imbalance_text's `text` read back: currency -> minor units; an int where a ledger of an older bulkload kept
    the minor units summed over currencies."""
    if text.startswith("{"):
        by_currency: dict[str, int] = msgspec.json.decode(text, type=dict[str, int])
        return by_currency
    return int(text)


class Codec(Protocol):
    """What a chunk needs of its records' kind: to encode, decode and total them."""

    def encode(self, records: Sequence[Any]) -> bytes: ...

    def decode(self, body: bytes) -> list[Any]: ...

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]: ...


@dataclass(slots=True)
class Chunk:
    seq: int
    file_idx: int
    lines: list[int]
    body: bytes
    #: "" for a chunk as planned; "0", "1", "r"… for the parts sent after the API refused a whole chunk
    part: str = ""
    #: control totals per scope (RecordKind.summarize); made where the chunk was planned
    summary: dict[str, Totals] | None = None
    #: the records, when at hand; a chunk planned in another process carries only its body
    records: list[Any] | None = None
    #: the chunk's groups in order; they cover its lines exactly
    groups: list[GroupInfo] = field(default_factory=list)
    #: each line's RecordKind.line_check, where the kind compares lines
    checks: list[int] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def entries(self, kind: Codec) -> list[Any]:
        """The chunk's records, decoded from its body by its file's `kind` when the chunk carries none."""
        if self.records is None:
            self.records = kind.decode(self.body)
        return self.records

    def totals(self, kind: Codec) -> dict[str, Totals]:
        if self.summary is None:
            self.summary = kind.summarize(self.entries(kind))
        return self.summary

    def spans(self) -> list[range]:
        """The record indexes of each group."""
        out, start = [], 0
        for g in self.groups:
            out.append(range(start, start + g.lines))
            start += g.lines
        return out

    def take(self, groups: Iterable[int], part: str, kind: Codec) -> Chunk:
        """A chunk of some of this chunk's groups (by their index), whole."""
        chosen = list(groups)
        spans, entries = self.spans(), self.entries(kind)
        idx = [i for g in chosen for i in spans[g]]
        records = [entries[i] for i in idx]
        checks = None if self.checks is None else [self.checks[i] for i in idx]
        return Chunk(
            self.seq,
            self.file_idx,
            [self.lines[i] for i in idx],
            kind.encode(records),
            part,
            records=records,
            groups=[self.groups[g] for g in chosen],
            checks=checks,
        )

    def take_lines(self, lines: Collection[int], part: str, kind: Codec) -> Chunk:
        """The chunk of the groups whose lines are `lines` (a part planned earlier, found again on resume)."""
        return self.take((g for g, span in enumerate(self.spans()) if self.lines[span.start] in lines), part, kind)


#: what a rollback recorded of a record (Ledger.removals) that took it out of the API: removed, gone (a 404 after a
#: DELETE of ours). Not unexplained (gone before the rollback came to it: booked, or deleted by another writer): the
#: rollback did not take it out, so reconciliation names it missing (where booked, it is in the books)
ROLLED_OUT = ("removed", "gone")
#: what a rollback recorded of a record whose DELETE may have taken it out, or was answered as done, until a read
#: says whether it is gone: removing (its DELETE may have been sent), deleted (answered as done, not read back yet)
DELETED = "deleted"
MAYBE_OUT = ("removing", DELETED)


def rolled_out(outcome: str | None, listed: bool) -> bool:
    """Whether a rollback took a record of the run out of the API, by what it recorded of it (`outcome`, as
    Ledger.removals gives it; None: nothing) and whether what the API holds was read to list it (`listed`; True where
    that is not known): ROLLED_OUT, or MAYBE_OUT where not listed. Reconciliation's rollback rule, for every target:
    such a record is not missing, and is counted `rolled_back` in its scope (scope_holds), not compared."""
    return outcome in ROLLED_OUT or (outcome in MAYBE_OUT and not listed)


class Held(NamedTuple):
    """What the ids of the records a run created hold now, read before a rollback deletes them (still_ours.py), each
    as (scope, id) the way rollback names it (Books.created_by_run)."""

    #: ids whose record is not the run's, with what it holds instead: another line than the run sent (the API lost
    #: the run's record and gave its id to another, or it was changed since), or one of another group or scope
    apart: dict[tuple[str, int], str]
    #: ids listed nowhere the run created them: its record is gone (and its id may hold another's record elsewhere)
    absent: frozenset[tuple[str, int]]
    #: ids a listing not whole left out, with why: nothing is known of what they hold
    unread: dict[tuple[str, int], str]


def held_before(baseline: Mapping[str, int]) -> bool:
    """Whether a scope's baseline ({"count", "max_id"}: what it held before the run's first call) says it held
    anything: counted any record, or listed one."""
    return bool(baseline.get("count") or baseline.get("max_id"))


def scope_holds(figures: Mapping[str, int]) -> int:
    """What a scope should hold (`figures`: a `Reconciled.scopes` entry): what was there before and is still there,
    what loaded and no rollback took, what others and calls in doubt added, and what refused calls stored of groups
    the run rejected (`rejected_found`: a mismatch of its own). Reconciliation's count rule, for every target: a
    scope whose `remote` is not this is a mismatch; others' records are counted, never one."""
    held = figures["expected"] + figures.get("others", 0) + figures.get("in_doubt", 0)
    held += figures.get("rejected_found", 0)
    return held - figures.get("before_gone", 0) - figures.get("rolled_back", 0)


#: how many missing or unexpected entries (or fields differing) the report names one by one
LIST_LIMIT = 100


class Reconciled(msgspec.Struct, kw_only=True):
    """The report's `reconcile` section: `ok` only when everything matches. Walked APIs add the `walk_…`,
    `groups_differing…`, `lines_changed…` and `amounts_with_more_decimals` keys; APIs read by their answers the
    `note` to `rows_unrecorded`; HaloPSA (compared field by field) `differences` and its count."""

    ok: bool
    remote_read: bool
    note: str | UnsetType = UNSET
    expected_count: int
    #: None where an answer gave no count (APIs read by their answers)
    remote_count: int | None
    ids_returned: int | UnsetType = UNSET
    rows_confirmed_by_id: int | UnsetType = UNSET
    rows_confirmed_by_2xx: int | UnsetType = UNSET
    rows_ids_by_place: int | UnsetType = UNSET
    rows_not_checked: dict[str, int] | UnsetType = UNSET
    kinds: dict[str, dict[str, int]] | UnsetType = UNSET
    calls_differing: list[dict[str, Any]] | UnsetType = UNSET
    calls_differing_count: int | UnsetType = UNSET
    ids_shared: list[dict[str, Any]] | UnsetType = UNSET
    ids_shared_count: int | UnsetType = UNSET
    rows_unrecorded: int | UnsetType = UNSET
    expected_totals: dict[str, Any]
    remote_totals: dict[str, Any]
    missing: list[dict[str, Any]] = msgspec.field(default_factory=list)
    missing_count: int = 0
    duplicates: list[dict[str, Any]] = msgspec.field(default_factory=list)
    duplicates_count: int = 0
    #: walked records no group of this run made: another writer's (e.g. someone posting to the same journal; HaloPSA:
    #: a record listed that no row of the run accounts for, each `id`, `scope`); `others_totals` per scope and
    #: currency (walked APIs); the remote figures hold them, the comparison leaves them out
    others: list[dict[str, Any]] = msgspec.field(default_factory=list)
    others_count: int = 0
    others_totals: dict[str, Any] | UnsetType = UNSET
    #: of `others_count`, those of groups this run sent and a rollback took its records of, created since (numbered
    #: above its newest) by another writer or run: the same file loaded again, say. Walked APIs of a run rolled back
    others_resent_count: int | UnsetType = UNSET
    #: of `others_count`, those of groups this run rejected (sent and refused, or refused before sending), created
    #: since by another writer or run: its rejects file loaded, say (before, "of groups this run never sent")
    others_rejected_count: int | UnsetType = UNSET
    #: where `others_rejected_count` is set: the rows this run rejected of groups none of whose records it counts (0:
    #: every rejected group is in the API now, so the rejects file holds nothing left to load)
    rejected_left_count: int | UnsetType = UNSET
    #: walked records of this run's calls in doubt (their answers never recorded: a run cut short while they were
    #: in flight): in the API, not yet in the ledger as loaded; `bulkload resume` records them. Not doubles, nor a
    #: mismatch (`ok` holds: what the run's calls sent; their rows are in doubt, DESIGN.md's exit 1, or 4 unfinished)
    in_doubt_found: list[dict[str, Any]] = msgspec.field(default_factory=list)
    in_doubt_found_count: int = 0
    #: walked records of groups this run rejected after the API refused a call that carried them: the refusal stored
    #: part of them (seed 002 never says a refused call stores nothing), so a group the run rejected is in part in
    #: the books. Each `id`, `scope`, `group` and the `file` and `lines` the run rejected of it; per scope
    #: `rejected_found` in `scopes` where any. A mismatch (`ok` false). Walked APIs
    rejected_found: list[dict[str, Any]] | UnsetType = UNSET
    rejected_found_count: int | UnsetType = UNSET
    #: records there before the run (ids up to its baseline) that are gone since (booked, deleted): not the run's,
    #: left out of the comparison; per scope in `scopes` (`before_gone`). Walked APIs with a count only
    before_gone_count: int | UnsetType = UNSET
    #: groups this run skipped as loaded by an earlier run that a rollback of that run took out since and no run on
    #: record holds now (skipped_gone.taken_back_said): each `group`, the `ledger` of that run, the `file` and `lines`
    #: of this run's input that give it. Its rows are in no book: a mismatch (`ok` false). Every target
    skipped_taken_back: list[dict[str, Any]] | UnsetType = UNSET
    skipped_taken_back_count: int | UnsetType = UNSET
    #: a run a rollback took records of (rolled_back.Left.figures): `status` (rolled_back; rolling_back where the
    #: rollback stopped), `records` it took out (not missing), `left` of the run; per scope `rolled_back` in `scopes`
    rolled_back: dict[str, Any] | UnsetType = UNSET
    walk_repeated_ids: int | UnsetType = UNSET
    groups_differing: list[dict[str, Any]] | UnsetType = UNSET
    groups_differing_count: int | UnsetType = UNSET
    lines_changed: list[dict[str, Any]] | UnsetType = UNSET
    lines_changed_count: int | UnsetType = UNSET
    #: lines whose check the ledger keeps (created.line_check) is not the one their input row makes (the file pinned
    #: by its SHA-256): the ledger is damaged there, not the API changed. Each `id`, `file`, `line`, and `api_holds`
    #: (true: the API holds the line as the input gives it; false: it holds another, and the line is in
    #: `lines_changed` too)
    lines_damaged: list[dict[str, Any]] | UnsetType = UNSET
    lines_damaged_count: int | UnsetType = UNSET
    #: calls whose answer named their ids in another order than their lines: each line was given the id the walk
    #: found holding what it sent (Ledger.pair_by_walk), in the ledger and the success file
    answers_reordered: int | UnsetType = UNSET
    amounts_with_more_decimals: int | UnsetType = UNSET
    differences: list[dict[str, Any]] | UnsetType = UNSET
    differences_count: int | UnsetType = UNSET
    #: records this run created whose ids now hold other records entirely (a line of another group, or HaloPSA
    #: another name) while the run's own is nowhere: what was found, not why (the API stored them otherwise than sent,
    #: such as a voucher numbered its own way; changed since; or the API lost its data and gave their ids again).
    #: Each `id`, `file`, `line`, and `holds` (the group the id holds now: e-conomic) or `resource` (HaloPSA); listed
    #: here, not as changed
    ids_reused: list[dict[str, Any]] | UnsetType = UNSET
    ids_reused_count: int | UnsetType = UNSET
    #: per scope (e-conomic: journal): `before`, `loaded`, `expected`, `remote`, `before_gone`; where no answer said
    #: what a scope holds (a HaloPSA listing not whole) `listed` (what was listed) instead of `remote`
    scopes: dict[str, dict[str, int]]
    scope_name: str
