"""Found by tester t23c: a load killed (kill -9) mid-run, then a copy of its file under another name loaded into the
same place, is refused "… That run has not finished (running): continue it with `bulkload resume …`". No process
runs it: it was killed. The refusal of a changed copy of the same file says "stopped without a word: killed?" for
the same run (bulkload/errors.py); a message must tell the truth."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import spawn_sandbox, write_entries

from bulkload.cli import main


def test_a_killed_run_is_not_said_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"ECONOMIC_APP_SECRET_TOKEN": "app", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    write_entries(tmp_path / "a.csv", 100)
    sandbox = spawn_sandbox()
    try:
        ledger = str(tmp_path / "r1.sqlite")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bulkload",
                "load",
                "economic",
                str(tmp_path / "a.csv"),
                "--base-url",
                sandbox.url,
                "--ledger",
                ledger,
                "--batch-size",
                "10",
                "--rate",
                "4",
                "--no-progress",
                "-q",
            ],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(2.5)  # a few calls made, most not
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        shutil.copy(tmp_path / "a.csv", tmp_path / "copy.csv")
        capsys.readouterr()
        code = main(
            [
                "load",
                "economic",
                str(tmp_path / "copy.csv"),
                "--base-url",
                sandbox.url,
                "--ledger",
                str(tmp_path / "r2.sqlite"),
                "--no-progress",
            ]
        )
        said = capsys.readouterr().err
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    assert code == 2 and "already loaded" in said, said
    assert "(running)" not in said, said
