"""A load of two files that each read their dates in their own order (a US export, month first, and a Danish one,
day first: input-files.md, "decided for the file") writes the rejected rows of both into one rejects file, which the
user is told to fix in place and "load as it is" (getting-started.md). The rejects file's rows then show one order
only (the first file's 11/30/2026, month first), and the second file's voucher of 01/11/2026 (1 November, as its own
file proved with 13/11/2026) is booked on 11 January: the books say another day than the file meant, exit 0."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
from conftest import CREDS, PREFIX, serving

from bulkload import load
from bulkload.job import Job
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text"


async def test_a_rejects_file_of_two_inputs_read_in_two_date_orders_books_each_row_on_the_day_its_file_meant(
    tmp_path: Path,
) -> None:
    us, dk = tmp_path / "us.csv", tmp_path / "dk.csv"
    us.write_text(
        "\n".join(
            [
                HEADER,
                "5,1,1,11/30/2026,100.00,DKK,1010,a",
                "5,1,1,11/30/2026,-100.00,DKK,5600,b",
                "5,1,2,11/30/2026,50.00,DKK,1010,c",
                "5,1,2,11/30/2026,-50.00,DKK,56x0,bad",
            ]
        )
        + "\n"
    )
    dk.write_text(
        "\n".join(
            [
                HEADER,
                "5,1,3,13/11/2026,70.00,DKK,1010,d",
                "5,1,3,13/11/2026,-70.00,DKK,5600,e",
                "5,1,4,01/11/2026,80.00,DKK,1010,f",
                "5,1,4,01/11/2026,-80.00,DKK,56x0,bad",
            ]
        )
        + "\n"
    )
    rejects = tmp_path / "rejects.csv"
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:
            first = Job(
                target="economic",
                files=[str(us), str(dk)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=str(rejects),
            )
            report = await load(first, env=CREDS, raise_on_stop=False)
            assert report.loaded == 4 and report.rejected == 4, report
            # the user fixes the bad account in place and loads the rejects file as it is
            fixed = tmp_path / "fixed.csv"
            fixed.write_bytes(rejects.read_bytes().replace(b",56x0,bad", b",5600,fixed"))
            again = Job(
                target="economic",
                files=[str(fixed)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "fixed.sqlite"),
                rejects=str(tmp_path / "fixed.rejects.csv"),
            )
            await load(again, env=CREDS, raise_on_stop=False)
    held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    days = {e["voucherNumber"]: str(e["date"])[:10] for e in held}
    # voucher 4 is dk.csv's, whose dates are day first: 01/11/2026 is 1 November (or the rejects file is refused)
    assert days.get(4) in (None, "2026-11-01"), days
    assert days.get(2) in (None, "2026-11-30"), days


async def test_a_rejects_file_of_two_inputs_read_with_two_decimal_marks_books_each_amount_its_file_meant(
    tmp_path: Path,
) -> None:
    # one.csv: decimal points; two.csv: semicolons and decimal commas (2,50), where 1.500 KWD is 1500 KWD
    one, two = tmp_path / "one.csv", tmp_path / "two.csv"
    one.write_text(
        "\n".join(
            [
                HEADER,
                "5,1,1,2026-11-30,100.00,DKK,1010,a",
                "5,1,1,2026-11-30,-100.00,DKK,5600,b",
                "5,1,2,2026-11-30,50.00,DKK,1010,c",
                "5,1,2,2026-11-30,-50.00,DKK,56x0,bad",
            ]
        )
        + "\n"
    )
    two.write_text(
        "\n".join(
            [
                HEADER.replace(",", ";"),
                "5;1;3;2026-11-13;2,50;DKK;1010;d",
                "5;1;3;2026-11-13;-2,50;DKK;5600;e",
                "5;1;4;2026-11-01;1.500;KWD;1010;f",
                "5;1;4;2026-11-01;-1.500;KWD;56x0;bad",
            ]
        )
        + "\n"
    )
    rejects = tmp_path / "rejects.csv"
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:
            first = Job(
                target="economic",
                files=[str(one), str(two)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=str(rejects),
            )
            report = await load(first, env=CREDS, raise_on_stop=False)
            assert report.loaded == 4 and report.rejected == 4, report
            fixed = tmp_path / "fixed.csv"
            fixed.write_bytes(rejects.read_bytes().replace(b",56x0,bad", b",5600,fixed"))
            again = Job(
                target="economic",
                files=[str(fixed)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "fixed.sqlite"),
                rejects=str(tmp_path / "fixed.rejects.csv"),
            )
            await load(again, env=CREDS, raise_on_stop=False)
    held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    amounts = sorted(float(e["amount"]) for e in held if e["voucherNumber"] == 4)
    # two.csv's 1.500 KWD is 1500 KWD (or the rejects file is refused): never 1.5
    assert amounts in ([], [-1500.0, 1500.0]), amounts
