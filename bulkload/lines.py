"""Reading an input file's lines in bounded memory and time, whatever the file holds.

A line is held whole only up to MAX_LINE_BYTES: a longer one comes out as a :class:`Cut` (its first bytes and its
full length), the rest passed over in blocks without being held. Runs of blank lines in a JSONL file are passed
over a buffer at a time, in C, not a line at a time. A gzip file that expands far more than any export does (a
"gzip bomb": 1 MB holding 1 GB of one byte) is refused while it is read, before anything is sent.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from .errors import ExpansionRefused

#: the longest line (one record) held whole, in bytes. No API takes a record anywhere near it: one call carries at
#: most 2 MB (e-conomic: 500 entries of a few hundred bytes each), and a record is one item of a call
MAX_LINE_BYTES = 1 << 20
#: how a message names MAX_LINE_BYTES
MAX_LINE_LABEL = "1 MiB"
#: characters of a too-long line kept to show it (the rejects file, the reason's group)
SHOWN = 2000
#: a gzip file that expands more than this many times its size is refused ...
MAX_RATIO = 100
#: ... once it has expanded this far (a small file may compress better than that and is no harm)
RATIO_AFTER_BYTES = 8 << 20
#: blank lines read one by one before the rest of their run is passed over a block at a time
BLANK_RUN = 64
_BLOCK = 1 << 16
_EOL = re.compile(r"\r\n|\r|\n")
#: how Cut.shown ends a line it shows: a text so ending holds the start of a line, not the line
_SHOWN_CUT = re.compile(r"… \[truncated, (?:more than )?\d+ bytes\]\Z")


class Cut(NamedTuple):
    """A line longer than MAX_LINE_BYTES: its first MAX_LINE_BYTES characters (or bytes) and its full length in
    bytes without the line end; `quotes`: how many double quotes the part that was passed over holds."""

    head: Any  # str or bytes, as the reader reads
    length: int
    quotes: int = 0

    def shown(self, more: bool = False) -> str:
        """The line as a message or the rejects file shows it: its start and its length, never the whole line
        (`more`: the length is what was read before it went over, not all of it)."""
        head = self.head[: SHOWN * 4].decode(errors="replace") if isinstance(self.head, bytes) else self.head
        over = "more than " if more else ""
        return f"{head[:SHOWN].rstrip(chr(13) + chr(10))}… [truncated, {over}{self.length} bytes]"

    @staticmethod
    def is_shown(text: str) -> bool:
        """Whether `text` is a line as `shown` gives it (its start and its length): not the line, so a rejects file
        holding it cannot load it back."""
        return _SHOWN_CUT.search(text) is not None

    def reason(self, line_no: int) -> str:
        return f"line {line_no} is {self.length:,} bytes, more than the {MAX_LINE_LABEL} a record may be"


#: Ctrl-Z (0x1A), which DOS programs write as a text file's last byte to mark its end: passed over there, never read
#: into the last cell or JSON line (a HaloPSA record's text stored ending in it, exit 0)
DOS_END = "\x1a"
_DOS_END_BYTE = DOS_END.encode()


def byte_lines(f: io.BufferedReader, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | Cut]]:
    """(line number, bytes) of every line of a binary file that holds something other than white space, a line
    over `limit` bytes as a Cut. Blank lines are not yielded; a run of them is passed over a buffer at a time."""
    readline, peek, read = f.readline, f.peek, f.read
    line_no = 0
    while line := readline(limit + 1):
        line_no += 1
        if len(line) > limit and not line.endswith(b"\n"):
            yield line_no, _cut_bytes(line, readline)
        elif line.endswith(_DOS_END_BYTE):  # no line end after it: the file's last byte, DOS's end-of-file mark
            if line[:-1].strip():
                yield line_no, line[:-1]
        elif not line.isspace():
            yield line_no, line
        else:  # a blank line: the blank lines after it go a buffer at a time
            while buf := peek(_BLOCK):
                blank = len(buf) - len(buf.lstrip())  # white space as isspace() sees it; lstrip() is C-fast
                end = buf.rfind(b"\n", 0, blank) + 1  # the white space of the next line that holds text stays
                if not end:
                    break
                line_no += buf.count(b"\n", 0, end)
                read(end)
                if end < len(buf):
                    break


def _cut_bytes(head: bytes, readline: Any) -> Cut:
    length = len(head)
    while part := readline(_BLOCK):
        length += len(part)
        if part.endswith(b"\n"):
            length -= 2 if part.endswith(b"\r\n") else 1
            break
    return Cut(head, length)


def text_line(readline: Any, encoding: str, limit: int = MAX_LINE_BYTES) -> str | Cut:
    """The next line of a text file ("" at its end), or a Cut when it is longer than `limit` characters."""
    line: str = readline(limit + 1)
    if line.endswith(DOS_END) and len(line) <= limit:  # no line end after it: the file's end, DOS's end-of-file mark
        return line[:-1]
    return line if len(line) <= limit or line.endswith(("\n", "\r")) else cut_text(line, readline, encoding)


def cut_text(head: str, readline: Any, encoding: str) -> Cut:
    """The Cut of a text line whose first `head` characters were read: the rest is passed over a block at a time,
    its length counted in the file's bytes and its double quotes counted."""
    codec = {"utf-8-sig": "utf-8", "utf-16": "utf-16-le", "utf-32": "utf-32-le"}.get(encoding, encoding)
    length = len(head.encode(codec, "surrogateescape"))
    quotes = 0
    while part := readline(_BLOCK):
        end = part.endswith(("\n", "\r"))
        part = part.rstrip("\r\n") if end else part
        length += len(part.encode(codec, "surrogateescape"))
        quotes += part.count('"')
        if end:
            break
    return Cut(head, length, quotes)


def blank_run(read: Callable[[int], str]) -> tuple[int, str]:
    """Pass over a text file's blank lines a block at a time: (line ends passed over, the text read past them: the
    start of the next line that holds something, "" at the end of the file). Line ends are counted as
    TextIOWrapper(newline="") splits lines: at \\r\\n, \\r or \\n."""
    passed, carry = 0, ""
    while block := read(_BLOCK):
        block = carry + block
        rest = block.lstrip()  # white space as isspace() sees it (a blank line is one that isspace()); C-fast
        if rest:  # the run ends in this block: what follows its last line end starts the next line
            head = block[: len(block) - len(rest)]
            end = max(head.rfind("\n"), head.rfind("\r")) + 1
            return passed + _line_ends(head[:end]), block[end:]
        end = max(block.rfind("\n"), block.rfind("\r")) + 1
        if block[end - 1 : end] == "\r":  # may be the first half of a \r\n in the next block
            end -= 1
        passed += _line_ends(block[:end])
        carry = block[end:]
        if len(carry) > _BLOCK:  # a line of nothing but spaces: read as any line (and cut if it is too long)
            break
    return passed, carry


def _line_ends(text: str) -> int:
    n = text.count("\n")
    return n + text.count("\r") - text.count("\r\n") if "\r" in text else n


def first_line(
    ahead: str, read: Callable[[int], str], readline: Callable[[int], str], limit: int = MAX_LINE_BYTES
) -> tuple[str, str]:
    """The first line of `ahead` (text read ahead of the file's position), completed from the file where it goes on
    past it (up to `limit` + 1 characters, as readline reads), and what is left of `ahead`."""
    end = _EOL.search(ahead)
    if end is not None and (end.end() < len(ahead) or end[0] != "\r"):
        return ahead[: end.end()], ahead[end.end() :]
    if end is not None:  # `ahead` ends with a \r: a \n may follow in the file
        after = read(1)
        return (ahead + after, "") if after == "\n" else (ahead, after)
    return ahead + readline(limit + 1 - len(ahead)), ""


class Expansion(io.RawIOBase):
    """A gzip stream as raw reads that hand over whatever is decompressed (GzipFile.readinto fills the whole
    buffer, so a stream cut short raised with up to a buffer of complete rows before the cut still unread), and
    that refuse a stream expanding more than MAX_RATIO times the compressed bytes read so far."""

    def __init__(self, gz: Any, compressed: Any, path: object) -> None:
        self._gz, self._compressed, self._path = gz, compressed, path
        self._expanded = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n: int = self._gz.readinto1(buffer)
        self._expanded += n
        if self._expanded > RATIO_AFTER_BYTES and self._expanded > MAX_RATIO * (read := self._compressed.tell()):
            raise ExpansionRefused(
                f"{self._path}: {read:,} bytes of gzip expand to more than {self._expanded:,}, over {MAX_RATIO} "
                "times their size: no export compresses so well; this looks like a gzip bomb. Nothing was sent. "
                "If the file is what you meant, decompress it and load the plain file"
            )
        return n
