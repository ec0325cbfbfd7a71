"""HaloPSA: 2,000 records across three resources against the sandbox with faults, under HaloPSA's rolling
window (300 requests per 5 minutes, scaled down 100 times to 300 per 3 s), then the same files again.

    python -m benchmarks.bench_halopsa [--records 2000] [--time-factor 100]

Prints requests, 429s, wall time next to the window's theoretical minimum, what the re-run created
(must be 0), the reconciliation, and whether any generated secret (they all start with sk_test_) appears
in a file or stream the runs produced (must not).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ENV, Sandbox, sandbox
from bulkload.sandbox.generate_data import write_file
from bulkload.targets.halopsa import HaloPSA

SPLIT = {"XeroDetails": 0.35, "QuickBooksDetails": 0.35, "AvalaraDetails": 0.30}
CANARY = b"sk_test_"


def halopsa_files(workdir: Path, records: int) -> list[Path]:
    """`records` generated records split over the three resources, one file each, named for its resource."""
    files = []
    for resource, share in SPLIT.items():
        path = workdir / f"{resource}.csv"
        # creates only: an update row names a record id, and ids follow the order the server took the
        # calls in, which concurrency does not keep
        write_file(str(path), rows=int(records * share), kind="halopsa", resource=resource, seed=7, updates=False)
        files.append(path)
    return files


def records_in(box: Sandbox) -> dict[str, int]:
    return {resource: len(box.get(f"records/{resource}")) for resource in SPLIT}


def run(workdir: Path, name: str, files: list[Path], url: str, window_s: float) -> tuple[dict[str, Any], float, bytes]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bulkload",
            "load",
            "halopsa",
            *map(str, files),
            "--match-on",
            "name",
            "--base-url",
            url,
            "--batch-size",
            "5",
            "--concurrency",
            "8",
            "--window-s",
            str(window_s),
            # the sandbox runs time_factor times faster than HaloPSA: so does the settle delay of a lost create
            "--settle-s",
            f"{HaloPSA.api.settle_s * window_s / 300:g}",
            "--ledger",
            str(workdir / f"{name}.sqlite"),
            "--rejects",
            str(workdir / f"{name}.rejects.csv"),
            "--report",
            str(workdir / f"{name}.json"),
        ],
        env={**os.environ, **ENV},
        capture_output=True,
        check=False,
    )
    wall = time.perf_counter() - started
    return json.loads((workdir / f"{name}.json").read_text()), wall, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--time-factor", type=float, default=100.0)
    args = parser.parse_args()
    window_s = 300 / args.time_factor
    with tempfile.TemporaryDirectory(prefix="bulkload-bench-") as tmp:
        workdir = Path(tmp)
        files = halopsa_files(workdir, args.records)
        with sandbox(
            "halopsa",
            "--time-factor",
            str(args.time_factor),
            "--fault-rate",
            "0.03",
            "--drop-rate",
            "0.03",
            "--seed",
            "11",
        ) as box:
            first, wall, out1 = run(workdir, "first", files, box.url, window_s)
            after_first = records_in(box)
            second, wall2, out2 = run(workdir, "again", files, box.url, window_s)
            after_second = records_in(box)
            stats = box.stats()
        leaks = [
            p.name for p in workdir.iterdir() if p.suffix != ".csv" or "rejects" in p.name if CANARY in p.read_bytes()
        ] + (["stdout/stderr"] if CANARY in out1 + out2 else [])
    minimum = math.ceil(first["requests"] / 300 - 1) * window_s
    print(
        f"\n| HaloPSA, {args.records:,} records in 3 resources, window 300 per {window_s:g} s "
        f"(time factor {args.time_factor:g}), 3 % 5xx + 3 % commit-then-drop | first run | same files again |"
    )
    print("|---|---:|---:|")
    print(
        f"| loaded / rejected / in doubt | {first['loaded']} / {first['rejected']} / {first['in_doubt']} "
        f"| {second['loaded']} / {second['rejected']} / {second['in_doubt']} |"
    )
    print(f"| requests (token, listings and retries included) | {first['requests']} | {second['requests']} |")
    print(f"| 429 answers met | {first['rate_limited']} | {second['rate_limited']} |")
    print(f"| wall time | {wall:.1f} s | {wall2:.1f} s |")
    print(f"| window's theoretical minimum for the first run's requests | {minimum:.1f} s | |")
    print(f"| records in the sandbox after | {sum(after_first.values())} | {sum(after_second.values())} |")
    print(f"| reconciled field by field | {first['reconcile']['ok']} | {second['reconcile']['ok']} |")
    print(
        f"\nsandbox: window 429s {stats['faults'].get('window', 0)}, tokens issued {stats['tokens_issued']}; "
        f"secrets found outside the API: {leaks or 'none'}"
    )


if __name__ == "__main__":
    main()
