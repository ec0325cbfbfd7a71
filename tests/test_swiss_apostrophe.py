"""Excel on Windows 10/11 in a Swiss locale (de-CH, fr-CH, it-CH) groups thousands with a right single quotation mark
(U+2019): 1’234.50. bulkload reads the ASCII apostrophe (1'234.50) as a thousands separator, but rejects the
Swiss Excel form with `not a number: '1’234.50'`, which reads as a number to the user and names nothing to change."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import CREDS

from bulkload.cli import main

ROWS = [
    "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text",
    "5;1;1;2026-10-31;1\u2019234.50;CHF;1010;a",
    "5;1;1;2026-10-31;-1234.50;CHF;5600;b",
]


def test_swiss_excels_thousands_separator_is_read_or_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "ch.csv"
    data.write_text("\r\n".join(ROWS) + "\r\n", encoding="utf-8")
    main(["load", "economic", str(data), "--dry-run", "--base-url", "http://127.0.0.1:9/journalsapi", "-q"])
    with (tmp_path / "ch.csv.rejects.dry-run.csv").open(newline="", encoding="utf-8") as fh:
        reasons = [r["reason"] for r in csv.DictReader(fh, delimiter=";") if r["field"] == "amount"]
    # read as 1234.50 (nothing rejected), or the reason names the character that is no separator bulkload reads
    assert all(reason != "not a number: '1\u2019234.50'" for reason in reasons), reasons
