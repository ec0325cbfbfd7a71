"""Which single-byte code page a file that is not in its encoding reads as text in: the advice of its refusal.

Three code pages write the 8-bit CSV files met in the field: Windows-1252 (Excel on Windows, "CSV"), DOS's cp850
(Excel's "CSV (MS-DOS)", old Nordic and German accounting systems) and Mac Roman (Excel for Mac before 2016). Each
reads most bytes 80-FF as some character, so that a byte decoding is no proof: Windows-1252 reads cp850's `Kørsel`
(9B) as `K›rsel`, Mac Roman reads it as `Kõrsel`. A code page *reads the file as text* where it decodes every byte,
and every character past ASCII it reads is a letter or common punctuation (€ £ § ° « » quotes dashes …), no capital
letter follows a small one in a word (Windows-1252's `Café` is cp850's `CafÚ`), and nothing but a letter, ’ or a dash
stands between two letters (`K›rsel`, `S°ren`), nor a letter between two digits (cp850's `1á234` for Windows-1252's
thousands separator, a no-break space). The advice names the one code page that does; where more than one does, the
file is refused naming each with a line read its way, nothing guessed; where none does, none is named.
"""

from __future__ import annotations

import codecs
import contextlib
import unicodedata
from collections.abc import Callable, Sequence

from .first_bytes import bom_of

#: the code pages tried, in the order they are named
CODE_PAGES = ("cp1252", "cp850", "mac_roman")

#: what a message calls each
NAMES = {
    "cp1252": "Windows-1252 (Excel on Windows)",
    "cp850": 'cp850 (DOS Western Europe: Excel\'s "CSV (MS-DOS)")',
    "mac_roman": "Mac Roman (Excel for Mac before 2016)",
}

#: the characters past ASCII, other than letters, that text in a CSV file holds
_PUNCTUATION = frozenset("€£§°«»‘’‚“”„–—…•×½\u00a0¤¦¨´¸¼¾™©®")


def reading_as_text(data: bytes) -> list[str]:
    """The code pages of CODE_PAGES that read `data` (a file's bytes, or its first megabyte) as text, in
    CODE_PAGES's order; [] where none does. A last byte 0x1A is DOS's end-of-file mark (Ctrl-Z), which the files
    of DOS programs end with: no character of the text."""
    found = []
    for codec in CODE_PAGES:
        try:
            text = data.removesuffix(b"\x1a").decode(codec)
        except UnicodeDecodeError:
            continue
        if _text(text):
            found.append(codec)
    return found


def _text(text: str) -> bool:
    """Whether every character past ASCII in `text` is one that text holds where it stands (the module's rule)."""
    before = ""
    for i, ch in enumerate(text):
        if not ch.isascii():
            after = text[i + 1 : i + 2]
            if ch.isalpha():
                if ch.isupper() and before.isalpha() and before.islower():
                    return False
                if before.isdigit() and after.isdigit():  # cp850's 1á234 for Windows-1252's NBSP between thousands
                    return False
            elif ch not in _PUNCTUATION or (ch not in "’–—" and before.isalpha() and after.isalpha()):
                return False
        elif unicodedata.category(ch) == "Cc" and ch not in "\t\r\n":
            return False
        before = ch
    return True


def around_letters(text: str, width: int = 60) -> str:
    """A line as a message shows it: `width` characters around its first one that is not ASCII, which is what tells
    one reading of it from another."""
    at = next((i for i, ch in enumerate(text) if not ch.isascii()), 0)
    start = max(0, min(at - width // 3, len(text) - width))
    return ("…" if start else "") + text[start : start + width] + ("…" if start + width < len(text) else "")


def ambiguous(codecs: Sequence[str], line_no: int, line: bytes, show: Callable[[str], str]) -> str:
    """The advice, to follow the refusal of a file, where more than one code page (`codecs`) reads it as text:
    line `line_no` (its bytes `line`; `show`: how a message shows text, secrets masked) shown each way."""
    shown = {codec: around_letters(show(line.decode(codec, "replace").strip())) for codec in codecs}
    readings = [f"{text!r} as {NAMES[codec]}" for codec, text in shown.items()]
    choices = " or ".join(f"--encoding {codec}" for codec in codecs)
    return (
        f". More than one code page reads the file as text, each with other letters: line {line_no} says "
        f"{'; '.join(readings)}, and nothing in the file tells which it is. Give {choices}, the one whose reading is "
        "right (the program that wrote the file tells it too)"
    )


def told_by(head: bytes) -> str | None:
    """The encoding a file's first bytes (up to a megabyte, after any gzip) tell, as a message names it: UTF-8,
    UTF-16 or UTF-32 by a BOM, UTF-8 where they are valid UTF-8 past ASCII, else the one code page that reads them as
    text, or "an 8-bit encoding" where none or several do; None where they are ASCII, which every encoding here
    reads."""
    if (bom := bom_of(head)) is not None:
        return "UTF-8 (it starts with a BOM)" if bom[0] == "utf-8" else f"{bom[1][:6]} (a BOM)"
    if head.isascii():
        return None
    with contextlib.suppress(UnicodeDecodeError):
        codecs.utf_8_decode(head, "strict", False)  # a character cut at the megabyte's end is no error
        return "UTF-8"
    readers = reading_as_text(head)
    return NAMES[readers[0]] if len(readers) == 1 else "an 8-bit encoding"


def encodings_apart(told: Sequence[tuple[str, str | None]]) -> str | None:
    """The note, to follow the refusal of one file of a run for its encoding, where the run's files (`told`: each
    path with what its bytes tell, told_by) are in more than one encoding: --encoding is one for every file, and no
    value of it reads them all. None where their bytes tell one encoding (or none)."""
    said = {name for _, name in told if name is not None}
    if "an 8-bit encoding" in said and said & set(NAMES.values()):
        said.discard("an 8-bit encoding")  # no other code page than the one named, as far as is known
    if len({name.split(" (it")[0] for name in said}) < 2:
        return None
    each = "; ".join(f"{path} is in {name}" for path, name in told if name is not None)
    return (
        f". That advice is for this file alone, and --encoding is one for every file of the run, whose files are in "
        f"more than one encoding ({each}): no --encoding reads them all. Save them in one encoding (UTF-8: Excel's "
        '"CSV UTF-8") and load them without --encoding'
    )
