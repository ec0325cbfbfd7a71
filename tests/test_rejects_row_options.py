"""A rejects file loaded without an option that says what its run's rows meant (tester t42a): a PayorCRM run given
--amount-unit major rejected an invoice of 1500 (1500.00 DKK) for its date; its rejects file, fixed and loaded
without the option (the default, minor), booked 1500 minor units, 15.00 DKK, exit 0: nothing in its rows shows the
unit. A HaloPSA run given --match-on name rejected its update of record Acme; loaded back without it, the row
created a second Acme. Each is refused naming the option, as a Visma Core rejects file given another --cost-type
is."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import anyio
import pytest
from test_load_halopsa import ENV as HALO
from test_load_halopsa import records
from test_load_payorcrm import CUSTOMERS, ENV, INVOICES, job, stored, write

from bulkload import Job, load
from bulkload.errors import ConfigError
from bulkload.sandbox import SandboxOptions, running


def invoices_again(data: Path, url: str, tmp_path: Path) -> Job:
    """A PayorCRM load of the invoices of `data` (a rejects file, or a copy of it) at `url`, given no options."""
    return Job(
        target="payorcrm",
        files=[str(data)],
        base_url=url,
        ledger=str(tmp_path / "again.sqlite"),
        target_options={"kind": "invoices"},
    )


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
            again = invoices_again(rejects, url, tmp_path)
            with pytest.raises(
                ConfigError,
                match="rejects file of a run given --amount-unit major, and its rows mean what they do with it",
            ):
                await load(again, env=ENV)
            fixed = dataclasses.replace(again, target_options={"kind": "invoices", "amount_unit": "major"})
            assert (await load(fixed, env=ENV)).exit_code == 0
            held = {r["invoiceNumber"]: r["invoiceAmount"] for r in await stored(url, "invoices")}
    assert held == {"I-1": 123450, "I-2": 150000}, held


async def test_a_rejects_file_of_a_match_on_run_is_refused_without_the_option(tmp_path: Path) -> None:
    first = tmp_path / "k1.csv"
    first.write_text("name;username;new_method\nAcme;a@x.dk;false\n")
    second = tmp_path / "k2.csv"
    second.write_text("name;username;new_method\nAcme;a2@x.dk;maybe\n")  # the update of Acme, refused for its boolean
    rejects = tmp_path / "k2.rejects.csv"
    options = {"resources": ["KashflowDetails"]}
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:

            def halo(data: Path, ledger: str, **given: object) -> Job:
                return Job(
                    target="halopsa",
                    files=[str(data)],
                    base_url=url,
                    ledger=str(tmp_path / ledger),
                    rejects=str(rejects) if data == second else None,
                    target_options={**options, **given},
                )

            assert (await load(halo(first, "1.sqlite"), env=HALO)).loaded == 1
            assert (await load(halo(second, "2.sqlite", match_on="name"), env=HALO)).rejected == 1
            rejects.write_text(rejects.read_text().replace(";maybe", ";true"))
            with pytest.raises(ConfigError, match="rejects file of a run given --match-on name, and its rows mean"):
                await load(halo(rejects, "3.sqlite"), env=HALO)
            assert (await load(halo(rejects, "4.sqlite", match_on="name"), env=HALO)).exit_code == 0
            held = await records(url, "KashflowDetails")
    assert [(r["name"], r["username"]) for r in held] == [("Acme", "a2@x.dk")], held


async def test_a_copy_of_it_under_another_name_is_refused_without_the_option(tmp_path: Path) -> None:
    # tester t44a: the fixed rows saved as another file (a spreadsheet's Save As) were not known as the rejects file
    # of that run, and I-2's 1500 was booked as 15.00, exit 0
    customers = write(tmp_path / "c.csv", CUSTOMERS, [["C1", "a@example.com", "A"]])
    invoices = write(tmp_path / "i.csv", INVOICES, [["C1", "I-2", "1500", "DKK", "2026-11-31"]])
    fixed = tmp_path / "i-fixed.csv"
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            first = await load(
                job(tmp_path, url, {"customers": customers, "invoices": invoices}, amount_unit="major"), env=ENV
            )
            assert first.loaded == 1 and first.rejected == 1, first
            fixed.write_text((tmp_path / "i.csv.rejects.csv").read_text().replace(",2026-11-31,", ",2026-11-30,"))
            again = invoices_again(fixed, url, tmp_path)
            with pytest.raises(ConfigError, match="Give --amount-unit major, as that run was"):
                await load(again, env=ENV)
            assert await stored(url, "invoices") == []
