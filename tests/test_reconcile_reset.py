"""An API that lost its data (restored, reset) gives the ids of a run's records again, to other records: its
reconciliation says the run's records are gone and their ids hold others, not that they "changed in the API".
Against sandboxes started again on the same address, their state lost."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, write_entries
from test_load_halopsa import ENV as HALO
from test_load_halopsa import job as halo_job
from test_load_halopsa import write as write_halo

from bulkload import Job, load, reconcile
from bulkload.report import print_summary
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, running


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
    assert rec.ids_reused and rec.ids_reused[0] == {"id": 1, "file": str(ours), "line": 2}, rec.ids_reused
    said = _summary(report)
    assert "changed in the API" not in said, said
    assert (
        f"gone from the API: the record this run created from {ours} line 2 is nowhere, and id 1 now holds another "
        "record entirely"
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
    assert "changed in the API" not in said and "XeroDetails 1 now holds another record entirely" in said, said
