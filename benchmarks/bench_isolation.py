"""What isolating refused entries costs when the API does not name the bad entry: the e-conomic sandbox refusing
every call that holds a missing account (opaque answers), with bulkload's isolation budget and without it.

    python -m benchmarks.bench_isolation [--vouchers 2000] [--every 5]

Prints, for each, the calls the server counted, the groups refused, the exit code and the reason it stopped.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from aiohttp import web

from bulkload import Job, isolation, load
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.sandbox.economic_web import PREFIX

CREDS = {"ECONOMIC_APP_SECRET_TOKEN": "bench-app", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "bench-grant"}


def write(path: Path, vouchers: int, every: int) -> None:
    rnd = random.Random(5)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "entryTypeNumber",
                "journalNumber",
                "voucherNumber",
                "date",
                "amount",
                "currency",
                "accountNumber",
                "contraAccountNumber",
                "text",
                "vatCode",
            ]
        )
        for v in range(1, vouchers + 1):
            amount = f"{rnd.randint(1, 5000)}.00"
            w.writerow([5, 1, v, "2026-11-02", amount, "DKK", 9999 if v % every == 0 else 1010, "", f"Sale {v}", ""])
            w.writerow([5, 1, v, "2026-11-02", "-" + amount, "DKK", 5820, "", f"Sale {v} VAT", ""])


async def run(workdir: Path, data: Path, name: str) -> dict[str, Any]:
    app = create_app(SandboxOptions(opaque_errors=True))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
        job = Job(
            target="economic",
            files=[str(data)],
            base_url=origin + PREFIX,
            ledger=str(workdir / f"{name}.sqlite"),
            rejects=str(workdir / f"{name}.csv"),
            daily_quota=0,
        )
        started = time.monotonic()
        report = await load(job, env=CREDS, raise_on_stop=False)
        elapsed = time.monotonic() - started
        async with aiohttp.ClientSession() as s, s.get(origin + "/_sandbox/stats") as r:
            served = (await r.json())["requests"]
    finally:
        await runner.cleanup()
    return {"name": name, "served": served, "report": report, "elapsed_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vouchers", type=int, default=2000)
    parser.add_argument("--every", type=int, default=5, help="every Nth voucher books to the missing account")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        data = workdir / "entries.csv"
        write(data, ns.vouchers, ns.every)
        rows = []
        rows.append(anyio.run(run, workdir, data, "budget"))
        isolation.SAME_REASON = isolation.FLOOR = 10**9  # the loader as it was: isolate whatever it costs
        rows.append(anyio.run(run, workdir, data, "no budget"))
    print(
        f"{ns.vouchers} vouchers ({2 * ns.vouchers} rows), every {ns.every}th books to a missing account; "
        "500 entries a call, opaque refusals"
    )
    print(f"{'':10} {'calls':>7} {'refused groups':>15} {'loaded rows':>12} {'exit':>5} {'time_s':>7}  stop reason")
    for r in rows:
        rep = r["report"]
        groups = sum(rep.isolation["refused_groups_by_reason"].values())
        reason = (rep.stop_reason or "")[:90]
        print(
            f"{r['name']:10} {r['served']:>7} {groups:>15} {rep.loaded:>12} {rep.exit_code:>5} "
            f"{r['elapsed_s']:>7.1f}  {reason}"
        )


if __name__ == "__main__":
    main()
