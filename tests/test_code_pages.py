"""Which code page reads a file as text (code_pages.py): the advice of a refusal names one only where one alone does."""

from __future__ import annotations

import pytest

from bulkload.code_pages import encodings_apart, reading_as_text, told_by


@pytest.mark.parametrize(
    ("text", "codec", "readers"),
    [
        ("Müller Café „Grüße“ 5 € – Weiß–Schwarz", "cp1252", ["cp1252"]),
        ("Søren Ærø", "cp1252", ["cp1252"]),
        # found by a tester (t22b): Excel's "CSV (MS-DOS)"; Mac Roman reads it 'Kõrsel èrhus', letters too
        ("Kørsel Århus", "cp850", ["cp850", "mac_roman"]),
        ("Kørsel Århus", "mac_roman", ["mac_roman"]),  # Windows-1252 has no 0x81; cp850 reads 'K┐rsel'
        ("plain ASCII", "cp1252", ["cp1252", "cp850", "mac_roman"]),
        # Excel on Windows writes a thousands separator as NBSP (A0), which cp850 reads 'á': '1á234,50' is no text
        # (tester t42a: the file was refused naming both, "nothing in the file tells which it is")
        ("1\u00a0234,50;-1\u00a0234,50", "cp1252", ["cp1252"]),
        ("1\u00a0234,50", "cp850", ["cp850"]),  # cp850 writes NBSP as FF, Windows-1252's 'ÿ'
    ],
)
def test_a_code_page_reads_a_file_as_text_only_with_letters_where_text_has_them(
    text: str, codec: str, readers: list[str]
) -> None:
    assert reading_as_text(text.encode(codec)) == readers


def test_what_a_files_first_bytes_tell() -> None:
    assert told_by(b"\xef\xbb\xbfa;b\r\n") == "UTF-8 (it starts with a BOM)"
    assert told_by("Kørsel".encode()) == "UTF-8"
    assert told_by("Kørsel".encode("cp1252")) == "Windows-1252 (Excel on Windows)"
    assert told_by("Kørsel Århus".encode("cp850")) == "an 8-bit encoding"  # cp850 or Mac Roman
    assert told_by(b"a;b\r\n") is None


def test_files_in_two_encodings_are_told_each_and_one_encoding_is_not() -> None:
    note = encodings_apart([("c.csv", "UTF-8 (it starts with a BOM)"), ("i.csv", "Windows-1252 (Excel on Windows)")])
    assert note is not None and "c.csv is in UTF-8" in note and "i.csv is in Windows-1252" in note, note
    assert "--encoding is one for every file of the run" in note, note
    assert encodings_apart([("a.csv", "UTF-8"), ("b.csv", "UTF-8 (it starts with a BOM)"), ("c.csv", None)]) is None
    assert encodings_apart([("a.csv", "Windows-1252 (Excel on Windows)"), ("b.csv", "an 8-bit encoding")]) is None
