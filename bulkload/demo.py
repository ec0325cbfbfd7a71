"""`bulkload demo`: the whole flow against embedded sandboxes with the shipped samples, in one command."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from . import runner
from .errors import ConfigError
from .job import Job
from .report import print_summary
from .results import Report
from .sandbox import SandboxOptions, running
from .targets import TARGETS

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
#: how a demo that did not complete is run again: never resumed (see in_doubt_note)
AGAIN = "run the demo again, not a resume"
#: the same, where --workdir named its folder, which now holds that demo's ledgers (see demo_folder)
AGAIN_ELSEWHERE = "run the demo again with another --workdir, not a resume"


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
        # PayorCRM does not say that a refused upload stored nothing: the other rows of a call it refuses (the
        # samples hold customers whose email it refuses) are in doubt. One row a call, none but the refused one is
        batch_size=1,
    ),
]


def sample(files: ExitStack, name: str) -> str:
    """The path of the shipped sample `name` ("economic/entries.csv", package data under bulkload/samples/), there
    until `files` closes: the installed package's own file, or a temporary copy where the package is zipped."""
    return str(files.enter_context(resources.as_file(resources.files(__package__) / "samples" / name)))


async def run_flow(flow: Flow, out: Path, quiet: bool = False) -> Report:
    """Load one flow's samples into a sandbox of its own, which ends with the flow; print its summary (`quiet`:
    nothing, the demo's one line says it)."""
    stem = out / flow.name
    with ExitStack() as samples:
        named = TARGETS[flow.target].flags.file_options  # options that name a sample file
        options = {k: sample(samples, v) if k in named else v for k, v in flow.options.items()}
        files = [sample(samples, f) for f in flow.files]
        async with running(flow.target, WEATHER) as base_url:
            if not quiet:
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
            progress = sys.stderr.isatty() and not quiet
            report = await runner.load(job, env=DEMO_ENV, progress=progress, raise_on_stop=False)
    if not quiet:
        # names the report file; not the commands that settle rows in doubt, which the sandbox gone could only fail:
        # in_doubt_note says what a user does with them
        print_summary(msgspec.structs.replace(report, in_doubt_way_on=None))
    return report


def quiet_line(reports: list[Report], out: Path, ok: bool, again: str = AGAIN) -> str:
    """The demo's summary under -q, one line: whether every flow completed and reconciled (`ok`; else `again`, how
    to run it again), what became of each flow's rows, and the folder of its ledgers, rejects, in-doubt files and
    reports."""
    flows = "; ".join(
        f"{flow.name}: {r.status}, {r.loaded:,} loaded, {r.rejected:,} rejected, {r.in_doubt:,} in doubt"
        + (", reconciliation: MISMATCH" if r.reconcile is not None and not r.reconcile.ok else "")
        for flow, r in zip(FLOWS, reports)
    )
    how = "complete, all reconciled" if ok else f"a flow did not complete ({again})"
    return f"bulkload demo: {how}: {flows}; files: {out}"


def in_doubt_note(reports: list[Report]) -> list[str]:
    """Where the demo's rows in doubt are listed, and what a user does with such rows against a real API. No
    command to run: the sandboxes the demo's ledgers name are gone, so a resume of them could only fail."""
    doubtful = [r for r in reports if r.in_doubt]
    if not doubtful:
        return []
    return [
        f"{sum(r.in_doubt for r in doubtful)} rows are in doubt: their call may or may not have been carried out, and"
        " an API without idempotency keys is never sent a call twice blindly. They are listed in:",
        *(f"  {r.in_doubt_file}  ({r.in_doubt} rows; ledger {r.ledger})" for r in doubtful),
        "Against a real API you would look those rows up there: `bulkload resume --resend-in-doubt --ledger` and"
        " that run's ledger sends every call still in doubt again, and creates twice any the API did carry out, so it"
        " is for when the API holds none of them. Here there is nothing to resume: each flow's sandbox ended with"
        " the flow.",
    ]


def demo_folder(given: str | None) -> Path:
    """The folder the demo writes into, made: `given` (--workdir), or a new one under ./bulkload-demo/ named by the
    time. ConfigError (exit 2, before any sandbox starts) where it cannot be made or written, or where it holds an
    earlier demo's ledgers: the demo would be refused them (a ledger that holds a run), and what that refusal
    offers, resume or rollback, cannot work on them, as the sandboxes they name ended with that demo."""
    if given is None:
        first = Path("bulkload-demo") / time.strftime("%Y%m%d-%H%M%S")
        out, n = first, 2
        while out.exists():  # a demo begun in the same second
            out, n = first.with_name(f"{first.name}-{n}"), n + 1
        where, instead = f"the demo's folder {out.absolute()}", "give one with --workdir DIR"
    else:
        out = Path(given)
        where, instead = f"--workdir {out}", "give --workdir a folder that can be made and written"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"cannot use {where}: it is a file, not a folder; {instead}")
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".bulkload-probe-", dir=out)  # writable also where access bits mislead
    except OSError as exc:
        raise ConfigError(f"cannot make or write in {where}: {exc.strerror or exc}; {instead}") from exc
    os.close(fd)
    os.unlink(probe)
    earlier = [path.name for flow in FLOWS if (path := out / f"{flow.name}.ledger.sqlite").exists()]
    if earlier:
        raise ConfigError(
            f"{where} holds an earlier demo's ledgers ({', '.join(earlier)}): their sandboxes ended with that demo, "
            "so they can be neither continued nor rolled back, and a demo there would be refused them; give "
            f"another --workdir, or remove {out} (or those ledgers) and run the demo there again"
        )
    return out


async def demo(workdir: str | None = None, quiet: bool = False) -> int:
    """Load every flow's samples into its own sandbox, then say how it went (`quiet`: in one line, no tables).
    Returns the exit code: 0 when every flow completed and reconciled, else the worst flow's; ConfigError where the
    folder cannot be used (see demo_folder)."""
    out = demo_folder(workdir)
    again = AGAIN if workdir is None else AGAIN_ELSEWHERE
    if not quiet:
        print("Each API runs in a sandbox with 5 % server errors and 5 % of calls carried out whose answer is lost.")
    reports = [await run_flow(flow, out, quiet) for flow in FLOWS]
    ok = all(r.status == "complete" and r.reconcile is not None and r.reconcile.ok for r in reports)
    if quiet:
        print(quiet_line(reports, out, ok, again))
    elif ok:
        print("\ndemo: every row loaded once, rejected with its reason, or listed as in doubt; all reconciled")
        for line in in_doubt_note(reports):
            print(line)
    else:
        # a stopped flow's summary names `bulkload resume --ledger …`: its sandbox is gone, so that cannot work here
        print(f"\ndemo: a flow did not complete; see above (its sandbox ended with it: {again})")
    return 0 if ok else max(r.exit_code for r in reports)
