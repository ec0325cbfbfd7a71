"""`bulkload demo`: the whole flow against embedded sandboxes with the shipped samples, in one command."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import runner
from .errors import ConfigError
from .job import Job
from .report import print_summary
from .results import Report
from .sandbox import SandboxOptions, running

# sandbox credentials; the e-conomic sandbox keeps the pair demo/demo read-only, as the real API does
DEMO_ENV = {
    "ECONOMIC_APP_SECRET_TOKEN": "demo-app-secret",
    "ECONOMIC_AGREEMENT_GRANT_TOKEN": "demo-agreement-grant",
    "HALO_CLIENT_ID": "demo-client",
    "HALO_CLIENT_SECRET": "demo-client-secret",
    "VISMA_CORE_TOKEN": "demo-core-token",
    "PAYORCRM_API_KEY": "demo-key",
    "PAYORCRM_API_SECRET": "demo-secret",
}
# a little weather: some 5xx, and some calls carried out whose answer is then lost
WEATHER = SandboxOptions(latency_ms=10, fault_rate=0.05, drop_rate=0.05, seed=7)
#: the embedded sandboxes commit a write before they answer it: a lost answer's records are listed at once, so
#: the demo need not wait out a real API's commit time before it looks again
SETTLE_S = 0.5


@dataclass
class Flow:
    name: str
    title: str
    target: str
    files: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    batch_size: int | None = None


FLOWS = [
    Flow("economic", "e-conomic journal entries", "economic", ["economic/entries.csv"], batch_size=100),
    Flow(
        "halopsa",
        "HaloPSA Xero, QuickBooks and Avalara settings",
        "halopsa",
        ["halopsa/XeroDetails.csv", "halopsa/QuickBooksDetails.jsonl", "halopsa/AvalaraDetails.csv"],
        {"match_on": "name"},
        batch_size=10,
    ),
    Flow("visma-core", "Visma Core entries and drafts", "visma-core", ["visma_core/entries.csv"]),
    Flow(
        "visma-core-costs", "Visma Core seller/buyer costs", "visma-core", ["visma_core/costs.csv"], {"kind": "costs"}
    ),
    Flow(
        "payorcrm",
        "PayorCRM customers, then invoices",
        "payorcrm",
        [],
        {"customers": "payorcrm/customers.csv", "invoices": "payorcrm/invoices.csv", "amount_unit": "major"},
        batch_size=50,
    ),
]


def samples_dir() -> Path:
    for candidate in (Path.cwd() / "samples", Path(__file__).resolve().parent.parent / "samples"):
        if (candidate / "economic" / "entries.csv").is_file():
            return candidate
    raise ConfigError("cannot find samples/; run `bulkload demo` from the bulkload checkout")


async def run_flow(flow: Flow, samples: Path, out: Path) -> Report:
    stem = out / flow.name
    options = {k: str(samples / v) if k in ("customers", "invoices") else v for k, v in flow.options.items()}
    files = [str(samples / f) for f in flow.files]
    async with running(flow.target, WEATHER) as base_url:
        print(f"\n== {flow.title}: sandbox at {base_url}", flush=True)
        job = Job(
            target=flow.target,
            files=files,
            base_url=base_url,
            target_options=options,
            ledger=f"{stem}.ledger.sqlite",
            rejects=f"{stem}.rejects.csv",
            report=f"{stem}.report.json",
            batch_size=flow.batch_size,
            concurrency=4,
            settle_s=SETTLE_S,
        )
        report = await runner.load(job, env=DEMO_ENV, progress=sys.stderr.isatty())
    print_summary(report)
    print(f"report: {job.report}")
    return report


async def demo(workdir: str | None = None) -> int:
    samples = samples_dir()
    out = Path(workdir or Path("bulkload-demo") / time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    print("Each API runs in a sandbox with 5 % server errors and 5 % of calls carried out whose answer is lost.")
    reports = [await run_flow(flow, samples, out) for flow in FLOWS]
    ok = all(r.status == "complete" and r.reconcile and r.reconcile.ok for r in reports)
    in_doubt = sum(r.in_doubt for r in reports)
    print()
    if ok:
        print(
            "demo: every row loaded once, rejected with its reason, or listed as in doubt; all reconciled"
            + (
                f" ({in_doubt} rows in doubt: APIs without idempotency keys are never sent twice blindly;"
                " `bulkload resume --resend-in-doubt` sends them if you decide so)"
                if in_doubt
                else ""
            )
        )
        return 0
    print("demo: a flow did not complete; see above")
    return max(r.exit_code for r in reports)
