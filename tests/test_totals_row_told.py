"""Totals rows of a journal export: a Danish spreadsheet's `;;;;1.484,50;;;I alt` below the lines, Excel's Subtotal
(`101 Total` below each voucher, `Grand Total` at the end), a total per currency. Found by testers (t68a, t74a): such a
row names no voucher, and was taken for a line of the last voucher, which was rejected with it (exit 1): a good month
end refused. A totals row fills an amount and nothing of a line's own (no voucher, date or account): it is a control
total, checked before the first call against the lines above it (their net sum, debits or credits, since the totals
rows before it or from the file's start, of its currency where it names one) and never loaded; a file that does not
add up to it is refused, naming the figures, nothing sent. A row naming no voucher that gives a line's own fields is
no totals row: it is taken for a line of the vouchers next to it, as before."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import CREDS
from test_load_visma_core import ENV as CORE_ENV
from test_load_visma_core import created
from test_load_visma_core import job as core_job
from test_month_end_files import journal

from bulkload import Job, load
from bulkload.cli import main
from bulkload.errors import ConfigError
from bulkload.sandbox import SandboxOptions, running
from bulkload.sources import names_total

HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text\n"
LINES = (
    "5;1;101;31.12.2026;1.234,50;DKK;1010;Husleje\n"
    "5;1;101;31.12.2026;-1.234,50;DKK;5600;Bank\n"
    "5;1;102;01.12.2026;250,00;DKK;1010;Kørsel Århus\n"
    "5;1;102;01.12.2026;-250,00;DKK;5600;Bank\n"
)
BOOKED = [
    (101, 1010, Decimal("1234.50"), "DKK"),
    (101, 5600, Decimal("-1234.50"), "DKK"),
    (102, 1010, Decimal("250.00"), "DKK"),
    (102, 5600, Decimal("-250.00"), "DKK"),
]


async def books(tmp_path: Path, text: str, name: str = "entries.csv") -> tuple[int, list[object], str]:
    """`text` loaded into a fresh e-conomic sandbox: the exit code, what journal 1 holds, how the file was read."""
    data = tmp_path / name
    data.write_text(text, encoding="utf-8")
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job = Job(target="economic", files=[str(data)], base_url=url, ledger=str(tmp_path / f"{name}.sqlite"))
            report = await load(job, env=CREDS)
            held = await journal(url)
    (read,) = report.inputs or [{}]
    assert report.rows_read == report.loaded + report.rejected + report.in_doubt + report.skipped
    return report.exit_code, list(held), "; ".join(read.get("control_totals", []))


@pytest.mark.parametrize(
    ("totals", "said"),
    [
        (";;;;1.484,50;;;I alt\n", "line 6 amount 1.484,50: the debits of lines 2-5"),
        ("\n;;;;1.484,50;;;Total\n\n\n", "line 7 amount 1.484,50: the debits of lines 2-5"),
        (";;;;-1.484,50;DKK;;Summe\n", "line 6 amount -1.484,50: the credits of lines 2-5"),
        (";;Total;;0,00;;;\n", "line 6 amount 0,00: the net sum of lines 2-5"),
    ],
)
async def test_a_totals_row_at_the_end_is_checked_and_not_loaded(tmp_path: Path, totals: str, said: str) -> None:
    code, held, read = await books(tmp_path, HEADER + LINES + totals)
    assert (code, held, read) == (0, BOOKED, said)


@pytest.mark.parametrize(
    "text",
    [
        # a sum of every line above it, written under the column with no word beside it
        HEADER + LINES + ";;;;1.484,50;;;\n",
        # a line of voucher 101 whose other cells, its account too, were merged over from the line above: its amount
        # is also the debits of lines 2-3 (50,00 and 50,00), by chance
        HEADER
        + "5;1;101;31.12.2026;50,00;DKK;1010;\n5;1;101;31.12.2026;50,00;DKK;1010;\n;;;;100,00;;;\n"
        + "5;1;101;31.12.2026;-200,00;DKK;5600;Bank\n",
    ],
    ids=["sum-at-the-end", "merged-line-equal-to-a-sum"],
)
async def test_a_bare_amount_naming_no_total_refuses_the_file_whatever_it_sums(tmp_path: Path, text: str) -> None:
    # a totals row and a line whose cells were merged over read alike: which it is cannot be told, so it is not
    # guessed from its amount (before, the second was taken for a total and voucher 101 booked without it, exit 0)
    with pytest.raises(ConfigError) as refused:
        await books(tmp_path, text)
    said = str(refused.value)
    assert "fills amount but no entryTypeNumber, voucherNumber or date, and no cell names a total" in said, said
    assert said.endswith("where it is a totals row, write a word for a total in it (`Total`), or remove it"), said


async def test_excel_s_subtotals_below_each_voucher_and_its_grand_total_are_checked(tmp_path: Path) -> None:
    first, second = LINES.splitlines(keepends=True)[:2], LINES.splitlines(keepends=True)[2:]
    text = HEADER + "".join(first) + ";;101 I alt;;1.234,50;;;\n" + "".join(second) + ";;102 I alt;;250,00;;;\n"
    code, held, read = await books(tmp_path, text + ";;Hovedtotal;;1.484,50;;;\n")
    assert (code, held) == (0, BOOKED)
    assert read == (
        "line 4 amount 1.234,50: the debits of lines 2-3; line 7 amount 250,00: the debits of lines 5-6; "
        "line 8 amount 1.484,50: the debits of lines 2-6, every line above it"
    )


async def test_a_general_ledger_export_s_totals_per_account_are_checked_and_its_vouchers_regrouped(
    tmp_path: Path,
) -> None:
    text = (
        HEADER
        + "5;1;101;31.12.2026;1.234,50;DKK;1010;Husleje\n5;1;102;01.12.2026;250,00;DKK;1010;Kørsel Århus\n"
        + ";;Total 1010;;1.484,50;;;\n"
        + "5;1;101;31.12.2026;-1.234,50;DKK;5600;Bank\n5;1;102;01.12.2026;-250,00;DKK;5600;Bank\n"
        + ";;Total 5600;;-1.484,50;;;\n;;Total;;0,00;;;\n"
    )
    code, held, read = await books(tmp_path, text)
    assert (code, held) == (0, BOOKED)
    # the last total is the net sum of every line, not the debits of the lines of account 5600, which give none
    assert read.endswith("line 8 amount 0,00: the net sum of lines 2-6, every line above it"), read


async def test_totals_per_currency_are_each_checked_against_the_lines_of_their_currency(tmp_path: Path) -> None:
    lines = LINES + "5;1;103;01.12.2026;100,00;EUR;1010;Hotel\n5;1;103;01.12.2026;-100,00;EUR;5600;Bank\n"
    text = HEADER + lines + ";;;;1.484,50;DKK;;Total DKK\n;;;;100,00;EUR;;Total EUR\n"
    code, held, read = await books(tmp_path, text)
    assert code == 0 and len(held) == 6, held
    assert read == "line 8 amount 1.484,50: the debits of lines 2-5; line 9 amount 100,00: the debits of lines 6-7"


async def test_a_totals_row_the_lines_do_not_add_up_to_refuses_the_file_naming_the_figures(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        await books(tmp_path, HEADER + LINES + ";;;;1.485,50;;;I alt\n")
    said = str(refused.value)
    assert "line 6 reads as a totals row" in said and "its amount 1.485,50 is none of the sums" in said, said
    assert "the lines above it (lines 2-5) add up to net 0,00, debits 1484,50, credits -1484,50" in said, said
    assert said.endswith("where line 6 is a line to book, give it its entryTypeNumber, voucherNumber and date"), said


async def test_a_refusal_names_the_lines_above_that_do_not_read_as_not_summed(tmp_path: Path) -> None:
    # line 4 split by a stray delimiter (9 cells, the header's 8): its amount left out of the sums, the refusal said
    # only that a line may be missing or changed, never which line was not summed (tester t74g)
    lines = LINES.replace("250,00;DKK;1010;Kørsel Århus", "250,00;DKK;1010;Kørsel;Århus")
    with pytest.raises(ConfigError) as refused:
        await books(tmp_path, HEADER + lines + ";;;;1.485,50;;;I alt\n")
    said = str(refused.value)
    assert "credits -1484,50 (line 4, which does not read (or its amount does not), is not summed)." in said, said


async def test_a_visma_core_totals_row_below_the_orders_is_not_booked(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    data.write_text(
        "caseId,accountingCostType,amount,description,note,entryDate,orderId\n"
        "1004,OUTLAY,100.00,Takst,,2026-11-30,T1\n"
        "1004,OUTLAY,40.00,Porto,,2026-11-30,T1\n"
        "1005,FEE,250.00,Honorar,,2026-11-30,\n"
        ",,390.00,I alt,,,\n",
        encoding="utf-8",
    )
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            report = await load(core_job(tmp_path, data, url), env=CORE_ENV)
            entries = await created(url)
    assert sorted((e["CaseId"], e["Amount"]) for e in entries) == [(1004, Decimal("140.00")), (1005, Decimal("250.00"))]
    assert (report.rows_read, report.loaded, report.exit_code) == (3, 3, 0), report


@pytest.mark.parametrize(
    ("header", "lines", "said", "options"),
    [
        # its case, cost type and order merged over from the line above, its own description given
        (
            "caseId,accountingCostType,amount,description,note,entryDate,orderId",
            "1004,OUTLAY,100.00,Takst,,2026-11-30,T1\n,,100.00,Takst,,,\n",
            "line 3 fills amount and description 'Takst' but no caseId or accountingCostType, and no cell names a "
            "total",
            {},
        ),
        # under --cost-type, its case, date and order merged over and no description: a bare amount, the line's above
        (
            "caseId,amount,description,note,entryDate,orderId",
            "1004,100.00,Takst,,2026-11-30,T1\n,100.00,,,,\n",
            "line 3 fills amount but no caseId, and no cell names a total",
            {"target_options": {"cost_type": "OUTLAY"}},
        ),
        # under --cost-type, its case, date and order merged over, its own text starting with a word for a total:
        # the line's above, 500.00, was "the net sum of line 2" and the line dropped, exit 0 (tester t74g)
        (
            "caseId,amount,description,note,entryDate,orderId",
            "1004,500.00,Transport Oslo,,2026-11-30,T1\n,500.00,Transport Århus,,,\n",
            "line 3 fills amount and description 'Transport Århus' but no caseId, and no cell names a total",
            {"target_options": {"cost_type": "OUTLAY"}},
        ),
    ],
    ids=["text-of-a-line", "bare-amount", "text-starting-with-a-total-word"],
)
async def test_a_visma_core_row_of_a_totals_row_s_shape_naming_no_total_refuses_the_file(
    tmp_path: Path, header: str, lines: str, said: str, options: dict[str, Any]
) -> None:
    # a line whose other cells were merged over from the line above reads as a totals row of that line's amount:
    # never dropped as a control total (order T1 was booked at 100.00 where the file meant 200.00), nor booked
    data = tmp_path / "e.csv"
    data.write_text(f"{header}\n{lines}", encoding="utf-8")
    with anyio.fail_after(60), pytest.raises(ConfigError) as refused:
        async with running("visma-core", SandboxOptions()) as url:
            await load(core_job(tmp_path, data, url, **options), env=CORE_ENV)
    told = str(refused.value)
    assert told.startswith(f"{data}: {said} (`Total`, `I alt`, `Summe`): a totals row reads so, and so does"), told
    assert "Where it is a line, give it its caseId" in told, told


@pytest.mark.parametrize(
    ("text", "total"),
    [
        *((t, True) for t in ("I alt", "101 Total", "Oslo Total", "Grand Total", "Total 1010", "Total DKK")),
        ("Transport", True),
        # Excel's grand total in Spanish, Portuguese, Italian and French: a word after the total's, no key
        *((t, True) for t in ("Total general", "Total geral", "Totale complessivo", "Total général")),
        *((t, False) for t in ("Transport Århus", "Total cost", "Summe Reisekosten", "Porto", "Total Dkk")),
        # e-conomic's subtotal below a voucher: the voucher's word between the total's and its number
        *((t, True) for t in ("Total bilag 101", "Total voucher 101")),
        *((t, False) for t in ("Total bilag", "Total bilag Århus")),
    ],
)
def test_a_word_after_a_total_names_one_only_as_a_key_or_a_code(text: str, total: bool) -> None:
    # a group's value before the word (Excel's `Oslo Total`), a key or a currency after it; a word after it that is
    # neither is a line's text (a journey to Århus, a cost), which a line whose other cells were merged over writes
    assert names_total(text) is total


async def test_a_visma_core_line_of_a_total_s_word_alone_merged_below_a_line_of_its_amount_refuses_the_file(
    tmp_path: Path,
) -> None:
    # two Transport costs of 500.00, the second's case, cost type and order merged over from the first: it read as a
    # totals row, "the net sum of line 2", and was dropped unbooked, exit 0 (tester t74g). A total naming what it
    # totals (`T1 Total`) below that one line is checked as ever
    data = tmp_path / "e.csv"
    header = "caseId,accountingCostType,amount,description,note,entryDate,orderId\n"
    first = "1004,OUTLAY,500.00,Transport,,2026-11-30,T1\n"
    data.write_text(header + first + ",,500.00,Transport,,,\n", encoding="utf-8")
    with anyio.fail_after(60), pytest.raises(ConfigError) as refused:
        async with running("visma-core", SandboxOptions()) as url:
            await load(core_job(tmp_path, data, url), env=CORE_ENV)
    told = str(refused.value)
    assert "its amount 500.00 is that of the one line it may total (line 2), naming no more than a word" in told, told
    assert told.endswith("where it is a total, write what it totals beside the word (`101 Total`), or remove it"), told
    data.write_text(header + first + ",,500.00,T1 Total,,,\n", encoding="utf-8")
    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            report = await load(core_job(tmp_path, data, url), env=CORE_ENV)
    assert (report.rows_read, report.loaded, report.exit_code) == (1, 1, 0), report


def reasons(tmp_path: Path, text: str) -> dict[int, str]:
    """The dry run's rejects of `text`: line → reason."""
    path = tmp_path / "entries.csv"
    path.write_text(text, encoding="utf-8")
    assert main(["-q", "load", "economic", str(path), "--dry-run", "--no-progress"]) == 1
    with open(tmp_path / "entries.csv.rejects.dry-run.csv", encoding="utf-8", newline="") as f:
        return {int(r["line"]): f"{r['field']}: {r['reason']}".lstrip(": ") for r in csv.DictReader(f, delimiter=";")}


def test_a_row_naming_no_voucher_that_gives_a_line_s_own_fields_is_no_totals_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    lost = ";;;31.12.2026;1.484,50;;1010;I alt\n"  # a date and an account: a line whose voucher was lost
    got = reasons(tmp_path, HEADER + LINES + lost)
    told = "line 6, after it at the file's end, names no voucher and may be one of its lines, or a totals row"
    assert got[4] == f"voucher 102 (journal 1) rejected: {told}: remove it if it is one, and load the rejects file"
    first, second = LINES.splitlines(keepends=True)[:2], LINES.splitlines(keepends=True)[2:]
    got = reasons(tmp_path, HEADER + "".join(first) + lost + "".join(second))
    names_none = "rejected: line 4, next to it, names no voucher and may be one of its lines"
    assert got[2] == f"voucher 101 (journal 1) {names_none}" and got[5] == f"voucher 102 (journal 1) {names_none}"


SUBTOTALLED = (
    HEADER
    + "5;1;100;30.11.2026;75,00;DKK;1010;Porto\n5;1;100;30.11.2026;-75,00;DKK;5600;Bank\n"
    + LINES.splitlines(keepends=True)[0]
    + LINES.splitlines(keepends=True)[1]
    + "5;1;101;;{debits};;;Total bilag 101\n"
    + "".join(LINES.splitlines(keepends=True)[2:])
    + ";;102;;250,00;;;102 I alt\n"
)


async def test_a_subtotal_repeating_its_voucher_s_number_is_checked_against_that_voucher_alone(
    tmp_path: Path,
) -> None:
    # found by a tester: e-conomic's export writes `5;1;101;;1.234,50;;;Total bilag 101` below each voucher, its
    # number given, no date, no account: read as a line of voucher 101, it was rejected with it (exit 1), a good month
    # end partly refused. Voucher 100 above has no subtotal: voucher 101's sums its own lines (4-5) alone
    code, held, read = await books(tmp_path, SUBTOTALLED.format(debits="1.234,50"))
    assert (code, held[2:]) == (0, BOOKED), held
    assert read == (
        "line 6 amount 1.234,50: the debits of voucher 101, lines 4-5; "
        "line 9 amount 250,00: the debits of voucher 102, lines 7-8"
    ), read


async def test_a_subtotal_its_voucher_does_not_add_up_to_refuses_the_file_naming_the_figures(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        await books(tmp_path, SUBTOTALLED.format(debits="1.235,50"))
    said = str(refused.value)
    assert "line 6 reads as voucher 101's subtotal" in said, said
    assert "its amount 1.235,50 is none of the sums of its lines (lines 4-5): net 0,00, debits 1234,50" in said, said


@pytest.mark.parametrize(
    "row",
    [
        "5;1;101;;1.234,50;;;Husleje\n",  # no total named: a line of voucher 101 whose date and account are lost
        "5;1;102;;1.234,50;;;Total bilag 102\n",  # not the voucher of the lines right above it
        "5;1;101;31.12.2026;1.234,50;;;Total bilag 101\n",  # a date: a line's
        "5;1;101;;1.234,50;;1010;Total bilag 101\n",  # an account: a line's
    ],
    ids=["no-total-named", "another-voucher", "a-date", "an-account"],
)
async def test_a_row_giving_a_voucher_s_number_less_certainly_a_subtotal_is_a_line_as_before(
    tmp_path: Path, row: str
) -> None:
    text = HEADER + "".join(LINES.splitlines(keepends=True)[:2]) + row
    code, held, _ = await books(tmp_path, text + "".join(LINES.splitlines(keepends=True)[2:]))
    voucher = int(row.split(";")[2])  # rejected with the row, as before
    assert code == 1 and not [line for line in held if line[0] == voucher], held  # type: ignore[index]
