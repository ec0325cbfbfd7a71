"""`bulkload demo`: the whole flow against embedded sandboxes with the shipped samples, in one command."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from . import runner
from .errors import ConfigError
from .job import Job
from .report import print_summary
from .sandbox import SandboxOptions, running

# the sandbox accepts any non-empty pair except demo/demo, which the real API keeps read-only
DEMO_ENV = {"ECONOMIC_APP_SECRET_TOKEN": "demo-app-secret", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "demo-agreement-grant"}


def samples_dir() -> Path:
    for candidate in (Path.cwd() / "samples", Path(__file__).resolve().parent.parent / "samples"):
        if (candidate / "economic" / "entries.csv").is_file():
            return candidate
    raise ConfigError("cannot find samples/economic/entries.csv; run `bulkload demo` from the bulkload checkout")


async def demo(workdir: str | None = None) -> int:
    samples = samples_dir()
    out = Path(workdir or Path("bulkload-demo") / time.strftime("%Y%m%d-%H%M%S"))
    out.mkdir(parents=True, exist_ok=True)
    # a little weather: some 5xx and some calls committed whose answer is lost, to show exactly-once at work
    options = SandboxOptions(latency_ms=10, fault_rate=0.05, drop_rate=0.05, seed=7)
    async with running("economic", options) as base_url:
        print(f"e-conomic sandbox at {base_url} (5 % server errors, 5 % answers lost after commit)", flush=True)
        job = Job(
            target="economic",
            files=[str(samples / "economic" / "entries.csv")],
            base_url=base_url,
            ledger=str(out / "economic.ledger.sqlite"),
            rejects=str(out / "economic.rejects.csv"),
            report=str(out / "economic.report.json"),
            batch_size=100,
            concurrency=4,
        )
        report = await runner.load(job, env=DEMO_ENV, progress=sys.stderr.isatty())
    print_summary(report)
    print(f"report: {job.report}")
    reconciled = report["status"] == "complete" and bool(report["reconcile"] and report["reconcile"]["ok"])
    print("demo: every row loaded once or rejected with its reason, and reconciled" if reconciled
          else "demo: the flow did not complete; see above")
    return 0 if reconciled else int(report["exit_code"])
