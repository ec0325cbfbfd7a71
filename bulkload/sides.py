"""Amounts whose side a file writes apart from them, which bulkload reads as one signed amount and never guesses: a
column that gives each amount's side beside an amount column written unsigned, as SAP, DATEV and other ledger
exports write it (`Soll/Haben-Kennzeichen` S or H, a `D/C` column, `Dr`/`Cr`), and a debit column mapped to the
amount beside a credit column (`Debet;Kredit`). Dropped (mapped to "") or left out, the side column or the credit
column would leave every credit booked as a debit, or as the debit cell beside it (0.00); so either refuses the
file before the first call, with how to make one signed column."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .columns import column_letter
from .sources import Source
from .targets.base import RecordKind

#: the words a side column is written in, case folded: (a debit's, a credit's)
PAIRS = (
    ("s", "h"),
    ("soll", "haben"),
    ("d", "c"),
    ("dr", "cr"),
    ("db", "cr"),
    ("debit", "credit"),
    ("debet", "kredit"),
    ("+", "-"),
)
#: the pairs whose words a file writes of other things too (a card's Debit/Credit, a status D/C, a size S/H): beside
#: no amount whose sign is a line's side of the books (RecordKind.signed_fields: PayorCRM's invoiceAmount, whose
#: invoices are positive), a column of them is a side column only where its name says so (`_named_as_side`)
SAID_OF_OTHER_THINGS = frozenset({("s", "h"), ("d", "c"), ("debit", "credit"), ("debet", "kredit")})
#: what writes an amount negative: a minus before or after it, the minus sign, accounting parentheses
_NEGATIVE = frozenset("-\u2212(")
#: the words a debit's and a credit's column is named with (case folded), alone ("Debit Amount") or before an
#: amount's word in one ("Sollbetrag", "Kreditbeløb"); "Kreditor" (a supplier) is none
_DEBITS = frozenset({"debet", "debit", "soll", "dr"})
_CREDITS = frozenset({"kredit", "credit", "haben", "cr"})
_AMOUNT_WORDS = ("betrag", "beløb", "beløp", "belopp", "bedrag", "summe", "amount")
_WORD = re.compile(r"[^\W\d_]+").findall
#: the words (case folded) of a side column's name besides a side's own ("Soll/Haben-Kennzeichen", "SHKZG",
#: "Debit/Credit Indicator", "Side", "DC")
_SIDE_NAMES = frozenset({"kennzeichen", "kz", "shkzg", "indicator", "ind", "side", "sign", "vorzeichen", "dc", "sh"})
#: the records looked at: a side column shows both its words within the first voucher
LOOKED_AT = 10_000


def sided(kind: RecordKind) -> frozenset[str]:
    """The fields of `kind` whose sign says the side (RecordKind.signed_fields, and every amount of money,
    RecordKind.money_fields: a PayorCRM credit memo's negative invoiceAmount, a Visma Core entry's negative amount)."""
    return kind.signed_fields | kind.money_fields


def pair_of(values: Iterable[str]) -> tuple[str, str] | None:
    """The pair of PAIRS (a debit's word, a credit's, case folded) that `values` (a column's cells, stripped, empty
    ones left out) are written in, both words among them and no other value; None where they are not."""
    seen = {value.casefold() for value in values if value}
    return next((pair for pair in PAIRS if seen == set(pair)), None)


def side_column(source: Source, unknown: Sequence[str], kind: RecordKind) -> str | None:
    """The refusal (its text) of a CSV file (`source`) a column of which is no field (`unknown`: names as the
    file writes them, unmapped) or is dropped by the [columns] mapping, and whose cells in its first LOOKED_AT
    records are the words of one pair of PAIRS, beside a column mapped to a field whose sign says
    the side (`sided`): the side of each amount, which would be lost. None where there is none, where an
    amount of those records is written negative (the amounts are signed already), where the pair is one a file
    writes of other things too (SAID_OF_OTHER_THINGS: a card's Debit/Credit beside PayorCRM's positive invoices)
    beside no RecordKind.signed_fields and the column's name does not say it gives a side, and for JSONL."""
    header = source.header()
    if not header:
        return None
    mapped = [source.columns.get(name, name) for name in header]
    looked = [i for i, name in enumerate(header) if name and (mapped[i] == "" or name in unknown)]
    amounts = [i for i, field in enumerate(mapped) if field in sided(kind)]
    if not looked or not amounts:
        return None
    signed_sides = any(mapped[i] in kind.signed_fields for i in amounts)
    values: dict[int, dict[str, int]] = {i: {} for i in looked}  # a column -> each value as written -> its first line
    signed = False  # an amount written negative: the amounts carry their sign, the side column says it again
    cells = source.cells()
    try:
        for n, (line, row) in enumerate(cells):
            if n == LOOKED_AT:
                break
            if not isinstance(row, list):
                continue
            for i in looked:
                if i < len(row) and (value := row[i].strip()):
                    values[i].setdefault(value, line)
            signed = signed or any(i < len(row) and _NEGATIVE.intersection(row[i]) for i in amounts)
    finally:
        close = getattr(cells, "close", None)
        if close is not None:
            close()
    if signed:
        return None
    for i in looked:
        pair = pair_of(values[i])
        if pair is None or (pair in SAID_OF_OTHER_THINGS and not signed_sides and not _named_as_side(header[i], pair)):
            continue
        first = {value.casefold(): (value, line) for value, line in reversed(values[i].items())}
        (debit, at_debit), (credit, at_credit) = first[pair[0]], first[pair[1]]
        amount = amounts[0]
        side, unsigned = column_letter(i + 1), column_letter(amount + 1)
        field = mapped[amount]
        how = "is dropped by the [columns] mapping" if mapped[i] == "" else "is no field"
        return (
            f"{source.path}: column {header[i]!r} ({i + 1}) gives each {field}'s side ({debit!r} on line {at_debit}, "
            f"{credit!r} on line {at_credit}) and {how}: {field} is one signed number (debits positive, credits "
            f"negative), and which sign a word stands for is not read from it, so without that column every "
            f"{field} of column {header[amount]!r} would be booked as written, a credit as a debit. Give the file "
            f'one column of signed amounts (in a spreadsheet =IF({side}2="{credit}",-{unsigned}2,{unsigned}2) where '
            f"{credit!r} marks a credit) mapped to {field}, and drop {header[i]!r} and the unsigned one; nothing was "
            "sent"
        )
    return None


def _named_as_side(name: str, pair: tuple[str, str]) -> bool:
    """Whether a column's name says it gives each amount's side, written in the words `pair` (of PAIRS): a side's
    word ("Soll/Haben", "Dr/Cr", "Debit/Credit"), a side column's (_SIDE_NAMES: "SHKZG", "Side"), the pair's own
    ("S/H", "D/C"), or a sign's ("+/-", "±"). "Paid by", "Card" and "Status" say none."""
    words = set(_WORD(name.casefold()))
    return bool(words & (_DEBITS | _CREDITS | _SIDE_NAMES)) or set(pair) <= words or "+/-" in name or "±" in name


def _side_named(name: str) -> str | None:
    """ "debit" or "credit" where a column's name says it holds that side's amounts ("Debet", "Credit Amount",
    "Habenbetrag"); None where it says neither, or both."""
    sides = set()
    for word in _WORD(name.casefold()):
        for stem in (word, *(word[: -len(a)] for a in _AMOUNT_WORDS if word.endswith(a) and len(word) > len(a))):
            if stem in _DEBITS:
                sides.add("debit")
            elif stem in _CREDITS:
                sides.add("credit")
    return sides.pop() if len(sides) == 1 else None


def other_side(source: Source, unknown: Sequence[str], kind: RecordKind) -> str | None:
    """The refusal (its text) of a CSV file (`source`) whose column mapped to a field whose sign says the side
    (`sided`) is named as one side's (a debit's or a credit's: `_side_named`), while a column named
    as the other side's is no field (`unknown`: names as the file writes them) or dropped by the [columns] mapping:
    the other side's amounts would be lost, each of its lines booked with what the mapped column holds there. None
    where there is none, and for JSONL."""
    header = source.header()
    if not header:
        return None
    mapped = [source.columns.get(name, name) for name in header]
    for i, field in enumerate(mapped):
        if field not in sided(kind) or (side := _side_named(header[i])) is None:
            continue
        for j, name in enumerate(header):
            if not name or not (mapped[j] == "" or name in unknown) or _side_named(name) in (None, side):
                continue
            debit, credit = (i, j) if side == "debit" else (j, i)
            how = "is dropped by the [columns] mapping" if mapped[j] == "" else "is no field"
            first, second = column_letter(debit + 1), column_letter(credit + 1)
            return (
                f"{source.path}: column {header[i]!r} ({i + 1}) is mapped to {field}, and column {name!r} ({j + 1}), "
                f"named as the other side's, {how}: {field} is one signed number (debits positive, credits "
                f"negative), so without that column each line of the other side would be booked with what "
                f"{header[i]!r} holds there (0.00, or a debit for a credit). Give the file one column of debit minus "
                f"credit (in a spreadsheet ={first}2-{second}2 where the debit is column {first} and the credit "
                f"{second}) mapped to {field}, and drop the two; nothing was sent"
            )
    return None
