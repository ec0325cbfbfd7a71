"""A server that answers one call with a 1 GB body: bulkload's peak memory, and what it says.

    python -m benchmarks.big_answer [--size-mb 1024] [--tree PATH]

Each case runs `bulkload load` as a child process against a target's sandbox (served from this process, in a
thread) whose answer to one call is `--size-mb` MB, written 1 MB at a time (chunked, or with its Content-Length
announced), never held whole by the server either. Printed per case: the exit code, the stop reason, how much the
server could write before bulkload stopped reading, the peak RSS of bulkload's process tree (loader + planner,
sampled every 20 ms from /proc) and the wall time. The goal (issue 12): under 200 MB for a 1 GB answer.
`--tree PATH` runs the bulkload sources of another checkout (a before figure; mind the memory it may take).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common import bulkload
from bulkload.sandbox.hostile import PREFIX, Answer, Hostile, inputs, served

MB = 1024 * 1024
#: target, the call answered with the big body (method, path ending), announced length, input
CASES = [
    ("economic", "GET", "/draft-entries/paged", False, "baseline GET, chunked"),
    ("economic", "POST", "/draft-entries/bulk", False, "bulk POST, chunked"),
    ("economic", "POST", "/draft-entries/bulk", True, "bulk POST, Content-Length"),
    ("halopsa", "GET", "/api/XeroDetails", False, "listing GET (64 MB cap), chunked"),
]


def big_answer(target: str, method: str, path: str, size: int, announced: bool) -> Hostile:
    """`target`'s sandbox, with the first call of `method` to a path ending in `path` answered `size` bytes
    (`announced`: with its Content-Length, else chunked); `streamed` counts what it could write."""
    once: list[int] = []

    def rule(m: str, p: str, n: int) -> Answer | None:
        if m != method or not p.endswith(path) or once:
            return None
        once.append(n)
        return Answer(stream=size, claimed_length=size if announced else None)

    return Hostile(target, rule)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="the big answer's size (default 1024)")
    parser.add_argument("--tree", type=Path, help="run the bulkload sources of this checkout instead")
    args = parser.parse_args()
    print(f"{'case':<36} {'exit':>4} {'server wrote':>13} {'peak RSS':>9} {'wall':>7}  stop reason")
    with tempfile.TemporaryDirectory(prefix="big-answer-") as tmp:
        for i, (target, method, path, announced, label) in enumerate(CASES):
            api = big_answer(target, method, path, args.size_mb * MB, announced)
            work = Path(tmp) / str(i)
            with served(api.app()) as origin:
                out = bulkload(
                    work,
                    "run",
                    target,
                    *inputs(target, work),
                    "--base-url",
                    origin + PREFIX.get(target, ""),
                    "--attempts",
                    "2",
                    "--window-limit",
                    "0",
                    tree=args.tree,
                )
            reason = str(out.get("stop_reason") or out.get("status", "no report"))
            print(
                f"{label:<36} {out['exit']:>4} {api.streamed / MB:>10,.0f} MB {out['peak_rss_mb']:>6.0f} MB "
                f"{out['wall_s']:>6.1f}s  {reason[:150]}",
                flush=True,
            )


if __name__ == "__main__":
    main()
