"""A manifest job whose run stopped part way (its daily quota, a kill -9), its `files` edited before `bulkload run
MANIFEST --resume`: the resume went on with the files its run began with, without a word, so a file added was never
sent while the job said `complete`, exit 0, and a file taken out was loaded all the same (a tester, t21e). Now it is
refused as a finished job is (docs/migrations.md: exit 2 for that job, also with `--resume` and for a queued job's
worker), naming each file added or taken out and the way on; nothing is sent. test_queue has the worker's."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import write_entries
from test_fleet import ENV, _one_job, entries_of, grant

from bulkload.fleet import FleetReport, run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

STOPS = "batch_size = 4\ndaily_quota = 6\n"


async def _stopped_then_resumed(
    tmp_path: Path, first: list[str], then: list[str]
) -> tuple[FleetReport, FleetReport, int, int]:
    """The job stopped by its quota with `first`, then with `then` resumed (quota raised), then resumed with `first`
    given back; the entries the server held after the stop and after the edited resume."""
    write_entries(tmp_path / "a.csv", 40)
    write_entries(tmp_path / "b.csv", 20, first_voucher=1001, seed=2)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "a", first, extra=STOPS))
            stopped = await run_manifest(read_manifest(str(path)), env=ENV)
            assert stopped.jobs[0].status == "stopped" and stopped.exit_code == 4, stopped
            held = len(await entries_of(url, grant(0)))
            path.write_text(_one_job(url, "a", then, extra="batch_size = 4\ndaily_quota = 100000\n"))
            edited = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
            after = len(await entries_of(url, grant(0)))
            path.write_text(_one_job(url, "a", first, extra="batch_size = 4\ndaily_quota = 100000\n"))
            back = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
    assert (back.jobs[0].status, back.exit_code) == ("complete", 0), back.jobs[0].error  # the way on works
    return edited, back, held, after


async def test_a_file_added_to_a_stopped_job_refuses_its_resume_naming_it(tmp_path: Path) -> None:
    edited, _, held, after = await _stopped_then_resumed(tmp_path, ["a.csv"], ["a.csv", "b.csv"])
    (job,) = edited.jobs
    said = str(job.error)
    assert (job.status, edited.exit_code, after) == ("refused", 2, held), (job.status, said)
    assert "b.csv added" in said and 'files = ["a.csv"]' in said and "a job of its own" in said, said
    assert job.report is not None  # the report of where it stopped stays in the totals


async def test_a_file_taken_out_of_a_stopped_job_refuses_its_resume_naming_it(tmp_path: Path) -> None:
    edited, _, held, after = await _stopped_then_resumed(tmp_path, ["a.csv", "b.csv"], ["a.csv"])
    (job,) = edited.jobs
    said = str(job.error)
    assert (job.status, edited.exit_code, after) == ("refused", 2, held), (job.status, said)
    assert "b.csv taken out" in said and "bulkload rollback --ledger" in said, said
    assert 'ECONOMIC_AGREEMENT_GRANT_TOKEN="$' in said, said  # the rollback with the job's credentials


async def test_a_stopped_job_given_other_files_is_refused_without_resume_too(tmp_path: Path) -> None:
    write_entries(tmp_path / "a.csv", 40)
    write_entries(tmp_path / "b.csv", 20, first_voucher=1001, seed=2)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "a", ["a.csv"], extra=STOPS))
            await run_manifest(read_manifest(str(path)), env=ENV)
            path.write_text(_one_job(url, "a", ["a.csv", "b.csv"], extra=STOPS))
            again = await run_manifest(read_manifest(str(path)), env=ENV)
    # told what --resume would refuse, not told to run --resume
    assert "b.csv added" in str(again.jobs[0].error), again.jobs[0].error
