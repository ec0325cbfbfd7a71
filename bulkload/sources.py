"""Streaming readers for the input files: CSV or JSONL, plain or gzip, one row at a time.

A row comes out as ``(line_no, {field: value})``; a row that cannot become a dict comes out as a
:class:`BadRow` for the rejects file, and reading goes on. Memory stays constant whatever the file size.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import msgspec

from bulkload.errors import ConfigError, SourceError

MAX_RAW = 2000
_BUFFER = 1 << 16
_BOM = b"\xef\xbb\xbf"
_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Fed to the csv parser after the last line, so a file ending inside a quoted cell costs no per-row check:
# the marker then lands at the end of that cell and the row gets too many cells (the slow path sees it);
# after a complete last row it parses as a row of its own that starts with _EOF_ROW.
_EOF_MARK = "\ue000\uf8ff\ue000"
_EOF_ROW = _EOF_MARK + '"'
_READ_ERRORS = (EOFError, OSError, zlib.error)  # truncated or corrupt gzip, I/O errors mid-file
_JSON_NAMES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}
_decode_json = msgspec.json.Decoder().decode


class BadRow(NamedTuple):
    """A row that cannot even become a dict; it goes to the rejects file with its original text."""

    line_no: int
    reason: str
    raw: str


Row = tuple[int, dict[str, Any]]


class Source:
    """One input file, opened lazily; iterate it (again and again) for rows and bad rows."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        delimiter: str | None = None,
        columns: Mapping[str, str] | None = None,
        fmt: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.columns = dict(columns or {})
        name = self.path.name.lower().removesuffix(".gz")
        self._fmt = fmt.lower() if fmt else _SUFFIXES.get(os.path.splitext(name)[1])
        if self._fmt not in (None, "csv", "jsonl"):
            raise ConfigError(f"{self.path}: unknown format {fmt!r} (use csv or jsonl)")
        if delimiter in ("\\t", "tab"):  # what a shell flag delivers for a tab
            delimiter = "\t"
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n' + _EOF_MARK):
            raise ConfigError(
                f"{self.path}: the delimiter must be one character other than a quote, got {delimiter!r}"
            )
        self._delimiter = "\t" if delimiter is None and name.endswith(".tsv") else delimiter
        self._compressed: bool | None = None
        self._fields: list[str] | None = None

    @property
    def fmt(self) -> str:
        """``"csv"`` or ``"jsonl"``: as given, else from the name, else from the first non-blank byte."""
        if self._fmt is None:
            self._probe()
        assert self._fmt is not None
        return self._fmt

    @property
    def compressed(self) -> bool:
        """Whether the file is gzip, judged by its magic bytes (a name can lie)."""
        if self._compressed is None:
            self._probe()
        return bool(self._compressed)

    def fields(self) -> list[str] | None:
        """The CSV header after mapping (dropped columns left out); None for JSONL."""
        if self.fmt != "csv":
            return None
        if self._fields is None:
            with self._open_csv() as opened:
                names = opened.names
                self._fields = [n for n in names if n]
        return list(self._fields)

    def __iter__(self) -> Iterator[Row | BadRow]:
        return self._iter_csv() if self.fmt == "csv" else self._iter_jsonl()

    def _broken(self, line_no: int, exc: BaseException) -> SourceError:
        return SourceError(f"{self.path}: cannot read past line {line_no}: {exc or type(exc).__name__}")

    @contextmanager
    def _binary(self) -> Iterator[BinaryIO]:
        with ExitStack() as stack:
            try:
                raw = stack.enter_context(io.BufferedReader(io.FileIO(self.path, "rb"), _BUFFER))
                self._compressed = raw.peek(2)[:2] == b"\x1f\x8b"
            except OSError as exc:
                raise ConfigError(f"cannot read {self.path}: {exc.strerror or exc}") from exc
            if not self._compressed:
                yield raw
                return
            gz = stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))
            # GzipFile.readline is Python code; a C buffer on top keeps per-line reads in C.
            yield stack.enter_context(io.BufferedReader(_Read1(gz), _BUFFER))

    def _probe(self) -> None:
        with self._binary() as f:
            if self._fmt is not None:
                return
            self._fmt = "csv"
            try:
                while chunk := f.read(_BUFFER):
                    if head := chunk.lstrip(b" \t\r\n" + _BOM):  # BOM bytes as a set: fine for this test
                        self._fmt = "jsonl" if head.startswith(b"{") else "csv"
                        break
            except _READ_ERRORS as exc:
                raise self._broken(0, exc) from exc

    @contextmanager
    def _open_csv(self) -> Iterator[_OpenCsv]:
        """Yield the csv reader with the header read, the mapped header ("" for dropped columns) and the rest."""
        with (
            self._binary() as raw,
            io.TextIOWrapper(raw, encoding="utf-8-sig", errors="surrogateescape", newline="") as text,
        ):
            first: list[str] = []
            try:  # the delimiter is judged from the header line, so read that far by hand
                while line := text.readline():
                    first.append(line)
                    if not line.isspace():
                        break
                if not first or first[-1].isspace():
                    raise ConfigError(f"{self.path}: the file is empty (no header row)")
                delim = self._delimiter or _sniff_delimiter(first[-1])
                tail: list[str] = []  # chain() reads it only at the end, after the header length is known
                held: list[str] = []  # the lines of the record being parsed (see _iter_csv)
                lines = chain(first, _holding(chain(text, tail), held))
                reader = csv.reader(lines, delimiter=delim, strict=False)
                header: list[str] = []
                for header in reader:  # noqa: B007 - the last row read is the header; blank lines come first
                    if reader.line_num >= len(first):
                        break
            except csv.Error as exc:
                raise ConfigError(f"{self.path}: cannot parse the header: {exc}") from exc
            except _READ_ERRORS as exc:
                raise self._broken(0, exc) from exc
            names = self._header_names(header)
            tail.append(_EOF_ROW + delim * len(names) + "\n")
            held.clear()
            yield _OpenCsv(reader, names, delim, lines, held, tail[0])

    def _header_names(self, header: list[str]) -> tuple[str, ...]:
        try:
            "".join(header).encode()
        except UnicodeEncodeError:
            raise ConfigError(f"{self.path}: the header is not valid UTF-8") from None
        names: list[str] = []
        for i, cell in enumerate(header, 1):
            source = cell.strip()
            if not source:
                raise ConfigError(f"{self.path}: column {i} of the header has no name")
            name = self.columns.get(source, source)
            if name and name in names:
                raise ConfigError(f"{self.path}: column {name!r} appears twice in the header (column {i})")
            names.append(name)
        return tuple(names)

    def _iter_csv(self) -> Iterator[Row | BadRow]:
        with self._open_csv() as (reader, names, delim, lines, held, eof_line):
            n = len(names)
            drop = "" in names
            skipped = 0  # lines passed over after a csv error, which reader.line_num does not count
            prev = reader.line_num  # the line the previous record ended on; the next starts after it
            while True:
                try:
                    for row in reader:
                        start = prev + 1
                        prev = reader.line_num + skipped
                        # Fast path: right width, ASCII (so no undecodable bytes), no NUL; else the slow path.
                        if len(row) == n and (joined := "".join(row)).isascii() and "\x00" not in joined:
                            rec = {k: v for k, v in zip(names, row) if v and not v.isspace()}
                            if drop:
                                rec.pop("", None)
                            if rec:
                                yield start, rec
                        elif item := _odd_csv_row(start, row, names, delim, bool(held) and held[-1] is eof_line):
                            yield item
                        held.clear()
                except csv.Error as exc:  # e.g. a cell over the field size limit; the reader can go on
                    # The reader drops the rest of the line it failed on and starts a record on the next
                    # one; a record still inside a quoted cell would have its remainder read as rows.
                    start = prev + 1
                    more, at_eof = _skip_quoted_rest(held, lines, delim, eof_line)
                    skipped += more
                    prev = reader.line_num + skipped
                    held.clear()
                    end = "; the file ends inside this quoted cell" if at_eof else ""
                    yield BadRow(start, f"{exc} (lines {start}-{prev}){end}", "")
                    continue
                except _READ_ERRORS as exc:
                    raise self._broken(prev, exc) from exc
                return

    def _iter_jsonl(self) -> Iterator[Row | BadRow]:
        rename: Callable[[str, str], str] | None = self.columns.get if self.columns else None
        ln = 0
        with self._binary() as f:
            try:
                for ln, line in enumerate(chain([f.readline().removeprefix(_BOM)], f), 1):
                    try:
                        obj = _decode_json(line)
                    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
                        if line.strip():  # b"" (an empty file, or only a BOM) is no row either
                            yield BadRow(ln, _json_reason(line, exc), _clip(line.decode(errors="replace")))
                        continue
                    if type(obj) is not dict:
                        kind = "null" if obj is None else _JSON_NAMES.get(type(obj), type(obj).__name__)
                        yield BadRow(ln, f"expected a JSON object, got {kind}", _clip(line.decode()))
                    elif b"\\u0000" in line:  # an escaped NUL: no accounting value holds one
                        yield BadRow(ln, "a value holds a NUL character", _clip(line.decode()))
                    elif rename:  # null means absent (the APIs refuse null), here and below
                        rec = {rename(k, k): v for k, v in obj.items() if v is not None}
                        rec.pop("", None)
                        yield ln, rec
                    elif None in obj.values():
                        yield ln, {k: v for k, v in obj.items() if v is not None}
                    else:
                        yield ln, obj
            except _READ_ERRORS as exc:
                raise self._broken(ln, exc) from exc


class _Read1(io.RawIOBase):
    """A gzip stream as raw reads that hand over whatever is decompressed. GzipFile.readinto fills the whole
    buffer, so a stream cut short raised with up to a buffer of complete rows before the cut still unread."""

    def __init__(self, gz: gzip.GzipFile) -> None:
        self._gz = gz

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._gz.readinto1(buffer)


class _OpenCsv(NamedTuple):
    reader: Any  # csv reader over `lines`, the header read
    names: tuple[str, ...]
    delim: str
    lines: Iterator[str]
    #: the lines the reader took for the record being parsed; cleared after each record
    held: list[str]
    #: the end-of-file marker line, fed after the last line of the file
    eof_line: str


def _holding(lines: Iterator[str], held: list[str]) -> Iterator[str]:
    for line in lines:
        held.append(line)
        yield line


def _skip_quoted_rest(held: list[str], lines: Iterator[str], delim: str, eof_line: str) -> tuple[int, bool]:
    """After a csv error in a record whose lines are `held`: if the record is still inside a quoted cell, take
    the lines up to its end from `lines`, so they are not read as rows. Returns (lines taken, whether the
    file ended inside the cell)."""
    quoted = _ends_in_quotes("".join(held), delim, False)
    taken = 0
    while quoted:
        held.clear()  # memory stays bounded however long the cell runs on
        line = next(lines, None)
        if line is None or line is eof_line:
            return taken, True
        taken += 1
        quoted = _ends_in_quotes(line, delim, True)
    return taken, False


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


def _odd_csv_row(
    start: int, row: list[str], names: tuple[str, ...], delim: str, at_eof: bool
) -> Row | BadRow | None:
    """The slow path: wrong width, non-ASCII, a blank line, or (`at_eof`) the end-of-file marker."""
    if len(row) > len(names):
        if at_eof and row[0] == _EOF_ROW:  # a source line that only looks like the marker is a row
            return None
        for i, cell in enumerate(row):
            if cell.endswith(_EOF_MARK):
                tail = '"' + cell.removesuffix(_EOF_MARK).replace('"', '""')
                raw = _csv_text(row[:i], delim) + delim + tail if i else tail
                return BadRow(start, "file ends inside a quoted cell", _clip(raw))
        return BadRow(
            start, f"row has {len(row)} cells, the header has {len(names)}", _clip(_csv_text(row, delim))
        )
    joined = "".join(row)
    if not joined.isascii():
        try:
            joined.encode()
        except UnicodeEncodeError:  # surrogateescape turned the undecodable bytes into lone surrogates
            return BadRow(start, _bad_utf8(row, names), _clip(_csv_text(row, delim)))
    if "\x00" in joined:  # no accounting value holds one; an API would store it or choke on it
        return BadRow(start, "a cell holds a NUL character", _clip(_csv_text(row, delim).replace("\x00", "\\0")))
    rec = {k: v for k, v in zip(names, row) if v and not v.isspace()}
    rec.pop("", None)
    return (start, rec) if rec else None


def _bad_utf8(row: list[str], names: tuple[str, ...]) -> str:
    for i, cell in enumerate(row):
        try:
            cell.encode()
        except UnicodeEncodeError as exc:
            where = repr(names[i]) if names[i] else f"cell {i + 1}"
            return f"invalid UTF-8 (byte 0x{ord(cell[exc.start]) - 0xDC00:02x}) in {where}"
    return "invalid UTF-8"


def _csv_text(cells: list[str], delim: str) -> str:
    """The row written back as CSV: the original text as near as the parsed cells allow."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, lineterminator="").writerow(cells)
    return buf.getvalue().encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _json_reason(line: bytes, exc: Exception) -> str:
    try:
        line.decode()
    except UnicodeDecodeError as bad:  # msgspec counts from the string; count from the line instead
        return f"invalid UTF-8 (byte 0x{line[bad.start]:02x}) at byte {bad.start + 1}"
    if isinstance(exc, RecursionError):
        return "invalid JSON: nested too deeply"
    return f"invalid JSON: {exc}"


def _clip(raw: str) -> str:
    return raw.rstrip("\r\n")[:MAX_RAW]


def sha256_of(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of the file's bytes, read in blocks; the ledger uses it to know a file again."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
