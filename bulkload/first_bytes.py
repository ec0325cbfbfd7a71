"""What a file's first bytes say before it is read as text: a workbook or an archive given by mistake, a BOM.

A spreadsheet workbook (.xlsx and .ods are zip archives of XML, .xls an OLE2 compound file, as a .doc is), a PDF, an
SQLite database (a ledger), or an archive bulkload does not read (zip, bzip2, xz, zstd; gzip it reads) is no text in
any encoding: read as text, its NUL bytes looked like UTF-16 without a BOM, and the advice to give --encoding
utf-16-le went in circles. Each is told by its magic bytes, whatever its name and the --encoding given. So is a web
page (a download that gave a sign-in or error page instead of the export) and an XML document: text, but no table,
whose first line was told to name none of the fields. A BOM is the encoding's, never the first column's: the one of
the encoding given is passed over, and one of another Unicode encoding tells what the file is.
"""

from __future__ import annotations

import codecs
import re

#: an OLE2 compound file: an Excel 97-2003 workbook (.xls), and a Word document or an Outlook message (.doc, .msg)
_OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")
#: a zip's local file header; an empty zip starts with its end record
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
#: SQLite 3's header string: a database, such as the ledger a load writes beside its input (`FILE.ledger.sqlite`)
_SQLITE = b"SQLite format 3\x00"
#: bzip2: "BZh", the block size, then a block's magic (or the end of stream's, for an empty one)
_BZIP2 = re.compile(rb"BZh[1-9](?:\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")
#: a web page (an HTML document: its doctype or root element) or an XML document at a file's start, white space and a
#: UTF-8 BOM before it aside: group 1 is the web page's
_MARKUP = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:(<!doctype\s+html|<html[\s>])|<\?xml\s)", re.IGNORECASE)
#: (magic, the tool's name, the command that unpacks it)
_PACKED = ((bytes.fromhex("FD377A585A00"), "xz", "unxz"), (bytes.fromhex("28B52FFD"), "zstd", "unzstd"))
_NOT_TEXT = "not a CSV or JSONL file"
_SAVE_AS_CSV = "save it as CSV from its spreadsheet program (Excel: Save As, CSV UTF-8) and load that"
_AS_CSV = f"{_NOT_TEXT}: {_SAVE_AS_CSV}"
#: the BOMs a file may start with, with the encoding each names and how a message names that
_BOMS = (
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    # UTF-32 LE's starts with UTF-16 LE's, so it is told first
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32 LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32 BE"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16 LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16 BE"),
)
#: codecs that read a BOM themselves (UTF-16 and UTF-32 for its byte order; utf-8-sig passes over it)
_READ_BY_CODEC = ("utf-16", "utf-32")


def no_text(head: bytes) -> str | None:
    """What a file whose first bytes are `head` (a few hundred) is where it is a workbook or an archive, and what to
    do with it: "an Excel workbook (.xlsx), not a CSV … load that"; None for any other file."""
    if head.startswith(_ZIP):
        # the first entry's name, which a workbook's program writes first, shows in the head
        if b"[Content_Types].xml" in head or b"xl/" in head:
            return f"an Excel workbook (.xlsx), {_AS_CSV}"
        if b"opendocument.spreadsheet" in head:
            return f"an OpenDocument spreadsheet (.ods), {_AS_CSV}"
        return "a zip archive, not a CSV or JSONL file: unpack it (unzip) and load the file inside"
    if head.startswith(_OLE2):
        return f"an old Office file (.xls, .doc …), {_NOT_TEXT}: where it is a workbook (.xls), {_SAVE_AS_CSV}"
    if head.startswith(b"%PDF-"):  # a report or statement exported to print (tester t34a: told of header lines)
        return (
            f"a PDF document, {_NOT_TEXT}: export the data from the program that made it as CSV (a spreadsheet's: "
            "Save As, CSV UTF-8) and load that"
        )
    if head.startswith(_SQLITE):  # tester t51a: a ledger given as the input was told UTF-16, in circles
        return (
            "an SQLite database (a bulkload ledger is one: give it to --ledger of resume, reconcile or rollback), "
            f"{_NOT_TEXT}: load the file its rows are in"
        )
    if markup := _MARKUP.match(head):
        if markup[1] or re.search(rb"<!doctype\s+html|<html[\s>]", head, re.IGNORECASE):  # XHTML: <?xml …?><html>
            return (
                f"a web page (HTML), {_NOT_TEXT}: a download that gave a sign-in or error page instead of the export? "
                "Open it in a browser to see what it says, then download or export the data again as CSV"
            )
        return (
            f"an XML document (an Excel 2003 XML spreadsheet, a SAF-T or bank file?), {_NOT_TEXT}: export the data "
            "as CSV (a spreadsheet's: Save As, CSV UTF-8) and load that"
        )
    if _BZIP2.match(head):
        return _packed("bzip2", "bunzip2")
    for magic, name, unpack in _PACKED:
        if head.startswith(magic):
            return _packed(name, unpack)
    return None


def _packed(name: str, unpack: str) -> str:
    return (
        f"{name}-compressed data, which bulkload does not read (gzip it does): unpack it ({unpack}) and load the "
        "file inside, or compress it with gzip"
    )


def own_bom(codec: str) -> bytes:
    """The BOM of `codec` (a Python codec's name) that reading the file passes over, as bytes: UTF-16 LE's FF FE for
    utf-16-le; b"" for an encoding that has none (Windows-1252) and for those whose codec reads it (utf-16)."""
    if codec in _READ_BY_CODEC:
        return b""
    try:
        return "\ufeff".encode("utf-8" if codec == "utf-8-sig" else codec)
    except UnicodeError:
        return b""


def bom_of(head: bytes) -> tuple[str, str] | None:
    """(the encoding, its name in a message) of the BOM `head` starts with (`_BOMS`); None where it starts with none."""
    for bom, encoding, name in _BOMS:
        if head.startswith(bom):
            return encoding, name
    return None


def other_bom(head: bytes, codec: str) -> tuple[str, str] | None:
    """(the encoding, its name in a message) of the BOM `head` starts with, where that BOM is not `codec`'s own
    (own_bom: UTF-32 LE's FF FE 00 00 starts with UTF-16 LE's FF FE, and is no UTF-16 file's) and that codec does not
    read it (UTF-16's reads either byte order's of UTF-16, UTF-32's of UTF-32); else None."""
    found = bom_of(head)
    if found is None or found[0] == codec or codec in _READ_BY_CODEC and found[0].startswith(codec):
        return None
    return found


def utf8_not_utf16(head: bytes, codec: str) -> bool:
    """Whether the first bytes `head` of a file to be read in `codec` are UTF-8 where `codec` is a UTF-16 one (utf-16,
    utf-16-le, utf-16-be): they hold no NUL byte, which UTF-16 writes in every ASCII character (a delimiter, a line
    end, JSON's braces), and decode as UTF-8 (a character cut at their end aside). A UTF-16 BOM is no UTF-8."""
    if not codec.startswith("utf-16") or not head or 0 in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return True
