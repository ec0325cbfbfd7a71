"""The advice for 8-bit text that Windows-1252 and ISO-8859-15 (Latin-9) read differently (bulkload/latin9.py)."""

from __future__ import annotations

import pytest

from bulkload.latin9 import Latin9Found, Latin9Scan, advice

HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text\r\n"


def scanned(data: bytes, block: int = 1 << 16) -> Latin9Found:
    scan = Latin9Scan()
    for at in range(0, len(data), block):
        scan.feed(data[at : at + block])
    return scan.found()


def told(text: str, encoding: str = "iso8859_15") -> str | None:
    data = (HEADER + text).encode(encoding)
    found = scanned(data)
    line = data.splitlines(keepends=True)[found.line - 1] if found.line else b""
    return advice(found, line, str)


def test_a_euro_sign_by_an_amount_names_latin9_and_shows_the_line_read_so() -> None:
    # found by a tester: Latin-9's € (0xA4) was told "looks like Windows-1252 … Give --encoding cp1252", which
    # booked 'Leje 100 ¤ Kørsel' and '¦imo ¼uvre'
    said = told(
        "5;1;701;31.10.2026;100,00;EUR;1010;Leje 100 € Kørsel\r\n5;1;701;31.10.2026;-100,00;EUR;5600;Šimo Œuvre\r\n"
    )
    assert said is not None
    assert "looks like ISO-8859-15 (Latin-9)" in said and "Give --encoding iso8859-15" in said, said
    assert "line 2 says '5;1;701;31.10.2026;100,00;EUR;1010;Leje 100 € Kørsel'" in said, said
    assert "'5;1;701;31.10.2026;100,00;EUR;1010;Leje 100 ¤ Kørsel' as Windows-1252" in said, said
    assert "--encoding cp1252" not in said


@pytest.mark.parametrize("text", ["€5 Leje", "Leje 100€", "Leje € 100"])
def test_the_euro_sign_before_or_after_an_amount_is_latin9(text: str) -> None:
    said = told(f"5;1;701;31.10.2026;100,00;EUR;1010;{text}\r\n")
    assert said is not None and "Give --encoding iso8859-15" in said, said


def test_letters_only_latin9_writes_name_both_and_how_to_tell() -> None:
    said = told("5;1;701;31.10.2026;100,00;EUR;1010;Kørsel\r\n5;1;701;31.10.2026;-100,00;EUR;5600;Šimo Œuvre\r\n")
    assert said is not None
    assert "Windows-1252 (Excel on Windows) or ISO-8859-15 (Latin-9)" in said, said
    assert "bytes 0xA6 0xBC read ¦ ¼ in Windows-1252 but Š Œ in ISO-8859-15" in said, said
    assert "line 3 says '5;1;701;31.10.2026;-100,00;EUR;5600;¦imo ¼uvre' as Windows-1252" in said, said
    assert "but '5;1;701;31.10.2026;-100,00;EUR;5600;Šimo Œuvre' as ISO-8859-15" in said, said
    assert "Give --encoding cp1252 if the first reading is right, or --encoding iso8859-15 if the second is" in said


def test_a_currency_sign_not_by_an_amount_names_both() -> None:
    said = told("5;1;701;31.10.2026;100,00;EUR;1010;Kørsel ¤ rabat\r\n", "cp1252")
    assert said is not None and "or ISO-8859-15 (Latin-9)" in said and "0xA4 read ¤" in said, said


@pytest.mark.parametrize(
    "text",
    [
        "Kørsel Århus\r\n",  # no byte the two read differently: Windows-1252 stands
        "Pris 100 € “rabat” ½ kg\r\n",  # 0x80 and quotes: Latin-9 reads them as control characters
    ],
)
def test_windows_1252_stands_where_nothing_differs_or_only_it_reads_the_file(text: str) -> None:
    assert told(f"5;1;701;31.10.2026;100,00;EUR;1010;{text}", "cp1252") is None


def test_the_evidence_is_found_across_blocks_and_line_ends() -> None:
    # € split from its amount at a block's edge, CRLF split too, lone CR line ends counted as the reader counts
    data = b"a\rb\r\n" + b"x" * 5 + b"\r\n100 \xa4\r\n"
    for block in range(1, len(data) + 1):
        found = scanned(data, block)
        assert (found.line, found.euro, found.cp1252, found.differs) == (4, True, False, b"\xa4"), block
