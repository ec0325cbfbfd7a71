"""Found by tester t49d: a load killed (kill -9) before its end has written no rejects file, yet `bulkload reconcile`
of its ledger said "rejected rows and reasons: e.csv.rejects.csv" and "fix them in place, then load them …
e.csv.rejects.csv": a file that was not there (or, where an earlier run of the file left one, that run's rows). It
now says the file is not written and that `bulkload resume` writes it, and names no command to load it."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from conftest import CREDS, Crash, crash_at_done, economic_job, serving, write_entries

from bulkload import load, reconcile
from bulkload.report import print_summary
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app


async def test_reconcile_of_a_killed_run_names_no_rejects_file_it_did_not_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    write_entries(data, 12, bad_every=2)  # a bad row after every second voucher: rejected before the first call
    rejects = tmp_path / "e.csv.rejects.csv"
    with anyio.fail_after(30):
        async with serving(create_app(SandboxOptions())) as origin:
            with monkeypatch.context() as m:
                crash_at_done(m, 2)  # the process killed as its second call's answer comes
                try:
                    await load(economic_job(data, origin, ledger, batch_size=4, concurrency=1), env=CREDS)
                except* Crash:
                    pass
            report = await reconcile(str(ledger), env=CREDS)
    assert report.rejected > 0 and not rejects.exists(), report
    assert report.rejects_load is None, report.rejects_load
    capsys.readouterr()
    print_summary(report)
    said = capsys.readouterr().out
    assert f"NOT WRITTEN to {rejects}" in said and f"bulkload resume --ledger {ledger}` writes it" in said, said
