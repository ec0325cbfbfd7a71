"""Rollback deletes only what is the run's: an id whose record now holds another line than the run sent (the API
lost its data and gave the id again, or the record changed since), or one found nowhere the run created it, is never
deleted; a call in doubt that a look by match fields finds records for is left unsettled, never deleted on. Against
sandboxes started again on the same address, their state lost (as test_reconcile_reset's)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import aiohttp
import anyio
import pytest
from conftest import CREDS, write_entries
from test_load_halopsa import ENV as HALO
from test_load_halopsa import job as halo_job
from test_load_halopsa import records as halo_records
from test_load_halopsa import write as write_halo
from test_reconcile_reset import _economic, _free_port, halo_ids_given_again

from bulkload import load, rollback
from bulkload.sandbox import SandboxOptions, running

ECONOMIC_HEADERS = {"X-AppSecretToken": "a", "X-AgreementGrantToken": "b"}


async def _entries(url: str) -> list[tuple[int, int, str]]:
    """(entry number, journal, text) of every draft entry the sandbox holds."""
    async with aiohttp.ClientSession(headers=ECONOMIC_HEADERS) as s, s.get(url + "/draft-entries") as r:
        listed = await r.json()
    items = listed["items"] if isinstance(listed, dict) else listed
    return sorted((e["entryNumber"], e["journalNumber"], e["text"]) for e in items)


@pytest.mark.slow
async def test_economic_rollback_never_deletes_numbers_given_again_to_another_writers_entries(tmp_path: Path) -> None:
    """Before: "complete", exit 0, the other writer's 6 entries deleted (2 of them in a journal the run never
    loaded into)."""
    ours, theirs, elsewhere = tmp_path / "ours.csv", tmp_path / "theirs.csv", tmp_path / "elsewhere.csv"
    write_entries(ours, 3)  # 6 entries in journal 1
    write_entries(theirs, 2, first_voucher=1001, seed=7)  # 4 entries in journal 1: numbers 1-4 again
    write_entries(elsewhere, 1, journal=2, first_voucher=2001, seed=8)  # 2 in journal 2: numbers 5-6 again
    port = _free_port()
    with anyio.fail_after(120):
        async with running("economic", SandboxOptions(), port=port) as url:
            assert (await load(_economic(tmp_path, ours, url), env=CREDS)).exit_code == 0
        async with running("economic", SandboxOptions(), port=port) as url:  # its state lost
            for data in (theirs, elsewhere):
                assert (await load(_economic(tmp_path, data, url), env=CREDS)).exit_code == 0
            before = await _entries(url)
            undone = await rollback(str(tmp_path / "ours.sqlite"), env=CREDS)
            after = await _entries(url)
    assert [n for n, _, _ in before] == [1, 2, 3, 4, 5, 6], before
    assert after == before, after
    assert undone.removed == 0 and undone.exit_code == 3 and undone.status != "complete", undone
    # numbers 1-4 hold other lines in journal 1: kept, named; 5-6 are nowhere in journal 1: the run's are gone
    assert undone.spared_count == 4 and [item["id"] for item in undone.spared] == [1, 2, 3, 4], undone.spared
    assert "not the run's" in undone.spared[0]["reason"] and undone.spared[0]["line"] == 2, undone.spared
    assert undone.unexplained_count == 2 and {item["id"] for item in undone.unexplained} == {5, 6}, undone


@pytest.mark.slow
async def test_halopsa_rollback_never_deletes_ids_given_again_to_another_writers_records(tmp_path: Path) -> None:
    """Before: "complete", exit 0, the other writer's 5 records deleted."""
    async with halo_ids_given_again(tmp_path, 5) as url:
        undone = await rollback(str(tmp_path / "ours.sqlite"), env=HALO)
        left = await halo_records(url)
    assert sorted(r["id"] for r in left) == [1, 2, 3, 4, 5] and all(r["name"].startswith("Other ") for r in left)
    assert undone.removed == 0 and undone.exit_code == 3 and undone.spared_count == 5, undone
    assert "not the run's" in undone.spared[0]["reason"], undone.spared


@pytest.mark.slow
async def test_halopsa_rollback_never_deletes_what_a_look_for_a_call_in_doubt_found(tmp_path: Path) -> None:
    """A create in doubt whose record a look by match fields finds: the run's, or another writer's made alike since,
    which no look can tell apart. Before: "complete: 1 removed", exit 0. Now the call is left unsettled (exit 1),
    the record kept."""
    data = write_halo(tmp_path / "ours.csv", 1)
    ledger = tmp_path / "ours.sqlite"
    with anyio.fail_after(120):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            assert (await load(halo_job(tmp_path, data, url), env=HALO)).exit_code == 0
            with sqlite3.connect(ledger) as db:  # its answer lost: in doubt, the ledger holding nothing of it
                db.execute("UPDATE chunks SET state = 'in_doubt', sent_at = sent_at - 7200")
                db.execute("DELETE FROM created")
            undone = await rollback(str(ledger), env=HALO)
            left = await halo_records(url)
    assert len(left) == 1, left
    assert (undone.removed, undone.exit_code, undone.status, undone.unsettled_count) == (0, 1, "unsettled", 1), undone
    assert "check the API" in undone.unsettled[0]["reason"], undone.unsettled


@pytest.mark.slow
async def test_economic_rollback_deletes_entries_whose_numbers_a_ledger_gives_lines_in_another_order(
    tmp_path: Path,
) -> None:
    """A call's answer named its entries in another order than its lines, and nothing paired them again (a ledger
    that was never reconciled): line 2 holds the number of line 3's entry and the other way round. What those numbers
    hold is not what their lines sent, but the call's lines, as a whole, are what its entries hold: the read before
    deleting pairs them again (as reconciliation does), and every entry is the run's, deleted."""
    data = tmp_path / "ours.csv"
    write_entries(data, 3)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            assert (await load(_economic(tmp_path, data, url), env=CREDS)).exit_code == 0
            with sqlite3.connect(tmp_path / "ours.sqlite") as db:
                (a, b) = [loc for (loc,) in db.execute("SELECT loc FROM created ORDER BY loc LIMIT 2")]
                db.execute("UPDATE created SET id = -id WHERE loc IN (?, ?)", (a, b))
                db.execute("UPDATE created SET id = CASE loc WHEN ? THEN 2 ELSE 1 END WHERE loc IN (?, ?)", (a, a, b))
            undone = await rollback(str(tmp_path / "ours.sqlite"), env=CREDS)
            left = await _entries(url)
    assert (undone.status, undone.exit_code, undone.removed, undone.spared_count) == ("complete", 0, 6, 0), undone
    assert left == []
