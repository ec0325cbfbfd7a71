"""What a finished command leaves on disk is whole and private (tester t34a, a new user): the ledger in its one
file, so that a copy of it is the run's ledger, and --log-file readable by the user only, as every file bulkload
writes. Against the sandbox in its own process, bulkload as a child process."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from conftest import SandboxProcess, run_bulkload, write_entries


def test_a_finished_run_leaves_its_ledger_whole_in_its_one_file(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    # a load that skipped groups ended with the whole run in FILE-wal: the file alone held 0 created rows, and
    # `reconcile --ledger COPY` of a copy of it said reconciled, 0 loaded, the run's entries "added by others"
    first = tmp_path / "first.csv"
    write_entries(first, 20)
    assert (
        run_bulkload(tmp_path, "-q", "load", "economic", str(first), "--base-url", sandbox_process.url).returncode == 0
    )
    data = tmp_path / "entries.csv"  # the same 20 vouchers and 20 more: the 20 are skipped, as loaded before
    write_entries(data, 40)
    done = run_bulkload(tmp_path, "-q", "load", "economic", str(data), "--base-url", sandbox_process.url)
    assert done.returncode == 0 and "40 skipped" in done.stdout, done.stdout + done.stderr
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(tmp_path / "entries.csv.ledger.sqlite", copy)  # the file alone, as `cp` of "the ledger"
    with sqlite3.connect(copy) as db:
        (created,) = db.execute("SELECT count(*) FROM created").fetchone()
    assert created == 40, created


def test_the_log_file_is_readable_by_the_user_only(tmp_path: Path, sandbox_process: SandboxProcess) -> None:
    # it holds every call, the ledger's path, the rows' reasons: it was made 0644 under the usual umask
    data = tmp_path / "entries.csv"
    write_entries(data, 5)
    log = tmp_path / "log.txt"
    done = run_bulkload(
        tmp_path, "-q", "--log-file", str(log), "load", "economic", str(data), "--base-url", sandbox_process.url
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.stat().st_mode & 0o777 == 0o600, oct(log.stat().st_mode & 0o777)
