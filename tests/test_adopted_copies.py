"""A ledger that lost its latest writes (its -wal deleted after a kill -9, or the file put back from an earlier copy
over itself), resumed or rolled back with --adopt-copy: what the copy never saw the run do is in doubt or looked up,
never rejected for a guess, and what the run saw before its first call is not taken again after its writes."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import aiohttp
import anyio
import pytest
from conftest import bulkload_cmd, child_env
from test_guards import HALO, PAYOR, halopsa_records, payor_records

from bulkload import Job, load, resume, rollback
from bulkload.errors import LedgerError, Unreachable
from bulkload.sandbox import SandboxOptions, running


def halopsa_file(tmp_path: Path, creates: int, updates: int) -> Path:
    """`creates` new records, then `updates` rows naming ids 1, 2, …: records this load itself creates (the sandbox
    starts empty), which a load must refuse to update."""
    data = tmp_path / "XeroDetails.csv"
    data.write_text(
        "id,name,tenant_id\n"
        + "".join(f",Tenant {i},t-{i}\n" for i in range(creates))
        + "".join(f"{i},Changed {i},c-{i}\n" for i in range(1, updates + 1))
    )
    return data


async def halopsa_copy_made_before_the_first_call(tmp_path: Path, url: str, data: Path) -> Path:
    """The ledger of a HaloPSA load of `data` stopped before its first call (its token endpoint led nowhere), with a
    copy made then; the load then resumed to its end. Returns the ledger, put back from the copy over itself (its
    file the same, inode and all): it knows nothing of what the run looked up or did."""
    ledger = tmp_path / "run.sqlite"
    job = Job(
        target="halopsa",
        files=[str(data)],
        base_url=url,
        ledger=str(ledger),
        batch_size=1,
        settle_s=0.5,
        rejects=str(tmp_path / "r.csv"),
    )
    with socket.socket() as closed, pytest.raises(Unreachable):
        closed.bind(("127.0.0.1", 0))  # bound, never listening: a connection to it is refused
        await load(job, env={**HALO, "HALO_AUTH_URL": f"http://127.0.0.1:{closed.getsockname()[1]}/auth"})
    backup = tmp_path / "backup.sqlite"
    shutil.copyfile(ledger, backup)
    assert (await resume(str(ledger), env=HALO)).status == "complete"
    inode = ledger.stat().st_ino
    shutil.copyfile(backup, ledger)
    assert ledger.stat().st_ino == inode
    with pytest.raises(LedgerError, match="lost its latest writes"):
        await resume(str(ledger), env=HALO)
    return ledger


@pytest.mark.slow
async def test_an_adopted_copy_puts_rows_after_a_phase_it_never_began_in_doubt(tmp_path: Path) -> None:
    # before: the copy, which never began the invoices, worked out again which customers did not load: the one it
    # held in doubt, whose invoices (sent by the run) went to the rejects file, which invites loading them again
    customers = tmp_path / "c.csv"
    customers.write_text("customerno,emailaddress1\n" + "".join(f"C{i},c{i}@example.com\n" for i in range(3)))
    invoices = tmp_path / "i.csv"
    invoices.write_text(
        "customerNumber,invoiceNumber,invoiceAmount,currency\n"
        + "".join(f"C{i % 3},I-{i},{i}.00,DKK\n" for i in range(6))
    )
    ledger = tmp_path / "run.sqlite"
    rejects = tmp_path / "rejects.csv"
    with anyio.fail_after(90):
        async with running("payorcrm", SandboxOptions()) as url:
            job = Job(
                target="payorcrm",
                files=[],
                base_url=url,
                ledger=str(ledger),
                rejects=str(rejects),
                batch_size=1,
                daily_quota=2,
                target_options={"customers": str(customers), "invoices": str(invoices), "amount_unit": "major"},
            )
            assert (await load(job, env=PAYOR, raise_on_stop=False)).status == "stopped"
            backup = tmp_path / "backup.sqlite"
            shutil.copyfile(ledger, backup)  # two customers loaded; the invoices not begun
            # the run goes on: the last customer and four invoices, then its ledger loses what it wrote since
            await resume(str(ledger), env=PAYOR, daily_quota=7, raise_on_stop=False)
            assert (len(await payor_records(url)), len(await payor_records(url, "invoices"))) == (3, 4)
            shutil.copyfile(backup, ledger)
            adopted = await resume(str(ledger), env=PAYOR, daily_quota=0, adopt_copy=True)
            assert (adopted.loaded, adopted.rejected, adopted.in_doubt) == (2, 0, 7), adopted
            assert not rejects.exists() or "I-" not in rejects.read_text(), rejects.read_text()
            assert len(await payor_records(url, "invoices")) == 4, "an invoice was uploaded twice"


async def killed_after_five(url: str, data: Path, ledger: Path) -> None:
    """A HaloPSA load of `data` into `url` (ledger `ledger`, one record a call, one call at a time) in a process of
    its own, killed (kill -9) once the API holds 5 records: the ledger's latest writes are in its -wal."""
    cmd = bulkload_cmd(
        "load", "halopsa", str(data), "--base-url", url, "--ledger", str(ledger), "--batch-size", "1",
        "--concurrency", "1", "--settle-s", "0.5", "--window-limit", "0", "--no-progress",
    )  # fmt: skip
    async with await anyio.open_process(cmd, env=child_env(HALO)) as child:
        while len(await halopsa_records(url)) < 5:
            assert child.returncode is None, "the load ended before it was killed"
            await anyio.sleep(0.01)
        child.kill()


@pytest.mark.slow
async def test_a_halopsa_ledger_whose_wal_was_deleted_keeps_the_records_there_before_the_load(tmp_path: Path) -> None:
    # before: the list of records there before the load went with the -wal and was taken again when the copy was
    # adopted, holding the records the run had created: the update rows naming them overwrote them
    data = halopsa_file(tmp_path, creates=30, updates=3)
    ledger = tmp_path / "run.sqlite"
    with anyio.fail_after(120):
        async with running("halopsa", SandboxOptions(latency_ms=50, window_limit=0)) as url:
            await killed_after_five(url, data, ledger)
            for suffix in ("-wal", "-shm"):
                Path(f"{ledger}{suffix}").unlink()
            with pytest.raises(LedgerError, match="lost its latest writes"):
                await resume(str(ledger), env=HALO)
            adopted = await resume(str(ledger), env=HALO, adopt_copy=True)
            left = await halopsa_records(url)
    assert (adopted.loaded, adopted.rejected, adopted.in_doubt) == (30, 3, 0), adopted
    assert sorted(r["name"] for r in left) == sorted(f"Tenant {i}" for i in range(30)), "a record was overwritten"


@pytest.mark.slow
async def test_a_halopsa_copy_that_lost_the_records_there_before_the_load_leaves_its_rows_in_doubt(
    tmp_path: Path,
) -> None:
    # before: the copy listed the records again, the run's own among them, and sent the updates that name them; and
    # it settled the creates it never saw with the records of their names, which a listing taken after the run's
    # first call cannot tell from records that were there before it (someone's of the same name)
    data = halopsa_file(tmp_path, creates=6, updates=2)
    with anyio.fail_after(90):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            ledger = await halopsa_copy_made_before_the_first_call(tmp_path, url, data)
            adopted = await resume(str(ledger), env=HALO, adopt_copy=True)
            left = await halopsa_records(url)
    assert (adopted.loaded, adopted.rejected, adopted.in_doubt) == (0, 0, 8), adopted
    assert sorted(r["name"] for r in left) == [f"Tenant {i}" for i in range(6)], "a record was overwritten"
    in_doubt = (tmp_path / "r.csv.in_doubt.csv").read_text()
    assert [line.split(",")[1] for line in in_doubt.splitlines()[1:]] == [str(n) for n in range(2, 10)], in_doubt
    assert "XeroDetails 1 was there before this load cannot be told" in in_doubt, in_doubt


@pytest.mark.slow
async def test_an_adopted_halopsa_copy_that_never_began_rebuilds_its_calls_and_deletes_nothing_it_cannot_show_its_own(
    tmp_path: Path,
) -> None:
    # before: "call phase 0 (… lines ) not settled: this copy of the ledger never began this part of the run", though
    # its calls are rebuilt from the unchanged input as a resume rebuilds them. They are rebuilt and looked up; but a
    # listing taken after the run's first call cannot tell the run's records from someone's of the same names, so
    # rollback deletes none of them: the calls are left unsettled, saying so (exit 1)
    data = halopsa_file(tmp_path, creates=6, updates=0)
    with anyio.fail_after(90):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            ledger = await halopsa_copy_made_before_the_first_call(tmp_path, url, data)
            assert len(await halopsa_records(url)) == 6
            undone = await rollback(str(ledger), env=HALO, adopt_copy=True)
            left = await halopsa_records(url)
    assert (undone.exit_code, undone.removed, undone.unsettled_count) == (1, 0, 6), undone
    assert all("cannot be shown to be the run's" in u["reason"] for u in undone.unsettled), undone.unsettled
    assert len(left) == 6, left


@pytest.mark.slow
async def test_rows_of_no_group_of_calls_an_adopted_copy_never_saw_are_in_doubt_in_a_later_load(tmp_path: Path) -> None:
    # found by a tester (t48b): a copy adopted puts every call it never saw in doubt (Visma Core: no key, no look),
    # but kept no checks of their rows, as a call sending keeps: a changed copy of the file loaded after it sent
    # them again, and each the run had created was booked twice. They are in doubt there too; only the new row loads
    core = {"VISMA_CORE_TOKEN": "test-core-token"}
    header = "caseId,accountingCostType,amount,description,note,entryDate,orderId\n"
    rows = "".join(f"{1100 + i},FEE,{i}.00,r{i},,2026-11-01,\n" for i in range(1, 4))
    data, changed = tmp_path / "e.csv", tmp_path / "e2.csv"
    data.write_text(header + rows)
    changed.write_text(header + rows + "1109,FEE,9.00,new,,2026-11-01,\n")
    ledger = tmp_path / "run.sqlite"

    def job(file: Path, at: Path, url: str) -> Job:
        return Job(target="visma-core", files=[str(file)], base_url=url, ledger=str(at), rejects=str(at) + ".csv")

    with anyio.fail_after(60):
        async with running("visma-core", SandboxOptions()) as url:
            port = int(url.split(":")[2].split("/")[0])
        with pytest.raises(Unreachable):  # stopped before its first call: nothing listens at its address yet
            await load(job(data, ledger, url), env=core)
        async with running("visma-core", SandboxOptions(), port=port) as url:
            backup = tmp_path / "backup.sqlite"
            shutil.copyfile(ledger, backup)
            assert (await resume(str(ledger), env=core)).loaded == 3
            shutil.copyfile(backup, ledger)  # the ledger put back from a copy made before its first call
            adopted = await resume(str(ledger), env=core, adopt_copy=True, raise_on_stop=False)
            assert (adopted.loaded, adopted.in_doubt) == (0, 3), adopted
            later = await load(job(changed, tmp_path / "two.sqlite", url), env=core, raise_on_stop=False)
            async with aiohttp.ClientSession() as s, s.get(url + "/_sandbox/entries") as r:
                held = sorted(e["Description"] for e in await r.json())
    assert held == ["new", "r1", "r2", "r3"], held
    assert (later.loaded, later.in_doubt) == (1, 3), later


async def test_a_ledger_renamed_without_its_wal_is_told_where_the_wal_is(tmp_path: Path) -> None:
    # found by a tester: the ledger's file renamed after a kill -9, its -wal left beside it under the old name; the
    # refusal said "put the -wal back" without saying it was there, under the name the ledger no longer has
    data = halopsa_file(tmp_path, creates=20, updates=0)
    ledger, moved = tmp_path / "run.sqlite", tmp_path / "moved.sqlite"
    with anyio.fail_after(120):
        async with running("halopsa", SandboxOptions(latency_ms=50, window_limit=0)) as url:
            await killed_after_five(url, data, ledger)
            ledger.rename(moved)
            with pytest.raises(LedgerError, match="lost its latest writes") as refused:
                await resume(str(moved), env=HALO)
            said, where = str(refused.value), f"beside it under the ledger's old name, {ledger}-wal"
            assert f"Its -wal file is {where}: rename it to {moved}-wal" in said, said
            Path(f"{ledger}-wal").rename(f"{moved}-wal")  # as it says
            Path(f"{ledger}-shm").unlink(missing_ok=True)
            resumed = await resume(str(moved), env=HALO)
            left = await halopsa_records(url)
    assert (resumed.loaded, resumed.in_doubt, resumed.reconcile.ok) == (20, 0, True), resumed
    assert len(left) == 20, "a record was created twice"
