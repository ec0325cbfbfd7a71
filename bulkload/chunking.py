"""From rows to chunks: read each row's numbers and dates the file's way, validate it, keep a group (voucher,
merged order) in one chunk and load it whole or not at all, respect the API's item and byte caps, and encode
each chunk in one call.

A group is decided by its rows as read, before validation, so a bad line still names its group: when any line
of a group is rejected (or cannot even be read), every line of the group is rejected with a reason that names
the line that failed, and nothing of it is sent. The input's groups are together (profile.py checks the whole
file first, and regroup.py brings the lines of a scattered file together); a group whose lines it brought together
from runs that are each the whole group (regroup.copies), or whose lines are the same lines (by what names them,
and where the kind balances their amounts; one line that balances on its own is a whole voucher) given again in a
row (regroup.repeated), is the group given more than once, and is rejected whole. Where groups are parts of one thing
(RecordKind.group_family: a Visma Core order, its lines of each cost type a group, or an entry a line), that thing
is judged so, all its lines together, and where it or any part of it is given more than once, all of it is rejected.

The plan is deterministic: the same files and settings give the same chunks with the same sequence numbers,
which is what lets `resume` find each chunk's stored idempotency key again.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from hashlib import blake2b
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple

import msgspec

from .dates import DateFormat
from .errors import RowInvalid, SourceError, joined
from .formulas import (
    SHEET_STARTS,
    cell_value,
    error_value_reason,
    formula_reason,
    is_error_value,
    sheet_reason,
    sheet_values,
    signed_dde,
)
from .masking import MASK, mask_under, masked, scrub, secret_rule, secret_texts
from .model import Chunk, GroupInfo, Known, RowOutcome, also_differs, group_digest, imbalance_text
from .money import JSON_SAFE_DIGITS, Places, currencies_named, double_keeps, listed, nearest_double, value_text
from .numbers import (
    NumberFormat,
    grouped_by_thousands,
    guessed,
    spreadsheet_exponent,
    text_marked,
    text_marked_reason,
    whole_number,
    whole_reason,
)
from .regroup import (
    FAMILY,
    GIVEN_AGAIN,
    RUN,
    SAME_LINES,
    SAME_NAMES,
    SHADOWS,
    Placed,
    copies,
    disagreement,
    keyed,
    part_of,
    repeated,
)
from .sources import BadRow, JsonExponent, Row, decode_exact
from .targets.base import RecordKind, Target
from .targets.reasons import null_reason

#: how many closed groups are remembered to catch a group whose lines are not together after all
RECENT_GROUPS = 100_000
#: an amount's quantum with 2 decimals, and with 3
_CENT = Decimal("0.01")
_THOUSANDTH = Decimal("0.001")
#: chunk sequence numbers of file i start at i << FILE_SHIFT
FILE_SHIFT = 24
#: rejected rows held before the plan pauses (yields None) so the caller can write them out
REJECTS_BATCH = 1_000
#: the copies of a group given more than once that its reason names one by one
_COPIES_SHOWN = 5


#: text that writes a number with a sign, a mark or separators ("2.026", "11,0", "-1 000"), no letter
_WRITES_NUMBER = re.compile(r"[+\-\u2212]?[0-9][0-9.,' \u00a0\u202f\u2009\u2019]*").fullmatch

#: a number written with an exponent ("1.01E+03", "1e3"), as a spreadsheet shows one it may have rounded
_EXPONENT = re.compile(r"\s*[+-]?(?:[0-9]+[.,]?[0-9]*|[.,][0-9]+)[eE][+-]?[0-9]+\s*").fullmatch


#: a date-time at midnight of no zone, as the file's dates are read ("2026-11-05 00:00" is "2026-11-05T00:00"): the
#: date it is, group 1
_MIDNIGHT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})[T ]00:00(?::00(?:\.0+)?)?").fullmatch
#: a number sent as text (PayorCRM's balanceAmount: the file's number, written out by validation)
_NUMERAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?").fullmatch
#: a record as it is sent, its numbers with a fraction the exact Decimals written
_decode_sent = msgspec.json.Decoder(float_hook=Decimal).decode
#: what a record_check hashes: a nested value's numbers as written (`1.50`), as version 4 had them
_packer = msgspec.msgpack.Encoder()
#: the msgpack extension a whole number past msgpack's 64 bits is hashed as, its digits (never a text's check)
_WIDE = 1
#: the whole numbers an API's JSON integer holds: 64 bits, signed (a kind's own tighter bounds are its to name)
_LEAST_WHOLE, _MOST_WHOLE = -(2**63), 2**63 - 1


def _pack(value: Any) -> bytes:
    """`value` (a decoded JSON record) as msgpack; a whole number inside it that msgpack cannot hold (past 64 bits:
    a nested value's, which no field's bounds refused) as an extension of its digits, so no such line stops a plan."""
    try:
        return _packer.encode(value)
    except OverflowError:
        return _packer.encode(_wide_as_digits(value))


def _past_64_bits(name: str, number: int | None) -> tuple[str, int] | None:
    """(name, number) where the whole `number` of the field `name` is past 64 bits, signed; else None."""
    return None if number is None or _LEAST_WHOLE <= number <= _MOST_WHOLE else (name, number)


def _wide_as_digits(value: Any) -> Any:
    """`value` with each int past msgpack's range (-2**63 to 2**64 - 1) a msgspec Ext of its decimal digits."""
    kind = type(value)
    if kind is int and not -(2**63) <= value < 2**64:
        return msgspec.msgpack.Ext(_WIDE, str(value).encode())
    if kind is dict:
        return {key: _wide_as_digits(item) for key, item in value.items()}
    if kind is list:
        return [_wide_as_digits(item) for item in value]
    return value


def record_check(kind: RecordKind, record: Any) -> int:
    """A line's check where the kind has no RecordKind.line_check (62 bits), of what the line books: its record as
    the API is sent it (RecordKind.encode, a JSON array of it), its amounts (RecordKind.number_fields) by their
    value, and its dates (RecordKind.date_fields) at midnight by the date: a file saved again by a spreadsheet gives
    100.50 as 100,5 or 100.5, 200,00 as 200, and 2026-11-05 as "2026-11-05 00:00", and books what it booked (Visma
    Core's amounts are numbers and its EntryDate the date at midnight, seed 003; PayorCRM's balanceAmount is text
    to the API, seed 004, but the file's number, sent as validation writes it out: by its value too). A time of day
    or a zone is kept as written: the API may keep either. A secret (RecordKind.secret_fields, or a key inside a
    nested value that names one: masking.secret_rule) counts by being given, never by its value: the check goes to
    the ledger. Of model.CHECKS_VERSION (`older_check`: of 4 and 5); a change to it is a "record" step of
    model.CHECKS_CHANGED."""
    (sent,) = _decode_sent(kind.encode([record]))
    sent = masked(sent, secret_rule(kind.secret_fields))
    for name in kind.number_fields:
        value = sent.get(name)
        if type(value) is Decimal or type(value) is int or type(value) is str and _NUMERAL(value):
            sent[name] = value_text(Decimal(value))
    for name in kind.date_fields:
        value = sent.get(name)
        if type(value) is str and (midnight := _MIDNIGHT(value)):
            sent[name] = midnight[1]
    return int.from_bytes(blake2b(_pack(sent), digest_size=8).digest(), "big") >> 2


def kept_check(kind: RecordKind, record: Any) -> int:
    """The check the ledger keeps of a line whose record is `record` (created.line_check), as Planner._checks makes
    it: the kind's RecordKind.line_check (0 for none) where it has one, else `record_check`."""
    if type(kind).line_check is RecordKind.line_check:
        return record_check(kind, record)
    return kind.line_check(record, kind.units(record) if type(kind).units is not RecordKind.units else 0) or 0


def older_check(kind: RecordKind, record: Any) -> int:
    """A line's `record_check` as checks of version 4 and 5 (model.OLDER_CHECKS) made it: its record as encoded, so
    that a line an older ledger kept is told given again as it was (100.50 given as 100.5 is not)."""
    return int.from_bytes(blake2b(kind.encode([record]), digest_size=8).digest(), "big") >> 2


class Reading:
    """How one file's values are read: its numbers with its decimal mark, its dates in its date order, its whole
    numbers written out (RecordKind.whole_fields), and the text that names a record (`key_fields`) not in a
    spreadsheet's exponent form; no text with white space around it (a JSONL string's: a CSV cell is trimmed) that
    names a record (but in `compared_fields`: RecordKind.compared_fields) or is the currency giving an amount its
    decimals (`amount_places`); no value of any column a spreadsheet formula or a spreadsheet's error value
    (formulas.py), nor any value inside a nested one (a JSONL object or list, JSON text in `nested_fields`:
    RecordKind.nested_fields); no secret the rejects file's mask (`MASKED_SECRET`)."""

    def __init__(
        self,
        numbers: NumberFormat,
        dates: DateFormat,
        number_fields: Iterable[str],
        date_fields: Iterable[str],
        whole_fields: Iterable[str] = (),
        key_fields: Iterable[str] = (),
        *,
        json: bool = False,
        double_fields: Iterable[str] = (),
        secret_fields: Iterable[str] = (),
        amount_places: Mapping[str, Places] | None = None,
        other_fields: Iterable[str] = (),
        mark_given: bool = False,
        compared_fields: Iterable[str] = (),
        nested_fields: Iterable[str] = (),
        numeral_fields: Iterable[str] = (),
        whole_text_fields: Iterable[str] = (),
        named_currencies: Mapping[str, str] | None = None,
    ) -> None:
        #: secrets (RecordKind.secret_fields): one given as the rejects file's mask is refused, never sent
        self._secrets = tuple(secret_fields)
        #: a kind with secrets: the keys inside a nested value that hold one (masking.secret_rule), as the rejects
        #: file masks them
        self._secret_key = secret_rule(self._secrets) if self._secrets else None
        numeric, dated = tuple(number_fields), tuple(date_fields)
        #: numbers the API holds as doubles (RecordKind.double_fields)
        self._doubles = tuple(double_fields)
        #: (field, how its text is read, what gives its decimals where it is an amount (`amount_places`), whether
        #: it is a number of no amount, such as a rate), numbers first: one pass a row. A number that reads both ways
        #: ("1.500") is judged by numbers.guessed (`_guessed`), unless the user gave the decimal mark (`mark_given`,
        #: --decimal), which says how it reads
        places = {} if mark_given else amount_places or {}
        others = frozenset(() if mark_given else other_fields)
        self._parsers = tuple((name, numbers.parse, places.get(name), name in others) for name in numeric) + tuple(
            (name, dates.parse, None, False) for name in dated
        )
        self._numbers = frozenset(numeric)
        self._wholes = tuple(whole_fields)
        #: the first whole number past 64 bits of the row convert() read last (within_64_bits), or None
        self._past: tuple[str, int] | None = None
        #: a whole number's zero fraction is read after the file's decimal mark only ("1010,00" in a comma file)
        self._mark = numbers.decimal
        #: the mark a reason names as the file's (numbers.whole_reason): None where no number of the file shows one
        self._told = numbers.decimal if numbers.shown else None
        #: what groups thousands the file's way: the other mark (a number of no amount so grouped is judged)
        self._grouping = "," if numbers.decimal == "." else "."
        #: text fields that name a record (the number and whole-number ones are read as numbers already)
        self._keys = tuple(sorted(frozenset(key_fields) - self._numbers - frozenset(self._wholes) - frozenset(dated)))
        #: text that names a record, or holds a number as text (RecordKind.numeral_fields): none in exponent form
        self._exponents = self._keys + tuple(sorted(frozenset(numeral_fields) - frozenset(self._keys)))
        #: text fields that hold a whole number (RecordKind.whole_text_fields)
        self._whole_texts = tuple(whole_text_fields)
        #: text whose surrounding white space is refused -> what it does: the group key (regroup) and an amount's
        #: decimals (money.Places) read it without, and whether the API does is not documented
        self._unspaced = {name: "names a record" for name in self._keys if name not in frozenset(compared_fields)}
        self._unspaced.update(
            (p.field, "gives an amount its decimals") for p in (amount_places or {}).values() if p.field is not None
        )
        #: fields whose text is JSON of an object or a list (RecordKind.nested_fields), looked into for error values
        #: and formulas
        self._nested = tuple(nested_fields)
        #: (amount field, the column's name that says its currency, that currency as the name says it, the ISO
        #: 4217 currencies it stands for, what gives the amount its currency) of each amount a column so named holds
        #: (profile.FileProfile.named_currencies): a row of another currency is refused
        self._named = tuple(
            (name, column, _said(named), named[1], at)
            for name, column in (named_currencies or {}).items()
            if (at := (amount_places or {}).get(name)) is not None and (named := currencies_named(column)) is not None
        )
        #: where a JSON number with an exponent is read as its text, to be refused with its reason
        self._as_text = self._numbers | frozenset(self._wholes) | frozenset(dated)
        #: where a JSON number with a fraction stays the exact Decimal: an amount, or a whole number to be proved so
        self._exact = self._numbers | frozenset(self._wholes)
        #: JSON numbers with a fraction arrive as exact Decimals, and with an exponent as a JsonExponent; outside
        #: the number fields both are plain numbers
        self._json = json

    @classmethod
    def of(
        cls,
        kind: RecordKind,
        numbers: NumberFormat,
        dates: DateFormat,
        *,
        json: bool = False,
        mark_given: bool = False,
        named_currencies: Mapping[str, str] | None = None,
    ) -> Reading:
        """How a file of `kind` is read, with the file's decided `numbers` and `dates` (`json`: a JSONL file;
        `mark_given`: the decimal mark is the user's, --decimal, not decided from the file; `named_currencies`: amount
        fields whose column's name says their currency -> that name)."""
        return cls(
            numbers,
            dates,
            kind.number_fields,
            kind.date_fields,
            kind.whole_fields,
            kind.group_fields | kind.reference_fields,
            json=json,
            numeral_fields=kind.numeral_fields | kind.whole_text_fields,
            whole_text_fields=kind.whole_text_fields,
            double_fields=kind.double_fields,
            secret_fields=kind.secret_fields,
            amount_places=kind.amount_places,
            other_fields=kind.number_fields - kind.money_fields,
            mark_given=mark_given,
            compared_fields=kind.compared_fields,
            nested_fields=kind.nested_fields,
            named_currencies=named_currencies,
        )

    def convert(self, row: dict[str, Any]) -> None:
        """Numbers become Decimals and dates ISO text, in place; RowInvalid names the field and the reason."""
        # a formula or a spreadsheet's error value (#N/A, Err:502) in any column makes the row no values
        # (formulas.py): a CSV row's cells (all text) are looked at only where one holds "=", "#" or "Err:" (few rows
        # do: three scans in C, a fifth of the cost of a look at each), each then by its first character. A kind with
        # secrets looks into each value for the rejects file's mask (mask_under) only where the row holds one: a CSV
        # row in the same text
        masks = self._secret_key is not None
        if self._json:
            for name, value in row.items():
                of = type(value)
                if of is str:
                    if value[:1] not in SHEET_STARTS:  # the most cells: one look
                        if "|" in value and signed_dde(value):
                            raise self.every_fault(row, self._sheet_faults(row), self.convert)
                        continue
                    if value[0] == "=":
                        try:
                            self._formula(row, name, value)
                        except RowInvalid:  # JSON text is read as it is: its cells are looked at again, all of them
                            raise self.every_fault(row, self._sheet_faults(row), self.convert) from None
                    elif is_error_value(value):
                        raise self.every_fault(row, self._sheet_faults(row), self.convert)
                elif of is Decimal:
                    if name not in self._exact:
                        row[name] = float(value)
                elif of is JsonExponent:
                    row[name] = str(value) if name in self._as_text else float(value)
                elif (of is dict or of is list) and self._inside(name, value) is not None:
                    raise self.every_fault(row, self._sheet_faults(row), self.convert)
            for name in self._nested:  # JSON text in a JSONL string (a CSV cell's is looked at as the row's text)
                if self._inside(name, row.get(name)) is not None:
                    raise self.every_fault(row, self._sheet_faults(row), self.convert)
        else:
            try:
                joined = "".join(row.values())
            except TypeError:  # a value that is no text (a row made in code, not read): each is looked at
                suspect = True
            else:
                suspect = "=" in joined or "#" in joined or "Err:" in joined or "|" in joined
                masks = masks and MASK in joined
            if suspect and (faults := self._sheet_faults(row)):
                raise self.every_fault(row, faults, self.convert)
        get = row.get
        for name in self._secrets:
            secret: Any = get(name)
            if type(secret) is str and secret.strip() == MASK:  # a rejects file loaded again, its secrets not typed in
                raise RowInvalid(name, MASKED_SECRET)
        if masks and self._secret_key is not None:  # inside a nested value, as the rejects file masks it (masking)
            for name, value in row.items():
                if (inside := mask_under(value, self._secret_key)) is not None:
                    raise RowInvalid(name, masked_secret(inside))
        for name in self._exponents:
            key: Any = get(name)
            if type(key) is not str:
                continue
            if spreadsheet_exponent(key):
                raise RowInvalid(
                    name,
                    f"{key.strip()!r} is written with an exponent, as a spreadsheet shows a long number it may have "
                    "rounded: write it in full",
                )
            if text_marked(key):
                raise RowInvalid(name, text_marked_reason(key))
        for name in self._whole_texts:
            written: Any = get(name)
            if type(written) is not str or written.strip().isdigit() or not _WRITES_NUMBER(written.strip()):
                continue  # digits as written ("011": the text's own zeros), or text that is no number ("P11")
            whole = whole_number(written, self._mark)
            if whole is None:
                raise RowInvalid(name, whole_reason(written, self._told))
            row[name] = str(whole)  # "11,0" in a file of decimal commas is the period 11, as a whole number reads
        for name, does in self._unspaced.items():
            text: Any = get(name)
            if type(text) is str and (text[:1].isspace() or text[-1:].isspace()):
                raise RowInvalid(
                    name,
                    f"{text!r} has white space around it: {name} {does}, and whether the API takes it for "
                    f"{text.strip()!r} is not documented (a JSONL string is sent as written); write it without",
                )
        grouping = self._grouping
        for name, parse, places, other in self._parsers:
            value = get(name)
            if type(value) is str:
                read: Any
                try:
                    row[name] = read = parse(value)
                except ValueError as exc:
                    raise RowInvalid(name, str(exc)) from None
                # rare: an amount of 3 decimals exactly, another number grouped by the other mark
                if (places is not None and read.same_quantum(_THOUSANDTH)) or (other and grouping in value):
                    self._guessed(name, value, read, places.of(row) if places is not None else None)
        for name, column, code, codes, at in self._named:
            if type(get(name)) is not Decimal:
                continue
            if (of_row := at.of(row)) is not None and of_row[1] not in ("", *codes):
                raise RowInvalid(
                    name,
                    f"the column {column!r} holds {name} in {code}, as its name says, and the row's currency is "
                    f"{of_row[1]}: which currency the amount is in cannot be told. Map to {name} a column of the "
                    f"amounts in the row's currency, or correct the row's currency",
                )
            if at.field is not None and not get(at.field):  # sent without one, the API books it in its own
                raise RowInvalid(
                    name,
                    f"the column {column!r} holds {name} in {code}, as its name says, and the row names no "
                    f"{at.field}: sent without one, it is booked in whatever currency the API takes for none, not "
                    f"necessarily {code}. Give the row's {at.field} "
                    f"({codes[0] if len(codes) == 1 else 'one of ' + listed(codes)})",
                )
        for name in self._doubles:
            number: Any = get(name)
            of = type(number)
            if of is Decimal:
                # a common amount (2 decimals, at most 15 digits) is held by a double without a look; no finite
                # number is the kind's to name
                if (number.same_quantum(_CENT) and number.adjusted() < 13) or not number.is_finite():
                    continue
            elif of is not int:
                continue
            if not double_keeps(number):
                raise RowInvalid(name, _double_reason(name, number))
        past: tuple[str, int] | None = None  # the first whole number past 64 bits: within_64_bits names it
        for name in self._wholes:
            cell: Any = get(name)
            if cell is None:  # not given, the most fields of most rows
                continue
            kind = type(cell)
            if kind is str:
                if cell.isdigit() and cell[0] != "0":  # the usual cell: msgspec reads it (not "0100", nor "0")
                    if len(cell) > 18 and past is None:  # 18 digits are always within 64 bits
                        past = _past_64_bits(name, whole_number(cell, self._mark))
                    continue
                if ("e" in cell or "E" in cell) and _EXPONENT(cell):
                    raise RowInvalid(
                        name,
                        f"{cell!r} is written with an exponent, as a spreadsheet shows a number it may have "
                        "rounded: write the whole number",
                    )
            elif kind is int:  # a JSON number
                if past is None:
                    past = _past_64_bits(name, cell)
                continue
            elif kind is not Decimal:
                continue
            number = whole_number(cell, self._mark)
            if number is not None:
                row[name] = number  # exactly: msgspec would read "1009.99999999999999999" as 1010, through a float
                if past is None:
                    past = _past_64_bits(name, number)
            elif kind is Decimal or _is_decimal(cell) or grouped_by_thousands(cell):
                # a number, but no whole one, or digits grouped by thousands ("12.345.678"); text is msgspec's to name
                raise RowInvalid(name, whole_reason(cell, self._told))
            elif len(cell) == 4 and cell.lower() == "null":  # which msgspec reads as no value: the field left unsent
                raise RowInvalid(name, null_reason(name, cell, "a whole number"))
        self._past = past

    def within_64_bits(self) -> None:
        """RowInvalid where a whole number (RecordKind.whole_fields) of the row convert() read last is past 64 bits,
        signed: no API's JSON integer holds it. Asked after the kind's validation, whose tighter bounds ("must be at
        most 2147483647") are named first; found as convert() reads the row's whole numbers, so a row pays nothing
        more for it."""
        if self._past is None:
            return
        name, number = self._past
        if number > 0:
            raise RowInvalid(name, f"must be at most {_MOST_WHOLE} (64 bits), got {number}")
        raise RowInvalid(name, f"must be at least {_LEAST_WHOLE} (64 bits), got {number}")

    def _guessed(self, name: str, text: str, read: Decimal, places: tuple[int, str] | None) -> None:
        """RowInvalid where the number `text` of `name`, read as `read` with the file's decided mark, reads both ways
        and its reading is a guess (numbers.guessed: `places`, the decimals of an amount, None for a rate): never
        booked as the one reading, nor rounded."""
        reason = guessed(name, text, read, self._mark, places)
        if reason is not None:
            raise RowInvalid(name, reason)

    def quoted(self, reason: str, field: str, row: Mapping[str, Any]) -> str:
        """`reason`, why the row's `field` is refused, quoting the amount convert() read as the file writes it: in a
        file of decimal commas 99,999 is quoted so, not as "99.999", which its reader takes for 99999."""
        value = row.get(field)
        if self._mark != "," or type(value) is not Decimal or field not in self._numbers:
            return reason
        shown = str(value)
        return reason.replace(shown, shown.replace(".", ",")) if "." in shown else reason

    def _sheet_faults(self, row: dict[str, Any]) -> list[RowInvalid]:
        """Each cell of `row` that starts with ``=`` read in place (`_formula`); the faults of those refused, of
        each cell that is a spreadsheet's error value (formulas.is_error_value), and of each nested value that holds
        either (`_inside`), in the row's order."""
        faults = []
        for name, value in row.items():
            if type(value) is not str or value[:1] not in SHEET_STARTS:
                if type(value) is str and signed_dde(text := value.strip()):
                    faults.append(RowInvalid(name, formula_reason(text)))
                elif (fault := self._inside(name, value)) is not None:
                    faults.append(fault)
                continue
            if value[0] == "=":
                try:
                    self._formula(row, name, value)
                except RowInvalid as exc:
                    faults.append(exc)
            elif is_error_value(value):
                faults.append(RowInvalid(name, error_value_reason(value)))
        return faults

    def every_fault(
        self, row: Mapping[str, Any], faults: Sequence[RowInvalid], check: Callable[[dict[str, Any]], object]
    ) -> RowInvalid:
        """The fault of a row already refused (`faults`, those found so far; `row`, its cells as the checks that
        refused it left them) naming every field the row would be refused for, so that one round of fixing is enough:
        the row is read again by `check` (this Reading's convert, and the kind's validation after it:
        Planner.plan) without the fields refused so far until no more is, or until a check needs one of them (a
        required field, the currency an amount is converted by), refuses the row as a whole, or names a field the row
        leaves empty (Visma Core's "nothing to change" once the Amount is taken out: a fault of the look, not of the
        row). Only a row already refused pays for it; each check reads its own output again as it read the cell (a
        number read is a Decimal, a date ISO text: RecordKind.validate). A fault of another bucket (RowInDoubt) ends
        the look and is not named. The fields are in the order met (`errors.joined`)."""
        found = [fault for each in faults for fault in each.faults]
        named = {name for name, _ in found}
        # Excel's text formula a CSV cell held is read in place: written so again, it is not taken for what it spells
        text = not self._json
        base = {
            k: '="' + v.replace('"', '""') + '"' if text and type(v) is str and v[:1] == "=" else v
            for k, v in row.items()
        }
        for _ in range(len(base)):
            try:
                check({k: v for k, v in base.items() if k not in named})
            except RowInvalid as exc:
                if exc.bucket != faults[0].bucket or any(name in named or name not in row for name, _ in exc.faults):
                    # a fault of the row, not of a field of it, or of a field taken out or the row leaves empty:
                    # what taking the refused fields out made ("nothing to change" without the Amount taken out)
                    break
                found += exc.faults
                named.update(name for name, _ in exc.faults)
            else:
                break
        first, *more = found
        return RowInvalid(*first, also=more) if more else faults[0]

    def _inside(self, name: str, value: Any) -> RowInvalid | None:
        """The fault of the row's field `name` where its `value` is a nested one holding spreadsheet error values or
        formulas (an object or a list; in a `nested_fields` field, JSON text of one), naming each by where it is and
        what (formulas.sheet_values: "'#N/A' at billAddr.city …; also '#REF!' at billAddr.zip; also '=D1' at
        billAddr.att is a spreadsheet formula …", each of another kind than the first with its reason); None for
        none, and for text that is no JSON, which the kind refuses as it decodes it (RecordKind.read_nested)."""
        of = type(value)
        if of is str:
            if ("#" not in value and "Err:" not in value and "=" not in value) or name not in self._nested:
                return None
            try:
                value = decode_exact(value)
            except (ValueError, RecursionError):
                return None
        elif of is not dict and of is not list:
            return None
        found = sheet_values(value, name)
        if not found:
            return None
        (at, text), *more = found
        formula = text[0] == "="
        also = "".join(
            f"; also {shown!r} at {where}" if (shown[0] == "=") is formula else f"; also {sheet_reason(shown, where)}"
            for where, shown in more
        )
        return RowInvalid(name, sheet_reason(text, at) + also)

    def _formula(self, row: dict[str, Any], name: str, value: str) -> None:
        """Read `value`, the row's cell `name` starting with ``=``, as formulas.cell_value reads it, in place;
        RowInvalid for a formula (or, in a JSONL file, Excel's text formula)."""
        try:
            text = cell_value(value, json=self._json)
        except ValueError as exc:
            raise RowInvalid(name, str(exc)) from None
        if text is not value:
            row[name] = text


#: why a secret given as the mask the rejects file writes for it is refused: sent, it would replace the secret
MASKED_SECRET = (
    f"{MASK} is the rejects file's mask, not the secret: type the secret in again (sent, {MASK} would become the "
    "record's secret)"
)


def masked_secret(key: str) -> str:
    """Why a nested value whose secret `key` holds the rejects file's mask is refused (masking.mask_under)."""
    return (
        f"{MASK} under {key!r} is the rejects file's mask, not the secret: type the secret in again (sent, {MASK} "
        "would become the secret)"
    )


def _double_reason(name: str, number: Decimal | int) -> str:
    """Why `number`, of a field the API holds as a double (RecordKind.double_fields), is refused."""
    return (
        f"{number} is not held exactly by a double, as the API holds {name} (its reference types it number "
        f"<double>): it would store {nearest_double(number)}. A double holds every number of up to "
        f"{JSON_SAFE_DIGITS} significant digits as written, and only some of more"
    )


def _begins(lines: list[int], starts: list[int]) -> tuple[int, ...]:
    """Where, in `lines` (a family's, in file order), its lines begin again after other families': the index of
    each of `starts` (in order), the lines a regrouped file marks so (regroup.RUN)."""
    at = (bisect_left(lines, line) for line in starts)
    return tuple(sorted({i for i in at if 0 < i < len(lines)}))


def _is_decimal(text: str) -> bool:
    """Whether `text` is a number with either decimal mark."""
    try:
        Decimal(text.replace(",", "."))
    except InvalidOperation:
        return False
    return True


#: a line that did not pass: (line, field, reason, bucket: "rejected", or "in_doubt" for RowInDoubt)
_Failure = tuple[int, str, str, str]


class _Group(NamedTuple):
    key: str | None
    lines: list[int]
    records: list[Any]


#: a group as read, when it closes: (key, lines, records, failures, runs), as Planner._close takes them
_Closed = tuple[str | None, list[int], list[Any], list[_Failure], tuple[int, ...]]


#: a NamedTuple made from its values without its constructor's Python call
_tuple_new = tuple.__new__
#: a group's records and lines, to join a chunk's groups without a Python step per line
_records, _lines = attrgetter("records"), attrgetter("lines")


@dataclass
class Planner:
    """Turns the rows of the files into chunks; rows that cannot load are collected in `rejected`."""

    target: Target
    max_items: int
    max_bytes: int
    #: how each file's values are read (by file index)
    readings: Mapping[int, Reading] = field(default_factory=dict)
    #: by file index, the rows of a rejects file refused before they are read, and why: each naming a line an earlier
    #: row of it names (origins.copies), never booked a second time, and the first of each group that leaves out a
    #: line its run rejected only with the group (origins.mates_left_out), never booked in part; each with its group
    refused_rows: Mapping[int, Mapping[int, str]] = field(default_factory=dict)
    #: what is already there of a group (an earlier load created it, or may have), or None
    skip: Callable[[str], Known | None] | None = None
    #: why a row of no group is rejected for the family and part it names (RecordKind.row_family: an earlier load
    #: sent a line of the family as another part, or a group of it), or None
    family_skip: Callable[[str, str], str | None] | None = None
    #: why a row of no group of a family is skipped, or in doubt, given its file index and line, family, part and
    #: check (record_check, else its older_check, as a ledger of model.OLDER_CHECKS kept it), and which ("skipped",
    #: "in_doubt"): an earlier load loaded that very line of the family and part (or left its call in doubt), and no
    #: row of the family planned before it was told so of the same line (asked before family_skip); None: it did not
    #: (a changed line, or one added), or the row is a line that load rejected, never sent (a rejects file's row:
    #: planning._unsent)
    line_loaded: Callable[[int, int, str, str, int], tuple[str, str] | None] | None = None
    #: why every row of a family whose rows are all planned is rejected (asked as it closes): of a part, its rows of
    #: no group gave some of the lines an earlier load loaded of it (line_loaded) but not all of them (one changed,
    #: or left out), so the file gives the family otherwise than the books hold it; None: they gave each, or none
    line_differs: Callable[[str], str | None] | None = None
    #: why a row of no group and no family (RecordKind.row_label names its record) is skipped, or in doubt, given its
    #: file index, line and check (record_check, else its older_check), and which ("skipped", "in_doubt"): an earlier
    #: load into the same place loaded that very line (or left its call in doubt), and no row of the input planned
    #: before it was told so of the same line; None: it did not, or the row is a line that load rejected, never sent.
    #: Asked where rows of no group create records that loading the file again would create again (not a
    #: re-runnable target's: Books.rerunnable)
    row_loaded: Callable[[int, int, int], tuple[str, str] | None] | None = None
    #: why a row of no group and no family, given its file index and line, is rejected: a row of a rejects file
    #: naming a line an earlier load loaded from a rejects file of its own, and no record it created given again
    #: (asked after row_loaded: ledger.rows_known_to's taken_rows), or None
    row_taken: Callable[[int, int], str | None] | None = None
    rejected: list[RowOutcome] = field(default_factory=list)
    #: rows accounted for: in a chunk handed out, rejected or skipped (rows of the open chunk are not counted yet)
    rows_read: int = 0
    seq: int = 0

    def outcome(self, file_idx: int, line: int, bucket: str, field_: str, reason: str, group: str | None) -> None:
        self.rows_read += 1
        self.rejected.append(RowOutcome(file_idx, line, bucket, field_, reason, group or ""))

    def plan(self, file_idx: int, rows: Iterable[Row | BadRow | Placed]) -> Iterator[Chunk | None]:
        """Chunks in order; None now and then when rejected rows are waiting to be written out."""
        target = self.target
        kind = self._kind = target.kind_of(file_idx)
        # what the kind totals and checks, decided once for the file
        self._units: bool = type(kind).units is not RecordKind.units
        self._line_checks: bool = type(kind).line_check is not RecordKind.line_check
        self._group_checks: bool = kind.checks_also
        self._group_faults: bool = type(kind).group_fault is not RecordKind.group_fault
        self._agreed: bool = bool(kind.agreed_fields)
        # chunk numbers are per file, so a file planned in a later phase (another process) cannot collide
        self.seq = file_idx << FILE_SHIFT
        # a file without a decision of its own reads numbers with a point and dates day first (tests, tools)
        reading = self.readings.get(file_idx) or Reading.of(kind, NumberFormat(), DateFormat())
        convert, within_64_bits = reading.convert, reading.within_64_bits
        refused_rows = self.refused_rows.get(file_idx)
        validate = kind.validate
        # a kind whose rows mean what the earlier rows leave is told each row's place (decided once for the file)
        placed = kind.validate_at if type(kind).validate_at is not RecordKind.validate_at else None
        secrets = kind.secret_fields
        families = type(kind).row_family is not RecordKind.row_family
        # rows of no group (and no family) create records a load of the file again would create again
        pooled = not kind.rows_grouped and not target.books.rerunnable
        # each line's check is kept (created.line_check) where lines are compared, and where the kind's rows name
        # families or stand alone: a later load tells a row of no group it gives again (line_loaded, row_loaded) by
        # it. Not its record_check where a walk compares lines: a walked record has no such check
        self._kept_checks: bool = self._line_checks or ((families or pooled) and target.api.reconcile_by != "walk")
        family_skip = self.family_skip if families else None
        line_loaded = self.line_loaded if families else None
        row_loaded = self.row_loaded if pooled else None
        row_taken = self.row_taken if pooled else None
        told = family_skip is not None or line_loaded is not None or row_loaded is not None or row_taken is not None
        row_family = kind.row_family
        self._open: list[_Group] = []  # whole groups waiting in the open chunk
        self._count = 0
        # where groups are parts of families (an order's cost types): the family's groups, held until it ends
        self._held: list[_Closed] = []
        self._held_family: str | None = None
        self._held_keys: set[str | None] = set()
        self._held_parts: list[tuple[str, str] | None] = []  # of each held group of no key: the part it names
        #: family -> why it is refused whole, wherever its lines are (a shadow of kind FAMILY: regroup._place)
        self._whole: dict[str, str] = {}
        close = self._in_family if families else self._close
        family: str | None = None  # the family of the group being read
        part: tuple[str, str] | None = None  # (family, part) a row of no group names, or a neighbour's shadow refuses
        # the group being read: its lines, the records of its good lines, and (line, field, reason) of its bad ones
        key: str | None = None
        lines: list[int] = []
        records: list[Any] = []
        failures: list[_Failure] = []
        # where its lines begin again after other groups' (indexes into lines); where groups are parts of families,
        # the lines where its family's lines begin again (regroup.regrouped)
        runs: tuple[int, ...] = ()
        recent: set[str] = set()
        recent_order: deque[str] = deque()
        try:
            for new_key, item in keyed(rows, kind):
                failure: _Failure | None = None
                shadow = False
                if type(item) is not BadRow:
                    line, row = item  # type: ignore[misc]
                    try:
                        if refused_rows is not None and line in refused_rows:
                            raise RowInvalid("line", refused_rows[line])
                        convert(row)
                        record = validate(row) if placed is None else placed(file_idx, line, row)
                        within_64_bits()
                        # a valid row's family reads as the inspection read it: its case is the same whole number
                        if not told or new_key is not None:
                            pass
                        elif (named := row_family(row) if families else None) is not None:
                            if line_loaded is not None and (
                                said := line_loaded(file_idx, line, *named, record_check(kind, record))
                                or line_loaded(file_idx, line, *named, older_check(kind, record))  # an older ledger's
                            ):  # a line an earlier load loaded (or may have), given as it is: not booked again
                                failure = (line, "", said[0], said[1])
                            elif family_skip is not None and (why := family_skip(*named)) is not None:
                                raise RowInvalid("", why)
                        elif row_loaded is not None and (
                            earlier := row_loaded(file_idx, line, record_check(kind, record))
                            or row_loaded(file_idx, line, older_check(kind, record))
                        ):  # a record an earlier load created (or may have), given as it is (a changed copy's row)
                            failure = (line, "", f"{kind.row_label(row)} {earlier[0]}", earlier[1])
                        elif row_taken is not None and (why := row_taken(file_idx, line)) is not None:
                            raise RowInvalid("line", f"{kind.row_label(row)}: {why}")  # its line loaded by another
                    except RowInvalid as exc:  # a reason may quote a value: never a secret
                        if exc.field and exc.bucket == "rejected":  # its other fields: only a refused row pays
                            exc = reading.every_fault(row, [exc], self._check(reading, kind, file_idx, line))
                        field_, reason = joined([(f, reading.quoted(r, f, row)) for f, r in exc.faults])
                        failure = (
                            line,
                            field_,
                            scrub(reason, secret_texts(row, secrets)) if secrets else reason,
                            exc.bucket,
                        )
                else:
                    if item.kind == RUN:  # no row: the group's (or family's) lines begin again here (a regrouped file)
                        runs += (item.line_no if families else len(lines),)
                        continue
                    line = item.line_no
                    failure = (line, item.field, item.reason, "rejected")
                    shadow = item.kind in SHADOWS  # a reason for the group, not a row of its own
                    if item.kind == FAMILY and (named := part_of(kind, item)) is not None:  # for the family whole
                        self._whole.setdefault(named[0], item.reason)
                new_group = new_key is None or new_key != key or not (lines or failures)
                if new_group and (lines or failures):
                    # rejected rows grow only as a group closes: the caller drains (or swaps) the list meanwhile
                    if len(self.rejected) >= REJECTS_BATCH:
                        yield None
                    closing = (key, lines, records, failures, runs)
                    key, lines, records, failures, runs = new_key, [], [], [], ()
                    yield from close(file_idx, family, closing, part)
                if new_group and families:
                    part = None if new_key is not None else part_of(kind, item)
                    family = kind.group_family(new_key) if new_key is not None else part and part[0]
                key = new_key
                if not shadow:
                    lines.append(line)
                if failure is None:
                    records.append(record)
                else:
                    failures.append(failure)
                if new_group and new_key is not None and new_key not in self._held_keys:  # its family's again
                    if new_key in recent:
                        raise SourceError(
                            f"line {line}: the lines of {kind.group_label(new_key)} are no longer together: "
                            "the file changed while it was being loaded"
                        )
                    recent.add(new_key)
                    recent_order.append(new_key)
                    if len(recent_order) > RECENT_GROUPS:
                        recent.discard(recent_order.popleft())
            if lines or failures:
                yield from close(file_idx, family, (key, lines, records, failures, runs), part)
            yield from self._family_closed(file_idx)
        except SourceError:
            # the input breaks off here, read past its inspection (which refuses a file that cannot be read whole):
            # it changed since it was hashed, or the disk failed. The open chunk is not sent (its last group may go
            # on past the break), and its rows are left unrecorded, not yet sent: the run stops, and its resume,
            # which takes only the file as it was hashed, reads them again. Before, they were rejected ("not sent:
            # … changed while it was read"), and the resume of the file put back then loaded them as well: counted
            # twice (rows_read past the file's rows), listed in the rejects and the success file alike, exit 1
            self._open.clear()
            self._held.clear()
            self._held_parts.clear()
            raise
        if self._open:
            yield from self._emit(file_idx)

    @staticmethod
    def _check(reading: Reading, kind: RecordKind, file_idx: int, line: int) -> Callable[[dict[str, Any]], object]:
        """How `plan` reads and checks a row of file `file_idx` at `line` (Reading.convert, the kind's validation,
        within_64_bits), for Reading.every_fault to read a refused row again."""

        def check(row: dict[str, Any]) -> None:
            reading.convert(row)
            kind.validate_at(file_idx, line, row)
            reading.within_64_bits()

        return check

    def _close(
        self, file_idx: int, family: str | None, closed: _Closed, part: tuple[str, str] | None = None
    ) -> Iterator[Chunk]:
        """A group is complete (`closed`): reject it whole where its lines are not one group's (_not_one: they name
        two values of a field they must agree on, or give the group more than once; `runs`: where its lines begin
        again after other groups' lines in the file, indexes into its lines; a regrouped file), judged before a
        fault found in its lines together (RecordKind.group_fault: PayorCRM's line item given twice is told as the
        invoice given twice, naming each copy), else take it (_take). `family`, `part`: unused, as _in_family takes
        them."""
        key, lines, records, failures, runs = closed
        if key is not None and not failures and (twice := self._not_one(key, lines, records, runs)):
            for line in lines:
                self.outcome(file_idx, line, "rejected", "", twice, key)
            return
        yield from self._take(file_idx, key, lines, records, self._faulted(lines, records, failures))

    def _in_family(
        self, file_idx: int, family: str | None, closed: _Closed, part: tuple[str, str] | None = None
    ) -> Iterator[Chunk]:
        """A group is complete where groups are parts of families (`family`: its own, None for none): held with the
        others of its family until the family ends (_family_closed); one of no family is taken as it is. `closed`'s
        runs are the lines where the family's lines begin again; `part`: (family, part) of a group of no key, a row
        of no group's (RecordKind.row_family) or the one a neighbour's shadow refuses (regroup.keyed)."""
        if self._held and family != self._held_family:
            yield from self._family_closed(file_idx)
        if family is None:
            yield from self._close(file_idx, None, closed)
            return
        self._held.append(closed)
        self._held_parts.append(part if closed[0] is None else None)
        self._held_family = family
        self._held_keys.add(closed[0])

    def _family_closed(self, file_idx: int) -> Iterator[Chunk]:
        """The family held is complete: each of its groups' lines brought together (a group's lines again after the
        family's other lines, as in a regrouped file), and the family judged whole, as a group's runs are (copies,
        repeated): where it is given more than once, or any group of it is, every line of it is rejected (never an
        order's OUTLAY lines refused as a copy while its FEE lines of the same copies are booked). Else each group
        is taken (_take). A family that is one group is judged as that group, by its label; one with a line that
        failed is not judged whole (which lines are copies cannot be told), its groups are. A part of it next to a
        line whose group cannot be read (a neighbour's shadow of no key: regroup.keyed) is refused as a group there
        is: every row of no group of that part, a line an earlier load loaded too (before, an order of FEE lines above
        a totals row was booked, where --dry-run, which plans every order merged, refused it). A family a shadow of
        kind FAMILY refuses (a line of it whose part cannot be read, which may be any of its lines) is rejected
        whole, each line that failed with its own reason; so is a family whose rows give some of the lines an earlier
        load loaded of a part of it but not all of them (line_differs: a correction, its lines given again as they
        were too: the file gives the family otherwise than the books hold it)."""
        held, family, parts = self._held, self._held_family, self._held_parts
        self._held, self._held_family, self._held_keys, self._held_parts = [], None, set(), []
        if not held or family is None:
            return
        kind = self._kind
        differs = self.line_differs(family) if self.line_differs is not None else None
        why = self._whole.pop(family, None)  # a line of it may be any of its lines
        said = f"{kind.family_label(family)} is rejected whole: {why}" if why is not None else differs
        if said is not None:
            for key, lines, _, failures, _ in held:
                # a line told loaded (or in doubt) by an earlier load is rejected with the family's reason
                own = {line: (field_, reason) for line, field_, reason, bucket in failures if bucket == "rejected"}
                for line in lines:
                    self.outcome(file_idx, line, "rejected", *own.get(line, ("", said)), key)
            return
        starts = sorted({line for *_, marks in held for line in marks})
        # a shadow has no lines: its reason goes to the part's rows, told as its group's would be (chunking._take)
        refused: dict[tuple[str, str], _Failure] = {}
        for (_, lines, _, failures, _), named in zip(held, parts):
            if named is not None and not lines:
                line, field_, reason, bucket = failures[0]
                said = f"{kind.family_label(named[0])} ({named[1]}) rejected: {reason}"
                refused[named] = (line, field_, said, bucket)
        groups: list[_Closed] = []
        by_key: dict[str, _Closed] = {}
        for (key, lines, records, failures, _), named in zip(held, parts):
            if named is not None and named in refused:
                if not lines:
                    continue
                failures = [refused[named], *(f for f in failures if f[3] != "skipped")]
            if key is not None and key in by_key:
                lines_, records_, failures_ = by_key[key][1:4]
                lines_ += lines
                records_ += records
                failures_ += failures
                continue
            group: _Closed = (key, list(lines), list(records), list(failures), ())
            groups.append(group)
            if key is not None:
                by_key[key] = group
        order = sorted(line for g in groups for line in g[1])
        at = {line: i for i, line in enumerate(order)}
        given: dict[int, str] = {}  # index into groups -> why that group is given more than once
        whole = None
        if not any(g[3] for g in groups) and (len(groups) > 1 or groups[0][0] is None):
            record_of = {line: r for g in groups for line, r in zip(g[1], g[2])}
            whole = self._given_twice(
                None, order, [record_of[line] for line in order], _begins(order, starts), kind.family_label(family)
            )
        for i, (key, lines, records, failures, _) in enumerate(groups):
            # the group's lines begin again where the family's other lines, or other families', came between
            runs = tuple(
                j
                for j in range(1, len(lines))
                if at[lines[j]] != at[lines[j - 1]] + 1
                or bisect_right(starts, lines[j]) > bisect_right(starts, lines[j - 1])
            )
            if key is not None and not failures and (twice := self._not_one(key, lines, records, runs)):
                given[i] = twice
            groups[i] = (key, lines, records, self._faulted(lines, records, failures), runs)
        if whole is not None or given:
            said = whole or f"{kind.family_label(family)} is rejected whole, as {next(iter(given.values()))}"
            for i, (key, lines, *_) in enumerate(groups):
                for line in lines:
                    self.outcome(file_idx, line, "rejected", "", said if whole else given.get(i, said), key)
            return
        for key, lines, records, failures, _ in groups:
            yield from self._take(file_idx, key, lines, records, failures)

    def _faulted(self, lines: list[int], records: list[Any], failures: list[_Failure]) -> list[_Failure]:
        """`failures`, or where there are none, the group's fault (RecordKind.group_fault) found in its lines
        together, if any."""
        if self._group_faults and not failures and len(records) > 1 and (fault := self._kind.group_fault(records)):
            at, field_, reason = fault
            return [(lines[at], field_, reason, "rejected")]  # no line failed: the lines are the records'
        return failures

    def _not_one(self, key: str, lines: list[int], records: list[Any], runs: tuple[int, ...]) -> str | None:
        """Why a group whose lines are all good is not one group's lines, refused whole: they name two values of a
        field every line must give alike (regroup.disagreement: an invoice's lines two customers, two invoices given
        one number or one split between them), or give the group more than once (_given_twice); None for neither."""
        if self._agreed and len(records) > 1:
            why = disagreement(self._kind, self._kind.group_label(key), lines, records)
            if why is not None:
                return why
        return self._given_twice(key, lines, records, runs)

    def _given_twice(
        self, key: str | None, lines: list[int], records: list[Any], runs: tuple[int, ...], label: str = ""
    ) -> str | None:
        """Why a group (or, `label` given, a family) whose lines are all good is refused as given more than once
        (_copies), None where it is not: its lines lie apart (`runs`), or it is one run that gives its lines again
        in a row (rare: judged once found)."""
        if runs or (len(records) >= 2 and repeated(self._kind, records) < len(records)):
            return self._copies(label or self._kind.group_label(key or ""), lines, records, runs)
        return None

    def _take(
        self, file_idx: int, key: str | None, lines: list[int], records: list[Any], failures: list[_Failure]
    ) -> Iterator[Chunk]:
        """A group that is no copy: skip it (an earlier load created it), reject it whole (a line failed), or add it
        to the open chunk."""
        target, kind = self.target, self._kind
        known = self.skip(key) if key is not None and self.skip is not None else None
        if known is not None and not failures:
            bucket, reason = known.bucket, known.reason
            if bucket == "skipped" and (known.digest or known.lines) is not None:  # is it what this file says?
                info = self._info(_Group(key, lines, records))
                if (
                    (info.digest != known.digest)
                    if known.digest is not None and known.digest >= 0  # < 0: of another version (ledger.OLDER)
                    else (info.lines, info.total, info.debit) != (known.lines, known.total, known.debit)
                ) or (known.also is not None and self._also_differs(records, known.also)):
                    bucket, reason = "rejected", known.differs or reason
            for line in lines:
                self.outcome(file_idx, line, bucket, "", reason, key)
            return
        if failures:
            own = {line: (field_, reason) for line, field_, reason, _ in failures}
            line1, field1, reason1, _ = failures[0]
            # a group is in doubt where each of its failures is (the run may have sent it), else rejected whole; a
            # row of no group an earlier load loaded as it is (line_loaded) is skipped
            bucket = failures[0][3] if all(f[3] == failures[0][3] for f in failures) else "rejected"
            # a reason that names its line already ("line 7 is 104,857,600 bytes, ...") is not told it twice
            named = line1 not in lines or reason1.startswith((f"line {line1} ", f"line {line1},", f"lines {line1}-"))
            where = "" if named else f"line {line1} {field1 + ': ' if field1 else ''}"
            said = "in doubt" if bucket == "in_doubt" else "rejected"
            shared = ("", f"{kind.group_label(key)} {said}: {where}{reason1}") if key is not None else ("", reason1)
            for line in lines:
                self.outcome(file_idx, line, bucket, *own.get(line, shared), key)
            return
        n = len(lines)
        if n > self.max_items:
            if n <= target.api.max_items:
                room = f"; give --batch-size {n} or more (at most {target.api.max_items})"
            elif target.api.one_group_per_call:  # the most lines that fit in the bytes of a call (its Api)
                room = f"; no more lines fit in the {self.max_bytes:,} bytes one call may carry"
            else:
                room = f"; the API takes at most {target.api.max_items} a call"
            for line in lines:
                self.outcome(
                    file_idx,
                    line,
                    "rejected",
                    "",
                    f"{kind.group_label(key or '')} has {n} lines, more "
                    f"than one call of {self.max_items} carries{room}",
                    key,
                )
            return
        if self._count + n > self.max_items or (target.api.one_group_per_call and self._open):
            yield from self._emit(file_idx)
        self._open.append(_tuple_new(_Group, (key, lines, records)))
        self._count += n

    def _copies(self, label: str, lines: list[int], records: list[Any], runs: tuple[int, ...]) -> str | None:
        """Why a group (or family), as messages name it `label`, is refused as given more than once: its lines lie
        apart in `runs` (indexes into `lines`) that are copies of it (regroup.copies), or a run gives its lines
        again in a row (regroup.repeated), each copy taken for a run of its own. None where its runs are one
        group's lines brought together."""
        kind = self._kind
        bounds = (0, *runs, len(lines))
        parts: list[slice] = []
        again: list[slice] = []  # the copies of the first run that gives its lines again in a row
        for a, b in zip(bounds, bounds[1:]):
            step = repeated(kind, records[a:b])
            run = [slice(i, i + step) for i in range(a, b, step)]
            if len(run) > 1 and not again:
                again = run
            parts += run
        # copies all in a row (no runs apart) are judged as such: by what names their lines, never as a sorted file's
        how = copies(kind, [records[part] for part in parts], apart=bool(runs)) if len(parts) > 1 else None
        if how is None:
            if not again:
                return None
            # lines given twice in a row beside lines apart that are no copies of them: which is meant cannot be
            # told either (the same lines, or by their names: repeated)
            how, parts = copies(kind, [records[part] for part in again], apart=False), again
        shown = [
            f"line {lines[p.start]}" if p.stop - p.start == 1 else f"lines {lines[p.start]}-{lines[p.stop - 1]}"
            for p in parts
        ]
        more = len(shown) - _COPIES_SHOWN
        where = (
            ", ".join(shown[:-1]) + f" and {shown[-1]}"
            if more <= 0
            else f"{', '.join(shown[:_COPIES_SHOWN])} and {more} more"
        )
        name, given = kind.group_name, label + GIVEN_AGAIN.format(n=len(parts))
        if how == SAME_LINES:
            # summing is advice for lines of amounts: a PayorCRM customer has none
            summed = ""
            if kind.money_fields:
                summed = " (where each is meant, give the lines once with their amounts summed)"
            return (
                f"{given}as the same lines ({where}): a duplicate "
                f"export? Which is meant cannot be told, so none is loaded: remove all but one copy{summed}"
            )
        if how == SAME_NAMES:
            # the names the lines give values for, not every field that might name a line (e-conomic's nine)
            copied = [record for part in parts for record in records[part]]
            named = [n for n in kind.line_names if any(getattr(r, n, None) not in (None, "") for r in copied)]
            *first, last = named or kind.line_names
            names = f"{', '.join(first)} and {last}" if first else last
            return (
                f"{given}as the same lines by {names} ({where}), other in their amounts or notes: a copy with edits, "
                "or a correction appended? Which is meant cannot be told, so none is loaded: remove all but the copy "
                f"meant (where each is meant, give the lines once with their amounts summed, or tell them apart by "
                f"their {names})"
            )
        return (
            f"{given}each a whole {name} {how} ({where}): a duplicate "
            "export, or a correction appended? Which is meant cannot be told, so none is loaded: remove all but one "
            f"copy (where they are the lines of one {name}, as in a file sorted by account, put them one after "
            f"another: sort the file by {name})"
        )

    def _emit(self, file_idx: int) -> Iterator[Chunk]:
        parts, self._open, self._count = self._open, [], 0
        yield from self._encode(file_idx, parts)

    def _encode(self, file_idx: int, parts: Sequence[_Group]) -> Iterator[Chunk]:
        kind = self._kind
        records = list(chain.from_iterable(map(_records, parts)))
        body = kind.encode(records)
        if len(body) > self.max_bytes:
            if len(parts) > 1:
                half = len(parts) // 2
                yield from self._encode(file_idx, parts[:half])
                yield from self._encode(file_idx, parts[half:])
                return
            (group,) = parts
            what = kind.group_label(group.key) if group.key is not None else f"this {kind.group_name}"
            for line in group.lines:
                self.outcome(
                    file_idx,
                    line,
                    "rejected",
                    "",
                    f"{what} encodes to {len(body)} bytes, more than the {self.max_bytes} one call may carry",
                    group.key,
                )
            return
        self.seq += 1
        lines = list(chain.from_iterable(map(_lines, parts)))
        self.rows_read += len(lines)
        units = list(map(kind.units, records)) if self._units else None
        # where lines are kept checked, each line's check is needed anyway: the digests are made from them;
        # elsewhere a group's records are checked only for its digest, so a row of no group costs nothing here
        checks = self._checks(records, units) if self._kept_checks else None
        groups, start = [], 0
        for p in parts:
            end = start + len(p.lines)
            groups.append(
                self._info(
                    p, None if units is None else units[start:end], None if checks is None else checks[start:end]
                )
            )
            start = end
        yield Chunk(self.seq, file_idx, lines, body, records=records, groups=groups, checks=checks)

    def _also_differs(self, records: list[Any], also: tuple[int, ...]) -> bool:
        """Whether a group's lines give a field the API also sets itself with another value than the group has there
        (model.also_differs: a line that gives it, whose check is none of `also`)."""
        kind = self._kind
        if not (self._group_checks and self._units):
            return False
        units = list(map(kind.units, records))
        checks = self._checks(records, units)
        return also_differs(checks, kind.group_checks(records, units, checks), also)

    def _checks(self, records: list[Any], units: list[int] | None) -> list[int]:
        """Each record's check: its RecordKind.line_check where the kind has one, else its `record_check`."""
        kind = self._kind
        if self._line_checks:
            checks: list[Any] = list(map(kind.line_check, records, units or [0] * len(records)))
            return [c or 0 for c in checks] if None in checks else checks
        return [record_check(kind, r) for r in records]

    def _info(self, group: _Group, units: list[int] | None = None, checks: list[int] | None = None) -> GroupInfo:
        key = group.key or ""
        kind = self._kind
        if self._units and units is None:
            units = list(map(kind.units, group.records))
        digest = 0
        if key:
            checks = self._checks(group.records, units) if checks is None else checks
            if self._group_checks and units is not None:
                checks = kind.group_checks(group.records, units, checks)
            digest = group_digest(checks)
        if units is None:  # no amounts to total
            return GroupInfo(key, len(group.lines), digest=digest)
        total = sum(units)
        # made as its tuple: a NamedTuple's own constructor is a Python call, and a plan makes one a group
        return _tuple_new(
            GroupInfo,
            (
                key,
                len(group.lines),
                total,
                (sum(map(abs, units)) + total) // 2,
                imbalance_text(kind.imbalance(group.records, units)),
                digest,
            ),
        )


def _said(named: tuple[str, tuple[str, ...]]) -> str:
    """A currency as a column's name writes it (money.currencies_named), with the ISO 4217 codes it stands for
    where the name gives none: "DKK", "EUR (€)", "DKK, NOK, SEK or ISK (kr)"."""
    written, codes = named
    return written if codes == (written,) else f"{listed(codes)} ({written})"
