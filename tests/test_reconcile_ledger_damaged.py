"""A damaged byte in the check the ledger keeps of a line (created.line_check) is told as a damaged ledger, not as a
change in the API: the check is made again from the input's row (the file pinned by its SHA-256), and only where the
ledger's is that one and the API holds another did the API change. Against the e-conomic sandbox on loopback, the
only target whose reconciliation compares kept line checks with what the API holds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, write_entries
from test_reconcile_line_fields import change

from bulkload import Job, load, reconcile, rollback
from bulkload.cli import main
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, running


def flip(ledger: str, line: int) -> None:
    """Flip one bit of the second byte of the check the ledger keeps of `line` of its first file."""
    with sqlite3.connect(ledger) as db:
        changed = db.execute(
            "UPDATE created SET line_check = (line_check | 256) - (line_check & 256) WHERE loc = ?", (line,)
        ).rowcount
    assert changed == 1


def grow(path: Path) -> None:
    """A line added to the input: it is no longer the file the run read (its SHA-256)."""
    with open(path, "a") as fh:
        fh.write("5,1,99,2026-11-01,1.00,DKK,1010,,added,\n")


async def loaded(tmp_path: Path, url: str) -> Report:
    """10 balanced vouchers, 20 lines, loaded and reconciled."""
    data = tmp_path / "e.csv"
    write_entries(data, 10)
    first = await load(Job(target="economic", files=[str(data)], base_url=url), env=CREDS)
    assert first.exit_code == 0 and first.reconcile and first.reconcile.ok, first
    return first


async def test_a_damaged_line_check_is_a_damaged_ledger_not_a_change_in_the_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # found by a tester: one byte of one created.line_check flipped with sqlite3, `bulkload reconcile` said the line
    # was "changed in the API since it was loaded" (exit 3): the API held exactly what the file meant
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = await loaded(tmp_path, url)
            flip(first.ledger, 4)
            again = await reconcile(first.ledger, env=CREDS)
            for name, value in CREDS.items():
                monkeypatch.setenv(name, value)
            capsys.readouterr()
            code = await anyio.to_thread.run_sync(main, ["reconcile", "--ledger", first.ledger, "--no-progress"])
    rec = again.reconcile
    assert rec is not None and not rec.ok and again.exit_code == 3  # no silent success: the ledger is not right
    assert rec.lines_changed_count == 0, rec.lines_changed
    assert rec.lines_damaged_count == 1 and rec.lines_damaged == [
        {"id": 3, "file": str(tmp_path / "e.csv"), "line": 4, "api_holds": True}
    ]
    out = capsys.readouterr().out
    assert code == 3 and "changed in the API" not in out.replace("not changed in the API", ""), out
    assert f"damaged in the ledger, not changed in the API: the check the ledger keeps of {tmp_path / 'e.csv'}" in out
    assert "put back a whole copy of it from a backup" in out, out


async def test_a_line_changed_in_the_api_is_still_one_beside_a_damaged_check(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = await loaded(tmp_path, url)
            await change(url, {1: {"text": "changed by a user"}, 3: {"text": "changed too"}})
            flip(first.ledger, 4)  # id 3's: damaged, and the API changed it too
            again = await reconcile(first.ledger, env=CREDS)
    rec = again.reconcile
    assert rec is not None and again.exit_code == 3
    assert [(c["id"], c["line"]) for c in rec.lines_changed or []] == [(1, 2), (3, 4)]
    assert [(d["id"], d["line"], d["api_holds"]) for d in rec.lines_damaged or []] == [(3, 4, False)]


async def test_without_the_input_as_the_run_read_it_a_line_stays_changed_and_the_note_says_why(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = await loaded(tmp_path, url)
            flip(first.ledger, 4)
            grow(tmp_path / "e.csv")  # another file now: what the run sent cannot be read from it
            again = await reconcile(first.ledger, env=CREDS)
    rec = again.reconcile
    assert rec is not None and again.exit_code == 3
    assert [(c["id"], c["line"]) for c in rec.lines_changed or []] == [(3, 4)] and not rec.lines_damaged
    assert "cannot be told without the input as the run read it" in str(rec.note), rec.note


async def test_a_rollback_deletes_a_record_whose_kept_check_is_damaged_where_it_holds_what_the_input_gives(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # found by tester t70f: the rollback of the same ledger kept id 3 as "not the run's record now … it holds another
    # line than the run sent", exit 3: voucher 2 was left half rolled back in the books
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first = await loaded(tmp_path, url)
            flip(first.ledger, 4)
            undone = await rollback(first.ledger, env=CREDS)
            left = await reconcile(first.ledger, env=CREDS)
    assert (undone.exit_code, undone.removed, undone.spared_count) == (0, 20, 0), undone
    assert left.reconcile is not None and left.reconcile.remote_count == 0, left.reconcile
    assert f"the ledger {first.ledger} is damaged: the check it keeps of 1 of its lines" in caplog.text, caplog.text
