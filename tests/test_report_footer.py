"""A report's footer below the data (`Total: 2 records`), after a blank row, padded by a spreadsheet to the sheet's
width, read as a row: HaloPSA created a record named `Total: 2 records`, exit 0 (t46a), for a record needs only a
name; e-conomic rejected it row by row. A file whose last rows, after a blank line or a row of only delimiters, are
1 to 3 rows that each fill only their first cell is refused before the first call, naming the line; a row of the data
there (more than its first cell filled) or a file of one column is no footer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkload.cli import main

ENV = {"HALO_CLIENT_ID": "c", "HALO_CLIENT_SECRET": "s"}
HEADER = "name,username,enabled,"
DATA = ["K13,u,true,", "K14,v,false,"]


def _dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lines: list[str]) -> int:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "KashflowDetails.csv"
    data.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return main(["load", "halopsa", str(data), "--base-url", "http://127.0.0.1:9", "--dry-run", "-q"])


@pytest.mark.parametrize(
    ("below", "line"),
    [
        ([",,,", "Total: 2 records,,,"], 5),  # Excel: the blank row and the footer padded to the sheet's width
        (["", "Total: 2 records,,,"], 5),  # a blank line
        ([",,,", "Total: 2 records,,,", "Printed 30-11-2026,,,"], 5),  # two lines of footer
        (["", "Total: 2 records"], 5),  # not padded: one cell, which a row of the data is not either
        ([",,,", "Total: 2 records,,,", ",,,"], 5),  # the sheet's blank rows below the footer too
        (["", "Total: 2 records,,,", ""], 5),  # a blank line ending the file
    ],
    ids=["padded", "blank-line", "two-lines", "one-cell", "blank-row-below", "blank-line-below"],
)
def test_a_footer_below_a_blank_row_refuses_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], below: list[str], line: int
) -> None:
    code = _dry_run(tmp_path, monkeypatch, [HEADER, *DATA, *below])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2, err
    assert f"line {line} fills only its first cell, below a blank line, at the end of the file" in err, err
    assert "nothing was sent" in err


@pytest.mark.parametrize(
    "lines",
    [
        [HEADER, *DATA, ",,,", "K15,w,true,"],  # a row of the data after a blank row
        [HEADER, *DATA, ",,,", "K15,,,", "K16,x,true,"],  # a row of the data last: the one before is data too
        [HEADER, "K15,,,", *DATA],  # a row filling only its name, with no blank row above it
        ["name", "K13", "", "K14"],  # one column: every row fills only its first cell
        [HEADER, *DATA, ",,,", ",,,"],  # blank rows at the end
    ],
    ids=["data-after-blank", "data-last", "no-blank", "one-column", "blank-last"],
)
def test_rows_of_the_data_after_a_blank_row_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], lines: list[str]
) -> None:
    assert _dry_run(tmp_path, monkeypatch, lines) == 0, capsys.readouterr().err
