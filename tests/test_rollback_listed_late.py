"""Reconciliation and rollback honour --settle-s where the API's listing shows new records late (a read replica): the
records of the run a walk does not list, while the settle delay since the run's last write has not passed, are read
again once it has, and only those still absent are missing (reconciliation) or gone (rollback). Tester t40b's
e-conomic server, whose listings and counts show an entry 4 s after it was stored, loaded 40 entries with --settle-s
10: the load ended `reconciled: NO`, exit 3, naming every entry missing, and `bulkload rollback` right after found
none of them, named all "gone some other way … possibly booked: reverse it in the books", sent no DELETE, exit 3, and
marked the run rolled back, while the journal held every one of them. Against the independent e-conomic server
(written from seed 002)."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import CREDS, economic_job, serving
from economic_independent_server import STORE, Opts, make_app
from test_reconcile_refused import entries

from bulkload import load, rollback


async def test_a_load_reconciles_and_its_rollback_removes_what_the_listing_shows_late(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    entries(data, 5, ())  # 5 vouchers of 2 lines: 10 entries
    app = make_app(Opts(list_lag_ms=500))  # listings and counts show an entry 0.5 s after it was stored
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", settle_s=1.5)
            report = await load(job, env=CREDS, raise_on_stop=False)
            assert report.loaded == 10 and len(app[STORE].entries) == 10, report  # type: ignore[attr-defined]
            assert report.exit_code == 0 and report.reconcile is not None and report.reconcile.ok, report.reconcile
            undone = await rollback(job.ledger_path, env=CREDS)
    assert app[STORE].entries == {}, undone  # type: ignore[attr-defined]
    assert undone.exit_code == 0 and undone.removed == 10 and undone.unexplained_count == 0, undone


async def test_records_gone_long_after_the_last_write_are_gone_at_once(tmp_path: Path) -> None:
    """The settle delay counts from the run's last write: a rollback of a run whose records were taken out of the
    journal since (booked) reads them once, however long --settle-s is."""
    data = tmp_path / "e.csv"
    entries(data, 2, ())
    app = make_app(Opts())
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", settle_s=600)
            report = await load(job, env=CREDS)
            app[STORE].entries.clear()  # type: ignore[attr-defined]
            started = anyio.current_time()
            undone = await rollback(job.ledger_path, env=CREDS, clock=lambda: 10**10)
            took = anyio.current_time() - started
    assert report.exit_code == 0 and undone.exit_code == 3 and undone.unexplained_count == 4, undone
    assert took < 10, took
