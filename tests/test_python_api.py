"""The Python API as a script meets it: `bulkload.load` called from a plain script with no main guard (the planning
child must not run the script again), and a stopped run raised as RunStopped with its typed report."""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, SandboxProcess, child_env, sandbox_read, write_entries

import bulkload
from bulkload.planning import PlanningProcess, planning_for
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions, running

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "load_from_script.py"


@pytest.mark.slow
def test_the_example_script_loads_a_file_planned_in_a_child_with_no_main_guard(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    data = tmp_path / "entries.csv"
    totals = write_entries(data, 3000)
    assert planning_for([data]) is PlanningProcess  # large enough to be planned in a process of its own
    assert "__name__" not in {n.id for n in ast.walk(ast.parse(EXAMPLE.read_text())) if isinstance(n, ast.Name)}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(data), sandbox_process.url],
        env=child_env({**CREDS, "XDG_CACHE_HOME": str(tmp_path / "cache")}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    rows = totals["rows"]
    assert f"loaded {rows} of {rows} rows (0 rejected, 0 in doubt, 0 skipped: loaded by an earlier run) in " in (
        done.stdout
    ), done.stdout
    assert "reconciled: True" in done.stdout, done.stdout
    assert f"ledger: {data}.ledger.sqlite" in done.stdout


def test_the_example_script_without_its_file_prints_its_usage_and_exits_2(tmp_path: Path) -> None:
    """Run as docs/python-api.md once showed it, with no file: before, an IndexError's traceback at sys.argv[1]."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        env=child_env({**CREDS, "XDG_CACHE_HOME": str(tmp_path / "cache")}),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stdout + done.stderr
    assert done.stderr == "usage: python load_from_script.py ENTRIES.csv [BASE_URL]\n", done.stderr


def test_the_example_script_without_credentials_says_what_is_missing_and_exits_2(tmp_path: Path) -> None:
    """Its docstring promises the exit code `bulkload load` gives, 2 for what must be corrected before anything is
    sent: a missing credential ended it with ConfigError's traceback and exit 1, the code of rows rejected."""
    data = tmp_path / "entries.csv"
    write_entries(data, 10)
    env = {k: v for k, v in child_env({"XDG_CACHE_HOME": str(tmp_path / "cache")}).items() if k not in CREDS}
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), str(data), "http://127.0.0.1:9/journalsapi/v11.0.2"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (done.returncode, done.stdout) == (2, ""), done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.startswith("error: missing credential: set ECONOMIC_APP_SECRET_TOKEN"), done.stderr


async def test_a_stopped_run_raises_run_stopped_with_its_report_unless_the_report_is_asked_for(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 50)

    def job(name: str) -> bulkload.Job:
        return bulkload.Job(
            target="economic",
            files=[str(data)],
            base_url=url,
            ledger=str(tmp_path / f"{name}.sqlite"),
            rejects=str(tmp_path / f"{name}.rejects.csv"),
            batch_size=10,
            daily_quota=3,  # the skip-existing look and two calls of ten: the run stops at its quota
            allow_duplicate_load=True,
        )

    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            with pytest.raises(bulkload.RunStopped, match="daily quota of 3 calls reached") as stopped:
                await bulkload.load(job("raised"), env=CREDS)
            returned = await bulkload.load(job("returned"), env=CREDS, raise_on_stop=False)
    report = stopped.value.report
    assert isinstance(report, Report) and report.status == "stopped" and report.exit_code == 4
    assert report.ledger == os.path.abspath(tmp_path / "raised.sqlite") and 0 < report.loaded < 100
    assert report.reconcile is None and str(stopped.value) == report.stop_reason
    assert isinstance(returned, Report) and (returned.status, returned.exit_code) == ("stopped", 4)


async def test_the_planning_child_starts_while_the_files_are_inspected_and_ends_when_a_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The child's Python start and imports (some 0.5 s) pass while the files are read before the first call, not
    after; a run refused by that reading leaves no child behind."""
    import bulkload.runner

    data = tmp_path / "entries.csv"
    rows = write_entries(data, 3000)["rows"]
    assert planning_for([data]) is PlanningProcess
    children: list[PlanningProcess] = []
    seen: list[int] = []  # the children started when the files were inspected
    start, inspect = PlanningProcess.__init__, bulkload.runner.inspect

    def started(self: PlanningProcess) -> None:
        start(self)
        children.append(self)

    def inspecting(*args: object, **kwargs: object) -> object:
        seen.append(len(children))
        return inspect(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(PlanningProcess, "__init__", started)
    monkeypatch.setattr(bulkload.runner, "inspect", inspecting)

    def job(name: str, path: Path, **kw: bool) -> bulkload.Job:
        ledger = str(tmp_path / f"{name}.sqlite")
        return bulkload.Job(target="economic", files=[str(path)], base_url=url, ledger=ledger, concurrency=2, **kw)

    header, first, *rest = data.read_text().splitlines(keepends=True)
    apart = tmp_path / "apart.csv"
    apart.write_text("".join([header, *rest, first]))  # a voucher's lines apart, and --no-regroup: refused
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            report = await bulkload.load(job("loaded", data), env=CREDS)
            with pytest.raises(bulkload.ConfigError, match="are not together"):
                await bulkload.load(job("refused", apart, no_regroup=True), env=CREDS)
    assert report.status == "complete" and report.loaded == rows
    assert seen == [1, 2]  # each child was started before its run's files were read
    assert all(child._process.poll() is not None for child in children)  # and ended with its run


async def test_a_job_takes_a_scripts_paths_as_python_gives_them(tmp_path: Path) -> None:
    # a tester (t36d): files="e.csv" was taken for the files "e", ".", "c", … ("cannot read e"), and pathlib.Path's
    # stopped the load with a TypeError as it began
    data = tmp_path / "e.csv"
    write_entries(data, 5)
    one = bulkload.Job(target="economic", files=str(data))  # type: ignore[arg-type]
    assert one.files == [str(data)]
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job = bulkload.Job(
                target="economic",
                files=data,  # type: ignore[arg-type]
                base_url=url,
                ledger=tmp_path / "run.sqlite",  # type: ignore[arg-type]
                report=tmp_path / "run.json",  # type: ignore[arg-type]
            )
            report = await bulkload.load(job, env=CREDS)
    assert (job.files, job.ledger, job.report) == (
        [str(data)],
        str(tmp_path / "run.sqlite"),
        str(tmp_path / "run.json"),
    )
    assert (report.loaded, report.exit_code) == (10, 0), report
    assert (tmp_path / "run.json").exists() and (tmp_path / "run.sqlite").exists()


async def test_a_target_option_a_script_misspells_is_refused_not_ignored(tmp_path: Path) -> None:
    # a tester (t49g): target_options={"amount-unit": "major"} (the flag's name, not amount_unit) was ignored as no
    # option, and whole amounts meant in major units were booked as minor units (1500 as 15.00), exit 0
    (tmp_path / "customers.csv").write_text("customerno,emailaddress1\n900001,a@example.com\n")
    (tmp_path / "invoices.csv").write_text(
        "customerNumber,invoiceNumber,invoiceAmount,currency\n900001,INV-1,1500,EUR\n900001,INV-2,20,EUR\n"
    )
    files = {"customers": str(tmp_path / "customers.csv"), "invoices": str(tmp_path / "invoices.csv")}
    env = {"PAYORCRM_API_KEY": "key", "PAYORCRM_API_SECRET": "secret"}
    with anyio.fail_after(60):
        async with running("payorcrm", SandboxOptions()) as url:
            job = bulkload.Job(
                target="payorcrm", files=[], base_url=url, target_options={**files, "amount-unit": "major"}
            )
            with pytest.raises(bulkload.ConfigError) as refused:
                await bulkload.load(job, env=env)
            with pytest.raises(bulkload.ConfigError):
                bulkload.dry_run(job, env=env)
            held = await sandbox_read(url, "invoices")
    assert str(refused.value).startswith(
        "unknown option 'amount-unit' of payorcrm in target_options, did you mean 'amount_unit'?"
    ), refused.value
    assert held == [] and not (tmp_path / "invoices.csv.ledger.sqlite").exists()


async def test_a_load_its_script_cancels_reports_it_cancelled_not_interrupted_by_ctrl_c(tmp_path: Path) -> None:
    # a tester (t49g): a load cut short by the script's own asyncio timeout (or task.cancel()) reported
    # "interrupted (Ctrl-C)", a key nobody pressed
    data = tmp_path / "entries.csv"
    write_entries(data, 200)
    got: list[Report] = []
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(latency_ms=50)) as url:
            job = bulkload.Job(target="economic", files=[str(data)], base_url=url, batch_size=10, concurrency=1)
            task = asyncio.create_task(bulkload.load(job, env=CREDS, interrupted=got.append))
            for _ in range(1000):  # until its first upload is on its way
                if (await sandbox_read(url.split("/journalsapi")[0], "stats"))["by_method"].get("POST"):
                    break
                await asyncio.sleep(0.02)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            resumed = await bulkload.resume(job.ledger_path, env=CREDS)
    (report,) = got
    assert report.status == "stopped" and report.exit_code == 4, report
    assert report.stop_reason is not None and report.stop_reason.startswith(
        f"cancelled; `bulkload resume --ledger {job.ledger_path}` continues it"
    ), report.stop_reason
    assert (resumed.loaded, resumed.exit_code, resumed.reconcile and resumed.reconcile.ok) == (400, 0, True), resumed


async def test_reconcile_takes_its_report_as_a_path(tmp_path: Path) -> None:
    # a tester (t49g): reconcile(ledger, report=Path(...)) walked the journal, then raised a TypeError (the Path
    # could not be encoded into the report) and wrote no report, where resume and rollback take a Path
    data = tmp_path / "e.csv"
    write_entries(data, 5)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job = bulkload.Job(target="economic", files=[data], base_url=url)  # type: ignore[list-item]
            await bulkload.load(job, env=CREDS)
            report = await bulkload.reconcile(job.ledger_path, report=tmp_path / "reconciled.json", env=CREDS)
    assert (report.status, report.report_file) == ("reconciled", str(tmp_path / "reconciled.json")), report
    assert json.loads((tmp_path / "reconciled.json").read_text())["status"] == "reconciled"
