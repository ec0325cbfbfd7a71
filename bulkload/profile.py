"""Whole-file decisions, made once per file from every row, before anything is sent.

A file's encoding, decimal mark and date order are properties of the file, not of a cell, and so is the unit its
amounts are in where whole minor units are read (an amount written "1500.00" says major units): one pass over the
whole file decides them (or the user's `--encoding`, `--decimal`, `--date-format`), and a file that cannot be
read one way is refused (exit 2, nothing sent) with a message that says what to give. The same pass records
every group key (e-conomic: journal and voucher) in the ledger, which tells whether a group's lines are
together in the file (general-ledger exports sorted by account are not: such a file is regrouped before it is
planned, or refused with `--no-regroup`) and lets an earlier load's groups be recognised.
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import logging
import os
import re
import sqlite3
import threading
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from itertools import chain, islice
from typing import Any, NamedTuple

import msgspec

from . import control_totals, origins
from .code_pages import NAMES as CODE_PAGE_NAMES
from .code_pages import ambiguous, around_letters, encodings_apart, reading_as_text, told_by
from .columns import RecordKeys, did_you_mean, given_twice, not_taken, refusal
from .dates import DateEvidence
from .errors import ConfigError, FileChanged, RunStopped, SourceError
from .halves import PartScan, PartScanned, ScanPart, halves, scratch
from .latin9 import Latin9Scan, advice
from .ledger_schema import FILE_FAMILIES, FILE_GROUPS, FILE_ORIGINS, FILE_ORIGINS_INDEX, ORIGIN_GROUPS
from .lines import Cut, byte_lines, text_line
from .merged_cells import MergedCells
from .money import currencies_named, listed
from .numbers import DecimalsEvidence, NumberEvidence, Reading
from .regroup import DISAGREES_LIKE, GIVEN_AGAIN_LIKE, SHADOWS, Keyed, Unnamed, family_of, keyed
from .sources import C1, BadRow, RowWidths, Source, changed_message, codec_name, encoding_label, without_end
from .targets.base import RecordKind, Target, folded, invisible
from .utf8_scan import SCAN_BLOCK, Utf8Found, Utf8Scan

log = logging.getLogger(__name__)

#: a part's runs of group keys in its order (scan_part): put into `file_groups` once the parts before it are
_RUN = "INSERT INTO key_runs VALUES (?, ?, ?)"
#: runs of lines of one family and part (file, first line, last line, family, part): of a whole file, and of a part
#: of it (scan_part)
_FAMILIES = "INSERT INTO file_families VALUES (?, ?, ?, ?, ?)"
_PART_FAMILIES = "INSERT INTO family_runs VALUES (?, ?, ?, ?, ?)"
_Run = tuple[int, int, int, str, str | None]
#: where the kind names families of rows, each family's runs of rows one after another, whatever their part (a Visma
#: Core order's lines of any cost type), as group keys are kept in `file_groups`: a family met again after other rows
#: is counted (`dup`), and the file is regrouped, so that the planner judges the family whole (chunking). Kept for
#: the inspection only
_FAMILY_STARTS_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS family_starts (file_idx INTEGER NOT NULL, family TEXT NOT NULL, "
    "line INTEGER NOT NULL, dup INTEGER NOT NULL DEFAULT 0, last_line INTEGER, PRIMARY KEY (file_idx, family)) "
    "WITHOUT ROWID"
)
_FAMILY_STARTS = (
    "INSERT INTO family_starts (file_idx, family, line) VALUES (?, ?, ?) ON CONFLICT (file_idx, family) DO UPDATE "
    "SET dup = family_starts.dup + 1, last_line = excluded.line"
)
#: a part's runs of families in its order (scan_part): put into `family_starts` once the parts before it are
_PART_STARTS = "INSERT INTO family_key_runs VALUES (?, ?, ?)"

#: group keys written to SQLite per statement
_BATCH = 10_000

_UPSERT = (
    "INSERT INTO file_groups (key, file_idx, line) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
    "dup = file_groups.dup + 1, last_file = excluded.file_idx, last_line = excluded.line"
)


class FileProfile(msgspec.Struct, kw_only=True, frozen=True):
    """What one input file was found to be; stored with the run, so that a resume reads it the same way."""

    path: str
    encoding: str
    delimiter: str | None = None
    #: Excel's `sep=X` first line was found (and honoured)
    sep_line: bool = False
    #: "." or ","; and the line that showed it (or "given: --decimal X", or "" when nothing in the file needed it)
    decimal: str = "."
    decimal_evidence: str = ""
    #: "dmy", "mdy" or a strptime format; and the line that showed it
    date_format: str = "dmy"
    date_evidence: str = ""
    #: "dmy" / "mdy": the one order the file's dates show, "" for none or both (or a format given): a date that does
    #: not read is told the format of that order only (dates.DateFormat.order)
    date_order: str = ""
    #: false where a date of the file with a two-digit year is no day read year first: the advice to one that is
    #: ("26-11-05") names its day-month-year reading alone, not yy-mm-dd too (dates.DateFormat.year_first)
    date_year_first: bool = True
    #: every group's lines are together; when not, the file is regrouped before planning
    grouped: bool = True
    #: the first group found apart, e.g. "voucher 20001 (journal 1): lines 2 and 302"
    apart: str = ""
    rows: int = 0
    groups: int = 0
    #: the file's last line where it has no line end while every other line has one (a CSV's; 0: none): the
    #: row there may have been cut short (sources.Source.last_line_without_end), said as a warning
    last_line_without_end: int = 0
    #: of a rejects file, each row naming the line an earlier row of it names (origins.copies): (line, the earlier
    #: row's line, the `file` cell, the `line` cell); each is rejected with its group (chunking.Planner.copies)
    copies: list[tuple[int, int, str, int]] = []
    #: of a rejects file, the first row of each group that leaves out a line the run that wrote it rejected only with
    #: the group (origins.mates_left_out): (line, reason); each is rejected with its group
    left_out: list[tuple[int, str]] = []
    #: amount fields a CSV column mapped to whose name says its currency ("Beløb DKK") -> that name
    #: (Source.named_currencies): a row of another currency is rejected (chunking.Reading.convert)
    named_currencies: dict[str, str] = {}
    #: the totals rows checked and not loaded (control_totals.checked): the first few, as what each matched, and
    #: how many there were
    control_totals: list[str] = []
    totals_rows: int = 0


class Given(NamedTuple):
    """What the user said about the files (None: decide from the file)."""

    decimal: str | None = None
    date_format: str | None = None
    no_regroup: bool = False


def inspect(
    sources: Sequence[Source],
    target: Target,
    given: Given,
    db: sqlite3.Connection,
    stop: threading.Event | None = None,
    scan_part: ScanPart | None = None,
    before: Mapping[int, Reading] | None = None,
    counted: Callable[[int], object] | None = None,
    rejected_by: Mapping[int, Sequence[origins.RejectedBy]] | None = None,
) -> list[FileProfile]:
    """Read every file once and decide; the group keys go to `db`'s `file_groups` (and where the kind names families
    of rows, or its rows of no group each create a record: chunking.Planner.row_loaded, the earlier file and line
    each row of a rejects file names to `file_origins`: origins.record). Raises
    ConfigError for a file that cannot be read one way (nothing has been sent then), RunStopped soon after `stop`
    is set (the run was cancelled while this reads in a thread of its own). `scan_part`: another process that reads
    the second half of a big file while this one reads the first (halves.py; the planning child, idle until the
    first call). `before`: by a rejects file's index, how the input whose rows it holds was read
    (loads.read_before), which reads its numbers and dates where its own rows do not show how. `counted` is told
    the rows read here, some thousands at a time, for the progress display (a big file's second half, read by
    `scan_part`, is not counted). `rejected_by`: by a rejects file's index, the run that read each input its rows name
    (loads.rejected_by), against which its groups are read for lines left out (origins.mates_left_out)."""
    for table in (FILE_GROUPS, FILE_FAMILIES, FILE_ORIGINS, FILE_ORIGINS_INDEX, ORIGIN_GROUPS, _FAMILY_STARTS_TABLE):
        db.execute(table)
    db.execute("DELETE FROM family_starts")
    found = []
    for i in range(len(sources)):
        try:
            found.append(
                _inspect(
                    i,
                    sources,
                    target,
                    given,
                    db,
                    stop,
                    scan_part,
                    (before or {}).get(i),
                    counted,
                    (rejected_by or {}).get(i, ()),
                )
            )
        except ConfigError as exc:
            raise one_encoding(exc, sources) from exc.__cause__
    for i, source in enumerate(sources):
        origins.record(db, i, source, stop)
    return found


class Scanned:
    """What one pass over a file's rows (or a part of them: halves.py) found: the evidence of its numbers and dates
    (and of the dates against `date_format`, the --date-format given), the keys that are no field (JSONL) with the
    first line each is on, the keys its records give as far as they show whether each one required is given
    (`keys`: JSONL, else None), the rows, the rows that named no group, the error the input broke off with, and the
    first and the last row's group key (None: no group). ConfigError for a `date_format` that is none."""

    def __init__(self, date_format: str | None = None, keys: RecordKeys | None = None) -> None:
        self.numbers, self.dates = NumberEvidence(), DateEvidence(date_format)
        #: the number cells that are no amount (RecordKind.money_fields): read with the amounts' mark
        self.other_numbers = NumberEvidence()
        #: cells of the kind's minor-unit fields written with decimals (RecordKind.minor_unit_fields)
        self.decimals = DecimalsEvidence()
        self.unknown: dict[str, int] = {}
        #: the keys JSONL records write with no value (null, ""), with the first line each is on, where the kind has
        #: fields an option gives (RecordKind.given_fields): such a key names the file's own all the same
        self.blank: dict[str, int] = {}
        self.keys = keys
        self.rows = 0
        self.unnamed = Unnamed()
        #: lines below a group's line that give no key, as a merged cell exports them (the kind names such keys)
        self.merged: MergedCells | None = None
        self.broken: SourceError | None = None
        self.first_key: str | None = None
        self.last_key: str | None = None
        #: the first and the last row's family (regroup.family_of; None: none, or the kind names none)
        self.first_family: str | None = None
        self.last_family: str | None = None
        #: every row was read as a row: no bad row of any kind, none that named no group, all of one width where
        #: the header ends in unnamed columns
        self.plain = True
        #: Source.row_widths: the widths of the rows where the header ends in unnamed columns
        self.widths: RowWidths | None = None
        #: Source.last_line_without_end, once the file is read to its end
        self.last_line_without_end = 0
        #: Source.totals_seen: the totals rows passed over, checked once the decimal mark is known (control_totals)
        self.totals = 0


def _scan(
    file_idx: int,
    source: Source,
    kind: RecordKind,
    db: sqlite3.Connection,
    stop: threading.Event | None,
    keys: str = _UPSERT,
    families: str = _FAMILIES,
    date_format: str | None = None,
    starts: str = _FAMILY_STARTS,
    counted: Callable[[int], object] | None = None,
) -> Scanned:
    """Read the rows once; each group key goes to `db` where it starts a run of rows, by the statement `keys`
    (key, file, line): by default into `file_groups`, where a key met again after another is counted (`dup`); and
    where the kind names families of rows (RecordKind.row_family), their runs by the statement `families`, and where
    each family's rows begin by `starts` (see _families). Every date cell is looked at (DateEvidence.add), against
    `date_format` (--date-format) when given; a JSONL record's keys, until every key the kind requires is given by
    one (RecordKeys). Raises a refusal (ConfigError) for a row that refuses the whole file or a `date_format` that
    is none, RunStopped soon after `stop` is set. `counted`: told the rows read, _BATCH at a time."""
    fields, jsonl = kind.fields, source.fmt == "jsonl"
    record_keys = RecordKeys(kind) if jsonl else None
    found = Scanned(date_format, record_keys)
    merged = found.merged = MergedCells(kind) if kind.filled_down else None
    # a secret's value is no evidence: evidence is shown (the summary, the report); it is read the file's way all
    # the same, and a value that does not fit is rejected with a reason that does not quote it
    money_fields = tuple(kind.money_fields - kind.secret_fields)
    other_fields = tuple(kind.number_fields - kind.money_fields - kind.secret_fields)
    date_fields = tuple(kind.date_fields - kind.secret_fields)
    minor_fields = tuple(kind.minor_unit_fields - kind.secret_fields)
    unknown = found.unknown  # a JSONL key that is no field -> the first line it is on
    batch: list[tuple[str, int, int]] = []
    previous: str | None = None
    rows = 0
    add_number, add_date, add_decimals = found.numbers.add, found.dates.add, found.decimals.add
    add_other = found.other_numbers.add
    pairs = _split_pairs(source, kind)
    split = SplitAmounts(pairs) if pairs else None
    items: Iterator[Keyed] | None = None
    try:
        only = kind.group_fields | kind.number_fields | kind.date_fields | {tail for _, tail in pairs}
        only |= {*kind.filled_down, *kind.filled_alike}
        items = keyed(source.rows(only, found.blank if kind.given_fields else None), kind, found.unnamed)
        if type(kind).row_family is not RecordKind.row_family:  # the other kinds pay nothing a row for it
            items = _families(items, kind, file_idx, db, families, starts, found)
        for key, item in items:
            if not rows:
                found.first_key = key
            if type(item) is BadRow:
                found.plain = False
                if item.kind in SHADOWS:
                    continue
                if item.kind:
                    raise line_refusal(source, item)
                if record_keys is not None and record_keys.lacking and item.partial:  # a broken line's keys count
                    record_keys.add(item.partial)
                if merged is not None:
                    merged.lost()
            rows += 1
            if not rows % _BATCH:
                if stop is not None and stop.is_set():
                    raise RunStopped(f"{source.path}: stopped while it was read before the first call")
                if counted is not None:
                    counted(_BATCH)
            if type(item) is not BadRow:
                line, row = item  # type: ignore[misc]
                if record_keys is not None:  # a CSV says its columns once; a JSON line each time
                    if not row.keys() <= fields:
                        for name in row.keys() - fields:
                            unknown.setdefault(name, line)
                    if record_keys.lacking:
                        record_keys.add(row)
                for field in money_fields:
                    value = row.get(field)
                    if type(value) is str:
                        add_number(value, line, field)
                for field in other_fields:
                    value = row.get(field)
                    if type(value) is str:
                        add_other(value, line, field)
                for field in date_fields:
                    value = row.get(field)
                    if type(value) is str:
                        add_date(value, line, field)
                for field in minor_fields:
                    add_decimals(row.get(field), line, field)
                if split is not None:
                    split.add(line, row)
                if merged is not None:
                    merged.add(line, row, key)
                    if merged.again:  # a key given on two lines in a row: the file writes its keys line by line,
                        merged = None  # no merged file whatever follows (MergedCells.merged); its rows pay no more
            if key is not None and key != previous:
                batch.append((key, file_idx, item.line_no if type(item) is BadRow else line))
                if len(batch) >= _BATCH:
                    db.executemany(keys, batch)
                    batch.clear()
            previous = key
    except SourceError as exc:
        found.broken = exc  # the file is refused (_inspect): what it meant goes on past the break
    finally:
        # a refusal leaves the reading suspended: closed now, its file with it, never left to a garbage collection
        # that may finalize the open file before the reader that would close it (a ResourceWarning)
        if items is not None:
            close = getattr(items, "close", None)
            if close is not None:
                close()
    db.executemany(keys, batch)
    found.rows, found.last_key = rows, previous
    found.last_line_without_end = source.last_line_without_end
    found.widths = source.row_widths
    found.totals = source.totals_seen
    # rows of two widths say the split more plainly, naming both lines (_rows_apart): that refusal is made instead
    apart = found.widths is not None and found.widths.apart() is not None
    if split is not None and found.broken is None and not apart and (refused := split.refusal(source.path)):
        raise refused
    one_width = found.widths is None or len(found.widths.seen) < 2
    unnamed = found.unnamed.count or found.unnamed.of_family
    # a footer is told only at the file's end: a half read alone may end in what looks like one; lines below a
    # merged cell are told by what is above them, which a half that starts with one cannot see
    blank_keys = found.merged is not None and found.merged.starts_blank
    # totals rows are checked against every line above them: a half read alone cannot
    found.plain = (
        found.plain
        and not unnamed
        and found.broken is None
        and one_width
        and not source.footer
        and not blank_keys
        and not found.totals
    )
    return found


#: an amount's first digits before its thousands separator, and the rest after it with its decimals: the two cells
#: an unquoted `1,234.50` is split into in a ','-separated file
_SPLIT_HEAD = re.compile(r"[-+]?\d{1,3}")
_SPLIT_TAIL = re.compile(r"\d{3}\.\d+")


def _split_pairs(source: Source, kind: RecordKind) -> list[tuple[str, str]]:
    """(an amount column, the column after it) of a file where an amount split in two by an unquoted delimiter
    reads as a row all the same (Source.neighbours): the other half fills the next column, a number or a text alike
    (amount `1`, text `234.50`: e-conomic booked 1 EUR, exit 0). [] for any other file, which pays nothing a row
    for it."""
    if source.fmt != "csv":
        return []
    money = kind.money_fields - kind.secret_fields
    return [(a, b) for a, b in source.neighbours() if a in money and b not in kind.secret_fields]


#: an amount written as a whole number, no decimal mark: where the file writes one beside the splits, it writes
#: whole amounts so
_WHOLE = re.compile(r"[-+]?\d+")


class SplitAmounts:
    """What tells amounts split in two by an unquoted ',' thousands separator in a file whose header ends in unnamed
    columns (Source.neighbours: the rows' widths no longer show it), by the pairs of an amount column and the one
    after it (_split_pairs). A row whose amount is a whole number of 1 to 3 digits and whose next cell is 3 digits and
    decimals reads as one (`1` and `234.50`, the halves of 1,234.50: t42a, e-conomic booked 1 EUR at exchange rate
    234.50, exit 0), and as an amount beside an exchange rate (e-conomic's are per 100: `250` at `746.12` for EUR, a
    tester's legal row). Only where the column's other amounts are all written with decimals does it stand out, as a
    number format with a thousands separator (`#,##0.00`, the one that writes `1,234.50`) writes every amount: there
    the file is refused (`refusal`). A file that writes other amounts whole (`250`, `1500`) writes whole amounts so,
    and is not."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs
        self._first: dict[str, tuple[int, str, str, str]] = {}  # amount column -> (line, amount, next, its cell)
        self._whole: set[str] = set()  # amount columns with an amount written whole that is no such row's

    def add(self, line: int, row: Mapping[str, Any]) -> None:
        for head, tail in self.pairs:
            first = row.get(head)
            if type(first) is not str:
                continue
            first, rest = first.strip(), row.get(tail)
            if _SPLIT_HEAD.fullmatch(first) and type(rest) is str and _SPLIT_TAIL.fullmatch(rest := rest.strip()):
                self._first.setdefault(head, (line, first, tail, rest))
            elif _WHOLE.fullmatch(first):
                self._whole.add(head)

    def refusal(self, path: object) -> ConfigError | None:
        """The file's refusal, naming the first such row of a column whose other amounts all have decimals."""
        for head, (line, first, tail, rest) in self._first.items():
            if head in self._whole:
                continue
            return ConfigError(
                f"{path}: line {line}: {head} {first!r} and {tail} {rest!r} read together are {first},{rest}, and the "
                f"file writes its other amounts in {head} with decimals: an amount written with a ',' thousands "
                "separator, unquoted, in a ','-separated file is split in two, and where the header ends in an "
                "unnamed column (a trailing delimiter, as a spreadsheet that padded its rows writes) the split "
                'cannot be seen by the rows\' widths. Export the file again with such amounts quoted ("1,234.50") '
                f"or written without the separator; where {head} {first} with {tail} {rest} is meant, write {head} "
                f"with its decimals ({first}.00); nothing was sent"
            )
        return None


def _families(
    items: Iterator[Keyed],
    kind: RecordKind,
    file_idx: int,
    db: sqlite3.Connection,
    sql: str,
    starts: str,
    ends: Scanned,
) -> Iterator[Keyed]:
    """`items` passed on as they are, while the runs of rows one after another that name one family as one part go
    to `db` by the statement `sql` (file, first line, last line, family, part), in batches: by RecordKind.row_family,
    asked once a group (a bad row of a group: its family, of part None, which cannot be told). A row that names
    none ends a run, so every row between a run's first and last line is of its family and part. The first line of
    each run of a family's rows, whatever their part (regroup.family_of), goes by the statement `starts` (file,
    family, line), and the first and the last row's family to `ends`. Those read before the input breaks off
    (SourceError) are written too: they may load."""
    group_family, row_family = kind.group_family, kind.row_family
    batch: list[_Run] = []
    begun: list[tuple[int, str, int]] = []
    run: list[Any] | None = None  # [first line, last line, family, part] of the run going on
    key_before: str | None = None
    of_key: tuple[str, str | None] | None = None
    family: str | None = None  # the family of the row before
    first = True
    try:
        for key, item in items:
            named: tuple[str, str | None] | None
            if type(item) is BadRow:
                if item.kind in SHADOWS:  # a shadow of a row met elsewhere: no row of its own
                    yield key, item
                    continue
                line = item.line_no
                named = None if key is None else (group_family(key), None)
            else:
                line, row = item  # type: ignore[misc]
                if key is None:
                    named = row_family(row)
                else:
                    if key != key_before:  # a group's rows are of one part
                        key_before, of_key = key, row_family(row) or (group_family(key), None)
                    named = of_key
            now = family_of(kind, key, item)
            if now is not None and now != family:
                begun.append((file_idx, now, line))
            family = now
            if first:
                ends.first_family, first = now, False
            if run is not None and named == (run[2], run[3]):
                run[1] = line
            else:
                if run is not None:
                    batch.append((file_idx, run[0], run[1], run[2], run[3]))
                    if len(batch) >= _BATCH:
                        db.executemany(sql, batch)
                        db.executemany(starts, begun)
                        batch.clear()
                        begun.clear()
                run = None if named is None else [line, line, *named]
            yield key, item
    except SourceError:
        _end_families(db, sql, batch, file_idx, run)
        db.executemany(starts, begun)
        raise
    finally:
        ends.last_family = family
    _end_families(db, sql, batch, file_idx, run)
    db.executemany(starts, begun)


def _end_families(db: sqlite3.Connection, sql: str, batch: list[_Run], file_idx: int, run: list[Any] | None) -> None:
    if run is not None:
        batch.append((file_idx, run[0], run[1], run[2], run[3]))
    db.executemany(sql, batch)


def in_halves(
    file_idx: int,
    source: Source,
    target: Target,
    db: sqlite3.Connection,
    stop: threading.Event | None,
    scan_part: ScanPart,
    date_format: str | None = None,
    counted: Callable[[int], object] | None = None,
) -> Scanned | None:
    """The pass over a big file as two halves read side by side (halves.py): the second by `scan_part`, the first
    here, both with their dates against `date_format` (--date-format) when given. None where the file is not split,
    or the halves cannot be shown to read as the whole file does: then nothing they found is kept, and the caller
    reads the file whole. `counted`: told the rows of the first half as they are read (_scan)."""
    split = halves(source)
    if split is None:
        return None
    kind = target.kind_of(file_idx)
    with scratch() as tmp:
        keys_db = os.path.join(tmp, "keys.sqlite")
        outcome = scan_part(
            PartScan(
                source=source.settings(),
                part=split.second,
                pinned=source.pinned,
                target=target.name,
                target_options=target.options(),
                file_idx=file_idx,
                keys_db=keys_db,
                date_format=date_format,
            )
        )
        db.execute("SAVEPOINT first_half")
        first: Scanned | None = None
        with contextlib.suppress(ConfigError, SourceError):  # read whole, it says so again, with the file's lines
            first = _scan(
                file_idx, source.sibling(split.first), kind, db, stop, date_format=date_format, counted=counted
            )
        # waited for even where this half failed: the child then reads the plan's spec, not this answer (a run
        # stopped does not wait: it stops the child)
        second = outcome()
        if first is None or second is None or not (first.plain and second.plain) or _two_widths(first, second):
            db.execute("ROLLBACK TO first_half")
            db.execute("RELEASE first_half")
            log.debug("%s: read whole: its halves hold a row that cannot be judged by its half alone", source.path)
            return None
        lines = split.lines_before
        log.debug(
            "%s: inspected in halves: bytes up to %d here, the rest (line %d on) in the planning child",
            source.path,
            split.first.end,
            lines + source.header_lines() + 1,
        )
        # the second half's runs of keys in its order, as one pass would have gone on with them: the first not
        # where the halves meet in the middle of its rows
        seam = first.last_key is not None and first.last_key == second.first_key
        part = sqlite3.connect(keys_db)
        try:
            runs = part.execute(
                "SELECT key, file_idx, line + ? FROM key_runs ORDER BY rowid LIMIT -1 OFFSET ?", (lines, int(seam))
            )
            while batch := runs.fetchmany(_BATCH):
                db.executemany(_UPSERT, batch)
            # a run the halves cut in two stays two: each says its lines are of its family and part
            family_runs = part.execute(
                "SELECT file_idx, line + ?, last_line + ?, family, part FROM family_runs ORDER BY rowid",
                (lines, lines),
            )
            while found_runs := family_runs.fetchmany(_BATCH):
                db.executemany(_FAMILIES, found_runs)
            # as its runs of keys: a family going on where the halves meet is one run of it
            going_on = first.last_family is not None and first.last_family == second.first_family
            family_starts = part.execute(
                "SELECT file_idx, family, line + ? FROM family_key_runs ORDER BY rowid LIMIT -1 OFFSET ?",
                (lines, int(going_on)),
            )
            while found_starts := family_starts.fetchmany(_BATCH):
                db.executemany(_FAMILY_STARTS, found_starts)
        finally:
            part.close()
        db.execute("RELEASE first_half")
    first.numbers.then(second.numbers, lines)
    first.other_numbers.then(second.other_numbers, lines)
    first.dates.then(second.dates, lines)
    first.decimals.then(second.decimals, lines)
    first.rows += second.rows
    first.last_key = second.last_key
    first.last_line_without_end = second.last_line_without_end and lines + second.last_line_without_end
    first.last_family = second.last_family
    if first.merged is not None and second.merged is not None:
        first.merged.then(second.merged, lines)
    return first


def _two_widths(first: Scanned, second: PartScanned) -> bool:
    """Whether the halves' rows, each half's of one width, are of two widths where the header ends in unnamed
    columns (sources.RowWidths): the whole file's read says which lines."""
    one = first.widths.one if first.widths is not None else 0
    return bool(one and second.width and one != second.width)


def scan_part(request: PartScan) -> PartScanned | None:
    """Read a part of a file as the inspection reads a whole one (in the planning child, for in_halves); its group
    keys go to the request's SQLite file. None where it cannot be read as the whole is: a refusal or a broken
    input (the whole-file read says so)."""
    from .targets import TARGETS

    target = TARGETS[request.target].from_options(request.target_options)
    source = Source(**request.source, pinned=request.pinned, part=request.part)
    db = sqlite3.connect(request.keys_db, isolation_level=None)
    try:
        db.execute("CREATE TABLE key_runs (key TEXT NOT NULL, file_idx INTEGER NOT NULL, line INTEGER NOT NULL)")
        db.execute(
            "CREATE TABLE family_runs (file_idx INTEGER NOT NULL, line INTEGER NOT NULL, last_line INTEGER NOT NULL, "
            "family TEXT NOT NULL, part TEXT)"
        )
        db.execute(
            "CREATE TABLE family_key_runs (file_idx INTEGER NOT NULL, family TEXT NOT NULL, line INTEGER NOT NULL)"
        )
        db.execute("BEGIN")
        kind = target.kind_of(request.file_idx)
        found = _scan(request.file_idx, source, kind, db, None, _RUN, _PART_FAMILIES, request.date_format, _PART_STARTS)
        db.execute("COMMIT")
    except (ConfigError, SourceError):
        return None
    finally:
        db.close()
    return PartScanned(
        rows=found.rows,
        numbers=found.numbers.examples(),
        other_numbers=found.other_numbers.examples(),
        dates=found.dates.examples(),
        decimals=found.decimals.examples(),
        width=found.widths.one if found.widths else 0,
        first_key=found.first_key,
        last_key=found.last_key,
        plain=found.plain,
        first_family=found.first_family,
        last_family=found.last_family,
        last_line_without_end=found.last_line_without_end,
        merged=None if found.merged is None else found.merged.part(),
    )


def _inspect(
    file_idx: int,
    sources: Sequence[Source],
    target: Target,
    given: Given,
    db: sqlite3.Connection,
    stop: threading.Event | None,
    scan_part: ScanPart | None,
    before: Reading | None,
    counted: Callable[[int], object] | None,
    rejected_by: Sequence[origins.RejectedBy] = (),
) -> FileProfile:
    """One file of `sources` (the run's inputs), the one at `file_idx`, read and decided (`inspect`)."""
    source, paths = sources[file_idx], [str(s.path) for s in sources]
    kind = target.kind_of(file_idx)
    given_dates = given.date_format
    found = None
    if scan_part is not None:
        found = in_halves(file_idx, source, target, db, stop, scan_part, given_dates, counted)
    if found is None:
        found = _scan(file_idx, source, kind, db, stop, date_format=given_dates, counted=counted)
    unknown, numbers, dates, unnamed, broken, rows = (
        found.unknown,
        found.numbers,
        found.dates,
        found.unnamed,
        found.broken,
        found.rows,
    )
    path = str(source.path)
    if isinstance(broken, FileChanged):  # still being written: no run was made, so there is nothing to resume
        raise ConfigError(f"{changed_message(path)} Load it once it is complete; nothing was sent")
    if broken is not None:  # what the file meant goes on past the break: none of it is loaded, the rest unknown
        raise ConfigError(
            f"{broken}. The file cannot be read whole (a gzip cut short by a download or a copy, a read error), so "
            "what it means cannot be known: nothing was sent. Get the whole file and load it"
        )
    if not rows:  # an export that came out empty is the wrong file, almost surely: never a run that loads nothing
        raise ConfigError(
            f"{path}: the file holds no rows ({_no_rows(source)}): there is nothing to load (is it the file you "
            "meant?); nothing was sent"
        )
    if found.widths is not None and (wider := found.widths.apart()) is not None:
        raise _rows_apart(source, *wider)
    if source.footer:
        raise ConfigError(
            f"{path}: line {source.footer} fills only its first cell, below a blank line, at the end of the file: "
            "a report's footer (a total, a note) reads so, and loaded as a row it would be booked (a record named "
            "by the footer's text). Remove the footer; where the line is a row of the data, remove the blank line "
            "above it; nothing was sent"
        )
    keys = found.keys
    # a key written with no value names the file's own all the same, as a blank column of a CSV does
    named = {key: line for key, line in found.blank.items() if key not in kind.fields}
    named.update({key: min(line, named.get(key, line)) for key, line in unknown.items()})
    if kind.given_fields and (twice := given_twice(path, named, kind, "key")):
        raise twice
    if unknown and (refused := not_taken(path, unknown, kind, "key")) is not None:
        raise refused
    if keys is not None and keys.records and keys.lacking:  # a key every row needs that no record gives
        raise refusal(path, list(keys.keys), list(unknown), keys.lacking, kind, target.name, "key")
    if unknown:
        raise _unknown_keys(path, unknown, kind.fields, target.name)
    if not source.encoding.startswith(("utf-8", "utf-16", "utf-32")) and (refused := _not_8_bit(source)) is not None:
        raise refused
    if source.encoding == "utf-8-sig" and not source.encoding_given and (refused := _either_way(source)) is not None:
        raise refused
    if source.encoding.startswith("utf-8") and (refused := _saved_twice(source)) is not None:
        raise refused
    decimal = numbers.decide(given.decimal, path, found.other_numbers, before)
    # a file's amounts are in one unit: one written with decimals where whole minor units are read refuses the file
    found.decimals.refuse(decimal.decimal, path, kind.minor_unit_advice)
    date_format = dates.decide(given.date_format, path, before)
    totals = control_totals.checked(source, kind, decimal.decimal) if found.totals else []
    if found.merged is not None and (refused := found.merged.refusal(path)) is not None:
        raise refused
    apart = _apart(db, file_idx, kind, paths)
    _alike(db, file_idx, target, paths, sources)
    if apart and given.no_regroup:
        also = f" (and {_unnamed_lines(unnamed, kind)}: fix it as well)" if unnamed.count else ""
        raise ConfigError(
            f"{path}: the lines of {apart} are not together: exports sorted by account look like this. "
            f"bulkload regroups such files by itself; --no-regroup was given, so nothing was sent{also}"
        )
    if apart and unnamed.count:
        # a row naming no group takes the group of the rows around it only where each group's rows are together:
        # here the rows around it may be of other groups than its own, and a group would load without its line
        name = kind.group_name
        raise ConfigError(
            f"{path}: {_unnamed_lines(unnamed, kind)}, and the file's {name}s are not together (e.g. the "
            f"lines of {apart}), so such a line may belong to any {name}: loading the others could book "
            f"{with_article(name)} without one of its lines. Fix the line so that it names its {name}, or sort the "
            f"file by {name} with the line among its lines (a totals or footer row is no line of any {name}: remove "
            "it); nothing was sent"
        )
    copies: list[tuple[int, int, str, int]] = []
    left_out: list[tuple[int, str]] = []
    # a rejects file's rows: of families, or of no group, a later load tells them by what they send; each row's
    # group, where the kind's groups create records, so that a later load of another copy of the file, a group
    # renumbered, is told it gives lines this run loaded (origins.taken)
    grouped = type(kind).row_family is RecordKind.row_family and not target.books.rerunnable
    kept = file_idx if grouped else None
    with origins.rejects_rows(db, source, kind, groups=bool(rejected_by), kept=kept) as rejects:
        if rejects:
            copies = origins.copies(db)
            if len(copies) > origins.MOST_COPIES:
                line, first, origin, origin_line = copies[0]
                raise ConfigError(
                    f"{path}: more than {origins.MOST_COPIES} of its rows name a line an earlier row names (line "
                    f"{line} {origins.copied_reason(first, origin, origin_line)}): the rejects file looks joined with "
                    "itself; load it as the run wrote it, fixed in place; nothing was sent"
                )
            left_out = [left for by in rejected_by for left in origins.mates_left_out(db, by, kind)]
    named_currencies = source.named_currencies(kind.money_fields - kind.secret_fields)
    if named_currencies and (refused := _no_row_of_named(source, kind, named_currencies)) is not None:
        raise refused
    (groups,) = db.execute("SELECT COUNT(*) FROM file_groups WHERE file_idx = ?", (file_idx,)).fetchone()
    if found.last_line_without_end:  # a warning, not a refusal: Google Sheets writes every file so
        log.warning("%s: %s", path, without_end(found.last_line_without_end))
    return FileProfile(
        path=path,
        encoding=source.encoding,
        delimiter=source.delimiter,
        sep_line=source.sep_line if source.fmt == "csv" else False,
        decimal=decimal.decimal,
        decimal_evidence=decimal.reason,
        date_format=date_format.spec,
        date_evidence=date_format.reason,
        date_order=date_format.order,
        date_year_first=date_format.year_first,
        grouped=not apart,
        apart=apart,
        rows=rows,
        groups=groups,
        last_line_without_end=found.last_line_without_end,
        copies=copies,
        left_out=left_out,
        named_currencies=named_currencies,
        control_totals=totals,
        totals_rows=found.totals,
    )


def _rows_apart(source: Source, line: int, cells: int, other: int, fewer: int, wider: int) -> ConfigError:
    """The refusal of a CSV file whose header ends in unnamed columns, where its row at `line` holds `cells` cells
    and the one at `other` `fewer` (the file's narrowest; `wider`: its rows wider than that): decided from the whole
    file's rows (sources.RowWidths), before the first call."""
    more = cells - fewer
    extra = "extra cell" if more == 1 else f"{more} extra cells"
    rows = "" if wider == 1 else f" ({wider} rows have more than {fewer})"
    return ConfigError(
        f"{source.path}: line {line} has {cells} cells, {more} more than line {other}{rows}, and the unnamed columns "
        f"at the header's end take the {extra}: a value holding an unquoted delimiter ({source.delimiter!r}, as an "
        "amount written 1,234.50 does) splits in two there and moves every value after it one column on, and which "
        "rows are so cannot be told. Quote such values (or write them without the delimiter), or write every row "
        "with the same number of cells; nothing was sent"
    )


def _no_rows(source: Source) -> str:
    """What a file of no rows holds, as its refusal says it: only a CSV header, nothing, or only blank lines."""
    if source.fmt == "csv":
        return "only its header"
    return "it is empty" if source.holds_nothing() else "only blank lines"


def _alike(
    db: sqlite3.Connection, file_idx: int, target: Target, paths: Sequence[str], sources: Sequence[Source]
) -> None:
    """ConfigError where two families (RecordKind.group_family: a Visma Core order, whatever its cost types) of the
    run's files (file_groups), or of this file's rows of no group (family_starts: a Visma Core order of FEE lines),
    are one but for case, surrounding spaces, Unicode form or a number's leading zeros (folded): one
    written two ways (`R-1` and `r-1`, `00123` and `123`), which loaded would be booked as two (tester t34b: an
    order's OUTLAY lines as two entries, exit 0), or two, which cannot be told. Only for a kind whose families are so
    written (RecordKind.text_keys). In bounded memory: the families go through a temporary SQLite table, grouped
    there. Only the families of the files of this file's kind: a PayorCRM customers file beside the invoices keeps its
    customernos (d4 and D4 two customers, compared exactly) in `file_groups` too. Where the kind's families are alike
    only within a field (RecordKind.alike_within: a PayorCRM invoice's customer), two alike are refused only where
    their first lines give it the same value: those lines read again from `sources` (the run's inputs, by index),
    only where some are alike."""
    kind = target.kind_of(file_idx)
    if not kind.text_keys:
        return
    files = [at for (at,) in db.execute("SELECT DISTINCT file_idx FROM file_groups") if target.kind_of(at) is kind]
    marks = ", ".join("?" * len(files))
    # none: no `IN ()`, which PostgreSQL refuses (a Visma Core file of entries without an order, its ledger there)
    asked = f"SELECT key, file_idx, line FROM file_groups WHERE file_idx IN ({marks})"
    keys = db.execute(asked, files) if files else ()
    families = db.execute("SELECT family, ?, line FROM family_starts WHERE file_idx = ?", (file_idx, file_idx))
    rows = chain(((kind.group_family(key), at, line) for key, at, line in keys), families)
    with closing(sqlite3.connect("")) as table:  # "": a temporary file, spilled to disk as it grows
        table.execute("CREATE TABLE f (fold TEXT, family TEXT, at INTEGER, line INTEGER)")
        while batch := list(islice(rows, _BATCH)):
            alike = [(folded(f), f, at, n) for f, at, n in batch]
            table.executemany("INSERT INTO f VALUES (?, ?, ?, ?)", alike)
        # sorted on disk by SQLite: no family is held in memory
        folds = "SELECT fold FROM f GROUP BY fold HAVING MIN(family) < MAX(family)"
        pair: tuple[tuple[str, int, int], tuple[str, int, int]] | None
        if kind.alike_within is None:
            found = table.execute(f"{folds} LIMIT 1").fetchone()
            if found is None:
                return
            named = table.execute("SELECT family, at, line FROM f WHERE fold = ? ORDER BY at, line", found).fetchall()
            first = named[0]
            pair = first, next(row for row in named if row[0] != first[0])
        else:
            within = f"SELECT fold, family, at, line FROM f WHERE fold IN ({folds}) ORDER BY at, line"
            pair = _alike_within(kind.alike_within, table.execute(within), sources)
            if pair is None:
                return
    (one, one_at, one_line), (other, other_at, other_line) = pair
    raise ConfigError(
        f"{kind.family_label(one)}{invisible(one)} ({paths[one_at]} line {one_line}) and {kind.family_label(other)}"
        f"{invisible(other)} ({paths[other_at]} line {other_line}) are one but for case, spaces, Unicode form or "
        f"leading zeros, or a zero fraction: one {kind.group_name} written two ways (an edit, a spreadsheet that "
        "drops leading zeros, a float column's export, another system's export), or two "
        f"{kind.group_name}s, which cannot be told. Write "
        "its value one way on all its lines, or the two apart; nothing was sent"
    )


def _alike_within(
    field: str, alike: Iterable[tuple[str, str, int, int]], sources: Sequence[Source]
) -> tuple[tuple[str, int, int], tuple[str, int, int]] | None:
    """The first two of the families `alike` (fold, family, file index, first line: those alike, in file and line
    order) that are one but for case, spaces, Unicode form or leading zeros and whose first lines give `field` the
    same value (as trimmed, compared exactly), as (family, file index, line) each; None where none are. The lines are
    read again from `sources`, a file at a time, only as far as the last one asked."""
    rows = list(alike)
    wanted: dict[int, set[int]] = {}
    for _, _, at, line in rows:
        wanted.setdefault(at, set()).add(line)
    given: dict[tuple[int, int], str] = {}
    for at, lines in wanted.items():
        last = max(lines)
        for row in sources[at].rows((field,)):
            if type(row) is BadRow:
                continue
            line, values = row  # type: ignore[misc]
            if line in lines and (value := values.get(field)) is not None:
                given[at, line] = str(value).strip()
            if line >= last:
                break
    first: dict[tuple[str, str], tuple[str, int, int]] = {}  # (fold, value) -> the first family giving it
    for fold, family, at, line in rows:
        value = given.get((at, line))
        if value is None:  # its line gives no value that can be read: rejected with its reason, never split
            continue
        seen = first.setdefault((fold, value), (family, at, line))
        if seen[0] != family:
            return seen, (family, at, line)
    return None


def _apart(db: sqlite3.Connection, file_idx: int, kind: RecordKind, paths: Sequence[str]) -> str:
    """The first group of the file whose lines are not together, else the first family (RecordKind.group_family)
    whose rows are not ("" when there is none); a group with lines in two files is refused: a group travels in one
    call, and each file is planned on its own."""
    across = db.execute(
        "SELECT key, file_idx, line, last_line FROM file_groups WHERE last_file = ? AND file_idx != ? LIMIT 1",
        (file_idx, file_idx),
    ).fetchone()
    if across is not None:
        key, first_file, line, last_line = across
        raise ConfigError(
            f"{kind.group_label(key)} has lines in two files ({paths[first_file]} line {line}, {paths[file_idx]} "
            f"line {last_line}): {with_article(kind.group_name)}'s lines must be in one file; nothing was sent"
        )
    apart = db.execute(
        "SELECT key, line, last_line FROM file_groups WHERE file_idx = ? AND dup > 0 ORDER BY line LIMIT 1",
        (file_idx,),
    ).fetchone()
    if apart is not None:
        return f"{kind.group_label(apart[0])} (lines {apart[1]} and {apart[2]})"
    # a family (an order) whose rows are apart, although each of its groups' rows are together (its FEE lines)
    apart = db.execute(
        "SELECT family, line, last_line FROM family_starts WHERE file_idx = ? AND dup > 0 ORDER BY line LIMIT 1",
        (file_idx,),
    ).fetchone()
    return "" if apart is None else f"{kind.family_label(apart[0])} (lines {apart[1]} and {apart[2]})"


def as_planned(profiles: Sequence[Mapping[str, Any]], db: sqlite3.Connection, target: Target) -> list[dict[str, Any]]:
    """The files' profiles (FileProfile as dicts) as a report shows them once their rows are planned: a file's
    `apart`, where it was regrouped, names the first group whose lines were brought together, "" where there was none.
    A group apart that the planner refused as given more than once (regroup.copies), or as lines of two groups
    (regroup.disagreement), was not regrouped, and is no example of it. `db`: the ledger (or a dry run's database),
    whose `file_groups` and `rows` the run filled."""
    shown = []
    for file_idx, profile in enumerate(profiles):
        if not profile.get("grouped", True):
            profile = {**profile, "apart": _regrouped(db, file_idx, target.kind_of(file_idx))}
        shown.append(dict(profile))
    return shown


def _regrouped(db: sqlite3.Connection, file_idx: int, kind: RecordKind) -> str:
    """The first group of the file whose lines are apart and which was not refused as given more than once or as
    lines of two groups, as _apart names one ("" for none): by the outcome of its first line, which every line of
    such a group shares."""
    found = db.execute(
        "SELECT f.key, f.line, f.last_line FROM file_groups f LEFT JOIN rows r ON r.file_idx = f.file_idx AND "
        "r.line_no = f.line WHERE f.file_idx = ? AND f.dup > 0 AND (r.line_no IS NULL OR r.bucket != 'rejected' OR "
        "r.reason NOT LIKE ? AND r.reason NOT LIKE ?) ORDER BY f.line LIMIT 1",
        (file_idx, GIVEN_AGAIN_LIKE, DISAGREES_LIKE),
    ).fetchone()
    return "" if found is None else f"{kind.group_label(found[0])} (lines {found[1]} and {found[2]})"


def _no_row_of_named(source: Source, kind: RecordKind, named: Mapping[str, str]) -> ConfigError | None:
    """The refusal of a file with an amount column whose name says a currency (Source.named_currencies: "Beløb
    DKK", `named`: amount field -> the column's name) where not one row of the file that gives that amount is in
    that currency, and some are in another or name none: every row would be rejected (chunking.Reading.convert), and
    the name may write no currency at all ("Amount ALL": all, not Albania's lek; "TOP amount": not Tonga's
    paʻanga). Read from the whole file, before the first call; None where a row is in the currency its column names
    (the others are rejected each with its group), or none gives the amount."""
    wanted = {
        name: (column, said, at)
        for name, column in named.items()
        if (at := kind.amount_places.get(name)) is not None and (said := currencies_named(column)) is not None
    }
    only = {*wanted, *(at.field for _, _, at in wanted.values() if at.field is not None)}
    # amount field -> (rows of its column's currency, the first row of another: (line, its currency, "" for none))
    seen: dict[str, tuple[int, tuple[int, str] | None]] = {name: (0, None) for name in wanted}
    rows = source.rows(only)
    try:
        for item in rows:
            if isinstance(item, BadRow):
                continue
            line, row = item
            for name, (_, (_, codes), at) in wanted.items():
                value = row.get(name)
                if type(value) is not str or not value.strip():
                    continue
                same, other = seen[name]
                of_row = at.of(row)
                if of_row is not None and of_row[1] in ("", *codes):
                    seen[name] = (same + 1, other)
                elif other is None and of_row is not None:
                    seen[name] = (same, (line, of_row[1]))
                elif other is None and at.field is not None and not str(row.get(at.field) or "").strip():
                    seen[name] = (same, (line, ""))
            if all(same for same, _ in seen.values()):  # each column has a row of its currency: no more to learn
                break
    finally:
        rows.close()  # type: ignore[attr-defined]
    for name, (same, other) in seen.items():
        if same or other is None:
            continue
        column, (code, codes), at = wanted[name]
        line, currency = other
        shows = f"line {line} is in {currency}" if currency else f"line {line} names no {at.field or 'currency'}"
        if codes != (code,):  # a sign ("Amount (€)", "Beløb kr."): it says a currency, of which no row is
            return ConfigError(
                f"{source.path}: the column {column!r}, mapped to {name}, has {code} in its name, which reads as the "
                f"currency of its amounts ({listed(codes)}), but not one row of the file is in "
                f"{'it' if len(codes) == 1 else 'one of them'} ({shows}): every row would be rejected, so nothing was "
                "sent. Where the column holds each row's amount in the row's own currency, rename it without the sign "
                f"(in the file's header and in [columns]); where its amounts are in {listed(codes)}, give the rows "
                f"their currency; where they are in another currency (a base-currency column), map to {name} the "
                "column of the amounts in each row's currency"
            )
        return ConfigError(
            f"{source.path}: the column {column!r}, mapped to {name}, has {code} in its name as a word of its own, "
            f"which reads as the currency of its amounts (ISO 4217), but not one row of the file is in {code} "
            f"({shows}): whether the name says a currency or is a word ('ALL', 'TOP') cannot be told, and every row "
            "would be rejected, so nothing was sent. Where the column holds each row's amount in the row's own "
            f"currency, rename it (in the file's header and in [columns]) so that {code} is no word of its own in "
            f"it ({column.replace(code, code.capitalize())!r}); where its amounts are in {code}, give the rows their "
            f"currency {code}; where they are in another currency (a base-currency column), map to {name} the "
            "column of the amounts in each row's currency"
        )
    return None


def with_article(name: str) -> str:
    """`name` with its article: "an order", "a voucher"."""
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _unnamed_lines(unnamed: Unnamed, kind: RecordKind) -> str:
    """ "line 6 names no voucher (invalid JSON: …)", or "2 lines name no voucher: line 6 (…), line 9 (…)"."""
    shown = ", ".join(f"line {line}" + (f" ({_clip(reason)})" if reason else "") for line, reason in unnamed.first)
    if unnamed.count == 1:
        ((line, reason),) = unnamed.first
        return f"line {line} names no {kind.group_name}" + (f" ({_clip(reason)})" if reason else "")
    more = f" and {unnamed.count - len(unnamed.first)} more" if unnamed.count > len(unnamed.first) else ""
    return f"{unnamed.count} lines name no {kind.group_name}: {shown}{more}"


def _clip(reason: str, limit: int = 120) -> str:
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def _unknown_keys(path: str, unknown: dict[str, int], fields: frozenset[str], target: str) -> ConfigError:
    named = ", ".join(f"{k!r} (line {line}{did_you_mean(k, fields)})" for k, line in sorted(unknown.items())[:10])
    return ConfigError(
        f'{path}: key(s) {named} are not {target} fields; map them to a field (or to "" to drop them) in the '
        f"[columns] table of --config; nothing was sent"
    )


def _is_utf8(source: Source, line_no: int, other: int = 0) -> ConfigError:
    """The refusal of a file read in an 8-bit encoding whose bytes are UTF-8 (line `line_no` shows it): whatever else
    they might be, UTF-8 is what they are. `other`: a line that is not UTF-8, where one is (the file mixes encodings:
    read in the 8-bit one, the UTF-8 lines would be garbled)."""
    line = _line_bytes(source, line_no)
    # masked before it is cut short, so a secret's cell is still found by its column
    as_utf8 = around_letters(source.mask_text(line.decode(errors="replace").strip()))
    as_given = around_letters(source.mask_text(line.decode(source.encoding, "replace").strip()))
    if other:
        utf8 = f"line {line_no} {'is' if _utf8(line) else 'holds'} UTF-8"
        not_utf8 = f"line {other} is not" if other != line_no else "bytes that are not UTF-8 as well"
        return ConfigError(
            f"{source.path}: --encoding {source.encoding} was given, but {utf8} (it reads {as_utf8!r} as UTF-8, "
            f"{as_given!r} as {source.encoding}) and {not_utf8}: the file mixes encodings (lines pasted from another "
            "file?), and no one encoding reads it as written. Save it in one encoding (UTF-8) and load it without "
            "--encoding; nothing was sent"
        )
    return ConfigError(
        f"{source.path}: --encoding {source.encoding} was given, but the file is UTF-8 (line {line_no} reads "
        f"{as_utf8!r} as UTF-8, {as_given!r} as {source.encoding}): leave --encoding out (or give --encoding utf-8); "
        "nothing was sent"
    )


def _not_8_bit(source: Source) -> ConfigError | None:
    """The refusal of a file read in an encoding other than UTF-8 and UTF-16 whose bytes, all of them, show that it is
    UTF-8, or (an 8-bit encoding, which reads any byte) that it mixes UTF-8 with another encoding; None where they
    do not. A multi-byte encoding (GBK, Shift JIS) writes what looks like UTF-8 characters among its own, so there
    only a file UTF-8 throughout is refused, and not one whose bytes read as well in an 8-bit encoding
    (Utf8Found.either: Windows-1252's `Weiß–` is UTF-8's `Weiߖ`, `CAFÉ…` its `CAFɅ`), which is read as given."""
    found = _utf8_found(source)
    if found.past_ascii and not found.not_utf8 and not found.either:
        return _is_utf8(source, found.past_ascii)
    if found.utf8 and found.not_utf8 and _single_byte(source.encoding):
        return _is_utf8(source, found.utf8, found.not_utf8)
    return None


def _either_way(source: Source) -> ConfigError | None:
    """The refusal of a file read as UTF-8 because no --encoding was given whose bytes read as well in an 8-bit
    encoding (Utf8Found.either: Windows-1252's `Weiß–` is UTF-8's `Weiߖ`, an NKo letter, `CAFÉ…` its `CAFɅ`), naming
    a line that reads both ways; None for any other file. Its bytes are read up to the first UTF-8 that tells UTF-8:
    an ordinary UTF-8 file's first lines, an ASCII file's every line (nothing but its line ends counted)."""
    found = _utf8_found(source, lambda f: bool(f.utf8 or f.not_utf8))
    if not found.either:
        return None
    line = _line_bytes(source, found.both_ways)
    eight_bit = guess_encoding(line) or "cp1252"
    name = _NAMES.get(eight_bit, eight_bit)
    as_utf8 = around_letters(source.mask_text(line.decode(errors="replace").strip()))
    as_8_bit = around_letters(source.mask_text(line.decode(eight_bit, "replace").strip()))
    return ConfigError(
        f"{source.path}: line {found.both_ways} reads {as_utf8!r} as UTF-8 but {as_8_bit!r} as {name}, and nothing in "
        "the file tells which it is: read as UTF-8, it holds a letter standing alone (Arabic or NKo, Latin Extended-B, "
        "Latin Extended-A ending a word, or Œ Ē anywhere, or Greek to Hebrew beside a Latin letter) whose bytes are "
        "those of a letter followed by punctuation in an 8-bit encoding (Windows-1252's ß–, É…, Å…, Å’), and nothing "
        "that only UTF-8 text holds (é, € or “ as UTF-8 writes them, a word of Cyrillic, Greek or Arabic letters, ł or "
        f"ę inside a word). Give --encoding {eight_bit} if the second reading is right, or --encoding utf-8 if the "
        "first is; nothing was sent"
    )


#: UTF-8 text read as Windows-1252 and saved as UTF-8 again, as written then: Ã and a character Windows-1252 reads a
#: byte 80-BF as (`Ã¸` for ø, `Ã…` for Å, `Ã©` for é; not a combining mark, which NFD text may put after Ã), Â and
#: one of U+0080-U+00BF (`Â°` for °, `Â` and NBSP for NBSP), `â€` (€, quotes, dashes); no text in any language
#: writes them so
_SAVED_TWICE = re.compile(
    rb"\xc3\x83(?:[\xc2\xc5\xc6\xcb][\x80-\xbf]|\xe2[\x80-\x84][\x80-\xbf])|\xc3\x82\xc2[\x80-\xbf]|\xc3\xa2\xe2\x82\xac"
)
#: how many characters before the word a refusal shows of its line
_AROUND = 20
#: the bytes a match of it may start in a block before it and end in the next
_SAVED_TWICE_SPAN = 4


def _saved_twice(source: Source) -> ConfigError | None:
    """The refusal of a UTF-8 file whose text was read as Windows-1252 and saved as UTF-8 again (a spreadsheet opening
    a UTF-8 CSV without its BOM writes ø back as `Ã¸`), naming its first line of such text and what it means; None for
    any other file. Its bytes are read in blocks, looked through with bytes.find for Ã, Â and â (C3 83, C3 82, C3 A2)
    only where they occur; a line holding such a sequence is such text only where all of it is (`_reads_back`):
    Portuguese `“MAÇÃ”` or `«IRMÃ»` is not."""
    lines, tail = 1, b""
    with contextlib.suppress(EOFError, OSError, zlib.error), source._binary() as f:  # noqa: SLF001 - raw bytes
        while block := f.read(SCAN_BLOCK):
            data = tail + block
            at, line_no, counted = 0, lines, 0  # lines counted up to `counted`: each byte once
            while any(data.find(lead, at) >= 0 for lead in (b"\xc3\x83", b"\xc3\x82", b"\xc3\xa2")) and (
                found := _SAVED_TWICE.search(data, at)
            ):
                line_no += data.count(b"\n", counted, found.start())
                counted = found.start()
                start = data.rfind(b"\n", 0, found.start()) + 1
                end = data.find(b"\n", found.end())
                whole = (start > 0 or not tail) and end >= 0  # else the line goes on beyond the block
                if _reads_back(data[start:end] if whole else _line_bytes(source, line_no)):
                    return _saved_twice_refusal(source, line_no)
                if end < 0:
                    break
                at = end + 1  # the line's other such sequences tell no more
            keep = min(len(data), _SAVED_TWICE_SPAN)
            lines += data.count(b"\n", 0, len(data) - keep)
            tail = data[len(data) - keep :]
    return None


#: the bytes Windows-1252 leaves undefined, which a spreadsheet reads as the C1 control of their value
_UNDEFINED_1252 = frozenset("\x81\x8d\x8f\x90\x9d")


def _reads_back(line: bytes) -> bool:
    """Whether the UTF-8 `line` is text read as Windows-1252 and saved as UTF-8 again, all of it: each of its
    characters one Windows-1252 writes (the five bytes it leaves undefined read as the C1 control of their value) and
    those bytes UTF-8. A line with a character that reading gives no way (`ĉ`), or with the bytes of one before what
    follows no UTF-8 lead byte (`“` before a letter, `Ç` before `Ã`: `“MAÇÃ”`), is text as written."""
    try:
        text = line.decode()
        if _UNDEFINED_1252.isdisjoint(text):
            written = text.encode("cp1252")
        else:
            written = b"".join(ch.encode("latin-1") if ch in _UNDEFINED_1252 else ch.encode("cp1252") for ch in text)
        written.decode()
    except UnicodeError:
        return False
    return True


def _saved_twice_refusal(source: Source, line_no: int) -> ConfigError:
    text = _line_bytes(source, line_no).decode(errors="replace").strip()
    # words apart at ASCII spaces and delimiters only: a no-break space is what Windows-1252 reads à's last byte as
    word = next((w for w in re.split(r"[ \t\r\n;,|]+", text) if _SAVED_TWICE.search(w.encode())), None)
    shown = source.mask_text(text)
    said, excerpt = "", around_letters(shown)
    if word is not None and (at := shown.find(word)) >= 0:  # a word of a secret's cell is not shown, nor what it means
        try:
            said = f" {word!r} (meant: {word.encode('cp1252').decode()!r}),"
        except UnicodeError:  # a word some of which was written once only
            said = f" {word!r},"
        excerpt = around_letters(shown[at:]) if at < _AROUND else around_letters("…" + shown[at - _AROUND :])
    return ConfigError(
        f"{source.path}: line {line_no} holds{said} UTF-8 text read as Windows-1252 and saved as UTF-8 again (a "
        "spreadsheet opening a UTF-8 CSV without its BOM does so), which would be sent as written (line "
        f"{line_no}: {excerpt!r}). Export the file again, or open it as UTF-8 and save it again; nothing "
        "was sent"
    )


def _mixed(found: Utf8Found) -> bool:
    """Whether the bytes read so far show that the file mixes encodings: nothing more to learn from the rest."""
    return bool(found.utf8 and found.not_utf8)


def _utf8_found(source: Source, enough: Callable[[Utf8Found], bool] = _mixed) -> Utf8Found:
    """Where the file's bytes (gzip: what it holds) show UTF-8 and where another encoding (utf8_scan.py), from one
    read of them all, or of as many as it takes for what is found so far to be `enough`; a file that breaks off is
    judged as far as it can be read."""
    scan = Utf8Scan()
    ended = False
    with contextlib.suppress(EOFError, OSError, zlib.error), source._binary() as f:  # noqa: SLF001 - raw bytes
        while block := f.read(SCAN_BLOCK):
            if enough(scan.feed(block)):
                break
        ended = True
    return scan.found(ended)


@functools.cache
def _single_byte(codec: str) -> bool:
    """Whether `codec` reads each byte alone as one character (Windows-1252, Latin-1, Mac Roman…), not two bytes as
    one (GBK, Shift JIS)."""
    return len(bytes(range(256)).decode(codec, "replace")) == 256


# --- a file that is not in its encoding: refused, with the encoding it most likely is ---------------------

#: bytes read to guess another encoding
_SAMPLE = 1 << 20


def line_refusal(source: Source, bad: BadRow) -> ConfigError:
    """The refusal of `source` for its line `bad` (nothing sent): for a line not in the file's encoding (the header's
    too: sources.HeaderUndecodable), with the code page the file more likely is, and the line read that way."""
    if bad.kind != "encoding":
        return ConfigError(f"{source.path}: line {bad.line_no}: {bad.reason}; nothing was sent")
    label = encoding_label(source.encoding)
    line = _line_bytes(source, bad.line_no)
    if (
        not source.encoding.startswith(("utf-8", "utf-16", "utf-32"))
        and _utf8(line)
        and not (found := _utf8_found(source)).either  # as likely 8-bit (ß–): guessed as any other line
    ):
        # a UTF-8 file read in an 8-bit encoding: its multi-byte characters hold bytes that encoding has no
        # character for, or reads as control characters. Say so before any other guess: the next guess would
        # meet the same bytes and suggest yet another 8-bit encoding
        if found.not_utf8:  # only some of the file is UTF-8: neither encoding reads it all
            as_utf8 = around_letters(source.mask_text(line.decode().strip()))
            return ConfigError(
                f"{source.path}: line {bad.line_no} is not valid {label} but UTF-8 (it reads {as_utf8!r}), and "
                f"line {found.not_utf8} is not UTF-8: the file mixes encodings (lines pasted from another file?). "
                "Save it in one encoding (UTF-8) and load it without --encoding; nothing was sent"
            )
        return _is_utf8(source, found.past_ascii)
    if source.encoding.startswith("utf-8") and _utf8(line, c1=True):
        # valid UTF-8 holding U+0080-U+009F: Windows-1252 text read as Latin-1 and saved as UTF-8. No encoding
        # reads it right (an 8-bit one would be told the file is UTF-8): the characters must be fixed
        return ConfigError(
            f"{source.path}: line {bad.line_no}: {bad.reason.split(': the file')[0]}: the text was read in the wrong "
            "encoding (Latin-1 for Windows-1252) before it was saved as UTF-8. Fix those characters (U+0080 to U+009F "
            "stand for Windows-1252's €, quotes, dashes and …); nothing was sent"
        )
    guess = guess_encoding(line)
    if source.encoding.startswith("utf-8"):
        elsewhere, last = _utf8_elsewhere(source, bad.line_no)
        cut = last and _cut_in_character(line)
        whole = elsewhere is not None  # a line that is UTF-8 throughout, not only holding a UTF-8 character
        if not whole and (guess is None or _single_byte(guess)):
            # a UTF-8 character among bytes that are not UTF-8, in this line or another: the 8-bit encoding the
            # line is guessed to be would read it garbled (bytes in pairs, UTF-16's, may look like one: not judged)
            elsewhere = _utf8_char_line(source)
        if elsewhere is not None:
            # UTF-8 in one line and not in another: no one encoding reads both (an 8-bit one would garble the other)
            at, as_utf8 = elsewhere
            shows = f"line {at} reads {as_utf8!r} as UTF-8" if at != bad.line_no else f"it reads {as_utf8!r} as UTF-8"
            if cut:
                return ConfigError(
                    f"{source.path}: its last line, {bad.line_no}, ends inside a UTF-8 character ({shows}): the file "
                    "was cut short (a copy or a download?). Get the whole file and load it; nothing was sent"
                )
            utf8 = f"line {at} {'is' if whole else 'holds'} UTF-8" if at != bad.line_no else "it holds UTF-8 as well"
            return ConfigError(
                f"{source.path}: line {bad.line_no} is not valid {label}: {bad.reason}, but {utf8} (it reads "
                f"{as_utf8!r}): the file mixes encodings (lines pasted from another file?), and no one encoding reads "
                "it as written. Save it in one encoding (UTF-8) and load it again; nothing was sent"
            )
        if cut:  # its one byte past ASCII starts a UTF-8 character at the very end: cut short, or an 8-bit text
            eight_bit = guess_encoding(line) or "cp1252"
            ending = source.mask_text(line.decode(eight_bit, "replace").strip())[-40:]
            return ConfigError(
                f"{source.path}: its last line, {bad.line_no}, ends with a byte that starts a UTF-8 character: the "
                f"file may be UTF-8 cut short (a copy or a download?), or {_NAMES.get(eight_bit, eight_bit)} (read so, "
                f"it ends {ending!r}). Get the whole file; if it is whole and so meant, give --encoding {eight_bit}; "
                "nothing was sent"
            )
    message = f"{source.path}: line {bad.line_no} is not valid {label}: {bad.reason}"
    if not guess or _single_byte(guess):  # the line alone proves nothing: which code pages read the whole file
        readers = [c for c in reading_as_text(_head_bytes(source)) if codec_name(c) != source.encoding]
        if len(readers) > 1:
            return ConfigError(message + ambiguous(readers, bad.line_no, line, source.mask_text) + "; nothing was sent")
        guess = readers[0] if readers else None
    if guess == "cp1252" and codec_name(guess) != source.encoding and (latin9 := _latin9_advice(source)):
        return ConfigError(message + latin9 + "; nothing was sent")
    if guess and codec_name(guess) != source.encoding:
        preview = around_letters(source.mask_text(line.decode(guess).strip()))
        message += (
            f". The file looks like {_NAMES.get(guess, guess)}: read that way, line {bad.line_no} says "
            f"{preview!r}. Give --encoding {guess} (or the file's real encoding)"
        )
    else:
        message += ". Give --encoding with the file's encoding"
    return ConfigError(message + "; nothing was sent")


def one_encoding(refused: ConfigError, sources: Sequence[Source]) -> ConfigError:
    """`refused`, the refusal of one of the run's files, as it is, or, where it advises on --encoding and the run's
    files are in more than one encoding, followed by what each file is in (code_pages.encodings_apart)."""
    said = str(refused)
    if len(sources) < 2 or "--encoding" not in said:
        return refused
    note = encodings_apart([(str(s.path), told_by(_head_bytes(s))) for s in sources])
    if note is None:
        return refused
    return ConfigError(said.removesuffix("; nothing was sent") + note + "; nothing was sent")


def _head_bytes(source: Source) -> bytes:
    """The file's first _SAMPLE bytes (gzip: of what it holds), as far as it can be read."""
    with contextlib.suppress(EOFError, OSError, zlib.error), source._binary() as f:  # noqa: SLF001 - raw bytes
        return bytes(f.read(_SAMPLE))
    return b""


def _latin9_advice(source: Source) -> str | None:
    """The advice for a file that reads as Windows-1252 where its bytes (gzip: what it holds), all of them, could
    be ISO-8859-15 (Latin-9) as well, which reads eight of them differently (latin9.py); None where they could not."""
    scan = Latin9Scan()
    with contextlib.suppress(EOFError, OSError, zlib.error), source._binary() as f:  # noqa: SLF001 - raw bytes
        while not scan.settled and (block := f.read(SCAN_BLOCK)):
            scan.feed(block)
    found = scan.found()
    return advice(found, _line_bytes(source, found.line), source.mask_text) if found.line else None


def _utf8_elsewhere(source: Source, bad: int) -> tuple[tuple[int, str] | None, bool]:
    """(line, its text shown) of the file's first line other than `bad` that is valid UTF-8 and not ASCII (None where
    none is), and whether `bad` is the file's last line holding text. A line whose UTF-8 reads as Windows-1252 just as
    well (Utf8Found.either: `NESCAFÉ™`, `Weiß–`) is none: beside a line that is not UTF-8 it is that line's encoding."""
    found: tuple[int, str] | None = None
    last = 0
    with contextlib.suppress(EOFError, OSError, zlib.error), source._binary() as f:  # noqa: SLF001 - raw bytes
        for line_no, data in byte_lines(f):
            last = line_no
            if found is None and line_no != bad:
                head = bytes(data.head if isinstance(data, Cut) else data)
                if _utf8(head) and not _reads_both_ways(head):
                    found = (line_no, around_letters(source.mask_text(head.decode().strip())))
        return found, bad == last
    return found, False  # the file breaks off: its last line is not known


def _reads_both_ways(line: bytes) -> bool:
    """Whether the bytes of one line, UTF-8, read as well in an 8-bit encoding (Utf8Found.either)."""
    scan = Utf8Scan()
    scan.feed(line)
    return scan.found().either


def _utf8_char_line(source: Source) -> tuple[int, str] | None:
    """(line, its text shown) of the file's first line holding a UTF-8 character of more than one byte (None where
    none does), whatever else the line holds."""
    at = _utf8_found(source).utf8
    if not at:
        return None
    return at, around_letters(source.mask_text(_line_bytes(source, at).decode(errors="replace").strip()))


def _cut_in_character(line: bytes) -> bool:
    """Whether `line` is UTF-8 up to its end, where a character is cut short."""
    text = line.rstrip(b"\r\n")
    try:
        decoded, used = codecs.utf_8_decode(text, "strict", False)
    except UnicodeDecodeError:
        return False
    return used < len(text)


def _utf8(line: bytes, c1: bool = False) -> bool:
    """Whether bytes that are not all ASCII are valid UTF-8 holding text (`c1`: holding a C1 control character,
    which no text holds)."""
    if line.isascii():
        return False
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return C1.search(text) is not None if c1 else C1.search(text) is None


_NAMES = {
    **CODE_PAGE_NAMES,
    "utf-16-le": "UTF-16 without a BOM",
    "utf-16-be": "UTF-16 without a BOM",
}


def _line_bytes(source: Source, line_no: int) -> bytes:
    """The bytes of one physical line (after any gzip), for guessing and showing its encoding: counted as the
    reader counts lines (a CSV's end at CR too), and b"" when the file breaks off before the line is read."""
    try:
        if source.fmt == "jsonl" and source.encoding == "utf-8-sig":  # read as bytes, lines end at LF only
            with source._binary() as f:  # noqa: SLF001 - the one reader of raw bytes outside Source
                data = next((d for ln, d in byte_lines(f) if ln >= line_no), b"")
                return bytes(data.head if isinstance(data, Cut) else data)[:_SAMPLE]
        with source._text() as text:  # noqa: SLF001 - undecodable bytes come back as they were written
            line: str | Cut = ""
            for _ in range(line_no):  # each line held only up to the cap
                if not (line := text_line(text.readline, source.encoding)):
                    break
            shown = str(line.head if isinstance(line, Cut) else line)[:_SAMPLE]
        return shown.encode("utf-8" if source.encoding == "utf-8-sig" else source.encoding, "surrogateescape")
    except (EOFError, OSError, zlib.error, UnicodeError):  # a gzip cut right after the line: no guess
        return b""


def guess_encoding(data: bytes) -> str | None:
    """The likelier encoding of bytes that are not UTF-8: UTF-16 when every other byte is NUL and they read as
    it (an odd count does not: NULs in a cell of a line cut out of an 8-bit file), else Windows-1252 when it
    decodes, else Mac Roman (Excel for Mac's CSV before 2016) when it reads them as text; None when nothing does.
    Never Latin-1: the only bytes Windows-1252 does not decode (0x81, 0x8D, 0x8F, 0x90, 0x9D) are C1 control
    characters in Latin-1, which no text holds and the reader refuses."""
    if not data:
        return None
    if data.count(0) * 3 >= len(data):
        utf16 = "utf-16-le" if data[1::2].count(0) > data[::2].count(0) else "utf-16-be"
        with contextlib.suppress(UnicodeDecodeError):
            data.decode(utf16)
            return utf16
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return "mac_roman" if _text_only(data.decode("mac_roman")) else None  # Mac Roman decodes any byte
    return "cp1252"


def _text_only(text: str) -> bool:
    """Whether decoded text holds no control character but tab and line ends, and no private-use one (Mac Roman's
    0xF0, Apple's logo): what text in a CSV or JSONL file holds."""
    return not any(unicodedata.category(ch) in ("Cc", "Co") and ch not in "\t\r\n" for ch in text)
