"""A column that gives each amount's side beside an amount column written unsigned, as SAP, DATEV and other ledger
exports write it (`Soll/Haben-Kennzeichen` S or H, a `D/C` column, `Dr`/`Cr`): bulkload reads one signed amount,
and which sign each word stands for is never guessed. Dropped (mapped to "") or left out, every credit of such a
file would be booked as a debit; so such a column refuses the file before the first call, with how to sign its
amounts."""

from __future__ import annotations

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
#: what writes an amount negative: a minus before or after it, the minus sign, accounting parentheses
_NEGATIVE = frozenset("-\u2212(")
#: the records looked at: a side column shows both its words within the first voucher
LOOKED_AT = 10_000


def pair_of(values: Iterable[str]) -> tuple[str, str] | None:
    """The pair of PAIRS (a debit's word, a credit's, case folded) that `values` (a column's cells, stripped, empty
    ones left out) are written in, both words among them and no other value; None where they are not."""
    seen = {value.casefold() for value in values if value}
    return next((pair for pair in PAIRS if seen == set(pair)), None)


def side_column(source: Source, unknown: Sequence[str], kind: RecordKind) -> str | None:
    """The refusal (its text) of a CSV file (`source`) a column of which is no field (`unknown`: names as the
    file writes them, unmapped) or is dropped by the [columns] mapping, and whose cells in its first LOOKED_AT
    records are the words of one pair of PAIRS, beside a column mapped to a field `kind` takes signed
    (RecordKind.signed_fields): the side of each amount, which would be lost. None where there is none, where an
    amount of those records is written negative (the amounts are signed already), and for JSONL."""
    header = source.header()
    if not kind.signed_fields or not header:
        return None
    mapped = [source.columns.get(name, name) for name in header]
    looked = [i for i, name in enumerate(header) if name and (mapped[i] == "" or name in unknown)]
    amounts = [i for i, field in enumerate(mapped) if field in kind.signed_fields]
    if not looked or not amounts:
        return None
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
        if pair is None:
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
