"""Many agreements from one process (issue 16, item 2): `bulkload run MANIFEST` with one job per agreement against
one e-conomic sandbox process that keeps a sandbox of its own per agreement (`bulkload sandbox economic
--agreements`: its own store, rate limit and stats per X-AgreementGrantToken, as the API keys agreements).

    python -m benchmarks.agreements [--agreements 200] [--rows 5000] [--rate 0.1] [--latency-ms 20]

Prints the wall time of the whole run against the theoretical minimum (the slowest agreement's own: the calls the
server carried out for it ÷ its rate), the CPU seconds (user + sys) of the loader's process tree and of the sandbox,
the loader's peak RSS, and what the server counted (calls, 429s, the most calls in flight at once).

Why one sandbox process rather than one per agreement: 200 Python processes would take some 6 GB and 200 event
loops on 2 cores; one aiohttp server keyed by the agreement's header is how the real API tells them apart too.
Why this rate: the real limits (e-conomic's fair use, HaloPSA's 300 per 5 minutes) would make the run hours long;
the per-agreement rate is chosen so that the CPU every agreement's rows need (the loader's and the sandbox's,
some 60 µs a row in all on this machine) fits into its minimum on one of the two cores, with room for a machine
others share: at 0.1 calls/s an agreement of 5,000 rows needs ~20 calls, ~200 s; 200 such agreements are
1,000,000 rows, some 60 CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import data_file, measure, sandbox
from bulkload.sandbox.agreements import AGREEMENTS_PATH, agreement_id


def manifest(folder: Path, url: str, data: Path, agreements: int, rate: float, cap: int) -> Path:
    """One job per agreement, each loading `data` under its own grant token (GRANT_<n> in the environment), at
    `rate` calls per second."""
    text = [
        f'max_connections = {cap}\noutput_dir = "runs"\n[defaults]\ntarget = "economic"\nbase_url = "{url}"\n'
        f"rate = {rate}\nconcurrency = 2\n"
    ]
    for a in range(agreements):
        text.append(
            f'[[job]]\nname = "agreement-{a:04d}"\nfiles = ["{data}"]\n'
            f'credentials = {{env = {{ECONOMIC_APP_SECRET_TOKEN = "APP", '
            f'ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT_{a}"}}}}\n'
        )
    path = folder / "agreements.toml"
    path.write_text("\n".join(text))
    return path


#: the client's rate, as a share of the API's
CLIENT_SHARE = 0.98


def answered(stats: dict[str, Any]) -> int:
    """The calls an agreement's sandbox carried out: its requests but those refused with 429."""
    return int(stats["requests"]) - int(stats["by_status"].get("429", 0))


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(agreements: int, rows: int, rate: float, latency_ms: float, cap: int) -> dict[str, Any]:
    data = data_file("economic", rows)
    with tempfile.TemporaryDirectory(prefix="bulkload-agreements-") as tmp:
        folder = Path(tmp)
        flags = ["--agreements", "--rate-limit", str(rate), "--latency-ms", str(latency_ms)]
        with sandbox("economic", *flags) as box:
            # the client a hair under the API's rate, as one runs against a real limit: a call 2 % late is never
            # the one a sliding window of one call refuses for arriving a millisecond early
            path = manifest(folder, box.url, data, agreements, rate * CLIENT_SHARE, cap)
            env = {"APP": "bench-app", "XDG_CACHE_HOME": str(folder / "cache")}
            env |= {f"GRANT_{a}": f"bench-grant-{a}" for a in range(agreements)}
            before = cpu_s(box.proc.pid)
            started = time.perf_counter()
            out = measure(
                [sys.executable, "-m", "bulkload", "run", str(path), "--json", "--no-progress", "-q"],
                env=env,
                stdout=folder / "fleet.json",
                stderr=folder / "stderr.txt",
            )
            out["sandbox_cpu_s"] = cpu_s(box.proc.pid) - before
            out["wall_check_s"] = time.perf_counter() - started
            front = box.stats()
            per = box.get(AGREEMENTS_PATH.removeprefix("/_sandbox/"))
        report = json.loads(out.pop("printed") or "{}")
    # the calls an agreement needed: those the server carried out (a 429 is a call that was not)
    needed = {a: answered(per[agreement_id(f"bench-grant-{a}")]) for a in range(agreements)}
    slowest = max(needed.values())
    out.update(
        agreements=agreements,
        rows_per_agreement=rows,
        rate=rate,
        cap=cap,
        totals=report.get("totals"),
        exit_code=report.get("exit_code"),
        not_complete=[j["name"] for j in report.get("jobs", []) if j["status"] != "complete"],
        server_requests=front["requests"],
        server_429=sum(p["by_status"].get("429", 0) for p in per.values()),
        server_max_in_flight=front["max_in_flight"],
        slowest_detail=max(per.values(), key=answered),
        slowest_calls=slowest,
        minimum_s=slowest / rate,
    )
    out["ratio"] = out["wall_s"] / out["minimum_s"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agreements", type=int, default=200)
    parser.add_argument("--rows", type=int, default=5000, help="rows per agreement")
    parser.add_argument("--rate", type=float, default=0.1, help="calls per second per agreement (sandbox and client)")
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--cap", type=int, default=64, help="max_connections across every job")
    ns = parser.parse_args()
    out = run(ns.agreements, ns.rows, ns.rate, ns.latency_ms, ns.cap)
    print(json.dumps(out, indent=2))
    print(
        f"{out['agreements']} agreements × {out['rows_per_agreement']:,} rows at {out['rate']} calls/s each: "
        f"wall {out['wall_s']:.1f} s against a minimum of {out['minimum_s']:.1f} s ({out['ratio']:.2f}×; the "
        f"slowest agreement's {out['slowest_calls']} calls ÷ its rate); CPU {out['cpu_s']:.1f} s (loader) + "
        f"{out['sandbox_cpu_s']:.1f} s (sandbox); peak RSS {out['peak_rss_mb']:.0f} MB; exit {out['exit_code']}; "
        f"429s {out['server_429']}; at most {out['server_max_in_flight']} calls in flight"
    )


if __name__ == "__main__":
    main()
