"""A rejects file begins as its CSV input began: with the input's BOM (Excel's "CSV UTF-8") and Excel's `sep=` line,
so that a spreadsheet opens it as it opened the input. Before, both were left out (a tester, t22b): Excel read the
UTF-8 rejects file as Windows-1252 (Kørsel shown as KÃ¸rsel, and saved so), and a `;` file in a comma locale as one
column. Loaded back once fixed, it books what the input meant."""

from __future__ import annotations

import codecs
from pathlib import Path

import anyio
import msgspec
import pytest
from conftest import CREDS, PREFIX, serving

from bulkload import load
from bulkload.job import Job
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app

HEADER = "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text"
ROWS = [
    "5;1;1;2026-11-30;100,00;DKK;1010;Kørsel Århus",
    "5;1;1;2026-11-30;-100,00;DKK;5600;Kørsel Århus",
    "5;1;2;2026-11-30;12,50;DKK;1010;Æbler",
    "5;1;2;2026-11-30;-12,50;DKK;56x0;Æbler",
]


@pytest.mark.parametrize(
    ("bom", "sep", "encoding"),
    [
        (True, True, "utf-8"),
        (True, False, "utf-8"),
        (False, True, "utf-8"),
        (False, False, "utf-8"),
        (True, True, "utf-16-le"),
    ],
    ids=["bom-and-sep", "bom", "sep", "neither", "utf-16-le-bom-and-sep"],
)
async def test_a_rejects_file_begins_as_its_input_did_and_loads_back_as_it_meant(
    tmp_path: Path, bom: bool, sep: bool, encoding: str
) -> None:
    text = "\r\n".join([*(["sep=;"] if sep else []), HEADER, *ROWS, ""])
    data = tmp_path / "entries.csv"
    data.write_bytes(("\ufeff" if bom else "").encode(encoding) + text.encode(encoding))
    given = None if encoding == "utf-8" else encoding
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:

            def job(path: Path, ledger: str) -> Job:
                return Job(
                    "economic", [str(path)], base_url=origin + PREFIX, ledger=str(tmp_path / ledger), encoding=given
                )

            report = await load(job(data, "run.sqlite"), env=CREDS, raise_on_stop=False)
            assert (report.loaded, report.rejected) == (2, 2), report
            rejects = Path(report.rejects_file)
            written = rejects.read_bytes()
            mark = codecs.BOM_UTF16_LE if encoding == "utf-16-le" else codecs.BOM_UTF8
            assert written.startswith(mark) == bom, written[:20]
            lines = written.removeprefix(mark).decode(encoding).splitlines()
            assert lines[: 1 + sep] == [*(["sep=;"] if sep else []), "file;line;field;reason;" + HEADER], lines
            assert lines[1 + sep].endswith(";Æbler") and "56x0" in lines[2 + sep], lines
            rejects.write_bytes(written.replace("56x0".encode(encoding), "5600".encode(encoding)))
            loaded = await load(job(rejects, "f.sqlite"), env=CREDS, raise_on_stop=False)
    assert (loaded.loaded, loaded.exit_code) == (2, 0), loaded
    held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    assert sorted((e["voucherNumber"], e["text"], str(e["amount"])) for e in held if e["voucherNumber"] == 2) == [
        (2, "Æbler", "-12.5"),
        (2, "Æbler", "12.5"),
    ], held
