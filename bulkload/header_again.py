"""A CSV header named again partway through a file (exports joined into one), told from a data row.

A record is the header again when its cells name the header's columns: each cell trimmed of surrounding white space
as the header's are (and of the BOM a file joined by `cat` brings), as the column's name in the file or as the field
the [columns] table maps it to, and in any letter case or spacing, as a missing column's refusal reads a name
(`fold`: `contra account number`, `Account_Number` and `accountNumber` are one; a first header written so is refused
for its names, and a second is no less a header). As wide as the header, it must name every one of its columns, or
all but one where the header names four or more (a second export with a column renamed, the first too:
`type,journalNumber,…`); a column wider, every column of the header, or a column narrower, all its cells naming one
(an export of another layout: `…,text,vatCode`); and a cell naming none must hold a letter: a data row whose text
cells happen to be columns' names is no header (`10,date,amount,account,contra`). Only a record whose first or
second cell names a column is looked at further. A record wider than the header whose last cells are the header
again, its first name at the end of the cell before them (`glued`), is a row and the header joined (the first export
had no line break at its end).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .near_names import fold

_BOM = "\ufeff"
#: every character str.strip() removes (str.isspace(), the last of them U+3000): a cell may start with any of them
SPACES = frozenset(
    "\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
#: what a cell is trimmed of: white space, and a BOM wherever among it (a file joined by `cat` starts with one)
TRIM = "".join(sorted(SPACES)) + _BOM
#: the fewest columns a header names for a record naming all of them but one to be the header again
_ALL_BUT_ONE = 4


class HeaderAgain:
    """The named columns of a file's header and what the [columns] table maps them to, read once a file: `reason`
    tells whether a record is the header again.

    `header`: the header's cells trimmed ("" after the last named one); `columns`: name in the file -> field ("" to
    drop), as Source takes them."""

    def __init__(self, header: Sequence[str], columns: Mapping[str, str]) -> None:
        self.names = [name for name in header if name]
        #: what names each column: its name in the file, and the field the [columns] table maps it to
        self._own = [frozenset({name, columns.get(name, "")} - {""}) for name in self.names]
        self._own_folded = [frozenset(map(fold, keys)) for keys in self._own]
        self._exact, self._folded = _table(self._own), _table(self._own_folded)
        #: a record is looked at (`reason`) only where its first or second cell starts with one of these characters
        #: (white space, a BOM, `_` and `-` among them, which fold drops): a record whose first two cells start with
        #: others costs two looks at them
        self.starts = (
            SPACES
            | {_BOM, "_", "-"}
            | {v[:1] for keys in self._own for key in keys for v in (key, key.upper(), key.lower(), key.casefold())}
        )

    def column(self, at: int, cell: str) -> int | None:
        """The header's column (from 0) that `cell`, trimmed of white space and a BOM, names in column `at`, or None:
        as written, its own column before another that has the name (`x,x` of which one is dropped); then the same
        in any letter case and spacing (fold). A name two other columns have names neither."""
        own = at < len(self._own)
        if own and cell in self._own[at]:
            return at
        if (i := self._exact.get(cell)) is not None:
            return i
        folded = fold(cell)
        if own and folded in self._own_folded[at]:
            return at
        return self._folded.get(folded)

    def reason(self, row: Sequence[str]) -> str | None:
        """Why the record `row` (its cells as read, at least one) is the header again, or None where it is not: in
        the same order, the file is two; in another, the rows after it would be read by the wrong names."""
        if self.column(0, _trimmed(row[0])) is None and (len(row) < 2 or self.column(1, _trimmed(row[1])) is None):
            return None  # neither of its first two cells names a column: a data row, looked at no further
        cells = [_trimmed(cell) for cell in row]
        while cells and not cells[-1]:
            cells.pop()
        n, m = len(self.names), len(cells)
        if abs(m - n) > 1 or min(m, n) < 2:
            return None
        at = [self.column(j, cell) for j, cell in enumerate(cells)]
        named = {i for i in at if i is not None}
        # as wide: all the header's columns, or all but one; a column more or less: every column the two share
        if len(named) < (n - 1 if m == n >= _ALL_BUT_ONE else min(m, n)):
            return None
        if any(i is None and not any(ch.isalpha() for ch in cell) for i, cell in zip(at, cells, strict=True)):
            return None  # a cell naming no column is a number or a date: a data row's
        if m != n:
            return self._other_width(cells, at)
        moved = next((j for j, i in enumerate(at) if i is not None and i != j), None)
        if moved is None:
            return "the header again (exports joined into one file?): remove the line, or load each part as a file"
        return (
            f"a header naming the columns in another order (column {moved + 1} is {cells[moved]!r}, the first "
            f"header's {self.names[moved]!r}): the rows after it would be read by the first header's names. Load "
            "each part as a file of its own"
        )

    def _other_width(self, cells: Sequence[str], at: Sequence[int | None]) -> str:
        """Why `cells`, the header again with a column more or one fewer (`at`: the column each names, as `reason`
        reads them), is a second header: the exports of two layouts joined, whose rows after it the first header's
        names would read wrong (a row too wide or too narrow each)."""
        more = [cell for cell, i in zip(cells, at, strict=True) if i is None]
        fewer = [name for k, name in enumerate(self.names) if k not in at]
        differs = f"with {more[0]!r}, which the first has not" if more else f"without the first's {fewer[0]!r}"
        return (
            f"a second header, of {len(cells)} columns where the first names {len(self.names)} ({differs}): exports "
            "of two layouts joined into one file? The rows after it would be read by the first header's names. Load "
            "each part as a file of its own"
        )

    def glued(self, row: Sequence[str]) -> str | None:
        """Why the record `row`, wider than the header, is a row with the header again joined to its last cell, or
        None where it is not: a file joined on by `cat` after one whose last line had no line break
        (`…;office rent\ufeffentryTypeNumber;journalNumber;…`). Its cells after that one must be the header's
        others, as `reason` reads a header."""
        at = len(row) - len(self.names)
        if at < 1 or len(self.names) < 2:
            return None
        cell = row[at]
        # where the second file's name begins: at its BOM, else at the longest end of the cell that names column 1
        starts = [cell.index(_BOM)] if _BOM in cell else range(1, len(cell))
        head = next((cell[i:] for i in starts if self.column(0, _trimmed(cell[i:])) == 0), None)
        if head is None or self.reason([head, *row[at + 1 :]]) is None:
            return None
        return (
            f"the header again, joined to the end of a row ({cell!r} in column {at + 1}): exports joined into one "
            "file, the first without a line break at its end? Put the header on a line of its own and remove it, or "
            "load each part as a file of its own"
        )


def _trimmed(cell: str) -> str:
    return cell.strip(TRIM)


def _table(columns: Sequence[frozenset[str]]) -> dict[str, int]:
    """Each name -> the column (from 0) whose names hold it; one that two columns hold names neither."""
    table: dict[str, int] = {}
    shared: set[str] = set()
    for i, keys in enumerate(columns):
        for key in keys:
            if table.setdefault(key, i) != i:
                shared.add(key)
    return {key: i for key, i in table.items() if key not in shared}
