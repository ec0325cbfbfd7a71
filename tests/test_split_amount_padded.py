"""An amount written `1,234.50` unquoted in a ','-separated file is split in two cells. Where the file was then
saved by a spreadsheet, every row and the header are padded to the widest row (the header ends in an unnamed
column), so the split is not seen by the rows' widths: e-conomic booked voucher 1 as 1 EUR at exchange rate 234.50,
exit 0 (t42a). Such a file is refused before the first call; a row that means amount 1 at that rate writes it with
its decimals and loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulkload.cli import main

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,currency,accountNumber,text,amount,exchangeRate,\n"


def _load(tmp_path: Path, base: list[str], body: str) -> tuple[int, dict[str, object]]:
    data = tmp_path / "entries.csv"
    data.write_text(HEADER + body, encoding="utf-8")
    report = tmp_path / "r.json"
    code = main(["load", "economic", str(data), "--report", str(report), *base])
    return code, json.loads(report.read_text()) if report.exists() else {}


def test_a_split_amount_in_a_padded_file_refuses_it_before_the_first_call(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = _load(
        tmp_path,
        base,
        "5,1,1,2026-10-31,EUR,1010,Sale A,1,234.50,\n"
        "5,1,1,2026-10-31,EUR,5600,Sale A,-1,234.50,\n"
        "5,1,2,2026-10-31,EUR,1010,Sale B,250.00,,\n"
        "5,1,2,2026-10-31,EUR,5600,Sale B,-250.00,,\n",
    )
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2 and report.get("requests", 0) == 0, (err, report)
    assert "line 2: amount '1' and exchangeRate '234.50' read together are 1,234.50" in err, err
    assert "the file writes its other amounts in amount with decimals" in err, err
    assert "write amount with its decimals (1.00); nothing was sent" in err, err


@pytest.mark.parametrize(
    "first",
    [
        "5,1,1,2026-10-31,EUR,1010,Sale A,1.00,234.50,\n5,1,1,2026-10-31,EUR,5600,Sale A,-1.00,234.50,\n",
        # a rate of other digits than a thousands group's, and an amount of four: no split reads so
        "5,1,1,2026-10-31,EUR,1010,Sale A,1,74.50,\n5,1,1,2026-10-31,EUR,5600,Sale A,-1,74.50,\n",
        "5,1,1,2026-10-31,EUR,1010,Sale A,1000,234.50,\n5,1,1,2026-10-31,EUR,5600,Sale A,-1000,234.50,\n",
    ],
    ids=["with-decimals", "rate-not-a-group", "four-digits"],
)
def test_rows_no_split_reads_as_load(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str], first: str
) -> None:
    code, report = _load(tmp_path, base, first + "5,1,2,2026-10-31,EUR,1010,Sale B,250.00,,\n"
                                                  "5,1,2,2026-10-31,EUR,5600,Sale B,-250.00,,\n")  # fmt: skip
    assert (code, report["loaded"]) == (0, 4), capsys.readouterr()


def test_a_split_amount_whose_other_half_fills_a_text_refuses_the_file(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """amount before text: `1,234.50` read as amount 1 and text '234.50' (e-conomic booked 1 EUR, exit 0)."""
    data = tmp_path / "entries.csv"
    data.write_text(
        "entryTypeNumber,journalNumber,voucherNumber,date,currency,accountNumber,amount,text,\n"
        "5,1,1,2026-10-31,EUR,1010,1,234.50,\n"
        "5,1,1,2026-10-31,EUR,5600,-1,234.50,\n"
        "5,1,2,2026-10-31,EUR,1010,250.00,Sale B,\n"
        "5,1,2,2026-10-31,EUR,5600,-250.00,Sale B,\n",
        encoding="utf-8",
    )
    report = tmp_path / "r.json"
    code = main(["load", "economic", str(data), "--report", str(report), *base])
    err = " ".join(capsys.readouterr().err.split())
    loaded = json.loads(report.read_text()) if report.exists() else {}
    assert code == 2 and loaded.get("requests", 0) == 0, (err, loaded)
    assert "line 2: amount '1' and text '234.50' read together are 1,234.50" in err, err


def test_whole_amounts_at_rates_per_100_load_where_the_file_writes_amounts_whole(
    tmp_path: Path, base: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """t47a: e-conomic's exchange rates are per 100 (746.12 for EUR): `250` at `746.12` in a file with a trailing
    delimiter read as a split 250,746.12 and refused a legal file. Where the file writes other amounts whole (`1500`),
    it writes whole amounts so: it loads."""
    code, report = _load(
        tmp_path,
        base,
        "5,1,1,2026-10-31,EUR,1010,Sale A,250,746.12,\n"
        "5,1,1,2026-10-31,EUR,5600,Sale A,-250,746.12,\n"
        "5,1,2,2026-10-31,EUR,1010,Sale B,1500,746.12,\n"
        "5,1,2,2026-10-31,EUR,5600,Sale B,-1500,746.12,\n",
    )
    assert (code, report["loaded"]) == (0, 4), capsys.readouterr()
