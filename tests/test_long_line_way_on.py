"""A line over 1 MiB is rejected, and the rejects file holds only its start (`… [truncated, N bytes]`): loaded back
from there as written, it is rejected again. The summary, -q's line and the report say so, naming the line, and
the way on they give works: the line fixed in the input and put in its row's place, the rejects file loads.
(Tester t34a: the summary said only "fix them in place, then load them", which rejected the row again.)"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from conftest import SandboxProcess, run_bulkload

HEADER = "entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,contraAccountNumber,text"
LONG = "5,1,9001,2026-11-01,10.00,DKK,5600,,{text}"


def test_a_line_over_1_mib_is_to_be_fixed_in_the_input_and_that_way_on_loads_it(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    data = tmp_path / "huge.csv"
    data.write_text(
        f"{HEADER}\n{LONG.format(text='x' * 1_200_000)}\n5,1,9001,2026-11-01,-10.00,DKK,2750,,ok\n"
        "5,1,9002,2026-11-01,10.00,DKK,5600,,ok\n5,1,9002,2026-11-01,-10.00,DKK,2750,,ok\n"
    )
    report = tmp_path / "report.json"
    base = ("--base-url", sandbox_process.url)
    done = run_bulkload(tmp_path, "load", "economic", str(data), *base, "--no-progress", "--report", str(report))
    assert done.returncode == 1, done.stdout + done.stderr
    said = " ".join(done.stdout.split())  # the summary's lines, as rich wraps them
    assert (
        f"the rejects file holds only the start of line 2 of {data} (`… [truncated, N bytes]`: too long to be held "
        "whole), which does not load back: fix that line in the input itself, then put it, fixed, in place of its "
        "row's cells in the rejects file (those after file, line, field and reason) before loading it"
    ) in said, done.stdout
    assert json.loads(report.read_text())["rejects_cut"] == [{"file": str(data), "line": 2}]

    # the way on, as said: line 2 shortened in the input, and put in its row's place (after its first four cells)
    rejects = tmp_path / "huge.csv.rejects.csv"
    with rejects.open(newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[1][:2] == [str(data), "2"] and rows[1][4].endswith("… [truncated, 1200036 bytes]"), rows[1][:4]
    rows[1] = rows[1][:4] + LONG.format(text="shortened").split(",")
    with rejects.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    again = run_bulkload(tmp_path, "-q", "load", "economic", str(rejects), *base)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "2 loaded" in again.stdout, again.stdout


def test_the_quiet_line_names_the_line_to_fix_in_the_input(tmp_path: Path, sandbox_process: SandboxProcess) -> None:
    data = tmp_path / "huge.csv"
    data.write_text(
        f"{HEADER}\n5,1,9002,2026-11-01,10.00,DKK,5600,,ok\n5,1,9002,2026-11-01,-10.00,DKK,2750,,ok\n"
        f"{LONG.format(text='y' * 1_100_000)}\n5,1,9001,2026-11-01,-10.00,DKK,2750,,ok\n"
    )
    done = run_bulkload(tmp_path, "-q", "load", "economic", str(data), "--base-url", sandbox_process.url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"the rejects file holds only the start of line 4 of {data} (truncated): fix it in the input" in (
        done.stdout
    ), done.stdout


def test_rows_the_rejects_file_holds_whole_say_nothing_of_it(tmp_path: Path, sandbox_process: SandboxProcess) -> None:
    data = tmp_path / "short.csv"
    data.write_text(f"{HEADER}\n5,1,9001,2026-02-30,10.00,DKK,5600,,ok\n5,1,9001,2026-02-30,-10.00,DKK,2750,,ok\n")
    report = tmp_path / "report.json"
    done = run_bulkload(
        tmp_path, "load", "economic", str(data), "--base-url", sandbox_process.url, "--report", str(report)
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fix them in place" in done.stdout and "holds only the start" not in done.stdout, done.stdout
    assert "rejects_cut" not in json.loads(report.read_text())
