"""Tester t74c: a full disk as a manifest job's ledger was being made ended the job `refused`, exit 2 (a usage or
configuration error, DESIGN.md), of a run that only could not finish: nothing to correct in its settings. It is
`stopped`, exit 4, and says what to fix and that the same command goes on; `bulkload load` alike. The disk is made
"full" by a limit on the size of the files the process may write (`ulimit -f`), which SQLite meets as a write
refused."""

from __future__ import annotations

import json
import os
import resource
import subprocess
from pathlib import Path

from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, spawn_sandbox, write_entries

#: bytes a child may write to a file: less than a ledger's schema takes
LIMIT = 30_000
ENV = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}


def limited(folder: Path, *args: str, limit: int | None = LIMIT) -> subprocess.CompletedProcess[str]:
    """`bulkload ARGS` in `folder`, its files at most `limit` bytes (None: unlimited); bounded at 120 s."""

    def small() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        bulkload_cmd(*args), env=child_env({**CREDS, **ENV}), cwd=folder, capture_output=True, text=True,
        timeout=120, preexec_fn=small,
    )  # fmt: skip


def test_a_manifest_jobs_ledger_refused_its_writes_stops_the_job_resumable(tmp_path: Path) -> None:
    write_entries(tmp_path / "a.csv", 30)
    sandbox: SandboxProcess = spawn_sandbox()
    try:
        (tmp_path / "m.toml").write_text(
            f'[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "{sandbox.url}"\nfiles = ["a.csv"]\n'
            'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
        )
        full = limited(tmp_path, "run", "m.toml", "--no-progress")
        assert full.returncode == 4, (full.stdout, full.stderr)
        fleet = json.loads((tmp_path / "m.runs" / "fleet.json").read_text())
        (job,) = fleet["jobs"]
        assert job["status"] == "stopped" and job["exit_code"] == 4, job
        ledger = tmp_path / "m.runs" / "a" / "ledger.sqlite"
        assert f"cannot create the ledger {ledger}: " in job["error"], job
        assert "ulimit -f" in job["error"] and "run the command again: nothing was sent" in job["error"], job
        again = limited(tmp_path, "run", "m.toml", "--no-progress", limit=None)  # as told, the limit gone
        assert again.returncode == 0, (again.stdout, again.stderr)
        assert sandbox.entries() == 60  # the API's own count: every row once
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)


def stopped_then_loaded(tmp_path: Path, said: str) -> str:
    """A load of 30 vouchers under the limit: stopped, exit 4, its stderr beginning `said`, nothing sent; then, the
    limit gone, the same command loads them once. Returns the stopped load's stderr."""
    write_entries(tmp_path / "a.csv", 30)
    sandbox = spawn_sandbox()
    try:
        full = limited(tmp_path, "load", "economic", "a.csv", "--base-url", sandbox.url, "--no-progress")
        assert full.returncode == 4, (full.stdout, full.stderr)
        assert full.stderr.startswith(said), full.stderr  # no usage error
        assert sandbox.entries() == 0
        again = limited(tmp_path, "load", "economic", "a.csv", "--base-url", sandbox.url, "-q", limit=None)
        assert again.returncode == 0, (again.stdout, again.stderr)
        assert sandbox.entries() == 60
        return full.stderr
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)


def test_a_loads_ledger_refused_its_writes_stops_the_load_resumable(tmp_path: Path) -> None:
    stopped_then_loaded(tmp_path, "bulkload: cannot create the ledger ")


def test_a_record_of_loads_that_cannot_grow_stops_the_load_resumable(tmp_path: Path) -> None:
    """Tester t74c: the record of loads on a full disk (bulkload's cache) refused the load, exit 2, saying to set
    XDG_CACHE_HOME to another folder, which would leave the record of earlier loads behind. It stops, exit 4: free
    space there, then the same command. The record is made larger than a child may write a file, so that the entry
    of this load cannot be added."""
    record = Path(os.environ["XDG_CACHE_HOME"]) / "bulkload" / "loads.jsonl"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("\n" * (LIMIT + 1))  # no entry, past the limit
    said = stopped_then_loaded(tmp_path, f"bulkload: cannot write bulkload's cache {record.parent} ")
    assert "Free space there (or fix what refuses the writes), then run the command again" in said, said
