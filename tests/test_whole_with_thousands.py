"""A Danish Excel export whose number columns are formatted with a thousands separator writes voucher 1001 as
`1.001` and account 1010 as `1.010`, in a file whose amounts (`1.234,50`) prove a decimal comma. Read the file's way
these are whole numbers. bulkload rejects them (safe) with the reason `not a whole number: '1.001'`, which is
false and does not say what to change (the thousands separator); `4.000`, the same shape, is told so."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import CREDS

from bulkload.cli import main

ROWS = [
    "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text",
    "5;1;1.001;31-10-2026;1.234,50;DKK;1010;a",
    "5;1;1.001;31-10-2026;-1.234,50;DKK;5600;b",
    "5;1;1002;31-10-2026;250,00;DKK;1.010;c",
    "5;1;1002;31-10-2026;-250,00;DKK;5600;d",
]


def test_a_whole_number_with_a_thousands_separator_is_not_called_no_whole_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "dk.csv"
    data.write_text("\r\n".join(ROWS) + "\r\n")
    main(["load", "economic", str(data), "--dry-run", "--base-url", "http://127.0.0.1:9/journalsapi", "-q"])
    rejects = tmp_path / "dk.csv.rejects.dry-run.csv"
    with rejects.open(newline="") as fh:
        reasons = {r["field"]: r["reason"] for r in csv.DictReader(fh, delimiter=";") if r["field"]}
    for field in ("voucherNumber", "accountNumber"):
        if field in reasons:
            assert "not a whole number" not in reasons[field], reasons
