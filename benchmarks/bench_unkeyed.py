"""APIs without idempotency keys (Visma Core, PayorCRM): 20,000-row runs with faults.

    python -m benchmarks.bench_unkeyed [--rows 20000]

Each target loads a generated file of --rows rows against its sandbox with 5xx, commit-then-drop and slow
answers; the table shows where every row went and, from the sandbox's own record (a test-only read-back the
loader never uses), how many records were created twice (must be 0). Visma Core's pace under its limit is
scenario 4 of the suite (`python -m benchmarks`).
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.common import bulkload as load
from benchmarks.common import data_file, sandbox

FAULTS = ["--fault-rate", "0.03", "--drop-rate", "0.03", "--slow-rate", "0.01", "--slow-ms", "300", "--seed", "5"]


def in_doubt_calls(ledger: Path) -> int:
    with sqlite3.connect(ledger) as db:
        return int(db.execute("SELECT COUNT(*) FROM chunks WHERE state IN ('in_doubt', 'sending')").fetchone()[0])


def doubled(records: list[dict[str, Any]], key: str) -> int:
    return sum(n - 1 for n in Counter(r[key] for r in records).values() if n > 1)


def faults(workdir: Path, rows: int) -> list[tuple[str, dict[str, Any], int]]:
    out = []
    with sandbox("visma-core", *FAULTS) as box:
        r = load(
            workdir,
            "visma",
            "visma-core",
            str(data_file("visma-core", rows, bad_every=500)),
            "--base-url",
            box.url,
            "--concurrency",
            "16",
        )
        # one call creates at most one entry: more entries than calls that completed or are in doubt means a
        # call was carried out twice
        calls = r["reconcile"]["ids_returned"] + in_doubt_calls(workdir / "visma.sqlite")
        out.append(("visma-core entries", r, max(0, len(box.get("entries")) - calls)))
    customers = max(1, rows // 10)
    with sandbox("payorcrm", *FAULTS) as box:
        r = load(
            workdir,
            "payor",
            "payorcrm",
            "--customers",
            str(data_file("payorcrm-customers", customers, bad_every=500)),
            "--invoices",
            str(data_file("payorcrm-invoices", rows, bad_every=500, customers=customers, customers_bad_every=500)),
            "--amount-unit",
            "major",
            "--base-url",
            box.url,
            "--batch-size",
            "50",
        )
        out.append(("payorcrm customers + invoices", r, doubled(box.get("invoices"), "invoiceNumber")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulkload-bench-") as tmp:
        runs = faults(Path(tmp), args.rows)
    print(
        f"\n| {args.rows:,} rows with faults (3 % 5xx, 3 % commit-then-drop, 1 % slow) | read | loaded | rejected "
        "| in doubt | skipped | requests | created twice | wall |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r, twice in runs:
        print(
            f"| {name} | {r['rows_read']:,} | {r['loaded']:,} | {r['rejected']:,} | {r['in_doubt']:,} | "
            f"{r['skipped']:,} | {r['requests']:,} | {twice} | {r['elapsed_s']:.1f} s |"
        )


if __name__ == "__main__":
    main()
