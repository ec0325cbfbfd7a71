"""A file refused as not UTF-8 shows the line that told it in the code page(s) that may read it, so that the user can
see which reading is right. The reading was cut to the line's first 80 characters: where the letters past ASCII stood
further right (a long text, a JSONL record's last key), each reading shown was the same ASCII, and nothing told them
apart. The reading shown is the part of the line around its first letter past ASCII."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulkload.cli import main

PAD = "Kilometergodtgoerelse for medarbejdere i oktober, jf. koerebog og aftale med regnskab"
HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text"


def refusal(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["load", "economic", str(path), "--dry-run", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    return err


def test_a_windows_1252_line_is_shown_where_its_letters_are(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "entries.csv"
    text = "\r\n".join(
        [
            HEADER,
            "5;1;8001;31-10-2026;1250.00;DKK;1010;Husleje oktober",
            "5;1;8001;31-10-2026;-1250.00;DKK;5600;Bank",
            f"5;1;8002;31-10-2026;640.00;DKK;1010;{PAD}: Kørsel Århus",
            "5;1;8002;31-10-2026;-640.00;DKK;5600;Bank",
        ]
    )
    path.write_bytes((text + "\r\n").encode("cp1252"))
    err = refusal(path, capsys)
    assert "Windows-1252" in err and "Kørsel Århus" in err, err


def test_readings_of_several_code_pages_differ_where_they_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "entries.jsonl"
    record = {"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 1, "date": "2026-10-31", "amount": "5.00"}
    # a megabyte of ASCII before it: the code pages are judged by the file's first megabyte, which all three read
    ascii_lines = range(9000)
    lines = [
        json.dumps({**record, "currency": "DKK", "accountNumber": 1010, "text": f"{PAD} {n}"}) for n in ascii_lines
    ]
    lines.append(json.dumps({**record, "currency": "DKK", "accountNumber": 5600, "text": "Kørsel"}, ensure_ascii=False))
    path.write_bytes("\n".join(lines).encode("cp1252") + b"\n")
    err = refusal(path, capsys)
    assert "More than one code page" in err, err
    # each reading shows the letters that tell them apart: Windows-1252's ø, cp850's ° for the same byte
    assert "Kørsel" in err and "K°rsel" in err, err
