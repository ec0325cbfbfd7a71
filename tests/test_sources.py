"""Tests for the streaming readers: small files in tmp_path, every rule of sources.py."""

from __future__ import annotations

import csv
import gc
import gzip
import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from conftest import READS_BOTH_WAYS, TELLS_UTF8
from hypothesis import given
from hypothesis import strategies as st

from bulkload.chunking import Reading, masked_secret
from bulkload.dates import DateFormat
from bulkload.errors import ConfigError, FileChanged, MappedTwice, RowInvalid, SourceError
from bulkload.header_again import SPACES
from bulkload.ledger import RowOutcome
from bulkload.numbers import NumberFormat
from bulkload.report import write_rejects
from bulkload.sources import MAX_RAW, UNCLOSED, BadRow, Source, check_regular, pin, sha256_of
from bulkload.targets.reasons import json_cell
from bulkload.utf8_scan import Utf8Found, Utf8Scan


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def rows(path: Path, **kw: Any) -> list[Any]:
    return list(Source(path, **kw))


# --- CSV -----------------------------------------------------------------------------------------------


def test_csv_basic_rows_and_line_numbers(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "date,amount\r\n2024-01-31,10.00\r\n2024-02-01,-5\r\n")
    assert rows(p) == [
        (2, {"date": "2024-01-31", "amount": "10.00"}),
        (3, {"date": "2024-02-01", "amount": "-5"}),
    ]


def test_csv_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", b"\xef\xbb\xbfid,name\n1,\xc3\x86ble\n")
    src = Source(p)
    assert src.fields() == ["id", "name"]
    assert rows(p) == [(2, {"id": "1", "name": "Æble"})]


def test_csv_semicolon_detected_outside_quotes(tmp_path: Path) -> None:
    # more commas than semicolons in the header, but all of them inside quotes
    p = write(tmp_path, "a.csv", '"a,b,c";d\n"1,5";2\n')
    assert rows(p) == [(2, {"a,b,c": "1,5", "d": "2"})]


def test_csv_forced_delimiter_wins_over_detection(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "a;b|c\n1;2|3\n")
    assert rows(p, delimiter="|") == [(2, {"a;b": "1;2", "c": "3"})]
    assert rows(p) == [(2, {"a": "1", "b|c": "2|3"})]


def test_csv_tab_detected_and_forced(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "a\tb\n1,5\t2\n")
    assert rows(p) == [(2, {"a": "1,5", "b": "2"})]
    single = write(tmp_path, "b.csv", "text\nx\ty\n")
    assert rows(single) == [(2, {"text": "x\ty"})]  # no tab in the header: ',' is assumed
    for forced in ("\t", "\\t", "tab"):
        assert rows(single, delimiter=forced) == [
            BadRow(2, "row has 2 cells, the header has 1", "x\ty", {}, unaligned=True)
        ]


def test_tsv_name_means_tab_even_for_one_column(tmp_path: Path) -> None:
    p = write(tmp_path, "a.tsv", "text\nhello, world\n")
    assert rows(p) == [(2, {"text": "hello, world"})]


@pytest.mark.parametrize("bad", ["", ",,", '"', "\n", "ab"])
def test_bad_delimiter_option_is_a_config_error(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="delimiter"):
        Source(tmp_path / "a.csv", delimiter=bad)


def test_csv_quoted_newline_and_start_lines(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", 'id,text\n1,"two\nlines"\n2,"three\r\nphysical\nlines"\n3,plain\n')
    assert rows(p) == [
        (2, {"id": "1", "text": "two\nlines"}),
        (4, {"id": "2", "text": "three\r\nphysical\nlines"}),
        (7, {"id": "3", "text": "plain"}),
    ]


def test_csv_empty_and_whitespace_cells_are_absent_and_every_value_is_trimmed(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "a,b,c,d,e\n,  ,\t, x ,\u00a0Kørsel Århus\u00a0\n")
    assert rows(p) == [(2, {"d": "x", "e": "Kørsel Århus"})]


def test_a_jsonl_string_is_read_as_written_and_a_csv_secret_cell_untrimmed(tmp_path: Path) -> None:
    # found by a tester: JSON delimits a string, so its spaces are the value's own ("Gamma " renamed "Gamma"), and a
    # password's spaces are the password's in any format; a CSV cell cannot say whether it was quoted: trimmed
    jsonl = write(tmp_path, "a.jsonl", '{"a": " x\\u00a0", "b": "  ", "pw": "  p w  "}\n')
    assert rows(jsonl, secrets={"pw"}) == [(1, {"a": " x\u00a0", "pw": "  p w  "})]
    cells = write(tmp_path, "a.csv", 'a,pw\n x ," p w "\n\u00a0K\u00f8rsel ,\u00a0p\u00f8 \n y ,  \n')
    read = [(2, {"a": "x", "pw": " p w "}), (3, {"a": "K\u00f8rsel", "pw": "\u00a0p\u00f8 "}), (4, {"a": "y"})]
    assert rows(cells, secrets={"pw"}) == read
    assert list(Source(cells, secrets={"pw"}).rows(["pw"])) == [
        (n, {"pw": r["pw"]} if "pw" in r else {}) for n, r in read
    ]


def test_excels_text_formula_is_read_as_the_text_inside_it(tmp_path: Path) -> None:
    # found by a tester: ="00888", Excel's way to keep a key's leading zeros through a CSV, was sent as the key
    # itself. Quoted or not in the file, with "" inside for one quote; a formula that is more than that stays as
    # written (chunking refuses it where a number, date or key is read)
    text = (
        'a;b;c;d\n="00888";"=""000123""";="1.234,56";=" x "\n="a""b";="";=SUM(A1:A3);="1"&"2"\n=A1*2;="x"y";"=""";=\n'
    )
    p = write(tmp_path, "a.csv", text)
    expected = [
        (2, {"a": "00888", "b": "000123", "c": "1.234,56", "d": "x"}),
        (3, {"a": 'a"b', "c": "=SUM(A1:A3)", "d": '="1"&"2"'}),
        (4, {"a": "=A1*2", "b": '="x"y"', "c": '="', "d": "="}),
    ]
    assert rows(p) == expected
    assert list(Source(p).rows(["a", "c"])) == [(n, {k: v for k, v in r.items() if k in "ac"}) for n, r in expected]
    # the slow path reads them alike: a row narrower than a header with a trailing delimiter, non-ASCII text
    slow = write(tmp_path, "b.csv", 'a;b;\n="007";="Kørsel"\n')
    assert rows(slow) == [(2, {"a": "007", "b": "Kørsel"})]
    # and the cells that name a bad row's group
    (bad,) = rows(write(tmp_path, "c.csv", 'a;b;c\n="007";="007";1;1\n'))
    assert isinstance(bad, BadRow)
    assert bad.partial == {"a": "007", "c": "1"}


def test_csv_more_cells_is_a_bad_row_and_reading_goes_on(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", 'a,b\n1,2,3\n4,"5,6"\n')
    assert rows(p) == [
        BadRow(
            2, "row has 3 cells, the header has 2", "1,2,3", {}, unaligned=True
        ),  # which cell was put in cannot be told
        (3, {"a": "4", "b": "5,6"}),
    ]


def test_a_csv_row_with_a_named_cell_left_out_is_bad(tmp_path: Path) -> None:
    # found by a tester: a row of fewer cells was read as far as it went, and a cell left out in the middle moves
    # every value after it to the column before (an account read as the contra account's). Cells a trailing
    # delimiter adds to the header may be left out; a blank line is no row
    p = write(tmp_path, "a.csv", "a,b,c,\n1\n1,2\n1,2,3\n,\n")
    assert rows(p) == [
        BadRow(2, "row has 1 cells, the header names 3: which is missing cannot be told", "1", {}, unaligned=True),
        BadRow(3, "row has 2 cells, the header names 3: which is missing cannot be told", "1,2", {}, unaligned=True),
        (4, {"a": "1", "b": "2", "c": "3"}),
    ]


def test_a_sep_line_below_other_rows_is_told_as_files_joined_not_a_short_row(tmp_path: Path) -> None:
    # a tester (t22b): two Excel exports joined, the second's sep=; line was rejected as "row has 2 cells"
    p = write(tmp_path, "a.csv", "sep=;\na;b;c\n1;2;3\nsep=;\n4;5;6\n")
    said = "Excel's sep=; line, which names the delimiter only as a file's first line: here it is below other rows"
    first, joined, after = rows(p)
    assert first == (3, {"a": "1", "b": "2", "c": "3"}) and after == (5, {"a": "4", "b": "5", "c": "6"})
    assert type(joined) is BadRow and joined.line_no == 4 and joined.reason.startswith(said), joined
    assert joined.raw == "sep=;" and not joined.unaligned


def test_csv_blank_lines_are_skipped_but_counted(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "\n\na,b\n\n1,2\n   \n,\n3,4")
    assert rows(p) == [(5, {"a": "1", "b": "2"}), (8, {"a": "3", "b": "4"})]


def test_csv_header_empty_file(tmp_path: Path) -> None:
    """Helper t74d: "empty.csv: the file is empty (no header row)" said no way on, where a file of no rows is told
    "there is nothing to load (is it the file you meant?)": an empty export is the wrong file, or to export again."""
    for name, data, what in [
        ("empty.csv", "", "no header row"),
        ("blank.csv", "\n  \n", "no header row, only blank lines"),
    ]:
        with pytest.raises(ConfigError) as refused:
            Source(write(tmp_path, name, data)).fields()
        assert str(refused.value) == (
            f"{tmp_path / name}: the file is empty ({what}): there is nothing to load (is it the file you meant? An "
            "export that came out empty: export it again)"
        )


def test_csv_header_empty_name(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"a\.csv: column 2 of the header has no name"):
        rows(write(tmp_path, "a.csv", "a, ,c\n1,2,3\n"))


def test_csv_header_duplicate_name_also_after_mapping(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"a\.csv: column 'a' appears twice in the header \(columns 1 and 3\): which one .* rename or delete one",
    ):
        rows(write(tmp_path, "a.csv", "a,b,a\n"))
    # the mapping that makes a second column the field is named, not a column 'amount' appearing twice
    p = write(tmp_path, "b.csv", "amount,belob\n1,2\n")
    said = r"column 'belob' \(2\) is mapped to 'amount' by the \[columns\] table of --config, and column 1 is "
    with pytest.raises(MappedTwice, match=said + "named 'amount': a field takes one column"):
        Source(p, columns={"belob": "amount"}).fields()
    p = write(tmp_path, "c.csv", "Amount,amount\n1,2\n")  # a name in another case, mapped to the field
    with pytest.raises(MappedTwice, match=r"column 'Amount' \(1\) is mapped to 'amount' .* column 2 is named"):
        Source(p, columns={"Amount": "amount"}).fields()
    p = write(tmp_path, "d.csv", "Debet;Kredit\n1;\n")
    said = r"columns 'Debet' \(1\) and 'Kredit' \(2\) are both mapped to 'amount' by the \[columns\] table"
    with pytest.raises(MappedTwice, match=said) as twice:
        Source(p, columns={"Debet": "amount", "Kredit": "amount"}).fields()
    assert twice.value.field == "amount" and "appears twice" not in str(twice.value)
    # dropping one of two equal names is fine
    assert Source(write(tmp_path, "e.csv", "x,x\n1,2\n"), columns={"x": ""}).fields() == []


def test_csv_column_mapping_renames_and_drops(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "Dato,Beløb,Intern,text\n2024-01-31,10,secret,hi\n")
    src = Source(p, columns={"Dato": "date", "Beløb": "amount", "Intern": ""})
    assert src.fields() == ["date", "amount", "text"]
    assert list(src) == [(2, {"date": "2024-01-31", "amount": "10", "text": "hi"})]


SAME = "the header again (exports joined into one file?)"


@pytest.mark.parametrize(
    ("joined", "glued"),
    [
        ("\ufeffdate,amount,account,contra,text", True),
        ("date,amount,account,contra,text", True),
        ("Date,amount,contra,account,text", True),  # in another order, in other case: a header all the same
        ("date,amount,account,contra", False),  # a header short of a column: no header (the row is too wide)
        ("note,9,9,9,9", False),
    ],
)
def test_a_header_joined_to_the_end_of_a_row_is_a_fault_of_the_whole_file(
    tmp_path: Path, joined: str, glued: bool
) -> None:
    # found by tester t73c: exports joined by `cat`, the first without a line break at its end; the line was
    # rejected as a row too wide, and the rows after it read by the first header's names
    p = write(tmp_path, "a.csv", f"date,amount,account,contra,text\n2024-01-31,10,1010,5600,x{joined}\n1,2,3,4,5\n")
    got = rows(p)
    assert isinstance(got[0], BadRow) and got[0].line_no == 2, got
    assert (got[0].kind == "header") is glued, got[0]
    assert ("the header again, joined to the end of a row (" in got[0].reason) is glued, got[0]


@pytest.mark.parametrize(
    ("second", "why"),
    [
        ("date,amount,account,contra,text", SAME),
        ("\ufeffdate,amount,account,contra,text", SAME),  # a second export joined by `cat`, with its BOM
        ("\ufeff Date,amount,account,contra,text", SAME),
        # found by a tester: a header written in another letter case or spacing was read as a data row naming no
        # voucher, and the rows after it by the first header's order
        ('DATE, Amount ,account,contra,"Text"', SAME),
        (" Date ,amount,contra,account,Text,,", "column 3 is 'contra', the first header's 'account'"),
        ("date,amount,account,contra,notes", SAME),  # a column renamed: all but one still name the header's
        ("date,amount,text,contra,account", "column 3 is 'text', the first header's 'account'"),
    ],
)
def test_a_header_named_again_in_any_case_spacing_or_order_is_a_fault_of_the_whole_file(
    tmp_path: Path, second: str, why: str
) -> None:
    p = write(tmp_path, "a.csv", f"date,amount,account,contra,text\n2024-01-31,10,1010,5600,x\n{second}\n1,2,3,4,5\n")
    got = rows(p)
    assert got[0] == (2, {"date": "2024-01-31", "amount": "10", "account": "1010", "contra": "5600", "text": "x"})
    assert isinstance(got[1], BadRow) and got[1].kind == "header" and got[1].line_no == 3, got
    assert why in got[1].reason and "ccount" in got[1].raw, got[1]


def test_a_header_named_again_through_the_columns_table_is_a_fault_of_the_whole_file(tmp_path: Path) -> None:
    # found by a tester: the [columns] table maps the export's own names; a second export wrote them in lower case
    # with two mapped columns swapped, and its rows were read with account and contra the other way round
    columns = {"Dato": "date", "Beløb": "amount", "Konto": "accountNumber", "Modkonto": "contraAccountNumber"}
    header = "Dato,Beløb,Konto,Modkonto,Intern"
    for second, why in [
        ("dato,beløb,modkonto,konto,intern", "column 3 is 'modkonto', the first header's 'Konto'"),
        # the fields themselves, as an export made for the API names them
        ("date,amount,contraAccountNumber,accountNumber,Intern", "column 3 is 'contraAccountNumber'"),
        ("DATE,AMOUNT,ACCOUNTNUMBER,CONTRAACCOUNTNUMBER,INTERN", SAME),
    ]:
        p = write(tmp_path, "a.csv", f"{header}\n2024-01-31,10,1010,5600,x\n{second}\n")
        bad = rows(p, columns=columns | {"Intern": ""})[1]
        assert isinstance(bad, BadRow) and bad.kind == "header" and why in bad.reason, (second, bad)
    # a header of a name given twice, once dropped, named again as it was
    bad = rows(write(tmp_path, "b.csv", "x,x,y\n1,2,3\nx,x,y\n"), columns={"x": ""})[1]
    assert isinstance(bad, BadRow) and bad.kind == "header" and bad.reason.startswith(SAME), bad


#: an e-conomic export's header, as the API names its fields
ECONOMIC = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,contraAccountNumber,text"


@pytest.mark.parametrize(
    ("second", "why"),
    [
        # found by a tester: display names (spaces, `_`) and a renamed first cell were not told from a data row, and
        # the rows after them were read by the first header's names: account and contra swapped
        (
            "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,contra account number,account number,"
            "text",
            "column 7 is 'contra account number', the first header's 'accountNumber'",
        ),
        ("Entry Type Number,journal_number,Voucher number,Date,Amount,Currency,account_number,Contra-Acct,Text", SAME),
        ("type,journalNumber,voucherNumber,date,amount,currency,accountNumber,contraAccountNumber,text", SAME),
        ("type,journalNumber,voucherNumber,date,amount,currency,contraAccountNumber,accountNumber,text", "column 7"),
    ],
    ids=["spaces-swapped", "display-names", "first-renamed", "first-renamed-swapped"],
)
def test_a_header_named_again_by_display_names_or_with_its_first_cell_renamed_is_a_fault_of_the_whole_file(
    tmp_path: Path, second: str, why: str
) -> None:
    row = "5,9,201,2026-11-01,100.00,DKK,1010,5600,a"
    got = rows(write(tmp_path, "a.csv", f"{ECONOMIC}\n{row}\n{second}\n5,9,202,2026-11-02,202.00,DKK,5600,1010,B\n"))
    assert got[0][0] == 2 and isinstance(got[1], BadRow) and got[1].kind == "header" and got[1].line_no == 3, got
    assert why in got[1].reason, got[1]


@pytest.mark.parametrize(
    "row",
    [
        "text,amount,account",  # a row that names three of five columns is no header
        "Text,10,1010,5600,amount",  # nor one whose text cells happen to be names
        "10,date,amount,account,contra",  # nor one whose cell naming no column is a number
        "2024-01-31,date,amount,account,contra",  # or a date
        "date,amount,account,contra,text,10",  # nor one a number wider than the header
        "date,amount,account,5600",  # nor one a column narrower whose cells do not all name a column
        "date,amount,account,contra,notes,more",  # nor one a column wider that renames one of the header's
        "date,amount,account",  # nor one two columns narrower
    ],
)
def test_a_row_that_does_not_name_nearly_every_column_is_no_header(tmp_path: Path, row: str) -> None:
    p = write(tmp_path, "a.csv", f"date,amount,account,contra,text\n{row}\n")
    assert not any(isinstance(item, BadRow) and item.kind == "header" for item in rows(p)), rows(p)
    # a short header is named again only by all of its names
    for narrow in ("a,b,Text\nText,b,x\n", "a,b,c\nA,B,x\n"):
        got = rows(write(tmp_path, "b.csv", narrow))
        assert not any(isinstance(item, BadRow) and item.kind == "header" for item in got), (narrow, got)


@pytest.mark.parametrize(
    ("second", "why"),
    [
        ("date,amount,account,contra,text,vatCode", "of 6 columns where the first names 5 (with 'vatCode', which"),
        ("Date,Amount,Account,Contra,Text,More,,", "of 6 columns where the first names 5 (with 'More', which"),
        ("date,amount,account,contra", "of 4 columns where the first names 5 (without the first's 'text')"),
        ("amount,date,contra,account", "of 4 columns where the first names 5 (without the first's 'text')"),
    ],
)
def test_a_second_header_a_column_wider_or_narrower_is_a_fault_of_the_whole_file(
    tmp_path: Path, second: str, why: str
) -> None:
    """Helper t74d: two exports of two layouts joined (the second with a column more or one fewer): its header was
    rejected as a row "row has 6 cells, the header has 5", and so was each row after it, where a second header of
    the same width refuses the file: it is a second header, and each part is loaded as a file of its own."""
    rest = "\n".join(["2024-02-01,20,1010,5600,y,I25", "2024-02-02,30,1010,5600,z,I25"])
    p = write(tmp_path, "a.csv", f"date,amount,account,contra,text\n2024-01-31,10,1010,5600,x\n{second}\n{rest}\n")
    got = rows(p)
    assert got[0] == (2, {"date": "2024-01-31", "amount": "10", "account": "1010", "contra": "5600", "text": "x"})
    assert isinstance(got[1], BadRow) and got[1].kind == "header" and got[1].line_no == 3, got
    assert got[1].reason.startswith(f"a second header, {why}"), got[1]
    assert got[1].reason.endswith(
        "exports of two layouts joined into one file? The rows after it would be read by the first header's names. "
        "Load each part as a file of its own"
    ), got[1]


def test_every_character_strip_removes_may_start_a_header_named_again() -> None:
    assert {c for c in map(chr, range(0x110000)) if c.isspace()} == SPACES


def test_fields_does_not_consume_rows_and_source_is_reiterable(tmp_path: Path) -> None:
    src = Source(write(tmp_path, "a.csv", "a\n1\n2\n"))
    assert src.fields() == ["a"]
    first = list(src)
    assert first == [(2, {"a": "1"}), (3, {"a": "2"})]
    assert list(src) == first


def test_csv_invalid_utf8_row_is_bad_and_later_rows_are_read(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", b"id,name\n1,ok\n2,caf\xe9\n3,\xc3\xa6\n")
    got = rows(p)
    assert got[0] == (2, {"id": "1", "name": "ok"})
    bad = got[1]
    assert isinstance(bad, BadRow) and bad.line_no == 3
    assert bad.reason == "invalid UTF-8 (byte 0xe9) in 'name'" and bad.kind == "encoding"
    assert bad.raw == "2,caf\ufffd"
    assert got[2] == (4, {"id": "3", "name": "æ"})


def test_an_undecodable_byte_is_an_encoding_fault_whatever_the_width_of_its_row(tmp_path: Path) -> None:
    # before: a row with more cells than the header was a plain bad row, so the file was loaded without it
    # instead of refused as not UTF-8
    p = write(tmp_path, "a.csv", b"id,name\n1,caf\xe9,extra\n2,\xff\n")
    wide, short = rows(p)
    assert isinstance(wide, BadRow) and wide.kind == "encoding" and wide.reason == "invalid UTF-8 (byte 0xe9) in 'name'"
    assert isinstance(short, BadRow) and short.kind == "encoding" and short.line_no == 3


@pytest.mark.parametrize("odd", [b"\xff", b"\xc2\x85"], ids=["undecodable", "C1"])
@pytest.mark.parametrize("where", ["before", "inside", "after"])
def test_a_row_over_the_size_limit_is_judged_by_its_encoding_first(tmp_path: Path, odd: bytes, where: str) -> None:
    # before: the csv module gave up on the row (a cell over its size limit) and the row was a plain bad row,
    # so a file not in UTF-8 was loaded without that row instead of refused, as a row of any other shape is
    big = b"x" * 200_000
    cell = b'"' + big + b"\n" + (odd if where == "inside" else b"") + big + b'"'
    line = (odd if where == "before" else b"") + b"1," + cell + b"," + (odd if where == "after" else b"") + b"z"
    got = rows(write(tmp_path, "a.csv", b"a,b,c\n" + line + b"\n2,ok,y\n"))
    assert isinstance(got[0], BadRow) and got[0].kind == "encoding" and got[0].line_no == 2, got[0]
    assert ("byte 0xff" if odd == b"\xff" else "control character U+0085") in got[0].reason
    assert got[1:] == [(4, {"a": "2", "b": "ok", "c": "y"})]


def test_csv_invalid_utf8_header_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid UTF-8"):
        Source(write(tmp_path, "a.csv", b"n\xffme\n1\n")).fields()


def test_csv_file_ending_inside_a_quote(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", 'a,b\n1,2\n3,"unfinished\nstill open')
    assert rows(p) == [
        (2, {"a": "1", "b": "2"}),
        BadRow(3, UNCLOSED, '3,"unfinished\nstill open', {"a": "3"}, kind="cut"),
    ]


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ('1,"Invoice "A" paid"', ["1", 'Invoice A" paid"']),  # a quote inside a quoted cell, not doubled
        ('2,"27" monitor"', ["2", '27 monitor"']),
        ('3,"Big" screen', ["3", "Big screen"]),  # text after the closing quote
        ('"10"0.00,x', ["100.00", "x"]),
    ],
)
def test_csv_a_quoted_cell_with_text_after_its_closing_quote_is_a_bad_row(
    tmp_path: Path, line: str, cells: list[str]
) -> None:
    """Found by a tester: the reader joined the pieces into a cell no one wrote (`"10"0.00` loaded as 100.00,
    `"Invoice "A" paid"` as `Invoice A" paid"`). Such a record is a bad row saying why, and the reading goes on;
    the rejects file gives its cells as a lenient reading finds them, to be fixed in place."""
    p = write(tmp_path, "a.csv", f"a,b\n{line}\n5,ok\n")
    bad, good = rows(p)
    assert isinstance(bad, BadRow) and bad.line_no == 2, bad
    assert bad.reason.startswith("a quoted cell's closing quote is followed by text, not by the delimiter ','"), bad
    assert good == (3, {"a": "5", "b": "ok"})
    assert list(Source(p).cells()) == [(2, cells), (3, ["5", "ok"])]


def test_a_badly_quoted_row_names_its_group_by_a_lenient_reading(tmp_path: Path) -> None:
    # found by a tester: without its cells, such a row named no order, and the order it ended loaded without it
    p = write(tmp_path, "a.csv", 'a,b,c\n1,"x "y"",O1\n')
    (bad,) = rows(p)
    assert isinstance(bad, BadRow) and bad.partial == {"a": "1", "b": 'x y""', "c": "O1"}, bad


def test_a_badly_quoted_record_over_several_lines_names_no_group(tmp_path: Path) -> None:
    # found by a tester: an unclosed quote in invoice I2's line swallowed lines up to a quote further on, and the
    # record was named by the cells after it, the last line's (invoice I3): I2 loaded without its line
    p = write(tmp_path, "a.csv", 'a,n\n"Beta,I2\nGamma,I3\nGamma "Foods",I3\nDelta,I4\n')
    bad, good = rows(p)
    assert isinstance(bad, BadRow) and (bad.line_no, bad.partial) == (2, None), bad
    assert good == (5, {"a": "Delta", "n": "I4"})


@pytest.mark.parametrize(
    ("line", "partial"),
    [
        ("1,2,extra,O1", {}),  # a cell put in: only what reads the same from both ends names anything
        ("1,O1", {}),  # a cell left out
        ("1,2,O1,", {}),  # an empty cell at the end may be one put in anywhere as well
        ("7,7,O1,O1", {"a": "7", "c": "O1"}),  # values that read the same from both ends
    ],
)
def test_a_row_of_another_width_names_only_what_no_shift_changes(
    tmp_path: Path, line: str, partial: dict[str, str]
) -> None:
    # found by a tester: an unquoted comma in a description shifted the order number's column; the row was taken
    # for a line of the order its date named, and its own order loaded without it
    (bad,) = rows(write(tmp_path, "a.csv", f"a,b,c\n{line}\n"))
    assert isinstance(bad, BadRow) and bad.partial == partial, bad


def test_csv_last_line_without_newline_is_a_normal_row(tmp_path: Path) -> None:
    assert rows(write(tmp_path, "a.csv", 'a,b\n1,"2"')) == [(2, {"a": "1", "b": "2"})]


def test_csv_oversized_cell_is_a_bad_row_and_reading_goes_on(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", 'a,b\n1,"' + "x" * 200_000 + '"\n2,ok\n')
    got = rows(p)
    assert isinstance(got[0], BadRow) and got[0].line_no == 2 and "field larger than field limit" in got[0].reason
    assert got[1:] == [(3, {"a": "2", "b": "ok"})]


def test_csv_oversized_quoted_cell_over_several_lines_is_one_bad_row(tmp_path: Path) -> None:
    # the lines after the failing one are still inside the quoted cell: they are not rows of their own
    # (before: `4,not a row"` came out as a row, and a cell holding a whole CSV line could load it)
    big = "x" * 200_000
    p = write(tmp_path, "a.csv", f'a,b\n1,"{big}\n4,not a row\n""quoted"" {big}\nend"\n2,ok\n3,"{big}\n')
    assert rows(p) == [
        BadRow(2, "field larger than field limit (131072) (lines 2-5)", ""),
        (6, {"a": "2", "b": "ok"}),
        BadRow(7, f"field larger than field limit (131072) (line 7); {UNCLOSED}", "", kind="cut"),
    ]


def test_gzip_cut_inside_an_oversized_quoted_cell_is_a_source_error(tmp_path: Path) -> None:
    # the rest of the cell is skipped after the csv error, and the cut lies in that rest: before, gzip's EOFError
    # came out of the reader as itself (a traceback) instead of "cannot read past"
    body = b'a,b\n1,ok\n2,"' + b"x" * 150_000 + b"\n" + b"y" * 150_000 + b'"\n3,ok\n'
    data = gzip.compress(body, 1)
    p = write(tmp_path, "a.csv", data[: len(data) * 3 // 4])
    got: list[Any] = []
    with pytest.raises(SourceError, match="cannot read past line 2:"):
        got.extend(Source(p))
    assert got == [(2, {"a": "1", "b": "ok"})]


def test_csv_row_that_looks_like_the_end_of_file_marker_is_still_a_row(tmp_path: Path) -> None:
    # before: a line starting with the reader's private end-of-file marker vanished (neither read nor rejected)
    p = write(tmp_path, "a.csv", 'a,b\n\ue000\uf8ff\ue000",1,2\n3,4\n')
    got = rows(p)
    assert [type(r).__name__ if isinstance(r, BadRow) else r for r in got] == ["BadRow", (3, {"a": "3", "b": "4"})]
    assert isinstance(got[0], BadRow) and got[0].line_no == 2 and got[0].reason == "row has 3 cells, the header has 2"
    # a cell holding the marker's characters, in a row too wide, is no end of file: before, the row was taken for
    # one the file ends inside, and named by the cells before that one only (its journal lost, its voucher another)
    wide = write(tmp_path, "b.csv", 'a,b,v,j\n1,\ue000\uf8ff\ue000,8,1,x\n2,"open \ue000\uf8ff\ue000,\n')
    bad, cut = rows(wide)
    assert isinstance(bad, BadRow) and bad.reason == "row has 5 cells, the header has 4"
    assert bad.partial == {}  # a cell put in: where cannot be told
    assert isinstance(cut, BadRow) and cut.reason == UNCLOSED and cut.partial == {"a": "2"}
    assert list(Source(wide).cells())[1] == (3, ["2", "open \ue000\uf8ff\ue000,\n"])


def test_bad_row_raw_is_clipped(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "a\n" + "y" * 5000 + ",z\n")
    (bad,) = rows(p)
    assert isinstance(bad, BadRow) and len(bad.raw) == MAX_RAW and bad.raw == "y" * MAX_RAW


# --- JSONL ---------------------------------------------------------------------------------------------


def test_jsonl_rows_bad_lines_nulls_and_blanks(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "a.jsonl",
        '{"a": 1, "b": {"c": [1, 2]}}\n\n  \n{"a": null, "b": "x"}\n{"a": \n[1, 2]\n"s"\nnull\r\n{"d": 1.5}\r\n',
    )
    got = rows(p)
    assert got[0] == (1, {"a": 1, "b": {"c": [1, 2]}})
    assert got[1] == (4, {"b": "x"})
    assert isinstance(got[2], BadRow) and got[2][:1] == (5,) and got[2].reason.startswith("invalid JSON: ")
    assert got[2].raw == '{"a": '
    assert got[3:6] == [
        BadRow(6, "expected a JSON object, got an array", "[1, 2]"),
        BadRow(7, "expected a JSON object, got a string", '"s"'),
        BadRow(8, "expected a JSON object, got null", "null"),
    ]
    assert got[6] == (9, {"d": 1.5})
    assert len(got) == 7


def test_a_broken_jsonl_line_names_the_voucher_its_strings_say(tmp_path: Path) -> None:
    # a string it shows means what JSON's escapes say: before, "\\u00a00005\\t" was taken as written, a voucher
    # of its own, and voucher 5 loaded without this line of it
    p = write(
        tmp_path,
        "a.jsonl",
        b'{"voucherNumber": 5}\n'
        b'\xef\xbb\xbf{"voucherNumber": "\\u00a00005\\t", "j": "a\\u0000"}\n{"voucherNumber": "6\\q", "x": \n',
    )
    _, bom, broken = rows(p)
    assert isinstance(bom, BadRow) and bom.partial == {"voucherNumber": "0005", "j": "a"}
    assert isinstance(broken, BadRow) and broken.partial == {"voucherNumber": "6\\q"}  # a broken escape: as written


def test_jsonl_column_mapping_and_bom(tmp_path: Path) -> None:
    p = write(tmp_path, "a.ndjson", b'\xef\xbb\xbf{"Dato": "2024", "skip": 1, "keep": null, "x": 2}\n')
    src = Source(p, columns={"Dato": "date", "skip": ""})
    assert src.fields() is None and src.fmt == "jsonl"
    assert list(src) == [(1, {"date": "2024", "x": 2})]


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", gzip.compress(b""), b"\xef\xbb\xbf\n\n"])
def test_jsonl_empty_file_has_no_rows(tmp_path: Path, data: bytes) -> None:
    # before: an empty (or BOM-only) file gave one rejected row "invalid JSON: Input data was truncated"
    assert rows(write(tmp_path, "a.jsonl", data)) == []


def test_jsonl_deeply_nested_line_is_a_bad_row_not_a_crash(tmp_path: Path) -> None:
    # before: msgspec's RecursionError escaped the reader and the command died with a traceback
    p = write(tmp_path, "a.jsonl", b'{"a":' * 100_000 + b"\n" + b"[" * 100_000 + b'\n{"a": 1}\n')
    assert rows(p) == [
        BadRow(1, "invalid JSON: nested too deeply", '{"a":' * 400),
        BadRow(2, "invalid JSON: nested too deeply", "[" * 2000),
        (3, {"a": 1}),
    ]


def test_a_jsonl_line_whose_text_ends_in_half_a_character_is_told_so_not_cut_short(tmp_path: Path) -> None:
    # found by tester t30a: a whole line whose text ends in a lone surrogate escape (an export cutting a text in the
    # middle of an emoji) was rejected "invalid JSON: Input data was truncated", msgspec's word: the user looks for a
    # cut file. A line that is cut short is still told so
    p = write(tmp_path, "a.jsonl", b'{"a": 1, "b": "Fest \\ud83c"}\n{"a": "x \\ud83c\n{"a": 2}\n')
    first, second, third = rows(p)
    assert isinstance(first, BadRow) and isinstance(second, BadRow), (first, second)
    assert first.reason == (
        "invalid JSON: \\ud83c at byte 21 is half of a character (a UTF-16 surrogate without the half after it): a "
        "text cut in the middle of one, such as an emoji"
    )
    assert second.reason == "invalid JSON: Input data was truncated"
    assert third == (3, {"a": 2})


def test_jsonl_invalid_utf8_line_is_bad_and_later_lines_are_read(tmp_path: Path) -> None:
    p = write(tmp_path, "a.jsonl", b'{"a": "\xff"}\n{"a": "\xc3\xa6"}\n')
    assert rows(p) == [
        BadRow(1, "invalid UTF-8 (byte 0xff) at byte 8", '{"a": "\ufffd"}', {"a": "\ufffd"}, "encoding"),
        (2, {"a": "æ"}),
    ]


@pytest.mark.parametrize("line", [b'{"a": "\xc2\x85", ', b'\xef\xbb\xbf{"a": "caf\xc2\x92"}'])
def test_a_jsonl_line_that_is_no_json_is_judged_by_its_encoding_first(tmp_path: Path, line: bytes) -> None:
    # a C1 control character says the file is not UTF-8 whether or not the line around it is valid JSON (as an
    # undecodable byte does); before: a broken line holding one was a plain bad row, and the file was loaded
    p = write(tmp_path, "a.jsonl", b'{"a": "1"}\n' + line + b'\n{"a": "2"}\n')
    first, bad, last = rows(p)
    assert isinstance(bad, BadRow) and bad.kind == "encoding" and "control character U+00" in bad.reason
    assert (first, last) == ((1, {"a": "1"}), (3, {"a": "2"}))


# --- format, gzip, files -------------------------------------------------------------------------------


def test_format_sniffed_from_content_when_the_name_says_nothing(tmp_path: Path) -> None:
    assert Source(write(tmp_path, "data.txt", '\n  {"a": 1}\n')).fmt == "jsonl"
    assert Source(write(tmp_path, "data.dat", "a,b\n")).fmt == "csv"
    assert Source(write(tmp_path, "x.csv", '{"a": 1}\n'), fmt="JSONL").fmt == "jsonl"
    with pytest.raises(ConfigError, match="unknown format"):
        Source(tmp_path / "x.csv", fmt="xml")


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    zipped_csv = write(tmp_path, "a.csv", gzip.compress(b"a,b\n1,2\n"))
    src = Source(zipped_csv)
    assert src.compressed and src.fmt == "csv"
    assert list(src) == [(2, {"a": "1", "b": "2"})]
    plain_gz = write(tmp_path, "b.csv.gz", "a\n3\n")
    assert not Source(plain_gz).compressed
    assert rows(plain_gz) == [(2, {"a": "3"})]


def test_gzip_jsonl_with_format_sniffed_inside_the_compression(tmp_path: Path) -> None:
    p = write(tmp_path, "export.gz", gzip.compress(b'{"a": 1}\n\n{"a": 2}\n'))
    src = Source(p)
    assert src.compressed and src.fmt == "jsonl"
    assert list(src) == [(1, {"a": 1}), (3, {"a": 2})]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_truncated_gzip_yields_complete_rows_then_source_error(tmp_path: Path, fmt: str) -> None:
    n = 20_000
    if fmt == "csv":
        body = "id,text\n" + "".join(f"{i},row number {i}\n" for i in range(n))
    else:
        body = "".join(f'{{"id": {i}, "text": "row number {i}"}}\n' for i in range(n))
    data = gzip.compress(body.encode())
    p = write(tmp_path, f"a.{fmt}.gz", data[: len(data) // 2])
    got: list[Any] = []
    with pytest.raises(SourceError, match=rf"a\.{fmt}\.gz: cannot read past line \d+") as info:
        got.extend(Source(p))  # extend keeps what came before the error
    first = 2 if fmt == "csv" else 1
    assert 1000 < len(got) < n
    assert [ln for ln, _ in got] == list(range(first, first + len(got)))  # nothing skipped, nothing partial
    assert all(rec["id"] == (str(i) if fmt == "csv" else i) for i, (_, rec) in enumerate(got))
    assert f"line {got[-1][0]}:" in str(info.value)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_gzip_cut_in_its_trailer_still_yields_every_row(tmp_path: Path, fmt: str) -> None:
    # before: the buffer over GzipFile asked for 64 KiB at once, and the EOFError of the cut stream threw away
    # the complete rows decompressed in that read (here the last ~600, or the header of a small file)
    n = 100_000
    if fmt == "csv":
        body = "id\n" + "".join(f"{i}\n" for i in range(n))
    else:
        body = "".join(f'{{"id": {i}}}\n' for i in range(n))
    p = write(tmp_path, f"a.{fmt}", gzip.compress(body.encode())[:-4])
    got: list[Any] = []
    last = n + 1 if fmt == "csv" else n
    with pytest.raises(SourceError, match=f"cannot read past line {last}:"):
        got.extend(Source(p))
    assert len(got) == n
    small = write(tmp_path, f"b.{fmt}", gzip.compress(body[:40].rsplit("\n", 1)[0].encode() + b"\n")[:-1])
    with pytest.raises(SourceError):
        got = []
        got.extend(Source(small))
    assert len(got) == (body[:40].count("\n") - (1 if fmt == "csv" else 0))


def test_missing_file_is_a_config_error_when_opened_not_before(tmp_path: Path) -> None:
    src = Source(tmp_path / "nope.csv")  # constructing is fine
    with pytest.raises(ConfigError, match=r"cannot read .*nope\.csv"):
        src.fields()
    with pytest.raises(ConfigError, match=r"cannot read .*nope\.csv"):
        list(src)
    with pytest.raises(ConfigError, match="cannot read"):
        assert Source(tmp_path).compressed  # a directory


@pytest.mark.parametrize("data", [b"a\n1\n2\n", gzip.compress(b'{"a": 1}\n{"a": 2}\n')])
def test_abandoned_iteration_closes_the_file(tmp_path: Path, data: bytes) -> None:
    it = iter(Source(write(tmp_path, "a.dat", data)))
    assert next(it)[0] in (1, 2)
    del it  # an unclosed file would raise ResourceWarning, an error under filterwarnings=error
    gc.collect()


def test_sha256_of(tmp_path: Path) -> None:
    data = b"a,b\n" * 100_000
    assert sha256_of(write(tmp_path, "a.csv", data)) == hashlib.sha256(data).hexdigest()
    with pytest.raises(ConfigError, match="cannot read"):
        sha256_of(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("line", "twice", "partial", "field"),
    [
        (
            b'{"voucherNumber": "7", "amount": "10.00", "amount": "20.00"}',
            "'amount' is",
            {"voucherNumber": "7"},
            "amount",
        ),
        (b'{"voucherNumber" : "7", "voucherNumber":"8"}', "'voucherNumber' is", {}, "voucherNumber"),  # a space
        (
            b'{"voucherNumber": "7", "billAddr": {"city": "A", "city": "B"}}',
            "'city' is",
            {"voucherNumber": "7"},
            "billAddr",
        ),
        (b'{"Amount": "10.00", "amount": "20.00", "text": "10:00"}', "'amount' is", {"text": "10:00"}, "amount"),
    ],
    ids=["a-value", "the-key", "nested", "renamed"],
)
def test_a_jsonl_key_given_twice_makes_the_row_bad(
    tmp_path: Path, line: bytes, twice: str, partial: Any, field: str
) -> None:
    # JSON keeps the last of two values for one key: the file's meaning cannot be told, so neither is taken. The
    # rejects file's `field` names the field that holds it (found by a tester: it was empty)
    path = write(tmp_path, "d.jsonl", line + b'\n{"voucherNumber": "8", "amount": "1.00", "text": "at 10:00"}\n')
    first, second = list(Source(path, columns={"Amount": "amount"}))
    assert isinstance(first, BadRow) and f"the key {twice} given twice" in first.reason and first.field == field
    assert first.partial is not None and {k: v for k, v in first.partial.items() if k != "billAddr"} == partial
    assert second == (2, {"voucherNumber": "8", "amount": "1.00", "text": "at 10:00"})
    # the rejects file shows the line as written, both values (found by a tester: the last one only)
    written = dict(Source(path, columns={"Amount": "amount"}).cells())
    assert all(value in str(written[1]) for value in re.findall(r': ?"([^"]*)"', line.decode())), written[1]
    if field == "billAddr":  # its own JSON text, keys and all (found by a tester: {"city":["A","B"]}, which loaded)
        assert written[1] == {"voucherNumber": "7", "billAddr": '{"city": "A", "city": "B"}'}
    assert written[2] == {"voucherNumber": "8", "amount": "1.00", "text": "at 10:00"}


@pytest.mark.parametrize("secrets", [frozenset(), frozenset({"new_client_secret"})], ids=["plain", "secrets"])
def test_the_rejects_file_shows_every_value_of_a_key_given_twice(tmp_path: Path, secrets: frozenset[str]) -> None:
    # found by a tester: the rejects file had no record at all for such a line (or, with secrets, the last value).
    # And then each value was put in a JSON list ([10.50,20]), a value the line never held, which a text field loads
    # as it is; then the others went after the last column, and the row, wider than its header, was refused loaded
    # back as "row has 13 cells, the header has 12" (found by a tester). Every value is in the key's own column,
    # marked so that loaded back before one is kept the row is refused saying so
    line = b'{"name": "dup", "amount": 10.50, "amount": 20, "new_client_secret": "S1", "new_client_secret": "S2"}'
    path = write(tmp_path, "j.jsonl", line + b"\n")
    out = tmp_path / "rejects.csv"
    rejected = [RowOutcome(0, 1, "rejected", "", "the key 'amount' is given twice")]
    written = write_rejects(str(out), lambda: rejected, [Source(path, secrets=secrets)], [str(path)])
    assert written[:2] == (1, 1 if secrets else 0), written
    with out.open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["name"] == "dup" and row["amount"] == "given twice, keep one: 10.50 | 20", row
    assert row["new_client_secret"] == ("***" if secrets else "given twice, keep one: S1 | S2"), row
    assert None not in row, row  # as wide as the header
    (again,) = list(Source(out))
    assert isinstance(again, BadRow) and again.field == "amount", again
    assert again.partial is not None and again.partial["name"] == "dup" and "amount" not in again.partial, again
    assert "'amount' twice" in again.reason and "keep the one meant" in again.reason, again.reason
    out.write_text(out.read_text(encoding="utf-8").replace("given twice, keep one: 10.50 | 20", "20"), "utf-8")
    (kept,) = list(Source(out))
    assert isinstance(kept, BadRow) == (not secrets) and (secrets or kept.field == "new_client_secret"), kept


@pytest.mark.parametrize("secrets", [frozenset(), frozenset({"client_secret"})], ids=["plain", "secrets"])
def test_the_rejects_file_keeps_a_nested_values_numbers_and_a_short_rows_shortness(
    tmp_path: Path, secrets: frozenset[str]
) -> None:
    # found by a tester: a rejected row's nested numbers came back as text ([{"id":"2e0","rate":"1.50"}]), and so
    # were loaded once the row was fixed; a row of fewer cells was padded, and loaded back with a guess. Each value
    # is its JSON text as the line writes it, digits and all (before: 2e0 came back 2, 1e3 as 1E+3)
    line = b'{"name": "J8", "client_secret": "S", "list": [{"id": 2e0, "rate": 1.50, "big": 1e400}], "top": 1e3}'
    j = write(tmp_path, "j.jsonl", line + b"\n")
    c = write(tmp_path, "c.csv", "a,b,c\n1,2\n")
    rejected = [RowOutcome(0, 1, "rejected", "", "bad"), RowOutcome(1, 2, "rejected", "", "short")]
    out = tmp_path / "rejects.csv"
    assert (
        write_rejects(str(out), lambda: rejected, [Source(j, secrets=secrets), Source(c)], [str(j), str(c)]).rows == 2
    )
    with out.open(encoding="utf-8", newline="") as fh:
        header, jsonl, short = list(csv.reader(fh))
    cells = dict(zip(header, jsonl))
    assert cells["list"] == '[{"id": 2e0, "rate": 1.50, "big": 1e400}]' and cells["top"] == "1e3", cells
    assert cells["client_secret"] == ("***" if secrets else "S")
    assert header[4:] == ["a", "b", "c", "name", "client_secret", "list", "top"] and short[4:] == ["1", "2"], short


def test_the_rejects_file_of_a_jsonl_input_reads_back_as_the_line_meant(tmp_path: Path) -> None:
    # found by a tester: null and the text "null" were both written `null`, and the fixed rejects file loaded the
    # text "null" where the line meant no value. Null is an empty cell (absent, as null is), text is itself
    line = (
        '{"a": null, "b": "null", "c": true, "d": false, "e": 1.50, "f": -0, "h": 1e2, "s": " ", '
        '"g": {"x": null, "y": 2e0, "z": "null"}}\n{"a": null, "b": "null", "e": -0.0}\n'
    )
    j = write(tmp_path, "j.jsonl", line)
    out = tmp_path / "j.jsonl.rejects.csv"
    rejected = [RowOutcome(0, 1, "rejected", "", "bad"), RowOutcome(0, 2, "rejected", "", "bad")]
    assert write_rejects(str(out), lambda: rejected, [Source(j)], [str(j)]).rows == 2
    with out.open(encoding="utf-8", newline="") as fh:
        header, first, second = list(csv.reader(fh))
    assert dict(zip(header[4:], first[4:])) == {
        "a": "",
        "b": "null",
        "c": "true",
        "d": "false",
        "e": "1.50",
        "f": "-0",
        "h": "1e2",
        "s": " ",
        "g": '{"x": null, "y": 2e0, "z": "null"}',
    }
    # loaded again, each row holds what its line held: no `a`, the text null, the same numbers and nested value
    assert list(Source(out)) == [
        (2, {"b": "null", "c": "true", "d": "false", "e": "1.50", "f": "-0", "h": "1e2", "g": first[-1]}),
        (3, {"b": "null", "e": "-0.0"}),
    ]


def test_a_bad_jsonl_row_of_a_file_with_secrets_may_hold_lists(tmp_path: Path) -> None:
    # found by a tester: a HaloPSA line with a key twice and an array value stopped the run (TypeError: unhashable
    # type: 'list', an internal error) where it is one bad row
    path = write(tmp_path, "q.jsonl", b'{"name": "Q8", "name": "Q8b", "sync_entities_list": [{"id": 1}]}\n')
    (bad,) = list(Source(path, secrets=frozenset({"client_secret"})))
    assert isinstance(bad, BadRow) and "'name' is given twice" in bad.reason
    assert bad.partial == {"sync_entities_list": [{"id": 1}]}


def test_a_nul_character_in_a_value_makes_the_row_bad(tmp_path: Path) -> None:
    csv_file = tmp_path / "n.csv"
    csv_file.write_bytes(b"a,b\n1,ok\n2,bad\x00value\n3,ok\n")
    rows = list(Source(csv_file))
    assert [r[0] for r in rows] == [2, 3, 4]
    assert isinstance(rows[1], BadRow) and "NUL" in rows[1].reason and "\x00" not in rows[1].raw
    jsonl = tmp_path / "n.jsonl"
    jsonl.write_bytes(b'{"a": "ok"}\n{"a": "bad\\u0000"}\n')
    got = list(Source(jsonl))
    assert not isinstance(got[0], BadRow) and isinstance(got[1], BadRow) and "NUL" in got[1].reason
    # the bad line still names its voucher, as a CSV row does (before: none, so it stood alone and the rest of its
    # voucher loaded without it)
    voucher = write(tmp_path, "v.jsonl", b'{"voucherNumber": "7\\u0000", "journalNumber": 1, "text": "\\u0000"}\n')
    (bad,) = list(Source(voucher))
    assert isinstance(bad, BadRow) and bad.partial == {"voucherNumber": "7", "journalNumber": 1}


# --- the file's own shape: encodings, Excel's sep= line and trailing delimiter ----------------------------


#: pieces of a file for Utf8Scan: ASCII (a letter, a space), line ends, UTF-8 characters of 2 to 4 bytes (those that
#: tell UTF-8 from 8-bit text; two-byte ones that tell only back to back: Latin Extended-A, of which `ł` tells before
#: a letter, `ą` and `Ŕ` read both ways before no letter, `Œ` anywhere and `Š` nowhere; Cyrillic, whose neighbour
#: an ASCII letter makes it read both ways, U+0600-U+07FF and Latin Extended-B that read both ways alone, and the
#: Azerbaijani letter that Windows-1252 cannot write, which does not), and what UTF-8 never holds (a byte alone, a
#: character cut short, a surrogate, an overlong form)
_PIECES = [b"a", b" ", b"\n", b"\r", b"\r\n", "ü".encode(), "€".encode(), "😀".encode(), "ߖ".encode(), "Ŕ".encode()]
_PIECES += ["ł".encode(), "ą".encode(), "Œ".encode(), "Š".encode()]
_PIECES += ["ж".encode(), "Ʌ".encode(), "Ə".encode(), b"\xf8", b"\xc3", b"\xdf", b"\x80", b"\xe2\x82", b"\xf0\x9f\x98"]
_PIECES += [b"\xed\xa0\x80", b"\xc0\xaf", b"\xf5\x80\x80\x80"]


def _utf8_oracle(data: bytes) -> Utf8Found:
    """What Utf8Scan finds, judged slowly: the whole file decoded at once (each byte that is not UTF-8 a lone
    surrogate) and searched as text, lines counted by a regex."""

    def line(at: int) -> int:
        return len(re.findall(rb"\r\n|\r|\n", data[:at])) + 1

    past = next((line(i) for i, b in enumerate(data) if b >= 0x80), 0)
    try:
        data.decode()
        not_utf8, end = 0, len(data)
    except UnicodeDecodeError as exc:
        not_utf8, end = line(exc.start), exc.start
    text = data.decode(errors="surrogateescape")
    starts = [0]  # where each character starts in the bytes
    for ch in text:
        starts.append(starts[-1] + (1 if "\udc80" <= ch <= "\udcff" else len(ch.encode())))
    telling, lone = TELLS_UTF8.search(text), READS_BOTH_WAYS.search(text)
    utf8 = line(starts[telling.start()]) if telling else 0
    before = min(end, starts[telling.start()] if telling else end)
    both_ways = line(starts[lone.start()]) if lone and starts[lone.start()] < before else 0
    return Utf8Found(past, utf8, not_utf8, both_ways)


def _scanned(data: bytes, cuts: list[int], enough: Callable[[Utf8Found], bool]) -> Utf8Found:
    """What Utf8Scan finds in `data` fed in blocks cut at `cuts`, until what it found is `enough`."""
    at = sorted({min(c, len(data)) for c in cuts} | {0, len(data)})
    scan = Utf8Scan()
    done = False
    for start, end in zip(at, at[1:]):
        if done := enough(scan.feed(data[start:end])):
            break
    return scan.found(ended=not done)


@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.lists(st.integers(0, 200), max_size=6))
def test_utf8_scan_finds_what_the_whole_file_decoded_at_once_shows(pieces: list[bytes], cuts: list[int]) -> None:
    # the blocks may cut a character or a CR LF anywhere; stopped once both kinds are found, all else is known
    data = b"".join(pieces)
    assert _scanned(data, cuts, lambda f: bool(f.utf8 and f.not_utf8)) == _utf8_oracle(data)


@given(st.lists(st.sampled_from(_PIECES), max_size=40), st.lists(st.integers(0, 200), max_size=6))
def test_utf8_scan_stopped_at_the_first_sign_either_way_knows_whether_the_bytes_read_both_ways(
    pieces: list[bytes], cuts: list[int]
) -> None:
    # how a file read as UTF-8 by default is judged (profile._either_way): only as far as a character that tells UTF-8
    # or a byte that is not UTF-8
    data = b"".join(pieces)
    found, whole = _scanned(data, cuts, lambda f: bool(f.utf8 or f.not_utf8)), _utf8_oracle(data)
    assert found.either == whole.either and (not found.either or found.both_ways == whole.both_ways), (found, whole)


def test_windows_1252_file_whose_bytes_hold_utf8_after_its_own_is_found_mixed() -> None:
    scan = Utf8Scan()
    scan.feed("id;text\r\n1;Kørsel\r\n2;".encode("cp1252") + b"M\xc3")
    assert scan.found(ended=False) == Utf8Found(past_ascii=2, utf8=0, not_utf8=2)
    assert scan.feed(b"\xbcller\r\n").utf8 == 3  # the character cut by the block is found whole
    assert scan.found() == Utf8Found(past_ascii=2, utf8=3, not_utf8=2)


def test_windows_1252_letters_before_punctuation_are_utf8_that_reads_both_ways() -> None:
    # ß then – (DF 96) is the NKo letter U+07D6 in UTF-8; a Cyrillic letter alone after it tells nothing, a word of
    # them (two or more back to back) does, as ü (C3 BC) does
    scan = Utf8Scan()
    head = "id;text\r\n1;Rechnung\r\n2;Weiß–Schwarz\r\n".encode("cp1252")
    assert scan.feed(head + "3;ж 5\r\n".encode()) == Utf8Found(past_ascii=3, both_ways=3) and scan.found().either
    assert scan.feed("4;Счёт".encode()) == Utf8Found(past_ascii=3, utf8=5, both_ways=3)
    assert not scan.found().either


def _found(data: bytes) -> Utf8Found:
    scan = Utf8Scan()
    scan.feed(data)
    return scan.found()


@pytest.mark.parametrize("word", ["Счёт", "Мо", "Τιμολόγιο", "חשבונית", "فاتورة"])
def test_two_byte_characters_back_to_back_tell_utf8(word: str) -> None:
    # a word of Cyrillic, Greek, Hebrew or Arabic letters, all of two bytes (D0 9C D0 BE for Мо): Windows-1252 would
    # write letter, punctuation, letter, punctuation with nothing between (ÐœÐ¾, which is itself UTF-8 garbled)
    cp1252 = "1;Kørsel Århus\r\n".encode("cp1252")
    found = _found(cp1252 + f"2;{word}\r\n".encode())
    assert found == Utf8Found(past_ascii=1, utf8=2, not_utf8=1), found
    # what Windows-1252 writes for a letter before punctuation (ß“, Å”) alone still tells nothing
    assert _found(cp1252 + "Fuß“ Å” ß–".encode("cp1252")).utf8 == 0


@pytest.mark.parametrize(
    ("text", "both_ways", "utf8"),
    [
        ("CAFÉ…".encode("cp1252"), 2, 0),  # C9 85: U+0245 Ʌ, of Latin Extended-B
        # found by a tester: Windows-1252's accented capital before ™ ’ › » was read as a letter a language writes
        ("NESCAFÉ™".encode("cp1252"), 2, 0),  # C9 99: U+0259 ə, Azerbaijani's
        ("VOCÊ»".encode("cp1252"), 2, 0),  # CA BB: U+02BB ʻ, which Uzbek and Hawaiian write
        ("PRÈ™ PRÈ›".encode("cp1252"), 2, 0),  # C8 99, C8 9B: Romanian ș ț
        ("Æ’".encode("cp1252"), 2, 0),  # C6 92: ƒ, the florin sign
        ("Æ°".encode("cp1252"), 2, 0),  # C6 B0: Vietnamese ư
        ("ESPAÑ”".encode("cp1252"), 2, 0),  # D1 94: the Cyrillic є, beside a Latin letter
        ("5 Ñ” 6".encode("cp1252"), 0, 0),  # the same beside no letter: in UTF-8 text as likely a symbol
        ("Weiß–Schwarz".encode("cp1252"), 2, 0),  # DF 96: the NKo letter U+07D6
        # Latin Extended-A letters that Windows-1252 reads as a letter (Č is ÄŒ), a space (Š is Å\xa0), or not at
        # all (Đ, Ł: C4 90, C5 81)
        ("Šibenik, Đakovo, Čakovec, Łeba".encode(), 0, 0),
        ("Bakı Ərazi, Nǐ".encode(), 0, 0),  # Latin Extended-B that languages write and Windows-1252 cannot
        # the others the languages write read both ways alone, where their text tells UTF-8 by its other letters
        ("Timișoara, România".encode(), 2, 2),  # Romanian â
        ("Bakı, Əhməd küçəsi".encode(), 2, 2),  # Azerbaijani ü ç
        ("Cảm ơn".encode(), 0, 2),  # Vietnamese: a tone mark of three bytes before ơ
        ("مرحبا بالعالم".encode(), 0, 2),  # Arabic words: their letters back to back tell UTF-8
        ("CAFÉ… ".encode("cp1252") + "مرحبا".encode(), 2, 2),  # and Ʌ then reads as UTF-8 alone
    ],
)
def test_a_lone_character_that_windows_1252_writes_reads_both_ways(text: bytes, both_ways: int, utf8: int) -> None:
    # before: CAFÉ… (C9 85) without --encoding was read as UTF-8's CAFɅ, and a UTF-8 file of Arabic words alone
    # read both ways
    found = _found(b"id;text\r\n" + text)
    assert (found.both_ways, found.utf8, found.either) == (both_ways, utf8, bool(both_ways and not utf8)), found


@pytest.mark.parametrize(
    ("text", "both_ways", "utf8"),
    [
        # found by a tester: Windows-1252's Å or Ä (C5, C4) before … or ’ is a Latin Extended-A letter in UTF-8, and
        # such a file was read as UTF-8 ('PŅ', 'YHTEENSą', 'SKŒS') without --encoding
        ("HUSLEJE BETALT PÅ…".encode("cp1252"), 2, 0),  # C5 85: Ņ, before the line's end
        ("MOMS YHTEENSÄ…;5".encode("cp1252"), 2, 0),  # C4 85: ą, before a delimiter
        ("SKÅ’S".encode("cp1252"), 2, 0),  # C5 92: Œ, where ’ is an apostrophe between letters
        ("«PÅ”»".encode("cp1252"), 0, 0),  # beside bytes that are not UTF-8 (« is AB alone): Windows-1252
        ("JA ÄR PÅ…".encode("cp1252"), 0, 0),  # Ä before R (C4 52) is no UTF-8
        ("UMEÅ–LULEÅ".encode("cp1252"), 0, 0),  # a dash between letters, and Å at the end, no UTF-8
        # UTF-8 of Polish, Czech, Latvian, Lithuanian, Croatian, Turkish: where such a letter has a letter after it,
        # Windows-1252 reads punctuation between letters (OpÅ‚ata), which its text never writes: it tells UTF-8
        ("Opłata za usługę".encode(), 0, 2),
        ("Zapłacono kawą".encode(), 0, 2),  # ą ending the text, after ł told UTF-8
        ("Platba předem, půjčka".encode(), 0, 2),
        ("Rēķins par īri Rīgā".encode(), 0, 2),
        ("Sąskaita už paslaugas".encode(), 0, 2),
        ("Račun za ožujak".encode(), 0, 2),
        ("Fatura İstanbul".encode(), 0, 2),
        # a word-final letter whose second byte Windows-1252 writes after no letter (ę is Ä™, ć Ä‡, ě Ä›) tells
        # nothing and reads as nothing else
        ("się być obě".encode(), 0, 0),
        # a text whose only such letter ends a word as Windows-1252's … would: as likely Ä…
        ("kawą".encode(), 2, 0),
    ],
)
def test_latin_extended_a_reads_both_ways_where_windows_1252_punctuation_would_end_a_word(
    text: bytes, both_ways: int, utf8: int
) -> None:
    found = _found(b"id;text\r\n" + text)
    assert (found.both_ways, found.utf8, found.either) == (both_ways, utf8, bool(both_ways and not utf8)), found
    if both_ways:  # the same before the file's end, a line end, or the end of a block with a line end after it
        assert _found(b"id;text\r\n" + text + b"\r\n").either == found.either
        assert _scanned(b"id;text\r\n" + text + b"\r\n", [9 + len(text)], lambda f: False).either == found.either


def test_utf16_with_a_bom_is_read_as_utf16(tmp_path: Path) -> None:
    text = "text;amount\r\nKørsel Århus;1.250,00\r\n"
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        p = write(tmp_path, f"{codec}.csv", bom + text.encode(codec))
        src = Source(p)
        assert src.encoding == "utf-16" and src.fields() == ["text", "amount"]
        assert list(src) == [(2, {"text": "Kørsel Århus", "amount": "1.250,00"})]
    j = write(tmp_path, "a.jsonl", '{"text": "Øl", "amount": 1.5}\n'.encode("utf-16"))
    assert Source(j).fmt == "jsonl" and list(Source(j)) == [(1, {"text": "Øl", "amount": Decimal("1.5")})]


def test_another_encoding_is_read_when_named_and_is_an_encoding_fault_when_not(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "id;text\r\n1;Kørsel Århus\r\n2;ok\r\n".encode("cp1252"))
    assert list(Source(p, encoding="cp1252")) == [
        (2, {"id": "1", "text": "Kørsel Århus"}),
        (3, {"id": "2", "text": "ok"}),
    ]
    bad, good = list(Source(p))
    assert isinstance(bad, BadRow) and bad.kind == "encoding" and bad.reason == "invalid UTF-8 (byte 0xf8) in 'text'"
    assert good == (3, {"id": "2", "text": "ok"})
    with pytest.raises(ConfigError, match="unknown encoding 'klingon'"):
        Source(p, encoding="klingon")
    # a byte cp1252 leaves undefined is named the same way
    odd = write(tmp_path, "b.csv", b"id;text\n1;a\x81b\n")
    (row,) = list(Source(odd, encoding="cp1252"))
    assert isinstance(row, BadRow) and row.kind == "encoding" and "cp1252 (byte 0x81)" in row.reason


def test_excel_sep_line_names_the_delimiter_and_counts_as_a_line(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "sep=;\r\na;b\r\n1,5;2\r\n")
    src = Source(p)
    assert src.delimiter == ";" and src.sep_line and src.fields() == ["a", "b"]
    assert list(src) == [(3, {"a": "1,5", "b": "2"})]
    with pytest.raises(ConfigError, match="empty"):
        Source(write(tmp_path, "b.csv", "sep=;\n")).fields()
    # a tab names itself too (before: stripped as white space, so the line was taken for the header)
    tab = Source(write(tmp_path, "c.csv", "sep=\t\r\na\tb\t\r\n1,5\t2\t\r\n"))
    assert tab.delimiter == "\t" and tab.sep_line and list(tab) == [(3, {"a": "1,5", "b": "2"})]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_the_bom_of_the_encoding_given_is_no_part_of_the_first_column(tmp_path: Path, codec: str) -> None:
    # found by a tester: Excel's "Unicode text" (UTF-16 LE with its BOM) given --encoding utf-16-le was refused as
    # "no column entryTypeNumber (did you mean '\ufeffentryTypeNumber'?)"; the BOM is the encoding's, not the name's
    text = "\ufefftext;amount\r\nKørsel Århus;1.250,00\r\n"
    src = Source(write(tmp_path, f"{codec}.csv", text.encode(codec)), encoding=codec)
    assert src.fields() == ["text", "amount"] and list(src) == [(2, {"text": "Kørsel Århus", "amount": "1.250,00"})]
    sep = Source(write(tmp_path, f"sep-{codec}.csv", ("\ufeffsep=;\r\n" + text[1:]).encode(codec)), encoding=codec)
    assert sep.sep_line and sep.fields() == ["text", "amount"]
    j = write(tmp_path, f"{codec}.jsonl", '\ufeff{"text": "Øl", "amount": 1.5}\n'.encode(codec))
    assert list(Source(j, encoding=codec)) == [(1, {"text": "Øl", "amount": Decimal("1.5")})]


@pytest.mark.parametrize("name", ["a.csv", "a.jsonl"])
@pytest.mark.parametrize(
    ("data", "encoding", "said"),
    [
        # Excel's "CSV UTF-8" given --encoding cp1252: told 'ï»¿entryTypeNumber' was no column, where the same file
        # without its BOM is told it is UTF-8
        (b"\xef\xbb\xbfid,text\n1,plain\n", "cp1252", "--encoding cp1252 was given, but the file is UTF-8"),
        (b"\xef\xbb\xbfid,text\n1,plain\n", "latin-1", "leave --encoding out (or give --encoding utf-8)"),
        ("\ufeffid,text\n1,plain\n".encode("utf-16-le"), "cp1252", "the file is UTF-16 LE"),
        ("\ufeffid,text\n1,plain\n".encode("utf-16-le"), "utf-8", "the file is UTF-16 LE"),
        ("\ufeffid,text\n1,plain\n".encode("utf-16-le"), "utf-16-be", "give --encoding utf-16-le"),
        ("\ufeffid,text\n1,plain\n".encode("utf-16-be"), "utf-16-le", "give --encoding utf-16-be"),
    ],
)
def test_a_bom_of_another_encoding_than_the_one_given_refuses_the_file_naming_its_own(
    tmp_path: Path, name: str, data: bytes, encoding: str, said: str
) -> None:
    if name.endswith(".jsonl"):
        data = data.replace(",".encode(encoding if "16" in encoding else "ascii"), b"")
    with pytest.raises(ConfigError, match=re.escape(said)) as refused:
        list(Source(write(tmp_path, name, data), encoding=encoding))
    assert "nothing was sent" in str(refused.value)


_XLSX = (
    b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00!\x00\x93\x12\x1a\x0c\x13\x00\x00\x00\x13\x00\x00\x00\x13\x00\x00\x00"
    b"[Content_Types].xml\xb3\xb1\xaf\xc8\xcdQ(K-*\xce\xcc\xcf\xb3U2\xd43PR\xb0\xb7\x03\x00PK\x03\x04"
)
_ODS = b"PK\x03\x04\x14\x00\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x08\x00\x00\x00mimetype"
_ODS += b"application/vnd.oasis.opendocument.spreadsheetPK\x03\x04"


#: an OLE2 compound file's start: an .xls, a .doc, a .msg
_OLE2 = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(500)

#: an SQLite database (a ledger) as its file holds it
_SQLITE_DB = sqlite3.connect(":memory:")
_SQLITE_DB.execute("CREATE TABLE chunks (key TEXT PRIMARY KEY, state TEXT)")
_SQLITE = _SQLITE_DB.serialize()
_SQLITE_DB.close()


@pytest.mark.parametrize("name", ["e.csv", "e.xlsx", "e.jsonl"])
@pytest.mark.parametrize("encoding", [None, "utf-16-le", "cp1252"])
@pytest.mark.parametrize(
    ("data", "said"),
    [
        (_XLSX, "is an Excel workbook (.xlsx), not a CSV or JSONL file: save it as CSV"),
        (_ODS, "is an OpenDocument spreadsheet (.ods), not a CSV or JSONL file: save it as CSV"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00e.csv" + bytes(200), "is a zip archive, not a CSV or JSONL file: unpack"),
        (_OLE2, "is an old Office file (.xls, .doc …), not a CSV or JSONL file"),
        (_OLE2, "a workbook (.xls), save it as CSV from its spreadsheet program"),
        (b"BZh91AY&SY" + bytes(100), "is bzip2-compressed data"),
        (bytes.fromhex("FD377A585A00") + bytes(100), "is xz-compressed data"),
        (bytes.fromhex("28B52FFD") + bytes(100), "is zstd-compressed data"),
        # tester t34a: a PDF was told to remove the title lines above its header
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nstream\n\x00\x01\xff", "is a PDF document"),
        # tester t51a: the ledger beside the input (`FILE.ledger.sqlite`, one tab away from FILE) was told UTF-16
        # without a BOM; given --encoding utf-16-le, "give --encoding utf-16-be"; given that, "not valid utf-16-be"
        (_SQLITE, "is an SQLite database (a bulkload ledger is one: give it to --ledger of resume, reconcile"),
        # helper t74d: a web page (a download that gave a sign-in page) and an XML document were told that their first
        # line names none of the fields, to remove title lines above the header or rename the columns
        (b"\n  <!DOCTYPE html>\n<html><head><title>Sign in</title>", "is a web page (HTML), not a CSV or JSONL file"),
        (b"\xef\xbb\xbf<HTML>\n<body>Session expired</body>", "a download that gave a sign-in or error page instead"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml">',
            "is a web page (HTML)",
        ),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<Workbook>', "is an XML document (an Excel 2003 XML spreadsheet"),
    ],
)
def test_a_workbook_or_an_archive_is_refused_as_what_it_is_never_as_utf16(
    tmp_path: Path, name: str, encoding: str | None, data: bytes, said: str
) -> None:
    # found by a tester: each was told "the file looks like UTF-16 without a BOM; give --encoding utf-16-le", and
    # given it, an .xls the same again, an .xlsx "not valid utf-16-le after line 0"
    with pytest.raises(ConfigError, match=re.escape(said)) as refused:
        rows(write(tmp_path, name, data), encoding=encoding)
    assert "UTF-16" not in str(refused.value) and "nothing was sent" in str(refused.value)
    # inside a gzip, which is read: what it holds is told
    with pytest.raises(ConfigError, match=re.escape(said.replace("is", "holds", 1))):
        rows(write(tmp_path, name + ".gz", gzip.compress(data)), encoding=encoding)


@pytest.mark.parametrize("first", ["sep=;;;;;;;", '"sep=;"', '"sep=;";;;', "SEP=;;;  ", "sep=;\t"])
def test_a_sep_line_a_spreadsheet_padded_or_quoted_still_names_the_delimiter(tmp_path: Path, first: str) -> None:
    # found by a tester: a spreadsheet that opened a `sep=;` file as data and saved it again pads the line to the
    # sheet's width, or quotes it (it holds the delimiter); refused as "its first line ('sep=') names none of the
    # fields … (blank lines and Excel's sep= line aside)"
    src = Source(write(tmp_path, "a.csv", f"{first}\r\na;b;c\r\n1,5;2;\r\n"))
    assert src.delimiter == ";" and src.sep_line and src.fields() == ["a", "b", "c"]
    assert list(src) == [(3, {"a": "1,5", "b": "2"})]
    tab = Source(write(tmp_path, "t.csv", "sep=\t\t\t\r\na\tb\r\n1,5\t2\r\n"))
    assert tab.delimiter == "\t" and tab.sep_line and list(tab) == [(3, {"a": "1,5", "b": "2"})]


@pytest.mark.parametrize(("first", "other"), [("sep=;,,,,", ","), ("sep=,;;;;", ";"), ('"sep=,";;', ";")])
def test_a_sep_line_padded_with_another_delimiter_is_refused_naming_both(
    tmp_path: Path, first: str, other: str
) -> None:
    with pytest.raises(ConfigError, match="which delimiter the file's lines use cannot be told") as refused:
        Source(write(tmp_path, "a.csv", f"{first}\r\na;b\r\n1;2\r\n")).fields()
    named = first.strip('"').split("=")[1][0]
    assert f"names {named!r}" in str(refused.value) and f"padded with {other!r}" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        ("a,b\r\n1,2\r\n3,-50", 3),  # a download stopped inside the last cell: -50 of -5000.00
        ("sep=,\r\n\r\na,b\r\n1,2\r\n3,4", 5),
        ('a,b\n1,"x\ny"\n3,"p\nq"', 5),  # a record of two lines: the file's last line is named
        ("a,b\r\n1,2\r\n3,4\r\n", 0),
        ("a,b\r\n1,2\r\n3,4\r\n  ", 0),  # a blank last line holds no row
        ("a,b\r\n1,2\r\n3,4\r", 0),
        ("a,b\r\n1,2\r\n3,4\r\n,", 0),  # a line of only delimiters holds no row either
        ("a;b\r\n1;2\r\n3;4\r\n ; ", 0),
    ],
)
def test_a_csv_whose_last_line_has_no_line_end_names_it_once_read_whole(tmp_path: Path, data: str, line: int) -> None:
    path = write(tmp_path, "a.csv", data)
    src = Source(path)
    assert src.last_line_without_end == 0  # not read to its end yet
    list(src)
    assert src.last_line_without_end == line
    only = Source(path)
    list(only.rows({"a"}))
    assert only.last_line_without_end == line
    # a JSON line says where it ends: cut short it is no JSON
    j = Source(write(tmp_path, "a.jsonl", '{"a": 1}\n{"a": 2}'))
    list(j)
    assert j.last_line_without_end == 0


def test_a_file_that_is_not_in_the_encoding_given_from_its_start_is_said_so_not_after_line_0(tmp_path: Path) -> None:
    # found by a tester: "not valid UTF-16 after line 0"
    p = write(tmp_path, "a.csv", b"entryTypeNumber,amount\r\n5,1.00\r\n5,-1.00\r\n\xff")
    with pytest.raises(ConfigError, match="not valid UTF-16 at its start") as refused:
        Source(p, encoding="utf-16").fields()
    assert "line 0" not in str(refused.value)


@pytest.mark.parametrize("given", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("name", ["a.csv", "a.jsonl"])
def test_a_utf8_file_given_as_utf16_is_told_it_looks_like_utf8(tmp_path: Path, name: str, given: str) -> None:
    # found by a tester: Python's own "UTF-16 stream does not start with BOM", then "give --encoding with the file's
    # encoding", which was given
    text = "entryTypeNumber,amount\r\n5,Kørsel 1.00\r\n" if name.endswith("csv") else '{"amount": "1.00"}\n'
    with pytest.raises(ConfigError) as refused:
        rows(write(tmp_path, name, text), encoding=given)
    said = str(refused.value)
    label = "UTF-16" if given == "utf-16" else given
    assert f"--encoding {label} was given, but the file looks like UTF-8 (it decodes as UTF-8" in said, said
    assert "leave --encoding out; nothing was sent" in said, said
    assert "BOM" not in said, said


@pytest.mark.parametrize("written", ["utf-16-le", "utf-16-be"])
def test_a_csv_file_in_utf16_without_a_bom_is_told_its_byte_order(tmp_path: Path, written: str) -> None:
    # before: "give --encoding utf-16-le (or utf-16-be)", where the NULs' places tell which
    p = write(tmp_path, "a.csv", "entryTypeNumber,amount\r\n5,1.00\r\n".encode(written))
    with pytest.raises(ConfigError) as refused:
        rows(p)
    said = str(refused.value)
    assert said.endswith(f"the file looks like UTF-16 without a BOM; give --encoding {written}; nothing was sent"), said


def test_a_binary_file_is_told_as_likely_no_text_not_as_utf16(tmp_path: Path) -> None:
    # a tester (t40d): a binary file's few NULs were told "looks like UTF-16 without a BOM; give --encoding
    # utf-16-le (or utf-16-be)", which read it as other text
    p = write(tmp_path, "a.csv", b"\x13\x37ledger-dump v2\x00\x00\x00\x08\x01,entries,amounts\n1,2\n")
    with pytest.raises(ConfigError) as refused:
        rows(p)
    said = str(refused.value)
    assert "the header holds NUL characters, not every other byte as UTF-16 text" in said, said
    assert "likely no text (a binary file" in said and "looks like UTF-16" not in said, said


@pytest.mark.parametrize(("written", "given"), [("utf-16-le", "utf-16-be"), ("utf-16-be", "utf-16-le")])
@pytest.mark.parametrize("name", ["a.csv", "a.jsonl"])
def test_utf16_given_in_the_other_byte_order_is_told_to_swap_it(
    tmp_path: Path, written: str, given: str, name: str
) -> None:
    # found by a tester: told "its first line ('攀渀琀…') names none of the fields"
    text = "entryTypeNumber,amount\r\n5,1.00\r\n" if name.endswith("csv") else '{"amount": "1.00"}\n'
    with pytest.raises(ConfigError, match=re.escape(f"byte order is the other one: give --encoding {written}")):
        rows(write(tmp_path, name, text.encode(written)), encoding=given)


def test_unnamed_trailing_columns_are_ignored_while_they_hold_nothing(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", "a;b;;\r\n1;2;;\r\n3;4\r\n5;6; ;\r\n7;8;x;\r\n")
    src = Source(p)
    assert src.fields() == ["a", "b"] and src.header() == ["a", "b", "", ""]
    got = list(src)
    assert got[:3] == [(2, {"a": "1", "b": "2"}), (3, {"a": "3", "b": "4"}), (4, {"a": "5", "b": "6"})]
    bad = got[3]
    assert isinstance(bad, BadRow) and bad.kind == "unnamed" and "column 3 has no name" in bad.reason
    assert bad.partial == {"a": "7", "b": "8"}
    with pytest.raises(ConfigError, match="column 2 of the header has no name"):
        Source(write(tmp_path, "b.csv", "a;;c\n")).fields()
    # only delimiters: no column named at all is no header (before: read as a header of no columns)
    with pytest.raises(ConfigError, match="the header names no column"):
        Source(write(tmp_path, "c.csv", ";;;\n\n")).fields()


def test_the_widths_of_rows_into_unnamed_trailing_columns_are_counted_for_the_whole_file(tmp_path: Path) -> None:
    # a row one cell wider than the file's others puts the cell in the header's unnamed columns, as a value split by
    # an unquoted delimiter does (1,234.50): the file's rows are judged together (profile refuses the file)
    p = write(tmp_path, "a.csv", "a,b,text,,\r\n1,2,x\r\n3,1,234.50,\r\n\r\n,,,,\r\n4,5,y\r\n6,7,z,,\r\n")
    src = Source(p)
    list(src)
    widths = src.row_widths
    assert widths is not None and widths.seen == {3: [2, 2], 4: [1, 3], 5: [1, 7]}  # a row of no value is none
    assert widths.one == 0 and widths.apart() == (3, 4, 2, 3, 2)
    # rows of one width, whichever: none apart, and the reader names it for the halves of a big file
    same = write(tmp_path, "b.csv", "a,b,,\r\n1,2,,\r\n3,4,,\r\n")
    list(src := Source(same))
    assert src.row_widths is not None and src.row_widths.one == 4 and src.row_widths.apart() is None
    # a header that ends in no unnamed column counts nothing: a wider row is rejected as wider than the header
    list(src := Source(write(tmp_path, "c.csv", "a,b\r\n1,2\r\n")))
    assert src.row_widths is None


def test_cells_give_each_record_as_written(tmp_path: Path) -> None:
    p = write(tmp_path, "a.csv", 'sep=,\na,b\n 1 ,"x\ny"\n\n1,2,3\n4,"open')
    # a blank line is no record (passed over unparsed, so that a run of them costs no csv row each)
    assert list(Source(p).cells()) == [(3, [" 1 ", "x\ny"]), (6, ["1", "2", "3"]), (7, ["4", "open"])]
    j = write(tmp_path, "a.jsonl", '{"a": 1.50, "b": " x "}\n[1]\n{bad\n')
    assert list(Source(j).cells()) == [(1, {"a": "1.50", "b": " x "}), (2, "[1]"), (3, "{bad")]


def test_json_numbers_are_exact_and_exponents_stay_text(tmp_path: Path) -> None:
    p = write(tmp_path, "a.jsonl", '{"a": 99999999999999.99, "b": 1.5E+3, "c": 7, "d": " ", "e": " t "}\n')
    # a string is as written (its spaces are its own); one of white space only is absent, as an empty cell
    assert list(Source(p)) == [(1, {"a": Decimal("99999999999999.99"), "b": "1.5E+3", "c": 7, "e": " t "})]


def test_numbers_inside_a_jsonl_value_are_the_numbers_written_as_in_a_csv_cell(tmp_path: Path) -> None:
    # found by a tester: [{"id": 2e0, "rate": 1.50}] was sent as [{"id": "2e0", "rate": "1.50"}], numbers become
    # text; then as floats: 12345678901234567890.12 went out as 1.2345678901234567e19 and 1e-400 as 0.0. A nested
    # value is JSON the file holds, its numbers exact, read as a CSV cell's JSON is (targets.reasons.json_cell)
    nested = '[{"id": 2e0, "rate": 1.50, "n": 3, "s": "2e0", "big": 12345678901234567890.12, "tiny": 1e-400}]'
    p = write(tmp_path, "a.jsonl", f'{{"a": 1.50, "b": 1e3, "list": {nested}, "obj": {{"x": [1.5e1]}}}}\n')
    ((_, row),) = list(Source(p))
    assert row == {"a": Decimal("1.50"), "b": "1e3", "list": json_cell("list", nested), "obj": {"x": [15]}}
    assert _as_numbers(row["list"]) == (
        b'[{"id":2,"rate":1.50,"n":3,"s":"2e0","big":12345678901234567890.12,"tiny":1E-400}]'
    )
    # a number past a float's range is a bad row, not a crash of the run (found by a tester), in a CSV cell too:
    # no API reading numbers into floats holds it
    q = write(tmp_path, "b.jsonl", '{"name": "x", "list": [{"rate": 1e400}]}\n{"name": "y", "list": [1e308]}\n')
    bad, good = list(Source(q))
    assert isinstance(bad, BadRow) and bad.line_no == 1 and "Number out of range" in bad.reason, bad
    assert good == (2, {"name": "y", "list": [Decimal("1e308")]})
    with pytest.raises(RowInvalid, match="not valid JSON: Number out of range"):
        json_cell("list", "[-1.8e308]")


_as_numbers = msgspec.json.Encoder(decimal_format="number").encode


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_an_input_that_is_no_regular_file_is_refused_without_blocking(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pipe can be read once and bulkload reads a file twice (its meaning, then its rows): a FIFO hung the run
    forever at the second open (or the first, with no writer), /dev/zero read on without end. Refused, exit 2."""
    from bulkload.cli import main

    path = tmp_path / "in.csv"
    if kind == "fifo":
        os.mkfifo(path)  # no writer: opening it to read would block
    else:
        path = Path("/dev/zero")
    with pytest.raises(ConfigError, match="is not a regular file"):
        check_regular(path)
    assert main(["load", "economic", str(path), "--dry-run", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{path} is not a regular file" in err and "Traceback" not in err


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_gzip_cut_before_its_first_line_is_an_unreadable_file(tmp_path: Path, fmt: str) -> None:
    """Six bytes of a gzip header: no line can be read, so resume cannot help; it said `cannot read past line 0`,
    exit 4."""
    from bulkload.cli import main

    path = tmp_path / f"e.{fmt}.gz"
    path.write_bytes(gzip.compress(b"voucherNumber,amount\n1,10.00\n")[:6])
    with pytest.raises(ConfigError, match="breaks off before its first line"):
        list(Source(path))
    assert main(["load", "economic", str(path), "--dry-run", "--no-progress"]) == 2


# --- a file that changes while it is read --------------------------------------------------------------


@pytest.mark.parametrize("change", ["append", "rewrite", "truncate"])
def test_a_pinned_source_reads_no_byte_past_what_was_hashed_and_stops_when_the_file_changed(
    tmp_path: Path, change: str
) -> None:
    p = write(tmp_path, "grow.csv", "date,amount\n" + "".join(f"2024-01-{d:02},{d}.00\n" for d in range(1, 21)))
    unchanged = rows(p, pinned=pin(p))
    assert len(unchanged) == 20  # as hashed: read to its end, no error
    source = Source(p, pinned=pin(p))
    read = []
    with pytest.raises(FileChanged, match="changed while it was read") as caught:
        for item in source:
            read.append(item)
            if len(read) == 1:
                with p.open("r+b" if change != "append" else "ab") as f:
                    if change == "append":
                        f.write(b"2024-02-01,99.00\n" * 5000)
                    elif change == "rewrite":  # same size, other bytes: only the mtime tells
                        f.seek(12)
                        f.write(b"2024-01-01,7")
                        os.utime(p, ns=(0, 0))
                    else:
                        f.truncate(40)
    assert isinstance(caught.value, SourceError)  # the planner's stop: exit 4, resumable with the same file only
    assert len(read) <= 20 and all(r[1]["amount"] != "99.00" for r in read)


@pytest.mark.parametrize("name", ["twice.csv.gz", "twice.gz", "twice.jsonl.gz"])
@pytest.mark.parametrize("encoding", [None, "utf-8"])
def test_a_gzip_inside_a_gzip_is_refused_as_such(tmp_path: Path, name: str, encoding: str | None) -> None:
    p = write(tmp_path, name, gzip.compress(gzip.compress(b"date,amount\n2024-01-31,10.00\n")))
    with pytest.raises(ConfigError, match="is a compressed file inside a compressed file .* decompress it once more"):
        rows(p, encoding=encoding)
    from bulkload.cli import main

    assert main(["load", "economic", str(p), "--dry-run", "--no-progress"]) == 2  # was "looks like UTF-16 ..."


def test_the_rejects_file_of_a_file_changed_since_it_was_hashed_still_lists_every_rejected_row(
    tmp_path: Path,
) -> None:
    """The load stopped at the hashed end (FileChanged) with its last rows rejected, not sent: writing them reads the
    input again, meets the same change at its end, and still lists them (without the cells it cannot vouch for)."""
    # its last line has no line end yet: reading that row reads on to the (hashed) end, where the change is seen
    p = write(tmp_path, "grow.csv", "date,amount\n" + "\n".join(f"2024-01-{d:02},{d}.00" for d in range(1, 21)))
    source = Source(p, pinned=pin(p))
    with p.open("ab") as f:
        f.write(b"\n2024-02-01,99.00\n")
    out = tmp_path / "rejects.csv"
    rejected = [RowOutcome(0, line, "rejected", "", "not sent: changed") for line in (20, 21)]
    assert write_rejects(str(out), lambda: rejected, [source], [str(p)]).rows == 2
    text = out.read_text()
    assert text.count("not sent: changed") == 2 and "99.00" not in text


def test_text_beyond_ascii_takes_the_fast_path_and_a_c1_control_or_an_undecodable_byte_still_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Danish text (æ, ø, å) is read on the fast path, as the slow path would read it (a fifth of the benchmark's
    rows went the slow way, read twice before the first call: the file's inspection and the plan); a row the slow
    path refuses (a C1 control: the file is in another encoding; an undecodable byte) still goes there."""
    import bulkload.sources

    odd: list[int] = []
    slow = bulkload.sources._odd_csv_row

    def counted(start: int, *args: Any) -> Any:
        odd.append(start)
        return slow(start, *args)

    monkeypatch.setattr(bulkload.sources, "_odd_csv_row", counted)
    path = tmp_path / "d.csv"
    path.write_bytes("id,name,city\n1, Ærø ,København\n2,,Århus\n3,\u00a0,\n".encode())
    assert list(Source(path)) == [
        (2, {"id": "1", "name": "Ærø", "city": "København"}),
        (3, {"id": "2", "city": "Århus"}),
        (4, {"id": "3"}),
    ]
    assert list(Source(path).rows(frozenset({"city"}))) == [(2, {"city": "København"}), (3, {"city": "Århus"}), (4, {})]
    assert set(odd) == {5}  # only the end-of-file marker's row, which the reader adds after the last line
    odd.clear()
    path.write_bytes("id,name\n1,caf\u0080\n2,Ø\xff\n".encode("utf-8", "surrogatepass").replace(b"\xc3\xbf", b"\xff"))
    got = list(Source(path))
    assert (
        odd[:2] == [2, 3]
        and len(got) == 2
        and all(isinstance(item, BadRow) and item.kind == "encoding" for item in got)
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_secret_the_rejects_file_masked_inside_json_text_is_refused_when_loaded_back(
    tmp_path: Path, fmt: str
) -> None:
    # found by a tester: a cell holding a JSON object whose client_secret / password / token the rejects file wrote
    # as *** was sent as *** when the fixed rejects file was loaded back (only a secret column's own cell was
    # refused). Each secret the rejects writer masks, at any depth, is refused, naming the key inside
    nested = [{"key": "k", "password": "s3", "more": {"API_TOKEN": "t0", "note": "x"}}]
    if fmt == "csv":
        data = write(tmp_path, "in.csv", "")
        with data.open("w", newline="") as fh:
            csv.writer(fh).writerows(
                [
                    ["name", "new_client_secret", "sync_entities_list", "extra"],
                    ["a", "S", json.dumps(nested), json.dumps(nested)],
                ]
            )
    else:
        line = {"name": "a", "new_client_secret": "S", "sync_entities_list": nested, "extra": json.dumps(nested)}
        data = write(tmp_path, "in.jsonl", json.dumps(line) + "\n")
    secrets = frozenset({"new_client_secret"})
    out = tmp_path / "rejects.csv"
    rejected = [RowOutcome(0, 2 if fmt == "csv" else 1, "rejected", "", "bad")]
    assert write_rejects(str(out), lambda: rejected, [Source(data, secrets=secrets)], [""])[:2] == (1, 1)
    ((_, row),) = list(Source(out, secrets=secrets))
    assert isinstance(row, dict) and "s3" not in str(row) and "t0" not in str(row), row
    row["new_client_secret"] = "typed in again"
    reading = Reading(NumberFormat(), DateFormat(), (), (), secret_fields=secrets)
    with pytest.raises(RowInvalid) as caught:
        reading.convert(row)
    assert (caught.value.field, caught.value.reason) == ("sync_entities_list", masked_secret("password"))
    row["sync_entities_list"] = json.dumps([{"key": "k", "password": "s3", "more": {"API_TOKEN": "t0"}}])
    with pytest.raises(RowInvalid) as caught:
        reading.convert(row)
    assert caught.value.field == "extra", row  # a JSONL string holding JSON text is masked, and refused, as well
    row["extra"] = '{"password": "new", "note": "***"}'  # *** under a key that holds no secret is a value
    reading.convert(row)
    assert row["extra"] == '{"password": "new", "note": "***"}'


def test_a_reason_quoting_a_formula_is_written_as_it_reads_not_with_a_doubled_apostrophe(tmp_path: Path) -> None:
    # found by a tester: the reason '=100.00' is a spreadsheet formula… was written ''=100.00'…: its apostrophe first
    # runs in no spreadsheet, and the reason is never read back, so it needs no apostrophe to keep it reversible.
    # The row's own cells are still neutralised so that they read back as they were
    path = write(tmp_path, "e.csv", "amount,text\n=100.00,'=x\n")
    out = tmp_path / "rejects.csv"
    said = "'=100.00' is a spreadsheet formula"
    rejected = [RowOutcome(0, 2, "rejected", "amount", said), RowOutcome(0, 2, "rejected", "", "=D1 is bad")]
    write_rejects(str(out), lambda: rejected[:1], [Source(path)], [str(path)])
    with out.open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["reason"] == said and row["amount"] == "'=100.00" and row["text"] == "''=x", row
    write_rejects(str(out), lambda: rejected[1:], [Source(path)], [str(path)])
    with out.open(encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["reason"] == "'=D1 is bad", row  # one that would run still gets its apostrophe


@pytest.mark.parametrize("name", ["e.json", "e.jsonl", "e.txt"])
@pytest.mark.parametrize(
    "data",
    [
        b'[{"date": "2026-11-01", "amount": "10.00"}, {"date": "2026-11-01", "amount": "-10.00"}]\n',
        b'[\n  {\n    "date": "2026-11-01",\n    "amount": "10.00"\n  }\n]\n',
        b"\xef\xbb\xbf  []",
    ],
)
def test_a_json_array_is_refused_as_no_jsonl_before_the_first_call(tmp_path: Path, name: str, data: bytes) -> None:
    # a JSON export (json.dump of a list) was read as CSV, its first object's keys and values taken for a header
    # ("column '"date": "2026-11-01"' appears twice in the header"), or as JSONL, all of it one record (tester t36d)
    said = r"holds a JSON array \(it starts with '\[.*not JSONL, one JSON object a line"
    with pytest.raises(ConfigError, match=said):
        list(Source(write(tmp_path, name, data)))


@pytest.mark.parametrize("name", ["e.jsonl", "e.txt"])
def test_a_jsonl_file_of_lone_cr_line_ends_is_refused_before_the_first_call(tmp_path: Path, name: str) -> None:
    # read by its LF line ends, its 4 records were one line: 1 row read and rejected as "invalid JSON: trailing
    # characters", its records uncounted (tester t42a)
    record = b'{"voucherNumber": 1, "amount": 10}'
    with pytest.raises(ConfigError, match=r"ends its lines with a lone CR .*\(tr '\\r' '\\n'"):
        list(Source(write(tmp_path, name, b"\r".join([record] * 4) + b"\r")))
    # CRLF line ends are JSONL's too
    assert len(rows(write(tmp_path, name, b"\r\n".join([record] * 4) + b"\r\n"))) == 4


def test_a_csv_header_of_bracketed_names_is_no_json_array(tmp_path: Path) -> None:
    # SQL Server writes its column names in brackets
    assert rows(write(tmp_path, "e.csv", b"[date],[amount]\n2026-11-01,10.00\n")) == [
        (2, {"[date]": "2026-11-01", "[amount]": "10.00"})
    ]


def test_a_rejects_file_whose_own_columns_were_moved_is_refused_naming_them(tmp_path: Path) -> None:
    # a rejects file opened in a spreadsheet, its amount moved first (tester t71b): read as no rejects file it was
    # refused as one of four columns no field ('file', 'line', … map them to "" to drop them), which would have
    # dropped what tells a row copied or left out
    moved = tmp_path / "moved.csv"
    moved.write_text(
        "amount,file,line,field,reason,voucherNumber\n-1250.00,nov.csv,2,accountNumber,bad,7001\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        Source(moved).fields()
    said = str(caught.value)
    assert said.startswith(f"{moved}: its header names the columns of a rejects file, 'file' (2), 'line' (3)"), said
    assert "Put file, line, field and reason back as its first four columns" in said, said
    assert said.endswith("nothing was sent"), said
    # the columns in their place, the rest in any order: a rejects file
    kept = tmp_path / "kept.csv"
    kept.write_text("file,line,field,reason,voucherNumber,amount\nnov.csv,2,accountNumber,bad,7001,-1250.00\n")
    source = Source(kept)
    assert source.fields() == ["voucherNumber", "amount"] and source.rejects_file
    # a file that names only some of them is no rejects file, and is read as any other
    plain = tmp_path / "plain.csv"
    plain.write_text("line,reason,amount\n1,x,2.00\n")
    assert Source(plain).fields() == ["line", "reason", "amount"]
