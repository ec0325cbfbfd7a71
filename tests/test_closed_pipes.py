"""A reader that stops reading (`bulkload load … | head -1`): the command goes on and ends with its own exit code.

Found: a complete load whose summary went to `| true` exited 1 without a word (rich's Console exits 1 at a broken
pipe), which a script reads as "rows rejected or in doubt"; a plain print there ended it as cut short (exit 4)."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path

from conftest import CREDS, bulkload_cmd, child_env, run_bulkload, spawn_sandbox, write_entries

from bulkload.closed_pipes import KeptStream


def _reader_gone() -> int:
    """The write end of a pipe whose read end is closed: each write to it is EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def test_a_stream_whose_reader_is_gone_takes_every_write() -> None:
    fd = _reader_gone()
    stream = io.TextIOWrapper(io.BufferedWriter(io.FileIO(fd, "w")), write_through=True)
    kept = KeptStream(stream)
    assert kept.write("summary\n") == len("summary\n")
    kept.write("more\n")
    kept.flush()
    assert os.path.samefile(f"/proc/self/fd/{fd}", os.devnull)  # from there on, /dev/null
    stream.close()


def test_a_load_whose_output_nobody_reads_ends_complete_exit_0(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 200)
    sandbox = spawn_sandbox()
    fd = _reader_gone()
    try:
        ledger = tmp_path / "run.sqlite"
        cmd = bulkload_cmd("load", "economic", str(data), "--base-url", sandbox.url, "--ledger", str(ledger))
        code = subprocess.run(cmd, env=child_env(CREDS), cwd=tmp_path, stdout=fd, stderr=fd, timeout=120).returncode
        assert code == 0
        # the load was not cut short: a reconcile says every row is there
        again = run_bulkload(tmp_path, "reconcile", "--ledger", str(ledger), "-q")
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        os.close(fd)
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
