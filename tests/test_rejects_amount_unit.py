"""A PayorCRM rejects file loaded with another --amount-unit than its run had (tester t42a): a run given
--amount-unit major rejected an invoice of 1500 (1500.00 DKK) for its date; its rejects file, fixed and loaded
without the option (the default, minor), booked 1500 minor units, 15.00 DKK, exit 0: nothing in its rows shows the
unit. It is refused naming the option, as a Visma Core rejects file given another --cost-type is."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import anyio
import pytest
from test_load_payorcrm import CUSTOMERS, ENV, INVOICES, job, stored, write

from bulkload import Job, load
from bulkload.errors import ConfigError
from bulkload.sandbox import SandboxOptions, running


async def test_a_rejects_file_of_a_major_units_run_is_refused_without_the_option(tmp_path: Path) -> None:
    customers = write(tmp_path / "c.csv", CUSTOMERS, [["C1", "a@example.com", "A"]])
    invoices = write(
        tmp_path / "i.csv",
        INVOICES,
        [["C1", "I-1", "1234.50", "DKK", "2026-11-30"], ["C1", "I-2", "1500", "DKK", "2026-11-31"]],
    )
    rejects = tmp_path / "i.csv.rejects.csv"
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            first = await load(
                job(tmp_path, url, {"customers": customers, "invoices": invoices}, amount_unit="major"), env=ENV
            )
            assert first.loaded == 2 and first.rejected == 1, first
            rejects.write_text(rejects.read_text().replace("2026-11-31", "2026-11-30"))
            again = Job(
                target="payorcrm",
                files=[str(rejects)],
                base_url=url,
                ledger=str(tmp_path / "again.sqlite"),
                target_options={"kind": "invoices"},
            )
            with pytest.raises(
                ConfigError, match="rejects file of a run given --amount-unit major, which read its rows so"
            ):
                await load(again, env=ENV)
            fixed = dataclasses.replace(again, target_options={"kind": "invoices", "amount_unit": "major"})
            assert (await load(fixed, env=ENV)).exit_code == 0
            held = {r["invoiceNumber"]: r["invoiceAmount"] for r in await stored(url, "invoices")}
    assert held == {"I-1": 123450, "I-2": 150000}, held
