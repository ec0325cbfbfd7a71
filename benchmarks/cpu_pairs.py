"""The CPU one `bulkload` command costs in two commits, measured in turns: what a row costs since another commit,
on a machine too busy for wall times to say (the CPU of a process tree moves far less than its wall with the load
beside it).

    python -m benchmarks.cpu_pairs --before GIT_REF [--pairs 3] [--sandbox economic [--fresh]] [--cache DIR] \
        -- load economic FILE ...

Runs `bulkload ARGS` of GIT_REF (checked out into a temporary worktree) and of this checkout in turns, `--pairs`
times each, each run in a fresh folder `{d}` (its ledger, report, cache: every run a first run); with
`--sandbox TARGET` against one sandbox in its own process, whose API root replaces `{url}` (with `--fresh`, a new
sandbox for each run: one that keeps every run's records walks more each time); with `--cache DIR`, a copy of DIR
as each run's cache (XDG_CACHE_HOME: the record of loads), so that each run finds the earlier loads a returning
user's would (with an empty cache a dry run asks no ledger what earlier loads did with its groups). Prints each
run's CPU (user + system of the command and its planning child, seconds) and wall, where ARGS write a report to
`{d}/r.json` its `load_s` (until the last upload) and `reconcile_s` (the tail after it), and after ÷ before of
each side's least CPU. Exit 1 where a run failed."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from benchmarks.__main__ import ROOT, compiled, worktree
from benchmarks.common import ENV, sandbox


def _cpu_s() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(tree: Path, args: list[str], cache: Path | None = None) -> tuple[float, float, int, str]:
    """(CPU s, wall s, exit code, the report's phases said: "" where ARGS wrote none to `{d}/r.json`) of `bulkload
    ARGS` run from `tree`, in a fresh folder for `{d}`; its cache (XDG_CACHE_HOME) a copy of `cache`, or empty."""
    with tempfile.TemporaryDirectory(prefix="bulkload-cpu-") as d:
        home = d if cache is None else shutil.copytree(cache, Path(d) / "cache")
        env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(home)}
        env.pop("PYTHONPATH", None)
        cpu, wall = _cpu_s(), time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bulkload", *(a.replace("{d}", d) for a in args)],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
        )
        cpu, wall = _cpu_s() - cpu, time.perf_counter() - wall
        report = Path(d) / "r.json"
        phases = json.loads(report.read_text()) if report.exists() else {}
        load_s, tail_s = phases.get("load_s"), phases.get("reconcile_s")
        said = f"  load {load_s:6.2f} s  tail {tail_s:5.2f} s" if load_s is not None and tail_s is not None else ""
        return cpu, wall, done.returncode, said


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", metavar="GIT_REF", required=True)
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--sandbox", metavar="TARGET", help="run against this target's sandbox: {url} in ARGS")
    parser.add_argument("--fresh", action="store_true", help="with --sandbox: a new sandbox for each run")
    parser.add_argument("--cache", metavar="DIR", type=Path, help="copied as each run's XDG_CACHE_HOME")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then bulkload's arguments")
    opts = parser.parse_args()
    args = opts.args[1:] if opts.args[:1] == ["--"] else opts.args
    # each side runs in its own tree, where a path given relative to this one (benchmarks/data/ is not committed)
    # is not there: the before side exited 2 at once, and its CPU looked like a tenth of the after side's
    args = [str(Path(a).resolve()) if not a.startswith("-") and Path(a).exists() else a for a in args]
    with tempfile.TemporaryDirectory(prefix="bulkload-cpu-") as tmp, ExitStack() as stack:
        old = compiled(worktree(opts.before, Path(tmp) / "before"))
        stack.callback(subprocess.run, ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)])
        compiled(ROOT)
        if opts.sandbox and not opts.fresh:
            url = stack.enter_context(sandbox(opts.sandbox)).url
            args = [a.replace("{url}", url) for a in args]
        least: dict[str, float] = {}
        failed = False
        for _ in range(opts.pairs):
            for side, tree in (("before", old), ("after", ROOT)):
                if opts.sandbox and opts.fresh:
                    with sandbox(opts.sandbox) as box:
                        cpu, wall, code, said = run(tree, [a.replace("{url}", box.url) for a in args], opts.cache)
                else:
                    cpu, wall, code, said = run(tree, args, opts.cache)
                print(f"{side:6}  CPU {cpu:6.2f} s  wall {wall:6.2f} s{said}  exit {code}", flush=True)
                least[side] = min(least.get(side, cpu), cpu)
                failed |= code not in (0, 1)  # 1: rows rejected, as the file may mean
    print(
        f"least CPU: before {least['before']:.2f} s, after {least['after']:.2f} s: after ÷ before "
        f"{least['after'] / least['before']:.2f}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
