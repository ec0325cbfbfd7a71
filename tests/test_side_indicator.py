"""An amount written with a debit/credit indicator (`50,00 CR`, `Dr 12.00`), as bank statements and ledger exports
write the side: rejected with its voucher, and the reason says what the cell holds and how to write it, not only
"not a number" (found by a tester, t67c: nothing in `not a number: '50,00 CR'` said to write credits negative)."""

from __future__ import annotations

import csv
from pathlib import Path

import anyio
import pytest
from conftest import CREDS

from bulkload import Job, load
from bulkload.numbers import NumberFormat
from bulkload.sandbox import SandboxOptions, running

HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text\n"


@pytest.mark.parametrize(
    ("mark", "text", "side"),
    [
        (",", "50,00 CR", "CR"),
        (",", "1.234,50 Dr", "Dr"),
        (".", "Cr 12.00", "Cr"),
        (".", "(1,234.56)DR.", "DR"),
        # SAP's and DATEV's Soll/Haben, and a D/C letter, after the amount: told 'not a number' alone (tester t72c)
        (",", "1.234,50 S", "S"),
        (",", "1.234,50 H", "H"),
        (".", "100.00 C", "C"),
        (",", "99,95 Haben", "Haben"),
    ],
)
def test_a_debit_credit_indicator_is_named_with_the_way_to_write_the_amount(mark: str, text: str, side: str) -> None:
    with pytest.raises(ValueError) as info:
        NumberFormat(mark).parse(text)
    assert str(info.value).startswith(f"{text!r} is marked {side!r} (a debit/credit indicator)")
    assert "credits as negative numbers" in str(info.value)


@pytest.mark.parametrize("text", ["100 pcs", "CR", "kr 100,00", "CRC 5,00", "H", "S 100,00", "100 Stk"])
def test_text_that_is_no_amount_with_an_indicator_is_not_told_of_one(text: str) -> None:
    with pytest.raises(ValueError) as info:
        NumberFormat(",").parse(text)
    assert "debit/credit" not in str(info.value)


async def test_a_voucher_with_an_indicator_is_rejected_whole_naming_it(tmp_path: Path) -> None:
    data = tmp_path / "bank.csv"
    data.write_text(
        HEADER
        + "5;1;7001;31-10-2026;50,00 CR;DKK;1010;Bank fee\n"
        + "5;1;7001;31-10-2026;50,00 DR;DKK;5600;Bank fee\n"
        + "5;1;7002;31-10-2026;1.250,00;DKK;1010;Rent\n"
        + "5;1;7002;31-10-2026;-1.250,00;DKK;5600;Rent\n",
        encoding="utf-8",
    )
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions()) as url:
            report = await load(Job(target="economic", files=[str(data)], base_url=url), env=CREDS)
    assert report.exit_code == 1, report
    assert (report.loaded, report.rejected) == (2, 2)
    text = (tmp_path / "bank.csv.rejects.csv").read_text(encoding="utf-8")
    rows = {row["line"]: row for row in csv.DictReader(text.splitlines(), delimiter=";")}
    assert rows["2"]["field"] == "amount"
    assert rows["2"]["reason"].startswith("'50,00 CR' is marked 'CR' (a debit/credit indicator)")
    assert rows["3"]["reason"].startswith("'50,00 DR' is marked 'DR'")
