"""Group keys written on a group's first line only, as a spreadsheet exports a merged cell. Found by testers (t70,
t71a): a Visma Core order T1 whose orderId was on its first line only was booked as three entries (100.00, 40.00,
10.00) where the file meant one of 150.00, exit 0, as a line without an orderId is an entry of its own. A file whose
lines without a key lie right below lines with one, no key given on two lines in a row, is refused before the first
call, every target alike, naming the lines and saying to fill the key down; a file that writes its keys line by line
keeps a blank key's meaning (a Visma Core entry of its own)."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, PREFIX, economic_job, sandbox_read
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_load_payorcrm import CUSTOMERS, INVOICES, stored
from test_load_payorcrm import ENV as PAYOR_ENV
from test_load_payorcrm import job as payor_job
from test_load_payorcrm import write as payor_write
from test_load_visma_core import ENV as CORE_ENV
from test_load_visma_core import created
from test_load_visma_core import job as core_job
from test_load_visma_core import write as core_write

from bulkload import load
from bulkload.errors import ConfigError
from bulkload.merged_cells import MergedCells
from bulkload.sandbox import SandboxOptions, running
from bulkload.targets.economic_entries import DraftEntries
from bulkload.targets.visma_core_records import Entries

FILL = r"Fill the {} down to every line of its {} .*nothing was sent|nothing was sent.*Fill the {} down"
ORDERS = [
    [1004, "OUTLAY", "100.00", "Takst", "", "2026-11-30", "T1"],
    [1004, "OUTLAY", "40.00", "Porto", "", "2026-11-30", ""],
    [1004, "OUTLAY", "10.00", "Gebyr", "", "2026-11-30", ""],
    [1005, "COMMISSION", "200.00", "Prov", "", "2026-11-30", "T2"],
    [1005, "COMMISSION", "50.00", "Bonus", "", "2026-11-30", ""],
]


def filled(rows: list[list[object]]) -> list[list[object]]:
    """The rows with each blank orderId filled with the one above it, as the refusal asks."""
    out, last = [], None
    for row in rows:
        last = row[-1] or last
        out.append([*row[:-1], last])
    return out


async def test_a_visma_core_order_whose_orderid_is_on_its_first_line_only_is_refused_not_split(
    tmp_path: Path,
) -> None:
    data = core_write(tmp_path / "e.csv", ORDERS)
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            with pytest.raises(ConfigError) as info:
                await load(core_job(tmp_path, data, url), env=CORE_ENV)
            assert await created(url) == []  # before: five entries, T1 and T2 split line by line, exit 0
            said = str(info.value)
            assert "e.csv: 3 lines give no orderId, right below a line that gives one" in said
            assert "lines 3-4 below line 2 (order T1 of case 1004 (OUTLAY)); line 6 below line 5" in said, said
            assert re.search(FILL.format("orderId", "order", "orderId"), said), said
            # filled down as it asks, the file books one entry an order
            fixed = core_write(tmp_path / "fixed.csv", filled(ORDERS))
            again = replace(core_job(tmp_path, fixed, url), ledger=str(tmp_path / "fixed.sqlite"))
            report = await load(replace(again, rejects=str(tmp_path / "fixed.rejects.csv")), env=CORE_ENV)
            entries = await created(url)
    assert report.exit_code == 0, report
    assert sorted((e["CaseId"], e["Amount"]) for e in entries) == [(1004, Decimal("150.00")), (1005, Decimal("250.00"))]


async def test_a_visma_core_file_writing_its_orderids_line_by_line_keeps_its_entries_of_no_order(
    tmp_path: Path,
) -> None:
    # an order's lines each give its orderId: a line below it without one is an entry of its own, as documented
    data = core_write(
        tmp_path / "e.csv",
        [
            [1004, "OUTLAY", "100.00", "Takst", "", "2026-11-30", "T1"],
            [1004, "OUTLAY", "40.00", "Porto", "", "2026-11-30", "T1"],
            [1004, "FEE", "10.00", "Gebyr", "", "2026-11-30", ""],
        ],
    )
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            report = await load(core_job(tmp_path, data, url), env=CORE_ENV)
            entries = await created(url)
    assert report.exit_code == 0, report
    assert sorted(e["Amount"] for e in entries) == [Decimal("10.00"), Decimal("140.00")], entries


async def test_an_economic_voucher_number_on_its_first_line_only_is_refused_before_the_first_call(
    tmp_path: Path,
) -> None:
    data = tmp_path / "e.csv"
    data.write_text(
        "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,contraAccountNumber,text\n"
        "5,1,1001,2026-11-01,100.00,DKK,2750,,Husleje\n"
        "5,,,2026-11-01,-100.00,DKK,5820,,Husleje\n"
        "5,1,1002,2026-11-01,50.00,DKK,2750,,Porto\n"
        "5,,,2026-11-01,-30.00,DKK,5820,,Porto\n"
        "5,,,2026-11-01,-20.00,DKK,5820,,Porto\n"
    )
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            origin = url.removesuffix(PREFIX)
            with pytest.raises(ConfigError) as info:
                await load(economic_job(data, origin, tmp_path / "run.sqlite"), env=CREDS)
            stats = await sandbox_read(origin, "stats")
    assert stats["entries"] == 0 and "POST" not in stats["by_method"], stats
    said = str(info.value)
    assert "3 lines give no voucherNumber" in said and "line 3 below line 2 (voucher 1001 (journal 1))" in said, said
    assert "lines 5-6 below line 4 (voucher 1002 (journal 1))" in said, said
    assert re.search(FILL.format("voucherNumber", "voucher", "voucherNumber"), said), said


async def test_a_payorcrm_invoice_number_on_its_first_line_only_is_refused_before_the_first_call(
    tmp_path: Path,
) -> None:
    customers = payor_write(tmp_path / "c.csv", CUSTOMERS, [["C1", "a@example.com", "A"]])
    invoices = payor_write(
        tmp_path / "i.csv",
        [*INVOICES, "lineItem"],
        [
            ["C1", "INV-1", "100.00", "EUR", "2026-12-01", "1"],
            ["C1", "", "40.00", "EUR", "2026-12-01", "2"],
            ["", "", "10.00", "EUR", "2026-12-01", "3"],
        ],
    )
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            files = {"customers": customers, "invoices": invoices}
            with pytest.raises(ConfigError) as info:
                await load(payor_job(tmp_path, url, files, amount_unit="major"), env=PAYOR_ENV)
            assert await stored(url, "invoices") == [] and await stored(url, "customers") == []
    said = str(info.value)
    assert "i.csv: 2 lines give no invoiceNumber" in said and "lines 3-4 below line 2 (invoice INV-1)" in said, said
    assert re.search(FILL.format("invoiceNumber", "invoice", "invoiceNumber"), said), said


async def test_a_visma_core_file_numbering_its_orders_by_case_on_their_first_lines_only_is_refused(
    tmp_path: Path,
) -> None:
    # found by a tester (t71h): orders numbered 1 in each case, their orderId on their first line only. Lines 2 and 3
    # (order 1 of case 1006, order 1 of case 1007) were read as one key given on two lines in a row, so the file was
    # taken for one writing its keys line by line: orders 1 of case 1007 and 1008 booked as entries 200.00, 50.00,
    # 300.00, 30.00, exit 0, where the file meant 250.00 and 330.00
    rows = [
        [1006, "OUTLAY", "100.00", "Takst", "", "2026-11-30", "1"],
        [1007, "OUTLAY", "200.00", "Takst", "", "2026-11-30", "1"],
        [1007, "OUTLAY", "50.00", "Porto", "", "2026-11-30", ""],
        [1008, "OUTLAY", "300.00", "Takst", "", "2026-11-30", "1"],
        [1008, "OUTLAY", "30.00", "Porto", "", "2026-11-30", ""],
    ]
    data = core_write(tmp_path / "e.csv", rows)
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            with pytest.raises(ConfigError) as info:
                await load(core_job(tmp_path, data, url), env=CORE_ENV)
            assert await created(url) == []
            said = str(info.value)
            assert "e.csv: 2 lines give no orderId, right below a line that gives one" in said, said
            assert "line 4 below line 3 (order 1 of case 1007 (OUTLAY)); line 6 below line 5" in said, said
            fixed = core_write(tmp_path / "fixed.csv", filled(rows))
            again = replace(core_job(tmp_path, fixed, url), ledger=str(tmp_path / "fixed.sqlite"))
            report = await load(replace(again, rejects=str(tmp_path / "fixed.rejects.csv")), env=CORE_ENV)
            entries = await created(url)
    assert report.exit_code == 0, report
    assert sorted((e["CaseId"], e["Amount"]) for e in entries) == [
        (1006, Decimal("100.00")),
        (1007, Decimal("250.00")),
        (1008, Decimal("330.00")),
    ]


def merged(rows: list[tuple[int, str | None, str | None]], cost_type: str | None = "OUTLAY") -> MergedCells:
    """Visma Core rows (line, caseId, orderId), each of `cost_type`, as one pass reads them."""
    found = MergedCells(Entries())
    for line, case, order in rows:
        row = {"caseId": case, "orderId": order, "accountingCostType": cost_type}
        found.add(line, row, None if order is None else f"{case}/{order}/OUTLAY")
    return found


def test_a_file_is_merged_only_where_no_key_is_given_twice_in_a_row_and_blank_lines_follow_keyed_ones() -> None:
    assert merged([(2, "1", "A"), (3, "1", None)]).merged()
    assert merged([(2, "1", "A"), (3, None, None)]).merged()  # the case merged too
    # a line of another case is no line of the order above it
    assert not merged([(2, "1", "A"), (3, "2", None)]).merged()
    # a key given on two lines in a row: the file writes its keys line by line, a blank one is an entry of its own
    assert not merged([(2, "1", "A"), (3, "1", "A"), (4, "1", None), (5, "2", "B"), (6, "2", None)]).merged()
    # lines of no order before any order's line are none below a merged cell
    assert not merged([(2, "1", None), (3, "2", None), (4, "1", "A"), (5, "2", "B")]).merged()
    # a line that reads as no row breaks the run: what is below it is not below the order
    found = merged([(2, "1", "A")])
    found.lost()
    found.add(4, {"caseId": "1", "orderId": None, "accountingCostType": "OUTLAY"}, None)
    assert not found.merged()


def test_one_key_on_two_lines_in_a_row_of_two_cases_is_two_groups_not_a_key_given_line_by_line() -> None:
    # order 1 of case 1 and order 1 of case 2 in a row are two orders (tester t71h)
    assert merged([(2, "1", "1"), (3, "2", "1"), (4, "2", None)]).merged()
    # the same order on two lines in a row, its case on one of them only: a key given line by line
    assert not merged([(2, "1", "A"), (3, None, "A"), (4, "1", "B"), (5, "1", None)]).merged()
    # read in two parts, cut between the two orders 1, as read whole
    first, second = merged([(2, "1", "1")]), merged([(3 - 10, "2", "1"), (4 - 10, "2", None)])
    first.then(second.part(), 10)
    assert first.merged() and [(at, lines) for at, _, lines, *_ in first.first] == [(3, [4])]


def test_a_totals_row_below_the_last_group_is_no_sign_of_merged_cells() -> None:
    # no case, cost type or order: a totals row, which the planner rejects with the order above it
    assert not merged([(2, "1", "A"), (3, None, None)], cost_type=None).merged()
    # the same line below an order that has another order below it is a line of it
    assert merged([(2, "1", "A"), (3, None, None), (4, "2", "B")], cost_type=None).merged()


def test_a_file_read_in_two_parts_is_judged_as_read_whole() -> None:
    rows = [(2, "1", "A"), (3, "1", None), (4, "1", "B"), (5, "1", "B"), (6, "2", "C"), (7, "2", None)]
    for cut in range(1, len(rows)):
        if rows[cut][2] is None:  # a part that starts with a line of no key is read with the whole file
            continue
        first, second = merged(rows[:cut]), merged([(line - 10, c, o) for line, c, o in rows[cut:]])
        first.then(second.part(), 10)
        whole = merged(rows)
        assert (first.merged(), first.below, first.again) == (whole.merged(), whole.below, whole.again), cut
    rows = [(2, "1", "A"), (3, "1", None), (4, "1", "B"), (5, "1", None), (6, "2", "C"), (7, "2", None)]
    first, second = merged(rows[:2]), merged([(line - 10, c, o) for line, c, o in rows[2:]])
    first.then(second.part(), 10)
    assert first.merged() and [(at, lines) for at, _, lines, *_ in first.first] == [(2, [3]), (4, [5]), (6, [7])]


def test_a_long_run_below_a_merged_cell_is_counted_and_named_by_its_first_lines() -> None:
    found = merged(
        [(2, "1", "A"), *[(3 + i, "1", None) for i in range(10_000)], (10_003, "2", "B"), (10_004, "2", None)]
    )
    refused = str(found.refusal("e.csv"))
    assert refused.startswith("e.csv: 10,001 lines give no orderId, right below a line that gives one (lines 3, 4, 5 ")
    assert "and 9,997 more below line 2 (order A of case 1 (OUTLAY)); line 10004 below line 10003" in refused, refused
    assert len(found.first[0][2]) == MergedCells.LINES_SHOWN


def test_one_voucher_written_two_ways_on_two_lines_in_a_row_is_a_key_given_line_by_line() -> None:
    # a hypothesis run wrote voucher 7 as "7" above "0007": one voucher as e-conomic's key reads it, so the file
    # writes its keys line by line and a blank one below keeps its meaning (refused with its neighbours)
    kind = DraftEntries()
    found = MergedCells(kind)
    for line, row in enumerate(
        [
            {"journalNumber": "1", "voucherNumber": "7"},
            {"journalNumber": "01", "voucherNumber": "0007"},
            {"journalNumber": "1", "voucherNumber": "8"},
            {"journalNumber": "1", "voucherNumber": None},
        ],
        start=2,
    ):
        found.add(line, row, kind.group_key(row) if row["voucherNumber"] else None)
    assert found.again == 1 and not found.merged()
    # as written alike and nothing else alike: two vouchers "7" of journals 1 and 2, no key given twice
    found = MergedCells(kind)
    for line, row in enumerate(
        [{"journalNumber": "1", "voucherNumber": "7"}, {"journalNumber": "2", "voucherNumber": "7"}], start=2
    ):
        found.add(line, row, kind.group_key(row))
    found.add(4, {"journalNumber": "2", "voucherNumber": None}, None)
    assert found.again == 0 and found.merged()


async def test_a_lone_line_of_no_voucher_below_one_line_vouchers_is_refused_as_merged(tmp_path: Path) -> None:
    """Found by the hostile-input property test: vouchers 1 and 2 of one line each, then a line of journal 1 that
    gives no voucher. It may be voucher 2's second line, its cell merged: the file is refused before the first call,
    naming the line, never loaded in part."""
    data = tmp_path / "e.jsonl"
    rows = [{"voucherNumber": 1}, {"voucherNumber": 2}, {}]
    line = {"entryTypeNumber": 2, "journalNumber": 1, "date": "2026-11-01", "amount": "-0", "currency": "DKK"}
    data.write_text("".join(json.dumps({**line, **row, "accountNumber": 1010}) + "\n" for row in rows))
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            origin = url.removesuffix(PREFIX)
            with pytest.raises(ConfigError) as info:
                await load(economic_job(data, origin, tmp_path / "run.sqlite"), env=CREDS)
            stats = await sandbox_read(origin, "stats")
    assert stats["entries"] == 0 and "POST" not in stats["by_method"], stats
    said = str(info.value)
    assert "1 line gives no voucherNumber" in said and "line 3 below line 2 (voucher 2 (journal 1))" in said, said


@settings(max_examples=300)
@given(
    st.lists(
        st.tuples(st.sampled_from(["1", "01", "2", None]), st.sampled_from(["7", "0007", "8", "x", None])),
        min_size=2,
        max_size=12,
    ),
    st.data(),
)
def test_any_file_read_in_two_parts_is_judged_as_read_whole(
    rows: list[tuple[str | None, str | None]], data: st.DataObject
) -> None:
    """Vouchers written two ways, journals blank or not, keys that read as none: a file read in two parts
    (halves.py), cut before any line that gives a voucher, is judged as one pass judges it."""
    kind = DraftEntries()

    def read(part: list[tuple[str | None, str | None]], first_line: int) -> MergedCells:
        found = MergedCells(kind)
        for line, (journal, voucher) in enumerate(part, start=first_line):
            row = {"journalNumber": journal, "voucherNumber": voucher}
            found.add(line, row, kind.group_key(row) if voucher else None)
        return found

    cuts = [i for i in range(1, len(rows)) if rows[i][1] is not None]
    assume(cuts)
    cut = data.draw(st.sampled_from(cuts))
    first, second = read(rows[:cut], 2), read(rows[cut:], 2 + cut - 10)
    first.then(second.part(), 10)
    whole = read(rows, 2)
    assert (first.merged(), first.below, first.again, first.first) == (
        whole.merged(),
        whole.below,
        whole.again,
        whole.first,
    )


def economic_rows(rows: list[dict[str, str | None]]) -> MergedCells:
    """e-conomic rows, lines 2 on, as one pass reads them."""
    kind = DraftEntries()
    found = MergedCells(kind)
    for line, row in enumerate(rows, start=2):
        found.add(line, row, kind.group_key(row) if row.get("voucherNumber") else None)
    return found


def entry(journal: str, voucher: str | None, amount: str, account: str | None = "2750") -> dict[str, str | None]:
    date = None if account is None else "2026-11-30"
    return {"journalNumber": journal, "voucherNumber": voucher, "amount": amount, "accountNumber": account} | {
        "date": date
    }


def test_a_journal_s_subtotal_row_below_one_line_vouchers_is_refused_as_a_total_row_not_merged_cells() -> None:
    # found by a tester (t71h): one-line vouchers, a subtotal row below each journal's (journal and amount alone):
    # refused, rightly, but told to fill the voucherNumber down, which would book the subtotal into the voucher above;
    # its lines may as well be lines of a merged voucher (t72e: PayorCRM invoice lines under a merged invoiceNumber
    # were told to be removed): both are named, each with what to do
    rows = [entry("1", "1", "100.00"), entry("1", "2", "50.00"), entry("1", None, "150.00", account=None)]
    rows += [entry("2", "3", "20.00"), entry("2", "4", "30.00"), entry("2", None, "50.00", account=None)]
    found = economic_rows(rows)
    assert found.merged() and found.totals == found.below == 2
    said = str(found.refusal("sub.csv"))
    assert said.startswith(
        "sub.csv: 2 lines give an amount but no voucherNumber, date or other number of a line, right below a line "
        "that gives a voucherNumber (line 4 below line 3 (voucher 2 (journal 1)); line 7 below line 6 (voucher 4 "
        "(journal 2))): a subtotal or total row of an export reads so (one for each journalNumber, below its "
        "vouchers), and so does a line of the voucher above it whose voucherNumber was a merged cell"
    ), said
    assert said.endswith(
        "Remove the subtotal and total rows and load the file again; where such a line is a line of the voucher "
        "above it, fill the voucherNumber down to it (in the spreadsheet: unmerge the cells, then fill each blank "
        "cell with the value above it)"
    ), said
    # read in two parts, cut between the journals, as read whole
    first, second = economic_rows(rows[:3]), economic_rows(rows[3:])
    first.then(second.part(), 3)
    assert first.merged() and (first.below, first.totals) == (2, 2) and str(first.refusal("sub.csv")) == said
    # a real line below a merged cell is told as one, the subtotal row beside it named to be removed
    rows[2] = {**entry("1", None, "-150.00"), "accountNumber": "5600"}
    said = str(economic_rows(rows).refusal("mixed.csv"))
    assert "Fill the voucherNumber down to every line of its voucher" in said, said
    assert said.endswith(
        "1 of them gives an amount but no date or other number of a line (line 7): a subtotal or total row of an "
        "export reads so; where it is one, remove it"
    ), said
    # a line giving a date or an account is no total row: the merged cells' advice alone
    rows[5] = entry("2", None, "-50.00")
    said = str(economic_rows(rows).refusal("merged.csv"))
    assert "Fill the voucherNumber down" in said and "subtotal" not in said, said
