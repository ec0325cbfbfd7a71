"""A Norwegian export (dates 31.10.2026, day first as its own dates prove) whose voucher of 01.11.2026 is rejected
(a row of no voucher next to it). The rejects file holds only 01.11.2026, which reads both ways, and loaded as the
summary says ("fix them, then load this file") it was refused with a choice: "give --date-format %d.%m.%Y (day first)
or --date-format %m.%d.%Y (month first)". bulkload knows the answer (the rejects file names its input, whose run read
it day first), yet asked the user to guess; the wrong half of the choice books 11 January. It is read as its input
was (g22c: the test asked for a refusal without the guess; reading it so is what the fault asked first)."""

from __future__ import annotations

from pathlib import Path

import anyio
import msgspec
from conftest import CREDS, PREFIX, serving

from bulkload import load
from bulkload.job import Job
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app

ROWS = [
    "entryTypeNumber;journalNumber;voucherNumber;date;amount;currency;accountNumber;text",
    "5;1;1;31.10.2026;10,00;NOK;1010;a",
    "5;1;1;31.10.2026;-10,00;NOK;5600;b",
    "5;1;2;01.11.2026;5,00;NOK;1010;c",
    "5;1;2;01.11.2026;-5,00;NOK;5600;d",
    ";;;Sum;0,00;;1010;",  # an account: no totals row (a control total, test_totals_row_told), a line of no voucher
]


async def test_a_rejects_file_whose_rows_no_longer_show_the_date_order_is_read_in_the_order_its_input_was_read_in(
    tmp_path: Path,
) -> None:
    data = tmp_path / "no.csv"
    data.write_text("\r\n".join(ROWS) + "\r\n")
    rejects = tmp_path / "no.rejects.csv"
    app = create_app()
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = Job(
                target="economic",
                files=[str(data)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "run.sqlite"),
                rejects=str(rejects),
            )
            report = await load(job, env=CREDS, raise_on_stop=False)
            assert report.loaded == 2 and report.rejected == 3, report
            fixed = tmp_path / "fixed.csv"
            kept = [line for line in rejects.read_text().splitlines(keepends=True) if "Sum" not in line]
            fixed.write_text("".join(kept))
            again = Job(
                target="economic", files=[str(fixed)], base_url=origin + PREFIX, ledger=str(tmp_path / "f.sqlite")
            )
            loaded = await load(again, env=CREDS, raise_on_stop=False)
    # the input was read day first: the rejects file is read so (loads.read_before), and says which run decided it
    assert loaded.loaded == 2 and loaded.exit_code == 0, loaded
    (reading,) = loaded.inputs or []
    assert reading["date_format"] == "dmy" and str(data) in reading["date_evidence"], reading
    held = [msgspec.json.decode(e) for e in app[ECONOMIC_KEY].store.entries.values()]
    assert {str(e["date"])[:10] for e in held if e["voucherNumber"] == 2} == {"2026-11-01"}, held
