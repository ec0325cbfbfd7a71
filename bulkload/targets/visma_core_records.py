"""Visma Core's records: lines of entries (or drafts) on cases, and changes to their seller and buyer costs."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from datetime import datetime, time
from decimal import Decimal
from itertools import accumulate
from typing import Annotated, Any, Literal, NamedTuple

import anyio
import msgspec

from ..dates import at_offset, instant_reason, one_date, same_day
from ..errors import APIError, FoundOther, RowInvalid, RowsRefused, WrongEndpoint
from ..http import DOT_SEGMENTS, api_path, decoded
from ..model import ECHOED, Call, Chunk, Totals, echoed
from ..money import JSON_SAFE_DIGITS, FractionLeft, PastLimit, Places, minor_units, same_amount
from ..numbers import whole_number, whole_reason
from ..odata import Listed, read_whole
from ..quoted_ids import as_int
from ..sources import BadRow, Source
from .base import RecordKind, Unreadable, int_fields, key_number, key_text, required_fields
from .protocols import Sender
from .reasons import converted

CaseId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
_BOOKKEEPING = "/flow/api/Integrations/Bookkeeping"
_encode = msgspec.json.Encoder(decimal_format="number").encode
#: cases whose costs are kept while a run goes on (each is read once)
COST_CACHE = 10_000
#: the longest answer of a lookup (an entry definition, a page of a case's costs)
LOOKUP_BYTES = 1024 * 1024
#: the most other cases of the file whose costs are asked for where a case's costs answered 404 before any case's
#: answered: one of them answering proves the address (the case does not exist), all 404 a wrong --base-url
ADDRESS_PROBES = 5
#: where a case's costs are read (seed 003), and patched
_CASES = "/flow/api/Conditions/Cases"


#: the most cents an amount sent may hold in size: the API's amounts are JSON numbers with 2 decimals (seed 003
#: gives no type or range), which every JSON reader keeps exactly up to 15 significant digits
MAX_CENTS = 10**JSON_SAFE_DIGITS - 1
#: why an amount past MAX_CENTS is refused
_PAST = (
    f"is past {MAX_CENTS // 100}.{MAX_CENTS % 100:02d}, the largest amount of 2 decimals every JSON reader keeps "
    f"exactly ({JSON_SAFE_DIGITS} digits): the API might book another amount"
)


def _hundredths(amount: Decimal, field: str) -> None:
    """ValueError, worded as msgspec words one ("… - at `$.amount`"), unless `amount` has at most 2 decimals and at
    most MAX_CENTS cents in size."""
    try:
        minor_units(amount, None, MAX_CENTS)
    except FractionLeft:
        raise ValueError(f"{amount} is not an amount with at most 2 decimals - at `$.{field}`") from None
    except PastLimit:
        raise ValueError(f"{amount} {_PAST} - at `$.{field}`") from None
    except ValueError:
        raise ValueError(f"not a number: {amount} - at `$.{field}`") from None


class EntryRow(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """One input line of an entry (lines of one order may become one entry)."""

    caseId: CaseId
    accountingCostType: Annotated[str, msgspec.Meta(min_length=1)]
    amount: Decimal
    description: str | None = None
    note: str | None = None
    entryDate: str | None = None
    orderId: str | None = None

    def __post_init__(self) -> None:
        _hundredths(self.amount, "amount")


def most_lines(max_bytes: int) -> int:
    """The most lines of an entry whose records (a chunk's body: `OnCase.encode`, a JSON array) can fit in
    `max_bytes`: a line is at least `{"caseId":1,"accountingCostType":"A","amount":0}` and a comma, so more lines
    never fit. Seed 003 gives no limit of lines: an order's lines are merged into one entry, one call."""
    smallest = len(_encode(EntryRow(caseId=1, accountingCostType="A", amount=Decimal(0)))) + 1
    return (max_bytes - 1) // smallest


#: what finds a cost, and what a row may change of it: a row gives one of each at least
_FOUND_BY = ("costId", "entryDefinitionId")
_CHANGES = ("IsOptional", "Amount", "Comment")


class CostRow(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A change to one seller or buyer cost of a case, found by its id or its entry definition."""

    caseId: CaseId
    type: Literal["Buyer", "Seller"]
    costId: int | None = None
    entryDefinitionId: int | None = None
    IsOptional: bool | None = None
    Amount: Decimal | None = None
    Comment: str | None = None

    def __post_init__(self) -> None:
        if self.costId is None and self.entryDefinitionId is None:
            raise ValueError("give costId or entryDefinitionId - at `$.costId`")
        if self.IsOptional is None and self.Amount is None and self.Comment is None:
            raise ValueError("nothing to change: give IsOptional, Amount or Comment - at `$.IsOptional`")
        if self.Amount is not None:
            _hundredths(self.Amount, "Amount")

    def changes(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _CHANGES if getattr(self, k) is not None}


class Definition(msgspec.Struct, kw_only=True):
    """An entry definition as a run keeps it (a resumed run's options: a `Name` kept by an older run is ignored)."""

    Id: int = 0
    IsDraft: bool = False
    MergeOrderLinesToOneEntry: bool = False
    #: set instead when the API has no definition for the cost type: the rows are rejected with it
    error: str | None = None


#: a JSON value as it is written: a number with a fraction the exact Decimal it writes, never a float
_decode_value = msgspec.json.Decoder(float_hook=Decimal).decode
_NULL = msgspec.Raw(b"null")


def _said(raw: msgspec.Raw | msgspec.UnsetType) -> Any:
    """An answer's amount as the JSON value it is: a number the exact Decimal it writes, anything else as itself
    (the string "120.00" a str: a Decimal field would take it for the number 120.00, and it is not the number
    sent), UNSET where the answer leaves it out."""
    if raw is msgspec.UNSET:
        return raw
    value = _decode_value(raw)
    return Decimal(value) if type(value) is int else value


def _another_number(text: str, sent: Decimal) -> bool:
    """Whether an answer's amount written as text (`text`, a JSON string) is a number, as JSON writes one, that is not
    the amount `sent` (money.same_amount): the API says it holds another amount ("20641" for 20641.86 sent). Text that
    is the amount sent, or no number, says nothing (seed 003 writes amounts as numbers): not checked."""
    try:
        number = _decode_value(text.encode())
    except msgspec.DecodeError:
        return False
    return type(number) in (int, Decimal) and not same_amount(number, sent)


#: why a cost type `.` or `..` has no definition: the lookup cannot name it (http.DOT_SEGMENTS)
_UNWRITABLE = (
    "cannot be looked up: in a URL's path `.` and `..` are this folder and the one above (RFC 3986 §5.2.4), also "
    "written %2E, so no call can ask Visma Core for this cost type's entry definition"
)


class _Created(msgspec.Struct):
    """A created entry or draft as the API answers it: `Amount` as it is written (`_said`: UNSET where the answer
    leaves it out, no amount to compare, never 0; a string or another JSON value than a number is no amount that was
    sent; null is no answer the API documents, a ValidationError); the other fields of what was sent that seed 003's
    answers echo, as the answer says them (any JSON value: one of another type differs, but an id written as a
    string of digits, quoted_ids.as_int), UNSET where it leaves one out (not checked). An `Id` of 0 names no entry (a
    ValidationError: in doubt)."""

    Id: int
    Amount: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    CaseId: Any = msgspec.UNSET
    EntryDefinitionId: Any = msgspec.UNSET
    EntryDate: Any = msgspec.UNSET
    Description: Any = msgspec.UNSET
    #: seed 003's answers show none; one that gives it says what the API holds (checked where given)
    Note: Any = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.Amount == _NULL:
            raise ValueError("Expected a number, got `null` - at `$.Amount`")
        if self.Id == 0:  # .NET's default of an entity never saved: seed 003's Ids are the created entry's (145, 161)
            raise ValueError("an Id 0 names no entry: it does not say one was created - at `$.Id`")


class _Cost(msgspec.Struct):
    """A cost as the API lists it or answers a PATCH with; a changeable field UNSET where the answer leaves it out,
    its `Amount` as it is written (`_said`: a string "12.50" is not the number 12.50 a row set)."""

    Id: int
    Editable: bool = False
    #: a cost deleted in Core, still listed: no live cost a row can set (seed 003 lists `"Deleted": false`)
    Deleted: bool = False
    EntryDefinitionId: int | None = None
    IsOptional: bool | None | msgspec.UnsetType = msgspec.UNSET
    Amount: msgspec.Raw | msgspec.UnsetType = msgspec.UNSET
    Comment: str | None | msgspec.UnsetType = msgspec.UNSET

    def holds(self, field: str) -> Any:
        """What the cost holds of a changeable `field` (IsOptional, Amount, Comment), as the answer says it."""
        return _said(self.Amount) if field == "Amount" else getattr(self, field)


_decode_entries = msgspec.json.Decoder(list[EntryRow]).decode
_decode_costs_rows = msgspec.json.Decoder(list[CostRow]).decode
_decode_held = msgspec.json.Decoder(_Cost).decode
#: why the look after a lost PATCH does not know what the cost held before it
_UNKNOWN = (
    "unknown: the ledger does not hold them (a call recorded by a bulkload before 2026-12, or one an adopted copy of "
    "the ledger never saw)"
)


def _held(cost: _Cost, fields: Iterable[str]) -> bytes:
    """What `cost` holds of `fields` (the changeable ones a row sets), as Call.held keeps it for the look after a
    lost PATCH (`_decode_held`, `_Cost.holds`): its JSON with those fields as the API wrote them (an Amount as
    written: `_said`; one the answer left out left out), the others at their defaults."""
    return _encode(_Cost(cost.Id, **{k: getattr(cost, k) for k in fields}))


def _same_values(found: Mapping[str, Any], given: Mapping[str, Any]) -> bool:
    """Whether a cost's fields `found` hold the values `given`: an amount as the double that holds it (an API
    holding amounts as doubles writes 2129.95 as 2129.9499999999998: money.same_amount), the rest as they are."""
    if found.keys() != given.keys():
        return False
    for name, value in found.items():
        other = given[name]
        if isinstance(value, Decimal) and isinstance(other, Decimal) and value.is_finite() and other.is_finite():
            if not same_amount(value, other):
                return False
        elif value != other:
            return False
    return True


def _values(fields: Mapping[str, Any]) -> str:
    """A cost's fields as a message names them: `Amount 1350.75, Comment 'Tinglysing'` (a field an answer leaves
    out is `not given`)."""
    return ", ".join(
        f"{k} {'not given' if v is msgspec.UNSET else repr(v) if isinstance(v, str) else v}" for k, v in fields.items()
    )


def _disagree(row: CostRow, cost: _Cost, costs: Sequence[_Cost]) -> str:
    """Why a row whose costId names `cost` and whose entryDefinitionId names none or another of the case's `costs`
    is refused: which of the two it sets cannot be told."""
    holds = "no entry definition" if cost.EntryDefinitionId is None else f"entry definition {cost.EntryDefinitionId}"
    others = [str(c.Id) for c in costs if c.EntryDefinitionId == row.entryDefinitionId and not c.Deleted]
    whose = f"that of cost {', '.join(others)}" if others else "that of no cost of the case"
    return (
        f"costId {row.costId} and entryDefinitionId {row.entryDefinitionId} disagree: cost {row.costId} of case "
        f"{row.caseId} ({row.type}) has {holds}, and entry definition {row.entryDefinitionId} is {whose}; which cost "
        "the row sets cannot be told: give the two of one cost, or one of them"
    )


def _patch_named(row: CostRow) -> str:
    """A row's PATCH as a message names it: "the PATCH of cost 150101 on case 1501 (Buyer), Amount, Comment" (one
    found by its entry definition: "of the cost with entry definition 19")."""
    cost = f"cost {row.costId}" if row.costId is not None else f"the cost with entry definition {row.entryDefinitionId}"
    return f"the PATCH of {cost} on case {row.caseId} ({row.type}), {', '.join(row.changes())}"


def _cost_id(cost: _Cost) -> tuple[int, bool]:
    """What tells a listed cost from another: its Id, and whether it is listed Deleted (a deleted cost and its live
    replacement may have one Id)."""
    return cost.Id, cost.Deleted


def _deleted_only(row: CostRow, found: Sequence[_Cost]) -> str:
    """Why a row by entryDefinitionId whose only costs of that definition (`found`) are listed `Deleted` is refused."""
    ids = ", ".join(str(c.Id) for c in found)
    where = f"entry definition {row.entryDefinitionId} on case {row.caseId} ({row.type}), {ids},"
    said = f"the only cost with {where} is" if len(found) == 1 else f"the costs with {where} are"
    return f"{said} listed Deleted: no live cost has it"


def _total_row(cents: Sequence[int]) -> tuple[int, str, str] | None:
    """The fault of a merged order whose last line's amount is the sum of its other lines' (two or more), given the
    running sums of its lines' cents: a total row an export writes below an order's lines, or a line of the order,
    which cannot be told. Merged, a total row books the order at twice its amount (tester t70d: OUTLAY lines of
    100.00 and 40.00 and a row "Sum ordre" of 140.00 below them were booked as one entry of 280.00, exit 0)."""
    if len(cents) < 3 or not cents[-1] or 2 * (cents[-1] - cents[-2]) != cents[-1]:
        return None
    return (
        len(cents) - 1,
        "amount",
        "the order's last line's amount is the sum of its other lines': a total row of the export, or a line of the "
        "order, which cannot be told (merged, a total row books the order at twice its amount). Remove a total row; "
        "where it is a line of the order, write it before another of the order's lines",
    )


def _cents(amount: Decimal) -> int:
    """An amount of at most 2 decimals in cents, exactly at any size; ValueError for one of more (money.minor_units)."""
    return minor_units(amount, None)


def _kind(definition: Definition) -> str:
    """Where an entry of the definition is created, and what reconciliation keys its id by: a draft and an entry
    may have the same Id (seed 003 numbers each create; nothing says drafts and entries share a sequence)."""
    return "EntryDrafts" if definition.IsDraft else "Entries"


class CostMeant(NamedTuple):
    """What the file meant a cost to hold once the run was done (Costs.meant): field -> value, and the line of the
    input that set it."""

    values: dict[str, Any]
    lines: dict[str, int]


class CostHeld(NamedTuple):
    """A field of a cost the run set that holds another value than the file meant (Costs.held_now): `found` None
    where the cost is not listed live (`listed` False: gone, or listed Deleted)."""

    cost_id: int
    field: str
    meant: Any
    found: Any
    line: int
    listed: bool

    def said(self, case_id: int, kind: str) -> str:
        """As the summary names it: "cost 88808 of case 7001 (Buyer): the file set Amount 4800.00 (line 2), the API
        holds Amount 4500"."""
        holds = f"holds {_values({self.field: self.found})}" if self.listed else "lists it no more (or Deleted)"
        return (
            f"cost {self.cost_id} of case {case_id} ({kind}): the file set {_values({self.field: self.meant})} (line "
            f"{self.line}), the API {holds}"
        )


class OnCase(RecordKind):
    """What entries and costs share: one call a record, whose refusal refuses all of its lines."""

    group_fields = frozenset({"caseId", "orderId", "accountingCostType"})
    #: what --kind calls it
    kind_name = ""

    def destination(self) -> dict[str, str]:
        return {"kind": self.kind_name}

    def encode(self, records: Sequence[Any]) -> bytes:
        return _encode(records)

    def created_ids(self, body: bytes, chunk: Chunk) -> list[int]:
        created: _Created = decoded(body, _Created, "the create call", acted_on=True)
        return [created.Id] * len(chunk)

    def record_of(self, index: int, record: Any) -> Hashable:
        # one entry (an order's lines merged, MergeOrderLinesToOneEntry) or one cost a call: its rows share its id
        return 0

    def bad_items(self, error: APIError, rows: Sequence[Any]) -> dict[int, tuple[str, str]] | None:
        # one entry (or one cost) a call: whatever the API refused, it refused for every line of it
        return {i: ("", f"HTTP {error.status}: {error.message}") for i in range(len(rows))}


class Entries(OnCase):
    """Lines of entries (or drafts) on cases; the lines of one order whose cost types look up one merging
    definition may become one entry."""

    fields = frozenset(EntryRow.__struct_fields__)
    number_fields = money_fields = frozenset({"amount"})
    amount_places = {"amount": Places(decimals=2)}  # the API's amounts have 2 decimals (seed 003)
    date_fields = frozenset({"entryDate"})
    whole_fields = int_fields(EntryRow)
    group_name = "order"
    kind_name = "entries"
    text_keys = True  # an orderId, written by hand and edited in spreadsheets (tester t34b)
    #: what a line of an order is, whatever its amount and note
    line_names = ("accountingCostType", "description")
    filled_down = ("orderId",)
    filled_alike = ("caseId",)
    totals_fields = frozenset({"description", "note"})
    own_group_advice = (
        "where a line is an entry of no order (and the line above it the whole of its order), write it above the "
        "orders, so that no line without an orderId lies right below a line that gives one"
    )
    option_fields = {"accountingCostType": "--cost-type TYPE for a file of one cost type"}
    _definitions: dict[str, Definition] | None

    def __init__(self, definitions: Mapping[str, Any] | None = None, cost_type: str | None = None) -> None:
        """`cost_type`: --cost-type, the accountingCostType of every line of a file that has no such column (an
        export of one cost type; RecordKind.given_fields: a file that has it is refused), None: each line's own."""
        self._shared: dict[str, tuple[str, ...]] = {}
        self.definitions = (
            None if definitions is None else {k: msgspec.convert(v, Definition) for k, v in definitions.items()}
        )
        self.cost_type = cost_type
        if cost_type is not None:
            self.fields = Entries.fields - {"accountingCostType"}
            self.given_fields = {"accountingCostType": f"--cost-type {cost_type}"}

    @property
    def definitions(self) -> dict[str, Definition] | None:
        """The entry definition of each cost type, looked up once before planning (VismaCore.setup); None in a dry
        run, which looks nothing up."""
        return self._definitions

    @definitions.setter
    def definitions(self, definitions: dict[str, Definition] | None) -> None:
        """Also which cost types are one part of an order (`_part`): those whose definitions are one merging
        definition, alike in Id, IsDraft and MergeOrderLinesToOneEntry (seed 003: such a definition creates one
        entry an order, whichever cost type looked it up)."""
        self._definitions = definitions
        merging: dict[tuple[int, bool], list[str]] = {}
        for cost, found in (definitions or {}).items():
            if found.error is None and found.MergeOrderLinesToOneEntry:
                merging.setdefault((found.Id, found.IsDraft), []).append(cost)
        self._shared = {c: tuple(sorted(costs)) for costs in merging.values() if len(costs) > 1 for c in costs}

    def plans_offline(self) -> bool:
        """Without the definitions (looked up by a load, not by a dry run) every order is planned merged, which may be
        no call the load makes."""
        return self._definitions is not None

    def group_label(self, key: str) -> str:
        """ "order R-1 of case 7001 (OUTLAY)"; its cost types that share one merging definition all named: "(OUTLAY,
        UTLEGG)"."""
        case, _, rest = key.partition("/")
        order, _, cost = rest.rpartition("/")
        return f"order {order} of case {case} ({', '.join(self._shared.get(cost, (cost,)))})"

    def _part(self, cost_type: str) -> str:
        """The cost type an order's lines of `cost_type` are keyed by: the first by name of those whose definition
        is the same merging one (OUTLAY for UTLEGG, both definition 19), so their lines of an order are one entry;
        else `cost_type` itself."""
        shared = self._shared.get(cost_type)
        return cost_type if shared is None else shared[0]

    def required(self) -> list[tuple[str, ...]]:
        # entryDate too where the cost type books entries, which only its definition says (looked up later)
        return [(name,) for name in required_fields(EntryRow) if name not in self.given_fields]

    def cost_type_of(self, row: Mapping[str, Any]) -> Any:
        """A row's accountingCostType as read (None for none): --cost-type where it is given (the file has no such
        column), else the row's own."""
        return row.get("accountingCostType", self.cost_type)

    def validate(self, row: dict[str, Any]) -> Any:
        if self.cost_type is not None:  # the file has no such column (given_fields): every line is of this type
            row["accountingCostType"] = self.cost_type
        case = row.get("caseId")
        # as group_key reads it; one past 32 bits is a whole number, whose bound `converted` names
        if type(case) is not int and case is not None and whole_number(case, None) is None:
            raise RowInvalid("caseId", whole_reason(case))
        entry = converted(row, EntryRow, self.read_fields)
        definition = self._definition(entry.accountingCostType)
        if definition.error:
            raise RowInvalid("accountingCostType", f"{entry.accountingCostType}: {definition.error}")
        if not definition.IsDraft and entry.entryDate is None:
            raise RowInvalid(
                "entryDate", f"required: cost type {entry.accountingCostType} books entries (IsDraft is false)"
            )
        if entry.entryDate is not None and at_offset(entry.entryDate) and not _midnight(entry.entryDate):
            # seed 003 writes a day as its midnight at an offset: another instant is refused (tester t69a:
            # `2026-11-30T23:30:00Z`, 1 December in Oslo, was sent as it was, exit 0)
            raise RowInvalid(
                "entryDate",
                instant_reason(
                    entry.entryDate,
                    "Visma Core",
                    "seed 003 writes a day as its midnight, 2026-11-01T00:00:00+02:00",
                    refused=", not at midnight",
                    keeper="the broker company",
                ),
            )
        return entry

    def _definition(self, cost_type: str) -> Definition:
        if cost_type in DOT_SEGMENTS:  # never looked up (VismaCore.setup), nor planned, in a dry run too
            return Definition(error=_UNWRITABLE)
        if self.definitions is None:  # a dry run looks nothing up: plan as if every order were merged
            return Definition(IsDraft=True, MergeOrderLinesToOneEntry=True)
        return self.definitions.get(cost_type) or Definition(error="not looked up")

    def group_fault(self, records: Sequence[Any]) -> tuple[int, str, str] | None:
        """A merged order books one entry with one date and one amount: lines that give two dates are refused, not
        booked on the first line's date (which may be in another period than the rest; one date written two ways,
        `2026-11-05` and `2026-11-05 00:00`, is one: dates.one_date), and lines whose sum is past
        MAX_CENTS in size are refused, not sent as an amount the API may not keep (the line named is where the sum
        first passes it). So is an order of three lines or more whose last line's amount is the sum of its other
        lines' (`_total_row`)."""
        cents = list(accumulate(_cents(r.amount) for r in records))
        if abs(cents[-1]) > MAX_CENTS:
            at = next(i for i, total in enumerate(cents) if abs(total) > MAX_CENTS)
            # exact: 28 digits hold the sum of up to 10**11 lines of 15 digits (most_lines: about 40,000)
            total = sum((r.amount for r in records), Decimal(0))
            return at, "amount", f"the order's lines sum to {total}, which {_PAST} (the order is one entry)"
        # a draft's too, sent the date its lines give: a draft's line may give none (seed 003: not required)
        dated = [(i, r.entryDate) for i, r in enumerate(records) if r.entryDate is not None]
        for i, date in dated:
            if not one_date(date, dated[0][1]):
                first = "first line" if dated[0][0] == 0 else "first line giving a date"
                why = f"{date}, where the order's {first} gives {dated[0][1]}"
                return i, "entryDate", f"{why}: the order is one entry, which has one date"
        return _total_row(cents)

    def group_key(self, row: Mapping[str, Any]) -> str | Unreadable | None:
        """The lines of an order of one cost type, merged into one entry (MergeOrderLinesToOneEntry): they load
        whole or not at all. Keyed by the cost type too (`_part`: the first of those that share its merging
        definition, whose lines of the order are one entry): the definition decides the merge, and one order may
        hold lines of several. A cost type whose definition does not merge books an entry a line (None). The case as
        validation reads it ("1004" and "1004.0" are one case), the order as its text (base.key_text: a JSONL line's
        `"orderId": 1.0` is order "1", rejected with it). Unreadable where it is none, or no case number: the
        line may be its neighbouring order's; or where the cost type is missing or has no definition (its line is
        refused: `outlay` or `OUTLAY.` may be a slip of its order's OUTLAY), of its order (Unreadable.family) where
        the case is a number: the line may be its own order's only (before, it refused another order beside it)."""
        order, case, cost_type = row.get("orderId"), row.get("caseId"), self.cost_type_of(row)
        if order is None:
            return None  # an entry of its own
        number = None if case is None else key_number(case)
        # a line of an order that does not say whose case may be any neighbouring order's line; one that does not
        # say its cost type, any of its own order's (its family)
        family = None if number is None else f"{number}/{key_text(order)}"
        if cost_type is None:
            return Unreadable("no accountingCostType", family)
        if type(cost_type) is not str:  # a JSONL line's 7 or ["OUTLAY"]: no cost type, never looked up as its repr
            given = {list: "a list", dict: "an object", bool: "true or false"}.get(type(cost_type), "a number")
            return Unreadable(f"accountingCostType is no text: {given}", family)
        cost = cost_type.strip()
        definition = self._definition(cost)
        if definition.error is not None:
            lacks = "cannot be looked up" if cost in DOT_SEGMENTS else "has no entry definition"
            return Unreadable(f"accountingCostType {cost!r} {lacks}", family)
        if not definition.MergeOrderLinesToOneEntry:
            return None  # one entry a line
        if case is None:
            return Unreadable("no caseId")
        if number is None:
            return Unreadable(f"caseId {str(case).strip()!r} is no case number")
        return f"{family}/{self._part(cost)}"

    def group_family(self, key: str) -> str:
        """The order (case/order): its lines of another cost type are the same order told otherwise."""
        return key.rpartition("/")[0]

    def row_family(self, row: Mapping[str, Any]) -> tuple[str, str] | None:
        """(the order: case/order, as group_key reads them; the line's cost type, as group_key keys it: `_part`): a
        line of a cost type that books an entry a line (FEE) is the order's all the same. None without an orderId or
        a case number."""
        order = row.get("orderId")
        if order is None:
            return None
        number = key_number(row.get("caseId"))
        if number is None:
            return None
        return f"{number}/{key_text(order)}", self._part(str(self.cost_type_of(row) or "").strip())

    def family_label(self, family: str) -> str:
        case, _, order = family.partition("/")
        return f"order {order} of case {case}"

    def row_label(self, row: Mapping[str, Any]) -> str:
        """An entry without an order: "entry of case 1004". The API keeps entries by case (seed 003: POST
        Cases/{caseId}/Entries), and a line's check holds its case: it is told only among its case's entries."""
        return f"entry of case {key_number(row.get('caseId')) or str(row.get('caseId')).strip()}"

    def decode(self, body: bytes) -> list[Any]:
        return _decode_entries(body)

    async def call_for(self, client: Sender, chunk: Chunk) -> Call:
        records = chunk.entries(self)
        kind = _kind(self._definition(records[0].accountingCostType))
        path = api_path(_BOOKKEEPING, "Cases", records[0].caseId, kind)
        return Call("POST", path, _encode(self._body(records)), repeatable=False)

    def _body(self, records: Sequence[EntryRow]) -> dict[str, Any]:
        """The create's body for an entry's lines: the fields given, a draft's date too where its lines give one (seed
        003: the date is "not required for entry drafts")."""
        first = records[0]
        definition = self._definition(first.accountingCostType)
        body: dict[str, Any] = {
            "EntryDefinitionId": definition.Id,
            # exact: Decimal sums, never floats
            "Amount": sum((r.amount for r in records), Decimal(0)),
            "Description": " / ".join(r.description for r in records if r.description) or None,
            "Note": " / ".join(r.note for r in records if r.note) or None,
            "EntryDate": next((r.entryDate for r in records if r.entryDate is not None), None),
        }
        return {k: v for k, v in body.items() if v is not None}

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        """Drafts and entries apart: their ids may be numbered apart."""
        cents = sum(_cents(r.amount) for r in records)
        return {_kind(self._definition(records[0].accountingCostType)): {"": [1, cents, max(cents, 0)]}}

    def returned_totals(self, body: bytes, sent: dict[str, Totals], chunk: Chunk) -> dict[str, Totals] | None:
        """The entry's count and amount as the answer says them, and what it echoes of the rest that was sent (its case,
        definition, date, description and, where it gives one, note: model.ECHOED; a date as the date sent where it
        names it as dates.same_day reads it, its date part or an instant that is the date sent in one zone only, a
        description left empty as ""). An amount answered as a number whose nearest double is the one of the amount sent
        is that amount (money.same_amount: seed 003 gives the amounts no type, and an API holding them as doubles may
        write 2129.95 as 2.12995000000000005e+03); another that is no whole number of cents differs (ECHOED `Amount`),
        as does one written as text that names another number (`_another_number`: "20641" for 20641.86 sent)."""
        (kind,) = sent  # one kind a call
        created: _Created = decoded(body, _Created, "the create call", acted_on=True)  # read by created_ids already
        records = chunk.entries(self)
        was = self._body(records)
        said = created.EntryDate
        fields = [
            ("CaseId", records[0].caseId, as_int(created.CaseId)),
            ("Description", was.get("Description", ""), "" if created.Description is None else created.Description),
        ]
        # seed 003's answer of an entry shows no EntryDefinitionId: checked where one gives it, not missed where not
        if kind == "EntryDrafts" or created.EntryDefinitionId is not msgspec.UNSET:
            fields.append(("EntryDefinitionId", was["EntryDefinitionId"], as_int(created.EntryDefinitionId)))
        # nor its Note: checked where one gives it (tester t69b: a note answered cut short, or another, reconciled)
        if created.Note is not msgspec.UNSET:
            fields.append(("Note", was.get("Note", ""), "" if created.Note is None else created.Note))
        if "EntryDate" in was:  # the date sent, or an instant that is it in a zone (dates.same_day)
            day = was["EntryDate"][:10]
            answered = day if isinstance(said, str) and same_day(was["EntryDate"], said) else said
            fields.append(("EntryDate", day, answered))
        echoes = {ECHOED: echoed(fields)}
        amount = _said(created.Amount)
        if type(amount) is str and _another_number(amount, was["Amount"]):
            return {kind: {"": [1]}, ECHOED: {**echoes[ECHOED], "Amount": [0]}}
        if type(amount) is not Decimal:  # no amount said, or no number: the row is counted, its amount not checked
            return {kind: {"": [1]}, **echoes}
        if same_amount(amount, was["Amount"]):  # the amount sent, as the double that holds it
            amount = was["Amount"]
        try:
            cents = _cents(amount)
        except ValueError:  # a fraction of a cent, or digits past any amount: a number, and none that was sent
            return {kind: {"": [1]}, ECHOED: {**echoes[ECHOED], "Amount": [0]}}
        return {kind: {"": [1, cents, max(cents, 0)]}, **echoes}


def _midnight(written: str) -> bool:
    """Whether an ISO date-time (as DateFormat.parse gives one) is at midnight, 00:00 (and any zero seconds)."""
    try:
        return datetime.fromisoformat(written).time() == time()
    except ValueError:
        return False


class Costs(OnCase):
    """Changes to seller or buyer costs of cases, one PATCH a row; the cost is found by reading the case's costs."""

    found_write_landed = True  # resolve compares the cost's values with those sent

    fields = frozenset(CostRow.__struct_fields__)
    number_fields = money_fields = frozenset({"Amount"})
    amount_places = {"Amount": Places(decimals=2)}
    whole_fields = int_fields(CostRow)  # the case too: a cost's row is keyed by nothing that reads it
    group_name = "cost"
    kind_name = "costs"

    def __init__(self) -> None:
        self._costs: OrderedDict[tuple[int, str], Listed] = OrderedDict()
        self._cost_locks: dict[tuple[int, str], anyio.Lock] = {}
        #: the run's inputs (VismaCore.setup): their other cases tell a case that does not exist from a wrong address
        self.sources: Sequence[Source] = ()
        #: a case's costs answered in this process: the address is right, and a case answering 404 does not exist
        self._answered = False
        #: the file's cases answered 404 too, and none answered: a wrong address, said once, met by every case after
        self._wrong: WrongEndpoint | None = None
        self._probing = anyio.Lock()

    def required(self) -> list[tuple[str, ...]]:
        """The case and side, the cost (by id or entry definition) and something to change (as CostRow checks)."""
        return [*((name,) for name in required_fields(CostRow)), _FOUND_BY, _CHANGES]

    def validate(self, row: dict[str, Any]) -> Any:
        return converted(row, CostRow, self.read_fields)

    def decode(self, body: bytes) -> list[Any]:
        return _decode_costs_rows(body)

    def order_keys(self, records: Sequence[Any]) -> set[Hashable]:
        """A case's costs of one type: a row by costId and one by entryDefinitionId may change one cost, which
        only the case's costs tell."""
        return {("costs", r.caseId, r.type) for r in records}

    def records_named(self, key: Hashable) -> str:
        if isinstance(key, tuple) and len(key) == 3:
            return f"the {key[2]} costs of case {key[1]}"
        return str(key)

    async def call_for(self, client: Sender, chunk: Chunk) -> Call:
        """The row's PATCH, of the cost as read just before: what it holds of the row's fields goes with the call
        (Call.held, `_held`), which the ledger keeps for `resolve`. The case's costs of the type are read once, and
        again after each PATCH of one of them (rows of one case and type are sent one after another:
        Costs.order_keys)."""
        row = chunk.entries(self)[0]
        cost = await self._find(client, row)
        if not cost.Editable:
            raise RowsRefused({0: ("costId", f"cost {cost.Id} on case {row.caseId} is not Editable")})
        self._costs.pop((row.caseId, row.type), None)  # the next row's look reads what this PATCH left
        changes = row.changes()
        path = api_path("/flow/api/Conditions/Properties", row.caseId, "Costs", cost.Id, row.type)
        held = _held(cost, changes)
        return Call("PATCH", path, _encode(changes), repeatable=False, writes=(cost.Id,), held=held)

    async def _case_costs(self, client: Sender, case_id: int, kind: str, *, fresh: bool = False) -> Listed:
        """The case's costs of `kind` (Buyer or Seller), read once (again when `fresh`), every page of them
        (odata.read_whole: `$top` defaults to 100, seeds README): each answered as an array, or as the one cost, an
        object, as seed 003's sample shows; BadAnswer for anything else."""
        key = (case_id, kind)
        lock = self._cost_locks.setdefault(key, anyio.Lock())
        async with lock:
            if fresh or key not in self._costs:
                path = api_path(_CASES, case_id, "Costs", kind)
                self._costs[key] = await read_whole(
                    client, path, list[_Cost] | _Cost, _cost_id, "costs", max_bytes=LOOKUP_BYTES
                )
                self._answered = True
                while len(self._costs) > COST_CACHE:
                    old, _ = self._costs.popitem(last=False)
                    self._cost_locks.pop(old, None)
            self._costs.move_to_end(key)
            return self._costs[key]

    async def _find(self, client: Sender, row: CostRow, *, fresh: bool = False) -> _Cost:
        """The live cost `row` sets, found in its case's costs; RowsRefused where it cannot be told: none or two
        match, the costs cannot be read whole, the cost is listed `Deleted` (deleted costs are no match: a row's
        costId listed Deleted and live, a deleted cost and its replacement, is the live one)."""
        field = "costId" if row.costId is not None else "entryDefinitionId"
        try:
            listed = await self._case_costs(client, row.caseId, row.type, fresh=fresh)
        except APIError as exc:
            if exc.status != 404:
                raise
            await self._address_answers(client, (row.caseId, row.type), exc)
            path = api_path(_CASES, row.caseId, "Costs", row.type)
            why = f"case {row.caseId} does not exist: GET {path} answered {exc}"
            raise RowsRefused({0: ("caseId", why)}) from None
        if listed.short:
            why = f"the {row.type} costs of case {row.caseId} cannot be read whole: {listed.short}"
            raise RowsRefused({0: (field, f"{why}; which cost the row sets cannot be told")})
        costs: list[_Cost] = listed.items
        if row.costId is not None:
            found = [c for c in costs if c.Id == row.costId]
            what = f"cost {row.costId}"
        else:
            found = [c for c in costs if c.EntryDefinitionId == row.entryDefinitionId]
            what = f"a cost with entry definition {row.entryDefinitionId}"
        if not found:
            raise RowsRefused({0: ("costId", f"{what} not found on case {row.caseId} ({row.type})")})
        live = [c for c in found if not c.Deleted]  # a deleted cost beside its live replacement is no second one
        if len(live) > 1 and row.costId is not None:
            why = f"the API lists cost {row.costId} {len(live)} times on case {row.caseId} ({row.type}): which it is"
            raise RowsRefused({0: ("costId", f"{why} cannot be told")})
        if not live and row.costId is None:
            raise RowsRefused({0: (field, _deleted_only(row, found))})
        if not live:
            where = f"cost {row.costId} of case {row.caseId} ({row.type})"
            raise RowsRefused({0: (field, f"{where} is listed Deleted: no live cost the row can set")})
        if len(live) > 1:
            raise RowsRefused({0: ("entryDefinitionId", f"{what} matches {len(live)} costs; give costId")})
        cost = live[0]
        if row.entryDefinitionId is not None and cost.EntryDefinitionId != row.entryDefinitionId:  # costId given too
            raise RowsRefused({0: ("entryDefinitionId", _disagree(row, cost, costs))})
        return cost

    async def _address_answers(self, client: Sender, missing: tuple[int, str], exc: APIError) -> None:
        """Returns where a case's costs answering 404 (`missing`: its case and type; `exc`) is a case that does not
        exist, whose rows are refused, as a create on one is (VismaCore.api.refusing); raises WrongEndpoint where it
        is a wrong address (--base-url), which answers 404 to every case: no case's costs answered in this process,
        and those of the file's first ADDRESS_PROBES other cases (one GET each, `$top` 1) answer 404 too. A file of
        one case has none to tell it by: its rows are refused, as entries of one cost type without a definition are.
        Raises what client.get raises but 404."""
        async with self._probing:
            if self._wrong is not None:
                raise self._wrong
            tried: list[str] = []
            cases = [] if self._answered else await anyio.to_thread.run_sync(self._other_cases, missing)
            for case_id, kind in cases:
                try:
                    await client.get(api_path(_CASES, case_id, "Costs", kind), {"$top": "1"}, max_bytes=LOOKUP_BYTES)
                except APIError as other:
                    if other.status != 404:
                        raise
                    tried.append(f"{case_id} ({kind})")
                    continue
                self._answered = True
                return
            if tried:
                self._wrong = WrongEndpoint(
                    f"the costs of case {missing[0]} ({missing[1]}) answered {exc}, and so did those of the file's "
                    f"cases {', '.join(tried)}, and no case's answered at {client.base_url}: is --base-url right?"
                )
                raise self._wrong

    def _other_cases(self, missing: tuple[int, str]) -> list[tuple[int, str]]:
        """The first ADDRESS_PROBES cases (and types) the inputs' rows name, in file order, other than `missing`:
        rows whose case is no case number, or whose type is neither Buyer nor Seller, name none."""
        found: dict[tuple[int, str], None] = {}
        for source in self.sources:
            for item in source.rows(("caseId", "type")):
                if isinstance(item, BadRow):
                    continue
                number, kind = key_number(item[1].get("caseId")), str(item[1].get("type", "")).strip()
                if number is None or int(number) < 1 or kind not in ("Buyer", "Seller"):
                    continue
                found.setdefault((int(number), kind))
                found.pop(missing, None)
                if len(found) == ADDRESS_PROBES:
                    return list(found)
        return list(found)

    async def resolve(
        self,
        client: Sender,
        chunk: Chunk,
        taken: Collection[int],
        held: bytes | None = None,
        since: float | None = None,
    ) -> list[int] | None:
        """A PATCH whose answer was lost: read the cost again. It holds the values sent: done (a patch creates
        nothing: another row's cost, `taken`, is this one's when it names it). It holds what it held when read for
        the PATCH (`held`: the call's Call.held, which the ledger kept, whichever process sent it): not carried out
        ([]: sent again once a look after the settle delay agrees). Anything else, or where what it held before is
        not known (`held` None: `_UNKNOWN`): FoundOther, in doubt, never sent again without the user's word (and,
        where `held` says what it held, not even with it: `FoundOther.changed`): another writer changed the cost
        after (or instead of) this PATCH, and sending it again would overwrite that change without a word."""
        row = chunk.entries(self)[0]
        try:
            cost = await self._find(client, row, fresh=True)
        except RowsRefused:
            return None
        finally:
            self._costs.pop((row.caseId, row.type), None)  # the call may be sent again: read again for the next
        sent = row.changes()
        found = {k: cost.holds(k) for k in sent}
        if _same_values(found, sent):
            return [cost.Id] * len(chunk)
        kept = None if held is None else _decode_held(held)
        before = None if kept is None else {k: kept.holds(k) for k in sent}
        if before is not None and _same_values(found, before):
            return []
        said = _UNKNOWN if before is None else _values(before)
        raise FoundOther(
            f"cost {cost.Id} of case {row.caseId} ({row.type}) holds {_values(found)}, neither the values sent, "
            f"{_values(sent)}, nor those it held before the PATCH, {said}",
            "another writer changed it after (or instead of) this PATCH, which is not sent again over that change; "
            "check the cost in Visma Core",
            changed=before is not None,
        )

    def meant(self, rows: Iterable[tuple[int, Mapping[str, Any], int]]) -> dict[tuple[int, str, int], CostMeant]:
        """What the file meant each cost the run set to hold, from the rows that set one (`rows`: (line, the row as
        the run read it, the id of the cost it set), in file order, the files in the run's order): per (case, type,
        cost id), each field a row set at the last such row's value (the rows of one case's costs are sent in file
        order: the last is what the cost keeps), and the line that set it."""
        out: dict[tuple[int, str, int], CostMeant] = {}
        for line, row, cost_id in rows:
            given: CostRow = self.validate(dict(row))
            meant = out.setdefault((given.caseId, given.type, cost_id), CostMeant({}, {}))
            for name, value in given.changes().items():
                meant.values[name], meant.lines[name] = value, line
        return out

    async def held_now(
        self, client: Sender, case_id: int, kind: str, meant: Mapping[int, CostMeant]
    ) -> tuple[list[CostHeld], int]:
        """What the case's costs of `kind` hold now of what the run meant them to (`meant`: cost id -> CostMeant),
        read again (a PATCH answered with the values sent may not have been kept): each field holding another value
        (a cost no longer listed, or listed Deleted, holds none of them), and how many fields could not be checked (a
        list not read whole, a field its listing leaves out). Raises what client.get raises (a case answering 404: each
        field none)."""
        try:
            listed = await self._case_costs(client, case_id, kind, fresh=True)
        except APIError as exc:
            if exc.status != 404:
                raise
            listed = Listed([])
        finally:
            self._costs.pop((case_id, kind), None)
        if listed.short:
            return [], sum(len(m.values) for m in meant.values())
        live = {c.Id: c for c in listed.items if not c.Deleted}
        differing: list[CostHeld] = []
        unchecked = 0
        for cost_id, of_cost in meant.items():
            cost = live.get(cost_id)
            for name, value in of_cost.values.items():
                found = None if cost is None else cost.holds(name)
                if found is msgspec.UNSET:
                    unchecked += 1
                elif not _same_values({name: found}, {name: value}):
                    differing.append(CostHeld(cost_id, name, value, found, of_cost.lines[name], cost is not None))
        return differing, unchecked

    def created_ids(self, body: bytes, chunk: Chunk) -> list[int]:
        """The id of the cost the PATCH answer gives (a PATCH creates nothing: BadAnswer names it as the PATCH); one
        other than the cost the PATCH sent (Call.writes) is no row's id: answered.as_written."""
        cost: _Cost = decoded(body, _Cost, _patch_named(chunk.entries(self)[0]), acted_on=True)
        return [cost.Id] * len(chunk)

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        """Rows count as rows: two may patch one cost."""
        return {"costs": {"": [len(records), 0, 0]}}

    def returned_totals(self, body: bytes, sent: dict[str, Totals], chunk: Chunk) -> dict[str, Totals] | None:
        """One row, and what the patched cost the answer gives holds of each value the row set (model.ECHOED: an
        `Amount` of 12 where 12.5 was sent differs)."""
        row = chunk.entries(self)[0]
        cost: _Cost = decoded(body, _Cost, _patch_named(row), acted_on=True)
        changes = row.changes()
        return {"costs": {"": [1, 0, 0]}, ECHOED: echoed((k, v, cost.holds(k)) for k, v in changes.items())}
