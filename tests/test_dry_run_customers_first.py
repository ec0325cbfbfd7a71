"""A dry run of PayorCRM's customers and invoices plans the invoices as the load does, after the customers: an
invoice is told against the customers file's customers (those that would load, and those an earlier load loaded),
so the dry run's would load, rejected and skipped are the load's, the same rows."""

from __future__ import annotations

import csv
from pathlib import Path

import anyio
from test_load_payorcrm import CUSTOMERS, ENV, job, write

from bulkload import dry_run, load
from bulkload.sandbox import SandboxOptions, running


def _reasons(path: Path) -> dict[str, str]:
    with open(path, newline="", encoding="utf-8") as fh:
        return {row["line"]: row["reason"] for row in csv.DictReader(fh)}


async def test_a_dry_run_with_require_customers_predicts_the_loads_invoices(tmp_path: Path) -> None:
    # found by a tester: the dry run planned the invoices knowing no customer, so with --require-customers it
    # rejected every invoice ("customer F1 is not in the customers file"), and without it sent those of a customer
    # the customers file rejects; the load then loaded F1's invoice (exit 0 where the dry run said exit 1)
    customers = write(tmp_path / "c.csv", CUSTOMERS, [["F1", "a@example.com", "A"], ["F2", "", "B"]])
    header = ["customerNumber", "invoiceNumber", "invoiceAmount", "currency"]
    rows = [["F1", "L-1", "100.00", "USD"], ["F2", "L-2", "200.00", "USD"], ["F9", "L-9", "900.00", "USD"]]
    invoices = write(tmp_path / "i.csv", header, rows)
    files = {"customers": customers, "invoices": invoices}
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            loading = job(tmp_path, url, files, amount_unit="major", require_customers=True)
            dry = dry_run(loading, env=ENV)
            dry_reasons = _reasons(tmp_path / "i.csv.rejects.dry-run.csv")
            real = await load(loading, env=ENV)
    assert (dry.would_load, dry.rejected, dry.skipped) == (real.loaded, real.rejected, real.skipped), (dry, real)
    assert (real.loaded, real.rejected) == (2, 3), real
    assert dry_reasons == _reasons(tmp_path / "i.csv.rejects.csv"), dry_reasons
    assert dry_reasons.keys() == {"3", "4"} and "did not load" in dry_reasons["3"], dry_reasons


async def test_a_dry_run_counts_the_rows_in_doubt_in_an_earlier_run_which_the_load_does_not_send(
    tmp_path: Path,
) -> None:
    # found by a tester: after a run whose upload the API refused (its rows in doubt), a dry run of the fixed copy
    # said "rows read 0", nothing rejected, exit 0; the load then held all 3 rows in doubt, exit 1
    bad = [["G1", "a@example.com", "A"], ["G2", "not-an-email", "B"], ["G3", "c@example.com", "C"]]
    customers = write(tmp_path / "c.csv", CUSTOMERS, bad)
    (fixed_at := tmp_path / "fixed").mkdir()
    fixed = write(fixed_at / "c.csv", CUSTOMERS, [bad[0], ["G2", "b@example.com", "B"], bad[2]])
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            first = await load(job(tmp_path, url, {"customers": customers}), env=ENV)
            dry = dry_run(job(fixed_at, url, {"customers": fixed}), env=ENV)
            real = await load(job(fixed_at, url, {"customers": fixed}), env=ENV)
    assert first.in_doubt == 3 and real.in_doubt == 3 and real.exit_code == 1, (first, real)
    assert (dry.rows_read, dry.would_load, dry.in_doubt, dry.exit_code) == (3, 0, 3, 1), dry
    assert "the load would not send them" in str(dry.in_doubt_way_on), dry.in_doubt_way_on
