"""An e-conomic line naming neither accountNumber nor contraAccountNumber is refused before the first call, its voucher
whole with it. Found by a tester (t70i): an export's sum row inside a voucher ("I alt", no account) was sent, the API
refused it (JournalEntryAccountAndContraAccountNotSet, seed 002, whatever the entry's type), and the voucher's reason
named "accountNumber of line 3 or line 4", as the refusal's index may count from 0 or from 1."""

from __future__ import annotations

import csv
from pathlib import Path

import anyio
from conftest import CREDS, PREFIX, economic_job, sandbox_read

from bulkload import load
from bulkload.sandbox import SandboxOptions, running

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,contraAccountNumber,text\n"
WHY = "no accountNumber and no contraAccountNumber, where the voucher's other lines have one: e-conomic refuses"


async def test_a_voucher_s_line_without_an_account_is_named_and_its_voucher_never_sent(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    data.write_text(
        HEADER
        + "5,1,1,2026-01-05,100.00,DKK,1010,,Salg\n"
        + "5,1,1,2026-01-05,-100.00,DKK,5820,,Bank\n"
        + "5,1,1,2026-01-05,100.00,DKK,,,I alt\n"  # the export's sum row
        + "5,1,2,2026-01-05,50.00,DKK,1010,5820,one line\n"
    )
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            origin = url.removesuffix(PREFIX)
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS)
            stats = await sandbox_read(origin, "stats")
    assert (report.loaded, report.rejected, report.in_doubt, report.exit_code) == (1, 3, 0, 1), report
    assert "400" not in stats["by_status"], stats  # the voucher was never sent, so never refused
    with (tmp_path / "rejects.csv").open(newline="", encoding="utf-8") as fh:
        rejects = {r["line"]: (r["field"], r["reason"]) for r in csv.DictReader(fh)}
    assert set(rejects) == {"2", "3", "4"}, rejects
    field, reason = rejects["4"]
    assert field == "accountNumber" and reason.startswith(WHY), rejects
    assert "JournalEntryAccountAndContraAccountNotSet" in reason and "total row" in reason, reason
    for line in ("2", "3"):
        assert rejects[line] == ("", f"voucher 1 (journal 1) rejected: line 4 accountNumber: {reason}"), rejects


async def test_a_customer_line_without_an_account_is_told_it_is_no_total_row(tmp_path: Path) -> None:
    # a credit note as a general-ledger export writes it: the customer's line (no account), revenue and VAT lines.
    # Before, the reason said "it may be the export's total row: remove it if it is one", and removed, the voucher
    # loaded without it, out of balance by 1,250.00 (exit 0, a warning)
    data = tmp_path / "credit.csv"
    data.write_text(
        "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,customerNumber,text\n"
        "10,1,7,2026-12-31,-1250.00,DKK,,101,Kreditnota K-17\n"
        "10,1,7,2026-12-31,1000.00,DKK,1010,,Varer\n"
        "10,1,7,2026-12-31,250.00,DKK,5810,,Moms\n"
    )
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            origin = url.removesuffix(PREFIX)
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS)
            stats = await sandbox_read(origin, "stats")
    assert (report.loaded, report.rejected, report.exit_code) == (0, 3, 1), report
    assert "400" not in stats["by_status"], stats
    with (tmp_path / "rejects.csv").open(newline="", encoding="utf-8") as fh:
        rejects = {r["line"]: (r["field"], r["reason"]) for r in csv.DictReader(fh)}
    field, reason = rejects["2"]
    assert field == "accountNumber", rejects
    assert reason.startswith("no accountNumber and no contraAccountNumber on the line of customer 101: "), reason
    assert "It is no total row: do not remove it" in reason and "total row: remove it" not in reason, reason
    assert rejects["3"] == ("", f"voucher 7 (journal 1) rejected: line 2 accountNumber: {reason}"), rejects
