"""Group keys written on a group's first line only: a spreadsheet's merged cell (a voucher, order or invoice number
merged over its group's lines) is exported on the first line, and the lines below it are blank in that column. Such a
file is judged whole, before the first call (profile._inspect), never line by line: it looks merged where lines that
give no key lie right below a line that gives one (each alike in the fields that must agree with it:
RecordKind.filled_alike) and no group's key is written on two lines in a row (one group as the kind reads it, or the
same key as written, the fields alike the same: order 1 of case 1006 above order 1 of case 1007 are two orders, each on
a line of its own). Then whether each blank line is its group's or a row of no group cannot be told (Visma Core books a
line without an orderId as an entry of its own: the order was booked split in one entry a line, exit 0), and the file is
refused, naming the lines and how to fill the key down. A file that writes a key on two lines in a row writes its keys
line by line: a blank key there is read as the kind reads it (an entry of its own, or a line whose key was lost, refused
with its neighbours: regroup.keyed). A line of no key that gives an amount and nothing of its own (no date, account or
other number of a line: only the fields alike, a journal or a case; its text is not read) is a subtotal or total row of
an export (one a journal, below its vouchers), not a line whose key was merged: the refusal says so, and to remove
it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from .errors import ConfigError
from .targets.base import RecordKind, key_number, key_text

#: a run of lines below a group's line that give no key: (the line above, its group as messages name it, the first
#: few lines of the run, how many lines it holds, whether one of them gives a group field or one alike, whether each
#: gives an amount and nothing of its own: a total row's look)
Run = tuple[int, str, list[int], int, bool, bool]


class MergedPart(msgspec.Struct, array_like=True, frozen=True):
    """What a part of a file read alone (halves.py) found of merged key cells (MergedCells, as plain values)."""

    below: int
    again: int
    first: list[Run]
    pending: Run | None
    head: tuple[str, ...] | None
    last: tuple[str, ...] | None
    starts_blank: bool
    totals: int


class MergedCells:
    """What one pass over a file's rows shows of merged key cells, for a kind that names them (RecordKind.filled_down):
    how many lines give no key right below a line of a group that gives one, or below such lines (`below`; the first few
    runs of them, `first`), and how many lines give the key the line before gave: its group as the kind reads it or the
    key as written, the fields alike the same or blank on one of the two (`again`: order 1 of case 1006 then order 1 of
    case 1007 are two orders, not one written line by line). The run below the file's last line that gives a key, with
    nothing after it (`pending`), counts where the file shows merged cells above it, or one of its lines gives a group
    field or one alike (a Visma Core line's case or cost type): a totals row below the last group gives none, and is
    told so by the planner (regroup.keyed). `starts_blank`: the first row read gives no key, so a part of a file read
    alone (halves.py) cannot tell what is above it. `totals`: how many of the lines counted in `below` are in runs
    whose every line gives an amount and nothing of its own (a subtotal or total row: the refusal says to remove
    it). Bounded: a few runs and a few lines of each are kept, the rest counted."""

    SHOWN = 5
    #: the lines of a run kept to name it
    LINES_SHOWN = 3

    def __init__(self, kind: RecordKind) -> None:
        self.kind = kind
        self.below = 0
        self.again = 0
        self.totals = 0
        self.first: list[Run] = []
        #: the run below the last line read that gives a key, no other line after it yet
        self.pending: Run | None = None
        #: the group the first row gives as the kind reads it, its key as written, then its fields alike ("" for a
        #: blank one or a group that does not read; None: it gives no key, or no row was read)
        self.head: tuple[str, ...] | None = None
        self.starts_blank = False
        self._rows = 0
        #: the group and key the line before gave, then its fields alike, as `head` (None: it gave no key, or was
        #: no row)
        self._last: tuple[str, ...] | None = None
        #: the line above the lines below it that give no key, its group (keyed()'s, and as the line gives it) and its
        #: values of the fields alike
        self._above: tuple[int, object, tuple[str, ...], tuple[str | None, ...]] | None = None
        #: the fields one of the lines below the file's last group must give for them to count (`pending`)
        self._others = tuple(sorted((kind.group_fields | set(kind.filled_alike)) - set(kind.filled_down)))
        self._money = tuple(sorted(kind.money_fields))
        #: the fields a total row may give: the key, the fields alike and the amounts
        self._of_totals = frozenset((*kind.filled_down, *kind.filled_alike, *kind.money_fields))

    def add(self, line: int, row: Mapping[str, Any], key: object) -> None:
        """A row read at `line`, `key` the group keyed() gave it (a str where it names one)."""
        kind = self.kind
        given = _values(row, kind.filled_down)
        self._rows += 1
        if all(v is None for v in given):
            if self._rows == 1:
                self.starts_blank = True
            above = self._above
            if above is not None and all(
                v is None or v == a for v, a in zip(_alike(row, kind.filled_alike), above[3], strict=True)
            ):
                gives = any(v is not None for v in _values(row, self._others))
                own = tuple(name for name in row if name not in self._of_totals)
                total = any(v is not None for v in _values(row, self._money)) and all(
                    v is None for v in _values(row, own)
                )
                run = self.pending or (above[0], self._label(above[1], above[2]), [], 0, False, True)
                if len(run[2]) < self.LINES_SHOWN:
                    run[2].append(line)
                self.pending = (run[0], run[1], run[2], run[3] + 1, run[4] or gives, run[5] and total)
            else:
                self._commit()
                self._above = None
            self._last = None
            return
        self._commit()
        key_given = tuple(v or "" for v in given)
        alike = _alike(row, kind.filled_alike)
        # the group as the kind reads it ("7" and "0007" are one voucher), then the key as written with the fields
        # alike: order 1 of case 1006 and order 1 of case 1007 in a row are two orders
        line_of = (key if type(key) is str else "", *key_given, *(v or "" for v in alike))
        if self._rows == 1:
            self.head = line_of
        if self._same(line_of, self._last):
            self.again += 1
        self._last = line_of
        self._above = (line, key, key_given, alike)

    def _same(self, line_of: tuple[str, ...] | None, last: tuple[str, ...] | None) -> bool:
        """Whether a line giving `line_of` (its group as the kind reads it, "" for none that reads; its key as
        written; then its fields alike: "" for a blank one) gives the key of the line before it, `last`: one group
        as the kind reads it (e-conomic's voucher 7 written "7" above "0007") or the same key as written, and each
        field alike the same, or blank on either line."""
        if line_of is None or last is None:
            return False
        n = 1 + len(self.kind.filled_down)
        return ((line_of[0] and line_of[0] == last[0]) or line_of[1:n] == last[1:n]) and all(
            not v or not a or v == a for v, a in zip(line_of[n:], last[n:], strict=True)
        )

    def _label(self, key: object, given: tuple[str, ...]) -> str:
        """The group of a line above lines that give no key, as messages name it: told only for such a line, as
        most lines are none."""
        return self.kind.group_label(key) if type(key) is str else ", ".join(given)

    def lost(self) -> None:
        """A line that reads as no row: nothing is known of what is above the lines after it."""
        self._rows += 1
        self._commit()
        self._last = self._above = None

    def _commit(self) -> None:
        """The run waiting counted below its group's line: a line came after it."""
        run = self.pending
        if run is not None:
            self.below += run[3]
            self.totals += run[3] if run[5] else 0
            if len(self.first) < self.SHOWN:
                self.first.append(run)
            self.pending = None

    def part(self) -> MergedPart:
        """What this part found, for the part before it to go on with (`then`)."""
        return MergedPart(
            self.below, self.again, self.first, self.pending, self.head, self._last, self.starts_blank, self.totals
        )

    def then(self, after: MergedPart, lines: int) -> None:
        """Go on with what the part after this one found (its lines counted on by `lines`), as one pass would: it
        starts with a line that gives a key (a part that starts blank is read with the whole file)."""
        if after.head is not None:
            self._commit()
            self.again += self._same(after.head, self._last)

        def on(run: Run) -> Run:
            return (run[0] + lines, run[1], [line + lines for line in run[2]], run[3], run[4], run[5])

        self.below += after.below
        self.again += after.again
        self.totals += after.totals
        self.first += [on(run) for run in after.first[: self.SHOWN - len(self.first)]]
        self.pending = None if after.pending is None else on(after.pending)
        self._last = after.last

    def merged(self) -> bool:
        """Whether the file looks merged: lines below a group's line give no key, and no key is given twice in a
        row. For a pass over the whole file, once read."""
        run = self.pending
        if run is not None and not self.again and (self.below or run[4]):
            self._commit()  # below a merged cell, in a file that shows merged cells: the last group's lines too
        return self.below > 0 and self.again == 0

    def refusal(self, path: str) -> ConfigError | None:
        """The refusal of a file that looks merged (`merged`), naming the lines and what to do; None for another.
        Where every such line gives an amount and nothing of its own, it is told as a subtotal or total row, to be
        removed; where some do, they are named as such besides the merged cells' advice."""
        if not self.merged():
            return None
        kind = self.kind
        field = " and ".join(kind.filled_down)
        name = kind.group_name
        shown = "; ".join(f"{_lines(lines, n)} below line {at} ({label})" for at, label, lines, n, *_ in self.first)
        named = sum(run[3] for run in self.first)
        more = f"; and {self.below - named:,} more" if self.below > named else ""
        if self.totals == self.below:
            lines = f"{self.below:,} lines give" if self.below > 1 else "1 line gives"
            per = " and ".join(kind.filled_alike) or name
            return ConfigError(
                f"{path}: {lines} an amount but no {field}, date or other number of a line, right below a line that "
                f"gives a {field} ({shown}{more}): a subtotal or total row of an export reads so (one for each {per}, "
                f"below its {name}s), and so does a line of the {name} above it whose {field} was a merged cell, "
                f"given on the {name}'s first line only. Which each is cannot be told, so nothing was sent. Remove "
                f"the subtotal and total rows and load the file again; where such a line is a line of the {name} "
                f"above it, fill the {field} down to it (in the spreadsheet: unmerge the cells, then fill each blank "
                "cell with the value above it)"
            )
        alone = kind.own_group_advice or f"where a line is no line of the {name} above it, give it its own {field}"
        lines = f"{self.below:,} lines give" if self.below > 1 else "1 line gives"
        totals = ""
        if self.totals:
            runs = [_lines(lines_, n) for _, _, lines_, n, _, total in self.first if total]
            which = f" ({'; '.join(runs)}{'; …' if sum(r[3] for r in self.first if r[5]) < self.totals else ''})"
            give = f"{self.totals:,} of them give" if self.totals > 1 else "1 of them gives"
            totals = (
                f". {give} an amount but no date or other number of a line{which if runs else ''}: a subtotal or "
                "total row of an export reads so; where it is one, remove it"
            )
        return ConfigError(
            f"{path}: {lines} no {field}, right below a line that gives one ({shown}{more}), and no two lines in a "
            f"row give one {name}'s {field}: a spreadsheet exports a merged cell so, its value on the first line of "
            f"the {name} only. Whether each such line is a line of the {name} above it cannot be told, so nothing was "
            f"sent. Fill the {field} down to every line of its {name} (in the spreadsheet: unmerge the cells, then "
            f"fill each blank cell with the value above it) and load the file again; {alone}{totals}"
        )


def _values(row: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[str | None, ...]:
    """The row's values of `fields` as text (base.key_text: 7 and "7" alike), None for a blank one."""
    values: list[str | None] = []
    for name in fields:
        value = row.get(name)
        text = None if value is None else key_text(value)
        values.append(text or None)
    return tuple(values)


def _alike(row: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[str | None, ...]:
    """The row's values of the fields alike (`filled_alike`) as `_values` gives them, a whole number as its digits
    (base.key_number: journal "01" and "1.0" are journal 1, case "1006.0" is case 1006, as the kinds read them)."""
    return tuple(v if v is None else key_number(v) or v for v in _values(row, fields))


def _lines(lines: list[int], count: int) -> str:
    """A run's lines, the first few of `count`: "line 3", "lines 3-5" (one after another), "lines 3, 4, 5 and 7
    more"."""
    if count == 1:
        return f"line {lines[0]}"
    if count > len(lines):
        return f"lines {', '.join(map(str, lines))} and {count - len(lines):,} more"
    return f"lines {lines[0]}-{lines[-1]}"
