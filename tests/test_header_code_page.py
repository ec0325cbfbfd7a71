"""A CSV whose header is not in the file's encoding is told which code page it more likely is, as a file whose body
line is not: a Danish export saved by Excel on Windows names its columns `Beløb` and `Bilagsnr.` in Windows-1252, and
its header is the first line read. Before (tester t66b), the header alone was refused with "give --encoding with the
file's encoding", naming none, where a line below it named Windows-1252 and showed the line read that way."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulkload.cli import main

ROWS = [
    "Type;Kassekladde;Bilag;Dato;Konto;Tekst;Beløb;Valuta",
    "5;1;1;31-10-2026;1010;Husleje oktober;1250,00;DKK",
    "5;1;1;31-10-2026;5600;Bank;-1250,00;DKK",
]


def test_a_header_in_windows_1252_names_the_code_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "job.toml").write_text(
        "[columns]\n"
        + "".join(
            f'"{source}" = "{field}"\n'
            for source, field in [
                ("Type", "entryTypeNumber"),
                ("Kassekladde", "journalNumber"),
                ("Bilag", "voucherNumber"),
                ("Dato", "date"),
                ("Konto", "accountNumber"),
                ("Tekst", "text"),
                ("Beløb", "amount"),
                ("Valuta", "currency"),
            ]
        ),
        encoding="utf-8",
    )
    path = tmp_path / "kladde.csv"
    path.write_bytes(("\r\n".join(ROWS) + "\r\n").encode("cp1252"))
    code = main(["load", "economic", str(path), "--config", str(tmp_path / "job.toml"), "--dry-run", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "line 1" in err and "byte 0xf8" in err, err
    assert "Windows-1252" in err and "Beløb" in err and "--encoding cp1252" in err, err
    assert "nothing was sent" in err, err
    # read as it says, the file loads as planned
    code = main(
        ["load", "economic", str(path), "--config", str(tmp_path / "job.toml"), "--encoding", "cp1252", "--dry-run"]
    )
    err = capsys.readouterr().err
    assert code == 0, err
