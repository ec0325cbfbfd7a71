"""What the engine asks of a target. The engine knows no API by name: a target is its auth, its limits, how to
count and walk what it holds, and the kinds of record its input files hold (one RecordKind a file)."""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import AsyncIterator, Callable, Collection, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import msgspec.inspect

from .. import redact
from ..errors import APIError, ConfigError, Conflict, RefusedInAnswer
from ..http import ANSWER_BYTES, check_address, check_encrypted, has_control, plain_http_allowed
from ..model import Call, CheckMaker, Chunk, Held, Known, Listed, Partly, Reconciled, Totals
from ..money import Places
from ..numbers import whole_number
from .flags import Flags
from .protocols import Created, Sender
from .reasons import Untold, json_cell

if TYPE_CHECKING:
    from ..sources import Source


class Unreadable(NamedTuple):
    """A group key that cannot be read: the row names its group by a value that is no key ("7,101" or "1.5e3" for
    a voucher number, a journal left blank). Such a row is taken as one that names no group (regroup.keyed): its
    neighbours' groups are refused with it, so no group loads without a line that may be its. `why` says which
    value, for the message. `family`: the family (RecordKind.group_family) the row names all the same, where only
    its part cannot be read (a Visma Core order's line whose cost type is missing or has no entry definition names
    its order by its orderId and case): it may be any line of that family and of no other, and refuses that family
    whole, wherever its lines are (regroup.FAMILY)."""

    why: str
    family: str | None = None


class Elsewhere(NamedTuple):
    """A group key read in full, of a row the run refuses for its place (e-conomic: a journal other than --journal).
    Unlike Unreadable, the row names its group: it is that group's line, refused with it (by validation), not a line
    that may be any neighbour's. Only the group it would be in the place given (`here`: the voucher of its number in
    the journal given) may be it with its place written wrong: that group next to it is refused with it, as is a
    group among whose lines it lies (regroup.keyed; before, every voucher next to it was). `why` says the place
    given, for the message ("not --journal 1")."""

    key: str
    here: str
    why: str


class EarlierRun(NamedTuple):
    """An earlier run into the place a run loads into, as the engine reads its ledger for a target whose books are
    `listed_first` (alongside.earlier_runs): what a listing before the run's first call must hold of it."""

    #: its ledger, as the record of loads names it
    ledger: str
    #: when it last wrote (Ledger.last_write, epoch seconds)
    wrote: float
    #: by this run's file index, the ids of the records that run was answered for (created or changed) in the place
    #: that file goes to, less those a rollback of it removed or found gone
    records: Mapping[int, frozenset[int]]


#: what RecordKind.group_key reads a row's group as
GroupKey = str | Unreadable | Elsewhere | None


def key_number(value: Any) -> str | None:
    """A whole number in a group key as its digits ("0050", "+50", "50.0", "50,0", and a JSON 50.0 are all "50"),
    so that lines the API takes for one group are grouped as one however a file writes the number; None for what
    is no whole number (numbers.whole_number: text, a fraction, an exponent, "4.000", which may be 4000), or past
    32 bits. A zero fraction is taken after either decimal mark: the inspection keys a file's rows before its mark
    is decided, and the planner must key them as it did; the field itself is read the file's way
    (RecordKind.whole_fields), so a row whose key has the other mark is rejected with its group."""
    number = whole_number(value, None)
    return str(number) if number is not None and abs(number) < 2**31 else None


#: a run of digits that is a whole part of a key (between its separators: "/" of Visma Core's case/order), its
#: leading zeros apart: "00123" that a spreadsheet shows as 123
_PADDED = re.compile(r"(?<![^\s/:])0+(?=[0-9]+(?![^\s/:]))")
#: a whole part of a key written with a zero fraction of one or two zeros ("231231201.0", "42.00", "7,0"), as a
#: float column's export (pandas, a database's REAL) writes a whole number; never three ("1.000" may be 1000)
_ZERO_FRACTION = re.compile(r"(?<![^\s/:])([0-9]+)[.,]00?(?![^\s/:])")


def folded(key: str) -> str:
    """A key as a person or a spreadsheet may write it otherwise: letter case (lower: "Maße" is no case of "Masse"),
    surrounding spaces, Unicode form (NFKC: a composed é or an e and its accent, as macOS writes it), invisible
    (format) characters (a zero-width space pasted from a web page: `invisible`), a number's leading zeros and its
    zero fraction (1.0 for 1, as a float column's export writes it) ignored. Two keys alike so are one key written
    two ways, or two keys, which cannot be told."""
    seen = "".join(c for c in unicodedata.normalize("NFKC", key) if unicodedata.category(c) != "Cf")
    return _PADDED.sub("", _ZERO_FRACTION.sub(r"\1", seen.lower().strip()))


def invisible(key: str) -> str:
    """ " (it holds the invisible character U+200B)" where `key` holds format characters (Unicode Cf: a zero-width
    space, a joiner, a soft hyphen, a direction mark), which a message quoting it cannot show; else ""."""
    found = sorted({f"U+{ord(c):04X}" for c in key if unicodedata.category(c) == "Cf"})
    if not found:
        return ""
    return f" (it holds the invisible character{'s' if len(found) > 1 else ''} {', '.join(found)})"


#: a group key's value as JSON (key_text)
_encode_json = msgspec.json.Encoder(decimal_format="number").encode


def key_text(value: Any) -> str:
    """A text value in a group key (Visma Core's orderId, PayorCRM's invoiceNumber and customerno) as its text
    form, so that a JSONL line writing it as another JSON value is keyed with the group its text names and is
    rejected with it (its field takes text), never leaving that group's other lines to load without it: text
    trimmed; a whole number as its digits at any size (`1.0`, `123` and `12345678901.0` are "1", "123" and
    "12345678901"; one written with a fraction past 2^53, which a double may have rounded, and one written with an
    exponent, `1.0E3`, name no group that can be told: regroup.group_reader reads them as Unreadable first), any
    other number as written; `true`, `false` as JSON writes them; a list of one value as that value (`["1"]` is
    "1"); any other list or object as its JSON."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        number = whole_number(value, None)
        return str(value) if number is None else str(number)
    if isinstance(value, list) and len(value) == 1:
        return key_text(value[0])
    return _encode_json(value).decode()


def int_fields(struct: type[msgspec.Struct]) -> frozenset[str]:
    """The fields of `struct` that take a whole number (an int, or a Literal of ints), by their input names."""

    def whole(t: msgspec.inspect.Type) -> bool:
        if isinstance(t, msgspec.inspect.UnionType):
            return any(map(whole, t.types))
        return isinstance(t, msgspec.inspect.IntType) or (
            isinstance(t, msgspec.inspect.LiteralType) and all(type(v) is int for v in t.values)
        )

    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return frozenset(f.encode_name for f in info.fields if whole(f.type))


def required_fields(struct: type[msgspec.Struct]) -> tuple[str, ...]:
    """The fields of `struct` without a default, by their input names, in its order: a row without one is rejected."""
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    return tuple(f.encode_name for f in info.fields if f.required)


class IdsUntold(ValueError):
    """A write's 2xx answer that says the call's items were stored, but not which id each was given (e-conomic: one
    `{"entryNumber": N}` for a bulk create of many entries, seed 002's sample): the items are looked for (the
    kind's `find_sent`) and loaded as found, else in doubt as an answer that cannot be read."""


class RecordKind:
    """What one input file holds, and how its records go to the API: its fields, how a row is validated and
    grouped, how records are encoded, totalled and sent, and what the answer says. Subclasses set the attributes
    and implement the methods."""

    #: the source fields a record may have (unknown CSV columns are a configuration error)
    fields: frozenset[str] = frozenset()
    #: fields read as decimal numbers with the file's decimal mark, and as dates in the file's date order
    number_fields: frozenset[str] = frozenset()
    date_fields: frozenset[str] = frozenset()
    #: the number fields that are amounts of money: the file's decimal mark is decided from these (profile.py); the
    #: other number fields (an exchange rate, written by another system) are read with it, and decide it only where
    #: no amount has a mark (numbers.NumberEvidence.decide)
    money_fields: frozenset[str] = frozenset()
    #: amount fields -> what gives each its decimals (money.Places: the row's currency, one currency an option gives,
    #: or the API's fixed decimals), every money field: an amount whose text reads both ways and has decimals it has
    #: not ("1.500" EUR) is refused with its row (numbers.guessed, chunking.Reading), as is another number field (a
    #: rate) whose text reads both ways read as thousands
    amount_places: Mapping[str, Places] = {}
    #: number fields the API holds as IEEE 754 binary64 doubles (its reference types them `number <double>`): a value
    #: no double holds as written (money.double_keeps) is refused before the first call (chunking.Reading), its
    #: group with it, as the API would store another number
    double_fields: frozenset[str] = frozenset()
    #: fields that take whole numbers, group fields among them (whose keys `key_number` reads): one written with an
    #: exponent ("1.01E+03", a spreadsheet's display of a number it may have rounded) is refused, not read as the
    #: number the exponent says; a zero fraction is read after the file's decimal mark only
    whole_fields: frozenset[str] = frozenset()
    #: amount fields whose values are whole minor units as written (cents, öre: PayorCRM's invoiceAmount by default): a
    #: file writing one with decimals ("1500.00") writes major units, and is refused before the first call
    #: (profile.py) with `minor_unit_advice`, what to give instead
    minor_unit_fields: frozenset[str] = frozenset()
    minor_unit_advice: str = ""
    #: amount fields that take one signed amount (credits negative): a header two of whose columns are mapped to one
    #: of these (a debit and a credit column) is refused (errors.MappedTwice) with `signed_advice`, how to make the one
    #: (`{first}`, `{second}`: the two columns' spreadsheet letters, in the file's order)
    signed_fields: frozenset[str] = frozenset()
    signed_advice: str = ""
    #: fields an option gives every row of the file, not read from it (Visma Core's accountingCostType under
    #: --cost-type) -> the option as given ("--cost-type FEE"); none of `fields`: a file whose header or records name
    #: one is refused before the first call (columns.given_twice), never merged with the option cell by cell
    given_fields: Mapping[str, str] = {}
    #: fields an option gives every row of a file that lacks them, where it is given (Visma Core's
    #: accountingCostType: --cost-type) -> the option as the refusal of a file without the field offers it, its
    #: flag first ("--cost-type TYPE for a file of one cost type"; columns.refusal)
    option_fields: Mapping[str, str] = {}
    #: options that say what the kind's rows mean, how their values are read (PayorCRM's --amount-unit) or which
    #: record each is (HaloPSA's --match-on): their keys among the target's options() -> the flag. A rejects file
    #: loaded without the value its run had, or with another, is refused (runner._meaning_changed): its rows would be
    #: loaded as other values or records
    row_options: Mapping[str, str] = {}
    #: fields of the API's records that a file may name and the kind never takes (e-conomic's entryNumber and
    #: objectVersion, which name an entry already there to update) -> why, as the refusal of a file naming one, in
    #: any case or spacing, says it (columns.not_taken): never a field the name is near to, nor the advice to drop it
    not_taken: Mapping[str, str] = {}
    #: fields whose values go to the API and nowhere else (masked in the rejects file); inside a nested value a key
    #: is masked when it is one of these names or says secret, password or token, or names an API, license or
    #: private key (masking.secret_rule)
    secret_fields: frozenset[str] = frozenset()
    #: fields that take an object or a list (PayorCRM's billAddr, HaloPSA's sync_entities_list): a string there (a CSV
    #: cell, a JSONL string) is its JSON text, decoded by `read_nested`; inside such a value, a JSONL line's object or
    #: list in any field and JSON text in these, a spreadsheet's error value or formula is refused as in a cell
    #: (chunking.Reading: formulas.sheet_values)
    nested_fields: frozenset[str] = frozenset()
    group_name: str = "group"
    #: the fields `group_key` reads
    group_fields: frozenset[str] = frozenset()
    #: text fields that name a record or refer to one, beside the group fields (PayorCRM invoices' customerNumber,
    #: HaloPSA's --match-on fields): in these and the group fields, text written as a spreadsheet writes a long
    #: number ("2.102679E+11", whose digits it may have dropped) is refused (chunking.Reading), never sent as a key
    reference_fields: frozenset[str] = frozenset()
    #: other text fields that hold a number written as text (a document or reference number, a phone number, a
    #: company code): one written as a spreadsheet shows a long number ("1.23457E+11", its last digits dropped) is
    #: refused as in a reference field (chunking.Reading), never sent as that text; its white space is its own
    numeral_fields: frozenset[str] = frozenset()
    #: of the text fields, those that hold a whole number (PayorCRM's fiscalYear "2026", fiscalPeriod "011", sent as
    #: text): one written with a zero fraction after the file's decimal mark ("11,0") is sent as the whole number it
    #: is ("11"); one with a fraction or grouped by thousands ("2.026", a spreadsheet's number format) is refused as
    #: in a whole-number field (chunking.Reading); text that is no number ("P11") is sent as written
    whole_text_fields: frozenset[str] = frozenset()
    #: the reference fields the kind compares itself, as written, with what the API holds, refusing a value equal to
    #: a record's but for case, surrounding spaces or Unicode form (HaloPSA's --match-on fields: halopsa_matching):
    #: surrounding spaces there are the value's own. In the other group and reference fields text with surrounding
    #: white space (a JSONL string: a CSV cell is trimmed) is refused (chunking.Reading): the group key trims it,
    #: and whether the API takes it for the text without them is not documented
    compared_fields: frozenset[str] = frozenset()
    #: every row belongs to a group (a row that names none is a group's line gone wrong)
    rows_grouped: bool = False
    #: the group fields a spreadsheet's merged cell writes on its group's first line only, blank below it
    #: (e-conomic's voucherNumber, a Visma Core orderId, a PayorCRM invoiceNumber): a file whose lines without them
    #: lie right below lines with them, none given on two lines in a row, is refused before the first call
    #: (merged_cells.py). Empty: the kind's groups have no lines to merge
    filled_down: tuple[str, ...] = ()
    #: the fields a line without `filled_down` must give blank or as the line above it does to be taken for a line
    #: below a merged cell (a Visma Core case: a line of another case is no line of the order above it)
    filled_alike: tuple[str, ...] = ()
    #: where a row without `filled_down` is a group of its own (a Visma Core entry without an orderId), how to give
    #: such rows in a file refused as merged (merged_cells.py); empty where it is none
    own_group_advice: str = ""
    #: its families (group_family) are named in text people write by hand and a spreadsheet edits (a Visma Core
    #: orderId, a PayorCRM invoiceNumber within its customer: `alike_within`), where one written in another case,
    #: Unicode form or with its leading zeros dropped is the same one as plausibly as another: two families of a run's
    #: files alike but for that are refused before the first call (profile._alike). False where a group is one record
    #: whose key is compared exactly as sent (PayorCRM's customerno: "AB 1" and "ab_1" are two customers,
    #: docs/payorcrm.md) or is a number read as one (e-conomic's journal and voucher)
    text_keys: bool = False
    #: where `text_keys`: the field two families alike must give the same value of to be refused (PayorCRM's
    #: invoices: `0042` and `42` of one customer are one invoice written two ways, `0100` of A1 and `100` of a1 two
    #: invoices of two customers, which PayorCRM keeps apart); None: any two alike are refused
    alike_within: str | None = None
    #: a group is one record (a PayorCRM customer: one customerno given twice is refused): a row whose key is lost
    #: or mangled is no neighbour's line, and is refused alone (regroup.group_reader)
    single_record_groups: bool = False
    #: the fields of a record that name a line of its group, apart from its amount and free notes (Visma Core: the
    #: cost type and description): a group whose lines lie apart in runs of two lines or more that each give the
    #: same lines so named is given more than once, a copy with edits or a correction appended (regroup.copies).
    #: Empty: the kind has none, and only lines the same in all they say tell copies
    line_names: tuple[str, ...] = ()
    #: the fields every line of a group must give alike (PayorCRM: an invoice's customerNumber): a group whose lines
    #: give two values of one is refused whole before the first call, naming its lines and their values
    #: (regroup.disagreement), never loaded as one: two groups given one key, or one split between those values,
    #: cannot be told apart. Empty: the key alone makes a group
    agreed_fields: tuple[str, ...] = ()
    #: an answer may confirm a record without giving its id (NO_ID: PayorCRM, whose answers seed 004 does not
    #: document); elsewhere an answer gives every record an id, and -1 is none (http.keepable_ids)
    ids_optional: bool = False
    #: the fields besides `money_fields` a totals row of an export fills (e-conomic's journal, text and currency): a
    #: CSV row that fills an amount, these and nothing else (a cell of another field blank or naming a total: `101
    #: Total`, `I alt`) is a control total, checked against the lines above it and never loaded (control_totals.py).
    #: None of a field every line gives (a voucher, a date, a case): such a row is then no line. Empty: the kind reads
    #: no totals rows
    totals_fields: frozenset[str] = frozenset()
    #: the fields a group's subtotal row repeats from the line right above it, the group's number first (e-conomic's
    #: `5;1;101;;1.234,50;;;Total bilag 101` below voucher 101's lines): a row that gives that number, no field of a
    #: line's but these as that line gives them, an amount and a cell naming a total is a control total of that
    #: group's lines (control_totals.py). Empty: the kind reads no such rows
    subtotal_fields: tuple[str, ...] = ()
    #: the field that gives a line's currency, where a totals row's amount is summed per currency ("" for none)
    currency_field: str = ""
    #: method and path of the create call, and whether sending it again is harmless (`call_for`)
    method: str = "POST"
    path: str = ""
    repeatable: bool = False

    @functools.cached_property
    def totals_shape(self) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]] | None:
        """The cells a totals row fills, as sources.Source takes them: (the amounts, the other fields it may fill,
        those a group's subtotal repeats: `subtotal_fields`); None where the kind reads no totals rows
        (`totals_fields`)."""
        if not self.totals_fields:
            return None
        return tuple(sorted(self.money_fields)), tuple(sorted(self.totals_fields)), self.subtotal_fields

    @functools.cached_property
    def read_fields(self) -> frozenset[str]:
        """The fields whose text chunking.Reading reads (numbers, whole numbers, dates), refusing a text of no such
        value there, the text null among them (reasons.converted looks at the others)."""
        return self.number_fields | self.whole_fields | self.date_fields

    # --- per row ---------------------------------------------------------------------------------
    def read_nested(self, row: dict[str, Any]) -> None:
        """Each `nested_fields` string of `row` (JSON text: a CSV cell, a JSONL string) as the value it writes, in
        place, in the row's order (reasons.json_cell: its numbers as written); RowInvalid naming the first field
        whose text is not JSON, or gives a key twice. For `validate`."""
        nested = self.nested_fields
        for name, value in row.items():
            if type(value) is str and name in nested:
                row[name] = json_cell(name, value)

    def validate(self, row: dict[str, Any]) -> Any:
        """Coerce and check one source row; raise errors.RowInvalid. Runs once per row: keep it lean. A row it
        refuses is read again for its other faults (chunking.Reading.every_fault): a value it converts in place must
        read the same again, or be put back as given when it refuses the row (payorcrm's Invoices, minor units)."""
        raise NotImplementedError

    def validate_at(self, file_idx: int, line: int, row: dict[str, Any]) -> Any:
        """`validate` for a kind whose rows mean what the rows before them leave (HaloPSA's --match-on: a row
        matches a record as the earlier rows renamed it): the row of file `file_idx` at `line`. By default
        `validate` alone (the planner then calls that)."""
        return self.validate(row)

    def required(self) -> Sequence[tuple[str, ...]]:
        """The columns a CSV file of the kind must have, and the keys some record of a JSONL file must give, of each
        tuple at least one: a row without them is rejected, so a file without them is refused before the first call
        (an empty cell of one, a record without one where another gives it, stays its row's rejection). By default
        none."""
        return ()

    def group_key(self, row: Mapping[str, Any]) -> GroupKey:
        """The group a source row belongs to, from its trimmed values as read (before validation, so that a bad
        row still names its group), each value as validation reads it (`key_number`): rows with one key travel in
        one call and load whole or not at all, and an earlier load that created the key is not repeated. None: the
        row stands alone; Unreadable: it names a group by a value that is no key; Elsewhere: it names its group in
        full, one the run refuses for its place. Runs once per row."""
        return None

    def group_label(self, key: str) -> str:
        """A group key as messages name it, e.g. "voucher 5002 (journal 1)"."""
        return f"{self.group_name} {key}"

    def group_family(self, key: str) -> str:
        """What the API takes as one thing across groups (Visma Core: an order, whose lines of each cost type are a
        group of their own): a group of the input no earlier run created, of a family one did create (an order
        loaded as COMMISSION, now OUTLAY), is a correction, rejected as one (ledger.known_to). By default the group
        itself."""
        return key

    def row_family(self, row: Mapping[str, Any]) -> tuple[str, str] | None:
        """(family, part): the family (group_family) a source row names, and which part of it the row is, from the
        values group_key reads, read as it reads them: a row of no group (group_key None) too, as Visma Core's line
        of a cost type that books an entry a line (FEE) names its order all the same; its part is its cost type.
        An earlier run that sent a line of a family as another part, or a group of it, stops this input's rows of
        no group of it that it did not load (ledger.known_to): the family given otherwise is a correction. Rows of a
        part of a family it sent only rows of no group of that part of are not stopped: a row of no group cannot
        tell a corrected copy of itself from a new row (the fixed rejects file holds the rows that did not load);
        one that is a line it loaded, given as it was (by its check), is skipped, in either case.
        None: it names none, as by default; a kind that overrides this has its rows' families recorded as its files
        are read (profile.py), and runs it once a row of no group and once a group (whose rows are of one part)."""
        return None

    def family_label(self, family: str) -> str:
        """A family as messages name it, e.g. "order 7 of case 1004"; by default as its group (group_family)."""
        return self.group_label(family)

    def row_label(self, row: Mapping[str, Any]) -> str:
        """A row of no group and no family as a message names the record it creates (Visma Core: "entry of case
        1004", the case whose entries the API keeps it among), where it is told as one an earlier load of the file
        loaded (chunking.Planner.line_loaded); by default the kind's record (`group_name`)."""
        return self.group_name

    def destination(self) -> dict[str, str]:
        """Where the records go beyond the API's address and agreement: the settings that decide it, name -> value
        (e-conomic: the journal given for rows that name none; HaloPSA: the resource). A setting left out is left to
        the rows, which may name any. The record of loads tells two loads of one content apart by these
        (loads.same_place); by default {}: every load of a content into the API goes to the same place."""
        return {}

    def units(self, record: Any) -> int:
        """The record's amount in its currency's minor unit, for the per-group control totals (0: none)."""
        return 0

    def line_check(self, record: Any, units: int) -> int | None:
        """A number that changes with what a line books (its amount, accounts, date and the rest the API keeps as
        sent), so that reconciliation sees a line changed behind the loader's back even where its voucher's totals
        stay the same (two amounts swapped); made the same way from a walked record; `units`: the record's
        `units`. None: lines are not compared. A change to what it takes raises model.CHECKS_VERSION, a "line" step
        of model.CHECKS_CHANGED; a kind that has one is of a target whose Api.checks_by is "line"."""
        return None

    def plans_offline(self) -> bool:
        """Whether rows of this kind are planned into the calls a load makes with nothing looked up in the API first
        (a dry run looks nothing up): else a dry run cannot tell what earlier loads did with them (runner.dry_run)."""
        return True

    @property
    def checks_also(self) -> bool:
        """Whether the kind's group checks leave out a field the API also sets itself (its own `group_checks`): the
        lines of a group that give it are compared apart (model.Known.also)."""
        return type(self).group_checks is not RecordKind.group_checks

    def group_checks(self, records: Sequence[Any], units: Sequence[int], checks: list[int]) -> list[int]:
        """The checks a group's digest (model.group_digest) is made from, given its lines' `checks` and `units`: by
        default those; a kind whose line checks take a field the API also sets itself (model.Listed.also) leaves it
        out, as the digest of what the API lists (Books.groups_already_there) must."""
        return checks

    def group_fault(self, records: Sequence[Any]) -> tuple[int, str, str] | None:
        """Why a group's good lines cannot load as one, found only in them together: (the line's index in
        `records`, the field, the reason), which rejects the group; None for none. Runs once a group of more
        than one line, where a kind has it."""
        return None

    def imbalance(self, records: Sequence[Any], units: Sequence[int]) -> dict[str, int]:
        """How far a group's lines (with their `units`) are from balancing, per currency: currency -> minor units
        (above 0) of each that does not balance; minor units of two currencies add up to no amount. Empty: balanced,
        or nothing to balance."""
        return {}

    def sort_account(self, record: Any) -> Hashable | None:
        """What an export sorted by account sorts a line by (its account), where the kind's groups balance
        (`imbalance`): a group whose lines lie apart in runs of one account each, no two alike, is such a file's
        group, not the group given twice, even where each run balances (regroup.copies). None: the kind has none."""
        return None

    def order_keys(self, records: Sequence[Any]) -> set[Hashable]:
        """The records a chunk writes, where writes to one record must land in file order (Api.ordered)."""
        return set()

    def records_named(self, key: Hashable) -> str:
        """An order key (`order_keys`) as a message names the records it stands for."""
        return str(key)

    def writes(self, records: Sequence[Any]) -> tuple[int, ...]:
        """The ids of the records `records` change, where the rows themselves name them (HaloPSA's `id`), in rising
        order; () where they do not (a call may still name them once built: model.Call.writes)."""
        return ()

    # --- per chunk -------------------------------------------------------------------------------
    def encode(self, records: Sequence[Any]) -> bytes:
        raise NotImplementedError

    def decode(self, body: bytes) -> list[Any]:
        """The records of an encoded chunk (a chunk planned in another process carries only its body)."""
        raise NotImplementedError

    def summarize(self, records: Sequence[Any]) -> dict[str, Totals]:
        """Control totals of a chunk per scope (e.g. journal)."""
        raise NotImplementedError

    async def call_for(self, client: Sender, chunk: Chunk) -> Call:
        """The request that sends a chunk. May look things up (cache what it looks up) and raise
        errors.RowsRefused for rows that cannot be sent."""
        return Call(self.method, self.path, chunk.body, self.repeatable)

    #: a look that finds a lost write's records (`resolve`) finds the values it wrote: it landed and lands no more,
    #: so later writes to its records wait no settle delay for it (pipeline.Loader.look). False where a look
    #: finds a record by what names it, whatever it holds (HaloPSA's update: its lost write may land yet)
    found_write_landed: bool = False

    async def resolve(
        self,
        client: Sender,
        chunk: Chunk,
        taken: Collection[int],
        held: bytes | None = None,
        since: float | None = None,
    ) -> list[int] | Partly | None:
        """For a call whose answer was lost, look where the API allows it: the ids if it took effect (a look can prove
        presence); [] if its effect is certainly not there now, in a listing known to be whole (sending it again is safe
        once a second look `settle_s` later agrees); model.Partly where some of its records are there and the others
        certainly not (a call the API carried out in part); None when there is no telling (errors.NotWhole where that
        is for a listing that was not whole, saying why: the pipeline says so in the call's reason, and looks once more
        when the run's own writes have landed; errors.FoundOther where it found other values). `taken`: the ids the
        run's ledger already holds for other rows of the kind's files (pipeline.taken_ids): a record one of them made
        or named is no evidence that this call created it. `held`: the call's model.Call.held as the ledger kept it with
        its latest attempt, by whichever process sent it; None where it kept none. `since` (on the loop's clock): what a
        look takes at or after then answers it (the call was lost then, or the settle delay since has passed), as it
        answers the run's other looks begun since (HaloPSA's listing: latest.Latest); None: a look of its own."""
        return None

    async def find_sent(
        self, client: Sender, chunk: Chunk, baselines: Mapping[str, Mapping[str, int]], taken: Collection[int]
    ) -> list[int] | Partly | None:
        """For a keyed call its key cannot settle (rollback, and the load and resume: the API forgot the key, or
        replays a failure for it), a call in flight: look for what it created among what the run's scopes received
        since their `baselines`, leaving out the records of `taken` (as `resolve`). The ids if it took effect, []
        if it certainly did not, model.Partly where it found some of its records and not the others (which need not
        prove them absent), None when there is no telling. By default as `resolve`."""
        return await self.resolve(client, chunk, taken)

    async def find_stored(
        self, client: Sender, chunk: Chunk, since: Mapping[str, int], taken: Collection[int]
    ) -> Partly | None:
        """For a call the API refused, at one that does not say a refusal stores nothing (Api.refusal_stores_nothing
        False): what it stored all the same, among the records its scopes received since it left (`since`: scope →
        the newest id the run knew then; ids only grow), leaving out those of `taken` (as `resolve`). Per row the id
        of the record found for it, or None (certainly not stored); None where a look cannot tell. A kind without
        one (by default) cannot look: the rows the refusal did not name are in doubt (`finds_stored`)."""
        return None

    @property
    def finds_stored(self) -> bool:
        """Whether the kind can look for what a refused call stored (`find_stored`): the rest of such a call is then
        looked for before it is sent again, never left in doubt unlooked for."""
        return type(self).find_stored is not RecordKind.find_stored

    def creates(self, chunk: Chunk) -> bool:
        """Whether `chunk`'s call creates records (what a rollback deletes), rather than only changing records that
        are there: a look that finds what such a call did is never taken for the run's records to delete, since a
        look cannot tell them from another writer's made alike (undo.py). By default every call creates."""
        return True

    def lookalikes(self, chunk: Chunk) -> bytes | None:
        """What a look for what `chunk`'s call created (`resolve`, `find_sent`) compares, as model.lookalikes makes
        it: a look could find a record another call created and take it for its own where theirs are `alike`; then,
        while that call's outcome is not recorded, what the look finds proves nothing (pipeline.Loader.not_proven).
        Kept in the ledger with the call as it leaves. None: a look never can (by default)."""
        return None

    def created_ids(self, body: bytes, chunk: Chunk) -> list[int]:
        """The ids the API gave the chunk's created items, one for each, in request order (NO_ID for items it
        confirmed without one); ValueError for an answer that cannot be the chunk's (the call arrived: in doubt), and
        IdsUntold for one that says the items were stored but not which id each was given (they are looked for)."""
        raise NotImplementedError

    def record_of(self, index: int, record: Any) -> Hashable:
        """Which record in the API row `index` of a call (`record`) writes, as far as the rows tell: an answer may
        give one id to rows only where this says they are one record (answered.answered_ids). By default each row is
        a record of its own (its index)."""
        return index

    def failed_items(self, body: bytes, chunk: Chunk) -> dict[int, tuple[str, str]]:
        """Items of the chunk whose records a 2xx answer says failed, the call succeeding (index -> (field, what the
        answer says)); {} for none, as by default. What became of such an item the API does not say: its group is in
        doubt, and never sent again with it (pipeline.Loader.failed_in_answer). ValueError as `created_ids`."""
        return {}

    def returned_totals(self, body: bytes, sent: dict[str, Totals], chunk: Chunk) -> dict[str, Totals] | None:
        """Control totals of what the API says it created, in the scopes of `sent` (what `chunk` carried), for
        reconciliation by responses: [rows] alone when the answer gives no amounts, None when it says nothing."""
        return None

    def bad_items(self, error: APIError, rows: Sequence[Any]) -> dict[int, tuple[str, str]] | Untold | None:
        """Which items of a refused call of `rows` were bad (index -> (field, "errorCode: message")), or None if
        the answer does not say; reasons.Untold where it names items but which cannot be told (why, and the items
        it may name: the call is in doubt where the API does not say a refusal stores nothing,
        `Api.refusal_stores_nothing`)."""
        return None


#: seconds a write whose answer was lost may still land at an API that documents no commit time and is served by
#: ASP.NET (HaloPSA; Visma Core, by its PascalCase JSON, ASP.NET Web API's default, an inference: seed 003 names no
#: server): 110 s for ASP.NET's executionTimeout, 2 minutes for the ASP.NET Core Module's requestTimeout, past which
#: the server no longer runs a request whose caller has gone. A write committed later than that (a queue behind the
#: API) defeats it: raise --settle-s
ASP_NET_SETTLE_S = 120.0


@dataclass(frozen=True, kw_only=True)
class Api:
    """How an API behaves, as far as the engine must know: its keys, caps, pace, commit time, and how what it
    holds is counted, reconciled and removed."""

    #: the API takes an idempotency key: a retry of a call whose answer was lost is safe
    idempotent: bool
    #: how long the API remembers a key's answer; a key older than this deduplicates nothing
    key_ttl_s: float = float("inf")
    #: items and bytes one call may carry; items per call unless --batch-size says otherwise
    max_items: int
    default_batch: int | None = None
    max_bytes: int = 2_000_000
    #: the longest answer read of a call (in bytes) unless the call names its own cap: an answer longer than what
    #: the call can ask for is refused, never held whole (errors.AnswerTooLarge)
    answer_bytes: int = ANSWER_BYTES
    #: the API's published rolling window (requests, seconds), kept by default; --window-limit/-s change it
    window: tuple[int, float] | None = None
    default_base_url: str = ""
    #: each call carries exactly one group (an API that takes one entry a call, merged or not); max_items is then the
    #: most lines a group may have, none of the API's: the most that fit in max_bytes
    one_group_per_call: bool = False
    #: writes to one record must land in file order (`RecordKind.order_keys` names the records a chunk writes)
    ordered: bool = False
    #: how long after its answer was lost a call may still be carried out (the API's plausible commit time, in
    #: seconds; `--settle-s` overrides it). `resolve` finding nothing proves the call was not carried out only
    #: when it finds nothing again this long after the loss; 0: the API commits before it answers, one look is
    #: enough
    settle_s: float = 0.0
    #: how reconciliation works: "walk" (count endpoint + cursor walk of what was created since the
    #: baseline), "responses" (the API cannot be read back: compare what was sent with what it answered),
    #: or "target" (the target's own `reconcile`)
    reconcile_by: str = "walk"
    #: what the API partitions records by for counting (e-conomic: journal)
    scope_name: str = "scope"
    #: what the success file calls the id the API gives a created record
    id_name: str = "id"
    #: reconciliation by responses: scopes (kinds) whose calls change records that exist, so that rows of several
    #: calls may name one record (two rows patching one cost); in the others each call creates its own records
    kinds_updated: frozenset[str] = frozenset()
    #: the API can delete what a run created (rollback); where it cannot, rollback says so
    can_delete: bool = False
    #: control totals of a currency key that is no ISO 4217 code (or none) are minor units of a size nothing tells
    #: (PayorCRM sends such a code as given): shown as the plain minor units they are; else as amounts, 2 decimals
    #: where money.DECIMALS names no other
    iso_units_only: bool = False
    #: what a record the run created may have met when it is gone (a 404) and no rollback of ours removed it
    gone_means: str = "removed by someone else"
    #: statuses of an error answer that refuses the items of the call (they are rejected, the run goes on) rather
    #: than something about the run itself (credentials, address, limits)
    refusing: frozenset[int] = frozenset({400, 422})
    #: error codes of a 409 answer that the same call sent again may get past
    retry_codes: frozenset[str] = frozenset()
    #: a call the API refuses (`refusing`) stored none of its items, so the items it did not name bad are sent again;
    #: False where the API does not say so (PayorCRM, e-conomic): they are in doubt, as a call whose answer was lost,
    #: unless the kind can look for what it stored (RecordKind.finds_stored, e-conomic): those found whole are loaded
    #: as found, those not found sent again, those found in part in doubt
    refusal_stores_nothing: bool = True
    #: what makes the line checks of the lines the target's kinds load (model.CheckMaker): "line" where they have a
    #: RecordKind.line_check of their own; what tells whether an earlier bulkload's checks are this version's
    #: (ledger._checks_of: model.checks_alike)
    checks_by: CheckMaker = "record"

    def refused(self, error: APIError) -> bool:
        """Whether an error answer refuses the items of the call (or a 2xx one whose body does: RefusedInAnswer)."""
        return error.status in self.refusing or isinstance(error, RefusedInAnswer)

    def refused_or_too_large(self, error: APIError) -> bool:
        """Whether an error answer refuses the call's items, or the call for its size: nothing in it is retried."""
        return self.refused(error) or self.too_large(error)

    @staticmethod
    def too_large(error: APIError) -> bool:
        """Whether an error answer refuses the call for its size (413, RFC 9110 §15.5.14): nothing of it was stored,
        and its parts may be sent apart."""
        return error.status == 413

    def retryable(self, error: APIError) -> bool:
        """Whether an error answer may succeed when the same call is sent again."""
        return error.retryable or isinstance(error, Conflict) and error.error_code in self.retry_codes


def check_credential(name: str, value: str) -> None:
    """Refuses (ConfigError naming `name`, never the value) a credential `value` holding a control character (C0:
    a line break, a tab, NUL; or DEL), as one pasted from a file of two lines does: no HTTP header or form can
    carry it as it is (http.Client refuses the call), and no API's credential holds one; or a C1 one (U+0080-U+009F:
    Windows-1252's € or quotes read as Latin-1), which no text holds (`http.has_control`); and one holding bytes that
    are no UTF-8 text (the environment's bytes Python keeps as lone surrogates: a value pasted from a file in
    Latin-1), which no call can encode."""
    if has_control(value):
        raise ConfigError(
            f"credential {name} holds a control character (a line break, a tab, NUL, …; or one of U+0080-U+009F, "
            "Windows-1252's € or quotes read as Latin-1; the value is not shown): set it to the credential alone, on "
            "one line, as UTF-8 text; nothing was sent"
        )
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ConfigError(
            f"credential {name} holds bytes that are no UTF-8 text (pasted from a file in another encoding, such as "
            "Latin-1? the value is not shown): set it again as UTF-8 text; nothing was sent"
        ) from None


@dataclass(frozen=True)
class Credentials:
    """The environment variables a target reads its credentials from."""

    #: those holding the credentials, in the order the API needs them
    names: tuple[str, ...]
    #: those of them that are no secret (an OAuth client id): not masked where an answer quotes them
    public: frozenset[str] = frozenset()
    #: those that name the agreement the daily quota belongs to (None: all of them); only a keyed hash is kept
    agreement: tuple[str, ...] | None = None
    #: those it reads beyond them, where set (the [credentials] table of a job file may give them)
    optional: frozenset[str] = frozenset()
    #: those that name the account the run writes into, whose fingerprint its ledger keeps (account.py; None: those
    #: of `agreement`, else all of them): a secret rotated for the same account (PayorCRM's api_secret) is not in it;
    #: () where none does (a bearer token that changes at every refresh): the API's address names the account
    account: tuple[str, ...] | None = None
    #: what the API calls that account, as messages name it
    account_noun: str = "account"
    #: one address serves many accounts, which `account` names, while the record of loads files loads by the address
    #: alone (not by `agreement`): a load given groups an earlier load brought there with other such credentials
    #: cannot tell a key renewed for its account from another account's, and is refused (other_keys.refuse_other_key)
    shared_address: bool = False

    def read(self, env: Mapping[str, str]) -> dict[str, str]:
        """The credentials from `env` (and the optional ones that are set), white space around each left out;
        ConfigError names those missing, one holding a control character (`check_credential`), and an address
        (`addresses`) that is no http(s) URL, or plain http to another machine (http.check_encrypted).
        Every answer read and every output written from now on shows the secret ones as *** (an API may echo
        them)."""
        # as an HTTP header carries it: white space around a value is no part of it (`grant-x ` is `grant-x`'s
        # agreement, and the record of loads, the limits and the account's fingerprint must know it as one)
        given = {k: v.strip() for k, v in env.items() if k in self.names or k in self.optional}
        missing = [k for k in self.names if not given.get(k)]
        if missing:
            # resume, reconcile and rollback read no job file: "or the config" sent them looking for one (t36d)
            raise ConfigError(
                f"missing credential: set {', '.join(missing)} in the environment (a load may give "
                f"{'it' if len(missing) == 1 else 'them'} in the [credentials] table of its --config instead)"
                f"{self._set_instead(missing, env)}"
            )
        for name, value in given.items():
            check_credential(name, value)
        found = {k: given[k] for k in self.names}
        redact.register(*(v for k, v in found.items() if k not in self.public))
        found.update({k: given[k] for k in sorted(self.optional) if given.get(k)})
        for name in self.addresses:
            if name in found:
                check_address(name, found[name], "the token endpoint's root", "https://host/auth")
                check_encrypted(name, found[name], plain_http_allowed(env))
        return found

    def _set_instead(self, missing: list[str], env: Mapping[str, str]) -> str:
        """ "; ECONOMIC_APP_SECRET is set: did you mean ECONOMIC_APP_SECRET_TOKEN?" for each missing name that a
        variable set in `env` (none of the target's own) is a near miss of: a name mistyped, cut short or in lower
        case, which the bare "missing" left the user to find; and "; X is set, but empty or only white space" for one
        exported empty (`export X=$TOKN`, a variable of another name unset), which "set X" alone told to set again.
        Names only, never a value."""
        others = [k for k in env if k not in self.names and k not in self.optional]
        hints = []
        for name in missing:
            close = difflib.get_close_matches(name, [k.upper() for k in others], n=1, cutoff=0.8)
            if close:
                given = next(k for k in others if k.upper() == close[0])
                hints.append(f"; {given} is set: did you mean {name}?")
        if blank := [name for name in missing if name in env]:
            are = "is" if len(blank) == 1 else "are"
            hints.append(f"; {', '.join(blank)} {are} set, but empty or only white space")
        return "".join(hints)

    @property
    def addresses(self) -> list[str]:
        """Those of `optional` that hold an address (a token endpoint's, `*_URL`): refused by `read` unless an
        absolute http(s) URL, as --base-url is."""
        return [name for name in sorted(self.optional) if name.endswith("_URL")]

    def agreement_of(self, credentials: Mapping[str, str]) -> list[str]:
        """The credentials' values that name the agreement whose daily quota the run's calls count against."""
        return [credentials.get(k, "") for k in self.agreement or self.names]

    @property
    def account_names(self) -> tuple[str, ...]:
        """The variables whose values name the account the run writes into (`account`; () for none)."""
        return self.account if self.account is not None else self.agreement or self.names

    def holder_of(self, credentials: Mapping[str, str]) -> list[str]:
        """The credentials' values that say whose account a load goes to at any address (account.anywhere): those
        of `account_names`, or where none names the account (a bearer token that is refreshed), every one: the same
        token at two addresses is one holder's until it changes."""
        return [credentials.get(k, "") for k in self.account_names or self.names]


class Books:
    """What the API holds, as far as the engine reads it back and removes it: the groups already there before a
    load, what one scope holds (count, baseline, walk) or the target's own reconciliation, and the records a run
    created with the path that deletes each. By default nothing is read back and a run's records have one scope.
    Subclasses override what their API offers."""

    #: loading the same file again changes nothing (HaloPSA with --match-on): no duplicate-load check
    rerunnable: bool = False
    #: a load creates no record, only sets values on records that are there (Visma Core's --kind costs): one content
    #: given twice in one load sets the same values twice, and is not refused (loads.refuse_same_content)
    creates_nothing: bool = False
    #: a run decides by what it listed before its first call (HaloPSA: what --match-on matches, what a lost create's
    #: look leaves out), which records another run creates meanwhile are not in: no two runs into one place at once
    #: (alongside.refuse_alongside)
    listed_first: bool = False
    #: with `listed_first`: when the run's listing before its first call began (epoch seconds; 0.0 for a ledger made
    #: before it was kept: at no time known); None while it has not listed. A resume acting on it is refused once
    #: another run has written into the place since (alongside.refuse_alongside)
    listed_at: float | None = None

    @property
    def finds_groups(self) -> bool:
        """Whether `groups_already_there` asks the API (the target has one of its own)."""
        return type(self).groups_already_there is not Books.groups_already_there

    async def groups_already_there(
        self,
        client: Sender,
        keys: Callable[[], Iterator[str]],
        baselines: Mapping[str, Mapping[str, int]],
        asked: Callable[[int], object] = lambda n: None,
    ) -> AsyncIterator[Known]:
        """Which of the input's group keys (`keys()` iterates them, as often as needed) the API already holds,
        with the reason to give: asked once before the first call, so a group loaded before is not created again.
        `baselines`: what each of the `scopes` held before this look, as `baseline` read it (scope → {"count",
        "max_id"}): a scope that held nothing holds none of the groups now but what another writer creates in it
        since, which lies above its baseline, walked and compared (a double where the run creates it too), as what
        it creates after the look does. `asked(n)`: n more of the keys settled (asked about, or known not to be there
        without asking), so that a look of minutes shows how far it is of all the keys."""
        return
        yield

    def scopes(self, keys: Callable[[], Iterator[str]]) -> Iterator[str]:
        """The scopes the input's groups (`keys()`) fall in, where the keys tell: their baselines are taken before
        the look for groups already there (`groups_already_there`, which must look only in these), so a group
        another writer creates after the look lies above the baseline and is compared, a double where the run
        creates it too. By default none (each is taken before the first chunk that touches it)."""
        return iter(())

    # --- rollback --------------------------------------------------------------------------------
    def created_by_run(self, ledger: Created, files: list[str]) -> Iterator[tuple[str, int]]:
        """(scope, id) of every record the run created (not those it only updated), for rollback."""
        seen: set[int] = set()
        for _, _, record_id in ledger.created_lines():
            if record_id not in seen:
                seen.add(record_id)
                yield "", record_id

    def loaded_by_run(self, ledger: Created, files: list[str]) -> Iterator[tuple[tuple[str, int], bool]]:
        """((scope, id), whether the run created it) of each record the run loaded, in one pass: those it created
        (`created_by_run`), which rollback deletes, and those its rows updated (named by id, or matched), which
        rollback never deletes nor sets back, said to its user. By default a run updates none."""
        return ((item, True) for item in self.created_by_run(ledger, files))

    def there_before(self, scope: str, record_id: int) -> bool:
        """Whether the record was in the API before the run's first call, as the run saw then: no row of the run
        created it, whatever its ledger says, and rollback never deletes it. By default no record is known so."""
        return False

    def delete_path(self, scope: str, record_id: int) -> str:
        raise NotImplementedError

    async def held(
        self, client: Sender, ledger: Created, files: list[str], rows: Callable[[int], Iterator[tuple[int, Any]]]
    ) -> Held:
        """For reconcile_by = "target": what the records the run created (`created_by_run`) hold now, read before a
        rollback deletes them and compared as `reconcile` compares them (model.Held); `rows` as `reconcile`'s. A
        target reconciled by walk is read by its `walk` instead (still_ours.py)."""
        raise NotImplementedError

    # --- reconciliation --------------------------------------------------------------------------
    async def read_back(
        self,
        client: Sender,
        ledger: Created,
        files: list[str],
        rows: Callable[[int], Iterator[tuple[int, Any]]],
        rec: Reconciled,
    ) -> Reconciled:
        """For reconcile_by = "responses": `rec` (what the answers said, reconcile.by_responses) with what the API
        holds now of the records the run changed, where some of them can be read back (Visma Core's costs): an
        answer that says the values sent proves nothing of what was kept. `rows` as `reconcile`'s. By default
        nothing can be read back: `rec` as it is."""
        return rec

    async def reconcile(
        self, client: Sender, ledger: Created, files: list[str], rows: Callable[[int], Iterator[tuple[int, Any]]]
    ) -> Reconciled:
        """For reconcile_by = "target": the report's `reconcile` section. `rows(file_idx)`: the (line, row) of each
        row of input `files[file_idx]` as the run read it (its settings, the file's numbers and dates), each that
        could be read."""
        raise NotImplementedError

    async def baseline(self, client: Sender, scope: str) -> dict[str, int]:
        """What the scope held before this run touched it (at least `count`)."""
        raise NotImplementedError

    async def count(self, client: Sender, scope: str, upto: int | None = None) -> int:
        """How many records the scope holds; with `upto`, of those with ids up to it (a baseline's newest id: what is
        left of the records there before the run)."""
        raise NotImplementedError

    def walk(self, client: Sender, scope: str, after: int, upto: int | None) -> AsyncIterator[Listed]:
        """Pages of the scope's records with after < id ≤ upto (None: no upper bound). Ids only grow, so
        `after` = the baseline's newest id walks what was created since."""
        raise NotImplementedError


class Phases:
    """The order the input files are planned and sent in, and what planning a later phase needs from the earlier
    ones. By default: all files in one phase. Subclasses override what their target needs."""

    def of(self, n_files: int) -> list[list[int]]:
        """Groups of file indexes; each group is sent completely before the next is planned."""
        return [list(range(n_files))]

    def before(
        self, files: Sequence[int], unsettled: Mapping[int, Mapping[int, str]], sources: Sequence[Source]
    ) -> dict[str, Any]:
        """What planning the next phase (`files`) needs from the earlier ones (`unsettled`: file -> line -> why it
        did not load). Returned so the run can keep it: a resume plans with the same."""
        return {}

    def use(self, context: Mapping[str, Any]) -> None:
        """Take what `before` worked out (in the planning process, and on resume)."""

    def given_again(self, file_idx: int) -> bool:
        """Whether the file may be one a finished earlier run loaded into the same place: it is given for what a
        later phase learns from it (PayorCRM's customers, which its invoices are checked against), and each of its
        records belongs to a group that the earlier run's word skips (ledger.known_to). By default no."""
        return False


class Target:
    """Base of every target: its API's behaviour and credentials, its own options (`flags`), the kind of record
    each input file holds and the `phases` the files are sent in, its auth, and its `books`: how what the API holds
    is counted, walked, reconciled and removed. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    api: ClassVar[Api]
    credentials: ClassVar[Credentials]
    #: what the API holds, read back and removed (replaced per instance where it depends on the options)
    books: Books = Books()
    #: the order the input files are planned and sent in (replaced per instance where it depends on the options)
    phases: Phases = Phases()
    #: the target's own options of `bulkload load TARGET`
    flags: ClassVar[Flags] = Flags()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> Target:
        return cls()

    def options(self) -> dict[str, Any]:
        """The target's options, stored in the ledger so that resume runs with the same settings."""
        return {}

    def kind_of(self, file_idx: int) -> RecordKind:
        """What input file `file_idx` holds."""
        raise NotImplementedError

    async def setup(
        self, client: Sender, sources: Sequence[Source], *, late: bool = False, earlier: Sequence[EarlierRun] = ()
    ) -> None:
        """Look up once what planning needs from the API (e.g. entry definitions); the result must end up
        in `options()` so that resume and the planning process see the same. `late`: the run may have written
        already (an adopted copy of its ledger that lost what it looked up before its first call): what the API
        holds now may hold the run's own records. `earlier`: for books `listed_first`, the earlier runs into the
        place, whose records a listing taken now must hold (errors.ListingLags where it does not)."""

    # --- auth ------------------------------------------------------------------------------------
    def headers(self, credentials: Mapping[str, str]) -> dict[str, str]:
        """Headers sent with every request (static credentials)."""
        raise NotImplementedError

    async def authorize(
        self, client: Sender, *, refused: Mapping[str, str] | None = None, fetch: bool = True
    ) -> Mapping[str, str] | None:
        """Per-request credentials that must be fetched (an OAuth token): cached, fetched through `client`
        (so the fetch counts toward the limits), and fetched anew when the cached ones are `refused` (those a 401
        answered; where another call replaced them meanwhile, its new ones). Without `fetch`: the cached ones while
        fresh, None when they must be fetched first (no call, and no wait: the caller holds a rate slot)."""
        return {}
