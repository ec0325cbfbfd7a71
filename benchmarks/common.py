"""What every benchmark shares: generated data files, a sandbox in its own process, and one `bulkload load`
as a child process with its wall time and the peak memory of its whole process tree (loader + planner).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bulkload.sandbox.generate_data import write_file

DATA = Path(__file__).parent / "data"
ENV = {
    "ECONOMIC_APP_SECRET_TOKEN": "bench-secret",
    "ECONOMIC_AGREEMENT_GRANT_TOKEN": "bench-grant",
    "VISMA_CORE_TOKEN": "bench-token",
    "PAYORCRM_API_KEY": "bench-key",
    "PAYORCRM_API_SECRET": "bench-secret",
    "HALO_CLIENT_ID": "bench-client",
    "HALO_CLIENT_SECRET": "sk_test_bench_client_secret",
}


class Standstill:
    """A trial's bound in time, judged by what moves rather than by its whole wall time: it runs out once nothing
    the trial watches (`saw`: what the sandbox counted, a job's state; `moved`: a process started) has changed for
    `limit_s` seconds, which is a hang. A busy machine makes every step slower but still steps, so it stretches a
    trial without failing it (a whole-trial bound failed trials that lost and doubled nothing under a load of 10);
    the work itself is bounded by counts: the requests the sandbox counted, the resumes."""

    def __init__(self, limit_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit_s, self._clock = limit_s, clock
        self._seen: object = None
        self._since = clock()

    def saw(self, state: object) -> None:
        """What the trial watches now (plain values that compare); one unlike the last is a move."""
        if state != self._seen:
            self._seen = state
            self.moved()

    def moved(self) -> None:
        self._since = self._clock()

    def left(self) -> float:
        """Seconds until the trial has stood still for `limit_s`; 0 or less once it has."""
        return self._since + self.limit_s - self._clock()


def data_file(kind: str, rows: int, fmt: str = "csv", compress: bool = False, **kw: Any) -> Path:
    """A generated file of `rows` rows, written once into benchmarks/data/ (not committed) and reused."""
    extras = "".join(f"-{k}{v}" for k, v in sorted(kw.items()))
    path = DATA / f"{kind}-{rows}{extras}.{fmt}{'.gz' if compress else ''}"
    if not path.exists():
        DATA.mkdir(exist_ok=True)
        print(f"  generating {rows:,} {kind} rows into {path.name} ...", flush=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}.part")
        write_file(str(draft), rows=rows, fmt=fmt, compress=compress, seed=1, kind=kind, **kw)
        draft.replace(path)
    return path


class Sandbox:
    """`bulkload sandbox TARGET` in its own process; `url` is its API root."""

    def __init__(self, target: str, *flags: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bulkload", "sandbox", target, "--port", "0", *flags],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().rsplit(" ", 1)[1].strip()
        self.origin = "/".join(self.url.split("/", 3)[:3])  # the sandbox's own routes sit at the root

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.origin}/_sandbox/{path}", timeout=120) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        out: dict[str, Any] = self.get("stats")
        return out

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


@contextmanager
def sandbox(target: str, *flags: str) -> Iterator[Sandbox]:
    box = Sandbox(target, *flags)
    try:
        yield box
    finally:
        box.close()


def tree_pids(pid: int) -> list[int]:
    """A process and all its descendants (Linux /proc; threads' children included)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        with contextlib.suppress(OSError, ValueError):
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
    return found


def alive(pid: int) -> bool:
    """Whether process `pid` runs (exists and is not a zombie; Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def tree_rss_kb(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (Linux /proc)."""
    total = 0
    for p in tree_pids(pid):
        with contextlib.suppress(OSError, ValueError), open(f"/proc/{p}/status") as f:
            total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
    return total


def measure(
    cmd: Sequence[str],
    env: dict[str, str] | None = None,
    quiet: bool = True,
    cwd: Path | None = None,
    *,
    event: Callable[[subprocess.Popen[bytes]], object] | None = None,
    timeout_s: float | None = None,
    stderr: Path | None = None,
    stdout: Path | None = None,
) -> dict[str, Any]:
    """Run `cmd` to its end: exit code, wall seconds, CPU seconds of the process tree, and the peak of its
    summed RSS (MB), sampled every 20 ms. `event(proc)`, run in a thread, does something to the run (a signal)
    and returns: `after_s` is then the seconds from its return to the exit. Past `timeout_s` the whole tree is
    killed (exit -9, `timed_out`). `stderr`, `stdout`: the files its output goes to (returned as `said` and
    `printed`)."""
    started = time.perf_counter()
    err = open(stderr, "wb") if stderr else None  # noqa: SIM115 - closed below, after the child is reaped
    out_file = open(stdout, "wb") if stdout else None  # noqa: SIM115 - the same
    child = subprocess.Popen(
        list(cmd),
        env={**os.environ, **ENV, **(env or {})},
        cwd=cwd,
        stdout=out_file or (subprocess.DEVNULL if quiet else None),
        stderr=err,
    )
    peak, fired = 0, [started]
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, tree_rss_kb(child.pid))
            if timeout_s is not None and time.perf_counter() - started > timeout_s and not timed_out.is_set():
                timed_out.set()
                for pid in tree_pids(child.pid):
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)

    def fire() -> None:
        assert event is not None
        event(child)
        fired[0] = time.perf_counter()

    timed_out = threading.Event()
    threads = [threading.Thread(target=sample, daemon=True)] + ([threading.Thread(target=fire)] if event else [])
    for thread in threads:
        thread.start()
    _, status, usage = os.wait4(child.pid, 0)  # usage includes the children it waited for (the planner)
    child.returncode = os.waitstatus_to_exitcode(status)
    ended = time.perf_counter()
    done.set()
    for thread in threads:
        thread.join()
    out = {
        "exit": child.returncode,
        "wall_s": ended - started,
        "after_s": ended - fired[0],
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": peak / 1024,
        "timed_out": timed_out.is_set(),
    }
    for opened, path, key in ((err, stderr, "said"), (out_file, stdout, "printed")):
        if opened is not None and path is not None:
            opened.close()
            out[key] = path.read_text(errors="replace")
    return out


def bulkload(workdir: Path, name: str, *args: str, tree: Path | None = None, **kw: Any) -> dict[str, Any]:
    """`bulkload load ARGS` with its own ledger, rejects and report in `workdir`: the report plus wall time and
    peak RSS. `tree` runs the bulkload sources of another checkout (for before/after figures); `kw` goes to
    `measure` (`timeout_s`, `stderr`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / f"{name}.json"
    dry = workdir / f"{name}.dry-run.json"  # where a dry run writes its report (an older checkout: `report`)
    for stale in (report, dry, workdir / f"{name}.sqlite"):
        stale.unlink(missing_ok=True)
    env = {"XDG_CACHE_HOME": str(workdir / "cache")}  # no record of earlier loads: each run is a first run
    run = measure(
        [
            sys.executable,
            "-m",
            "bulkload",
            "load",
            *args,
            "--ledger",
            str(workdir / f"{name}.sqlite"),
            "--rejects",
            str(workdir / f"{name}.rejects.csv"),
            "--report",
            str(report),
            "--no-progress",
        ],
        env=env,
        cwd=tree,
        **kw,  # `python -m` looks in the working directory first
    )
    written = next((path for path in (report, dry) if path.exists()), None)
    out: dict[str, Any] = json.loads(written.read_text()) if written is not None else {}
    out.update(run)
    return out


def best(runs: Sequence[dict[str, Any]], key: str = "wall_s") -> dict[str, Any]:
    """The fastest of repeated runs: on a shared machine, noise only ever slows a run down."""
    return min(runs, key=lambda r: float(r[key]))
