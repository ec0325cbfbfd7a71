"""An input of a long name: the outputs named after it (FILE.rejects.csv, FILE.success.csv) come near or past the
255 bytes a file name may be. Found by a tester: a 240-byte input's run loaded every row, then stopped at its end,
exit 4, because the temporary file its rejects file is written through (".NAME.XXXXXXXX.tmp", 14 bytes longer) could
not be made (File name too long), and every resume stopped the same; a name past 255 bytes itself ended the load as
cut short (exit 4) with a bare `[Errno 36]`. Against the e-conomic sandbox in a process of its own, on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

from conftest import run_bulkload, spawn_sandbox, write_entries


def test_outputs_of_a_long_named_input_are_written_and_one_too_long_is_refused_before_the_first_call(
    tmp_path: Path,
) -> None:
    long = "a" * 236 + ".csv"  # its rejects file's name, 252 bytes, may be; its temporary file's, 266, may not
    expected = write_entries(tmp_path / long, 50, bad_every=10)
    too_long = "b" * 246 + ".csv"  # its rejects file's name, 262 bytes, may not be
    write_entries(tmp_path / too_long, 5)
    sandbox = spawn_sandbox()
    try:
        done = run_bulkload(tmp_path, "load", "economic", long, "--base-url", sandbox.url, "--ledger", "a.sqlite", "-q")
        assert done.returncode == 1, done.stdout + done.stderr  # some rejected: the run complete
        assert f"complete: {expected['rows']:,} loaded, {expected['bad']} rejected" in done.stdout, done.stdout
        assert len((tmp_path / f"{long}.rejects.csv").read_text().splitlines()) == 1 + expected["bad"]
        assert len((tmp_path / f"{long}.success.csv").read_text().splitlines()) == 1 + expected["rows"]
        refused = run_bulkload(
            tmp_path, "load", "economic", too_long, "--base-url", sandbox.url, "--ledger", "b.sqlite", "-q"
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        said = refused.stderr
        assert f"cannot write --rejects {too_long}.rejects.csv: its name is 262 bytes, longer than the 255" in said
        assert said.rstrip().endswith("nothing was sent"), said
        assert not (tmp_path / "b.sqlite").exists()
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
