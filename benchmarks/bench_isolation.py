"""What isolating refused entries costs when the API does not name the bad entry: the e-conomic sandbox refusing
every call that holds a missing account (opaque answers), with bulkload's isolation budget and without it.

    python -m benchmarks.bench_isolation [--vouchers 2000] [--every 5]

Prints, for each, the calls the server counted, the groups refused, the rows loaded, the exit code, the budget it
ran with and the reason it stopped.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import anyio
from aiohttp import web

from bulkload import Job, isolation, load, pipeline
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.sandbox.economic_web import PREFIX

CREDS = {"ECONOMIC_APP_SECRET_TOKEN": "bench-app", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "bench-grant"}
#: limits no run reaches: the loader as it was before isolating had a budget
UNBOUNDED = 10**9


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


@contextmanager
def unbudgeted() -> Iterator[None]:
    """The runs within isolate whatever it costs. The loader makes its budget as `IsolationBudget()`, whose limits are
    default arguments, taken when the class was defined: setting the module's constants changes no run's."""

    class Unbounded(isolation.IsolationBudget):
        def __init__(self) -> None:
            super().__init__(same_reason=UNBOUNDED, floor=UNBOUNDED)

    with mock.patch.object(pipeline, "IsolationBudget", Unbounded):
        yield


async def run(workdir: Path, data: Path, name: str, *, budget: bool = True) -> dict[str, Any]:
    """A load of `data` into an opaque e-conomic sandbox, with bulkload's isolation budget or (`budget` False)
    without: the server's request count, the Report and the seconds it took. RuntimeError where the run's report
    shows another budget than asked for (a benchmark that measured the wrong thing)."""
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
        with nullcontext() if budget else unbudgeted():
            report = await load(job, env=CREDS, raise_on_stop=False)
        elapsed = time.monotonic() - started
        async with aiohttp.ClientSession() as s, s.get(origin + "/_sandbox/stats") as r:
            served = (await r.json())["requests"]
    finally:
        await runner.cleanup()
    if (report.isolation["budget_calls"] >= UNBOUNDED) == budget:
        raise RuntimeError(f"the {name!r} run had a budget of {report.isolation['budget_calls']:,} calls")
    return {"name": name, "served": served, "report": report, "elapsed_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_isolation", description=__doc__.split("\n\n")[0].replace("\n", " ")
    )
    parser.add_argument("--vouchers", type=int, default=2000)
    parser.add_argument("--every", type=int, default=5, help="every Nth voucher books to the missing account")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        data = workdir / "entries.csv"
        write(data, ns.vouchers, ns.every)
        rows = [
            anyio.run(run, workdir, data, "budget"),
            anyio.run(partial(run, workdir, data, "no budget", budget=False)),
        ]
    print(
        f"{ns.vouchers} vouchers ({2 * ns.vouchers} rows), every {ns.every}th books to a missing account; "
        "500 entries a call, opaque refusals"
    )
    print(
        f"{'':10} {'calls':>7} {'refused groups':>15} {'loaded rows':>12} {'rejected rows':>14} {'exit':>5} "
        f"{'budget':>7} {'time_s':>7}  stop reason"
    )
    for r in rows:
        rep = r["report"]
        groups = sum(rep.isolation["refused_groups_by_reason"].values())
        allowed = rep.isolation["budget_calls"]
        reason = (rep.stop_reason or "")[:90]
        print(
            f"{r['name']:10} {r['served']:>7} {groups:>15} {rep.loaded:>12} {rep.rejected:>14} {rep.exit_code:>5} "
            f"{allowed if allowed < UNBOUNDED else 'none':>7} {r['elapsed_s']:>7.1f}  {reason}"
        )


if __name__ == "__main__":
    main()
