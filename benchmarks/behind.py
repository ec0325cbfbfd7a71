"""Reconciling behind the load, and bulkload against the hand-written loop, side by side in one run.

    python -m benchmarks.behind [--before TREE] [--rows N] [--pairs 3] [--latencies 0,50,100] [--against naive_loop]

For each latency (ms, the sandbox's per call, no rate limit) and each pair: bulkload of TREE (before; another
checkout, run with this interpreter), this bulkload (after) and the comparator (`--against`: benchmarks.naive_loop,
the hand-written loop, or benchmarks.dlt_loader, which needs the `bench` extra), one after the other, each against
a fresh e-conomic sandbox in its own process and as a whole command (process start included). Prints the medians
of the pairs as Markdown rows: the whole command and the load alone (start to the last upload) against the
comparator's wall, the whole command against the load alone, and the CPU seconds of each side's process tree
against the comparator's (the figure a busy machine disturbs least). One JSON line a run goes to stderr.

Every side starts as an installed package does, from compiled bytecode: the sources of both checkouts (bulkload and
benchmarks, the comparators' modules) are compiled first, into their __pycache__, because with
PYTHONDONTWRITEBYTECODE set (as on the shared machine) each start would compile some 60 modules again, in the loader
and in its planning child (about 0.3 s of CPU each), which `pip install` never leaves to a user's runs.
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import sys
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from benchmarks.common import data_file, measure, sandbox
from benchmarks.scenarios import load_economic


def run_pair(
    path: Path, latency: str, before: Path | None, against: str, workdir: Path, i: int
) -> dict[str, dict[str, Any]]:
    """One run of each side against a fresh sandbox: {"before"?, "after", "loop"} → figures ("loop": `against`).
    The sides take turns at going first (pair i starts with side i), so that a machine busier at one moment does
    not always slow the same side; each side's CPU seconds (its whole process tree, the planning child included)
    are kept beside its wall time, being what a busy machine changes least."""
    flags = ("--latency-ms", latency)
    out: dict[str, dict[str, Any]] = {}
    sides: list[tuple[str, Path | None]] = [*([("before", before)] if before else []), ("after", None), ("loop", None)]
    for side, tree in sides[i % len(sides) :] + sides[: i % len(sides)]:
        with sandbox("economic", *flags) as box:
            if side == "loop":
                out[side] = compared(against, path, box.url, workdir)
                continue
            # a directory of its own a run: its record of loads (XDG_CACHE_HOME) must not know an earlier run's load
            # of the file into a sandbox that happened to get the same port
            r = load_economic(workdir / side / f"l{latency}-{i}", "load", path, box, tree=tree)
        assert r["reconcile"]["ok"], r["reconcile"]
        out[side] = {"wall_s": r["wall_s"], "until_loaded_s": r["wall_s"] - r["reconcile_s"], "cpu_s": r["cpu_s"]}
    print(json.dumps({"latency_ms": latency, "pair": i, **out}), file=sys.stderr, flush=True)
    return out


def compared(module: str, path: Path, url: str, workdir: Path) -> dict[str, Any]:
    """The comparator `module` (benchmarks.naive_loop, benchmarks.dlt_loader) as a whole command: wall and CPU
    seconds, as `measure` takes them of bulkload; RuntimeError when it failed."""
    printed = workdir / f"{module}.out"
    run = measure([sys.executable, "-m", f"benchmarks.{module}", str(path), "--base-url", url], stdout=printed)
    said = run["printed"].strip().splitlines()
    if run["exit"] != 0 or not said or {"error", "skipped"} & json.loads(said[-1]).keys():
        raise RuntimeError(f"{module} failed: exit {run['exit']}, {said[-1:] or 'nothing printed'}")
    return {"wall_s": run["wall_s"], "cpu_s": run["cpu_s"]}


def compiled(*trees: Path) -> None:
    """Compile the bulkload and benchmarks sources of each checkout as an install would (see the module's doc)."""
    for tree in trees:
        for package in ("bulkload", "benchmarks"):
            compileall.compile_dir(tree / package, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, help="a checkout of the bulkload to compare with")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--latencies", default="0,50,100", help="ms per call, comma-separated")
    parser.add_argument("--against", default="naive_loop", choices=["naive_loop", "dlt_loader"])
    args = parser.parse_args()
    path = data_file("economic", args.rows)
    compiled(Path(__file__).resolve().parent.parent, *([args.before] if args.before else []))
    print(
        "| latency | side | whole command | × it | until the last upload | × it | whole ÷ until loaded | CPU | × it |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    with TemporaryDirectory(prefix="bulkload-behind-") as tmp:
        for latency in args.latencies.split(","):
            runs = [run_pair(path, latency, args.before, args.against, Path(tmp), i) for i in range(args.pairs)]
            loop = statistics.median(r["loop"]["wall_s"] for r in runs)
            loop_cpu = statistics.median(r["loop"]["cpu_s"] for r in runs)
            for side in [s for s in ("before", "after") if s in runs[0]]:
                whole = statistics.median(r[side]["wall_s"] for r in runs)
                loaded = statistics.median(r[side]["until_loaded_s"] for r in runs)
                cpu = statistics.median(r[side]["cpu_s"] for r in runs)
                print(
                    f"| {latency} ms | {side} | {whole:.2f} s | {whole / loop:.2f} | {loaded:.2f} s | "
                    f"{loaded / loop:.2f} | {whole / loaded:.2f} | {cpu:.2f} s | {cpu / loop_cpu:.2f} |",
                    flush=True,
                )
            print(
                f"| {latency} ms | {args.against} | {loop:.2f} s | 1.00 | | | | {loop_cpu:.2f} s | 1.00 |", flush=True
            )


if __name__ == "__main__":
    main()
