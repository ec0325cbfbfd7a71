"""APIs without idempotency keys (Visma Core, PayorCRM): pace under the limit, and 20,000-row runs with
faults, measured in one run.

    python -m benchmarks.bench_unkeyed [--rows 20000]

1. Visma Core pace: sandbox with 50 ms latency and a 100 requests/s limit, one entry a call; bulkload with
   --rate 100: achieved requests/s over the load (goal ≥ 95 % of the limit) and the 429s it met.
2. Faults: each target loads a generated file of --rows rows against its sandbox with 5xx, commit-then-drop
   and slow answers; the table shows where every row went and, from the sandbox's own record (a test-only
   read-back the loader never uses), how many records were created twice (must be 0).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.generate_data import write_file

DATA = Path(__file__).parent / "data"
ENV = {"VISMA_CORE_TOKEN": "bench-token", "PAYORCRM_API_KEY": "bench-key", "PAYORCRM_API_SECRET": "bench-secret"}
FAULTS = ["--fault-rate", "0.03", "--drop-rate", "0.03", "--slow-rate", "0.01", "--slow-ms", "300", "--seed", "5"]


def data(kind: str, rows: int, **kw: Any) -> Path:
    path = DATA / f"{kind}-{rows}.csv"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        write_file(str(path), rows=rows, fmt="csv", seed=1, kind=kind, **kw)
    return path


def sandbox(target: str, *flags: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "bulkload", "sandbox", target, "--port", "0", *flags],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().rsplit(" ", 1)[1].strip()


def read_back(url: str, what: str) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{url}/_sandbox/{what}", timeout=60) as resp:
        body: list[dict[str, Any]] = json.loads(resp.read())
        return body


def load(workdir: Path, name: str, *args: str) -> dict[str, Any]:
    report = workdir / f"{name}.json"
    subprocess.run(
        [sys.executable, "-m", "bulkload", "load", *args, "--ledger", str(workdir / f"{name}.sqlite"),
         "--rejects", str(workdir / f"{name}.rejects.csv"), "--report", str(report), "--no-progress"],
        env={**os.environ, **ENV}, stdout=subprocess.DEVNULL, check=False,
    )
    out: dict[str, Any] = json.loads(report.read_text())
    return out


def pace(workdir: Path, rows: int) -> dict[str, Any]:
    proc, url = sandbox("visma-core", "--latency-ms", "50", "--rate-limit", "100")
    try:
        started = time.perf_counter()
        r = load(workdir, "pace", "visma-core", str(data("visma-core", rows)), "--base-url", url,
                 "--rate", "100", "--concurrency", "16")
        r["wall_s"] = time.perf_counter() - started
        with urllib.request.urlopen(f"{url}/_sandbox/stats", timeout=10) as resp:
            r["sandbox"] = json.loads(resp.read())
        return r
    finally:
        proc.kill()
        proc.wait()


def in_doubt_calls(ledger: Path) -> int:
    with sqlite3.connect(ledger) as db:
        return int(db.execute("SELECT COUNT(*) FROM chunks WHERE state IN ('in_doubt', 'sending')").fetchone()[0])


def doubled(records: list[dict[str, Any]], key: str) -> int:
    return sum(n - 1 for n in Counter(r[key] for r in records).values() if n > 1)


def faults(workdir: Path, rows: int) -> list[tuple[str, dict[str, Any], int]]:
    out = []
    proc, url = sandbox("visma-core", *FAULTS)
    try:
        r = load(workdir, "visma", "visma-core", str(data("visma-core", rows, bad_every=500)), "--base-url", url,
                 "--concurrency", "16")
        # one call creates at most one entry: more entries than calls that completed or are in doubt means a
        # call was carried out twice
        calls = r["reconcile"]["ids_returned"] + in_doubt_calls(workdir / "visma.sqlite")
        out.append(("visma-core entries", r, max(0, len(read_back(url, "entries")) - calls)))
    finally:
        proc.kill()
        proc.wait()
    customers = max(1, rows // 10)
    proc, url = sandbox("payorcrm", *FAULTS)
    try:
        r = load(workdir, "payor", "payorcrm", "--customers", str(data("payorcrm-customers", customers, bad_every=500)),
                 "--invoices", str(data("payorcrm-invoices", rows, bad_every=500, customers=customers,
                                        customers_bad_every=500)),
                 "--amount-unit", "major", "--base-url", url, "--batch-size", "50")
        out.append(("payorcrm customers + invoices", r, doubled(read_back(url, "invoices"), "invoiceNumber")))
    finally:
        proc.kill()
        proc.wait()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--pace-rows", type=int, default=3_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bulkload-bench-") as tmp:
        p = pace(Path(tmp), args.pace_rows)
        runs = faults(Path(tmp), args.rows)
    per_s = p["requests"] / p["load_s"]
    print("\n| Visma Core, 50 ms latency, limit 100 requests/s | value |")
    print("|---|---:|")
    print(f"| entries created ({args.pace_rows:,} rows, orders merged) "
          f"| {p['loaded']:,} rows in {p['requests']:,} requests |")
    print(f"| achieved requests/s over the load phase | {per_s:.1f} ({per_s / 100:.0%} of the limit) |")
    print(f"| 429 answers | {p['rate_limited']} |")
    print(f"| most requests the sandbox saw in any second | {p['sandbox']['max_requests_per_second']} |")
    print(f"\n| {args.rows:,} rows with faults (3 % 5xx, 3 % commit-then-drop, 1 % slow) | read | loaded | rejected "
          "| in doubt | skipped | requests | created twice | wall |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r, twice in runs:
        print(f"| {name} | {r['rows_read']:,} | {r['loaded']:,} | {r['rejected']:,} | {r['in_doubt']:,} | "
              f"{r['skipped']:,} | {r['requests']:,} | {twice} | {r['elapsed_s']:.1f} s |")


if __name__ == "__main__":
    main()
