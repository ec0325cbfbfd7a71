"""Streaming readers for the input files: CSV or JSONL, plain or gzip, one row at a time.

A row comes out as ``(line_no, {field: value})``: a CSV cell trimmed of surrounding white space (a cell cannot
say whether it was quoted), but a secret's (a password's spaces are its own), and a JSONL string as written (JSON
delimits it); an empty value, or one of white space only, is absent. A row that cannot become a dict comes out as
a :class:`BadRow` for the rejects file, and reading goes on. Memory stays constant whatever the file size and
whatever a line holds: a line over lines.MAX_LINE_BYTES is a BadRow giving its length, never read whole (see
lines.py).

The text encoding is a property of the file: UTF-8 (with or without BOM) and UTF-16 with a BOM are read as
such, any other encoding only when named (``encoding="cp1252"``). A byte that is not valid in the file's
encoding makes a :class:`BadRow` of kind ``"encoding"``, which the whole-file inspection (profile.py) turns
into a refusal of the file before anything is sent. Excel's shapes are read as Excel means them: a first
line ``sep=;`` names the delimiter, unnamed columns at the end of the header (a trailing delimiter)
are ignored as long as they hold nothing, and a cell ``="00888"`` is the text inside it (formulas.py).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import functools
import gzip
import hashlib
import io
import json
import math
import os
import re
import stat
import zlib
from collections.abc import Callable, Collection, Generator, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from bulkload.errors import ConfigError, ExpansionRefused, FileChanged, MappedTwice, SourceError
from bulkload.first_bytes import bom_of, no_text, other_bom, own_bom, utf8_not_utf16
from bulkload.formulas import cell_text, read_text_formulas
from bulkload.header_again import HeaderAgain
from bulkload.json_text import TWICE_CELL, given_twice, keys_twice, twice_reason, written_values
from bulkload.lines import (
    BLANK_RUN,
    DOS_END,
    MAX_LINE_BYTES,
    MAX_LINE_LABEL,
    Cut,
    Expansion,
    blank_run,
    byte_lines,
    cut_text,
    first_line,
    text_line,
)
from bulkload.masking import MASK, QUOTED, filled, masked, masked_keys, masked_text, scrub, secret_rule
from bulkload.money import currencies_named
from bulkload.near_names import did_you_mean
from bulkload.numbers import json_number_text
from bulkload.prestart import GZIP_MAGIC

MAX_RAW = 2000
_BUFFER = 1 << 16
#: the start of a JSON array of objects (or of none), what a JSON export or `json.dump` of a list writes: read as
#: CSV, its first object's keys and values were taken for a header ("column '"date": "2026-11-01"' appears twice"),
#: read as JSONL, its whole text for one record (tester t36d). A CSV header of bracketed names, `[Date],[Amount]`
#: (SQL Server's), starts otherwise
#: (an empty array refuses the file only as all it holds: `[]` then objects is JSONL whose first line is no record)
_JSON_ARRAY = re.compile(r"\[\s*(?:\{|\]\s*\Z|$)")
#: a first JSONL line holding an object's end, a lone CR and another object: a file whose lines end with CR only (old
#: Mac programs), read by its LF line ends as one line of all its records, rejected as one row (tester t42a). JSON
#: text holds no raw CR inside a string, so a CR there stands between two values
_CR_LINE_ENDS = re.compile(r"[^\n]*\}[ \t]*\r(?!\n)[ \t\r]*\{")
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Fed to the csv parser after the last line, so a file ending inside a quoted cell costs no per-row check:
# the marker then lands at the end of that cell and the row gets too many cells (the slow path sees it);
# after a complete last row it parses as a row of its own that starts with _EOF_ROW.
_EOF_MARK = "\ue000\uf8ff\ue000"
_EOF_ROW = _EOF_MARK + '"'
#: what one readline of a CSV asks for: one character more than a line may hold, to see that it is longer
_LINE_READ = MAX_LINE_BYTES + 1
_READ_ERRORS = (EOFError, OSError, zlib.error)  # truncated or corrupt gzip, I/O errors mid-file
_JSON_NAMES = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    Decimal: "a number",
    bool: "a boolean",
}
#: the columns a rejects file puts before the input's own (file, source line, field, reason)
REJECTS_COLUMNS = ("file", "line", "field", "reason")
#: the most rows after a file's last blank row that are taken for a report's footer (Source.footer)
_FOOTER_ROWS = 3
#: the name a header gives the unnamed columns after its last named one (a trailing delimiter)
UNNAMED = "\x00unnamed"
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: the program that writes each BOM (by its encoding's name without the byte order), as a message names it
_BOM_WRITERS = {
    "utf-8": 'Excel\'s "CSV UTF-8"',
    "utf-16": 'Excel\'s "Unicode text"',
    "utf-32": "PowerShell's Export-Csv -Encoding UTF32",
}
#: UTF-32's BOMs; its LE one starts with UTF-16 LE's, so it is told first
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
#: the byte order mark as read (U+FEFF): a file's first line alone starts with one
_BOM = "\ufeff"
#: why a line below the first that starts with a byte order mark refuses the file (BadRow kind "joined")
_BOM_BELOW = (
    "the line starts with a byte order mark (U+FEFF), which only a file's first line holds: here it is below other "
    "rows, as where two exports were joined into one file (cat)"
)


class JsonExponent(str):
    """A JSON number written with an exponent (``1e2``), as its text: a number, not text, where a field takes text
    (refused, as ``12`` there is), and refused with its reason where an amount or a whole number is wanted (a
    spreadsheet's mangling: chunking.Reading.convert)."""

    __slots__ = ()


def _json_number(text: str) -> Decimal | str:
    """A JSON number with a fraction or exponent, exactly as written: a Decimal, or a JsonExponent."""
    return JsonExponent(text) if "e" in text or "E" in text else Decimal(text)


_decode_json = msgspec.json.Decoder(float_hook=_json_number).decode


def exact_number(text: str) -> Decimal:
    """A JSON number with a fraction or exponent inside a nested value, exactly as written (`1e-400` stays 1E-400,
    not 0.0). ValueError, which msgspec reports as "Number out of range - at `$…`", for one past a float's range
    (`1e400`): an API reading JSON numbers into floats cannot hold it, nor could its answer echoing it be read."""
    number = Decimal(text)
    if number.adjusted() >= 308 and math.isinf(float(number)):
        raise ValueError("Number out of range")
    return number


#: a nested value's JSON (a JSONL line's, a CSV cell's: reasons.json_cell): each number with a fraction or an exponent
#: the exact Decimal it writes
decode_exact = msgspec.json.Decoder(float_hook=exact_number).decode


class BadRow(NamedTuple):
    """A row that cannot even become a dict; it goes to the rejects file with its original text."""

    line_no: int
    reason: str
    raw: str
    #: the cells that could be named (a CSV row of the wrong width, a JSON object holding a NUL), so that the row
    #: can still be told apart by its voucher: a bad line of a voucher takes the voucher with it
    partial: dict[str, Any] | None = None
    #: "encoding": a byte not valid in the file's encoding; "cut": the file ends inside a quoted cell the row opens
    #: (every line after it is that cell's); "delimiter": a row written with another delimiter than the header's;
    #: "joined": Excel's sep= line, or a byte order mark, below other rows (files joined into one). Each a fault of
    #: the whole file rather than of the row: the file is refused before the first call
    kind: str = ""
    #: the field the reason is about, where one is ("" for the row as a whole)
    field: str = ""
    #: a CSV row whose cells cannot be told apart by column (another width than the header's, or cells read leniently):
    #: `partial` holds those that read the same from its first cell on and from its last back, and a group it names
    #: no longer is its reason's doing (regroup.keyed tells its neighbours so)
    unaligned: bool = False


class HeaderUndecodable(ConfigError):
    """A CSV header holding bytes not in the file's encoding; `bad` is the header as a row of kind "encoding", so
    that the inspection before the first call refuses the file as it refuses any such line (profile.line_refusal: with
    the code page the file more likely is, and the header read that way)."""

    def __init__(self, message: str, bad: BadRow) -> None:
        super().__init__(message)
        self.bad = bad


Row = tuple[int, dict[str, Any]]


class TotalsRow(NamedTuple):
    """A row of a totals row's shape (Source.totals), every field it fills, as Source.with_totals gives it."""

    line: int
    row: dict[str, Any]


class GroupTotal(TotalsRow):
    """A group's subtotal (_subtotal): it gives the group's number of the line right above it, and totals that
    group's lines alone."""


#: a cell that names a total, besides the amounts and text a totals row fills: a word for a total in the languages
#: of the exports met (Excel's `101 Total`, `Grand Total`, `Hovedtotal`, `Gesamtergebnis`), with a group's value
#: before it (Excel's `Oslo Total`) or a key or a code after it (`Total 1010`, `Total DKK`). A word after it that is
#: neither (`Transport Århus`, `Total cost`, `Summe Reisekosten`) is a line's text that starts with such a word: a line
#: whose other cells were merged over writes it, and a sum of the lines above by chance would drop it unbooked
_TOTAL_WORDS = (
    r"(?:grand |sub-?|sous-|zwischen|gesamt|hoved|total|eind|kokonais|väli|)"
    r"(?:totals?|totalt|totaal|totale|total général|total general|total geral|totale complessivo|"
    r"sum|sums|summe|summa|summen|ergebnis|suma|somme|i ?alt|"
    r"yhteensä|celkem|razem|transport|übertrag|carried forward|brought forward)"
)
#: a key or a code: a word holding a digit (`1010`, `O-2026-1`), or a code in capitals (`DKK`, `EUR`)
_KEY_OR_CODE = r"(?:[\w./-]*\d[\w./-]*|(?-i:[A-Z]{2,}))"
#: a voucher's word between a total's and its number (e-conomic's `Total bilag 101`)
_GROUP_WORDS = r"(?:bilag|voucher|beleg|verifikat|verifikation)"
_TOTAL_CELL = re.compile(
    rf"(?:[\w./-]+\s+)?{_TOTAL_WORDS}(?:\s+(?:{_GROUP_WORDS}\s+)?{_KEY_OR_CODE})?:?", re.IGNORECASE
)


#: where a totals row's cells are in a header (_totals_cells): the amounts, the fields it may not fill, those a
#: group's subtotal repeats from the line above it, and the fields it may not fill but those
TotalsCells = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _totals_cells(
    names: Sequence[str], money: Sequence[str], may: Sequence[str], repeats: Sequence[str] = ()
) -> TotalsCells | None:
    """Where a totals row's cells are among a header's `names`: (the amounts' places, the places of the fields it
    may not fill, the places of those a group's subtotal repeats from the line above it, its group's number first:
    empty where the header names none of them, and the places of the fields it may not fill but those); None where
    the header names no amount."""
    amounts = tuple(i for i, name in enumerate(names) if name in money)
    others = tuple(i for i, name in enumerate(names) if name and name not in money and name not in may)
    keyed = tuple(names.index(name) for name in repeats if name in names) if repeats and repeats[0] in names else ()
    return (amounts, others, keyed, tuple(i for i in others if i not in keyed)) if amounts else None


_TOTAL_ALONE = re.compile(rf"{_TOTAL_WORDS}:?", re.IGNORECASE)


def names_total(text: str) -> bool:
    """Whether a cell's text names a total (`Total`, `101 I alt`, `Grand Total`, `Summe`): a totals row's word."""
    return _TOTAL_CELL.fullmatch(text.strip()) is not None


def names_what_it_totals(text: str) -> bool:
    """Whether a cell's text names a total and what it totals, a group's value or a key beside the word (`101 Total`,
    `Total DKK`), not the word alone (`Total`, `Transport`): a line's text may be such a word alone."""
    return names_total(text) and _TOTAL_ALONE.fullmatch(text.strip()) is None


def _fills_only(row: Sequence[str], amounts: tuple[int, ...], others: tuple[int, ...]) -> bool:
    """Whether a CSV row of the header's width fills an amount, and no other field than those a totals row may
    fill, but for cells that name a total (`_TOTAL_CELL`)."""
    for i in others:
        cell = row[i].strip()
        if cell and (cell.isdigit() or not names_total(cell)):  # a line's number: no look at its words
            return False
    return any(row[i].strip() for i in amounts)


def _subtotal(row: Sequence[str], above: Sequence[str] | None, shape: TotalsCells) -> bool:
    """Whether a CSV row of the header's width is its group's subtotal, as an export writes one below each voucher
    (e-conomic's `5;1;101;;1.234,50;;;Total bilag 101`): it gives the group's number of the line right above it
    (`above`, None where the row above was none), fills an amount, of the other fields only those a totals row may
    fill and those it repeats from that line as that line gives them (no date, no account), and a cell names a
    total. Anything less is no subtotal: a line's number or text is no total's name. A line's own field filled (its
    date, its account: `lone`) ends the look at once, as most rows a file reads are lines (a look at each of their
    cells made the read of a 200,000-line file 1.9× as long as without totals rows, this 1.15×)."""
    amounts, others, repeats, lone = shape
    if not repeats or above is None or len(above) != len(row) or not row[repeats[0]].strip():
        return False
    for i in lone:
        if row[i].strip():
            return False
    if not any(row[i].strip() for i in amounts):
        return False
    named = False
    for i, cell in enumerate(row):
        text = cell.strip()
        if i in amounts or not text:
            continue
        if i in repeats:
            if text != above[i].strip():
                return False
        elif not text.isdigit() and names_total(text):
            named = True
        elif i in others:
            return False
    return named


class RowWidths:
    """The widths of a CSV file's rows that hold a value, where its header ends in unnamed columns (trailing
    delimiters), which a row may fill with empty cells or leave out: by width (cells), how many rows have it and the
    first line that does. A row wider than another puts more cells in those columns: one whose value (an amount
    written 1,234.50) an unquoted delimiter split in two puts its last cell there, every value after the split in
    the column after its own, and reads as a row all the same (`apart`)."""

    def __init__(self) -> None:
        self.seen: dict[int, list[int]] = {}  # width -> [rows, first line]

    def add(self, width: int, line: int) -> None:
        if (seen := self.seen.get(width)) is None:
            self.seen[width] = [1, line]
        else:
            seen[0] += 1

    @property
    def one(self) -> int:
        """The width every row counted has (0: none was counted, or rows of several widths were)."""
        return next(iter(self.seen)) if len(self.seen) == 1 else 0

    def apart(self) -> tuple[int, int, int, int, int] | None:
        """(line, cells) of the first row wider than the file's narrowest, then (line, cells) of the first of those,
        and how many rows are wider; None where every row counted has one width."""
        if len(self.seen) < 2:
            return None
        narrow = min(self.seen)
        wide = min((w for w in self.seen if w > narrow), key=lambda w: self.seen[w][1])
        wider = sum(seen[0] for w, seen in self.seen.items() if w > narrow)
        return self.seen[wide][1], wide, self.seen[narrow][1], narrow, wider


class Source:
    """One input file, opened lazily; iterate it (again and again) for rows and bad rows."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        delimiter: str | None = None,
        columns: Mapping[str, str] | None = None,
        fmt: str | None = None,
        encoding: str | None = None,
        secrets: Collection[str] = (),
        pinned: Pinned | None = None,
        part: Part | None = None,
        totals: Sequence[Sequence[str]] | None = None,
    ) -> None:
        self.path = Path(path)
        #: the cells a totals row of the file's kind fills (RecordKind.totals_shape): (the amounts, the other fields
        #: it may fill); a CSV row of that shape is no row (`totals_seen`), read only by `with_totals`
        self.totals = None if totals is None else (tuple(totals[0]), tuple(totals[1]), tuple(chain(*totals[2:3])))
        self._totals_seen = 0
        #: the file as it was hashed: when given, no byte past its size is read, and a file found changed at the
        #: end of a read raises FileChanged
        self.pinned = pinned
        #: read only this stretch of the file, after its head (the inspection of a big file in halves: halves.py)
        self.part = part
        self.columns = dict(columns or {})
        #: fields whose values go to the API and nowhere else: masked wherever the source shows a row as written
        self.secrets = frozenset(secrets)
        self._secret_at: tuple[int, ...] = ()  # their columns (CSV), and the header's width and named columns
        self._width = self._named = 0
        self._widths: RowWidths | None = None
        self._delimiter_used: str | None = None
        #: the header's columns as mapped, by place ("" dropped, UNNAMED after the last named), once read (fields)
        self._names: tuple[str, ...] = ()
        self._rejects_file = False
        name = self.path.name.lower().removesuffix(".gz")
        self._fmt = fmt.lower() if fmt else _SUFFIXES.get(os.path.splitext(name)[1])
        if self._fmt not in (None, "csv", "jsonl"):
            raise ConfigError(f"{self.path}: unknown format {fmt!r} (use csv or jsonl)")
        if delimiter in ("\\t", "tab"):  # what a shell flag delivers for a tab
            delimiter = "\t"
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n' + _EOF_MARK):
            raise ConfigError(f"{self.path}: the delimiter must be one character other than a quote, got {delimiter!r}")
        self._tsv = delimiter is None and name.endswith(".tsv")  # read with tab for its name
        self._delimiter = "\t" if self._tsv else delimiter
        self._given_encoding = codec_name(encoding) if encoding else None
        self._encoding: str | None = self._given_encoding
        self._compressed: bool | None = None
        self._fields: list[str] | None = None
        self._header: list[str] | None = None
        self._sep_line = 0  # the line of Excel's sep= line (0: none)
        self._header_lines = 0
        self._without_end = 0
        #: the first of the rows after a CSV file's last blank row, where they are few and each fills only its first
        #: cell, as a report's footer does (`footer`); 0: none, or the file was not read to its end
        self._footer = 0

    def settings(self) -> dict[str, Any]:
        """What the source was made with, as plain values: `Source(**settings)` reads the file the same way."""
        return {
            "path": str(self.path),
            "delimiter": self._delimiter,
            "columns": self.columns,
            "fmt": self.fmt,
            "encoding": self.encoding,
            "secrets": sorted(self.secrets),
            "totals": self.totals,
        }

    def sibling(self, part: Part) -> Source:
        """The same file read the same way, only `part` of it."""
        return Source(**self.settings(), pinned=self.pinned, part=part)

    @property
    def fmt(self) -> str:
        """``"csv"`` or ``"jsonl"``: as given, else from the name, else from the first non-blank character."""
        if self._fmt is None or self._encoding is None:
            self._probe()
        assert self._fmt is not None
        return self._fmt

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip, judged by its magic bytes (a name can lie)."""
        if self._compressed is None:
            self._probe()
        return bool(self._compressed)

    @property
    def encoding(self) -> str:
        """The codec the file is read with: as given, else UTF-16 or UTF-8 by its BOM, else UTF-8."""
        if self._encoding is None:
            self._probe()
        assert self._encoding is not None
        return self._encoding

    @property
    def bom(self) -> bool:
        """Whether the file begins with its encoding's BOM (first_bytes.own_bom), as Excel's "CSV UTF-8" writes
        one; False for an encoding whose codec reads it (UTF-16, which writes one again)."""
        mark = own_bom(self.encoding)
        if not mark:
            return False
        with self._binary() as f:
            return f.peek(len(mark))[: len(mark)] == mark

    @property
    def encoding_given(self) -> bool:
        """Whether the encoding was given (`encoding=`, --encoding: "utf-8" too), not decided from the file. A source
        made from `settings` has it given: the one it was decided to be."""
        return self._given_encoding is not None

    @property
    def delimiter(self) -> str | None:
        """The CSV delimiter in use (given, from a ``sep=`` line, or judged from the header); None for JSONL."""
        if self.fmt != "csv":
            return None
        if self._delimiter_used is None:
            with self._open_csv() as opened:
                return opened.delim
        return self._delimiter_used

    @property
    def sep_line(self) -> bool:
        """Whether the file starts with Excel's ``sep=X`` line (X is then the delimiter)."""
        self.fields()
        return bool(self._sep_line)

    def delimiter_told(self) -> str | None:
        """What made the file read with its delimiter, as a message says it, where the header did not: the
        --delimiter given, the .tsv name, Excel's sep= line (its line); None where it was judged from the header."""
        self.fields()
        delim = self._delimiter_used
        if self._delimiter is None:
            return f"its sep={delim} line (line {self._sep_line}) names {delim!r}" if self._sep_line else None
        if self._tsv:
            return "its name ends .tsv, which is read with tab"
        return f"--delimiter {delim!r} was given"

    def fields(self) -> list[str] | None:
        """The CSV header after mapping (dropped and unnamed columns left out); None for JSONL."""
        if self.fmt != "csv":
            return None
        if self._fields is None:
            with self._open_csv() as opened:
                self._names = tuple(opened.names)
                self._fields = [n for n in self._names if n and n != UNNAMED]
        return list(self._fields)

    def neighbours(self) -> list[tuple[str, str]]:
        """(a column, the column after it), as mapped, of a ','-separated file whose header ends in unnamed columns
        (a trailing delimiter); [] for any other file. An amount written `1,234.50` unquoted in such a file is split
        in two, and a spreadsheet that saved it padded every row, and the header, to the widest row's width: the
        two halves read as the values of a column and the next (profile.SplitAmounts)."""
        self.fields()
        names = self._names
        if self.delimiter != "," or UNNAMED not in names:
            return []
        return [(a, b) for a, b in zip(names, names[1:]) if a and b and b != UNNAMED]

    def named_currencies(self, fields: Iterable[str]) -> dict[str, str]:
        """Of `fields` (amounts), those a CSV column mapped to ([columns]) whose name says the currency of its
        amounts (money.currencies_named: "Beløb DKK", "Amount (€)"), and that column's name; {} for JSONL."""
        if self.fmt != "csv":
            return {}
        self.fields()
        wanted = frozenset(fields)
        return {
            name: cell
            for cell in self._header or ()
            if (name := self.columns.get(cell, cell)) in wanted and name != cell and currencies_named(cell) is not None
        }

    @property
    def rejects_file(self) -> bool:
        """Whether the file is a rejects file bulkload wrote (its header starts with REJECTS_COLUMNS)."""
        self.fields()
        return self._rejects_file

    def header(self) -> list[str] | None:
        """The CSV header as the file writes it (source names, unnamed columns as ""); None for JSONL."""
        self.fields()
        return None if self._header is None else list(self._header)

    def holds_nothing(self) -> bool:
        """Whether the file holds not one byte (a gzip file: once expanded)."""
        with self._binary() as f:
            return not f.peek(1)

    @property
    def last_line_without_end(self) -> int:
        """The line (from 1) of a CSV file read to its end (iterated, `rows`, `cells`) that is its last, where that
        one holds text (not only delimiters: a row of none is passed over) and has no line end while every other
        line has one: a row cut short (a copy or a download that stopped inside its last cell: -50 for -5000.00)
        reads so, and so does the last row of a file written without a final line end (Google Sheets). 0 where the
        last line has its line end, for a file not read to its end, and for JSONL, whose line cut short is no JSON."""
        return self._without_end

    @property
    def footer(self) -> int:
        """The line (from 1) of a CSV file read to its end (`rows`) that starts a report's footer below the data: the
        rows after its last blank line or row of only delimiters (the sheet's blank rows after them end none), 1 to
        _FOOTER_ROWS of them, each filling only its first cell (`Total: 2 records,,,,` as a spreadsheet pads it), in a
        file whose header names more than one column. 0 where there is none. A spreadsheet's footer padded to the
        sheet's width reads as a row: a HaloPSA record named `Total: 2 records` was created, exit 0 (t46a)."""
        return self._footer

    @property
    def totals_seen(self) -> int:
        """The totals rows (`totals`) the last read of a CSV file's rows passed over, as far as it went: each is
        checked against the lines above it (control_totals.py) before the first call, and never loaded."""
        return self._totals_seen

    def with_totals(self, only: Collection[str]) -> Iterator[Row | BadRow | TotalsRow]:
        """The rows as `rows` gives them, and the totals rows among them (`totals`) as TotalsRow, every field (a
        group's subtotal as GroupTotal)."""
        return self._masking(self._iter_csv(only=frozenset(only), totals=True))

    @property
    def row_widths(self) -> RowWidths | None:
        """The widths of the rows of a CSV file whose header ends in unnamed columns, as its last read that was not
        a read of its records as written (`cells`) found them, as far as it went; None for any other file."""
        return self._widths

    def header_lines(self) -> int:
        """The physical lines a CSV file's rows start after: its header's, a `sep=` line's and blank lines
        before them (0 for JSONL)."""
        self.fields()
        return self._header_lines

    def __iter__(self) -> Iterator[Row | BadRow]:
        return self._masking(self._iter_csv() if self.fmt == "csv" else self._iter_jsonl())

    def rows(self, only: Collection[str], blank: dict[str, int] | None = None) -> Iterator[Row | BadRow]:
        """The same rows and bad rows as iterating the source, each row holding only the fields in `only`
        (a row is still a row when none of them is filled). A whole-file pass that looks at a few columns is
        then spared building every row whole. `blank`, where given, takes each key a JSONL record writes with no
        value (null, "" or white space: the row leaves it out, as absent) -> the first line that writes it so, as
        the [columns] mapping names it; a CSV's header says its columns whatever its cells hold."""
        if self.fmt == "csv":
            return self._masking(self._iter_csv(only=frozenset(only)))
        return self._masking(self._iter_jsonl(blank))

    def cells(self, decimal: str = ".") -> Iterator[tuple[int, list[str] | dict[str, Any] | str]]:
        """Every record as written, for the rejects file: ``(start line, cells)`` for CSV (the header's order,
        untrimmed), ``(line, object)`` for a JSONL line that is an object (its JSON numbers written with the file's
        decided `decimal` mark: numbers.json_number_text), else ``(line, text)``; what may be a secret is ``***``
        (see mask_cells and mask_text)."""
        if self.fmt == "csv":
            return self._csv_cells()
        return self._jsonl_cells(decimal)

    def _csv_cells(self) -> Iterator[tuple[int, list[str] | str]]:
        records: Any = self._iter_csv(raw=True)  # (start line, cells as written; a record over the cap as text)
        try:
            for line_no, cells in records:
                yield line_no, self.mask_text(cells) if type(cells) is str else self.mask_cells(cells)
        finally:
            records.close()

    # --- secrets: masked by column name before anything else looks at a row that is shown --------------------
    def mask_cells(self, cells: list[str]) -> list[str]:
        """A CSV record's cells with every one that may hold a secret as ``***``: the secret columns' own, and in a
        row wider than the header, or with a value past its named columns, every cell a secret may have moved to
        (an inserted cell moves the rest right); in a cell holding JSON, what each secret key in it holds
        (masking.masked_text), also in a file of no secret column (before, such a file's cells were shown as they
        were: a `password` inside the JSON of a `sync_entities_list` cell went to the rejects file in clear)."""
        if not self.secrets:
            return cells
        filled = [i for i, cell in enumerate(cells) if cell.strip()]
        spread = max(0, len(cells) - self._width, (filled[-1] + 1 - self._named) if filled else 0)
        out = list(cells)
        for at in self._secret_at:
            for i in range(at, min(len(out), at + spread + 1)):
                if out[i].strip():
                    out[i] = MASK
        if "{" in "".join(out):  # no key without an object: a row without one is spared a look at each cell
            out = [masked_text(cell, self._secret_anywhere) for cell in out]
        return out

    def mask_text(self, text: str) -> str:
        """A line of the file as a message or the rejects file shows it, with what may be a secret as ``***``: a
        CSV line's cells as mask_cells masks them; a JSON object's secret keys' values (in a line that is not
        valid JSON, the value after each secret key's name, whether quoted in double or single quotes or not at all,
        after `:` or `=`); in a line that is no object and names no secret key, every string, quoted or a bare word,
        since no name tells a secret from the others."""
        if not self.secrets or not text.strip():
            return text
        if self.fmt == "csv":
            delimiter = self.delimiter or ","
            try:  # one physical line: a record over several lines shows as its first
                rows = list(csv.reader([text], delimiter=delimiter, strict=False))
            except csv.Error:
                return MASK
            return _csv_text(self.mask_cells(rows[0]), delimiter) if len(rows) == 1 else MASK
        try:
            value = _decode_json(text.encode("utf-8", "surrogateescape"))
        except (msgspec.DecodeError, UnicodeError, RecursionError):
            # the value after each secret key's name, at any depth: `"name": "value"`, and the shapes that are not
            # JSON — single quotes (`'name': 'value'`, a Python dict's repr), no quotes (`name: value`) and
            # `name=value` (a form, a log line)
            text, named = masked_keys(text, self._secret_anywhere, self._secret_names)
            if named or text.lstrip().startswith("{"):  # names tell the secrets: `name=value&…`, `{'name': …}`
                return text
            return _ANY_STRING.sub(_masked_string, text)
        return _encode_json(self._hide(value, keyed=isinstance(value, dict), nested=True)).decode()

    def _secret_key(self, key: str) -> bool:
        """Whether a row's own key (its field as --columns names it) is a secret field."""
        return self.columns.get(key, key) in self.secrets

    def _secret_anywhere(self, key: str) -> bool:
        """Whether a key, a row's own or one inside a nested value, holds a secret (masking.secret_rule)."""
        return self._secret_key(key) or self._nested_rule(key)

    @functools.cached_property
    def _nested_rule(self) -> Callable[[str], bool]:
        return secret_rule(self.secrets)

    @functools.cached_property
    def _secret_names(self) -> re.Pattern[str]:
        """The names of the secret fields as the file may write them (--columns), for a key of a broken line that
        is not one word."""
        keys = [k for k in {*self.columns, *self.secrets} if self._secret_key(k)]
        return re.compile("|".join(map(re.escape, sorted(keys, key=len, reverse=True))))

    def _hide(self, value: Any, keyed: bool, nested: bool = False) -> Any:
        """A JSON value with its secrets as ``***``: under a secret key, and (not `keyed`: not under any key)
        every string. `nested`: a value that may nest (an object or array in it, JSON text in a string): the keys
        inside are masked by masking.secret_rule; else only its own secret fields are looked for."""
        if type(value) is dict:
            if nested:
                return masked(value, self._secret_anywhere)
            return {k: MASK if self._secret_key(k) and filled(v) else v for k, v in value.items()}
        if type(value) is list:
            return [self._hide(v, keyed, nested) for v in value]
        if type(value) is str and not keyed and value.strip():
            return MASK
        return masked(value, self._secret_anywhere) if nested else value

    def _masking(self, items: Generator[Row | BadRow, None, None]) -> Iterator[Row | BadRow]:
        return self._masked(items) if self.secrets else items

    def _masked(self, items: Generator[Row | BadRow, None, None]) -> Iterator[Row | BadRow]:
        """The rows, each bad row with its text, its named cells and its reason showing no secret."""
        with contextlib.closing(items):
            for item in items:
                if type(item) is not BadRow:
                    yield item
                    continue
                raw = self.mask_text(item.raw)
                hidden: set[str] = set()
                if self.fmt == "csv" and item.raw:  # what the masking took out, wherever else it shows
                    with contextlib.suppress(csv.Error):
                        for cells in csv.reader([item.raw], delimiter=self.delimiter or ",", strict=False):
                            hidden.update(c.strip() for c, m in zip(cells, self.mask_cells(cells)) if m != c)
                partial = item.partial and {
                    k: v
                    for k, v in item.partial.items()
                    if not self._secret_key(k) and not (type(v) is str and v in hidden)  # a list is no cell
                }
                yield item._replace(raw=raw, partial=partial or None, reason=scrub(item.reason, hidden))

    def _broken(self, line_no: int, exc: BaseException) -> SourceError | ConfigError:
        if not line_no:  # not one line can be read (a gzip cut in its header): an unreadable file, resume cannot help
            return ConfigError(
                f"cannot read {self.path}: it breaks off before its first line "
                f"({exc or type(exc).__name__}); nothing was sent"
            )
        if isinstance(exc, gzip.BadGzipFile) and str(exc).startswith(("CRC check failed", "Incorrect length")):
            # the check at a gzip member's end: what came out of it, lines and all, is not what was packed
            return SourceError(
                f"{self.path}: its gzip data is damaged ({exc}, found after line {line_no}: the lines before it are "
                "not to be trusted either)"
            )
        return SourceError(f"{self.path}: cannot read past line {line_no}: {exc or type(exc).__name__}")

    def _undecodable(self, line_no: int, exc: UnicodeError) -> ConfigError:
        """The refusal of a file whose bytes after line `line_no` (0: from its start) are not in its encoding."""
        why = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        where = f"after line {line_no}" if line_no else "at its start"
        if why == "truncated data" and self.encoding.startswith("utf-16"):  # an odd byte at the end: no encoding helps
            return ConfigError(
                f"{self.path}: not valid {encoding_label(self.encoding)} {where}: the file ends in the middle of a "
                "character (an odd number of bytes): it was cut short (a copy or a download?). Get the whole file and "
                "load it; nothing was sent"
            )
        return ConfigError(
            f"{self.path}: not valid {encoding_label(self.encoding)} {where} ({why}); "
            "give --encoding with the file's encoding"
        )

    @contextmanager
    def _binary(self) -> Iterator[io.BufferedReader[Any]]:
        with ExitStack() as stack:
            try:
                file = io.FileIO(self.path, "rb")
                stack.enter_context(file)
                part = self.part or (None if self.pinned is None else Part(b"", 0, self.pinned.size_bytes))
                bounded = file if part is None else _Bounded(file, part, self.pinned, self.path)
                raw = stack.enter_context(io.BufferedReader(bounded, _BUFFER))
                self._compressed = raw.peek(2)[:2] == GZIP_MAGIC
            except OSError as exc:
                raise unreadable(self.path, exc) from exc
            if not self._compressed:
                yield raw
                return
            gz = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            # GzipFile.readline is Python code; a C buffer on top keeps per-line reads in C.
            expanded = stack.enter_context(io.BufferedReader(Expansion(gz, raw, self.path), _BUFFER))
            try:
                inner = expanded.peek(2)[:2]
            except _READ_ERRORS as exc:  # not one byte expands: a gzip cut in its header
                raise self._broken(0, exc) from exc
            if inner == GZIP_MAGIC:
                raise ConfigError(
                    f"{self.path} is a compressed file inside a compressed file (gzip twice): "
                    "decompress it once more (gunzip) and load the result; nothing was sent"
                )
            yield expanded

    def _probe(self) -> None:
        text, given = "", self._fmt
        with self._binary() as f:
            try:
                head = f.peek(4)[:4]
                if self._encoding is None:
                    self._encoding = (
                        "utf-32"
                        if head.startswith(_UTF32_BOMS)
                        else "utf-16"
                        if head.startswith(_UTF16_BOMS)
                        else "utf-8-sig"
                    )
                if given == "csv":
                    return
                self._fmt = given or "csv"
                decoder = codecs.getincrementaldecoder(self._encoding)("replace")
                while chunk := f.read(_BUFFER):
                    if text := decoder.decode(chunk).lstrip(" \t\r\n\ufeff"):
                        self._fmt = given or ("jsonl" if text.startswith("{") else "csv")
                        break
            except _READ_ERRORS as exc:
                if given is None or self._encoding is None:
                    raise self._broken(0, exc) from exc
                return  # JSONL by its name, looked at for an array only: reading its lines tells where it breaks
        if self._fmt == "jsonl" and _CR_LINE_ENDS.match(text):
            raise ConfigError(
                f"{self.path} ends its lines with a lone CR (carriage return, as old Mac programs write), where JSONL "
                "ends each line with LF: read so, its records are one line of JSON that is none. Convert its line "
                "ends (tr '\\r' '\\n' < FILE > FILE.jsonl) and load that; nothing was sent"
            )
        if text and _JSON_ARRAY.match(text):
            raise ConfigError(
                f"{self.path} holds a JSON array (it starts with {text[:2]!r}), not JSONL, one JSON object a line: "
                "write each of its objects on a line of its own (jq -c '.[]' FILE > FILE.jsonl) and load that; "
                "nothing was sent"
            )

    def _opened(self, raw: io.BufferedReader[Any]) -> None:
        """Refuse the file `raw` reads (from its start) before its first line is, where its first bytes show it is no
        text in its encoding (first_bytes.py): a workbook or an archive; a BOM of another encoding than the one
        given; UTF-8 given as UTF-16; UTF-16 in the other byte order than the one given, or (a JSONL file read in an
        8-bit encoding or UTF-8) UTF-16 without a BOM. The encoding's own BOM is passed over: no part of the first
        line."""
        try:
            head = raw.peek(_HEAD)[:_HEAD]
        except _READ_ERRORS as exc:  # not one byte expands: a gzip cut in its header
            raise self._broken(0, exc) from exc
        if (what := no_text(head)) is not None:
            raise ConfigError(f"{self.path} {'holds' if self._compressed else 'is'} {what}; nothing was sent")
        label = encoding_label(self.encoding)
        if (bom := own_bom(self.encoding)) and head.startswith(bom) and bom_of(head) == bom_of(bom):
            raw.read(len(bom))
            head = head[len(bom) :]
        elif self.encoding_given and (other := other_bom(head, self.encoding)) is not None:
            encoding, name = other
            mark = "\ufeff".encode(encoding).hex(" ").upper()
            raise ConfigError(
                f"{self.path}: --encoding {label} was given, but the file is {name}: it starts with {name}'s byte "
                f"order mark ({mark}, as {_BOM_WRITERS[encoding[:6]]} "
                f"writes it): leave --encoding out (or give --encoding {encoding}); nothing was sent"
            )
        elif self.encoding_given and utf8_not_utf16(head, self.encoding):
            raise ConfigError(
                f"{self.path}: --encoding {label} was given, but the file looks like UTF-8 (it decodes as UTF-8, and "
                "holds none of the NUL bytes UTF-16 writes in each delimiter and line end): leave --encoding out; "
                "nothing was sent"
            )
        if self.encoding in ("utf-16-le", "utf-16-be"):
            if (wide := _unmarked_utf32(head)) is not None:
                raise _utf32_refusal(self.path, f"--encoding {label} was given, but", wide)
            if (codec := _unmarked_utf16(head)) not in (None, self.encoding):
                raise ConfigError(
                    f"{self.path}: --encoding {label} was given, but the file's byte order is the other one: give "
                    f"--encoding {codec} (read as {label}, its first line is {_first_line(head, self.encoding)!r}; as "
                    f"{codec}, {_first_line(head, codec)!r}); nothing was sent"
                )
        elif self._fmt == "jsonl" and not self.encoding.startswith(("utf-16", "utf-32")):
            self._refuse_utf16(head)

    @contextmanager
    def _text(self) -> Iterator[io.TextIOWrapper]:
        # undecodable bytes become lone surrogates, so that the row holding them is named; UTF-16's codec has
        # no such handler: there a bad byte stops the read (the inspection then refuses the file)
        errors = "strict" if self.encoding.startswith(("utf-16", "utf-32")) else "surrogateescape"
        with self._binary() as raw:
            self._opened(raw)
            with io.TextIOWrapper(raw, encoding=self.encoding, errors=errors, newline="") as text:
                yield text

    @contextmanager
    def _open_csv(self) -> Iterator[_OpenCsv]:
        """Yield the csv reader with the header read, the mapped header ("" for dropped columns) and the rest."""
        with self._text() as text:
            delim = self._delimiter
            tail: list[str] = []  # read only at the end, after the header length is known
            held: list[str] = []  # the lines of the record being parsed (see _iter_csv)
            src = _Lines(text, self.encoding, held, tail)
            seen = 0  # lines that hold something, the header's included; blank ones are counted in src.blank
            try:  # the delimiter is judged from the header line, so read that far by hand
                header_line = ""
                for line in src:  # blank lines are passed over a block at a time, never held
                    seen += 1
                    held.clear()
                    if seen == 1 and (named := _sep_named(line, self.path)) is not None:
                        # Excel's way of naming the delimiter; the header is on the next line
                        self._sep_line = seen + src.blank
                        delim = delim or named
                        continue
                    header_line = line
                    break
                if not header_line:
                    blank = ", only blank lines" if seen or src.blank else ""
                    raise ConfigError(
                        f"{self.path}: the file is empty (no header row{blank}): there is nothing to load (is it the "
                        "file you meant? An export that came out empty: export it again)"
                    )
                before, src.blank = seen - 1 + src.blank, 0
                delim = delim or _sniff_delimiter(header_line)
                lines = chain([header_line], src)
                # strict: a quoted cell's closing quote followed by more text (`"Invoice "A" paid"`, `"10"0.00`) is a
                # csv.Error, so a bad row, where the lenient reader joined the pieces into a cell no one wrote
                reader = csv.reader(lines, delimiter=delim, strict=True)
                header = next(reader)
            except _TooLong as exc:
                why = (
                    exc.cut.reason(seen + 1 + src.blank)
                    if exc.cut
                    else f"the header's lines are more than the {MAX_LINE_LABEL} a record may be"
                )
                raise ConfigError(
                    f"{self.path}: {why}, and it is the header (or before it): this is no CSV export; nothing was sent"
                ) from None
            except csv.Error as exc:
                raise ConfigError(f"{self.path}: cannot parse the header: {exc}") from exc
            except UnicodeError as exc:
                raise self._undecodable(0, exc) from exc
            except _READ_ERRORS as exc:
                raise self._broken(0, exc) from exc
            names = self._header_names(header, header_line, before + 1)
            self._delimiter_used = delim
            self._header_lines = before + reader.line_num
            tail.append(_EOF_ROW + delim * len(names) + "\n")
            held.clear()
            yield _OpenCsv(reader, names, delim, lines, held, tail[0], before, src)

    def _header_names(self, header: list[str], line: str, line_no: int) -> tuple[str, ...]:
        """The names of the `header`'s cells (its `line` as read, where a refusal tells its bytes; `line_no`: the
        file's line it starts on)."""
        if "\x00" in "".join(header):  # every other byte NUL: UTF-16 without the BOM that would say so
            codec = None
            with contextlib.suppress(UnicodeError):  # the line's bytes again: which of them are NUL
                encoding = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le"}.get(self.encoding, self.encoding)
                raw = line.encode(encoding, "surrogateescape")
                # UTF-32 read as UTF-16 still holds NULs (t49a: the advice utf-16-le was given again and again)
                if (wide := _unmarked_utf32(raw)) not in (None, self.encoding):
                    raise _utf32_refusal(self.path, "the header holds NUL characters:", wide)
                if not self.encoding.startswith(("utf-16", "utf-32")):
                    codec = _unmarked_utf16(raw)
            if codec is None and not self.encoding.startswith(("utf-16", "utf-32")):
                # NULs, but not every other byte as UTF-16 writes text: no text at all (a t40d tester's binary file
                # was told to be UTF-16, and --encoding utf-16-le then read it as Chinese)
                raise ConfigError(
                    f"{self.path}: the header holds NUL characters, not every other byte as UTF-16 text of Latin "
                    "letters has them: the file is likely no text (a binary file, an archive, a workbook saved in "
                    "another format?): give the CSV or JSONL file exported from it (UTF-16 text of other scripts "
                    "without a BOM: give --encoding utf-16-le or utf-16-be); nothing was sent"
                )
            raise ConfigError(
                f"{self.path}: the header holds NUL characters: the file looks like UTF-16 without a BOM; give "
                f"--encoding {codec or 'utf-16-le (or utf-16-be)'}; nothing was sent"
            )
        try:
            "".join(header).encode()
        except UnicodeEncodeError:
            why = _foreign(line, self.encoding) or f"invalid {encoding_label(self.encoding)}"
            raise HeaderUndecodable(
                f"{self.path}: the header is not valid {encoding_label(self.encoding)}; give --encoding with the "
                "file's encoding",
                BadRow(line_no, f"{why} in the header", "", kind="encoding"),
            ) from None
        names: list[str] = []
        first_at: dict[str, int] = {}  # a name -> its first column (0-based): a header may name 100,000 columns
        # a rejects file (report.py) starts with these: they say where the row came from, and are not loaded; its
        # cells were neutralised for spreadsheets, and read back as they were
        self._rejects_file = tuple(c.strip() for c in header[: len(REJECTS_COLUMNS)]) == REJECTS_COLUMNS
        if not self._rejects_file and (moved := _rejects_columns_moved(header)) is not None:
            raise ConfigError(f"{self.path}: {moved}; nothing was sent")
        cells = [(restored(cell) if self._rejects_file else cell).strip() for cell in header]
        named = len(cells)
        while named and not cells[named - 1]:  # a trailing delimiter: Excel writes one on every line
            named -= 1
        if not named:  # only delimiters: no trailing delimiter after a header, but no header at all
            raise ConfigError(f"{self.path}: the header names no column")
        self._header = cells
        ours = len(REJECTS_COLUMNS) if self._rejects_file else 0
        for i, source in enumerate(cells, 1):
            if i > named:
                names.append(UNNAMED)
                continue
            if i <= ours:
                names.append("")
                continue
            if not source:
                raise ConfigError(f"{self.path}: column {i} of the header has no name")
            name = self.columns.get(source, source)
            if name and name in first_at:
                raise self._twice(name, first_at[name], i - 1)
            first_at.setdefault(name, i - 1)
            names.append(name)
        self._secret_at = tuple(i for i, name in enumerate(names) if name in self.secrets)
        self._width, self._named = len(names), named
        return tuple(names)

    def _twice(self, field: str, first: int, second: int) -> ConfigError:
        """The refusal of a header whose columns `first` and `second` (0-based) are both `field`: the same name
        twice, or made one by the [columns] mapping (MappedTwice, naming the columns as the file does)."""
        cells = self._header or []
        at = f"{self.path}: column"
        mapped = [i for i in (first, second) if cells[i] != field]
        if not mapped:
            return ConfigError(
                f"{at} {field!r} appears twice in the header (columns {first + 1} and {second + 1}): which one holds "
                "the field cannot be told; rename or delete one of them in the file (a job file's [columns] names a "
                "column by its header, which both share)"
            )
        if len(mapped) == 2:
            said, also = (
                f"{at}s {cells[first]!r} ({first + 1}) and {cells[second]!r} ({second + 1}) are both mapped to",
                "",
            )
        else:  # the other column is named so in the file
            said = f"{at} {cells[mapped[0]]!r} ({mapped[0] + 1}) is mapped to"
            also = f", and column {first + second - mapped[0] + 1} is named {field!r}"
        return MappedTwice(
            f"{said} {field!r} by the [columns] table of --config{also}: a field takes one column",
            field,
            (first + 1, second + 1),
        )

    def _iter_csv(
        self, raw: bool = False, only: frozenset[str] | None = None, totals: bool = False
    ) -> Generator[Row | BadRow, None, None]:
        with self._open_csv() as (reader, names, delim, lines, held, eof_line, before, src):
            n = len(names)
            self._totals_seen = 0
            shape = None if raw or self.totals is None else _totals_cells(names, *self.totals)
            secret_at = self._secret_at
            drop = "" in names
            unnamed = UNNAMED in names
            widths = None
            if unnamed and not raw:
                widths = self._widths = RowWidths()
            picked = None if only is None else tuple((k, i) for i, k in enumerate(names) if k in only or k == UNNAMED)
            skipped = 0  # lines passed over after a csv error, which reader.line_num does not count
            above: list[str] | None = None  # the row right above, where it was read as a line (_subtotal)
            prev = reader.line_num + before  # the line the previous record ended on; the next starts after it
            restore = self._rejects_file
            # the header named again (exports joined into one file) is a fault of the whole file (kind "header",
            # refused before the first call); only a record whose first or second cell may start a name is looked at
            again = HeaderAgain(self._header or (), self.columns)
            starts = again.starts
            # the rows after the last blank row, while there are few: each its line where it fills only its first
            # cell, else 0 (None: no blank row yet, or more rows after it than a footer has)
            below: list[int] | None = None
            footers = self._named > 1 and not raw  # a file of one column: every row fills only its first cell

            def skip_rest(quoted: bool | None = None) -> tuple[int, bool, str]:
                """_skip_quoted_rest after a record that went wrong; the rest of its quoted cell may lie past a cut
                in the file or hold bytes not in its encoding: the input breaks off there."""
                try:
                    return _skip_quoted_rest(held, lines, delim, eof_line, self.encoding, quoted)
                except UnicodeDecodeError as bad:
                    raise self._undecodable(prev, bad) from bad
                except _READ_ERRORS as broken:
                    raise self._broken(prev, broken) from broken

            while True:
                try:
                    for row in reader:
                        if restore:
                            row = list(map(restored, row))
                        start = prev + 1
                        if gap := src.blank:  # blank lines before this record, which the reader never saw
                            start += src.blank
                            skipped, src.blank = skipped + src.blank, 0
                        prev = reader.line_num + skipped + before
                        # the row right above as a line, for _subtotal: none across blank lines
                        line_above, above = (None if gap else above), None
                        at_eof = bool(held) and held[-1] is eof_line
                        first = held[0] if held else ""  # the record's first line as written (_odd_csv_row)
                        held.clear()
                        if raw:
                            if at_eof:
                                if row[0] == _EOF_ROW:
                                    continue
                                row = _without_marker(row)
                            yield start, row  # cells(): the record as written
                            continue
                        if gap and footers:
                            below = below or []  # a blank row after a footer's rows ends no footer
                        if below is not None and not at_eof:
                            if row[0].strip() and not any(c.strip() for c in row[1:]):
                                below = [*below, start] if len(below) < _FOOTER_ROWS else None
                            elif any(c.strip() for c in row):  # a row of data after it: no footer
                                below = None
                        if (
                            widths is not None
                            and self._named <= len(row) <= n
                            and any(not c.isspace() for c in row if c)
                        ):
                            widths.add(len(row), start)
                        if restore and (twice := _twice_left(start, row, names, delim)) is not None:
                            yield twice
                            continue
                        if (row[0][:1] in starts or row[1:2] and row[1][:1] in starts) and (why := again.reason(row)):
                            yield BadRow(start, why, _clip(_csv_text(row, delim)), kind="header")
                            continue
                        if len(row) > n and (why := again.glued(row)):
                            yield BadRow(start, why, _clip(_csv_text(row, delim)), kind="header")
                            continue
                        if shape is not None and len(row) == n:
                            group = _subtotal(row, line_above, shape)
                            if group or _fills_only(row, *shape[:2]):
                                self._totals_seen += 1
                                if totals:
                                    whole = {k: v.strip() for k, v in zip(names, row) if k and v.strip()}
                                    yield (GroupTotal if group else TotalsRow)(start, whole)
                                continue
                        above = row
                        # Fast path: right width, no NUL, and ASCII or text the slow path finds nothing wrong with
                        # (no undecodable byte, no C1 control: _readable); else the slow path.
                        if (
                            len(row) == n
                            and "\x00" not in (joined := "".join(row))
                            and (joined.isascii() or _readable(joined))
                        ):
                            if picked is not None:
                                rec = {k: s for k, i in picked if (s := row[i].strip())}
                                if '="' in joined:
                                    rec = read_text_formulas(rec)
                                if secret_at:
                                    _secrets_as_written(secret_at, row, names, rec)
                                if unnamed and UNNAMED in rec:
                                    yield _unnamed_value(start, row, names, rec.pop(UNNAMED), delim)
                                elif rec or any(cell_text(v.strip()) for k, v in zip(names, row) if k):
                                    yield start, rec
                                elif footers and not any(c.strip() for c in row):
                                    below = below or []
                                continue
                            rec = {k: v.strip() for k, v in zip(names, row) if v and not v.isspace()}
                            if '="' in joined:
                                rec = read_text_formulas(rec)
                            if secret_at:
                                _secrets_as_written(secret_at, row, names, rec)
                            if drop:
                                rec.pop("", None)
                            if unnamed and UNNAMED in rec:
                                yield _unnamed_value(start, row, names, rec.pop(UNNAMED), delim)
                            elif rec:
                                yield start, rec
                            elif footers and not any(c.strip() for c in row):
                                below = below or []
                        elif item := _odd_csv_row(start, row, names, delim, at_eof, self.encoding, first):
                            if secret_at and not isinstance(item, BadRow):
                                _secrets_as_written(secret_at, row, names, item[1])
                            if only is not None and not isinstance(item, BadRow):
                                line_no, whole = item
                                item = (line_no, {k: v for k, v in whole.items() if k in only})
                            yield item
                except _TooLong as long:  # a line (or a record) over the cap: it was never held whole
                    start = prev + 1 + src.blank
                    skipped, src.blank = skipped + src.blank, 0
                    at = start + len(held)
                    text = "".join(held) + long.text
                    quoted = _ends_in_quotes(text, delim, False) != bool(long.quotes % 2)
                    more, _, _ = skip_rest(quoted)
                    skipped, src.blank = skipped + 1 + more + src.blank, 0
                    prev = reader.line_num + skipped + before
                    held.clear()
                    if raw:  # cells(): a record over the cap as the text it starts with
                        yield start, long.shown(text)  # type: ignore[misc]
                    else:
                        yield long.bad_row(start, at, prev, text, names, delim)
                    continue
                except csv.Error as exc:  # e.g. a cell over the field size limit; the reader can go on
                    # The reader drops the rest of the line it failed on and starts a record on the next
                    # one; a record still inside a quoted cell would have its remainder read as rows.
                    start = prev + 1 + src.blank
                    skipped, src.blank = skipped + src.blank, 0
                    text = "".join(held)
                    more, at_eof, foreign = skip_rest()
                    skipped, src.blank = skipped + more + src.blank, 0
                    prev = reader.line_num + skipped + before
                    held.clear()
                    lenient = _lenient(text, delim)
                    if raw:  # cells(): the record's cells as a lenient reading finds them, to be fixed in place
                        size = len(text.encode(errors="replace"))
                        yield start, lenient if lenient is not None else Cut(text, size).shown()  # type: ignore[misc]
                        continue
                    if foreign:  # the encoding first, as for any row: the whole file is refused
                        yield BadRow(start, foreign, "", kind="encoding")
                        continue
                    why = f"{_csv_error(exc, delim)} ({f'lines {start}-{prev}' if prev > start else f'line {start}'})"
                    if at_eof:
                        yield BadRow(start, f"{why}; {UNCLOSED}", "", kind="cut")
                        continue
                    # the cells a lenient reading finds name the row's group, so it is rejected with its group; a
                    # record over several lines names none: its quote may have swallowed other rows' lines, and the
                    # cells after it are its last line's (another group's), not its first's
                    named = None if lenient is None or prev > start else _partial_unaligned(lenient, names)
                    yield BadRow(start, why, "", named or None, unaligned=named is not None)
                    continue
                except UnicodeError as exc:
                    raise self._undecodable(prev, exc) from exc
                except _READ_ERRORS as exc:
                    raise self._broken(prev, exc) from exc
                # the end-of-file marker line was the last record: the file's own last line is the one before it;
                # one of only delimiters (and blanks, empty quotes) is passed over as no row, and warned of as none
                self._without_end = prev - 1 if src.unended.strip(f'{delim}" \t') else 0
                self._footer = below[0] if below else 0
                return

    def _jsonl_lines(self) -> Iterator[tuple[int, bytes | Cut]]:
        """(line number, UTF-8 bytes) of every line that is not blank, a line over MAX_LINE_BYTES as a Cut; other
        encodings are decoded and encoded again."""
        ln = last = 0  # last: the last line yielded, where a break in the file is reported (0: no record read)
        try:
            if self.encoding == "utf-8-sig":
                with self._binary() as f:
                    self._opened(f)
                    for last, data in byte_lines(f):
                        yield last, data
                return
            with self._text() as text:
                while line := text_line(text.readline, self.encoding):
                    ln += 1
                    if isinstance(line, Cut):
                        last = ln
                        yield ln, line
                    elif not line.isspace():
                        last = ln
                        # a lone surrogate (an undecodable byte) survives as such, and fails as invalid UTF-8
                        yield ln, line.encode("utf-8", "surrogateescape")
        except UnicodeError as exc:
            raise self._undecodable(ln or last, exc) from exc
        except _READ_ERRORS as exc:
            raise self._broken(last, exc) from exc

    def _refuse_utf16(self, head: bytes) -> None:
        """ConfigError where the JSONL file, read in an 8-bit encoding or UTF-8, starts with bytes (`head`) that are
        UTF-16 without a BOM: the encoding is the file's, so it is refused whole before anything is sent, as a CSV
        file's header holding NULs is (judged line by line, its lines were each invalid JSON or told to be
        Windows-1252)."""
        if (wide := _unmarked_utf32(head)) is not None:
            raise _utf32_refusal(self.path, "three of every four bytes at its start are NUL:", wide)
        if (codec := _unmarked_utf16(head)) is not None:
            raise ConfigError(
                f"{self.path}: every other byte at its start is NUL: the file looks like UTF-16 without a BOM; "
                f"give --encoding {codec}; nothing was sent"
            )

    def _iter_jsonl(self, blank: dict[str, int] | None = None) -> Generator[Row | BadRow, None, None]:
        rename: Callable[[str, str], str] = self.columns.get if self.columns else _same
        for ln, line in self._jsonl_lines():
            if isinstance(line, Cut):
                head = line.head if type(line.head) is bytes else line.head.encode("utf-8", "surrogateescape")
                yield BadRow(ln, line.reason(ln), line.shown(), _scalars(head, rename, len(head)))
                continue
            try:
                obj = _decode_json(line)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
                if line.strip():  # b"" (an empty file, or only a BOM) is no row either
                    reason, kind = _json_reason(line, exc, self.encoding)
                    yield BadRow(ln, reason, _clip(line.decode(errors="replace")), _scalars(line, rename), kind)
                continue
            if c1 := _C1_UTF8.search(line):
                yield BadRow(
                    ln,
                    f"a value holds the control character U+{c1[0][1]:04X}, which no text holds: the file "
                    f"is not {encoding_label(self.encoding)}",
                    _clip(line.decode()),
                    kind="encoding",
                )
            elif type(obj) is not dict:
                kind = "null" if obj is None else _JSON_NAMES.get(type(obj), type(obj).__name__)
                yield BadRow(ln, f"expected a JSON object, got {kind}", _clip(line.decode()))
            else:
                # null means absent (the APIs refuse null), and so does an empty or white-space string, as in CSV; a
                # string is the value as written, its surrounding spaces its own (JSON delimits it)
                rec = {
                    rename(k, k): v
                    for k, v in obj.items()
                    if v is not None and not (type(v) is str and (not v or v.isspace()))
                }
                rec.pop("", None)
                if blank is not None and len(rec) != len(obj):
                    for k, v in obj.items():
                        if v is None or (type(v) is str and (not v or v.isspace())):
                            blank.setdefault(rename(k, k), ln)
                # each key has a colon after it: as many colons as keys, and none is there twice, and no nested
                # value (the common row: no time, no nested object); 91 is "[", a byte found faster than b"["
                colons = line.count(b":") != len(obj)
                if (colons or 91 in line) and (wrong := _nested_exact(line, obj, rec, rename)):
                    yield BadRow(ln, wrong, _clip(line.decode()), _scalars(line, rename))
                elif b"\\u0000" in line:  # an escaped NUL: no accounting value holds one
                    yield BadRow(ln, "a value holds a NUL character", _clip(line.decode()), _without_nul(rec))
                # a key given twice is kept once, with its last value
                elif (colons or self.columns) and (twice := _keys_twice(line, obj, rename)):
                    text = line.decode()
                    partial = {k: v for k, v in rec.items() if k not in twice}
                    yield BadRow(ln, given_twice(twice), _clip(text), partial, field=_holding_twice(text, rename))
                else:
                    yield ln, rec

    def _jsonl_cells(self, decimal: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
        for ln, line in self._jsonl_lines():
            if isinstance(line, Cut):
                yield ln, self.mask_text(line.shown())
                continue
            try:
                obj = _decode_json(line)
            except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
                if line.strip():
                    yield ln, self.mask_text(line.decode(errors="replace").rstrip("\r\n"))
                continue
            if type(obj) is dict:
                try:
                    cells = _written_cells(line.decode(), decimal)
                except RecursionError:  # nested deeper than json reads, where msgspec read it: shown as a text
                    yield ln, self.mask_text(line.decode(errors="replace").rstrip("\r\n"))
                    continue
                # only a line with more colons than keys or a "[" (91) may nest
                nested = line.count(b":") != len(obj) or 91 in line
                yield ln, self._hide(cells, keyed=True, nested=nested) if self.secrets else cells
            else:
                yield ln, self.mask_text(line.decode(errors="replace").rstrip("\r\n"))


#: the bytes a file starts with that tell what it is (Source._opened): a workbook, a BOM, UTF-16 without a BOM
_HEAD = 256


def _first_line(head: bytes, codec: str, width: int = 24) -> str:
    """The first line of the bytes `head` (whole code units) read in `codec`, as a message shows it: its first
    `width` characters."""
    line = re.split("[\r\n]", head[: len(head) & ~1].decode(codec, "replace"), maxsplit=1)[0]
    return line if len(line) <= width else line[:width] + "…"


def _utf32_refusal(path: Path, why: str, codec: str) -> ConfigError:
    """The refusal of a file that is UTF-32 without a BOM (_unmarked_utf32), naming the `codec` that reads it."""
    return ConfigError(
        f"{path}: {why} the file looks like UTF-32 without a BOM; give --encoding {codec}; nothing was sent"
    )


def _unmarked_utf32(head: bytes) -> str | None:
    """The UTF-32 codec ("utf-32-le" or "utf-32-be") that the first bytes of a file without a BOM are in, where of
    each four the two high ones are NUL, as in UTF-32 text of any letter below U+10000, and they read so; else None.
    (UTF-16 text of Latin letters has a letter where UTF-32 has the third NUL of four.)"""
    data = head[: len(head) & ~3]
    if not data:
        return None
    high = ((data[2::4], data[3::4], "utf-32-le"), (data[1::4], data[0::4], "utf-32-be"))
    for third, fourth, codec in high:
        if not fourth.strip(b"\x00") and third.count(0) * 4 >= len(third) * 3:
            try:
                codecs.decode(data, codec)
            except UnicodeDecodeError:
                return None
            return codec
    return None


def _unmarked_utf16(head: bytes) -> str | None:
    """The UTF-16 codec ("utf-16-le" or "utf-16-be") that the first bytes of a file without a BOM are in, where
    every other one is NUL as in UTF-16 text of Latin letters (JSON text holds no NUL byte) and they read so; else
    None."""
    data = head[: len(head) & ~1]  # whole code units from the file's start: its first byte starts one
    if not data or data.count(0) * 3 < len(data):
        return None
    codec = "utf-16-le" if data[1::2].count(0) > data[::2].count(0) else "utf-16-be"
    try:
        codecs.getincrementaldecoder(codec)().decode(data)  # a pair of surrogates cut at the end is no fault
    except UnicodeDecodeError:
        return None
    return codec


def _nested_exact(line: bytes, obj: dict[str, Any], rec: dict[str, Any], rename: Callable[[str, str], str]) -> str:
    """The nested values (objects, arrays) of `obj`, decoded from `line` again, put in `rec` with their numbers as
    written: each one with a fraction or an exponent the exact Decimal it writes (`2e0` is 2, `1e-400` 1E-400), sent
    as the JSON number it is, as a CSV cell's JSON is read (targets.reasons.json_cell). Only a row's own fields are
    amounts refused when written with an exponent; inside a nested value a number is the API's to read. Returns why
    the row is bad where a number is past a float's range (`1e400`: exact_number), else ""."""
    nested = [key for key, value in obj.items() if type(value) is dict or type(value) is list]
    if nested:
        try:
            exact = decode_exact(line)
        except msgspec.ValidationError as exc:
            return f"invalid JSON: {exc}"
        for key in nested:
            if (name := rename(key, key)) in rec:  # not the key "" (no field)
                rec[name] = exact[key]
    return ""


def _keys_twice(line: bytes, obj: dict[str, Any], rename: Callable[[str, str], str]) -> list[str]:
    """The keys a JSON object `line` gives more than once, at any depth, and those two of its keys become when
    renamed (--columns), as the row names them; [] for none."""
    twice = dict.fromkeys(keys_twice(line))
    named: dict[str, str] = {}
    for key in obj:
        if (name := rename(key, key)) in named:
            twice[name] = None
        named[name] = key
    return [rename(key, key) for key in twice] if twice else []


def _holding_twice(line: str, rename: Callable[[str, str], str]) -> str:
    """The field of the JSON object `line` (as the row names it) that gives a key twice: the key itself, or the
    field whose nested value gives one of its own keys twice; "" for none found."""
    seen: set[str] = set()
    with contextlib.suppress(ValueError, RecursionError):
        for key, text in written_values(line):
            if (name := rename(key, key)) in seen or text[0] in "{[" and keys_twice(text):
                return name
            seen.add(name)
    return ""


def _written_cells(line: str, decimal: str) -> dict[str, str | list[str]]:
    """A JSONL object's values as the rejects file's cells, each as the line writes it so that it reads back as the
    line's value: a string as its text (`"null"` the text null), null as an empty cell (absent, as null is), a number
    as the file's `decimal` mark reads it back (numbers.json_number_text: 1.500 in a file of decimal commas as 1,50,
    which read with a decimal comma is 1.5, not 1500), any other value as its JSON text (`1e2`, `-0`, an object with
    every key it gives, twice where it gives one twice); a key the line gives more than once holds the list of its
    cells, in order (report.write_rejects)."""
    cells: dict[str, str | list[str]] = {}
    for key, text in written_values(line):
        start = text[0]
        cell = (
            ""
            if text == "null"
            else json.loads(text)
            if start == '"'
            else json_number_text(text, decimal)
            if start == "-" or start.isdigit()
            else text
        )
        given = cells.get(key)
        if given is None:
            cells[key] = cell
        elif isinstance(given, list):
            given.append(cell)
        else:
            cells[key] = [given, cell]
    return cells


def _twice_left(start: int, row: list[str], names: tuple[str, ...], delim: str) -> BadRow | None:
    """The bad row of a rejects file's record (`row`, its cells restored) whose cell of a field still holds each
    value of a key its JSONL line gave twice (json_text.twice_cell): which is meant is the user's to say. None where
    none does."""
    for name, cell in zip(names, row):
        if name and name != UNNAMED and cell.startswith(TWICE_CELL):
            partial = {k: v for k, c in zip(names, row) if k and k not in (name, UNNAMED) and (v := c.strip())}
            return BadRow(start, twice_reason(name, cell), _clip(_csv_text(row, delim)), partial, field=name)
    return None


def _without_nul(rec: dict[str, Any]) -> dict[str, Any]:
    """A row's values with the NULs taken out, as a CSV row's cells are, so that the bad row still names its group."""
    named = {k: v.replace("\x00", "").strip() if type(v) is str else v for k, v in rec.items()}
    return {k: v for k, v in named.items() if v != ""}


def _same(key: str, default: str) -> str:
    return key


#: a cell starting so is run by a spreadsheet as a formula (OWASP's list for CSV injection)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: ... unless it is a number, which a spreadsheet reads as the number it is (-12.50, -1.234,56)
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9][0-9.,' ]*\Z")


def neutralised(cell: str) -> str:
    """A cell of a file bulkload writes, as a spreadsheet will not run it: one that starts (after any apostrophes)
    with = + - @ TAB or CR gets an apostrophe in front, OWASP's rule; a plain number stays as it is. The apostrophes
    in front count, so that `restored` gives back exactly the cell that was written."""
    head = cell.lstrip("'")
    if not head.startswith(_FORMULA_START) or len(head) == len(cell) and _PLAIN_NUMBER.match(cell):
        return cell
    return "'" + cell


def said(cell: str) -> str:
    """A cell of bulkload's own words (a rejects file's reason), never read back: as `neutralised`, but one that
    starts with an apostrophe runs in no spreadsheet as it is, and gets none more (a reason quoting '=100.00')."""
    return cell if cell[:1] == "'" else neutralised(cell)


def restored(cell: str) -> str:
    """A cell of a rejects file as it was before `neutralised`."""
    return cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(_FORMULA_START) else cell


_encode_json = msgspec.json.Encoder(decimal_format="number").encode
#: in a broken line that is no object, what may be a string: quoted, or a bare word that is no number nor JSON
#: literal (`[Bare words, s3cr3t]`)
_ANY_STRING = re.compile(
    rf"""{QUOTED}|(?<![\w.*+-])(?!(?:true|false|null)(?![^\s,\]}}:=&;])|[-+]?\.?\d)[^\s,\[\]{{}}:=&;"']+"""
)


def _masked_string(match: re.Match[str]) -> str:
    quote = match[0][0] if match[0][0] in "\"'" else ""
    return f"{quote}{MASK}{quote}"


#: the C1 control characters, U+0080 to U+009F: text holds none; Latin-1 reads Windows-1252's € and quotes as these
C1 = re.compile("[\x80-\x9f]")
_C1_UTF8 = re.compile(b"\xc2[\x80-\x9f]")
#: a JSON string's escape of a UTF-16 high surrogate (the first half of a character past U+FFFF) with no low one
#: after it: a text cut in the middle of an emoji (JavaScript's JSON.stringify writes "\ud83c" so)
_LONE_HIGH_SURROGATE = re.compile(rb"(?<!\\)(?:\\\\)*\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})")
#: `"name": "text"` or `"name": number` in a line that is not valid JSON as a whole
#: (possessive: an unclosed string a megabyte long is passed over without a backtracking stack of its length)
_SCALAR = re.compile(rb'"([A-Za-z_][A-Za-z0-9_]*)"\s*:\s*(?:"((?:[^"\\\r\n]++|\\.)*+)"|(-?[0-9]+(?:\.[0-9]+)?))')


def _rejects_columns_moved(header: Sequence[str]) -> str | None:
    """Why a header that names a rejects file's columns (REJECTS_COLUMNS) each once, but not as its first four in
    their order, is refused: a rejects file whose columns were moved in a spreadsheet (its amount put first); read
    as no rejects file, its `file, line` would no longer say which line each row is, which guards against loading
    a line twice. None for any other header."""
    cells = [restored(cell).strip() for cell in header]
    if any(cells.count(name) != 1 for name in REJECTS_COLUMNS):
        return None
    at = ", ".join(f"{name!r} ({cells.index(name) + 1})" for name in REJECTS_COLUMNS)
    return (
        f"its header names the columns of a rejects file, {at}, but not as its first four: a rejects file whose "
        "columns were moved? Put file, line, field and reason back as its first four columns, in that order, as the "
        "run wrote them (the other columns may stay in any order), and load it again"
    )


def _scalars(line: bytes, rename: Callable[[str, str], str], upto: int = MAX_RAW) -> dict[str, str] | None:
    """The plain values a broken JSON line still shows in its first `upto` bytes, so that it can be told apart by
    its group."""
    found = {}
    for m in _SCALAR.finditer(line[:upto]):
        name = rename(m[1].decode(), m[1].decode())
        value = (_json_text(m[2]) if m[2] is not None else m[3].decode()).replace("\x00", "").strip()
        if name and value and len(value) <= MAX_RAW:  # a group key is short; a long text names no group
            found[name] = value
    return found or None


_decode_text = msgspec.json.Decoder(str).decode


def _json_text(raw: bytes) -> str:
    """What a JSON string's content says ("0005\\t" is 0005 and a tab, which the group key trims), or, if its
    escapes are broken, what it writes."""
    try:
        return _decode_text(b'"' + raw + b'"')
    except msgspec.DecodeError:
        return raw.decode(errors="replace")


def without_end(line: int) -> str:
    """The warning for a file whose last line, `line`, has no line end (Source.last_line_without_end)."""
    return (
        f"line {line}, the file's last, has no line end while every other line has one: if the file was cut short "
        "(a copy or a download), that row is wrong"
    )


def encoding_label(codec: str) -> str:
    """How a message names a codec: UTF-8 for the one that also drops a BOM."""
    return {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "utf-32": "UTF-32"}.get(codec, codec)


def codec_name(encoding: str) -> str:
    """The codec for an --encoding value; UTF-8 always drops a BOM. ConfigError for an unknown name."""
    try:
        name = codecs.lookup(encoding).name
        with contextlib.suppress(UnicodeError):  # LookupError for a codec that is not of text (rot13, base64)
            "a".encode(name)
    except LookupError:
        raise ConfigError(f"unknown encoding {encoding!r} (e.g. utf-8, utf-16, cp1252, latin-1)") from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else name


class _OpenCsv(NamedTuple):
    reader: Any  # csv reader over `lines`, the header read
    names: tuple[str, ...]
    delim: str
    lines: Iterator[str]
    #: the lines the reader took for the record being parsed; cleared after each record
    held: list[str]
    #: the end-of-file marker line, fed after the last line of the file
    eof_line: str
    #: physical lines before the header (blank lines, Excel's `sep=` line)
    before: int
    #: the lines after the header, which counts the blank lines it passes over between records
    src: _Lines


class _TooLong(Exception):
    """Raised to the csv reader by _Lines: a line over MAX_LINE_BYTES (`cut`), or a line (`text`) that takes its
    record over it."""

    def __init__(self, text: str, cut: Cut | None = None, size: int = 0) -> None:
        self.text, self.cut, self.size = text, cut, size
        self.quotes = cut.quotes if cut is not None else 0

    def shown(self, text: str) -> str:
        """The record whose lines are `text` (this one's start last) as the rejects file shows it: its start and
        its length."""
        if self.cut is None:
            return Cut(text, self.size).shown(more=True)
        before = len(text.encode(errors="replace")) - len(self.text.encode(errors="replace"))
        return Cut(text, before + self.cut.length).shown()

    def bad_row(self, start: int, at: int, end: int, text: str, names: tuple[str, ...], delim: str) -> BadRow:
        """The record of lines `start` to `end` whose line `at` went over, its lines up to there being `text`, as a
        bad row."""
        if self.cut is None:
            reason = f"lines {start}-{at} are more than the {MAX_LINE_LABEL} a record may be"
        else:
            reason = (
                self.cut.reason(at) if at == start else (f"line {start} starts a record whose {self.cut.reason(at)}")
            )
        if end > at:  # its quoted cell runs on: those lines are the record's, not rows
            reason += f" (lines {start}-{end})"
        shown = self.shown(text)
        return BadRow(start, reason, shown, _partial(_lenient(text[:MAX_RAW], delim) or [], names) or None)


#: why a record that opens a quoted cell the file never closes is no row: the whole file is refused (kind "cut")
UNCLOSED = (
    "the file ends inside a quoted cell this record opens: a closing quote is missing (or the file was cut short), "
    'and every line after it would be that cell\'s; close the quote, or write a quote inside a cell as two ("")'
)


def _csv_error(exc: csv.Error, delim: str) -> str:
    """What a csv.Error says of a record, in the user's terms: a quoted cell whose closing quote text follows (the
    csv module's "',' expected after '\"'") is named as such."""
    if str(exc).endswith("expected after '\"'"):
        return (
            f"a quoted cell's closing quote is followed by text, not by the delimiter {delim!r} or the line's end: a "
            'quote inside a quoted cell is written as two ("") — which text the cell holds cannot be told'
        )
    return str(exc)


class _Lines:
    """The lines after a CSV file's header as the csv reader takes them, then the end-of-file marker line (`tail`,
    filled once the header is read): each is put in `held`, which the caller clears after each record. A line over
    MAX_LINE_BYTES, or one that takes its record over it, is not handed over: _TooLong is raised instead (the
    reader starts afresh after it, as after a csv error), the rest of a long line passed over without being held."""

    def __init__(self, text: io.TextIOWrapper, encoding: str, held: list[str], tail: list[str]) -> None:
        self._read, self._readline = text.read, text.readline
        self._encoding, self._held, self._tail = encoding, held, tail
        self._size = 0  # characters of the record being read
        self._ahead = ""  # text read past a run of blank lines, handed out before the file's next line
        self._last = "\n"  # the last line handed out
        #: blank lines passed over between records (the reader never sees them); the caller counts and resets it
        self.blank = 0
        #: once the file's lines are all handed out: the last one that holds text, where it has no line end ("" else:
        #: also where DOS's end-of-file mark ends it, which says the file is whole)
        self.unended = ""
        self._dos_end = False  # the file's last byte was DOS's end-of-file mark, passed over

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        readline = self._readline
        if self._ahead:
            line, self._ahead = first_line(self._ahead, self._read, readline)
        else:
            line = readline(_LINE_READ)
        held = self._held
        if not held and line.isspace() and len(line) <= MAX_LINE_BYTES:
            # blank lines between records make no row: the first few passed over one by one, the rest of a long run
            # a block at a time, never a csv row each
            blank = 0
            while line.isspace() and len(line) <= MAX_LINE_BYTES:
                blank += 1
                if blank == BLANK_RUN and not self._ahead:
                    passed, self._ahead = blank_run(self._read)
                    blank += passed
                if self._ahead:
                    line, self._ahead = first_line(self._ahead, self._read, readline)
                else:
                    line = readline(_LINE_READ)
            self.blank += blank
        if line.endswith(DOS_END) and not self._ahead:
            if after := self._read(1):
                self._ahead = after
            else:  # the file's last byte: DOS's end-of-file mark (Ctrl-Z), no character of the last cell
                line, self._dos_end = line[:-1], True
        size = len(line)
        if size > MAX_LINE_BYTES and not line.endswith(("\n", "\r")):
            self._size = 0
            cut = cut_text(line, self._readline, self._encoding)
            raise _TooLong(line, cut)
        if not size:
            if not self._tail:
                raise StopIteration
            self.unended = "" if self._dos_end or self._last.endswith(("\n", "\r")) else self._last
            line = self._tail.pop()
            size = len(line)
        if held:
            size += self._size
        if size > MAX_LINE_BYTES:
            self._size = 0
            raise _TooLong(line, size=size)
        self._size = size
        self._last = line
        held.append(line)
        return line


def _skip_quoted_rest(
    held: list[str], lines: Iterator[str], delim: str, eof_line: str, encoding: str, quoted: bool | None = None
) -> tuple[int, bool, str]:
    """After a csv error in a record whose lines are `held`: if the record is still inside a quoted cell (or
    `quoted` says so), take the lines up to its end from `lines`, so they are not read as rows. Returns (lines
    taken, whether the file ended inside the cell, why the record's text is not in `encoding` or "")."""
    text = "".join(held)
    foreign = _foreign(text, encoding)
    if quoted is None:
        quoted = _ends_in_quotes(text, delim, False)
    taken = 0
    while quoted:
        held.clear()  # memory stays bounded however long the cell runs on
        try:
            line = next(lines, None)
        except _TooLong as long:  # a long line inside the cell: its quotes, counted as it was passed over, tell
            taken += 1
            quoted = _ends_in_quotes(long.text, delim, True) != bool(long.quotes % 2)
            continue
        if line is None or line is eof_line:
            return taken, True, foreign
        taken += 1
        foreign = foreign or _foreign(line, encoding)
        quoted = _ends_in_quotes(line, delim, True)
    return taken, False, foreign


def _foreign(text: str, encoding: str) -> str:
    """Why text read from the file shows the file is not in `encoding` (a byte that did not decode, a C1 control
    character), or "" when it does not."""
    if text.isascii():
        return ""
    for ch in text:
        if "\udc80" <= ch <= "\udcff":  # surrogateescape's stand-in for a byte that did not decode
            return f"invalid {encoding_label(encoding)} (byte 0x{ord(ch) - 0xDC00:02x})"
    if c1 := C1.search(text):
        return (
            f"a cell holds the control character U+{ord(c1[0]):04X}, which no text holds: the file is not "
            f"{encoding_label(encoding)} (Windows-1252 writes € and quotes there)"
        )
    return ""


def _ends_in_quotes(text: str, delim: str, quoted: bool) -> bool:
    """Whether CSV text ends inside a quoted cell, read as the csv module reads it (doubled quotes, not
    strict: a quote only opens a cell at its start); `quoted`: the text starts inside one."""
    i, n = 0, len(text)
    at_start = not quoted
    while i < n:
        if quoted:
            j = text.find('"', i)
            if j < 0:
                return True
            if text.startswith('"', j + 1):  # a doubled quote inside the cell
                i = j + 2
                continue
            quoted, at_start, i = False, False, j + 1
        elif at_start and text[i] == '"':
            quoted, i = True, i + 1
        else:
            j = text.find(delim, i)
            if j < 0:
                return False
            at_start, i = True, j + 1
    return quoted


#: Excel's first line naming the delimiter, `sep=;`, and as a spreadsheet that read it as a cell saves it again:
#: quoted, as a cell holding the delimiter is (`"sep=;"`), and padded with delimiters to the sheet's width (`sep=;;;;`)
_SEP_LINE = re.compile(r'(?i)(?P<quote>"?)sep=(?P<named>[^"\r\n])(?P=quote)(?P<rest>.*)', re.DOTALL)


def _sep_named(line: str, path: object) -> str | None:
    """The delimiter a CSV file's first `line` names where it is Excel's sep= line (after the delimiter, only the
    delimiter again), else None. ConfigError where the line is padded with another delimiter than it names: the
    spreadsheet that padded it saved the file with that one, or the line is right and the padding is not."""
    text = line.rstrip("\r\n")
    padded: tuple[str, str] | None = None  # (the delimiter named, another one it is padded with)
    for written in (text, text.strip()):  # in "sep=\t" the tab is the delimiter; a space around it is none
        if (m := _SEP_LINE.fullmatch(written)) is None:
            continue
        rest = m["rest"].replace(m["named"], "")
        if not rest:
            return m["named"]
        if not any(ch.isalnum() or ch in " \"'_-." for ch in rest):  # only what delimits: another delimiter
            padded = padded or (m["named"], rest[0])
    if padded is not None:
        named, other = padded
        raise ConfigError(
            f"{path}: its first line {text!r} is Excel's sep= line, which names {named!r} as the delimiter, but it is "
            f"padded with {other!r} (a spreadsheet that read the line as a cell and saved the file again with "
            f"{other!r}?): which delimiter the file's lines use cannot be told. Remove the line (the delimiter is then "
            f"judged from the header), or write it as sep={other} or sep={named}; nothing was sent"
        )
    return None


def _sniff_delimiter(line: str) -> str:
    """The most frequent of , ; TAB outside quotes in the header line (',' on a tie or none)."""
    counts = dict.fromkeys(",;\t", 0)
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=counts.__getitem__)  # max keeps the first of equals: ',' before ';' before TAB
    return best if counts[best] else ","


def other_delimiter(cell: str, delim: str, fits: Callable[[list[str]], bool]) -> str | None:
    """The character other than `delim` that splits `cell` (a line read whole as one cell) into cells that `fits`
    accepts (as many as the header names; names of fields), where one does: what the line's delimiter was. Tried:
    the punctuation in `cell`, quotes aside."""
    for ch in dict.fromkeys(cell):
        if ch != delim and not ch.isalnum() and ch not in " \"'_-." and fits(_lenient(cell, ch) or []):
            return ch
    return None


def _readable(text: str) -> bool:
    """Whether non-ASCII text holds no undecodable byte (a lone surrogate, which surrogateescape reads one as) and
    no C1 control character: what `_odd_csv_row` refuses a row for, so that e.g. Danish text (æ, ø, å) takes the fast
    path."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return C1.search(text) is None and _BOM not in text


def _odd_csv_row(
    start: int, row: list[str], names: tuple[str, ...], delim: str, at_eof: bool, encoding: str, first: str = ""
) -> Row | BadRow | None:
    """The slow path: wrong width, non-ASCII, a blank line, or (`at_eof`) the end-of-file marker. `first`: the
    record's first line as written ("": not known)."""
    joined = "".join(row)
    # the encoding first: an undecodable byte refuses the whole file (profile.py), whatever else the row has
    if not joined.isascii():
        try:
            joined.encode()
        except UnicodeEncodeError:  # surrogateescape turned the undecodable bytes into lone surrogates
            return BadRow(start, _undecodable_cell(row, names, encoding), _clip(_csv_text(row, delim)), kind="encoding")
    if c1 := C1.search(joined):  # no text holds one: the bytes were read in another encoding than theirs
        return BadRow(
            start,
            f"a cell holds the control character U+{ord(c1[0]):04X}, which no text holds: the "
            f"file is not {encoding_label(encoding)} (Windows-1252 writes € and quotes there)",
            _clip(_csv_text(row, delim)),
            kind="encoding",
        )
    if row[0].startswith(_BOM) and not first.startswith('"'):
        # a file's first line alone starts with one (and is read without it): below, a file was joined on (cat). One
        # inside the quotes of a first cell ("\ufeff…") is that cell's text, as any character there (a file joined
        # on starts with the mark, before any quote)
        return BadRow(
            start,
            f"{_BOM_BELOW}, and it would be read as part of the first cell. Delete the mark, or load each part as a "
            "file of its own",
            _clip(_csv_text(row, delim)),
            kind="joined",
        )
    if len(row) > len(names):
        if at_eof and row[0] == _EOF_ROW:  # a source line that only looks like the marker is a row
            return None
        # only the record the marker line ended holds the marker (a cell may hold its characters anywhere): at the
        # end of its open cell, the last cell before the empty ones the marker line adds
        for i in reversed(range(len(row)) if at_eof else ()):
            if row[i].endswith(_EOF_MARK):
                tail = '"' + row[i].removesuffix(_EOF_MARK).replace('"', '""')
                raw = _csv_text(row[:i], delim) + delim + tail if i else tail
                return BadRow(start, UNCLOSED, _clip(raw), _partial(row[:i], names), kind="cut")
        return BadRow(
            start,
            f"row has {len(row)} cells, the header has {len(names)}",
            _clip(_csv_text(row, delim)),
            _partial_unaligned(row, names),
            unaligned=True,
        )
    named = len(names) - names.count(UNNAMED)
    if len(row) == 1 < named and (other := other_delimiter(row[0], delim, lambda cells: len(cells) == named)):
        # the rows were written with another delimiter than the header: a fault of the file, not of this row
        return BadRow(
            start,
            f"the header is {delim!r}-separated, but this row is one cell holding {named} values separated by "
            f"{other!r}: the rows use another delimiter than the header. Save the file with one delimiter (the "
            f"header's {delim!r} replaced by {other!r}, or the rows written again with {delim!r})",
            _clip(_csv_text(row, delim)),
            kind="delimiter",
        )
    if len(row) < named and (sep := _SEP_LINE.fullmatch(delim.join(row).strip())) and not sep["rest"].strip(delim):
        # Excel's sep= line names the delimiter only as a file's first line: below it, files were joined
        return BadRow(
            start,
            f"Excel's sep={sep['named']} line, which names the delimiter only as a file's first line: here it is "
            "below other rows, as where two exports were joined into one file. Delete this line (and a header that "
            "follows it)",
            _clip(_csv_text(row, delim)),
            kind="joined",
        )
    if len(row) < named and joined.strip():  # a cell left out: which, and so what each value after it is, is unknown
        return BadRow(
            start,
            f"row has {len(row)} cells, the header names {named}: which is missing cannot be told",
            _clip(_csv_text(row, delim)),
            _partial_unaligned(row, names),
            unaligned=True,
        )
    if "\x00" in joined:  # no accounting value holds one; an API would store it or choke on it
        return BadRow(
            start,
            "a cell holds a NUL character",
            _clip(_csv_text(row, delim).replace("\x00", "\\0")),
            _partial([c.replace("\x00", "") for c in row], names),
        )
    rec = read_text_formulas({k: v.strip() for k, v in zip(names, row) if v and not v.isspace()})
    rec.pop("", None)
    if UNNAMED in rec:
        return _unnamed_value(start, row, names, rec.pop(UNNAMED), delim)
    return (start, rec) if rec else None


def _secrets_as_written(at: tuple[int, ...], row: list[str], names: tuple[str, ...], rec: dict[str, Any]) -> None:
    """`rec`, a CSV record's trimmed values, with the secret cells (columns `at`) as `row` writes them: a password's
    surrounding spaces are the password's own. A value read otherwise (Excel's `="…"`) is left as read."""
    for i in at:
        if i < len(row) and (name := names[i]) in rec and rec[name] == (cell := row[i]).strip():
            rec[name] = cell


def _without_marker(row: list[str]) -> list[str]:
    """The cells of a file's last record that ends inside a quoted cell, without the end-of-file marker."""
    for i in reversed(range(len(row))):
        if row[i].endswith(_EOF_MARK):
            return [*row[:i], row[i].removesuffix(_EOF_MARK)]
    return row


def _partial(cells: list[str], names: tuple[str, ...]) -> dict[str, str]:
    named = {k: v.strip() for k, v in zip(names, cells) if k and k != UNNAMED and v and not v.isspace()}
    return read_text_formulas(named)


def _lenient(text: str, delim: str) -> list[str] | None:
    """The cells of a record the strict reader refused, as the lenient one reads them (a quote after a quoted
    cell's end kept as text); None where even that fails (a cell over the field size limit)."""
    try:
        return next(csv.reader([text], delimiter=delim, strict=False), [])
    except csv.Error:
        return None


def _partial_unaligned(cells: list[str], names: tuple[str, ...]) -> dict[str, str]:
    """The cells of a row wider or narrower than the header that name the same value whether its cells are read
    from the first column on or from the last column back: where a cell was put in or left out cannot be told, so a
    value that depends on it names nothing (before: a description holding an unquoted comma shifted the order
    number's column, and the row was taken for a line of the order its date named, while its own loaded without it)."""
    n, m = len(names), len(cells)
    if m < n:  # cells a trailing delimiter adds to the header may be left out: counted back from the last named
        n = max((i + 1 for i, k in enumerate(names) if k and k != UNNAMED), default=n)
    right = _partial(cells[m - n :], names) if m >= n else _partial(cells, names[n - m : n])
    return {k: v for k, v in _partial(cells, names).items() if right.get(k) == v}


def _unnamed_value(start: int, row: list[str], names: tuple[str, ...], value: str, delim: str) -> BadRow:
    column = next(i for i, (k, v) in enumerate(zip(names, row), 1) if k == UNNAMED and v.strip())
    return BadRow(
        start,
        f"column {column} has no name in the header but holds {value!r} here: name the column in the "
        "header (or map it in [columns]), or remove the value",
        _clip(_csv_text(row, delim)),
        _partial(row, names),
        kind="unnamed",
    )


def _undecodable_cell(row: list[str], names: tuple[str, ...], encoding: str) -> str:
    what = encoding_label(encoding)
    for i, cell in enumerate(row):
        try:
            cell.encode()
        except UnicodeEncodeError as exc:
            where = repr(names[i]) if i < len(names) and names[i] not in ("", UNNAMED) else f"cell {i + 1}"
            return f"invalid {what} (byte 0x{ord(cell[exc.start]) - 0xDC00:02x}) in {where}"
    return f"invalid {what}"


def _csv_text(cells: list[str], delim: str) -> str:
    """The row written back as CSV: the original text as near as the parsed cells allow."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="").writerow(cells)
    return buf.getvalue().encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _json_reason(line: bytes, exc: Exception, encoding: str) -> tuple[str, str]:
    """The reason a JSONL line is no row, and its kind ("encoding" when the bytes are not the file's encoding)."""
    try:
        line.decode()
    except UnicodeDecodeError as bad:  # msgspec counts from the string; count from the line instead
        if encoding != "utf-8-sig":  # the line was decoded already: the lone surrogate stands for the bad byte
            text = line.decode("utf-8", "surrogateescape")
            byte = next(ord(c) - 0xDC00 for c in text if 0xDC80 <= ord(c) <= 0xDCFF)
            return f"invalid {encoding_label(encoding)} (byte 0x{byte:02x})", "encoding"
        return f"invalid UTF-8 (byte 0x{line[bad.start]:02x}) at byte {bad.start + 1}", "encoding"
    if c1 := _C1_UTF8.search(line):  # judged before the JSON, as in a line that is valid JSON
        return (
            f"a value holds the control character U+{c1[0][1]:04X}, which no text holds: the file is not "
            f"{encoding_label(encoding)}",
            "encoding",
        )
    if line.startswith(codecs.BOM_UTF8):  # the first line's is read as none: a JSON line joined on (cat)
        return f"{_BOM_BELOW}. Delete the mark, or load each part as a file of its own", "joined"
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply", ""
    # msgspec calls a whole line (its object closed) holding one "truncated": untrue, and a user looks for a cut file
    if "truncated" in str(exc) and line.rstrip()[-1:] == b"}" and (lone := _LONE_HIGH_SURROGATE.search(line)):
        escape = lone[0].lstrip(b"\\").decode()
        return (
            f"invalid JSON: \\{escape} at byte {lone.end() - 5} is half of a character (a UTF-16 surrogate without the "
            "half after it): a text cut in the middle of one, such as an emoji",
            "",
        )
    return f"invalid JSON: {exc}", ""


def _clip(raw: str) -> str:
    return raw.rstrip("\r\n")[:MAX_RAW]


def unreadable(path: str | os.PathLike[str], exc: OSError) -> ConfigError:
    """ "cannot read PATH: why", for an input that cannot be opened or looked at; for one that does not exist, with
    the file of its folder it may have meant (near_names.py): a typo is found from the message, not by listing the
    folder; for a folder, that its files are to be given."""
    if isinstance(exc, IsADirectoryError):  # a folder of exports given for its files
        folder = os.fspath(path).rstrip("/") or "/"
        return ConfigError(
            f"cannot read {path}: it is a folder: give the files in it (e.g. {folder}/*.csv); nothing was sent"
        )
    said = f"cannot read {path}: {exc.strerror or exc}"
    return ConfigError(f"{said}{did_you_mean(path)}" if isinstance(exc, FileNotFoundError) else said)


def check_regular(path: str | os.PathLike[str]) -> None:
    """Raise ConfigError when `path` is a pipe or a device: bulkload reads each input more than once, and opening
    a FIFO without a writer blocks (a missing file or a folder is left to the open, which says what it is)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise ConfigError(
            f"{path} is not a regular file (a pipe or a device): bulkload reads each input more than "
            "once, to decide how it is read and then to load it; save it to a file and load that"
        )


class Pinned(NamedTuple):
    """A file's size (bytes) and modification time (ns) as it was hashed."""

    size_bytes: int
    mtime_ns: int


def pin(path: str | os.PathLike[str]) -> Pinned:
    """The file's size and mtime now; raises ConfigError when it cannot be looked at."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise unreadable(path, exc) from exc
    return Pinned(st.st_size, st.st_mtime_ns)


def changed_message(path: object) -> str:
    return f"{path} changed while it was read (its size or modification time): is it still being written?"


class Part(NamedTuple):
    """A stretch of a file read as a file of its own: `head` (the file's own first bytes: its header), then the
    file's bytes from `start` up to `end` (bytes; `end` is where a line ends, or the file's end)."""

    head: bytes
    start: int
    end: int


class _Bounded(io.RawIOBase):
    """A file read as its `part` says (a pinned file whole: up to the size it had when it was hashed and no
    further, so rows appended while a run reads it are not loaded); where its reads end at the file's end as
    hashed, one fstat checks the file is still as hashed, else FileChanged, as for a file found shorter."""

    def __init__(self, file: io.FileIO, part: Part, pinned: Pinned | None, path: object) -> None:
        self._file, self._part, self._pinned, self._path = file, part, pinned, path
        self._head = memoryview(part.head)
        self._at = file.seek(part.start)
        self._read = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._read

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
        else:
            left = self._part.end - self._at
            n = self._file.readinto(view[:left]) if left > 0 else 0
            if not n:
                pinned = self._pinned
                st = os.fstat(self._file.fileno())
                if left or (
                    pinned is not None
                    and self._part.end == pinned.size_bytes
                    and Pinned(st.st_size, st.st_mtime_ns) != pinned
                ):
                    raise FileChanged(
                        f"{changed_message(self._path)} The run read it as it was when it started; "
                        "resume needs that same file"
                    )
                return 0
            self._at += n
        self._read += n
        return n


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes, read in blocks; the ledger uses it to know a file again."""
    check_regular(path)
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise unreadable(path, exc) from exc


def digests_of(path: str | os.PathLike[str]) -> dict[str, str]:
    """The hex SHA-256 of the file's bytes ("sha256", as `sha256_of`) and, for a gzip file, of what it holds
    ("content": its bytes decompressed, what a plain copy of it would hash to), in one read: the record of loads
    knows a file and its gzip copy as one content. A gzip file that does not decompress whole, or expands like a
    gzip bomb (lines.Expansion), has no "content" (loading it says why). Raises ConfigError when the file cannot be
    read."""
    check_regular(path)
    try:
        with open(path, "rb") as f:
            if f.peek(2)[:2] != GZIP_MAGIC:
                return {"sha256": hashlib.file_digest(f, "sha256").hexdigest()}
            read = _Hashed(f)
            content = hashlib.sha256()
            buffer = bytearray(_BUFFER)
            try:
                with gzip.GzipFile(fileobj=read, mode="rb") as gz:
                    expanded = Expansion(gz, read, path)
                    while n := expanded.readinto(buffer):
                        content.update(memoryview(buffer)[:n])
            except (*_READ_ERRORS, ExpansionRefused):
                read.rest()
                return {"sha256": read.digest.hexdigest()}
            read.rest()
            return {"sha256": read.digest.hexdigest(), "content": content.hexdigest()}
    except OSError as exc:
        raise unreadable(path, exc) from exc


class _Hashed(io.RawIOBase):
    """A binary file read for gzip whose bytes are hashed as they go by (`digest`); `rest` reads what is left."""

    def __init__(self, file: io.BufferedReader) -> None:
        self._file = file
        self.digest = hashlib.sha256()
        self._read = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._read

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer)
        self.digest.update(memoryview(buffer)[:n])
        self._read += n
        return n

    def rest(self) -> None:
        while block := self._file.read(_BUFFER):
            self.digest.update(block)
