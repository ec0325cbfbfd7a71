"""Where a load's time goes: the CPU of each process (the command, its planning child, the sandbox) every half
second, as a share of one core, from /proc (Linux).

    python -m benchmarks.timeline [--rows N] [--latency-ms MS] [--loop] [-- LOAD FLAGS...]

Loads `--rows` generated e-conomic rows (default 1,000,000) into a fresh sandbox in its own process, with
`--latency-ms` (default 0) and any `bulkload load` flags after `--` (e.g. `-- --concurrency 32`), and prints one
line every 0.5 s, then the wall, the CPU seconds of each process and the command's own phases from its report.
`--loop` runs the hand-written loop (benchmarks/naive_loop.py) on the same file instead: what its wall and CPU are
beside bulkload's, as a budget (CPU seconds of all processes ÷ the machine's cores is a floor under the wall).
A phase where one process sits at 100 % and the others idle is serial work; a stretch where the shares add up to
the machine's cores is bound by the CPU. docs/benchmarks.md ("What binds") quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import ENV, data_file, sandbox, tree_pids

#: seconds between samples
EVERY_S = 0.5


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of one process so far (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--latency-ms", default="0")
    parser.add_argument("--loop", action="store_true", help="run the hand-written loop instead of bulkload")
    parser.add_argument("flags", nargs="*", help="bulkload load flags (after --)")
    args = parser.parse_args(argv)
    path = data_file("economic", args.rows)
    with tempfile.TemporaryDirectory() as tmp, sandbox("economic", "--latency-ms", args.latency_ms) as box:
        work = Path(tmp)
        report = work / "report.json"
        if args.loop:
            cmd = [sys.executable, "-m", "benchmarks.naive_loop", str(path), "--base-url", box.url, *args.flags]
        else:
            cmd = [sys.executable, "-m", "bulkload", "load", "economic", str(path), "--base-url", box.url]
            cmd += ["--ledger", str(work / "run.sqlite"), "--rejects", str(work / "rejects.csv")]
            cmd += ["--report", str(report), "--no-progress", "-q", *args.flags]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env={**os.environ, **ENV, "XDG_CACHE_HOME": str(work / "cache")})
        names = {proc.pid: "command", box.proc.pid: "sandbox"}
        spent: dict[str, float] = {}
        last: dict[str, float] = {}
        while proc.poll() is None:
            time.sleep(EVERY_S)
            for pid in tree_pids(proc.pid):
                names.setdefault(pid, "planning child" if len(names) == 2 else f"process {pid}")
            now = {name: cpu for pid, name in names.items() if (cpu := cpu_s(pid)) is not None}
            shares = [
                f"{name} {100 * (cpu - last[name]) / EVERY_S:4.0f} %" if name in last else f"{name}    - "
                for name, cpu in now.items()
            ]
            last = now
            spent.update(now)
            print(f"{time.perf_counter() - started:6.1f} s  " + "   ".join(shares), flush=True)
        wall = time.perf_counter() - started
        spent["sandbox"] = cpu_s(box.proc.pid) or spent.get("sandbox", 0.0)
        said = json.loads(report.read_text()) if report.exists() else {}
    cpu = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in spent.items())
    floor = sum(spent.values()) / (os.cpu_count() or 1)
    print(f"wall {wall:.2f} s (exit {proc.returncode}); CPU: {cpu}; over {os.cpu_count()} cores {floor:.2f} s")
    if not args.loop:
        load_s, tail_s = said.get("load_s"), said.get("reconcile_s")
        print(f"the report: load {load_s} s, reconciliation after the last upload {tail_s} s")
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
