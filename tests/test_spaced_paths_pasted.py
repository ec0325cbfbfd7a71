"""An input whose path holds a space and a letter outside ASCII (`my file ø.csv`): every command a load prints to
paste names its ledger as a shell reads it back. Found by a tester: the note under a load's summary said
`bulkload reconcile --ledger /…/my file ø.csv.ledger.sqlite`, which pasted runs `bulkload reconcile --ledger /…/my`
with three stray arguments (exit 2). Against the e-conomic sandbox in a process of its own, on 127.0.0.1."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from conftest import run_bulkload, spawn_sandbox, write_entries

from bulkload.errors import command_on


def test_every_command_a_load_of_a_spaced_path_prints_names_its_ledger_as_one_word(tmp_path: Path) -> None:
    folder = tmp_path / "month end"
    folder.mkdir()
    write_entries(folder / "my file ø.csv", 20)
    sandbox = spawn_sandbox()
    try:
        done = run_bulkload(folder, "load", "economic", "my file ø.csv", "--base-url", sandbox.url, "--no-progress")
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    assert done.returncode == 0, done.stdout + done.stderr
    ledger = folder / "my file ø.csv.ledger.sqlite"
    commands = re.findall(r"`(bulkload [^`]*--ledger [^`]*)`", done.stdout)
    assert commands, done.stdout  # the walk behind the load's note names `bulkload reconcile --ledger …`
    for command in commands:
        words = shlex.split(command)
        assert Path(words[words.index("--ledger") + 1]) == ledger, command
    assert command_on("reconcile", ledger) in done.stdout
