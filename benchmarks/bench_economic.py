"""e-conomic throughput and memory, measured in one run.

    python -m benchmarks.bench_economic [--rows 1000000] [--rss-rows 1000000,5000000]

1. Read + validate only: the same file through the same reader and DraftEntry validation, in this process;
   the ceiling the loader is measured against.
2. End to end: `bulkload load economic` as a child process against the sandbox in another process (no
   latency, no rate limit): rows/s over the whole command, and over its load phase alone.
3. Peak RSS of the load process for each size in --rss-rows (the goal: the largest ≤ 1.1 × the smallest).

Data files are generated once into benchmarks/data/ (not committed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.generate_data import write_file
from bulkload.sources import Source
from bulkload.targets.base import RowInvalid
from bulkload.targets.economic import Economic

DATA = Path(__file__).parent / "data"
ENV = {"ECONOMIC_APP_SECRET_TOKEN": "bench-secret", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "bench-grant"}


def data_file(rows: int) -> Path:
    path = DATA / f"entries-{rows}.csv"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        print(f"generating {rows:,} rows into {path} ...", flush=True)
        write_file(str(path), rows=rows, fmt="csv", seed=1)
    return path


def read_validate(path: Path) -> float:
    """Rows per second of reading and validating only."""
    validate = Economic().validate
    started = time.perf_counter()
    n = 0
    for item in Source(path):
        n += 1
        with contextlib.suppress(RowInvalid, TypeError):
            validate(item[1])  # type: ignore[arg-type]
    return n / (time.perf_counter() - started)


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkload", "sandbox", "economic", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().rsplit(" ", 1)[1].strip()


def load(path: Path, workdir: Path) -> dict[str, Any]:
    """One `bulkload load` against a fresh sandbox; the report plus wall time and peak RSS of the loader."""
    sandbox, url = start_sandbox()
    try:
        report = workdir / f"{path.stem}.report.json"
        ledger = workdir / f"{path.stem}.ledger.sqlite"
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bulkload", "load", "economic", str(path), "--base-url", url,
             "--ledger", str(ledger), "--rejects", str(workdir / f"{path.stem}.rejects.csv"),
             "--report", str(report), "--no-progress"],
            env={**os.environ, **ENV}, stdout=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
        out: dict[str, Any] = json.loads(report.read_text())
        out["wall_s"] = wall
        out["peak_rss_mb"] = usage.ru_maxrss / 1024
        out["exit"] = os.waitstatus_to_exitcode(status)
        return out
    finally:
        sandbox.kill()
        sandbox.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rss-rows", default="1000000,5000000", help="sizes for the memory figure")
    args = parser.parse_args()
    sizes = sorted({args.rows, *(int(x) for x in args.rss_rows.split(",") if x)})
    files = {n: data_file(n) for n in sizes}

    ceiling = read_validate(files[args.rows])
    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bulkload-bench-") as tmp:
        for n in sizes:
            results[n] = load(files[n], Path(tmp))
            assert results[n]["exit"] == 0 and results[n]["reconcile"]["ok"], results[n]
    main_run = results[args.rows]
    end_to_end = args.rows / main_run["wall_s"]
    load_phase = args.rows / main_run["load_s"]
    print()
    print(f"| e-conomic, {args.rows:,} rows, sandbox in another process, no latency | rows/s | vs read+validate |")
    print("|---|---:|---:|")
    print(f"| read + validate only (same file, same run) | {ceiling:,.0f} | 100 % |")
    print(f"| bulkload load, whole command (load + reconcile) | {end_to_end:,.0f} | {end_to_end / ceiling:.0%} |")
    print(f"| bulkload load, load phase only | {load_phase:,.0f} | {load_phase / ceiling:.0%} |")
    print()
    print("| rows | peak RSS of the loader | wall | load phase | reconcile |")
    print("|---:|---:|---:|---:|---:|")
    for n in sizes:
        r = results[n]
        print(f"| {n:,} | {r['peak_rss_mb']:.0f} MB | {r['wall_s']:.1f} s | {r['load_s']:.1f} s "
              f"| {r['reconcile_s']:.1f} s |")
    if len(sizes) > 1:
        ratio = results[sizes[-1]]["peak_rss_mb"] / results[sizes[0]]["peak_rss_mb"]
        print(f"\npeak RSS {sizes[-1]:,} rows / {sizes[0]:,} rows = {ratio:.2f} (goal ≤ 1.10)")


if __name__ == "__main__":
    main()
