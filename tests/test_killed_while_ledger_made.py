"""A load killed (kill -9) while it makes its ledger — the whole-file inspection runs on the ledger's draft, minutes
for a big file — leaves the draft and the lock file beside the ledger's path, and no ledger. Found by a tester:
`bulkload resume` then said the ledger "was there and has been moved or deleted since. Put it back there", of a
ledger that never was; it now says the load was stopped before its first call and is to be run again, which
loads every row once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import spawn_sandbox, write_entries

from bulkload.errors import LedgerError
from bulkload.ledger import Ledger


def test_a_draft_beside_a_ledger_not_there_is_said_a_load_killed_while_made(tmp_path: Path) -> None:
    ledger = tmp_path / "nov.csv.ledger.sqlite"
    (tmp_path / "nov.csv.ledger.sqlite.lock").write_bytes(b"")
    draft = tmp_path / ".nov.csv.ledger.sqlite.4242.draft"
    draft.write_bytes(b"")
    with pytest.raises(LedgerError) as refused:
        Ledger.open(str(ledger))
    said = str(refused.value)
    assert said.startswith(f"no ledger at {ledger}: the load that was making it was stopped before it was made"), said
    assert str(draft) in said and "Run the same `bulkload load` again" in said, said
    assert "Put it back" not in said and "moved or deleted" not in said, said


def test_a_draft_beside_a_wal_is_still_a_ledger_moved(tmp_path: Path) -> None:
    # only a made ledger has a -wal: with one left, the ledger was there, whatever else lies beside it
    ledger = tmp_path / "nov.csv.ledger.sqlite"
    (tmp_path / "nov.csv.ledger.sqlite-wal").write_bytes(b"")
    (tmp_path / ".nov.csv.ledger.sqlite.4242.draft").write_bytes(b"")
    with pytest.raises(LedgerError) as refused:
        Ledger.open(str(ledger))
    assert "moved or deleted since" in str(refused.value), refused.value


def test_a_draft_schema_beside_a_postgresql_ledger_not_there_is_said_alike(postgres_url: str) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA month_end__draft")  # what a load killed while making ledger=month_end leaves
    with pytest.raises(LedgerError) as refused:
        Ledger.open(f"{postgres_url}?ledger=month_end")
    said = str(refused.value)
    assert "stopped before it was made (the schema month_end__draft is the draft it left)" in said, said


@pytest.mark.slow
def test_a_load_killed_while_it_made_its_ledger_is_told_to_load_again_and_loads_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECONOMIC_APP_SECRET_TOKEN", "app")
    monkeypatch.setenv("ECONOMIC_AGREEMENT_GRANT_TOKEN", "grant")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    entries = tmp_path / "entries.csv"
    rows = write_entries(entries, 20_000)["rows"]  # 40,000 rows: their inspection on the draft takes a while
    ledger = tmp_path / "run.sqlite"
    sandbox = spawn_sandbox()
    try:
        load = [sys.executable, "-m", "bulkload", "load", "economic", str(entries), "--journal", "1"]
        load += ["--base-url", sandbox.url, "--no-progress", "-q", "--ledger", str(ledger)]
        proc = subprocess.Popen(load, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while not list(tmp_path.glob(".run.sqlite.*.draft")) and proc.poll() is None:
                assert time.monotonic() < deadline, "the load made no draft of its ledger"
                time.sleep(0.002)
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert list(tmp_path.glob(".run.sqlite.*.draft")) and not ledger.exists(), "killed after the ledger was made"
        resume = [sys.executable, "-m", "bulkload", "resume", "--ledger", str(ledger), "--no-progress"]
        said = subprocess.run(resume, capture_output=True, text=True, timeout=120)
        assert said.returncode == 2, said.stderr
        assert "stopped before it was made" in said.stderr and "Run the same `bulkload load` again" in said.stderr
        assert "Put it back" not in said.stderr, said.stderr
        again = subprocess.run(load, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        assert not list(tmp_path.glob(".run.sqlite.*.draft"))
        assert sandbox.entries() == rows  # every row once: the killed load sent nothing
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
