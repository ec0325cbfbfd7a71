"""Chunk planning: item and byte caps, vouchers kept whole (or rejected whole), deterministic sequence numbers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from bulkload.chunking import Planner, Reading, record_check
from bulkload.dates import DateFormat
from bulkload.errors import RowInvalid, SourceError
from bulkload.formulas import formula_reason
from bulkload.model import Known, group_digest
from bulkload.numbers import NumberFormat
from bulkload.regroup import regrouped
from bulkload.sources import BadRow, Source
from bulkload.targets.economic import Economic
from bulkload.targets.economic_entries import DraftEntries, DraftEntry
from bulkload.targets.halopsa_records import Resource
from bulkload.targets.halopsa_schema import RESOURCES
from bulkload.targets.payorcrm_records import Customers, Invoices
from bulkload.targets.visma_core_records import Costs, Entries


def rows(vouchers: list[tuple[int, int]], start_line: int = 2) -> list[tuple[int, dict[str, Any]]]:
    """(voucher, lines) pairs → source rows, journal 1."""
    out, line = [], start_line
    for voucher, n in vouchers:
        for i in range(n):
            out.append(
                (
                    line,
                    {
                        "entryTypeNumber": "5",
                        "journalNumber": "1",
                        "voucherNumber": str(voucher),
                        "date": "2026-11-01",
                        "amount": str(i + 1),
                        "currency": "DKK",
                        "accountNumber": "1010",
                    },
                )
            )
            line += 1
    return out


def plan(source: list[Any], max_items: int = 500, max_bytes: int = 2_000_000) -> tuple[Planner, list[Any]]:
    planner = Planner(Economic(), max_items, max_bytes)
    return planner, [c for c in planner.plan(0, source) if c is not None]


def vouchers_of(chunk: Any) -> list[int]:
    return [r.voucherNumber for r in chunk.records]


def test_chunks_respect_the_item_cap_and_keep_vouchers_whole() -> None:
    planner, chunks = plan(rows([(v, 3) for v in range(1, 11)]), max_items=7)
    assert [len(c) for c in chunks] == [6, 6, 6, 6, 6]
    for c in chunks:
        assert len(c) <= 7
        for v in set(vouchers_of(c)):
            assert vouchers_of(c).count(v) == 3
    assert [c.seq for c in chunks] == [1, 2, 3, 4, 5]
    assert planner.rows_read == 30 and not planner.rejected


def test_body_is_the_whole_chunk_encoded_once() -> None:
    _, (chunk,) = plan(rows([(1, 2)]))
    assert msgspec.json.decode(chunk.body, type=list[DraftEntry]) == chunk.records
    assert chunk.lines == [2, 3]
    # 1.00 + 2.00 on account 1010 only; how far from balancing, per currency, as the ledger keeps it
    assert [tuple(g)[:5] for g in chunk.groups] == [("1:1", 2, 300, 300, '{"DKK":300}')]
    assert chunk.groups[0].digest == group_digest(reversed(chunk.checks or []))  # its lines, in any order


def test_a_voucher_larger_than_one_call_is_rejected_whole() -> None:
    planner, chunks = plan(rows([(1, 2), (2, 9), (3, 2)]), max_items=5)
    assert [vouchers_of(c) for c in chunks] == [[1, 1, 3, 3]]
    rejected = planner.rejected
    assert [r.line_no for r in rejected] == list(range(4, 13))
    assert all(
        r.reason == "voucher 2 (journal 1) has 9 lines, more than one call of 5 carries; give --batch-size 9 "
        "or more (at most 500)"
        for r in rejected
    )
    assert planner.rows_read == 13


def test_a_file_whose_vouchers_are_apart_is_planned_regrouped(tmp_path: Any) -> None:
    (_, v1a), (_, v1b), (_, v2) = rows([(1, 2), (2, 1)])  # voucher 1's lines differ: no copies of it (test_regroup)
    source = [(2, v1a), (3, v2), (4, v1b)]
    _, (chunk,) = plan(list(regrouped(source, Economic().kind_of(0), str(tmp_path))))
    assert vouchers_of(chunk) == [1, 1, 2] and chunk.lines == [2, 4, 3]
    assert [g.key for g in chunk.groups] == ["1:1", "1:2"]
    assert list(tmp_path.iterdir()) == []  # the spill file is gone


def test_a_line_naming_no_voucher_refuses_the_same_vouchers_when_its_file_is_regrouped(tmp_path: Any) -> None:
    # a broken line between vouchers 1 and 2 is taken for voucher 1's and refuses voucher 2 (its neighbour);
    # voucher 1 is apart, so the file is regrouped. Before: the planner judged the line again in the regrouped
    # order, where it lies among voucher 1's lines: voucher 2 loaded, and a voucher that only became its
    # neighbour in the new order would have been refused instead
    v1a, v2, v3, v1b = (r for _, r in rows([(1, 1), (2, 1), (3, 1), (1, 1)]))
    source: list[Any] = [(2, v1a), BadRow(3, "invalid JSON", "{"), (4, v2), (5, v3), (6, v1b)]
    planner, chunks = plan(list(regrouped(source, Economic().kind_of(0), str(tmp_path))))
    got = {r.line_no: r.reason for r in planner.rejected}
    assert sorted(got) == [2, 3, 4, 6]
    assert got[4] == "voucher 2 (journal 1) rejected: line 3, next to it, names no voucher and may be one of its lines"
    assert [vouchers_of(c) for c in chunks] == [[3]] and planner.rows_read == 5


def test_a_voucher_apart_in_a_file_read_as_grouped_stops_the_plan() -> None:
    # the inspection found the file grouped; a voucher coming back means the file changed since: nothing of the
    # open chunk is sent, nor recorded (its rows are not yet sent: the resume of the file as hashed reads them)
    source = rows([(1, 2), (2, 2)]) + rows([(1, 1)], start_line=6)
    planner = Planner(Economic(), 2, 2_000_000)
    got: list[Any] = []
    with pytest.raises(SourceError, match="voucher 1 .journal 1. are no longer together"):
        got.extend(planner.plan(0, source))
    assert [c.lines for c in got if c is not None] == [[2, 3]]
    assert planner.rejected == [] and planner.rows_read == 2


def test_a_bad_line_rejects_its_whole_voucher_naming_the_line() -> None:
    source: list[Any] = rows([(1, 2), (2, 2), (3, 2)])
    source[3] = (5, {**source[3][1], "date": "2026-02-30"})  # the second line of voucher 2
    planner, (chunk,) = plan(source)
    assert vouchers_of(chunk) == [1, 1, 3, 3]
    by_line = {r.line_no: r for r in planner.rejected}
    assert sorted(by_line) == [4, 5] and {r.group for r in by_line.values()} == {"1:2"}
    assert by_line[5].field == "date" and "2026-02-30" in by_line[5].reason
    assert by_line[4].field == "" and by_line[4].reason.startswith("voucher 2 (journal 1) rejected: line 5 date: ")


@pytest.mark.parametrize("written", ["1.01e3", "1E3", "1.01E+03", "101e1"])
def test_a_whole_number_written_with_an_exponent_rejects_its_voucher(written: str) -> None:
    # 1.01E+03 is how a spreadsheet shows 1010, and 10105 too: read as 1010, a line would book to another account
    source: list[Any] = rows([(1, 2), (2, 2)])
    source[1] = (3, {**source[1][1], "accountNumber": written})
    planner, (chunk,) = plan(source)
    assert vouchers_of(chunk) == [2, 2]
    by_line = {r.line_no: r for r in planner.rejected}
    assert sorted(by_line) == [2, 3] and by_line[3].field == "accountNumber"
    assert f"{written!r} is written with an exponent" in by_line[3].reason


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (Resource(next(iter(RESOURCES))), "client_top_level"),
        (Costs(), "costId"),
        (DraftEntries(), "entryTypeNumber"),
    ],
    ids=["halopsa", "visma-core", "economic"],
)
def test_every_target_refuses_a_whole_number_written_with_an_exponent(kind: Any, field: str) -> None:
    reading = Reading(NumberFormat(), DateFormat(), kind.number_fields, kind.date_fields, kind.whole_fields)
    reading.convert({field: "1010"})
    with pytest.raises(RowInvalid, match="written with an exponent"):
        reading.convert({field: "1.01e3"})
    reading.convert(text := {field: "rent"})  # no number at all: validation says so, not this
    assert text == {field: "rent"}


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (Customers(), "customerno"),
        (Invoices(), "invoiceNumber"),
        (Invoices(), "customerNumber"),
        (Entries(), "orderId"),
        (Resource(next(iter(RESOURCES)), match_on=["name"]), "name"),
        (DraftEntries(), "supplierInvoiceNumber"),
    ],
    ids=["payorcrm-customer", "payorcrm-invoice", "payorcrm-reference", "visma-core-order", "halopsa", "economic"],
)
def test_text_that_names_a_record_written_with_an_exponent_is_refused(kind: Any, field: str) -> None:
    # found by a tester: customerno 210267912345 as Excel writes it (2.102679E+11) was uploaded as the key
    reading = Reading.of(kind, NumberFormat(), DateFormat())
    for written in ("2.102679E+11", " 2,1e-03", "1E+12"):
        with pytest.raises(RowInvalid) as caught:
            reading.convert({field: written})
        assert str(caught.value) == (
            f"{field}: {written.strip()!r} is written with an exponent, as a spreadsheet shows a long number it may "
            "have rounded: write it in full"
        )
    for name in ("210267912345", "2024E001", "E+11", "INV-2.1E+11", "1.5e3x"):  # no spreadsheet's number
        reading.convert(row := {field: name})
        assert row == {field: name}


@pytest.mark.parametrize(
    ("kind", "field"),
    [
        (DraftEntries(), "amount"),
        (DraftEntries(), "date"),
        (DraftEntries(), "accountNumber"),
        (DraftEntries(), "customerInvoiceNumber"),
        (Customers(), "customerno"),
        (Invoices(), "invoiceAmount"),
        (Invoices(), "customerNumber"),
        (Entries(), "orderId"),
        (Resource(next(iter(RESOURCES))), "client_top_level"),
    ],
    ids=lambda v: v if isinstance(v, str) else type(v).__name__,
)
def test_a_spreadsheet_formula_where_a_value_is_read_is_refused_as_one(kind: Any, field: str) -> None:
    # found by a tester: '="01010"' was refused as "not a whole number", and '="000123"' sent as a key; the source
    # reads Excel's ="..." as its text (sources.py), any other formula is no value at all
    reading = Reading.of(kind, NumberFormat(","), DateFormat())
    for written in ("=SUM(A1:A3)", "=A1*2", '="1"&"2"', "=$B$2"):
        with pytest.raises(RowInvalid) as caught:
            reading.convert({field: written})
        assert str(caught.value) == f"{field}: {formula_reason(written)}"


def test_text_that_merely_begins_with_an_equals_sign_is_no_formula_where_a_value_is_read() -> None:
    # a formula is told by its shape (formulas.is_formula): "=" alone is no number, "= see note" a name
    row = {"text": "=A1 is where it went", "customerno": "= see note"}
    Reading.of(Customers(), NumberFormat(), DateFormat()).convert(row)
    assert row == {"text": "=A1 is where it went", "customerno": "= see note"}
    with pytest.raises(RowInvalid, match="^amount: not a number: '='$"):
        Reading.of(DraftEntries(), NumberFormat(), DateFormat()).convert({"amount": "="})


def test_a_jsonl_key_is_refused_as_a_csv_cell_is_and_a_number_where_text_is_wanted(tmp_path: Path) -> None:
    # a JSON string is what a spreadsheet's cell became; a JSON number in a text field is a number (as "text": 12)
    path = tmp_path / "c.jsonl"
    path.write_text('{"customerno": "2.1E+11", "emailaddress1": "a"}\n{"customerno": 2.1E+11, "emailaddress1": "a"}\n')
    kind = Customers()
    reading = Reading.of(kind, NumberFormat(), DateFormat(), json=True)
    reasons = []
    for _, row in Source(path):
        with pytest.raises(RowInvalid) as caught:
            reading.convert(row)
            kind.validate(row)
        reasons.append(str(caught.value))
    assert reasons[0].startswith("customerno: '2.1E+11' is written with an exponent"), reasons
    assert reasons[1].startswith("customerno: expected text, got a number"), reasons


@pytest.mark.parametrize(
    ("kind", "field"),
    [(DraftEntries(), "accountNumber"), (DraftEntries(), "voucherNumber"), (Entries(), "caseId")],
    ids=["economic-account", "economic-voucher", "visma-core-case"],
)
def test_a_whole_number_is_read_with_the_files_decimal_mark(kind: Any, field: str) -> None:
    # found by a tester: in a decimal-comma file 1010,00 and 1005,0 were refused, and 1010.00 read as 1010
    comma = Reading.of(kind, NumberFormat(","), DateFormat())
    comma.convert(row := {field: "1010,00"})
    assert row == {field: 1010}
    with pytest.raises(RowInvalid) as caught:
        comma.convert({field: "1010.00"})
    assert str(caught.value) == (
        f"{field}: '1010.00' has a decimal point, but the file's numbers have a decimal comma: read the file's way "
        "it is no number (write 1010)"
    )
    point = Reading.of(kind, NumberFormat(), DateFormat())
    point.convert(row := {field: "1010.00"})
    assert row == {field: 1010}
    with pytest.raises(RowInvalid, match="'1010,00' has a decimal comma"):
        point.convert({field: "1010,00"})
    for reading in (comma, point):  # 4 or 4000, whichever the mark: in any file
        with pytest.raises(RowInvalid, match="write the whole number without separators"):
            reading.convert({field: "4.000"})


def test_a_whole_number_with_leading_zeros_is_read_as_the_number() -> None:
    # found by a tester: account 01010 (an export that keeps the chart's zeros) was rejected as "not a whole number":
    # msgspec reads no int from digits with a leading zero
    kind = DraftEntries()
    row = {"entryTypeNumber": "5", "journalNumber": "1", "voucherNumber": "7", "date": "2026-11-01"}
    row |= {"amount": "1.00", "currency": "DKK", "accountNumber": "01010", "contraAccountNumber": "0", "vatCode": "I25"}
    Reading.of(kind, NumberFormat(), DateFormat()).convert(row)
    entry = kind.validate(row)
    assert (entry.accountNumber, entry.contraAccountNumber) == (1010, 0)


@pytest.mark.parametrize("mark", [",", "."])
def test_a_voucher_written_with_a_zero_fraction_is_one_voucher_loaded_or_refused_whole(mark: str) -> None:
    # the group key reads "7", "7,0" and "7.0" alike, as the inspection keyed them before the mark was decided;
    # the field is read the file's way: the line written with the other mark refuses its voucher
    source: list[Any] = rows([(7, 3)])
    for (_, row), written in zip(source, ["7", "7,0", "7.0"], strict=True):
        row["voucherNumber"] = written
    source += rows([(8, 2)], start_line=5)
    source[3][1]["voucherNumber"] = "8" + mark + "0"
    planner = Planner(
        Economic(), 500, 2_000_000, readings={0: Reading.of(DraftEntries(), NumberFormat(mark), DateFormat())}
    )
    (chunk,) = [c for c in planner.plan(0, source) if c is not None]
    assert vouchers_of(chunk) == [8, 8]
    other = 4 if mark == "," else 3  # the line of voucher 7 whose fraction follows the other mark
    assert {r.line_no: (r.group, r.field) for r in planner.rejected} == {
        line: ("1:7", "voucherNumber" if line == other else "") for line in (2, 3, 4)
    }


def test_a_jsonl_number_with_an_exponent_is_a_number_in_a_text_field_and_refused_as_an_amount(tmp_path: Path) -> None:
    # before: "text": 1e2 was sent as the text "1e2", where "text": 12 is refused (a number where text is wanted)
    path = tmp_path / "e.jsonl"
    line = '{"journalNumber": 1, "voucherNumber": 1, "accountNumber": 1000, "currency": "DKK", "entryTypeNumber": 3, '
    exponent = line.replace('"entryTypeNumber": 3', '"entryTypeNumber": 3e0')
    path.write_text(
        f'{line}"date": "2026-01-01", "amount": "1.00", "text": 1e2}}\n'
        f'{line}"date": "2026-01-01", "amount": "1.00", "text": 12}}\n'
        f'{line}"date": "2026-01-01", "amount": 1e2, "text": "rent"}}\n'
        f'{exponent}"date": "2026-01-01", "amount": "1.00", "text": "rent"}}\n'
        f'{line}"date": 2e7, "amount": "1.00", "text": "rent"}}\n'
    )
    kind = DraftEntries()
    reading = Reading(NumberFormat(), DateFormat(), kind.number_fields, kind.date_fields, kind.whole_fields, json=True)
    reasons = []
    for _, row in Source(path):
        with pytest.raises(RowInvalid) as caught:
            reading.convert(row)
            kind.validate(row)
        reasons.append(str(caught.value))
    assert reasons[0] == reasons[1].replace("12", "100.0") == "text: expected text, got a number: 100.0", reasons
    assert reasons[2].startswith("amount: ") and "1e2" in reasons[2], reasons
    assert (
        reasons[3] == "entryTypeNumber: '3e0' is written with an exponent, as a spreadsheet shows a number it "
        "may have rounded: write the whole number"
    ), reasons
    assert reasons[4].startswith("date: "), reasons


def test_groups_already_there_are_skipped_rejected_when_they_differ_and_in_doubt_when_they_may_be() -> None:
    # voucher 2 as loaded before (its two lines 1.00 and 2.00), voucher 3 loaded with other amounts, voucher 4 in
    # doubt in an earlier run
    known = {
        "1:2": Known("1:2", "skipped", "loaded before", 2, 300, 300, "loaded before, otherwise"),
        "1:3": Known("1:3", "skipped", "loaded before", 1, 999, 999, "loaded before, otherwise"),
        "1:4": Known("1:4", "in_doubt", "may have been loaded"),
    }
    planner = Planner(Economic(), 500, 2_000_000, skip=known.get)
    (chunk,) = [c for c in planner.plan(0, rows([(1, 1), (2, 2), (3, 1), (4, 1), (5, 1)])) if c is not None]
    assert vouchers_of(chunk) == [1, 5]
    assert [(r.line_no, r.bucket, r.reason) for r in planner.rejected] == [
        (3, "skipped", "loaded before"),
        (4, "skipped", "loaded before"),
        (5, "rejected", "loaded before, otherwise"),
        (6, "in_doubt", "may have been loaded"),
    ]
    assert planner.rows_read == 6


def test_byte_cap_splits_at_voucher_boundaries() -> None:
    source = rows([(v, 2) for v in range(1, 9)])
    _, whole = plan(source)
    _, split = plan(source, max_bytes=len(whole[0].body) // 3)
    assert len(split) > 1 and sum(len(c) for c in split) == 16
    for c in split:
        assert len(c.body) <= len(whole[0].body) // 3
        assert len(vouchers_of(c)) == 2 * len(set(vouchers_of(c)))


def test_invalid_and_unreadable_rows_are_rejected_and_counted() -> None:
    v1, v1b, v2, v3, v4 = (r for _, r in rows([(1, 2), (2, 1), (3, 1), (4, 1)]))
    source: list[Any] = [
        (2, v1),
        # still names its voucher
        BadRow(3, "row has 9 cells, the header has 7", "a,b", {"journalNumber": "1", "voucherNumber": "1"}),
        BadRow(4, "invalid JSON", "{"),  # names nothing, between two lines of one voucher: taken for its line
        (5, v1b),
        (6, v2),
        BadRow(7, "invalid JSON", "{"),  # names nothing, between two vouchers: it may be either's line
        (8, v3),
        (9, v4),
        (10, {"entryTypeNumber": "9"}),  # no voucher, after the last one: taken for its line
    ]
    planner, chunks = plan(source)
    assert chunks == []
    got = {r.line_no: r for r in planner.rejected}
    assert sorted(got) == [2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert got[3].reason == "row has 9 cells, the header has 7" and got[4].reason == "invalid JSON"
    assert got[2].reason == "voucher 1 (journal 1) rejected: line 3 row has 9 cells, the header has 7"
    assert {got[n].group for n in (2, 3, 4, 5)} == {"1:1"}
    # each voucher a line naming none refuses at its edge is told that, not the line's own fault (a totals row
    # after the last voucher is no fault of voucher 4's); the line keeps its own reason
    names_none = "rejected: line {}, next to it, names no voucher and may be one of its lines"
    assert got[6].reason == "voucher 2 (journal 1) " + names_none.format(7) and got[7].group == "1:2"
    assert got[8].reason == "voucher 3 (journal 1) " + names_none.format(7)
    at_end = (
        "rejected: line 10, after it at the file's end, names no voucher and may be one of its lines, or a totals row"
    )
    assert got[9].reason == f"voucher 4 (journal 1) {at_end}: remove it if it is one, and load the rejects file"
    assert got[7].reason == "invalid JSON" and got[10].field == "entryTypeNumber"
    assert planner.rows_read == 9


def test_a_row_wider_than_the_header_refuses_the_vouchers_beside_it_for_its_width(tmp_path: Path) -> None:
    # found by a tester: a row with extra empty cells (12 where the header has 8) is rejected, and the vouchers beside
    # it were told "line 4, next to it, names no voucher" though it names voucher 2002 read from its first cell on:
    # its width is why which cell is which column, its voucher's too, cannot be told, and they are told that
    header = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text"
    lines = ["5;1;2001;2026-10-31;10;DKK;1010;a", "5;1;2001;2026-10-31;-10;DKK;5600;b"]
    lines += ["5;1;2002;2026-10-31;10;DKK;1010;a;;;;", "5;1;2002;2026-10-31;-10;DKK;5600;b"]
    data = tmp_path / "wide.csv"
    data.write_text("\r\n".join([header, *lines, ""]), encoding="utf-8")
    planner, chunks = plan(list(Source(data)))
    got = {r.line_no: r.reason for r in planner.rejected}
    assert chunks == [] and got[4] == "row has 12 cells, the header has 8", got
    width = "line 4, next to it, names no voucher that can be read (row has 12 cells, the header has 8)"
    assert got[2] == got[3] == f"voucher 2001 (journal 1) rejected: {width} and may be one of its lines", got
    assert got[5] == f"voucher 2002 (journal 1) rejected: {width} and may be one of its lines", got


def test_a_file_of_bad_rows_is_handed_out_in_batches_not_held() -> None:
    planner = Planner(Economic(), 500, 2_000_000)
    held = []
    for item in planner.plan(0, [(n, {"entryTypeNumber": "9"}) for n in range(2, 2 + 2500)]):
        assert item is None
        held.append(len(planner.rejected))
        planner.rejected.clear()
    assert held == [1000, 1000] and len(planner.rejected) == 500 and planner.rows_read == 2500


def test_the_plan_is_deterministic() -> None:
    source = rows([(v, 1 + v % 3) for v in range(1, 60)])
    _, a = plan(source, max_items=10)
    _, b = plan(source, max_items=10)
    assert [(c.seq, c.lines, c.body) for c in a] == [(c.seq, c.lines, c.body) for c in b]


def test_rows_of_the_open_chunk_are_left_unsent_when_the_input_breaks_off() -> None:
    # the input breaks off past its inspection (changed since it was hashed, a read error): the rows waiting in the
    # open chunk are neither sent nor recorded, not yet sent, for the resume of the file as hashed to read again.
    # Before, they were rejected ("not sent: …"): the resume of the file put back loaded them too, and they were
    # counted twice, in the rejects and the success file alike (found by a tester)
    def broken() -> Any:
        yield from rows([(1, 2), (2, 2), (3, 1)])
        yield BadRow(7, "bad", "x")
        raise SourceError("a.csv: changed while it was read")

    planner = Planner(Economic(), 2, 2_000_000)
    got: list[Any] = []
    with pytest.raises(SourceError):
        got.extend(planner.plan(0, broken()))
    chunks = [c for c in got if c is not None]
    assert [c.lines for c in chunks] == [[2, 3]]  # voucher 1 was complete and planned; 2 waited in the open chunk
    assert planner.rejected == []  # lines 4-7 (line 7, unreadable, taken for voucher 3's): none recorded
    assert planner.rows_read == 2


def test_a_lines_check_holds_no_secret() -> None:
    # found reading a helper's branch: HaloPSA runs began keeping each line's record_check in the ledger, a hash of
    # the record as sent, secrets and all: an oracle for a guessable secret, where no secret may reach the ledger.
    # A secret given counts, its value does not
    kind = Resource("XeroDetails")
    row = {"name": "Acme", "tenant_id": "t-1", "new_client_secret": "CANARY-1", "new_access_token": "tok-1"}
    check = record_check(kind, kind.validate(dict(row)))
    rotated = {**row, "new_client_secret": "CANARY-2", "new_access_token": "tok-2"}
    assert record_check(kind, kind.validate(rotated)) == check
    assert record_check(kind, kind.validate({**row, "tenant_id": "t-2"})) != check
    without = {k: v for k, v in row.items() if k != "new_client_secret"}
    assert record_check(kind, kind.validate(without)) != check


def test_a_lines_check_holds_a_nested_whole_number_past_64_bits_by_its_digits() -> None:
    # found by a tester: 99999999999999999999999 inside a nested value stopped planning (msgpack holds 64 bits)
    kind = Resource("XeroDetails")

    def check(nested: str) -> int:
        return record_check(kind, kind.validate({"name": "Acme", "sync_entities_list": nested}))

    big = check('[{"n": 99999999999999999999999}]')
    assert big != check('[{"n": 99999999999999999999998}]') and big != check('[{"n": -99999999999999999999999}]')
    assert big != check('[{"n": "99999999999999999999999"}]')  # the number, not its text
    assert check('[{"n": 18446744073709551615}]') != check('[{"n": 18446744073709551614}]')  # msgpack's own


@pytest.mark.parametrize(
    ("kind", "field"),
    [(Customers(), "customerno"), (Invoices(), "customerNumber"), (Invoices(), "invoiceNumber")],
    ids=["customer", "invoice-customer", "invoice"],
)
def test_a_jsonl_key_with_white_space_around_it_is_refused(kind: Any, field: str) -> None:
    # found by a tester: PayorCRM's customerno "  79" in a JSONL file was stored "79" (trimmed); sent as written it
    # would be a key the group key (trimmed) and the API (no rule documented) may each take for 79 or not
    reading = Reading.of(kind, NumberFormat(), DateFormat(), json=True)
    with pytest.raises(RowInvalid, match=rf"^{field}: '  79\\xa0' has white space around it"):
        reading.convert({field: "  79\u00a0"})
    row = {field: "7 9"}
    reading.convert(row)
    assert row == {field: "7 9"}


def test_a_halopsa_match_value_keeps_its_spaces_where_the_matching_compares_it_as_written() -> None:
    # halopsa_matching compares it with the records' own: equal, it matches; equal but for spaces, it is refused
    row = {"name": " Gamma "}
    Reading.of(Resource("XeroDetails", match_on=["name"]), NumberFormat(), DateFormat(), json=True).convert(row)
    assert row == {"name": " Gamma "}
