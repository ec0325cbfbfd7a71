"""Hostile files in bounded memory and time: a line over the cap is rejected with a truncated copy and its
length (its voucher with it), blank-line runs cost no Python work per line, and a gzip bomb is refused before
anything is sent."""

from __future__ import annotations

import csv
import gzip
import json
import sqlite3
import sys
import tracemalloc
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from conftest import CREDS, SandboxProcess

from benchmarks.common import measure
from bulkload.cli import main
from bulkload.errors import ConfigError, ExpansionRefused
from bulkload.lines import MAX_LINE_BYTES, RATIO_AFTER_BYTES
from bulkload.sources import BadRow, Source

LONG = MAX_LINE_BYTES + 500_000  # characters of the long text: the line is over the cap whatever else it holds


def entry(voucher: int, amount: str, text: str = "ok") -> dict[str, Any]:
    return {
        "entryTypeNumber": 5,
        "journalNumber": 1,
        "voucherNumber": voucher,
        "date": "2026-11-01",
        "amount": amount,
        "currency": "DKK",
        "accountNumber": 1010,
        "text": text,
    }


def write_jsonl(path: Path, long_at: int) -> int:
    """Four two-line vouchers (lines 1-8); line `long_at` gets a text over the cap. Returns that line's length."""
    size = 0
    with open(path, "w") as f:
        for i in range(8):
            voucher, amount = 100 + i // 2, "10.00" if i % 2 == 0 else "-10.00"
            line = json.dumps(entry(voucher, amount, "x" * LONG if i + 1 == long_at else "ok"))
            size = len(line) if i + 1 == long_at else size
            f.write(line + "\n")
    return size


def rejects(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_a_line_over_the_cap_is_rejected_with_a_truncated_copy_and_its_voucher_whole(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    data = tmp_path / "e.jsonl"
    length = write_jsonl(data, long_at=3)
    ledger, out = tmp_path / "run.sqlite", tmp_path / "rejects.csv"
    code = main(
        [
            "load",
            "economic",
            str(data),
            "--base-url",
            sandbox_process.url,
            "--ledger",
            str(ledger),
            "--rejects",
            str(out),
            "--report",
            str(tmp_path / "r.json"),
            "--no-progress",
        ]
    )
    report = json.loads((tmp_path / "r.json").read_text())
    assert code == 1 and (report["loaded"], report["rejected"]) == (6, 2), report
    assert report["reconcile"]["ok"] and report["reconcile"]["remote_count"] == 6  # what the server holds
    own, neighbour = rejects(out)
    assert (own["line"], neighbour["line"]) == ("3", "4")
    assert own["reason"] == f"line 3 is {length:,} bytes, more than the 1 MiB a record may be"
    # the voucher goes whole, its other line naming the one that failed
    assert neighbour["reason"] == f"voucher 101 (journal 1) rejected: {own['reason']}"
    copy = own["entryTypeNumber"]  # a line that is no object whole: its text in the first column
    assert copy.endswith(f"… [truncated, {length} bytes]") and len(copy) < 3000
    assert out.stat().st_size < 10_000
    with sqlite3.connect(ledger) as db:
        (reason,) = db.execute("SELECT reason FROM rows WHERE line_no = 3").fetchone()
        assert reason == own["reason"]
        widest = max(
            db.execute(f"SELECT MAX(LENGTH(CAST({column} AS BLOB))) FROM {table}").fetchone()[0] or 0
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
            for (_, column, *_rest) in db.execute(f"PRAGMA table_info({table})").fetchall()
        )
    assert widest < 100_000, "no ledger cell holds the long line"


def test_a_csv_line_over_the_cap_inside_a_quoted_cell_takes_its_record_and_voucher_only(tmp_path: Path) -> None:
    """The long line is the second line of a quoted cell: the record (lines 4-6) is rejected, and the rows after
    its end are read as rows again, with their own line numbers."""
    data = tmp_path / "e.csv"
    with open(data, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(entry(0, "0")))
        w.writerow(entry(100, "10.00").values())
        w.writerow(entry(100, "-10.00").values())
        w.writerow(entry(101, "10.00", 'two\n"quoted" ' + "y" * LONG + "\nlines").values())
        w.writerow(entry(101, "-10.00").values())
        w.writerow(entry(102, "10.00").values())
        w.writerow(entry(102, "-10.00").values())
    rows = list(Source(data))
    assert [r.line_no if isinstance(r, BadRow) else r[0] for r in rows] == [2, 3, 4, 7, 8, 9]
    bad = rows[2]
    assert isinstance(bad, BadRow) and bad.partial is not None and bad.partial["voucherNumber"] == "101"
    assert bad.reason.startswith("line 4 starts a record whose line 5 is ") and "more than the 1 MiB" in bad.reason
    assert bad.raw.endswith(" bytes]") and len(bad.raw) < 3000
    out = tmp_path / "r.csv"
    assert main(["load", "economic", str(data), "--dry-run", "--rejects", str(out), "--no-progress"]) == 1
    own, neighbour = rejects(tmp_path / "r.dry-run.csv")  # the dry run's own file, never the real run's
    assert (own["line"], own["reason"]) == ("4", bad.reason) and own["entryTypeNumber"] == bad.raw
    assert (neighbour["line"], neighbour["voucherNumber"]) == ("7", "101")
    assert neighbour["reason"] == f"voucher 101 (journal 1) rejected: {bad.reason}"


@contextmanager
def python_work_at_most(calls: int, lines: int | None) -> Iterator[list[int]]:
    """Fail once more than `calls` Python frames (a generator resumed counts) have started in bulkload's modules,
    or (`lines`) more than that many Python lines have run in them; C work (a readline, a peek) is not counted."""
    count = [0, 0]

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            count[1] += 1
            if lines is not None and count[1] > lines:
                raise AssertionError(f"more than {lines} Python lines in bulkload")
        return local

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        if event != "call" or not frame.f_globals.get("__name__", "").startswith("bulkload"):
            return None
        count[0] += 1
        if count[0] > calls:
            raise AssertionError(f"more than {calls} Python calls in bulkload")
        return local if lines is not None else None

    sys.settrace(tracer)
    try:
        yield count
    finally:
        sys.settrace(None)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_run_of_blank_lines_costs_no_python_work_per_line(tmp_path: Path, fmt: str) -> None:
    """The run is passed over a block at a time: a few Python lines per 64 KiB, no csv row or call per line."""
    blank = 5_000_000
    data = tmp_path / f"e.{fmt}"
    with open(data, "wb") as f:
        first, last = json.dumps(entry(100, "10.00")), json.dumps(entry(100, "-10.00"))
        if fmt == "csv":
            first, last = "voucherNumber,amount\n100,10.00", "100,-10.00"
        f.write(first.encode() + b"\n" + b"\n" * blank + b"  \r\n" + last.encode() + b"\n")
    with python_work_at_most(2_000, 20_000) as work:
        rows = list(Source(data))
    lines = [r[0] for r in rows if not isinstance(r, BadRow)]
    offset = 1 if fmt == "csv" else 0  # the header
    assert lines == [1 + offset, blank + 3 + offset], rows
    assert work[0] > 0  # the tracer saw the reading


@pytest.mark.parametrize("header", [True, False])
def test_blank_lines_before_a_csv_header_cost_no_python_work_per_line(tmp_path: Path, header: bool) -> None:
    """Blank lines before the header (or a file of nothing else) are passed over a block at a time, never held:
    a plain 300 MB file of newlines took 151 s and 2.4 GB to be called empty."""
    blank = 5_000_000
    data = tmp_path / "e.csv"
    with open(data, "wb") as f:
        f.write(b"\n" * blank + b"  \r\n" + (b"sep=;\nvoucherNumber;amount\n100;10.00\n" if header else b""))
    with python_work_at_most(2_000, 20_000):
        if header:
            rows = list(Source(data))
        else:
            with pytest.raises(ConfigError, match="the file is empty"):
                list(Source(data))
    if header:  # the row's line counts every blank line, the sep= line and the header
        assert [r[0] for r in rows if not isinstance(r, BadRow)] == [blank + 4], rows


def test_a_gzip_bomb_is_refused_before_anything_is_sent(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    data = tmp_path / "e.jsonl.gz"
    with gzip.open(data, "wb", compresslevel=9) as f:
        f.write(json.dumps(entry(100, "10.00")).encode() + b"\n")
        for _ in range(50):  # 50 MB of blank lines, about 50 KB compressed
            f.write(b"\n" * 1_000_000)
        f.write(json.dumps(entry(100, "-10.00")).encode() + b"\n")
    with pytest.raises(ExpansionRefused) as refused:
        list(Source(data))
    message = str(refused.value)
    assert str(data) in message and "gzip bomb" in message and "decompress it" in message
    read = int(message.split("expand to more than ")[1].split(", over")[0].replace(",", ""))
    assert RATIO_AFTER_BYTES < read < RATIO_AFTER_BYTES + (1 << 20), "refused as soon as the ratio is judged"
    code = main(
        [
            "load",
            "economic",
            str(data),
            "--base-url",
            sandbox_process.url,
            "--ledger",
            str(tmp_path / "run.sqlite"),
            "--no-progress",
        ]
    )
    assert code == 2 and "gzip bomb" in capsys.readouterr().err
    with urllib.request.urlopen(f"{sandbox_process.root}/_sandbox/stats", timeout=10) as resp:
        stats = json.loads(resp.read())
    assert stats["entries"] == 0 and stats["requests"] == 0, stats


def test_a_small_gzip_that_compresses_very_well_is_read(tmp_path: Path) -> None:
    """The ratio is judged only past RATIO_AFTER_BYTES expanded: a small file of repeated rows is no bomb."""
    data = tmp_path / "e.jsonl.gz"
    with gzip.open(data, "wb", compresslevel=9) as f:
        f.write(json.dumps(entry(100, "10.00")).encode() + b"\n" + b"\n" * 1_000_000)
    assert [r[0] for r in Source(data)] == [1]


@pytest.mark.slow
def test_a_load_of_a_file_with_a_60_mb_line_stays_under_150_mb(tmp_path: Path) -> None:
    """The whole `bulkload load` process tree (loader and planner child), sampled from /proc: before, a 100 MB
    line cost about 900 MB."""
    data = tmp_path / "e.jsonl"
    with open(data, "w") as f:
        for voucher in range(1, 101):
            text = "x" * 60_000_000 if voucher == 50 else "ok"
            f.write(json.dumps(entry(voucher, "10.00", text)) + "\n" + json.dumps(entry(voucher, "-10.00")) + "\n")
    run = measure(
        [
            sys.executable,
            "-m",
            "bulkload",
            "load",
            "economic",
            str(data),
            "--dry-run",
            "--no-progress",
            "--report",
            str(tmp_path / "r.json"),
        ],
        env=CREDS,
    )
    report = json.loads((tmp_path / "r.dry-run.json").read_text())  # a dry run writes its own report
    assert run["exit"] == 1 and (report["rows_read"], report["rejected"]) == (200, 2)
    assert run["peak_rss_mb"] < 150, run


def test_the_whole_file_inspection_reads_raw_lines_with_the_cap_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A UTF-8 file given an 8-bit encoding is refused from its raw bytes, read line by line (profile.py): a 20 MB
    line is read up to the cap, not whole (before, each raw pass held it: a read of a line allocated its size)."""
    data = tmp_path / "e.jsonl"
    with open(data, "w", encoding="utf-8") as f:
        f.write(json.dumps(entry(100, "10.00", "Kørsel"), ensure_ascii=False) + "\n")
        f.write(json.dumps(entry(100, "-10.00", "x" * 20_000_000)) + "\n")
    tracemalloc.start()
    try:
        code = main(["load", "economic", str(data), "--encoding", "cp1252", "--dry-run", "--no-progress"])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 2 and "the file is UTF-8" in capsys.readouterr().err
    assert peak < 12 * MAX_LINE_BYTES, f"peak {peak:,} bytes"
