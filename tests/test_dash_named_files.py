"""An input whose name begins with "-" (`-lead.csv`, loaded as `bulkload load economic -- -lead.csv`): the commands
the run prints to paste run as printed. Found by a tester: the rejects' `bulkload load economic -lead.csv.rejects.csv`
was refused pasted (`unrecognized arguments: -lead.csv.rejects.csv`, exit 2): a path first in `-` is an option to
the command line. Against the e-conomic sandbox in a process of its own, on 127.0.0.1."""

from __future__ import annotations

import json
import shlex
import subprocess
from pathlib import Path

from conftest import CREDS, bulkload_cmd, child_env, run_bulkload, spawn_sandbox, write_entries

from bulkload.errors import command_on


def test_the_rejects_command_of_an_input_named_with_a_leading_dash_runs_pasted(tmp_path: Path) -> None:
    write_entries(tmp_path / "-lead.csv", 40, bad_every=10)
    sandbox = spawn_sandbox()
    try:
        first = run_bulkload(
            tmp_path, "load", "economic", "--base-url", sandbox.url, "--report", "r.json", "-q", "--", "-lead.csv"
        )
        assert first.returncode == 1, first.stdout + first.stderr  # 4 rejected
        command = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["rejects_load"]
        assert command == "bulkload load economic ./-lead.csv.rejects.csv", command
        args = shlex.split(command)[1:]  # as a shell reads it back
        again = subprocess.run(
            [*bulkload_cmd(*args), "--base-url", sandbox.url, "-q"],
            env=child_env(CREDS),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        # read as a rejects file (the 4 rows rejected again, as they are), not refused as an unknown option
        assert again.returncode == 1 and "0 loaded, 4 rejected" in again.stdout, again.stdout + again.stderr
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)


def test_a_ledger_path_with_a_leading_dash_is_pasted_as_a_path() -> None:
    assert command_on("resume", "-run.sqlite") == "bulkload resume --ledger ./-run.sqlite"
    assert command_on("resume", "-my run.sqlite") == "bulkload resume --ledger './-my run.sqlite'"
    assert command_on("resume", "/abs/-run.sqlite") == "bulkload resume --ledger /abs/-run.sqlite"
