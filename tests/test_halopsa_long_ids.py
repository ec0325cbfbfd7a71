"""HaloPSA text fields that hold a record's id in the accounting system (tester t42a): QuickBooks' company_id is an
18-digit realm id, which a spreadsheet shows as 6.90091E+17 and saves so in a CSV. It was sent as that text, a
company id that names no company, exit 0. A text id written with an exponent is now refused with its row, as a
group key or a --match-on field is; the same id written in full, and ids that are no numbers, load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from test_load_halopsa import ENV, records

from bulkload import Job, load
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, running


async def loaded(tmp_path: Path, data: Path, resource: str) -> tuple[Report, list[dict[str, Any]]]:
    """`data` loaded into `resource` of a fresh sandbox: the report, and the records it holds then."""
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "run.sqlite"),
                target_options={"resources": [resource]},
            )
            return await load(job, env=ENV), await records(url, resource)


async def test_a_long_id_a_spreadsheet_wrote_with_an_exponent_is_refused_with_its_row(tmp_path: Path) -> None:
    data = tmp_path / "qb.csv"
    data.write_text(
        "name;company_id;client_id;company_name\n"
        "A QB;6,90091E+17;ABqB4y3;A Inc.\n"
        "B QB;690091414923849724;1.5E+3;B Inc.\n"
        "C QB;690091414923849724;ABqB4y3;C Inc.\n"
    )
    report, held = await loaded(tmp_path, data, "QuickBooksDetails")
    assert (report.loaded, report.rejected) == (1, 2), report
    assert [(r["name"], r["company_id"]) for r in held] == [("C QB", "690091414923849724")], held
    reasons = (tmp_path / "qb.csv.rejects.csv").read_text()
    assert "company_id;'6,90091E+17' is written with an exponent" in reasons, reasons
    assert "client_id;'1.5E+3' is written with an exponent" in reasons, reasons


async def test_a_code_a_spreadsheet_wrote_with_an_exponent_is_refused_with_its_row(tmp_path: Path) -> None:
    # found by a tester (t57b): an item code or an account code of 12 digits, shown by a spreadsheet as 1,23457E+11
    # and saved so, was sent as that text (default_item_code '1,23E+11' stored, exit 0)
    data = tmp_path / "x.csv"
    data.write_text(
        "name;tenant_id;default_item_code\n"
        "A X;t1;1,23457E+11\n"
        "B X;t2;123456789012\n"
        "C X;t3;SRV-1E+3\n"  # no number a spreadsheet writes: a code like any other
    )
    report, held = await loaded(tmp_path, data, "XeroDetails")
    assert (report.loaded, report.rejected, report.exit_code) == (2, 1, 1), report
    assert sorted((r["name"], r["default_item_code"]) for r in held) == [("B X", "123456789012"), ("C X", "SRV-1E+3")]
    reasons = (tmp_path / "x.csv.rejects.csv").read_text()
    assert "default_item_code;'1,23457E+11' is written with an exponent" in reasons, reasons
