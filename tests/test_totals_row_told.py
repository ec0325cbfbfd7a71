"""A totals row at the end of an export (`;;;;1.484,50;;;I alt`, as a Danish finance team's spreadsheet adds one)
names no voucher, and is taken for a line of the last voucher, which is rejected with it: no voucher loads without
a line of its. The voucher was told only `line 7, next to it, names no voucher and may be one of its lines`, and the
row its own `entryTypeNumber: required field is missing`, so nothing said that the row is what a finance team
adds below the lines and removes to load the voucher (tester t68a). The voucher is told so now; a row naming no
voucher between two vouchers is told as before."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bulkload.cli import main

HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text\n"
LINES = (
    "5;1;101;31.12.2026;1.234,50;DKK;1010;Husleje\n"
    "5;1;101;31.12.2026;-1.234,50;DKK;5600;Bank\n"
    "5;1;102;01.12.2026;250,00;DKK;1010;Kørsel Århus\n"
    "5;1;102;01.12.2026;-250,00;DKK;5600;Bank\n"
)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECONOMIC_APP_SECRET_TOKEN", "a")
    monkeypatch.setenv("ECONOMIC_AGREEMENT_GRANT_TOKEN", "g")


def reasons(tmp_path: Path, text: str) -> dict[int, str]:
    """The dry run's rejects of `text`: line → reason."""
    path = tmp_path / "entries.csv"
    path.write_text(text, encoding="utf-8")
    assert main(["-q", "load", "economic", str(path), "--dry-run", "--no-progress"]) == 1
    with open(tmp_path / "entries.csv.rejects.dry-run.csv", encoding="utf-8", newline="") as f:
        return {int(r["line"]): f"{r['field']}: {r['reason']}".lstrip(": ") for r in csv.DictReader(f, delimiter=";")}


@pytest.mark.parametrize("totals", [";;;;1.484,50;;;I alt\n", "\n;;;;1.484,50;;;Total\n\n\n"])
def test_the_last_voucher_is_told_a_row_after_it_at_the_end_may_be_a_totals_row(tmp_path: Path, totals: str) -> None:
    got = reasons(tmp_path, HEADER + LINES + totals)
    line = 6 if not totals.startswith("\n") else 7
    assert sorted(got) == [4, 5, line]
    told = f"line {line}, after it at the file's end, names no voucher and may be one of its lines, or a totals row"
    assert (
        got[4]
        == got[5]
        == f"voucher 102 (journal 1) rejected: {told}: remove it if it is one, and load the rejects file"
    )
    assert got[line] == "entryTypeNumber: required field is missing"  # the row keeps its own reason


def test_a_row_naming_no_voucher_between_two_is_no_totals_row(tmp_path: Path) -> None:
    first, second = LINES.splitlines(keepends=True)[:2], LINES.splitlines(keepends=True)[2:]
    got = reasons(tmp_path, HEADER + "".join(first) + ";;;;1.484,50;;;I alt\n" + "".join(second))
    names_none = "rejected: line 4, next to it, names no voucher and may be one of its lines"
    assert got[2] == f"voucher 101 (journal 1) {names_none}" and got[5] == f"voucher 102 (journal 1) {names_none}"
