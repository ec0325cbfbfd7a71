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
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ENV, Sandbox, alive, measure, sandbox

#: calls of 500 entries the sandbox must have counted before the signal
CALLS_BEFORE = 10


def write_entries(path: Path, vouchers: int, journal: int) -> int:
    """Balanced two-line vouchers; returns the rows written."""
    with open(path, "w") as fh:
        fh.write("entryTypeNumber,journalNumber,voucherNumber,date,amount,currency,accountNumber,text\n")
        for v in range(1, vouchers + 1):
            amount = f"{100 + v % 9000}.{v % 100:02d}"
            fh.write(f"5,{journal},{v},2026-11-{1 + v % 28:02d},{amount},DKK,1010,Sale {v}\n")
            fh.write(f"5,{journal},{v},2026-11-{1 + v % 28:02d},-{amount},DKK,5820,Sale {v} VAT\n")
    return 2 * vouchers


def _run(cmd: list[str], env: dict[str, str], work: Path, event: Any = None) -> dict[str, Any]:
    """Run `cmd` (`event(proc)`: what is done to it, in a thread): its measure, with its output (`said`,
    `printed`)."""
    return measure(cmd, env, event=event, timeout_s=600, stderr=work / "stderr.txt", stdout=work / "stdout.txt")


def posts(box: Sandbox) -> int:
    return int(box.stats()["by_method"].get("POST", {}).get("requests", 0))


def count_in_journal(box: Sandbox, journal: int) -> int:
    import urllib.request

    req = urllib.request.Request(
        f"{box.url}/draft-entries/count?filter=journalNumber$eq:{journal}",
        headers={
            "X-AppSecretToken": ENV["ECONOMIC_APP_SECRET_TOKEN"],
            "X-AgreementGrantToken": ENV["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
        },
    )
    with urllib.request.urlopen(req, timeout=60) as resp:
        return int(json.loads(resp.read()))


def load_cut_short(
    work: Path, box: Sandbox, name: str, journal: int, vouchers: int, env: dict[str, str], ledger: Path, event: Any
) -> dict[str, Any]:
    data = work / f"{name}.csv"
    rows = write_entries(data, vouchers, journal)
    report = work / f"{name}.json"
    bulkload = [sys.executable, "-m", "bulkload"]
    run = _run(
        [
            *bulkload,
            "load",
            "economic",
            str(data),
            "--base-url",
            box.url,
            "--ledger",
            str(ledger),
            "--report",
            str(report),
            "--no-progress",
        ],
        env,
        work,
        event,
    )
    stopped = json.loads(report.read_text()) if report.exists() else {}
    run["loaded_at_stop"] = stopped.get("loaded")
    run["report"] = report.exists()
    return {
        **run,
        "rows": rows,
        "resume": lambda: _run(
            [*bulkload, "resume", "--ledger", str(ledger), "--report", str(report), "--no-progress"], env, work
        ),
        "journal": journal,
    }


def signal_at_calls(box: Sandbox, sig: signal.Signals) -> Any:
    before = posts(box)  # the sandbox counts every case's calls

    def event(proc: subprocess.Popen[str]) -> None:
        while posts(box) < before + CALLS_BEFORE and proc.poll() is None:
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


def orphaned_planner(work: Path) -> dict[str, Any]:
    """Seconds from a SIGKILL of the loader to the end of its planner, blocked reading a FIFO nobody writes."""
    fifo = work / "never.csv"
    os.mkfifo(fifo)
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_DRIVER), str(fifo)], stdout=subprocess.PIPE, text=True
    )
    assert driver.stdout is not None
    child = int(driver.stdout.readline())
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child}/wchan").read_text() not in ("fifo_open", "wait_for_partner"):
        assert time.monotonic() < deadline
        time.sleep(0.01)
    driver.kill()
    killed = time.perf_counter()
    driver.communicate()
    while alive(child):
        if time.perf_counter() - killed > 60:
            os.kill(child, signal.SIGKILL)
            return {"exit": "-", "after_s": float("inf"), "peak_rss_mb": 0.0}
        time.sleep(0.005)
    return {"exit": "killed", "after_s": time.perf_counter() - killed, "peak_rss_mb": 0.0}


def signal_cases(work: Path, box: Sandbox, env: dict[str, str], vouchers: int) -> list[tuple[str, dict[str, Any]]]:
    """SIGTERM, SIGHUP and SIGINT once `box` has counted CALLS_BEFORE bulk calls of a load (journals 1 to 3)."""
    return [
        (
            f"{sig.name} after {CALLS_BEFORE} calls",
            load_cut_short(
                work, box, sig.name, journal, vouchers, env, work / f"{sig.name}.sqlite", signal_at_calls(box, sig)
            ),
        )
        for journal, sig in enumerate((signal.SIGTERM, signal.SIGHUP, signal.SIGINT), start=1)
    ]


def full_disk(work: Path, box: Sandbox, env: dict[str, str], vouchers: int) -> dict[str, Any] | None:
    """A load (journal 4) with its ledger on a 1 MB tmpfs, then resumed once it is 64 MB (`resumed`: the resume's
    measure); None where this process may not mount."""
    small = work / "small"
    small.mkdir()
    if (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(small)], capture_output=True).returncode
        != 0
    ):
        return None
    try:
        case = load_cut_short(work, box, "full", 4, vouchers, env, small / "run.sqlite", None)
        subprocess.run(["mount", "-o", "remount,size=64m", str(small)], check=True)
        case["resumed"] = case["resume"]()
        return case
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vouchers", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sandbox("economic", "--latency-ms", "40") as box:
        work = Path(tmp)
        env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(work / "cache")}
        rows = signal_cases(work, box, env, args.vouchers)
        full = full_disk(work, box, env, args.vouchers // 2)
        if full is not None:
            rows.append(("ledger on a full 1 MB disk", full))
        for _, case in rows:
            if "resumed" not in case:
                case["resumed"] = case["resume"]()
            case["in_api"] = count_in_journal(box, case["journal"])
        rows.append(("planner child, loader SIGKILLed", orphaned_planner(work)))
        config = work / "job.toml"
        config.write_text('[job]\nconcurrency = "8"\n')
        rows.append(
            (
                'job file `concurrency = "8"`',
                _run(
                    [
                        sys.executable,
                        "-m",
                        "bulkload",
                        "load",
                        "economic",
                        str(work / "SIGTERM.csv"),
                        "--config",
                        str(config),
                    ],
                    env,
                    work,
                ),
            )
        )
    print("| case | exit | s to exit | peak RSS MB | loaded at stop | report | resume exit | rows in API / input |")
    print("|---|---:|---:|---:|---:|---|---:|---:|")
    for name, c in rows:
        in_api = f"{c['in_api']:,} / {c['rows']:,}" if "in_api" in c else "-"
        resumed = c["resumed"]["exit"] if "resumed" in c else "-"
        print(
            f"| {name} | {c['exit']} | {c['after_s']:.2f} | {c['peak_rss_mb']:.0f} | "
            f"{c.get('loaded_at_stop', '-')} | {'yes' if c.get('report') else '-'} | {resumed} | {in_api} |"
        )
    for name, c in rows:
        if c.get("said", "").strip():
            print(f"- {name}: `{c['said'].strip().splitlines()[-1]}`")


if __name__ == "__main__":
    main()
