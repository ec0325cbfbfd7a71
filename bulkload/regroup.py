"""Bring each group's rows together, in bounded memory: the rows go to a temporary SQLite file and come back
ordered by group (groups in the order of their first row, rows of a group in file order).

General-ledger and account-statement exports are sorted by account, so a voucher's lines lie far apart; a
voucher travels in one call, so such a file is regrouped before it is planned. SQLite sorts on disk when the
rows do not fit its cache, so a 10-million-row file needs no more memory than a small one.

Lines apart are not always one group's: a duplicate export pasted below the first, or a correction appended, gives
a group twice, and merging its copies would book it twice. regrouped() marks where a group's lines begin again
(RUN), and the planner refuses a group whose runs are copies of it (copies) rather than merge them. Copies one
after another (two exports that overlap, joined) are one run: a run that is its lines given again in a row, in any
order, is taken for that many runs (repeated). "The same lines" is one rule for both (_same_lines): what the lines
say, their records' values (100.0 is 100.00), never how the file wrote them; runs of two lines or more that are the
same lines by what names them (RecordKind.line_names: an order's cost type and description), their amounts or notes
edited, are copies too (a correction appended, an export's stamp), apart or in a row; where the kind's groups
balance, apart only where the lines brought together do not, in a row only with their amounts too, the first copy
balancing on its own (a voucher given again right below itself, its text stamped: a correction right below it, or
two sales of one account pair, are its lines), and there a run of one line that balances on its own (an account
against its contra account: a whole voucher) is such a copy too. Where a kind's groups are parts of
one thing (RecordKind.group_family: a Visma Core order, whose lines of each cost type are a group of their own, or
an entry a line), its lines are brought together and judged so whole (family_of): the order is given twice, not
its OUTLAY lines alone.

Nor are one key's lines always one group: where the kind's groups' lines must agree on a field (RecordKind.
agreed_fields: a PayorCRM invoice's customer), lines of one key that name two values of it are two groups given one
key, or one split between those values, and the planner refuses the group (disagreement) rather than merge them.
"""

from __future__ import annotations

import functools
import os
import pickle
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice
from operator import attrgetter
from typing import Any, NamedTuple

import msgspec
from msgspec.structs import astuple

from .errors import PlanningFileError, SourceError, no_room
from .money import JSON_SAFE_INTEGER
from .numbers import spreadsheet_exponent, text_marked
from .sources import BadRow, JsonExponent, Row
from .targets.base import Elsewhere, GroupKey, RecordKind, Unreadable

#: rows written per statement
_BATCH = 10_000


Keyed = tuple[str | None, Row | BadRow]


#: the kind of a shadow row: not a row of its own, but the reason a group is refused with a broken neighbour
NEIGHBOUR = "neighbour"
#: the kind of a shadow row that refuses every group of a family (RecordKind.group_family), wherever its lines are:
#: its `partial` is a row of the family whose part cannot be read (Unreadable.family), which may be any of its lines
FAMILY = "family"
#: the kinds of shadow rows: reasons, no rows of their own
SHADOWS = frozenset({NEIGHBOUR, FAMILY})
#: the most rows naming no group (or none that can be read) keyed() holds one after another, waiting for a row that
#: names one: each would be taken for a line of a group beside them. Past it, the file is refused (a row of kind
#: HELD_PAST): so many in a row are no group's lines but a file broken from there on (a quote left open, a column
#: emptied or shifted), and holding them all took memory without bound (tester t36f: 1,000,000 rows of no voucher,
#: past 700 MB; a quoted cell of 8,000,000 short lines read from its middle by halves.py, 1.5 GB)
MAX_HELD = 10_000
#: the kind of the row keyed() yields in place of a run of more than MAX_HELD rows naming no group: a fault of the
#: whole file, refused before the first call (profile._scan, as every BadRow kind not a shadow)
HELD_PAST = "held past"
#: the kind of a mark regrouped() puts among a group's rows: no row, but where its lines begin again after other
#: groups' lines in the file (at the line it names), so the planner can tell its runs apart (see copies)
RUN = "run"
#: how a group's runs are copies of it (copies): each the same lines, or each balancing on its own, or each the same
#: lines by what names them (RecordKind.line_names), other in their amounts or notes
SAME_LINES, BALANCED, SAME_NAMES = "the same lines", "balancing on its own", "the same lines by what names them"
#: how the reason a group is refused for as given more than once begins (its label, then this), and a LIKE pattern
#: of such reasons, which tells a group the planner refused so from one it regrouped
GIVEN_AGAIN = " is given {n} times, "
GIVEN_AGAIN_LIKE = "% is given % times, %"
#: how the reason a group is refused for as not one group's lines begins (its label, then this; disagreement), and
#: a LIKE pattern of such reasons, which tells it from a group regrouped as GIVEN_AGAIN_LIKE does
DISAGREES = " is refused whole: its lines name "
DISAGREES_LIKE = "% is refused whole: its lines name %"


class Placed(NamedTuple):
    """A row (or a neighbour's shadow) with the group keyed() gave it in the file's own order, as regrouped()
    hands it out: read in the regrouped order, where its neighbours are others, it keeps that group."""

    key: str | None
    item: Row | BadRow


class Unnamed:
    """The rows that named no group and were placed by their neighbours: how many, and the first few (line, why
    it names none). Taking a neighbour's group is sound only where every group's rows are together: in a file
    whose groups are apart such a row may be any group's line, and the inspection refuses the file. A row whose
    group cannot be read but whose family can (Unreadable.family) is no such row: its family is refused whole
    wherever its lines are (regroup.FAMILY); it is counted apart (`of_family`), as a row no half of a file can
    judge alone (halves.py)."""

    SHOWN = 5

    def __init__(self) -> None:
        self.count = 0
        self.first: list[tuple[int, str]] = []
        self.of_family = 0

    def add(self, item: Row | BadRow, why: str = "") -> None:
        """Count a row that names no group; `why`: the value it names one by that is no key (Unreadable)."""
        self.count += 1
        if len(self.first) < self.SHOWN:
            # a readable row that names no group has no reason of its own (""), unless its key cannot be read
            self.first.append((item.line_no, why or item.reason) if isinstance(item, BadRow) else (item[0], why))


def family_of(kind: RecordKind, key: str | None, item: Row | BadRow) -> str | None:
    """The family (RecordKind.group_family: a Visma Core order) of a row as keyed() gave it `key`: its group's, else
    the one it names as a row of no group, or a neighbour's shadow refuses the part of (part_of); None for a row of
    none."""
    if key is not None:
        return kind.group_family(key)
    named = part_of(kind, item)
    return None if named is None else named[0]


def part_of(kind: RecordKind, item: Row | BadRow) -> tuple[str, str] | None:
    """(family, part) a row of no group names (RecordKind.row_family: a FEE line's order and cost type), or that a
    neighbour's shadow of no group refuses (keyed: it carries a row of that part as its `partial`); None for none (a
    bad row of no group names none that can be told)."""
    if isinstance(item, BadRow):
        return kind.row_family(item.partial) if item.kind in SHADOWS and item.partial is not None else None
    return kind.row_family(item[1])


@dataclass(frozen=True)
class Part:
    """A row of no group that names a part of a family (RecordKind.row_family: a FEE line of an order), as keyed()
    takes it for a neighbour: the part's rows of no group are refused with a line beside them whose group cannot be
    read, as a group's are (before, a FEE order above a totals row was booked where --dry-run, which plans every
    order merged, refused it). Equal by family and part; `row` goes with the shadow that refuses the part."""

    family: str
    part: str
    row: dict[str, Any] = field(compare=False)


#: what keyed() takes a row beside one of no group for: its group, a part of a family (a row of no group that names
#: one), or None (it stands alone)
Near = str | Part | None


def keyed(rows: Iterable[Row | BadRow | Placed], kind: RecordKind, unnamed: Unnamed | None = None) -> Iterator[Keyed]:
    """Each row with its group key. A row that names no group and cannot be read (a line too broken to tell)
    takes the key of the rows around it when they are of one group: it is taken for that group's line, so the
    group is rejected with it rather than loaded without it. Where every row belongs to a group
    (`kind.rows_grouped`: e-conomic's vouchers), any row that names none is such a row, and between two groups
    it is taken for a line of the one before and refuses the one after as well (a shadow of it, kind
    NEIGHBOUR, goes to that group): it may have been either's line, and neither may load without it. Every such
    row is counted in `unnamed` when given (see Unnamed). Where the kind's rows of no group name a part of a family
    (RecordKind.row_family: an order's FEE lines), such a row beside them refuses that part as it refuses a group:
    a shadow of no key carrying a row of the part (part_of), which refuses all its rows of no group (Part).
    A row that names its group in full but is refused for its place (Elsewhere: e-conomic's journal other than
    --journal) is no such row: it is its group's line, and refuses only a group it may be of with its place written
    wrong (_away). The inspection, the regrouping and the planner all read rows through this, so they agree on
    every row's group; a row regrouped() placed keeps its place (its neighbours are decided in the file's own
    order). Keys are read by group_reader: a row leaving out a group field its kind requires, or naming its group as
    a spreadsheet shows a long number, names none that can be read."""
    key_of, strict = group_reader(kind), kind.rows_grouped
    families = type(kind).row_family is not RecordKind.row_family
    held: list[Row | BadRow] = []  # rows naming no group, waiting for the next row that names one
    unread: str | None = None  # why a held row's group cannot be read, if one's cannot (then all are placed strictly)
    #: a held row is a bad row: it may have named a group in a cell it garbles, so it is placed strictly whatever
    #: the kind (before: a Visma Core order whose last line was unreadable loaded without it)
    broken = False
    before: Near = None
    away: list[Row | BadRow] = []  # rows of one group refused for its place, waiting for the row after them
    there: Elsewhere | None = None  # their group
    try:
        for item in rows:
            if isinstance(item, Placed):
                yield item
                continue
            if isinstance(item, BadRow):
                key = key_of(item.partial) if item.partial is not None else None
                if key is None and item.unaligned:  # its cells name no group for its width (or a quote) alone
                    key = Unreadable(item.reason)
            else:
                key = key_of(item[1])
            if away and not (isinstance(key, Elsewhere) and there is not None and key.key == there.key):
                after = key if type(key) is str else key.key if isinstance(key, Elsewhere) else None
                before = yield from _away(away, there, before, after, kind)
                away.clear()
            if type(key) is not str:  # one check a row for the usual key
                if isinstance(key, Unreadable):
                    unread = unread or key.why
                    held.append(item)
                    if unnamed is not None and key.family is None:
                        unnamed.add(item, key.why)
                    elif unnamed is not None:
                        unnamed.of_family += 1
                    if len(held) > MAX_HELD:
                        yield None, _held_past(held, kind, unread)
                        return
                    continue
                if key is None and (strict or isinstance(item, BadRow)):
                    held.append(item)
                    broken = broken or isinstance(item, BadRow)
                    if unnamed is not None:
                        unnamed.add(item)
                    if len(held) > MAX_HELD:
                        yield None, _held_past(held, kind, unread)
                        return
                    continue
            now: Near = key.key if isinstance(key, Elsewhere) else key
            if now is None and families and not isinstance(item, BadRow):  # a part of its family, where it names one
                now = _part(kind, item[1])
            if held:
                near = broken and (before is not None or now is not None)  # a group (or part) beside it to refuse
                yield from _place(held, before, now, strict or near or unread is not None, kind, unread)
                held.clear()
                unread, broken = None, False
                if isinstance(key, Elsewhere):  # rows of no group before it, no group it may be of
                    before = None
            if isinstance(key, Elsewhere):  # placed once the row after its group's rows tells what is beside them
                there = key
                away.append(item)
                continue
            yield key, item
            before = now
    except SourceError:  # the input breaks off: what was held is still a row read
        before = yield from _away(away, there, before, None, kind)
        near = broken and before is not None
        yield from _place(held, before, None, strict or near or unread is not None, kind, unread)
        raise
    before = yield from _away(away, there, before, None, kind)
    near = broken and before is not None
    yield from _place(held, before, None, strict or near or unread is not None, kind, unread, at_end=True)


def group_reader(kind: RecordKind) -> Callable[[Mapping[str, Any]], GroupKey]:
    """`kind.group_key`, with one rule for every kind: a row whose text group field (one read as no number or date)
    is written as a spreadsheet shows a long number ("2.1E+11", chunking.Reading refuses it), or is a JSON number
    written with an exponent (`1.0E3`: 1000, or 1012 as a spreadsheet showed it, as key_number reads none; the field
    takes text, and validation refuses the row) or with a fraction past 2^53 (`9007199254740992.0`, as a double
    holding 9007199254740993 writes it too), names its group by no key, and a row of no group (None) that
    leaves out a group field the kind requires (RecordKind.required: a PayorCRM invoiceNumber, a Visma Core caseId)
    is a group's line whose key was lost (a blank or merged cell), not a row standing alone: Unreadable either way,
    so the groups next to it are refused with it (keyed). Before, such a PayorCRM line was rejected alone and its
    invoice loaded without it. A kind whose groups are one record (RecordKind.single_record_groups: a customer) has
    no lines to lose: such a row is refused alone (Reading)."""
    key_of = kind.group_key
    texts = tuple(sorted(kind.group_fields - kind.whole_fields - kind.number_fields - kind.date_fields))
    alone = {names[0] for names in kind.required() if len(names) == 1}
    needed = () if kind.rows_grouped else tuple(sorted(kind.group_fields & alone))  # a grouped kind holds any such
    if kind.single_record_groups or not (texts or needed):
        return key_of

    def read(row: Mapping[str, Any]) -> GroupKey:
        for name in texts:
            value = row.get(name)
            if type(value) is str and spreadsheet_exponent(value):
                return Unreadable(f"{name} {value.strip()!r} is a long number as a spreadsheet shows it")
            if type(value) is str and text_marked(value):
                return Unreadable(f"{name} {value.strip()!r} starts with a spreadsheet's text prefix, an apostrophe")
            if type(value) is JsonExponent:
                return Unreadable(
                    f"{name} {value} is a number written with an exponent, as a spreadsheet shows one it may have "
                    "rounded: which it is cannot be told"
                )
            if type(value) is Decimal and abs(value) > JSON_SAFE_INTEGER:
                return Unreadable(
                    f"{name} {value} is a number written with a fraction past 2^53, as a program holding it as a "
                    "double writes one, which holds no other whole number that far: which it is cannot be told"
                )
        key = key_of(row)
        if key is None:
            for name in needed:
                if row.get(name) is None:
                    return Unreadable(f"no {name}")
        return key

    return read


def _away(
    rows: list[Row | BadRow], there: Elsewhere | None, before: Near, after: Near, kind: RecordKind
) -> Generator[Keyed, None, Near]:
    """The rows of one group `there` (Elsewhere: refused for its place, by validation) one after another, between
    `before` and `after` (the group, part or None next to them): among a group's lines (the same on both sides),
    that group's lines, refused with it as a line of no group is; else their own group's, and a group beside them
    that they would be in the place given (`there.here`: the voucher of their number in the journal given) is
    refused with them by a shadow (kind NEIGHBOUR): they may be its lines, their place written wrong. A group of
    another number is not: they name their own (before, a journal-2 voucher refused the journal-1 vouchers on either
    side of it as if its lines named no voucher that can be read). Returns what the rows after them have before
    them."""
    if there is None or not rows:
        return before
    if type(after) is str and after == before:
        for row in rows:
            yield after, row
        return after
    label = kind.group_label(there.key)

    def shadow(row: Row | BadRow) -> BadRow:
        line = row.line_no if isinstance(row, BadRow) else row[0]
        why = f"line {line}, next to it, names {label}, {there.why}, and may be one of its lines"
        return BadRow(line, why, "", kind=NEIGHBOUR)

    if before == there.here:
        yield there.here, shadow(rows[0])
    for row in rows:
        yield there.key, row
    if after == there.here:
        yield there.here, shadow(rows[-1])
    return there.key


def _part(kind: RecordKind, row: dict[str, Any]) -> Part | None:
    named = kind.row_family(row)
    return None if named is None else Part(*named, row)


def _held_past(held: list[Row | BadRow], kind: RecordKind, unread: str | None) -> BadRow:
    """The row (kind HELD_PAST) that refuses a file in which the rows `held`, more than MAX_HELD one after another,
    name no group (`unread`: why one's group cannot be read, where one's cannot), at the first of them."""
    first = held[0].line_no if isinstance(held[0], BadRow) else held[0][0]
    # a line that reads as no row names its own fault (`row has 8 cells, the header has 7`): what its cells would
    # name as a group (`no accountingCostType`, where the cells are shifted) is no fault of the file's (tester t37a)
    fault = held[0].reason if isinstance(held[0], BadRow) else unread
    why = f" that can be read ({fault})" if fault else ""
    name = kind.group_name
    return BadRow(
        first,
        f"it and the {MAX_HELD:,} lines after it name no {name}{why}: a row of no {name} is taken for a line of the "
        f"{name} beside it, and so many in a row are no {name}'s lines but a file broken from this line on (a quote "
        f"left open, a column emptied or shifted). Fix the file from this line",
        "",
        kind=HELD_PAST,
    )


def _place(
    held: list[Row | BadRow],
    before: Near,
    after: Near,
    strict: bool,
    kind: RecordKind,
    unread: str | None,
    at_end: bool = False,
) -> Iterator[Keyed]:
    """The rows `held` (naming no group) between `before` and `after`, each a group, a part of a family or None: in
    the group of the one before (else of the one after) where they are placed `strict`ly, with a shadow that refuses
    each neighbour (a part's, of no group, carries a row of the part: part_of), else standing alone, as they do
    beside groups of one record (RecordKind.single_record_groups: before, a PayorCRM customer line giving its
    customerno twice refused the customer after it, "may be one of its lines"). Rows whose group cannot be read but
    whose family can (Unreadable.family: an order's line whose cost type has no entry definition, by its orderId and
    case) may be any line of that family, and of no other: each stands alone (or among a group's lines, in it), and a
    shadow of kind FAMILY after the rows of each family refuses that family whole, wherever its lines are (before, a
    Visma Core line of order R-5 refused orders R-1 and R-9 of another case beside it, "may be one of its lines", and
    R-5's OUTLAY lines a FEE line away were booked without it). Rows `at_end` of the file, after its last
    group, may be a totals row: the group before them is told so, and how to load it (before, only that they may be
    its lines, while the rows' own reason named a required field missing)."""
    runs, every = _families_named(kind, held) if unread is not None else ([], False)
    # among a group's lines: its line, refusing it for what it is (one naming another family is that family's)
    if type(after) is str and after == before and all(family == kind.group_family(after) for family, *_ in runs):
        for row in held:
            yield after, row
        yield from _families_refused(kind, runs)
        return
    if every:
        for run in runs:  # each family's rows and its shadow one after another: its lines are planned together
            yield from ((None, row) for row in run[2])
            yield from _families_refused(kind, [run])
        return
    if not strict or not held or kind.single_record_groups:  # a customer has no lines: none is a neighbour's
        for row in held:
            yield None, row
        return
    # beside rows that name nothing (t31: a line of no case after it): refused as they are, and their families whole,
    # told first, while a neighbour of their family is being planned
    yield from _families_refused(kind, runs)
    name = kind.group_name
    line, last = (row.line_no if isinstance(row, BadRow) else row[0] for row in (held[0], held[-1]))
    lines, verb, one = (f"line {line}", "names", "") if line == last else (f"lines {line}-{last}", "name", "each ")
    names = f"{verb} no {name} that can be read ({unread})" if unread else f"{verb} no {name}"
    # at a group's edge it may be either neighbour's line (or, after the last, a totals row): each group it
    # refuses is told that, not what else is wrong with the row
    why = f"{lines}, next to it, {names} and {one}may be one of its lines"
    if at_end and after is None:  # an export's totals row after its last group, as often as a line lost its group
        why = f"{lines}, after it at the file's end, {names} and {one}may be one of its lines, or a totals row: " + (
            "remove it if it is one, and load the rejects file"
        )
    shadow = BadRow(line, why, "", kind=NEIGHBOUR)
    # the rows go to a group beside them (a part's rows are each a row of no group); the group they go to is told the
    # shadow's reason before theirs
    home = before if type(before) is str else after if type(after) is str else None
    if before is not None:
        yield _shadow(before, shadow)
    if after is not None and after == home != before:
        yield _shadow(after, shadow)
    for row in held:
        yield home, row
    if after is not None and after != home and after != before:
        yield _shadow(after, shadow)


def _families_refused(kind: RecordKind, runs: list[tuple[str, str, list[Row]]]) -> Iterator[Keyed]:
    """A shadow of kind FAMILY for each run of `_families_named`: it refuses the family its rows name, whole."""
    for _, why, rows in runs:
        line, last = rows[0][0], rows[-1][0]
        lines, ours = (f"line {line}", "a line") if line == last else (f"lines {line}-{last}", "lines")
        yield None, BadRow(line, f"{lines}, {ours} of this {kind.group_name}: {why}", "", rows[0][1], kind=FAMILY)


def _families_named(kind: RecordKind, held: list[Row | BadRow]) -> tuple[list[tuple[str, str, list[Row]]], bool]:
    """The rows of `held` (whose groups cannot be read) that name their family all the same (Unreadable.family), in
    runs of one family, with why the first's group cannot be read: (family, why, rows); and whether every row of
    `held` is one (else the others, a bad row or one that names no family, may be any neighbour's line)."""
    if type(kind).row_family is RecordKind.row_family:  # the other kinds pay nothing for it
        return [], False
    key_of = group_reader(kind)
    runs: list[tuple[str, str, list[Row]]] = []
    every = True
    for row in held:
        key = None if isinstance(row, BadRow) else key_of(row[1])
        if not isinstance(key, Unreadable) or key.family is None:
            every = False
        elif runs and runs[-1][0] == key.family:
            runs[-1][2].append(row)  # type: ignore[arg-type]
        else:
            runs.append((key.family, key.why, [row]))  # type: ignore[list-item]
    return runs, every and bool(runs)


def _shadow(near: str | Part, shadow: BadRow) -> Keyed:
    """The shadow that refuses `near` (a group, or a part of a family), with the key it goes in."""
    if isinstance(near, Part):  # the part's rows are each a row of no group: the shadow names the part by a row of it
        return None, shadow._replace(partial=near.row)
    return near, shadow


def regrouped(rows: Iterable[Row | BadRow], kind: RecordKind, workdir: str) -> Iterator[Placed]:
    """`rows` with the rows of each group key together (a row of no group keeps its place among the groups), each
    with the group keyed() gave it in the file's order, and a neighbour's shadow in the group it refuses: a row
    naming no group is not judged again by its neighbours in the new order (before: a shadow was dropped, so
    the voucher after a line naming none loaded when the file was regrouped, and a voucher next to it only in
    the new order was refused). Where a group's lines begin again after other groups' lines in the file, a mark
    goes before the first of them: Placed(key, BadRow(line, "", "", kind=RUN)), no row (the planner tells the
    group's runs by it, see copies). Where the kind's groups are parts of families (RecordKind.row_family), a
    family's rows are brought together instead, its rows of no group too, in file order, and the mark goes where
    the family's lines begin again (family_of; the planner splits the family into its groups). The spill file is
    created in `workdir` (never following a link) and its name removed as soon as it is open: its space is the
    open connection's, freed when the iteration ends or the process dies, so a load killed (kill -9) while it
    regroups leaves no file behind (before: one of 5 times the input's size per kill, beside the ledger, for good).
    PlanningFileError where it cannot be made or written (a full disk)."""
    try:
        fd, path = tempfile.mkstemp(prefix=".bulkload-regroup-", suffix=".sqlite", dir=workdir)
    except OSError as exc:
        raise PlanningFileError(f"cannot make the spill file that regroups the rows in {workdir}: {exc}") from exc
    os.close(fd)
    try:
        try:
            db = _spill_file(path)
        finally:
            os.unlink(path)
        with closing(db):
            yield from _spilled(rows, kind, db)
    except (sqlite3.Error, OSError) as exc:
        # reading the rows back sorts them in SQLite's folder for temporary files, not beside the spill file: a
        # full /tmp was told as a full disk beside the ledger (tester t41a, 75 GB free there)
        where = f" (or SQLite's folder for temporary files, {SORTS_IN}, where it sorts them)" if no_room(exc) else ""
        raise PlanningFileError(f"cannot write the spill file {path}{where} that regroups the rows: {exc}") from exc


#: where SQLite keeps the temporary files of a sort on Unix: $SQLITE_TMPDIR, else $TMPDIR, else /var/tmp, /usr/tmp, /tmp
SORTS_IN = "$SQLITE_TMPDIR, else $TMPDIR, else /var/tmp or /tmp"


def _spill_file(path: str) -> sqlite3.Connection:
    """The spill file at `path` (made, empty) open, with its tables. Its journal is off, which lets it be written
    once its name is gone (SQLite checks that a database was not moved only where it opens a rollback journal)."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE grp (key TEXT PRIMARY KEY, ord INTEGER NOT NULL) WITHOUT ROWID")
        # run: the order of the first row of the row's run, the rows one after another in the file with its key
        db.execute(
            "CREATE TABLE row (key TEXT NOT NULL, line INTEGER NOT NULL, run INTEGER NOT NULL, item BLOB NOT NULL)"
        )
    except BaseException:
        db.close()
        raise
    return db


def _spilled(rows: Iterable[Row | BadRow], kind: RecordKind, db: sqlite3.Connection) -> Iterator[Placed]:
    """regrouped()'s rows through the spill file `db` (_spill_file)."""
    db.execute("BEGIN")
    groups: list[tuple[str, int]] = []
    spilled: list[tuple[str, int, int, bytes]] = []
    dumps = pickle.dumps
    previous: str | None = None
    run = 0
    families = type(kind).row_family is not RecordKind.row_family  # an order's lines together, of any cost type
    for order, (key, item) in enumerate(keyed(rows, kind)):
        line = item.line_no if type(item) is BadRow else item[0]
        spill = family_of(kind, key, item) if families else key
        if spill is None:  # a row of no group (or family): alone, where it stands
            spill = f"\x00{line}"
        if spill != previous:
            run, previous = order, spill
        groups.append((spill, order))
        spilled.append((spill, line, run, dumps(Placed(key, item), pickle.HIGHEST_PROTOCOL)))
        if len(spilled) >= _BATCH:
            _flush(db, groups, spilled)
    _flush(db, groups, spilled)
    db.execute("COMMIT")
    loads = pickle.loads
    group, run = -1, -1
    for ord_, line, row_run, data in db.execute(
        "SELECT grp.ord, row.line, row.run, row.item FROM row JOIN grp USING (key) ORDER BY grp.ord, row.line"
    ):
        placed = loads(data)
        if row_run != run:
            if ord_ == group:  # the group's lines begin again here, after other groups' lines
                yield Placed(placed.key, BadRow(line, "", "", kind=RUN))
            run = row_run
        group = ord_
        yield placed


def _flush(db: sqlite3.Connection, groups: list[tuple[str, int]], spilled: list[tuple[str, int, int, bytes]]) -> None:
    db.executemany("INSERT OR IGNORE INTO grp VALUES (?, ?)", groups)  # the first row of a group sets its place
    db.executemany("INSERT INTO row VALUES (?, ?, ?, ?)", spilled)
    groups.clear()
    spilled.clear()


def disagreement(kind: RecordKind, label: str, lines: Sequence[int], records: Sequence[Any]) -> str | None:
    """Why a group, as messages name it `label`, is refused whole: its lines (`records`, read from `lines` of its
    file) name two values or more of a field they must agree on (RecordKind.agreed_fields), each value named with
    its lines; None where they agree (or the kind has no such field)."""
    for name in kind.agreed_fields:
        lines_of: dict[Any, list[int]] = {}
        for line, record in zip(lines, records, strict=True):
            lines_of.setdefault(getattr(record, name, None), []).append(line)
        if len(lines_of) < 2:
            continue
        shown = [f"{'none' if value is None else value} ({_line_list(at)})" for value, at in lines_of.items()]
        more = len(shown) - _VALUES_SHOWN
        listed = ", ".join(shown[:-1]) + f" and {shown[-1]}" if more <= 0 else ", ".join(shown[:_VALUES_SHOWN])
        listed += f" and {more} more" if more > 0 else ""
        group = kind.group_name
        return (
            f"{label}{DISAGREES}{len(shown)} {name[:-1] + 'ies' if name.endswith('y') else name + 's'}, {listed}, "
            f"where every line of one {group} "
            f"names the same: two {group}s given one number, or one {group} split between them? Which is meant cannot "
            f"be told, so none is loaded: give each {group} a number of its own"
        )
    return None


#: the values of a field a disagreement names, and the lines of each, before it says how many more
_VALUES_SHOWN, _LINES_SHOWN = 5, 3


def _line_list(lines: Sequence[int]) -> str:
    """`[2]` as "line 2", `[2, 5, 9, 11]` as "lines 2, 5, 9 and 1 more"."""
    if len(lines) == 1:
        return f"line {lines[0]}"
    shown = ", ".join(map(str, lines[:_LINES_SHOWN]))
    more = len(lines) - _LINES_SHOWN
    return f"lines {shown} and {more} more" if more > 0 else f"lines {shown.rpartition(', ')[0]} and {lines[-1]}"


def copies(kind: RecordKind, runs: Sequence[Sequence[Any]], apart: bool = True) -> str | None:
    """How a group whose lines lie apart in its file is the group given more than once (a duplicate export, or a
    correction appended), which is not merged: which copy is meant cannot be told. `runs`: its records in the runs
    of its lines in file order (two or more; a run: its lines one after another, no other group's line between, or
    one of the copies of a run that gives them again in a row, see repeated); `apart` False: each such a copy, one
    after another in the file, which no file sorted by account puts so (never BALANCED: by what names their lines).
    Returns SAME_LINES, BALANCED, SAME_NAMES, or None where the runs are one group's lines brought together.

    SAME_LINES where every run is the same lines (_same_lines: the same records as a multiset, whatever their lines'
    numbers and however the file wrote their values);
    BALANCED where the kind's groups balance and every run balances on its own (_balanced);
    SAME_NAMES where the kind names its lines (RecordKind.line_names: Visma Core's cost type and description) and
    every run holds two lines or more, the same lines by those names (_same_lines, of the names alone): a copy whose
    amounts or notes were edited (a line corrected, an export's stamp), which is no file sorted by another column,
    whose runs each carry other lines. Where the kind's groups balance, only where the runs are not one group's
    lines by their balance (_one_balance): runs out of balance until the last that balance together (7000 +1000,
    2800 -700; 7000 +800, 2800 -1100, in a file sorted by text) are one group's lines; brought together out of
    balance (100/-100 re-exported as 110/-100: out by 10), or balancing before their last (that voucher exported
    twice), they are copies. Runs of one line are not so judged, but where the first is a whole group
    (_whole_line: 1010 against contra 5600, given again right below with its text stamped): two lines of one name
    are an order's equal lines as plausibly (Takst 100.00 and Takst 110.00 apart in a file sorted by amount); nor
    is a copy that adds or drops a line: its runs hold other lines."""
    if _same_lines(runs):
        return SAME_LINES
    if apart and _balanced(kind, runs):
        return BALANCED
    named = _named(kind)
    if (
        named is not None
        and (min(map(len, runs)) >= 2 or _whole_line(kind, runs[0]))
        and _same_lines(runs, named)
        and not (_balances(kind) and _one_balance(kind, runs))
    ):
        return SAME_NAMES
    return None


def _one_balance(kind: RecordKind, runs: Sequence[Sequence[Any]]) -> bool:
    """Whether a balancing kind's runs are one group's lines by their balance: brought together they balance, and no
    runs before a later one do (in file order): a group given twice balances in its first copy already, whatever the
    runs of each copy (a voucher sorted by text, exported twice and joined: 1010 +1000, 5600 -700; 1010 +800, 5600
    -1100; then the same again)."""
    units, imbalance = kind.units, kind.imbalance
    lines: list[Any] = []
    for run in runs[:-1]:
        lines.extend(run)
        if not imbalance(lines, list(map(units, lines))):
            return False
    lines.extend(runs[-1])
    return not imbalance(lines, list(map(units, lines)))


def _balances(kind: RecordKind) -> bool:
    """Whether the kind's groups balance: it tells how far a group is from it (RecordKind.imbalance, of its
    RecordKind.units)."""
    cls = type(kind)
    return cls.imbalance is not RecordKind.imbalance and cls.units is not RecordKind.units


@functools.cache
def _named(kind: RecordKind) -> Callable[[Any], Any] | None:
    """What names a record's line (RecordKind.line_names, their values), None where the kind names none."""
    return attrgetter(*kind.line_names) if kind.line_names else None


def _balanced(kind: RecordKind, runs: Sequence[Sequence[Any]]) -> bool:
    """Whether the kind's groups balance (RecordKind.imbalance, of its RecordKind.units) and every run balances on its
    own, per currency, unless the runs are how an export sorted by account puts a group's lines apart: each run the
    lines of one account (RecordKind.sort_account), no two runs of one account (a move between departments, +100
    and -100 on one account, balances in its run); a run whose lines post to no account balances for want of a
    posting, and proves nothing. A correction that changes the account of a group whose lines are all on one account
    is taken for such a file's group and merged: the rule cannot tell those apart. Runs once a group whose lines are
    apart (all of them, in a file sorted by account): a run that does not balance ends it."""
    if not _balances(kind):
        return False
    units, imbalance = kind.units, kind.imbalance
    if any(imbalance(run, list(map(units, run))) for run in runs):
        return False
    accounts = [{_account(kind.sort_account(r)) for r in run} for run in runs]
    if any(a == {None} for a in accounts):  # a run that posts to no account balances for want of any posting
        return False
    return not (all(len(a) == 1 and None not in a for a in accounts) and len(set().union(*accounts)) == len(runs))


def repeated(kind: RecordKind, run: Sequence[Any]) -> int:
    """The length of the copies a run gives k >= 2 times one after another, each the same lines in any order (the group
    given k times in a row, as where two exports that overlap are joined: 100/-100 then -100/100 too), or len(run) where
    it is no such run. `run`: a group's records of one run, in file order. A copy holds at least 2 lines: a run of one
    line given again and again (its smallest period 1) is a group's lines, as two equal cost lines may be, or two equal
    debits against one credit (1010 +50, 1010 +50, 5600 -100); but where the kind's groups balance and that one line
    balances on its own (_whole_line: 1010 against contra 5600, a whole voucher), it is that voucher given again (a
    tester's voucher 7 was booked at 200.00 for 100.00, exit 0). Its copies are the same lines as copies() reads them
    (_same_lines), by what names the lines (RecordKind.line_names, of kinds that name them; else by all they say), their
    amounts or notes edited as apart (order Takst 200.00, Porto 40.00 followed at once by Takst 210.00, Porto 40.00
    corrected: copies() judges them SAME_NAMES, as with another group between); where the kind's groups balance
    (RecordKind.imbalance), by what names the lines and their amounts, the first copy balancing on its own (voucher 1010
    +100, 5600 -100 followed at once by the same with an export's stamp in its text is copies; a voucher holds one
    account pair again in a row as plainly as two sales, 1010 +100, 5600 -100, 1010 +50, 5600 -50, or a correction right
    below it, 110/-110: its lines, as the file has them; so are 1010 +100, 5600 -60, 1010 +50, 5600 -90). The shortest
    copies are taken. Cheap where a run holds no copies, as nearly all do: none under 4 lines (of a balancing kind,
    under 2), else for each length dividing the run's a look for the first line in the second copy, and the copies
    compared only where it is there."""
    n = len(run)
    balances = n >= 2 and _balances(kind)
    if n < 4 and not balances:  # two copies of at least 2 lines (of a balancing kind, a line that balances alone)
        return n
    named = _named(kind)
    if named is not None:
        if named(run[0]) not in map(named, islice(run, 1, None)):  # a later copy holds the first line again: ruled
            return n  # out cheaply, as for nearly every group
        if balances:
            # a voucher holds one account pair again in a row as plainly as two sales (1010 +100, 5600 -100, 1010
            # +50, 5600 -50), or a correction right below it (110/-110): its copies in a row are so by their names
            # AND amounts
            by_name, units = named, kind.units
            named = lambda record: (by_name(record), units(record))  # noqa: E731
    said = run if named is None else list(map(named, run))  # what the copies are compared by, line by line
    first = said[0]
    for p in range(1 if balances else 2, n // 2 + 1):
        # a record equals another (==) where their values do, as _same_lines compares them: a copy holds the first
        if n % p or first not in said[p : 2 * p]:
            continue
        parts = [run[i : i + p] for i in range(0, n, p)]
        if not _same_lines(parts, named):
            continue
        # copies of one line (or by name, of one name) are no copies, but where that one line is a whole voucher;
        # nor are copies of a copy that does not balance, though longer ones may be (1010 +50, 5600 +30, 1010 +20,
        # 5600 -100, given twice: by name, copies of 2 too)
        head = parts[0]
        if (len(_lines(head, named)) == 1 and not _whole_line(kind, head)) or kind.imbalance(
            head, list(map(kind.units, head))
        ):
            continue
        return p
    return n


def _whole_line(kind: RecordKind, run: Sequence[Any]) -> bool:
    """Whether a run is one line that is a whole group: the kind's groups balance and it balances on its own,
    posting to an account (e-conomic's line against its contra account; a line of a contra account alone balances
    for want of a posting, and proves nothing)."""
    return (
        len(run) == 1
        and _balances(kind)
        and not kind.imbalance(run, [kind.units(run[0])])
        and _account(kind.sort_account(run[0])) is not None
    )


def _account(account: Any) -> Any:
    """A line's account side as sort_account gives it, None where it names none (a tuple of Nones too)."""
    return None if isinstance(account, tuple) and all(v is None for v in account) else account


def _lines(run: Sequence[Any], named: Callable[[Any], Any] | None = None) -> Counter[Any]:
    """A run's lines as a multiset of what they say: each record's values (a grouped kind's records are flat msgspec
    Structs: DraftEntry, EntryRow), which compare by value: an amount as its Decimal (100.0 is 100.00), a date as the
    ISO text the file's reading made of it (chunking.Reading: 01-11-2026 is 2026-11-01), never as the file wrote
    them; or, `named` given, what it gives of each record (what names it: RecordKind.line_names), read alike."""
    if named is not None:
        return Counter(map(named, run))
    return Counter(tuple(map(_hashable, astuple(record))) for record in run)


def _hashable(value: Any) -> Any:
    """A record's value as a multiset holds it: a nested one (PayorCRM's billAddr, a dict) as its JSON, keys sorted."""
    return msgspec.json.encode(value, order="sorted") if isinstance(value, dict | list) else value


def _same_lines(runs: Sequence[Sequence[Any]], named: Callable[[Any], Any] | None = None) -> bool:
    """Whether every run holds the same lines as the first (_lines), in any order: by all they say, or, `named`
    given, by what it gives of each (what names a line). By all they say, a run of one line is compared as its
    record (a sorted file's runs mostly are: a Struct's == compares the values _lines holds, by value, and costs
    less), longer ones as multisets of their values."""
    first = runs[0]
    n = len(first)
    if any(len(run) != n for run in runs):
        return False
    if n == 1 and named is None:
        return all(run[0] == first[0] for run in runs)
    lines = _lines(first, named)
    return all(_lines(run, named) == lines for run in runs[1:])
