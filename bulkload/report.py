"""What a run tells its user: the JSON report, the rejects and in-doubt files, the summary, the exit code."""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table

from .ledger import RowOutcome
from .pipeline import EXIT_MISMATCH, EXIT_OK, EXIT_ROWS, EXIT_STOPPED


def _file_name(files: Sequence[str], idx: int) -> str:
    return files[idx] if 0 <= idx < len(files) else str(idx)


def write_rejects(path: str, rows: Iterable[RowOutcome], files: Sequence[str]) -> int:
    """CSV: file, line, field, reason, original (the row's values as JSON). Written whole, even when empty."""
    n = 0
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "field", "reason", "original"])
        for row in rows:
            writer.writerow([_file_name(files, row.file_idx), row.line_no, row.field, row.reason, row.original])
            n += 1
    os.replace(tmp, path)
    return n


def write_in_doubt(path: str, rows: Iterable[tuple[int, int, str, str]], files: Sequence[str]) -> int:
    """CSV of rows whose call may or may not have arrived: file, line, chunk key, last error."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        if os.path.exists(path):
            os.remove(path)
        return 0
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", "line", "chunk_key", "last_error"])
        for file_idx, line, key, error in [first, *rows]:
            writer.writerow([_file_name(files, file_idx), line, key, error])
            n += 1
    return n


def write_report(path: str, report: dict[str, Any]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def exit_code(report: dict[str, Any]) -> int:
    if report["status"] == "stopped":
        return int(report.get("stop_code") or EXIT_STOPPED)
    rec = report.get("reconcile")
    if rec is not None and not rec.get("ok", False):
        return EXIT_MISMATCH
    if report["rejected"] or report["in_doubt"] or report["skipped"]:
        return EXIT_ROWS
    return EXIT_OK


def print_summary(report: dict[str, Any], stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    console = Console(file=out, highlight=False, soft_wrap=True)
    table = Table(title=f"bulkload {report['target']}: {report['status']}", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    for key, label in [
        ("rows_read", "rows read"), ("loaded", "loaded"), ("rejected", "rejected"),
        ("in_doubt", "in doubt"), ("skipped", "skipped"), ("requests", "requests"),
        ("retries", "retries"), ("rate_limited", "429 answers"),
    ]:
        table.add_row(label, f"{report.get(key, 0):,}")
    table.add_row("elapsed", f"{report['elapsed_s']:.1f} s")
    table.add_row("rows/s", f"{report.get('rows_per_s', 0):,.0f}")
    rec = report.get("reconcile")
    if rec is not None:
        table.add_row("reconciled", "yes" if rec["ok"] else "NO: mismatch")
        table.add_row("expected / remote count", f"{rec['expected_count']:,} / {rec['remote_count']:,}")
    console.print(table)
    if report.get("stop_reason"):
        console.print(f"stopped: {report['stop_reason']}")
    if rec is not None and not rec["ok"]:
        _print_mismatch(console, rec)
    if report["rejected"]:
        console.print(f"rejected rows and reasons: {report['rejects_file']}")
    if report["in_doubt"]:
        console.print(f"rows in doubt: {report.get('in_doubt_file')}")
    console.print(f"ledger: {report['ledger']}")


def _print_mismatch(console: Console, rec: dict[str, Any]) -> None:
    for scope, c in rec["scopes"].items():
        if c["expected"] != c["remote"]:
            console.print(
                f"{rec['scope_name']} {scope}: expected {c['expected']:,} entries "
                f"({c['before']:,} before + {c['loaded']:,} loaded), the API holds {c['remote']:,}"
            )
    if rec["expected_totals"] != rec["remote_totals"]:
        console.print(f"control totals differ: expected {rec['expected_totals']}, remote {rec['remote_totals']}")
    for item in rec["missing"][:10]:
        console.print(f"missing: id {item['id']} from {item['file']} line {item['line']}")
    if rec["missing_count"] > 10:
        console.print(f"... {rec['missing_count'] - 10:,} more missing (see the report)")
    for item in rec["duplicates"][:10]:
        console.print(f"not created by this run: id {item['id']} in {rec['scope_name']} {item['scope']}")
    if rec["duplicates_count"] > 10:
        console.print(f"... {rec['duplicates_count'] - 10:,} more (see the report)")
