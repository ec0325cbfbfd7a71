"""A big CSV file inspected in two halves side by side: this process reads the first half, the planning child (idle
until the first call) the second, and what they found is put together as one pass over the whole file finds it.

Where the halves meet must be a record boundary: a line end outside any quoted cell. The first half's own reader
proves it: a half cut inside a quoted cell ends in a bad row ("file ends inside a quoted cell"), as does a record
over the length cap. Any bad row in either half, or a row that names no group (its group is taken from rows the
other half holds), sends the file back to the one pass over it whole, and nothing the halves found is kept. The
line numbers of the second half are counted on: the physical lines before it (LF, CRLF or a lone CR, as the csv
reader counts them) less the header lines it was given to read first.

Only plain CSV files of at least SPLIT_MIN_BYTES in an encoding where every LF byte is a line end are split: not
gzip (a half cannot start in the middle of a stream), not UTF-16 (two bytes a character).
"""

from __future__ import annotations

import codecs
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from .merged_cells import MergedPart
from .sources import Part, Pinned, Source

#: files smaller than this (bytes) are read whole: the child's round trip and the merge would cost more than the
#: half of the read they save
SPLIT_MIN_BYTES = 8 << 20

#: the first half's share of the file (%): it also takes in what the second found, so it reads a little less
SHARE_HERE = 45

#: the temporary directories the second half's key runs go to (`scratch`): the prefix, then the pid of the command
#: that made one
SCRATCH_PREFIX = "bulkload-half-"

#: bytes the header is looked for in; a longer header is read whole
_HEAD_MAX = 1 << 20
#: bytes read at a time to count the lines before the second half
_BLOCK = 8 << 20
_LINE_END = re.compile(rb"\r\n|\r|\n")


class Halves(NamedTuple):
    """Where a file splits: its first half, its second (after its header's lines), and what to add to a line
    number the second half's reader counts to get the file's."""

    first: Part
    second: Part
    lines_before: int


class PartScan(msgspec.Struct, frozen=True):
    """What another process needs to read a part of a file as the inspection would: the source's settings, the
    part, the target (its kind of record), the SQLite file its runs of group keys go to (`key_runs`) and the
    --date-format given (its dates are looked at against it), if any."""

    source: dict[str, Any]
    part: Part
    pinned: Pinned | None
    target: str
    target_options: dict[str, Any]
    file_idx: int
    keys_db: str
    date_format: str | None = None


class PartScanned(msgspec.Struct, tag=True, array_like=True, frozen=True):
    """What a part held (profile.Scanned, as plain values): the rows, each kind's first example of numbers and
    dates as (line, field, text), the first and last rows' group keys and families, and whether every row was a plain
    row."""

    rows: int
    numbers: dict[str, tuple[int, str, str]]
    dates: dict[str, tuple[int, str, str]]
    first_key: str | None
    last_key: str | None
    plain: bool
    #: the first and last rows' families (regroup.family_of), where the kind names any
    first_family: str | None = None
    last_family: str | None = None
    #: the first cell of a minor-unit field written with decimals, by mark (numbers.DecimalsEvidence)
    decimals: dict[str, tuple[int, str, str]] = {}
    #: as `numbers`, of the number fields that are no amount (RecordKind.money_fields)
    other_numbers: dict[str, tuple[int, str, str]] = {}
    #: the part's last line where it has no line end (sources.Source.last_line_without_end), counted in the part
    last_line_without_end: int = 0
    #: the cells of each of its rows where the header ends in unnamed columns (sources.RowWidths.one; 0: no row)
    width: int = 0
    #: what it found of merged key cells, where the kind names such keys (RecordKind.filled_down)
    merged: MergedPart | None = None


#: given a part to read, starts the read elsewhere and returns what waits for its outcome (None: it failed)
ScanPart = Callable[[PartScan], Callable[[], PartScanned | None]]


def scratch() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for the second half's key runs, named for this process; first, those of commands
    that are gone (killed while they inspected a file: nothing else removes them) are removed."""
    if os.name == "posix":
        for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
            pid = path.name.removeprefix(SCRATCH_PREFIX).split("-", 1)[0]
            if pid.isdigit() and not _alive(int(pid)):
                shutil.rmtree(path, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's: alive
        return True
    return True


def lf_is_line_end(encoding: str) -> bool:
    """Whether every LF byte of text in `encoding` is a line end: UTF-8, or an encoding of one byte a character."""
    name = codecs.lookup(encoding).name
    if name in ("utf-8", "utf-8-sig"):
        return True
    return len(bytes(range(256)).decode(name, "replace")) == 256


def halves(source: Source, middle: int | None = None) -> Halves | None:
    """Where `source` splits in two: at the first LF from `middle` on (bytes; default: SHARE_HERE % of its size).
    None: it is read whole (small, not CSV, gzip, an encoding of more than one byte a character, no LF in its
    second half, or a header too long to find)."""
    if source.fmt != "csv" or source.compressed or not lf_is_line_end(source.encoding):
        return None
    size = source.pinned.size_bytes if source.pinned is not None else os.path.getsize(source.path)
    if size < SPLIT_MIN_BYTES:
        return None
    header_lines = source.header_lines()
    with open(source.path, "rb") as f:
        head = f.read(_HEAD_MAX)
        ends = _LINE_END.finditer(head)
        end = 0
        for _ in range(header_lines):
            found = next(ends, None)
            if found is None or found.end() == len(head):  # not in what was read, or a CR whose LF may follow
                return None
            end = found.end()
        middle = size * SHARE_HERE // 100 if middle is None else middle
        f.seek(middle)
        at = f.read(_HEAD_MAX).find(b"\n")
        if at < 0:
            return None
        split = middle + at + 1
        if split <= end or split >= size:
            return None
        f.seek(0)
        lines = _lines_in(f, split)
    head = head[:end]
    if head.endswith(b"\r"):  # a lone CR: it would end one line with an LF the second half may start with
        head += b"\n"
    return Halves(Part(b"", 0, split), Part(head, split, size), lines - header_lines)


def _lines_in(f: Any, size: int) -> int:
    """The physical lines in the first `size` bytes of `f` (ending at a line end): LF, CRLF and a lone CR each
    end one, as Python's universal newlines (the csv reader's lines) have it."""
    lines, left, cr_before = 0, size, False
    while left > 0:
        block = f.read(min(_BLOCK, left))
        if not block:
            break
        left -= len(block)
        lines += block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
        if cr_before and block.startswith(b"\n"):
            lines -= 1  # a CRLF across two blocks
        cr_before = block.endswith(b"\r")
    return lines
