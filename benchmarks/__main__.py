"""The benchmark suite: every scenario measured side by side in one run.

    python -m benchmarks [--quick] [--only 1,4] [--before GIT_REF] [--repeat N] [--out benchmarks/results]

Writes results.md (tables and goals), results.json (raw figures) and results.png (chart; needs the `bench`
extra: pip install -e '.[bench]') into --out. Data files are generated once into benchmarks/data/.
--before REF also measures the bulkload of another commit (checked out into a temporary worktree) in the
same run, scenario by scenario, and adds a before → after table. --repeat N runs each case of the pace
scenario (9) N times and reports its minimum and the 429s of all N runs. The full run takes about 15 minutes on
two cores (30–35 with --before; 51 with --before REF --repeat 3, the run docs/benchmarks.md reports; 8 more the
first time, generating data); --quick is a tenth of the rows.
"""

from __future__ import annotations

import argparse
import compileall
import dataclasses
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks import latency, pace, results, scenarios
from benchmarks.scenarios import Scale, Scenario

ROOT = Path(__file__).resolve().parent.parent
Run = Callable[[Scale, Path, "Path | None"], "Scenario | list[Scenario]"]
SCENARIOS: dict[str, Run] = {
    "1": scenarios.cpu_ceiling,  # also 6: the walk runs on the sandbox the fastest load filled
    "2": scenarios.hand_written,
    "3": scenarios.against_dlt,
    "4": scenarios.inside_limits,
    "5": scenarios.memory,
    "7": scenarios.scaling,
    "8": scenarios.decisions,
    "9": pace.pace,
    "10": latency.with_latency,
}


def worktree(ref: str, into: Path) -> Path:
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(into), ref], check=True, capture_output=True
    )
    return into


def compiled(tree: Path) -> Path:
    """Write the bytecode of `tree`'s bulkload package, as pip does at install: every measured run then starts as an
    installed bulkload does, not compiling its modules again (PYTHONDONTWRITEBYTECODE, set on some machines, keeps
    Python from caching them; the comparators' libraries were compiled by pip)."""
    compileall.compile_dir(str(tree / "bulkload"), quiet=1)
    return tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows, one run per side")
    parser.add_argument("--only", default="", help="comma-separated scenario numbers (6 runs with 1)")
    parser.add_argument("--before", metavar="GIT_REF", help="also measure this commit's bulkload, side by side")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="runs of each pace case (scenario 9)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    scale = dataclasses.replace(Scale.quick() if args.quick else Scale(), pace_repeat=max(1, args.repeat))
    chosen = [s for s in SCENARIOS if not args.only or s in args.only.split(",")]
    started = time.perf_counter()
    done: list[Scenario] = []
    before: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bulkload-bench-") as tmp:
        old = compiled(worktree(args.before, Path(tmp) / "before")) if args.before else None
        compiled(ROOT)
        try:
            for number in chosen:
                run = SCENARIOS[number]
                for tree in [old, None] if old else [None]:
                    print(f"scenario {number}{' (before)' if tree else ''} ...", flush=True)
                    workdir = Path(tempfile.mkdtemp(dir=tmp))
                    out = run(scale, workdir, tree)
                    got = out if isinstance(out, list) else [out]
                    if tree is None:
                        done.extend(got)
                    else:
                        before.update({k: {"before": v} for sc in got for k, v in sc.key.items()})
        finally:
            if old is not None:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
    done.sort(key=lambda sc: sc.title)
    command = "python -m benchmarks " + shlex.join(sys.argv[1:])
    for path in results.write(args.out, command.strip(), done, before or None, time.perf_counter() - started):
        print(f"wrote {path}")
    print((args.out / "results.md").read_text())


if __name__ == "__main__":
    main()
