"""A CSV file in UTF-32 with its BOM (PowerShell's `Export-Csv -Encoding UTF32` writes one): its BOM FF FE 00 00
starts with UTF-16 LE's FF FE, so it was read as UTF-16, its header full of NULs, and refused with "the file looks
like UTF-16 without a BOM; give --encoding utf-16-le", which, given, refused it again with the same words: advice in
a loop. The BOM tells UTF-32 as it tells UTF-16, and the file loads as it meant."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import anyio
import pytest
from conftest import CREDS
from test_field_cases import journal

from bulkload import Job, load
from bulkload.cli import main
from bulkload.sandbox import SandboxOptions, running

TEXT = (
    "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text\r\n"
    "5;1;7301;31-10-2026;1.500;DKK;1010;Kørsel Århus\r\n"
    "5;1;7301;31-10-2026;-1.500;DKK;5600;Bank\r\n"
    "5;1;7302;31-10-2026;2,50;DKK;1010;Gebyr\r\n"
    "5;1;7302;31-10-2026;-2,50;DKK;5600;Bank\r\n"
)


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
async def test_a_utf32_file_with_its_bom_loads_as_it_meant(tmp_path: Path, codec: str) -> None:
    data = tmp_path / "entries.csv"
    data.write_bytes(("\ufeff" + TEXT).encode(codec))
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions()) as url:
            report = await load(Job(target="economic", files=[str(data)], base_url=url), env=CREDS)
            stored = await journal(url)
    assert report.exit_code == 0, report
    assert report.inputs[0]["encoding"] == "utf-32"
    assert sorted((e.voucherNumber, e.amount, e.text) for e in stored) == [
        (7301, Decimal("-1500"), "Bank"),
        (7301, Decimal("1500"), "Kørsel Århus"),
        (7302, Decimal("-2.50"), "Bank"),
        (7302, Decimal("2.50"), "Gebyr"),
    ]


def test_a_utf32_file_given_an_8_bit_encoding_is_told_it_is_utf32(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "entries.csv"
    data.write_bytes(("\ufeff" + TEXT).encode("utf-32-le"))
    code = main(["load", "economic", str(data), "--encoding", "cp1252", "--dry-run", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "the file is UTF-32 LE" in err and "FF FE 00 00" in err and "UTF-16" not in err, err


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
@pytest.mark.parametrize("given", [[], ["--encoding", "utf-16-le"], ["--encoding", "utf-16-be"]])
def test_a_utf32_file_without_a_bom_is_told_the_encoding_that_reads_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], codec: str, given: list[str]
) -> None:
    # before: "looks like UTF-16 without a BOM; give --encoding utf-16-le", and given that, the same again
    data = tmp_path / "entries.csv"
    data.write_bytes(TEXT.encode(codec))
    code = main(["load", "economic", str(data), *given, "--dry-run", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"looks like UTF-32 without a BOM; give --encoding {codec};" in err, err
    assert main(["load", "economic", str(data), "--encoding", codec, "--dry-run", "-q"]) == 0, capsys.readouterr()


@pytest.mark.parametrize("codec", ["utf-32-le", "utf-32-be"])
def test_a_jsonl_file_in_utf32_without_a_bom_is_told_utf32_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], codec: str
) -> None:
    data = tmp_path / "entries.jsonl"
    record = '{"entryTypeNumber": 5, "journalNumber": 1, "voucherNumber": 1, "date": "2026-10-31", "amount": "1.00"}\n'
    data.write_bytes(record.encode(codec))
    code = main(["load", "economic", str(data), "--dry-run", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"looks like UTF-32 without a BOM; give --encoding {codec};" in err, err


@pytest.mark.parametrize(("codec", "name"), [("utf-32-le", "UTF-32 LE"), ("utf-32-be", "UTF-32 BE")])
@pytest.mark.parametrize("given", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf32_file_with_its_bom_given_a_utf16_encoding_is_told_it_is_utf32(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], codec: str, name: str, given: str
) -> None:
    # found by a tester (t50c): given --encoding utf-16-le (or utf-16), a file of UTF-32 LE's BOM FF FE 00 00 had
    # its first two bytes passed over as UTF-16 LE's BOM and was told 'looks like UTF-32 without a BOM; give
    # --encoding utf-32-be', the wrong byte order, which given was refused again ('the file is UTF-32 LE')
    data = tmp_path / "entries.csv"
    data.write_bytes(("\ufeff" + TEXT).encode(codec))
    code = main(["load", "economic", str(data), "--encoding", given, "--dry-run", "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"the file is {name}: it starts with {name}'s byte order mark" in err, err
    assert f"give --encoding {codec})" in err and "without a BOM" not in err, err
