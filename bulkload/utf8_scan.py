"""Where a file's bytes show UTF-8 and where they show another encoding, judged from all of them in one pass.

An 8-bit encoding reads any byte, so reading a file in it proves nothing about the file: its bytes do. A UTF-8
character of U+0080-U+00FF or of three or four bytes (``Ã¼`` as Windows-1252 shows ``ü``, ``â€œ`` for ``“``) is
what UTF-8 text holds and 8-bit text all but never does (`_TELLING`); a two-byte one led by C4-DF tells nothing,
since Windows-1252 writes ``ß“`` or ``Å”`` so; a byte past ASCII outside any UTF-8 character is what UTF-8 never
holds. Which comes first in the file says nothing: a file holding both mixes
encodings. The bytes are judged in blocks, in C (the UTF-8 codec), never a line at a time: about 2 ms a megabyte.
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
#: bytes a caller feeds at once: few enough calls that the work per block is nothing beside the bytes'
SCAN_BLOCK = 1 << 20


class Utf8Found(NamedTuple):
    """The lines (from 1, counted as the reader counts them: at CR LF, CR or LF; 0: none) of a file's first byte past
    ASCII, of its first UTF-8 character that tells UTF-8 from 8-bit text (`_TELLING`), and of its first byte that is
    not UTF-8 (an
    incomplete character at the very end of the file is one)."""

    past_ascii: int = 0
    utf8: int = 0
    not_utf8: int = 0


class Utf8Scan:
    """Blocks of a file's bytes fed in order (`feed`), then `found`. A character cut by the end of a block is judged
    with the next one; a file that breaks off (a read error) is judged as far as it was fed, by `found(ended=False)`."""

    def __init__(self) -> None:
        self._past_ascii = self._utf8 = self._not_utf8 = 0
        self._carry = b""  # the start of a character the block ended in
        self._lines = 0  # line ends in the bytes judged
        self._cr = False  # the bytes judged end with CR: a LF starting the next block ends no line of its own

    def feed(self, block: bytes) -> bool:
        """Judge the next bytes of the file; True once both a UTF-8 character and a byte that is not UTF-8 are found
        (the file mixes encodings: nothing more to learn)."""
        data = self._carry + block if self._carry else block
        cut = _complete(data)
        self._carry = data[cut:]
        self._judge(data[:cut] if cut < len(data) else data)
        return bool(self._utf8 and self._not_utf8)

    def found(self, ended: bool = True) -> Utf8Found:
        """What the bytes fed show; `ended`: they are the whole file, so a character left incomplete is not UTF-8."""
        if ended and self._carry:
            self._judge(self._carry)
            self._carry = b""
        return Utf8Found(self._past_ascii, self._utf8, self._not_utf8)

    def _judge(self, data: bytes) -> None:
        if not data.isascii():
            if not self._past_ascii:
                self._past_ascii = self._line(data, _PAST_ASCII.search(data).start())  # type: ignore[union-attr]
            if not self._not_utf8:
                try:
                    data.decode()
                except UnicodeDecodeError as exc:
                    self._not_utf8 = self._line(data, exc.start)
            # the codec drops what is not UTF-8 many times faster than the regex looks for a character: the regex
            # only says where the one the codec kept is
            if not self._utf8 and _TELLING_TEXT.search(data.decode("utf-8", "ignore")):
                self._utf8 = self._line(data, _TELLING.search(data).start())  # type: ignore[union-attr]
        if data:
            self._lines += _line_ends(data) - (self._cr and data.startswith(b"\n"))
            self._cr = data.endswith(b"\r")

    def _line(self, data: bytes, at: int) -> int:
        """The line of the byte at `at` of `data`, the bytes after those judged."""
        return self._lines + _line_ends(data[:at]) - (self._cr and data.startswith(b"\n")) + 1


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
