"""Where a file's bytes show UTF-8 and where they show another encoding, judged from all of them in one pass.

An 8-bit encoding reads any byte, so reading a file in it proves nothing about the file: its bytes do. UTF-8 text
holds what 8-bit text all but never does: a character of U+0080-U+00FF or of three or four bytes (`_TELLING`:
``Ã¼`` as Windows-1252 shows ``ü``, ``â€œ`` for ``“``), or two characters of two bytes led by C4-DF back to back
(`_RUN_KINDS`), as the letters of a Cyrillic, Greek, Hebrew or Arabic word are (``ÐœÐ¾`` for ``Мо``), or a letter of
Latin Extended-A before an ASCII letter where Windows-1252 would read punctuation between letters (`_SIGN_AFTER`:
``OpÅ‚ata`` for ``Opłata``). One such character alone tells nothing, since Windows-1252 writes a letter followed by
punctuation so (``ß“``, ``Å”``); a byte past ASCII outside any UTF-8 character is what UTF-8 never holds. Which
comes first in the file says nothing: a file holding both mixes encodings. Some lone two-byte characters are what
Windows-1252 writes and UTF-8 text all but never holds (`_LONE`: ``ß–`` is ``ߖ``, ``CAFÉ…`` is ``CAFɅ``, ``PÅ…``
ending a word is ``PŅ``): UTF-8 bytes holding one before anything that tells read as either (`Utf8Found.either`).

The bytes are judged in blocks, in C, never a line at a time: the UTF-8 codec, ``bytes.find`` for lead bytes and
for sequences of kinds of bytes (``bytes.translate``). Judged whole, a megabyte of ASCII takes about 1.5 ms (its line
ends counted), of Cyrillic 3 ms, of Croatian letters that tell nothing (Š Č Đ alone, searched for runs to the end)
4 ms, of Windows-1252 7 ms. A block is searched with the character or letter the block before ended in, which a
character at its start may make a run with or stand beside.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from typing import NamedTuple

#: a UTF-8 character that tells UTF-8 from 8-bit text: U+0080-U+00FF (two bytes led by C2 or C3: `Ã¼` for `ü`,
#: what Western European text in UTF-8 holds) or one of three or four bytes (`â€œ` for `“`)
_TELLING = re.compile(
    rb"[\xc2\xc3][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}|\xed[\x80-\x9f][\x80-\xbf]"
    rb"|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)
#: the same characters, decoded
_TELLING_TEXT = re.compile("[\x80-\xff\u0800-\U0010ffff]")
_PAST_ASCII = re.compile(rb"[\x80-\xff]")
#: in bytes that are UTF-8 each of these starts a character that tells UTF-8 (`_TELLING`). Looked for a byte at a
#: time (memchr), many times faster than a regex looks for a set of them
_TELLING_LEADS = tuple(bytes([b]) for b in (0xC2, 0xC3, *range(0xE0, 0xF5)))


def _kinds(**kinds: bytes) -> bytes:
    """A table for bytes.translate writing each byte as the letter of the kind it is in (`c=b"\x80\x81"`), else `.`:
    bytes.find then looks for a sequence of kinds in C, where a regex looking for sets of bytes tries each byte."""
    table = bytearray(b"." * 256)
    for kind, members in kinds.items():
        for byte in members:
            table[byte] = ord(kind)
    return bytes(table)


_CONTINUATION = bytes(range(0x80, 0xC0))
#: as kinds, two two-byte characters led by C4-DF back to back are `LcLc`. They tell UTF-8: the letters of a word
#: of Cyrillic, Greek, Hebrew or Arabic are so (`Мо` is D0 9C D0 BE), where Windows-1252 would need letter,
#: punctuation, letter, punctuation with nothing between (`ÐœÐ¾`)
_RUN_KINDS = _kinds(L=bytes(range(0xC4, 0xE0)), c=_CONTINUATION)
#: the second bytes of a Latin Extended-A letter (U+0100-U+017F, led by C4 or C5: Windows-1252's Ä and Å) that
#: Windows-1252 reads as punctuation or a sign (`ł` C5 82 is `Å‚`, `ę` C4 99 `Ä™`, `ż` C5 BC `Å¼`) other than those
#: that stand between two letters in its text: apostrophes (’ ‘ ´), dashes, the middle dot. Where such a letter has
#: an ASCII letter after it, UTF-8 reads letters (`Opłata`, `będzie`), Windows-1252 punctuation between letters
#: (`OpÅ‚ata`, `bÄ™dzie`), as its text all but never is: the UTF-8 tells. A letter whose second byte Windows-1252
#: reads as a letter (`Č` C4 8C is `ÄŒ`) or not at all (`č` C4 8D), or as a space (`Š` C5 A0), tells nothing
_SIGN_AFTER = bytes(
    b
    for b in _CONTINUATION
    if (ch := bytes([b]).decode("cp1252", "ignore")) and unicodedata.category(ch)[0] in "PSN" and ch not in "’‘´–—·"
)
_LETTER_SIGN_LETTER = _kinds(E=b"\xc4\xc5", p=_SIGN_AFTER, a=string.ascii_letters.encode())
#: the second bytes of the Latin Extended-A letters that read both ways where no letter follows them: Windows-1252's
#: punctuation that ends a word (… ” »), after an Ä or Å ending one (`PÅ…` is `PŅ`, `YHTEENSÄ…` `YHTEENSą`). Its ’
#: (C5 92, `Å’` is `Œ`; C4 92, `Ä’` is `Ē`) reads both ways wherever it is: an apostrophe has letters on both sides
#: (`SKÅ’S`). The others, where a word ends in UTF-8 (Polish `się`, `być`, `już`, Czech `obě`), are what no
#: Windows-1252 text writes after a letter (™ ‡ ¼ ›), and tell nothing
_ENDS_WORD = b"\x85\x94\xbb"
_APOSTROPHE = b"\x92"
#: as kinds, a letter of `_ENDS_WORD` before an ASCII character that is no letter is `Ewn`, one of `_APOSTROPHE` `Eq`
_LATIN_A_KINDS = _kinds(
    E=b"\xc4\xc5", w=_ENDS_WORD, q=_APOSTROPHE, n=bytes(b for b in range(0x80) if not chr(b).isalpha())
)
#: the letters of U+0180-U+02FF that languages write in Latin letters and Windows-1252 cannot write, since it has no
#: character for their second byte (8D, 8F, 90): Azerbaijani Ə (C6 8F) and pinyin's Ǎ Ǐ ǐ. The others Windows-1252
#: writes for an accented capital followed by punctuation or a sign (`NESCAFÉ™` is UTF-8's `NESCAFə`, `È™` `ș`, `È›`
#: `ț`, `Æ’` `ƒ`, `Æ°` `ư`, `Ê»` `ʻ`), while a file of the language in UTF-8 almost always holds a letter that tells
#: UTF-8 anyway (Azerbaijani ç ö ü, Romanian â î, Vietnamese tone marks of three bytes, pinyin á à é): read alone,
#: they read both ways. So do the letters of Hausa, Akan, Ewe or Lingala (ɓ ɔ ɖ ɗ ɛ: C9 93-9B, É followed by a
#: quotation mark, a dash or `›`) and the Croatian digraphs Ǆ-ǌ, which Croatian text writes as two letters
_LATIN_WRITTEN = frozenset(ch.encode() for ch in "ƏǍǏǐ")
_LONE_KINDS = _kinds(
    a=string.ascii_letters.encode(),
    A=bytes(range(0xD8, 0xE0)),
    X=bytes(range(0xC6, 0xCC)),
    g=b"\xcd",
    G=bytes(range(0xCE, 0xD8)),
    c=_CONTINUATION,
)
#: the two-byte characters that Windows-1252 writes for a letter followed by punctuation and that UTF-8 text holds
#: alone all but never: (kinds in `_LONE_KINDS`, where the character starts in them, what else its bytes must be)
#: for one of U+0600-U+07FF (Arabic, Syriac, Thaana, NKo: `ß–` is `ߖ`); one of U+0180-U+02FF (Latin Extended-B,
#: IPA, spacing modifiers: `É…` is `Ʌ`) other than `_LATIN_WRITTEN`; one of U+0370-U+05FF (Greek, Cyrillic,
#: Armenian, Hebrew: CD B0 to D7 BF) beside an ASCII letter (`AÑ”` is `Aє`). And, by their own kinds
#: (`_LATIN_A_KINDS`), one of U+0100-U+017F (Latin Extended-A) of `_ENDS_WORD` before an ASCII character that is no
#: letter (the end of the file is one too: `Utf8Scan.found`), or of `_APOSTROPHE`
_LONE: tuple[tuple[bytes, int, Callable[[bytes], bool] | None], ...] = (
    (b"Ac", 0, None),
    (b"Xc", 0, lambda two: two not in _LATIN_WRITTEN),
    (b"aGc", 1, None),
    (b"Gca", 0, None),
    (b"agc", 1, lambda two: two[1] >= 0xB0),
    (b"gca", 0, lambda two: two[1] >= 0xB0),
)
#: the lead bytes of the characters of `_LONE`, looked for one at a time (memchr) before its kinds are
_LONE_LEADS = tuple(bytes([b]) for b in (0xC4, 0xC5, *range(0xC6, 0xCC), *range(0xCD, 0xE0)))
#: bytes a caller feeds at once: few enough calls that the work per block is nothing beside the bytes'
SCAN_BLOCK = 1 << 20


class Utf8Found(NamedTuple):
    """The lines (from 1, counted as the reader counts them: at CR LF, CR or LF; 0: none) of a file's first byte past
    ASCII, of its first UTF-8 that tells UTF-8 from 8-bit text (a `_TELLING` character, a run, `_RUN_KINDS`, or a
    Latin Extended-A letter before a letter, `_SIGN_AFTER`), of its first byte that is not UTF-8 (an incomplete
    character at the very end of the file is one), and of its first character that reads both ways (`_LONE`) before
    both of those."""

    past_ascii: int = 0
    utf8: int = 0
    not_utf8: int = 0
    both_ways: int = 0

    @property
    def either(self) -> bool:
        """Whether the bytes are UTF-8 that an 8-bit encoding wrote just as well: they hold a character that reads both
        ways (Windows-1252's `ß–`, `É…`), nothing that tells UTF-8, and no byte that is not UTF-8."""
        return bool(self.both_ways and not self.utf8 and not self.not_utf8)


class Utf8Scan:
    """Blocks of a file's bytes fed in order (`feed`), then `found`. A character cut by the end of a block is judged
    with the next one; a file that breaks off (a read error) is judged as far as it was fed, by `found(ended=False)`."""

    def __init__(self) -> None:
        self._past_ascii = self._utf8 = self._not_utf8 = self._both_ways = 0
        self._carry = b""  # the start of a character the block ended in
        self._tail = b""  # what the bytes judged end in that the next character may make a run with or stand beside
        self._lone_last = False  # the character found to read both ways ends the bytes judged: a run may start there
        self._lines = 0  # line ends in the bytes judged
        self._cr = False  # the bytes judged end with CR: a LF starting the next block ends no line of its own

    def feed(self, block: bytes) -> Utf8Found:
        """Judge the next bytes of the file; what the bytes judged so far show (a character the block ends inside is
        judged with the next block, or by `found`): the caller stops feeding once that tells it enough."""
        data = self._carry + block if self._carry else block
        cut = _complete(data)
        self._carry = data[cut:]
        self._judge(data[:cut] if cut < len(data) else data)
        return Utf8Found(self._past_ascii, self._utf8, self._not_utf8, self._both_ways)

    def found(self, ended: bool = True) -> Utf8Found:
        """What the bytes fed show; `ended`: they are the whole file, so a character left incomplete is not UTF-8."""
        if ended and self._carry:
            self._judge(self._carry)
            self._carry = b""
        if ended and not (self._utf8 or self._not_utf8 or self._both_ways) and _lone(self._tail + b"\n", 3) == 0:
            self._both_ways = self._lines + 1  # the file's last character, whose word the end of the file ends
        return Utf8Found(self._past_ascii, self._utf8, self._not_utf8, self._both_ways)

    def _judge(self, data: bytes) -> None:
        if not data:
            return
        if not (data.isascii() and self._tail.isascii()):
            self._judge_past_ascii(data)
        self._tail = _neighbour(data)
        self._lines += _line_ends(data) - (self._cr and data.startswith(b"\n"))
        self._cr = data.endswith(b"\r")

    def _judge_past_ascii(self, data: bytes) -> None:
        # across the seam with the bytes judged before, a run may start in their last character, a character stand
        # beside their last letter, or their last character stand beside a letter: positions there are negative
        seam, back = self._tail + data[:3], len(self._tail)
        if not self._past_ascii and not data.isascii():
            self._past_ascii = self._line(data, _PAST_ASCII.search(data).start())  # type: ignore[union-attr]
        open_ = not (self._not_utf8 or self._utf8 or self._both_ways)  # a character may yet read both ways
        try:
            data.decode()
            valid = len(data)  # the bytes of `data` that are UTF-8, from its start
        except UnicodeDecodeError as exc:
            valid = exc.start
            self._not_utf8 = self._not_utf8 or self._line(data, valid)
        telling = len(data)
        if not self._utf8:
            telling = -back if _tells_at(seam) == 0 else _telling(data, valid)
            if telling < len(data):
                self._utf8 = self._line(data, max(telling, 0))
            if telling < 0 and self._lone_last:  # the character found alone starts a run with the next one
                self._both_ways = 0
        self._lone_last = False
        if open_ and (end := min(valid, telling)) > -back:
            at = _lone(seam, min(back + end, len(seam)))
            lone = at - back if at >= 0 else _lone(data, max(end, 0))
            if at >= 0 or lone >= 0:
                self._both_ways = self._line(data, max(lone, 0))
                self._lone_last = lone + 2 == len(data)

    def _line(self, data: bytes, at: int) -> int:
        """The line of the byte at `at` of `data`, the bytes after those judged."""
        return self._lines + _line_ends(data[:at]) - (self._cr and data.startswith(b"\n")) + 1


def _first(data: bytes, leads: tuple[bytes, ...], end: int) -> int:
    """Where the first of the bytes `leads` is in `data[:end]` (-1: none of them is)."""
    return min((at for lead in leads if (at := data.find(lead, 0, end)) >= 0), default=-1)


def _telling(data: bytes, valid: int) -> int:
    """Where the first UTF-8 that tells UTF-8 starts in `data` (`len(data)`: nowhere); `valid`: its bytes that are
    UTF-8, from its start."""
    if valid == len(data):  # UTF-8 throughout: each lead byte starts a character
        at = _first(data, _TELLING_LEADS, valid)
        end = at if at >= 0 else len(data)
    elif _TELLING_TEXT.search(data.decode("utf-8", "ignore")):
        # the codec drops what is not UTF-8 many times faster than the regex looks for a character: the regex
        # only says where the one the codec kept is
        end = _TELLING.search(data).start()  # type: ignore[union-attr]
    else:
        end = len(data)
    # a run or a letter before a letter ending past a telling character would hold it: one before it ends before it
    return min(_tells_at(data, end), end)


def _tells_at(data: bytes, end: int | None = None) -> int:
    """Where the first run of two-byte characters (`_RUN_KINDS`) or Latin Extended-A letter before an ASCII letter
    (`_SIGN_AFTER`) starts in `data[:end]` (`end`: all of it; a large number where none does)."""
    head = data[:end]
    found = [head.translate(_RUN_KINDS).find(b"LcLc")]
    if b"\xc4" in head or b"\xc5" in head:  # (memchr) the letters of Latin Extended-A are in it
        found.append(head.translate(_LETTER_SIGN_LETTER).find(b"Epa"))
    return min((at for at in found if at >= 0), default=len(data) + 1)


def _lone(buf: bytes, end: int) -> int:
    """Where the first character that reads both ways (`_LONE`) starts in `buf[:end]`, UTF-8 throughout (-1: none)."""
    if (lead := _first(buf, _LONE_LEADS, end)) < 0:
        return -1
    low = max(lead - 1, 0)  # from the ASCII letter a character may stand beside
    kinds = buf[low:end].translate(_LONE_KINDS)
    first = len(kinds)
    for seq, at, also in _LONE:
        if seq[at : at + 1] not in kinds:  # no such lead byte (memchr): the sequence is not looked for
            continue
        start, stop = 0, first - at - 1 + len(seq)  # a sequence found is one whose character starts before `first`
        while (found := kinds.find(seq, start, stop)) >= 0:
            if also is None or also(buf[low + found + at : low + found + at + 2]):
                first = found + at
                break
            start = found + 1
    if buf.find(b"\xc4", low, end) >= 0 or buf.find(b"\xc5", low, end) >= 0:  # (memchr) Latin Extended-A's leads
        latin_a = buf[low:end].translate(_LATIN_A_KINDS)
        for seq in (b"Ewn", b"Eq"):
            if (found := latin_a.find(seq, 0, first - 1 + len(seq))) >= 0:
                first = found
    return low + first if first < len(kinds) else -1


def _neighbour(data: bytes) -> bytes:
    """The end of `data` that a character starting the bytes after it may make a run with (`_RUN_KINDS`) or stand
    beside (`_LONE`): its last character if one of two bytes led by C4-DF, its last byte if an ASCII letter, else
    nothing."""
    if len(data) >= 2 and 0xC4 <= data[-2] <= 0xDF and 0x80 <= data[-1] <= 0xBF:
        return data[-2:]
    return data[-1:] if data[-1:].isalpha() and data[-1] < 0x80 else b""


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
