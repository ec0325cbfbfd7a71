"""Found by tester t22a: `bulkload reconcile` of a PayorCRM run of customers and invoices names the customers'
rejects file alone ("rejected rows and reasons: c.csv.rejects.csv", header only) where the rejected rows are the
invoices', in the invoices' rejects file; the load's summary named both ("a file for each kind of input: …")."""

from __future__ import annotations

import io
from pathlib import Path

import anyio
from conftest import serving
from test_load_payorcrm import write
from test_payorcrm_answers import ENV, crm_app, customers_file, load_both

from bulkload import reconcile
from bulkload.report import print_summary


async def test_reconcile_names_the_rejects_file_that_holds_the_rejected_rows(tmp_path: Path) -> None:
    invoices = write(
        tmp_path / "i.csv",
        ["customerNumber", "invoiceNumber", "invoiceAmount", "currency"],
        [["C1", "I1", "10.00", "EUR"], ["C2", "I2", "-x-", "EUR"]],
    )

    async def passing(request, handler):  # type: ignore[no-untyped-def]
        return await handler(request)

    with anyio.fail_after(30):
        async with serving(crm_app(passing)) as url:
            loaded = await load_both(tmp_path, url, customers_file(tmp_path), invoices)
            checked = await reconcile(str(tmp_path / "run.sqlite"), env=ENV)
    assert loaded.rejected == 1 and loaded.rejects_files, loaded
    holding = [p for p in loaded.rejects_files if len(Path(p).read_text().splitlines()) > 1]
    assert len(holding) == 1  # the invoices' file
    # its report names them as the load's does (keys added, none renamed: docs/report.md)
    assert checked.rejects_files == loaded.rejects_files and checked.rejects_load == loaded.rejects_load, checked
    assert checked.rejects_file == loaded.rejects_file
    said = io.StringIO()
    print_summary(checked, said)
    assert Path(holding[0]).name in said.getvalue(), said.getvalue()
