"""Entry numbers that do not grow: seed 002 calls entryNumber "the unique number of the entry" and promises no order.
A server that numbers a run's entries at random (the sandbox told to scatter them: below the journal's newest entry
of before the run, too) is reconciled by walking the whole journal and telling the run's entries by the numbers the
run was given; the books read back are right (exit 0), and an entry of the run's really gone is still missing.
Found by a tester whose own server did so: the load said 592 of 600 entries missing and 650 "before"."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import CREDS, economic_job, serving, write_entries
from msgspec import UNSET
from test_reconcile_gone import OTHERS_DRAFT, posted_before
from test_reconcile_lag import Waits, reconciled

from bulkload import load
from bulkload.ledger import Ledger
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app
from bulkload.sandbox.economic_store import EntryStore

#: entries another writer posted to journal 1 before the run
THERE_BEFORE = 20


async def loaded_scattered(tmp_path: Path, origin: str) -> Report:
    """20 drafts there before, then a load of 100 entries into journal 1 (5 calls side by side)."""
    for i in range(THERE_BEFORE):
        await posted_before(origin, {**OTHERS_DRAFT, "voucherNumber": 900_000 + i})
    data = tmp_path / "e.csv"
    write_entries(data, 50)
    job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=20)
    return await load(job, env=CREDS, raise_on_stop=False)


def below_baseline(path: str) -> list[int]:
    """The run's entry numbers at or below journal 1's newest entry before the run."""
    ledger = Ledger.open(path)
    try:
        newest = ledger.baselines()["1"]["max_id"]
        return [i for (i,) in ledger.db().execute("SELECT id FROM created WHERE id <= ? ORDER BY id", (newest,))]
    finally:
        ledger.close()


async def test_entries_numbered_out_of_order_reconcile_by_a_walk_of_the_whole_journal(tmp_path: Path) -> None:
    app = create_app(SandboxOptions(scattered_numbers=True, seed=2))
    with anyio.fail_after(60):
        async with serving(app) as origin:
            report = await loaded_scattered(tmp_path, origin)
            path = str(tmp_path / "run.sqlite")
            again = await reconciled(path, Waits())
    assert len(below_baseline(path)) > 50  # most of the run's entries are numbered among those there before
    rec = report.reconcile
    assert report.exit_code == 0 and rec is not None and rec.ok, (report.stop_reason, rec)
    for r in (rec, again):
        assert r.ok and (r.expected_count, r.remote_count, r.missing_count, r.duplicates_count) == (120, 120, 0, 0)
        assert r.scopes["1"] | {"others": 0} == {
            "before": THERE_BEFORE,
            "loaded": 100,
            "expected": 120,
            "remote": 120,
            "before_gone": 0,
            "others": 0,
            "in_doubt": 0,
        }
        assert r.others_count == 0 and r.before_gone_count == 0
        assert "numbers entries out of order" in str(r.note)


async def test_an_entry_of_the_run_gone_is_still_missing_where_numbers_are_out_of_order(tmp_path: Path) -> None:
    app = create_app(SandboxOptions(scattered_numbers=True, seed=2))
    store: EntryStore = app[ECONOMIC_KEY].store
    with anyio.fail_after(60):
        async with serving(app) as origin:
            report = await loaded_scattered(tmp_path, origin)
            path = str(tmp_path / "run.sqlite")
            gone = below_baseline(path)[0]
            assert report.exit_code == 0 and store.delete(gone)
            rec = await reconciled(path, Waits())
    assert not rec.ok and rec.missing_count == 1 and rec.missing[0]["id"] == gone
    assert (rec.expected_count, rec.remote_count) == (120, 119)
    assert rec.scopes["1"]["before"] == THERE_BEFORE and rec.before_gone_count == 0


async def test_entries_numbered_out_of_order_above_the_baseline_are_not_missed_by_the_walk_behind(
    tmp_path: Path,
) -> None:
    """An empty journal: every number is above its baseline, but a later call may be given numbers below those the
    walk behind the load took as final; the count after the load says it missed some, and they are walked again."""
    app = create_app(SandboxOptions(scattered_numbers=True, seed=3))
    data = tmp_path / "e.csv"
    write_entries(data, 100)
    with anyio.fail_after(60):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=10, concurrency=2)
            report = await load(job, env=CREDS, raise_on_stop=False)
    rec = report.reconcile
    assert report.exit_code == 0 and rec is not None and rec.ok, (report.stop_reason, rec)
    assert (rec.expected_count, rec.remote_count, rec.missing_count, rec.walk_repeated_ids) == (200, 200, 0, 0)
    assert rec.note is UNSET  # nothing was there before: no number of the run's is at or below a baseline
