"""A command started with stdout or stderr closed (`bulkload load … >&-`, `2>&-`, a daemon's or a cron wrapper's):
it runs to its end and exits with its own code; what it would have printed is dropped (its files say it all).

Found: Python makes the stream of a closed descriptor None, so with stderr closed a load ended at once, exit 120,
nothing done and nothing said; with stdout closed it loaded every row, then ended as a bug (exit 120: `'NoneType'
object has no attribute 'write'`) at its summary, telling to resume a run that was complete."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import CREDS, bulkload_cmd, child_env, run_bulkload, spawn_sandbox, write_entries


@pytest.mark.parametrize("closed", [(1,), (2,), (0, 1, 2)], ids=["stdout", "stderr", "all"])
def test_a_load_with_its_output_closed_ends_complete_exit_0(tmp_path: Path, closed: tuple[int, ...]) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 200)
    report = tmp_path / "report.json"
    sandbox = spawn_sandbox()
    try:
        ledger = tmp_path / "run.sqlite"
        cmd = bulkload_cmd(
            "load", "economic", str(data), "--base-url", sandbox.url, "--ledger", str(ledger), "--report", str(report)
        )

        def close_them() -> None:
            for fd in closed:
                os.close(fd)

        code = subprocess.run(cmd, env=child_env(CREDS), cwd=tmp_path, preexec_fn=close_them, timeout=120).returncode
        assert code == 0
        assert '"status": "complete"' in report.read_text()
        again = run_bulkload(tmp_path, "reconcile", "--ledger", str(ledger), "-q")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "reconciled: " in again.stdout and " 0 in doubt" in again.stdout
        assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").rglob("errors/*"))
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
