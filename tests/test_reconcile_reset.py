"""An API that lost its data (restored, reset) gives the ids of a run's records again, to other records: its
reconciliation says the run's records are gone and their ids hold others, not that they "changed in the API".
Against sandboxes started again on the same address, their state lost."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, economic_job, serving, write_entries
from test_load_halopsa import ENV as HALO
from test_load_halopsa import job as halo_job
from test_load_halopsa import write as write_halo

from bulkload import Job, load, reconcile
from bulkload.report import print_summary
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, running
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app
from bulkload.sandbox.economic_model import DraftEntry


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _summary(report: Report) -> str:
    out = io.StringIO()
    print_summary(report, out)
    return out.getvalue()


def _economic(tmp_path: Path, data: Path, url: str) -> Job:
    name = data.stem
    return Job(
        target="economic",
        files=[str(data)],
        base_url=url,
        ledger=str(tmp_path / f"{name}.sqlite"),
        rejects=str(tmp_path / f"{name}.rejects.csv"),
    )


@pytest.mark.slow
async def test_economic_entries_lost_with_their_ids_given_again_are_gone_not_changed(tmp_path: Path) -> None:
    """Before: "changed in the API since it was loaded (amount, account, …): id 1 from … line 2" for each."""
    ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
    totals = write_entries(ours, 30)
    write_entries(theirs, 40, first_voucher=1001, seed=7)  # other vouchers, other amounts, more of them
    port = _free_port()
    with anyio.fail_after(120):
        async with running("economic", SandboxOptions(), port=port) as url:
            first = await load(_economic(tmp_path, ours, url), env=CREDS)
            assert first.exit_code == 0 and first.reconcile and first.reconcile.ok
        async with running("economic", SandboxOptions(), port=port) as url:  # its state lost
            other = await load(_economic(tmp_path, theirs, url), env=CREDS)
            assert other.exit_code == 0
            report = await reconcile(str(tmp_path / "ours.sqlite"), env=CREDS)
    rec = report.reconcile
    assert rec is not None and not rec.ok and report.exit_code == 3
    assert (rec.ids_reused_count, rec.lines_changed_count) == (totals["rows"], 0), rec
    assert rec.ids_reused and rec.ids_reused[0] == {
        "id": 1,
        "file": str(ours),
        "line": 2,
        "holds": "voucher 1001 (journal 1)",
    }, rec.ids_reused
    said = _summary(report)
    assert "changed in the API" not in said, said
    assert (
        f"not as sent: id 1, which the API gave the line this run sent from {ours} line 2, now holds a line of voucher "
        "1001 (journal 1)"
    ) in said, said


def _other_records(ours: Path, theirs: Path) -> None:
    """`theirs`: as many records as `ours`, each another entirely (names, tenants, flags)."""
    with open(ours, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    with open(theirs, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(rows[0])
        for row in rows[1:]:
            w.writerow(
                [
                    "Other " + row[0],
                    row[1] + "-b",
                    row[2] + " B",
                    row[3] + "-b",
                    *row[4:6],
                    "false",
                    "true",
                    "false",
                    "[]",
                ]
            )


@asynccontextmanager
async def halo_ids_given_again(tmp_path: Path, rows: int) -> AsyncIterator[str]:
    """A HaloPSA sandbox at the address yielded, whose state was lost after `rows` records of tmp_path/ours.csv were
    loaded (ledger tmp_path/ours.sqlite, reconciled), and that then gave their ids again to as many other records
    (theirs.csv, loaded)."""
    ours = write_halo(tmp_path / "ours.csv", rows)
    theirs = tmp_path / "theirs.csv"
    _other_records(ours, theirs)
    port = _free_port()
    options = SandboxOptions(window_limit=0)
    with anyio.fail_after(120):
        async with running("halopsa", options, port=port) as url:
            first = await load(halo_job(tmp_path, ours, url), env=HALO)
            assert first.exit_code == 0 and first.reconcile and first.reconcile.ok
        async with running("halopsa", options, port=port) as url:  # its state lost
            assert (await load(halo_job(tmp_path, theirs, url), env=HALO)).exit_code == 0
            yield url


@pytest.mark.slow
async def test_halopsa_records_lost_with_their_ids_given_again_are_gone_not_changed(tmp_path: Path) -> None:
    """Before: each field of each record listed as "changed in the API since it was loaded"."""
    async with halo_ids_given_again(tmp_path, 12):
        report = await reconcile(str(tmp_path / "ours.sqlite"), env=HALO)
    rec = report.reconcile
    assert rec is not None and not rec.ok and report.exit_code == 3
    assert (rec.ids_reused_count, rec.differences_count) == (12, 0), rec
    said = _summary(report)
    assert "changed in the API" not in said, said
    assert "XeroDetails 1, which the API gave the record this run created from" in said, said
    assert "now holds another record (another name, most fields other than sent)" in said, said


async def test_a_server_that_renumbers_vouchers_is_a_mismatch_said_as_observed_not_guessed(tmp_path: Path) -> None:
    # found by a tester: a server that gives each voucher a number of its own as it stores it (the entries the run
    # sent, under other voucher numbers) was a mismatch, rightly, but said "the API lost its data — restored or reset
    # — and gave the id again" of every line: a cause guessed. What was found is said, and the causes it cannot tell
    data = tmp_path / "ours.csv"
    write_entries(data, 3)
    app = create_app(SandboxOptions())
    store = app[ECONOMIC_KEY].store
    add = store.add

    def renumbered(entries: Sequence[DraftEntry]) -> list[int]:
        for entry in entries:
            entry.voucherNumber += 5000
        return add(entries)

    store.add = renumbered  # type: ignore[method-assign]
    with anyio.fail_after(30):
        async with serving(app) as origin:
            report = await load(economic_job(data, origin, tmp_path / "ours.sqlite"), env=CREDS)
    rec = report.reconcile
    assert rec is not None and not rec.ok and report.exit_code == 3, rec
    assert rec.ids_reused_count == 6 and rec.ids_reused, rec
    assert rec.ids_reused[0] == {"id": 1, "file": str(data), "line": 2, "holds": "voucher 5001 (journal 1)"}, rec
    said = _summary(report)
    assert "lost its data" not in said.split("bulkload cannot tell which")[0], said
    line = next(x for x in said.splitlines() if f"{data} line 2," in x)
    assert line == (
        f"not as sent: id 1, which the API gave the line this run sent from {data} line 2, now holds a line of voucher "
        "5001 (journal 1), which that line's call did not carry, and no record listed holds that line as sent; "
        "bulkload cannot tell which happened: the API stored the line under another number than sent, the record was "
        "changed since, or the API lost its data (restored or reset) and gave the id to another record"
    ), line
