"""A run cut short, case by case: exit code, seconds from the event to the exit, peak RSS of the process tree
(loader + planner), rows loaded at the stop, and whether `bulkload resume` then finishes with every row once.

    python -m benchmarks.stopping [--vouchers 20000]

Cases: SIGTERM, SIGHUP and SIGINT once the e-conomic sandbox (40 ms a call) has counted 10 bulk calls; a full
disk under the ledger (a 1 MB tmpfs, remounted at 64 MB before the resume; needs root, else left out; its
seconds are the whole run's, to the stop); the
planner child of a loader killed with SIGKILL while it waits on a file that never comes (seconds until it is
gone); a mistyped key of the job file. Prints one Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ENV, Sandbox, sandbox, tree_rss_kb

#: calls of 500 entries the sandbox must have counted before the signal
CALLS_BEFORE = 10


def _write_entries(path: Path, vouchers: int, journal: int) -> int:
    """Balanced two-line vouchers; returns the rows written."""
    with open(path, "w") as fh:
        fh.write("entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n")
        for v in range(1, vouchers + 1):
            amount = f"{100 + v % 9000}.{v % 100:02d}"
            fh.write(f"5,{journal},{v},2026-11-{1 + v % 28:02d},{amount},DKK,1010,Sale {v}\n")
            fh.write(f"5,{journal},{v},2026-11-{1 + v % 28:02d},-{amount},DKK,5820,Sale {v} VAT\n")
    return 2 * vouchers


def _run(cmd: list[str], env: dict[str, str], event: Any = None) -> dict[str, Any]:
    """Run `cmd`; `event(proc)` is called in a thread and returns when it has done what it does to the run (a
    signal). Exit code, seconds from the event's return to the exit, peak RSS of the tree (MB)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak, done, fired = 0, threading.Event(), [time.perf_counter()]

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, tree_rss_kb(proc.pid))

    def fire() -> None:
        event(proc)
        fired[0] = time.perf_counter()

    threads = [threading.Thread(target=sample, daemon=True)] + ([threading.Thread(target=fire)] if event else [])
    for t in threads:
        t.start()
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.wait()
    ended = time.perf_counter()
    done.set()
    for t in threads:
        t.join()
    return {"exit": proc.returncode, "after_s": ended - fired[0], "peak_rss_mb": peak / 1024,
            "stderr": err.strip().splitlines()[-1:] if err.strip() else []}


def _posts(box: Sandbox) -> int:
    return int(box.stats()["by_method"].get("POST", {}).get("requests", 0))


def _count(box: Sandbox, journal: int) -> int:
    import urllib.request

    req = urllib.request.Request(f"{box.url}/draft-entries/count?filter=journalNumber$eq:{journal}", headers={
        "X-AppSecretToken": ENV["ECONOMIC_APP_SECRET_TOKEN"],
        "X-AgreementGrantToken": ENV["ECONOMIC_AGREEMENT_GRANT_TOKEN"]})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return int(json.loads(resp.read()))


def _load_cut_short(work: Path, box: Sandbox, name: str, journal: int, vouchers: int, env: dict[str, str],
                    ledger: Path, event: Any) -> dict[str, Any]:
    data = work / f"{name}.csv"
    rows = _write_entries(data, vouchers, journal)
    report = work / f"{name}.json"
    bulkload = [sys.executable, "-m", "bulkload"]
    run = _run([*bulkload, "load", "economic", str(data), "--base-url", box.url, "--ledger", str(ledger),
                "--report", str(report), "--no-progress"], env, event)
    stopped = json.loads(report.read_text()) if report.exists() else {}
    run["loaded_at_stop"] = stopped.get("loaded")
    run["report"] = report.exists()
    return {**run, "rows": rows, "resume": lambda: subprocess.run(
        [*bulkload, "resume", "--ledger", str(ledger), "--report", str(report), "--no-progress"], env=env,
        capture_output=True, timeout=600).returncode, "journal": journal}


def _signal_at_calls(box: Sandbox, sig: signal.Signals) -> Any:
    before = _posts(box)  # the sandbox counts every case's calls

    def event(proc: subprocess.Popen[str]) -> None:
        while _posts(box) < before + CALLS_BEFORE and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(sig)
    return event


_DRIVER = """
import asyncio, sys
from bulkload.planning import PlanningProcess, PlanSpec

async def main():
    planner = PlanningProcess()
    print(planner._process.pid, flush=True)
    plan = planner.plan(PlanSpec("economic", {}, [sys.argv[1]], [0], {}, None, {}, 500, 2_000_000))
    asyncio.ensure_future(plan.__anext__())
    await asyncio.sleep(600)

asyncio.run(main())
"""


def _orphaned_planner(work: Path) -> dict[str, Any]:
    """Seconds from a SIGKILL of the loader to the end of its planner, blocked reading a FIFO nobody writes."""
    fifo = work / "never.csv"
    os.mkfifo(fifo)
    driver = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_DRIVER), str(fifo)], stdout=subprocess.PIPE,
                              text=True)
    assert driver.stdout is not None
    child = int(driver.stdout.readline())
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child}/wchan").read_text() not in ("fifo_open", "wait_for_partner"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    driver.kill()
    killed = time.perf_counter()
    driver.communicate()
    while Path(f"/proc/{child}").exists() and "Z" not in Path(f"/proc/{child}/stat").read_text().split(")")[1][:3]:
        if time.perf_counter() - killed > 60:
            os.kill(child, signal.SIGKILL)
            return {"exit": "-", "after_s": float("inf"), "peak_rss_mb": 0.0}
        time.sleep(0.005)
    return {"exit": "killed", "after_s": time.perf_counter() - killed, "peak_rss_mb": 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vouchers", type=int, default=20_000)
    args = parser.parse_args()
    rows: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp, sandbox("economic", "--latency-ms", "40") as box:
        work = Path(tmp)
        env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(work / "cache")}
        for journal, sig in enumerate((signal.SIGTERM, signal.SIGHUP, signal.SIGINT), start=1):
            case = _load_cut_short(work, box, sig.name, journal, args.vouchers, env, work / f"{sig.name}.sqlite",
                                   _signal_at_calls(box, sig))
            rows.append((f"{sig.name} after {CALLS_BEFORE} calls", case))
        small = work / "small"
        small.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)],
                          capture_output=True).returncode == 0:
            try:
                case = _load_cut_short(work, box, "full", 4, args.vouchers // 2, env, small / "run.sqlite", None)
                subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
                rows.append(("ledger on a full 1 MB disk", case))
                for _, c in rows:
                    if c.get("journal") == 4:
                        c["resumed"] = c["resume"]()
            finally:
                subprocess.run(["umount", "-l", str(small)], check=False)
        for _, case in rows:
            if "resumed" not in case:
                case["resumed"] = case["resume"]()
            case["in_api"] = _count(box, case["journal"])
        rows.append(("planner child, loader SIGKILLed", _orphaned_planner(work)))
        config = work / "job.toml"
        config.write_text('[job]\nconcurrency = "8"\n')
        rows.append(("job file `concurrency = \"8\"`", _run(
            [sys.executable, "-m", "bulkload", "load", "economic", str(work / "SIGTERM.csv"), "--config",
             str(config)], env)))
    print("| case | exit | s to exit | peak RSS MB | loaded at stop | report | resume exit | rows in API / input |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    for name, c in rows:
        in_api = f"{c['in_api']:,} / {c['rows']:,}" if "in_api" in c else "-"
        print(f"| {name} | {c['exit']} | {c['after_s']:.2f} | {c['peak_rss_mb']:.0f} | "
              f"{c.get('loaded_at_stop', '-')} | {'yes' if c.get('report') else '-'} | {c.get('resumed', '-')} | "
              f"{in_api} |")
    for name, c in rows:
        if c.get("stderr"):
            print(f"- {name}: `{c['stderr'][0]}`")


if __name__ == "__main__":
    main()
