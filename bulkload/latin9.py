"""Whether 8-bit text is Windows-1252 or ISO-8859-15 (Latin-9), judged from all of a file's bytes in one pass.

The two (and Latin-1) read every byte alike but eight: A4 A6 A8 B4 B8 BC BD BE are ``¤ ¦ ¨ ´ ¸ ¼ ½ ¾`` in
Windows-1252 and ``€ Š š Ž ž Œ œ Ÿ`` in Latin-9 (`_DIFFERING`). Bytes 80-9F, Windows-1252's ``€ “ ” – …``, are control
characters in Latin-9, which no text holds: a file holding one is Windows-1252. One holding none and A4 beside an
amount (``100 €``, ``€5``) is Latin-9, whose € that is. One holding none and only other bytes of the eight could be
either: nothing is guessed, the advice names both and shows a line read each way. The bytes are searched a block at
a time, in C; lines are counted as the reader counts them (LF, CRLF or CR ends them).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

#: the bytes Windows-1252 and Latin-9 read as different characters
_DIFFERING = b"\xa4\xa6\xa8\xb4\xb8\xbc\xbd\xbe"
_DIFFER = re.compile(b"[%s]" % _DIFFERING)
#: the characters each reads those bytes as
_READS = {codec: _DIFFERING.decode(codec) for codec in ("cp1252", "iso8859_15")}
#: Windows-1252's €, quotes, dashes and …: Latin-9's (and Latin-1's) control characters
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")
#: Latin-9's € beside an amount, with or without a space between
_EURO = re.compile(rb"[0-9] ?\xa4|\xa4 ?[0-9]")

CP1252 = "Windows-1252 (Excel on Windows)"
LATIN9 = "ISO-8859-15 (Latin-9)"


class Latin9Found(NamedTuple):
    """What a file's bytes show: `line`, the line (from 1) of the first byte the two encodings read differently, 0
    for none; `differs`, those bytes, each once, in order; `euro`, whether 0xA4 stands beside an amount; `cp1252`,
    whether a byte of 80-9F is there."""

    line: int
    differs: bytes
    euro: bool
    cp1252: bool


class Latin9Scan:
    """Fed a file's bytes a block at a time, in order; `found` says what they show."""

    def __init__(self) -> None:
        self._lines = 1  # the line the next block starts in
        self._tail = b""  # the last two bytes fed: an amount beside a € may straddle blocks, and a CRLF
        self._line = 0
        self._differs: set[int] = set()
        self._euro = False
        self._cp1252 = False

    def feed(self, block: bytes) -> None:
        """Take the next block of the file's bytes."""
        if not self._cp1252:
            self._cp1252 = _CP1252_ONLY.search(block) is not None
        if not self._euro:
            self._euro = bool(_EURO.search(self._tail + block[:2]) or _EURO.search(block))
        if len(self._differs) < len(_DIFFERING):
            self._differs.update(b for b in _DIFFERING if bytes([b]) in block)
        if not self._line:  # lines are counted only as far as the first byte read differently
            if at := _DIFFER.search(block):
                self._line = self._lines + _line_ends(self._tail, block[: at.start()])
            self._lines += _line_ends(self._tail, block)
        self._tail = (self._tail + block[-2:])[-2:]

    @property
    def settled(self) -> bool:
        """Whether the bytes fed so far settle it, whatever follows: a byte only Windows-1252 reads as text."""
        return self._cp1252

    def found(self) -> Latin9Found:
        """What the bytes fed so far show."""
        return Latin9Found(self._line, bytes(sorted(self._differs)), self._euro, self._cp1252)


def _line_ends(tail: bytes, block: bytes) -> int:
    """The line ends in `block` after the bytes `tail`: LF, CRLF or CR, a CRLF split between them counted once."""
    ends = block.count(b"\n") + block.count(b"\r") - block.count(b"\r\n")
    return ends - 1 if tail.endswith(b"\r") and block.startswith(b"\n") else ends


def advice(found: Latin9Found, line: bytes, show: Callable[[str], str]) -> str | None:
    """The advice, to follow the refusal of a file that is not UTF-8, for a file whose bytes `found` shows the two
    read differently (`line`: the bytes of line `found.line`; `show`: how a message shows its text, secrets
    masked): it looks like Latin-9 when a € stands by an amount, else it is one or the other, shown both ways.
    None where Windows-1252 stands: no byte reads differently, or one that only Windows-1252 reads as text is there."""
    if not found.differs or found.cp1252:
        return None
    as_cp1252, as_latin9 = _shown(line, "cp1252", show), _shown(line, "iso8859_15", show)
    if found.euro:
        return (
            f". The file looks like {LATIN9}: its byte 0xA4 stands beside an amount, where Latin-9 writes €, and it "
            f"holds none of the bytes Windows-1252 writes € and quotes with. Read that way, line {found.line} says "
            f"{as_latin9!r} (it says {as_cp1252!r} as Windows-1252). Give --encoding iso8859-15 (or "
            "the file's real encoding)"
        )
    hexes = " ".join(f"0x{b:02X}" for b in found.differs)
    return (
        f". The file is {CP1252} or {LATIN9}, and nothing in it tells which: its bytes {hexes} read "
        f"{' '.join(found.differs.decode('cp1252'))} in Windows-1252 but "
        f"{' '.join(found.differs.decode('iso8859_15'))} in ISO-8859-15: line {found.line} says "
        f"{as_cp1252!r} as Windows-1252 but {as_latin9!r} as ISO-8859-15. Give --encoding cp1252 if the first "
        "reading is right, or --encoding iso8859-15 if the second is"
    )


def _shown(line: bytes, codec: str, show: Callable[[str], str], width: int = 80) -> str:
    """A line read in `codec` as a message shows it: `width` characters around its first that the two encodings
    read differently."""
    text = show(line.decode(codec).strip())
    at = next((i for i, ch in enumerate(text) if ch in _READS[codec]), 0)
    start = max(0, min(at - width // 3, len(text) - width))
    return ("…" if start else "") + text[start : start + width] + ("…" if start + width < len(text) else "")
