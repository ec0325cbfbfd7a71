"""Visma Core Flow API, bookkeeping: entries and entry drafts on cases (one a call), and seller/buyer costs.

No idempotency key: a create whose answer was lost is in doubt, never sent again without the user's word.
Costs can be read back, so a lost PATCH is settled by looking: at what it sent, at what the cost held before it, or
at another writer's values (in doubt).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING, Any

import anyio
import msgspec

from ..errors import APIError, BadAnswer, ConfigError, WrongEndpoint
from ..http import DOT_SEGMENTS, api_path
from ..model import LIST_LIMIT, Reconciled
from ..side_by_side import side_by_side
from ..sources import BadRow
from .base import ASP_NET_SETTLE_S, Api, Books, Credentials, EarlierRun, Target
from .flags import Flag, Flags
from .protocols import Created, Sender
from .visma_core_records import (
    _BOOKKEEPING,
    _UNWRITABLE,
    LOOKUP_BYTES,
    CostHeld,
    CostMeant,
    Costs,
    Definition,
    Entries,
    OnCase,
    most_lines,
)

if TYPE_CHECKING:
    from ..sources import Source


#: the most bytes of an order's lines (a chunk's records as JSON; the call sends less: their amounts summed, their
#: texts joined), bulkload's own bound: seed 003 gives none
BODY_BYTES = 2_000_000


class _Definition(msgspec.Struct):
    """An entry definition as the API answers it (seed 003), read for the fields used, each required (its `Name`
    is not read: null or missing, it stops nothing): without its Id no entry can be made with it, and `IsDraft` and
    `MergeOrderLinesToOneEntry` decide draft or final entry, one entry an order or one a line, never guessed."""

    Id: int
    IsDraft: bool
    MergeOrderLinesToOneEntry: bool


#: what of a definition decides the entries its cost types make
_DECIDING = ("IsDraft", "MergeOrderLinesToOneEntry")


def _cost_type(given: str, kind: str) -> str:
    """--cost-type as a cell's value is read (trimmed), for entries; ConfigError where it cannot be one."""
    if kind != "entries":
        raise ConfigError(
            "--cost-type is the cost type of entries (--kind entries): a cost row finds its cost by costId or "
            "entryDefinitionId, and names no cost type"
        )
    cost_type = given.strip()
    if not cost_type:
        raise ConfigError("--cost-type must name an accounting cost type (FEE, OUTLAY, …)")
    if cost_type in DOT_SEGMENTS:
        raise ConfigError(f"--cost-type {cost_type!r} {_UNWRITABLE}")
    return cost_type


def _one_answer_each(definitions: Mapping[str, Definition]) -> None:
    """BadAnswer where two cost types' lookups answered one entry definition (one `Id`) with another `IsDraft` or
    `MergeOrderLinesToOneEntry`: which entries that definition makes (a draft or not, one an order or one a line)
    cannot be told, and taking either answer is a guess."""
    seen: dict[int, tuple[str, Definition]] = {}
    for cost_type, found in sorted(definitions.items()):
        if found.error is not None:
            continue
        other, said = seen.setdefault(found.Id, (cost_type, found))
        differ = [f for f in _DECIDING if getattr(said, f) != getattr(found, f)]
        if differ:
            told = "; ".join(
                f"{c}: {', '.join(f'{f} {str(getattr(d, f)).lower()}' for f in differ)}"
                for c, d in ((other, said), (cost_type, found))
            )
            raise BadAnswer(
                f"GET {api_path(_BOOKKEEPING, 'AccountingCostTypes', other)} and …/{cost_type}: the answers contradict "
                f"each other about entry definition {found.Id} ({told}): which entries it makes cannot be told"
            )


def _given(files: Mapping[int, str], options: Mapping[str, Any]) -> list[str]:
    """The arguments that load `files` (an input index -> a file of its rows: one kind of record, every file alike)
    as the run's inputs were: their paths, and --kind and --cost-type (VismaCore.options) where given; a rejects
    file keeps its input's columns, none accountingCostType where --cost-type gave it."""
    args = [path for _, path in sorted(files.items())]
    if options.get("kind") not in (None, "entries"):
        args += ["--kind", options["kind"]]
    if options.get("cost_type") is not None:
        args += ["--cost-type", options["cost_type"]]
    return args


#: the cases whose costs reconciliation reads side by side
_READ_AT_ONCE = 8


class CostsSet(Books):
    """What --kind costs does to the books: it sets fixed values on costs that exist (a PATCH each) and creates
    nothing, so the same file loaded again changes nothing: no duplicate-load check. Costs can be read back, so
    reconciliation reads every cost the run set and compares it with what the file meant (`read_back`)."""

    rerunnable = True
    creates_nothing = True

    def __init__(self, costs: Costs) -> None:
        self.costs = costs

    async def read_back(
        self,
        client: Sender,
        ledger: Created,
        files: list[str],
        rows: Callable[[int], Iterator[tuple[int, Any]]],
        rec: Reconciled,
    ) -> Reconciled:
        """`rec` with each cost the run set read again (GET …/Cases/{caseId}/Costs/{type}, one read of each case and
        type) and compared with what the file meant it to hold, its last row's values (Costs.meant): a PATCH answered
        with the values sent proves nothing of what the API kept (tester t70b: answered, not kept, exit 0). A field
        holding another value is a mismatch (`differences`, `ok` false: exit 3); one a listing leaves out, or of a
        list not read whole, is counted not checked (`rows_not_checked.read_back`)."""

        def meant() -> dict[tuple[int, str, int], CostMeant]:
            def of_file(file_idx: int) -> Iterator[tuple[int, Mapping[str, Any], int]]:
                ids = ledger.created_in(file_idx)
                return ((line, row, ids[line]) for line, row in rows(file_idx) if line in ids)

            return self.costs.meant(chain.from_iterable(of_file(i) for i in range(len(files))))

        by_case: dict[tuple[int, str], dict[int, CostMeant]] = {}
        for (case_id, kind, cost_id), of_cost in (await anyio.to_thread.run_sync(meant)).items():
            by_case.setdefault((case_id, kind), {})[cost_id] = of_cost
        differing: list[dict[str, Any]] = []
        unchecked = 0

        async def read(case_id: int, kind: str) -> None:
            nonlocal unchecked
            found, left = await self.costs.held_now(client, case_id, kind, by_case[(case_id, kind)])
            unchecked += left
            differing.extend(_difference(case_id, kind, held) for held in found)

        cases = sorted(by_case)
        for at in range(0, len(cases), _READ_AT_ONCE):
            await side_by_side(partial(read, *case) for case in cases[at : at + _READ_AT_ONCE])
        n_costs = sum(len(of_case) for of_case in by_case.values())
        said = f"the {n_costs:,} cost{'s the run set were' if n_costs != 1 else ' the run set was'} read back"
        if differing:
            said += (
                f": {len(differing):,} fields hold other values than the file set (the API answered the PATCH with "
                "them and did not keep them, or something set them since: another writer, a later run)"
            )
        if unchecked:
            said += f"; {unchecked:,} fields of them could not be read back (left out, or a list not read whole)"
        differing.sort(key=lambda item: (item["line"], item["id"], item["field"]))
        rec.ok = rec.ok and not differing
        rec.note = f"{rec.note}; {said}" if isinstance(rec.note, str) else said
        rec.differences, rec.differences_count = differing[:LIST_LIMIT], len(differing)
        if isinstance(rec.rows_not_checked, dict):
            rec.rows_not_checked["read_back"] = unchecked
        return rec


def _difference(case_id: int, kind: str, held: CostHeld) -> dict[str, Any]:
    """A cost's field holding another value than the file meant, as the report's `differences` lists it."""
    return {
        "resource": f"cost of case {case_id} ({kind})",
        "id": held.cost_id,
        "line": held.line,
        "field": held.field,
        "sent": held.meant,
        "found": held.found,
        "said": held.said(case_id, kind),
    }


class VismaCore(Target):
    name = "visma-core"
    api = Api(
        idempotent=False,
        # lines one order (one entry, one call) may have: seed 003 gives no limit of lines or bytes, so the bound is
        # the bytes of its lines (max_bytes, bulkload's own): the most lines that can fit in them
        max_items=most_lines(BODY_BYTES),
        max_bytes=BODY_BYTES,
        answer_bytes=256 * 1024,  # a created entry or draft, one a call
        scope_name="kind",
        one_group_per_call=True,
        # two changes to one cost land in file order (Costs.order_keys): the last row is what the case keeps, also
        # where a PATCH's answer was lost: the next waits until it is found carried out, or the settle delay has
        # passed (seed 003 gives no commit time: a PATCH that timed out may land seconds later, after the next)
        ordered=True,
        settle_s=ASP_NET_SETTLE_S,
        reconcile_by="responses",
        kinds_updated=frozenset({"costs"}),
        # a create on a case that does not exist answers 404: the rows are refused, not the run
        refusing=frozenset({400, 404, 422}),
    )
    # the token is the authenticated user's, whose broker company the entry definitions and cases are; it changes at
    # every refresh and no answer names the company (seed 003), so the run's account is the address it writes to
    credentials = Credentials(("VISMA_CORE_TOKEN",), account=(), account_noun="company")
    flags = Flags(
        (
            Flag("--kind", choices=("entries", "costs"), help="entries (default) or costs"),
            Flag(
                "--cost-type",
                metavar="TYPE",
                help="the accountingCostType of every entry of files without that column (an export of one cost "
                "type), its entry definition looked up as a column's value is; a file with the column is refused",
            ),
        ),
        example=("entries.csv",),
        given=_given,
    )

    def __init__(
        self, kind: str = "entries", definitions: Mapping[str, Any] | None = None, cost_type: str | None = None
    ) -> None:
        """`cost_type`: --cost-type, for --kind entries only (Entries); ConfigError for another kind, or a cost
        type no lookup can name (none, `.`, `..`: http.DOT_SEGMENTS)."""
        if kind not in ("entries", "costs"):
            raise ConfigError("--kind must be entries or costs for visma-core")
        if cost_type is not None:
            cost_type = _cost_type(cost_type, kind)
        self.kind = kind
        self.entries = Entries(definitions, cost_type)
        self.costs = Costs()
        if kind == "costs":
            self.books = CostsSet(self.costs)

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> VismaCore:
        return cls(
            kind=options.get("kind") or "entries",
            definitions=options.get("definitions"),
            cost_type=options.get("cost_type"),
        )

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "cost_type": self.entries.cost_type}
        if self.entries.definitions is not None:
            out["definitions"] = msgspec.to_builtins(self.entries.definitions)
        return out

    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        return {"Authorization": f"Bearer {credentials['VISMA_CORE_TOKEN']}", "Accept": "application/json"}

    def kind_of(self, file_idx: int) -> OnCase:
        return self.costs if self.kind == "costs" else self.entries

    async def setup(
        self, client: Sender, sources: Sequence[Source], *, late: bool = False, earlier: Sequence[EarlierRun] = ()
    ) -> None:
        if self.kind == "costs":  # no call: the file's cases tell a case that does not exist from a wrong address
            self.costs.sources = sources
            return
        if self.entries.definitions is not None:
            return  # a resumed run keeps the definitions it planned with

        def cost_types() -> set[str]:
            found: set[str] = set()
            for source in sources:
                for item in source:
                    if isinstance(item, BadRow):
                        continue
                    cost_type = self.entries.cost_type_of(item[1])
                    if isinstance(cost_type, str):
                        found.add(cost_type)
            return found

        definitions: dict[str, Definition] = {}

        async def look_up(cost_type: str) -> None:
            try:
                found: _Definition = await client.get(
                    api_path(_BOOKKEEPING, "AccountingCostTypes", cost_type), into=_Definition, max_bytes=LOOKUP_BYTES
                )
                definitions[cost_type] = Definition(**msgspec.structs.asdict(found))  # the API's, its Id checked
            except APIError as exc:
                if exc.status != 404:
                    raise
                definitions[cost_type] = Definition(error=f"no entry definition for this user: {exc}")

        # side by side: each is a round trip; `.` and `..` are none a path can ask for (their rows are refused:
        # Entries._definition)
        given = self.entries.cost_type
        named = {given} if given is not None else await anyio.to_thread.run_sync(cost_types)
        await side_by_side(partial(look_up, c) for c in sorted(named - DOT_SEGMENTS))
        if definitions and all(d.error for d in definitions.values()):
            # a wrong address answers 404 to every cost type, as an account with none of them set up does: nothing
            # tells the two apart, and not one row could load, so the run is refused before its first write (before,
            # a file of one cost type at a wrong address had every row rejected "no entry definition": tester t24b)
            types = ", ".join(sorted(definitions))
            raise WrongEndpoint(
                f"the entry definition of {'the' if len(definitions) == 1 else 'every'} cost type of the file "
                f"({types}) answered 404 at {client.base_url}: is --base-url right? If it is, the broker company has "
                f"set up no entry definition of {types} for this user (seed 003: Visma provides the cost types, and "
                "their definitions are set up in Core before the first entry)"
            )
        _one_answer_each(definitions)
        self.entries.definitions = dict(sorted(definitions.items()))
