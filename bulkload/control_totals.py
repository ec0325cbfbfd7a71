"""Totals rows: the control totals an export writes among its lines (Excel's Subtotal, `101 Total` below each voucher
and `Grand Total` at the end; a Danish `I alt`, a German `Summe` row; a page's `Transport`). Such a row fills an amount
and nothing of a line's own (sources.Source.totals: no voucher, date or account; a cell of such a field blank or naming
a total), so it is no line to book. It is checked, before the first call, against the lines above it, with the
file's decimal mark: its amount must be the net sum, the debits' sum or the credits' sum of the lines since the totals
rows before it (a voucher's or a page's subtotal) or of all the lines above it (a grand total, a running total), of
its currency where it names one. A file whose totals row matches none of them is refused, naming the figures: a line
is missing or changed, or the row is a line whose fields were lost, which cannot be told; so is one whose text names
no total (`Porto`), which a line whose other cells were merged over writes as well."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from .errors import ConfigError
from .numbers import NumberFormat, plain_written
from .sources import BadRow, GroupTotal, Source, TotalsRow, names_total, names_what_it_totals
from .targets.base import RecordKind

#: the totals rows a file's reading names (the rest counted)
SHOWN = 3
_ZERO = Decimal(0)


class Sums:
    """The lines summed for a totals row: their net sum, debits (positive amounts) and credits (negative), per
    amount field, and the first and last of their lines."""

    def __init__(self) -> None:
        self.net: dict[str, Decimal] = {}
        self.debits: dict[str, Decimal] = {}
        self.credits: dict[str, Decimal] = {}
        self.first = self.last = 0

    def add(self, line: int, field: str, value: Decimal) -> None:
        self.first = self.first or line
        self.last = line
        self.net[field] = self.net.get(field, _ZERO) + value
        side = self.debits if value >= 0 else self.credits
        side[field] = side.get(field, _ZERO) + value

    def matched(self, field: str, value: Decimal) -> str | None:
        """Which of the sums of `field` `value` is ("the net sum", "the debits", "the credits"), None for none."""
        if not self.first:
            return None
        if value == self.net.get(field, _ZERO):
            return "the net sum"
        if field in self.debits and value == self.debits[field]:  # of lines that give debits: none is no sum of them
            return "the debits"
        credits = self.credits.get(field)
        return "the credits" if credits is not None and value in (credits, -credits) else None

    def lines(self) -> str:
        return f"line {self.first}" if self.first == self.last else f"lines {self.first}-{self.last}"

    def shown(self, field: str, mark: str) -> str:
        """The sums of `field` as a file of decimal `mark` writes them: "net 0,00, debits 1484,50, credits -1484,50"."""
        net, debits, credits = (plain_written(s.get(field, _ZERO), mark) for s in (self.net, self.debits, self.credits))
        return f"net {net}, debits {debits}, credits {credits}"


def checked(source: Source, kind: RecordKind, mark: str) -> list[str]:
    """Each totals row of `source` (read with the decimal `mark` the file's numbers decided) checked against the lines
    above it: what each matched, the first SHOWN ("line 6 amount 1.484,50: the debits of lines 2-5"). ConfigError
    naming the row, its amount and the sums where one matches none, or its amount does not read."""
    assert source.totals is not None
    money, may, _ = source.totals
    currency = kind.currency_field
    reading = NumberFormat(mark)
    # by currency ("" for every line): the lines since the totals rows before, and all lines above
    since: dict[str, Sums] = {}
    above: dict[str, Sums] = {}
    run: dict[str, Sums] = {}  # the lines right above of one group (a voucher), which its subtotal sums
    run_of: tuple[str, ...] | None = None  # that group's key (None: none yet, or a totals row since)
    ended = False  # totals rows were read: the next line starts the lines the next totals row sums
    told: list[str] = []
    unread: list[int] = []  # lines that do not read, or whose amount does not (rejected): summed as nothing
    keys = tuple(sorted(kind.group_fields))
    for line, row, is_total in _items(source, (*money, *may, *kind.subtotal_fields, *keys)):
        if row is None:
            unread.append(line)
            continue
        key = str(row.get(currency, "")).strip().upper() if currency else ""
        if not is_total:
            if ended:
                since.clear()
                ended = False
            its = tuple(str(row.get(name, "")).strip() for name in keys)
            if run_of is None or (row.get(kind.subtotal_fields[0]) if kind.subtotal_fields else True) and its != run_of:
                run.clear()  # a line filling its voucher down (none given) stays in the voucher above it
                run_of = its
            for field, _, value, _ in _amounts(row, money, reading):
                if value is None:
                    unread.append(line)
                    continue
                for name in {"", key}:
                    for lines in (since, above, run):
                        lines.setdefault(name, Sums()).add(line, field, value)
            continue
        ended = True
        if is_total is GROUP:
            matched = _group_checked(source.path, line, row, run.get(key) or Sums(), kind, money, mark, unread)
            told.extend(matched[: SHOWN - len(told)])
            run_of = None
            continue
        if (said := _told(row, kind, money, may)) is not None:
            raise ConfigError(f"{source.path}: line {line} {said}")
        for field, text, value, why in _amounts(row, money, reading):
            if value is None:
                raise ConfigError(
                    f"{source.path}: line {line} reads as a totals row ({_looks(kind, money, may)}), and its {field} "
                    f"{text!r} does not read: {why}. Correct it, or remove the row; nothing was sent"
                )
            lines_since, lines_above = since.get(key) or Sums(), above.get(key) or Sums()
            if lines_since.first == lines_since.last and lines_since.matched(field, value) and not _keyed(row, money):
                raise ConfigError(f"{source.path}: line {line} {_lone(kind, money, may, field, text, lines_since)}")
            said = _match(lines_since, lines_above, field, value)
            if said is None:
                of = f" in {key}" if key else ""
                sums = _sums(lines_since, lines_above, field, mark, of)
                not_read = f" ({_unread(unread)})" if unread else ""
                raise ConfigError(
                    f"{source.path}: line {line} reads as a totals row ({_looks(kind, money, may)}), but its {field} "
                    f"{text} is none of the sums of the lines it may total: {sums}{not_read}. A totals row is a "
                    "control total, checked and never loaded: a line above it may be missing or changed, or the row "
                    "is a line whose fields were lost, which cannot be told, so nothing was sent. Correct the lines or "
                    f"the totals row; where line {line} is a line to book, give it its {_lacks(kind, may, 'and')}"
                )
            if len(told) < SHOWN:
                told.append(f"line {line} {field} {text}: {said}")
    return told


#: a totals row that is a group's subtotal (sources.GroupTotal), as _items tells it
GROUP = "group"


def _items(source: Source, only: tuple[str, ...]) -> Iterator[tuple[int, dict[str, object] | None, bool | str]]:
    """(line, row, whether it is a totals row: GROUP for a group's subtotal) of every row that reads as one; (line,
    None, False) of a bad row."""
    for item in source.with_totals(only):
        if type(item) is GroupTotal:
            yield item.line, item.row, GROUP
        elif type(item) is TotalsRow:
            yield item.line, item.row, True
        elif type(item) is BadRow:
            yield item.line_no, None, False
        else:
            line, row = item  # type: ignore[misc]
            yield line, row, False


def _group_checked(
    path: object,
    line: int,
    row: dict[str, object],
    lines: Sums,
    kind: RecordKind,
    money: tuple[str, ...],
    mark: str,
    unread: list[int],
) -> list[str]:
    """A group's subtotal (sources._subtotal: `5;1;101;;1.234,50;;;Total bilag 101`) checked against that group's
    lines right above it (`lines`): what each amount matched ("line 4 amount 1.234,50: the debits of voucher 101,
    lines 2-3"). ConfigError naming the row, its amount and the group's sums where one matches none, or does not
    read."""
    name = f"{kind.group_name} {row.get(kind.subtotal_fields[0])}"
    told = []
    for field, text, value, why in _amounts(row, money, NumberFormat(mark)):
        matched = None if value is None else lines.matched(field, value)
        if matched is not None:
            told.append(f"line {line} {field} {text}: {matched} of {name}, {lines.lines()}")
            continue
        figures = (
            f"does not read: {why}"
            if value is None
            else f"is none of the sums of its lines ({lines.lines()}): {lines.shown(field, mark)}"
            if lines.first
            else f"is none of the sums of its lines: no line of {name} right above it gives {field}"
        )
        not_read = f" ({_unread(unread)})" if unread and value is not None else ""
        raise ConfigError(
            f"{path}: line {line} reads as {name}'s subtotal (it gives the {kind.group_name} of the line above it, "
            f"no date or account, and names a total), but its {field} {text} {figures}{not_read}. A subtotal is a "
            f"control total, checked and never loaded: a line of {name} may be missing or changed, so nothing was "
            "sent. Correct the lines or the subtotal, or remove it"
        )
    return told


def _unread(lines: list[int]) -> str:
    """The lines a totals row's sums leave out, as its refusal names them: "line 4, which does not read (or its
    amount does not), is not summed"; "lines 4, 9 and 2 more, which do not read (or their amounts do not), are not
    summed"."""
    shown = ", ".join(map(str, lines[:2])) + (f" and {len(lines) - 2:,} more" if len(lines) > 2 else "")
    if len(lines) == 1:
        return f"line {shown}, which does not read (or its amount does not), is not summed"
    return f"lines {shown}, which do not read (or their amounts do not), are not summed"


def _told(row: dict[str, object], kind: RecordKind, money: tuple[str, ...], may: tuple[str, ...]) -> str | None:
    """Why a row of a totals row's shape cannot be told for one: no cell names a total, whether it gives text of a
    line's (`Porto`) or none (a bare amount): a line whose other cells were merged over (a spreadsheet's merged cells,
    the account too where two lines book one) reads so too, and its amount may be a sum of the lines above by chance
    (50,00 and 50,00, then 100,00). None where a cell names a total (`Total`, `I alt`)."""
    if _named(row, money):
        return None
    texts = {
        name: str(row[name]) for name in may if row.get(name) and name not in (kind.currency_field, *kind.filled_alike)
    }
    given = "".join(f" and {name} {text!r}" for name, text in texts.items())
    return (
        f"fills {' and '.join(name for name in money if row.get(name))}{given} but no {_lacks(kind, may)}, and no cell "
        "names a total (`Total`, `I alt`, `Summe`): a totals row reads so, and so does a line whose other cells were "
        "merged over (in a spreadsheet: a merged cell, given on the first line only). Which it is cannot be told, so "
        f"nothing was sent. Where it is a line, give it its {_lacks(kind, may, 'and')}; where it is a totals row, "
        "write a word for a total in it (`Total`), or remove it"
    )


def _amounts(
    row: dict[str, object], money: tuple[str, ...], reading: NumberFormat
) -> Iterator[tuple[str, str, Decimal | None, str]]:
    """(field, text, its amount, "") of each amount `row` gives; (field, text, None, why) of one that does not read."""
    for field in money:
        text = row.get(field)
        if type(text) is not str:
            continue
        try:
            value = reading.parse(text)
        except ValueError as exc:
            yield field, text, None, str(exc)
        else:
            yield field, text, value, ""


def _keyed(row: dict[str, object], money: tuple[str, ...]) -> bool:
    """Whether a cell of `row` other than its amounts names what it totals (`101 Total`, `Total DKK`)."""
    return any(names_what_it_totals(str(v)) for k, v in row.items() if k not in money)


def _lone(kind: RecordKind, money: tuple[str, ...], may: tuple[str, ...], field: str, text: str, one: Sums) -> str:
    """Why a totals row whose amount is a sum of the one line above it, naming a total by its word alone, cannot be
    told for one: a line of the same amount whose other cells were merged over from that line (a spreadsheet's merged
    cells: two `Transport` costs of 500.00) reads so, its text a total's word by chance."""
    return (
        f"reads as a totals row ({_looks(kind, money, may)}), and its {field} {text} is that of the one line it may "
        f"total ({one.lines()}), naming no more than a word for a total: a subtotal of that line reads so, and so "
        "does a line of the same amount whose other cells were merged over from it (in a spreadsheet: a merged "
        "cell, given on the first line only), its text that word. Which it is cannot be told, so nothing was sent. "
        f"Where it is a line, give it its {_lacks(kind, may, 'and')}; where it is a total, write what it totals "
        "beside the word (`101 Total`), or remove it"
    )


def _named(row: dict[str, object], money: tuple[str, ...]) -> bool:
    """Whether a cell of `row` other than its amounts names a total (`I alt`, `101 Total`)."""
    return any(names_total(str(v)) for k, v in row.items() if k not in money)


def _match(since: Sums, above: Sums, field: str, value: Decimal) -> str | None:
    """What `value` is of the lines since the totals rows before it, else of all above it; None for nothing."""
    name = since.matched(field, value)
    if name is not None:
        return f"{name} of {since.lines()}"
    name = above.matched(field, value)
    return None if name is None else f"{name} of {above.lines()}, every line above it"


def _sums(since: Sums, above: Sums, field: str, mark: str, of: str) -> str:
    """The sums a totals row matched none of, as its refusal names them."""
    if not above.first:
        return f"no line above it{of} gives {field}"
    sums = f"the lines above it{of} ({above.lines()}) add up to {above.shown(field, mark)}"
    if since.first and since.first != above.first:
        sums += f"; those since the totals rows before it ({since.lines()}) to {since.shown(field, mark)}"
    return sums


def _looks(kind: RecordKind, money: tuple[str, ...], may: tuple[str, ...]) -> str:
    """What makes a row a totals row: "it fills amount, and of the other fields at most currency, journalNumber,
    text: no entryTypeNumber, voucherNumber or date"."""
    return f"it fills {' and '.join(money)}, and of the other fields at most {', '.join(may)}: no {_lacks(kind, may)}"


def _lacks(kind: RecordKind, may: tuple[str, ...], last: str = "or") -> str:
    """The fields every line gives that a totals row leaves out: "entryTypeNumber, voucherNumber or date" (`last`:
    the word before the last)."""
    lacks = [name for names in kind.required() for name in names if name not in kind.money_fields and name not in may]
    return ", ".join(lacks[:-1]) + f" {last} {lacks[-1]}" if len(lacks) > 1 else "".join(lacks)
