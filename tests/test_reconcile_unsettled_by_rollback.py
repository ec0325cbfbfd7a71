"""Found by tester t49d: after a rollback that left calls in doubt unsettled (a look found records alike, exit 1:
"check the API and remove what the call created by hand"), `bulkload reconcile` of the run told three times to run
`bulkload resume` ("records what it can of them", "rows in doubt: … `bulkload resume --ledger …` looks them up"),
which refuses a run rolled back in part. It now says the resume refuses it and what to do instead."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, Crash, crash_at_done, economic_job, serving, write_entries

from bulkload import load, reconcile
from bulkload.cli import quiet_summary
from bulkload.report import print_summary
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.undo import rollback


async def test_reconcile_after_a_rollback_left_calls_unsettled_names_no_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    write_entries(data, 4)
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)  # keys forgotten at once: a look, not a replay
    with anyio.fail_after(30):
        async with serving(app) as origin:
            with monkeypatch.context() as m:
                crash_at_done(m)  # voucher 1's call carried out, the process killed as its answer came
                try:
                    await load(economic_job(data, origin, ledger, batch_size=2, concurrency=1), env=CREDS)
                except* Crash:
                    pass
            with sqlite3.connect(ledger) as db:  # a day later: the key older than trusted
                db.execute("UPDATE chunks SET sent_at = sent_at - 86400")
            undone = await rollback(str(ledger), env=CREDS)
            assert undone.exit_code == 1 and undone.unsettled, undone  # a look found voucher 1: left, named
            report = await reconcile(str(ledger), env=CREDS)
    assert report.in_doubt and report.reconcile is not None and report.reconcile.in_doubt_found_count, report
    capsys.readouterr()
    print_summary(report)
    said = capsys.readouterr().out + quiet_summary(report)
    assert "bulkload resume" not in said.replace("which `bulkload resume` refuses", ""), said
    assert "remove what their calls created by hand" in said, said


async def test_reconcile_after_a_rollback_left_calls_unsettled_names_their_records_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same reconcile's note said "… nothing of it is left" beside the records of the unsettled calls, which
    the rollback left in the API; it now names them."""
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    write_entries(data, 4)
    app = create_app(SandboxOptions(), idempotency_ttl_s=1e-3)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            with monkeypatch.context() as m:
                crash_at_done(m, 2)  # voucher 2's call carried out, the process killed as its answer came
                try:
                    await load(economic_job(data, origin, ledger, batch_size=2, concurrency=1), env=CREDS)
                except* Crash:
                    pass
            with sqlite3.connect(ledger) as db:
                db.execute("UPDATE chunks SET sent_at = sent_at - 86400")
            assert (await rollback(str(ledger), env=CREDS)).exit_code == 1
            report = await reconcile(str(ledger), env=CREDS)
    note = report.reconcile.note if report.reconcile is not None else None
    assert isinstance(note, str) and "nothing of it is left" not in note, note
    assert "but the 2 records of its calls in doubt (below)" in note, note
