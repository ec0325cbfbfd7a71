"""Where a file's bytes show UTF-8 and where they show another encoding, judged from all of them in one pass.

An 8-bit encoding reads any byte, so reading a file in it proves nothing about the file: its bytes do. A UTF-8
character of U+0080-U+00FF or of three or four bytes (``Ã¼`` as Windows-1252 shows ``ü``, ``â€œ`` for ``“``) is
what UTF-8 text holds and 8-bit text all but never does (`_TELLING`); a two-byte one led by C4-DF tells nothing,
since Windows-1252 writes ``ß“`` or ``Å”`` so; a byte past ASCII outside any UTF-8 character is what UTF-8 never
holds. Which comes first in the file says nothing: a file holding both mixes encodings. Of the two-byte characters
that tell nothing, those of U+0600-U+07FF (Arabic, Syriac, Thaana, NKo: led by D8-DF) are what Windows-1252's
``Ø`` to ``ß`` followed by punctuation make (``Weiß–`` is ``Weiߖ``): UTF-8 bytes holding one and no telling
character read as either (`Utf8Found.either`). The bytes are judged in blocks, in C (the UTF-8 codec, and
``bytes.find`` for lead bytes where the block is UTF-8), never a line at a time: about 3 ms a megabyte of Cyrillic
text, under 1 ms of ASCII (its line ends counted).
"""

from __future__ import annotations

import re
from typing import NamedTuple

#: a UTF-8 character that tells UTF-8 from 8-bit text: U+0080-U+00FF (two bytes led by C2 or C3: `Ã¼` for `ü`,
#: what Western European text in UTF-8 holds) or one of three or four bytes (`â€œ` for `“`). A two-byte character
#: led by C4-DF (U+0100-U+07FF) tells nothing: Windows-1252 text writes those bytes as a letter followed by
#: punctuation (`ß“` in `„Fuß“`, `Å”`, `ß–`), which UTF-8 would read as an NKo or Latin Extended letter
_TELLING = re.compile(
    rb"[\xc2\xc3][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
#: the same characters, decoded
_TELLING_TEXT = re.compile("[\x80-\xff\u0800-\U0010ffff]")
_PAST_ASCII = re.compile(rb"[\x80-\xff]")
#: in bytes that are UTF-8 each of these starts a character: one that tells UTF-8 (`_TELLING`), one of U+0600-U+07FF.
#: Looked for a byte at a time (memchr), many times faster than a regex looks for a set of them
_TELLING_LEADS = tuple(bytes([b]) for b in (0xC2, 0xC3, *range(0xE0, 0xF5)))
_U0600_LEADS = tuple(bytes([b]) for b in range(0xD8, 0xE0))
#: bytes a caller feeds at once: few enough calls that the work per block is nothing beside the bytes'
SCAN_BLOCK = 1 << 20


class Utf8Found(NamedTuple):
    """The lines (from 1, counted as the reader counts them: at CR LF, CR or LF; 0: none) of a file's first byte past
    ASCII, of its first UTF-8 character that tells UTF-8 from 8-bit text (`_TELLING`), of its first byte that is
    not UTF-8 (an incomplete character at the very end of the file is one), and of its first UTF-8 character of
    U+0600-U+07FF before that byte."""

    past_ascii: int = 0
    utf8: int = 0
    not_utf8: int = 0
    u0600: int = 0

    @property
    def either(self) -> bool:
        """Whether the bytes are UTF-8 that an 8-bit encoding wrote just as well: they hold a character of
        U+0600-U+07FF (Windows-1252's `ß–`), none that tells UTF-8, and no byte that is not UTF-8."""
        return bool(self.u0600 and not self.utf8 and not self.not_utf8)


class Utf8Scan:
    """Blocks of a file's bytes fed in order (`feed`), then `found`. A character cut by the end of a block is judged
    with the next one; a file that breaks off (a read error) is judged as far as it was fed, by `found(ended=False)`."""

    def __init__(self) -> None:
        self._past_ascii = self._utf8 = self._not_utf8 = self._u0600 = 0
        self._carry = b""  # the start of a character the block ended in
        self._lines = 0  # line ends in the bytes judged
        self._cr = False  # the bytes judged end with CR: a LF starting the next block ends no line of its own

    def feed(self, block: bytes) -> Utf8Found:
        """Judge the next bytes of the file; what the bytes judged so far show (a character the block ends inside is
        judged with the next block, or by `found`): the caller stops feeding once that tells it enough."""
        data = self._carry + block if self._carry else block
        cut = _complete(data)
        self._carry = data[cut:]
        self._judge(data[:cut] if cut < len(data) else data)
        return Utf8Found(self._past_ascii, self._utf8, self._not_utf8, self._u0600)

    def found(self, ended: bool = True) -> Utf8Found:
        """What the bytes fed show; `ended`: they are the whole file, so a character left incomplete is not UTF-8."""
        if ended and self._carry:
            self._judge(self._carry)
            self._carry = b""
        return Utf8Found(self._past_ascii, self._utf8, self._not_utf8, self._u0600)

    def _judge(self, data: bytes) -> None:
        if not data.isascii():
            if not self._past_ascii:
                self._past_ascii = self._line(data, _PAST_ASCII.search(data).start())  # type: ignore[union-attr]
            utf8_so_far = not self._not_utf8
            try:
                data.decode()
                valid = len(data)  # the bytes of `data` that are UTF-8, from its start
            except UnicodeDecodeError as exc:
                valid = exc.start
                self._not_utf8 = self._not_utf8 or self._line(data, valid)
            if utf8_so_far and not self._u0600 and (at := _first(data, _U0600_LEADS, valid)) >= 0:
                self._u0600 = self._line(data, at)
            if not self._utf8:
                self._utf8 = self._telling(data, valid)
        if data:
            self._lines += _line_ends(data) - (self._cr and data.startswith(b"\n"))
            self._cr = data.endswith(b"\r")

    def _telling(self, data: bytes, valid: int) -> int:
        """The line of the first character of `data` that tells UTF-8 (0: none); `valid`: its bytes that are UTF-8."""
        if valid == len(data):  # UTF-8 throughout: each lead byte starts a character
            at = _first(data, _TELLING_LEADS, valid)
            return self._line(data, at) if at >= 0 else 0
        # the codec drops what is not UTF-8 many times faster than the regex looks for a character: the regex
        # only says where the one the codec kept is
        if _TELLING_TEXT.search(data.decode("utf-8", "ignore")):
            return self._line(data, _TELLING.search(data).start())  # type: ignore[union-attr]
        return 0

    def _line(self, data: bytes, at: int) -> int:
        """The line of the byte at `at` of `data`, the bytes after those judged."""
        return self._lines + _line_ends(data[:at]) - (self._cr and data.startswith(b"\n")) + 1


def _first(data: bytes, leads: tuple[bytes, ...], end: int) -> int:
    """Where the first of the bytes `leads` is in `data[:end]` (-1: none of them is)."""
    return min((at for lead in leads if (at := data.find(lead, 0, end)) >= 0), default=-1)


def _complete(data: bytes) -> int:
    """Where a UTF-8 character cut short by the end of `data` starts (`len(data)` where none is)."""
    for back in range(1, min(3, len(data)) + 1):
        byte = data[-back]
        if byte < 0x80:
            break
        if byte >= 0xC0:  # a lead byte: 110xxxxx two bytes, 1110xxxx three, else four
            return len(data) - back if back < (2 if byte < 0xE0 else 3 if byte < 0xF0 else 4) else len(data)
    return len(data)


def _line_ends(data: bytes) -> int:
    n = data.count(b"\n")
    return n + data.count(b"\r") - data.count(b"\r\n") if b"\r" in data else n
