"""A job stopped part way, then renamed in the manifest ('old' -> 'new'; its base_url changed too, say), is refused
on `bulkload run MANIFEST --resume` as a load twice of the old job's file. It was told "If that run has not
finished, continue it with `bulkload run MANIFEST --resume` (job 'old''s ledger)": the very command just run, refused
the same way forever, and "if" though the ledger says the run did not finish (a tester, t21e). The way on now is one
that works: give the job its old name (and base_url) back, then --resume; or resume that ledger by hand. Likewise
a stopped job only given another base_url (its run created records where it was): put it back, then --resume."""

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


@pytest.mark.parametrize("moved", [False, True], ids=["renamed", "renamed at another base_url"])
async def test_a_renamed_stopped_job_is_told_to_give_it_its_name_back_which_resumes_it(
    tmp_path: Path, moved: bool
) -> None:
    write_entries(tmp_path / "a.csv", 40)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "old", ["a.csv"], extra=STOPS))
            stopped = await run_manifest(read_manifest(str(path)), env=ENV)
            assert stopped.jobs[0].status == "stopped", stopped
            elsewhere = url.replace("127.0.0.1", "localhost") if moved else url
            path.write_text(_one_job(elsewhere, "new", ["a.csv"], extra=STOPS))
            again = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
            # what the refusal says to do, done: the old name (and address) back, then --resume
            path.write_text(_one_job(url, "old", ["a.csv"], extra="batch_size = 4\n"))
            third = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
    (job,) = again.jobs
    said = str(job.error)
    assert job.status == "refused", (job.status, said)
    assert "If that run has not finished" not in said and "That run has not finished (stopped)" in said, said
    assert f"`bulkload run {path} --resume` once job 'new' has its name back (name = \"old\")" in said, said
    assert (f'base_url back (base_url = "{url}"' in said) == moved, said
    ledger = tmp_path / "runs" / "old" / "ledger.sqlite"
    by_hand = 'ECONOMIC_APP_SECRET_TOKEN="$APP" ECONOMIC_AGREEMENT_GRANT_TOKEN="$GRANT0" bulkload resume'
    assert f"or by hand with `{by_hand} --ledger {ledger}`" in said, said
    assert (third.jobs[0].status, third.exit_code) == ("complete", 0), third.jobs[0].error


async def test_a_stopped_job_given_another_base_url_is_told_to_put_it_back_which_resumes_it(tmp_path: Path) -> None:
    # the tester's w/e15: told `bulkload run MANIFEST --resume`, refused the same way again at the new base_url
    write_entries(tmp_path / "a.csv", 40)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "a", ["a.csv"], extra=STOPS))
            assert (await run_manifest(read_manifest(str(path)), env=ENV)).jobs[0].status == "stopped"
            path.write_text(_one_job(url.replace("127.0.0.1", "localhost"), "a", ["a.csv"], extra="batch_size = 4\n"))
            again = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
            path.write_text(_one_job(url, "a", ["a.csv"], extra="batch_size = 4\n"))
            third = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
    said = str(again.jobs[0].error)
    assert again.jobs[0].status == "refused", said
    back = f'Put the job\'s base_url back in the manifest (base_url = "{url}"), then continue it with `bulkload run'
    assert back in said, said
    assert (third.jobs[0].status, third.exit_code) == ("complete", 0), third.jobs[0].error
