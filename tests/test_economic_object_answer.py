"""A bulk create answered as seed 002's sample answers it, one object `{"entryNumber": N}` for the call, loads: the
answer says the entries were stored but not which number each was given, so they are looked for line for line in the
journal (the look a lost answer's call gets) and loaded as found. Before, tester t40b's server answering so stopped
every load at its first call of two entries or more ("the answer is not what the API documents (Expected `array`,
got `object` …)", exit 4, the call's rows in doubt), and resume and rollback met the same answer replayed to the
call's key for ever. Against the independent e-conomic server (written from seed 002)."""

from __future__ import annotations

import csv
from pathlib import Path

import anyio
from conftest import CREDS, economic_job, serving
from economic_independent_server import STORE, Opts, make_app
from test_reconcile_refused import entries

from bulkload import load, rollback


def given_entries(data: Path) -> dict[int, tuple[int, str]]:
    """Per entry number the success file names, the voucher and amount of the input line it names."""
    with open(data, newline="", encoding="utf-8") as fh:
        lines = {n: (int(row["voucherNumber"]), row["amount"]) for n, row in enumerate(csv.DictReader(fh), start=2)}
    with open(f"{data}.success.csv", newline="", encoding="utf-8") as fh:
        return {int(row["entryNumber"]): lines[int(row["line"])] for row in csv.DictReader(fh)}


async def test_a_bulk_create_answered_with_one_entry_number_loads_by_a_look(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    entries(data, 6, ())  # 6 vouchers of 2 lines: 12 entries, 3 calls of 4
    app = make_app(Opts(object_answer=True))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=4, concurrency=1)
            report = await load(job, env=CREDS, raise_on_stop=False)
            stored = dict(app[STORE].entries)  # type: ignore[attr-defined]
            undone = await rollback(job.ledger_path, env=CREDS)
    assert report.exit_code == 0 and report.loaded == 12 and report.in_doubt == 0, report.stop_reason
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    # each line was given the entry the journal holds of it: its voucher and its amount
    held = {number: (entry["voucherNumber"], str(entry["amount"])) for number, entry in stored.items()}
    assert given_entries(data) == held and len(held) == 12, held
    assert undone.exit_code == 0 and undone.removed == 12, undone
    assert app[STORE].entries == {}  # type: ignore[attr-defined]


async def test_entries_the_listing_shows_late_are_looked_for_again_after_the_settle_delay(tmp_path: Path) -> None:
    """Where the journal's listing shows new entries late (a read replica), the look right after such an answer finds
    none of them: with --settle-s it looks again that long after (another call is sent meanwhile) and loads them."""
    data = tmp_path / "e.csv"
    entries(data, 4, ())
    app = make_app(Opts(object_answer=True, list_lag_ms=300))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=4, settle_s=1.0)
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.exit_code == 0 and report.loaded == 8 and report.in_doubt == 0, report.stop_reason
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
