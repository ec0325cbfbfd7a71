"""A manifest job whose run stopped part way, refused on `bulkload run MANIFEST --resume` because one of its files
changed since its run began: the summary and fleet.json showed it `-` (no report), its rows loaded and in doubt
left out of the totals, where the agreement held them (a tester, t53b: "6,000 loaded, 0 in doubt" with 791 rows
of the refused job in its books and 97 in doubt). A job refused without --resume kept the report of where its run
stopped; refused with it, it keeps it too (docs/migrations.md: what it loaded stays in the totals)."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import write_entries
from test_fleet import ENV, _one_job, entries_of, grant

from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running


async def test_a_stopped_job_refused_on_resume_for_a_changed_file_keeps_where_it_stopped(tmp_path: Path) -> None:
    write_entries(tmp_path / "a.csv", 40)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "a", ["a.csv"], extra="batch_size = 4\ndaily_quota = 6\n"))
            stopped = await run_manifest(read_manifest(str(path)), env=ENV)
            assert stopped.jobs[0].status == "stopped", stopped
            held = len(await entries_of(url, grant(0)))
            with (tmp_path / "a.csv").open("a", encoding="utf-8") as f:  # the file changed before the resume
                f.write("\n")
            path.write_text(_one_job(url, "a", ["a.csv"], extra="batch_size = 4\ndaily_quota = 100000\n"))
            refused = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
            after = len(await entries_of(url, grant(0)))
    (job,) = refused.jobs
    assert (job.status, refused.exit_code, after) == ("refused", 2, held), job.error
    assert "changed since the run started" in str(job.error), job.error
    assert job.report is not None and job.stored is True, job  # the report of where it stopped
    assert refused.totals["loaded"] == stopped.totals["loaded"] > 0, (refused.totals, stopped.totals)
    assert refused.totals["rows_not_sent"] == stopped.totals["rows_not_sent"] > 0, refused.totals
