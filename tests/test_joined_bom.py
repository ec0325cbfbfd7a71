"""Two exports joined into one file (`cat a.csv b.csv`), the second saved by Excel's "CSV UTF-8" with its byte order
mark and without its header: the mark stands at the start of a line below the header. Found by tester t46a: read as
part of the line's first cell, HaloPSA's record was created named '\\ufeffK14' (an invisible mark before its name,
exit 0), and an e-conomic file whose first column is `text` would have booked it so; where the first column is a
number, the row was rejected as `not a whole number: '\\ufeff5'`. The mark is a property of the joined part: the
file is refused before the first call, naming the line, as Excel's sep= line below other rows is."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CREDS

from bulkload.cli import main

BOM = "\ufeff"
FILES = {
    "economic": (
        "e.csv",
        [
            "text;entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber",
            "Rent;5;1;1;30-11-2026;100,00;DKK;1010",
            "Rent;5;1;1;30-11-2026;-100,00;DKK;5600",
            BOM + "Fee;5;1;2;30-11-2026;50,00;DKK;1010",
            "Fee;5;1;2;30-11-2026;-50,00;DKK;5600",
        ],
    ),
    "halopsa": ("KashflowDetails.csv", ["name;username;enabled", "K13;u;true", BOM + "K14;u;true"]),
    # JSON lines joined so: the line was rejected as 'invalid JSON: … invalid character (byte 0)', the mark unseen
    "halopsa-jsonl": (
        "KashflowDetails.jsonl",
        ['{"name": "K13", "username": "u"}', BOM + '{"name": "K14", "username": "u"}'],
    ),
}


@pytest.mark.parametrize("target", sorted(FILES))
def test_a_byte_order_mark_below_the_header_refuses_the_file_naming_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    for name, value in {**CREDS, "HALO_CLIENT_ID": "c", "HALO_CLIENT_SECRET": "s"}.items():
        monkeypatch.setenv(name, value)
    name, lines = FILES[target]
    data = tmp_path / name
    data.write_text(BOM + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    address = ["--base-url", "http://127.0.0.1:9"] if target != "economic" else []
    code = main(["load", target.removesuffix("-jsonl"), str(data), *address, "--dry-run", "-q"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    line = len(lines)
    if target == "economic":
        line -= 1
    assert f"line {line}: the line starts with a byte order mark (U+FEFF)" in err, err
    assert "nothing was sent" in err, err


def test_a_byte_order_mark_of_the_first_line_is_the_files_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    _, lines = FILES["economic"]
    data = tmp_path / "e.csv"
    data.write_text(BOM + "\r\n".join([*lines[:3], lines[4].replace("-50", "50"), lines[4]]) + "\r\n", encoding="utf-8")
    assert main(["load", "economic", str(data), "--dry-run", "-q"]) == 0


def test_a_byte_order_mark_inside_a_quoted_first_cell_is_that_cells_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A first cell quoted and holding the mark (`"\\ufeffFee";…`) does not start its line with the mark: a file
    joined on starts with it before any quote, so this is the cell's text, as any character inside quotes, and the
    file is not refused (the test suite's own model of hostile files found it: test_hostile_input)."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    _, lines = FILES["economic"]
    data = tmp_path / "e.csv"
    quoted = f'"{lines[3]}'.replace(";", '";', 1)  # "\ufeffFee";5;1;2;…
    data.write_text(BOM + "\r\n".join([*lines[:3], quoted, lines[4]]) + "\r\n", encoding="utf-8")
    code = main(["load", "economic", str(data), "--dry-run", "-q"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 0 and "byte order mark" not in err, err
