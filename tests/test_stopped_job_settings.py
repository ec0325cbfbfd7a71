"""A job stopped part way, its settings edited in the manifest before `bulkload run MANIFEST --resume`: the run went
on with the settings it began with, the edit ignored without a word (a tester, s22: `options = {journal = 2}`, the
rest of its rows loaded into journal 1, `complete`). As `bulkload resume` replaces only its --daily-quota,
--concurrency, --rate, --timeout and --base-url, `--resume` takes those from the manifest as it is now and refuses
any other setting edited since the run began (a queued job's worker too), naming the job, the setting, the run's
value and the manifest's; nothing is sent. Put back, the job resumes."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from conftest import write_entries
from test_fleet import ENV, _one_job

from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

STOPS = "batch_size = 4\ndaily_quota = 6\n"


@pytest.mark.parametrize(
    ("began", "edited", "named"),
    [
        ("options = {journal = 1}\n", "options = {journal = 2}\n", "options.journal = 2 (its run began with 1)"),
        ("", 'columns = {Amount = "amount"}\n', 'columns.Amount = "amount" (its run began with none)'),
        ("attempts = 5\n", "attempts = 3\n", "attempts = 3 (its run began with 5)"),
    ],
    ids=["options", "columns", "a load setting"],
)
async def test_a_stopped_jobs_setting_edited_in_the_manifest_is_refused_on_resume_naming_both_values(
    tmp_path: Path, began: str, edited: str, named: str
) -> None:
    write_entries(tmp_path / "a.csv", 40)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "a", ["a.csv"], extra=STOPS + began))
            stopped = await run_manifest(read_manifest(str(path)), env=ENV)
            assert stopped.jobs[0].status == "stopped", stopped
            sent = stopped.totals["requests"]
            # the quota raised (taken as it is now, as `bulkload resume --daily-quota` takes it), one setting edited
            path.write_text(_one_job(url, "a", ["a.csv"], extra="batch_size = 4\n" + edited))
            refused = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
            path.write_text(_one_job(url, "a", ["a.csv"], extra="batch_size = 4\n" + began))  # put back, as it says
            resumed = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
    (job,) = refused.jobs
    said = str(job.error)
    assert (job.status, refused.exit_code) == ("refused", 2), said
    assert f"job 'a': its run did not finish (ledger {tmp_path / 'runs' / 'a' / 'ledger.sqlite'}, stopped)" in said
    assert named in said and "nothing was sent" in said, said
    assert f"then run the manifest again (`bulkload run {path} --resume`)" in said, said
    assert job.report is not None and job.report.requests == sent  # the report of where it stopped, nothing more
    assert (resumed.jobs[0].status, resumed.exit_code, resumed.totals["loaded"]) == ("complete", 0, 80), resumed
