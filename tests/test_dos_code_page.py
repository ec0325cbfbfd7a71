"""Excel's "CSV (MS-DOS)" (and old Nordic accounting systems' exports) writes the OEM code page, cp850 in Western
Europe: `Kørsel Århus` is 4B 9B 72 73 65 6C 20 8F 72 68 75 73. bulkload refuses the file (right: it is no UTF-8),
but advises `--encoding cp1252`, which cannot read line 4 at all (0x8F is no character of Windows-1252) and reads
line 2 as `K›rsel`; given that, it advises `--encoding mac_roman`, which reads every byte and books `Kõrsel èrhus`.
Each advice names an encoding the file is not in: followed, the books hold other text than the file meant."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import CREDS

from bulkload.cli import main

ROWS = [
    "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text",
    "5;1;1;31-10-2026;100,00;DKK;1010;Kørsel",
    "5;1;1;31-10-2026;-100,00;DKK;5600;Bank",
    "5;1;2;31-10-2026;100,00;DKK;1010;Kørsel Århus",
    "5;1;2;31-10-2026;-100,00;DKK;5600;Bank",
]


@pytest.mark.parametrize("given", [[], ["--encoding", "cp1252"]])
def test_a_dos_code_page_file_is_never_advised_an_encoding_that_reads_it_as_other_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], given: list[str]
) -> None:
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    data = tmp_path / "dos.csv"
    raw = ("\r\n".join(ROWS) + "\r\n").encode("cp850")
    data.write_bytes(raw)
    code = main(["load", "economic", str(data), *given, "--base-url", "http://127.0.0.1:9/journalsapi", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    for advised in re.findall(r"Give --encoding (\S+)", err):
        try:
            text = raw.decode(advised)
        except UnicodeDecodeError:
            text = ""
        assert "Kørsel Århus" in text, f"advised {advised}, which reads the file otherwise: {err}"
