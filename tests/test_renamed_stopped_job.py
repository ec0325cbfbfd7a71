"""A job stopped part way, then renamed in the manifest ('old' -> 'new'; its base_url changed too, say), is refused
on `bulkload run MANIFEST --resume` as a load twice of the old job's file. It was told "If that run has not
finished, continue it with `bulkload run MANIFEST --resume` (job 'old''s ledger)": the very command just run, refused
the same way forever, and "if" though the ledger says the run did not finish (a tester, t21e). The way on now is one
that works: give the job its old name (and base_url) back, then --resume; or resume that ledger by hand. Likewise
a stopped job only given another base_url (its run created records where it was): put it back, then --resume."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from conftest import write_entries
from test_fleet import ENV, _one_job

from bulkload.fleet import FleetReport, run_manifest
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


async def _stopped_changed_put_back(
    tmp_path: Path, changed: Callable[[str], str]
) -> tuple[Path, str, FleetReport, FleetReport]:
    """A manifest of job 'a' (40 entries) stopped by its daily quota, resumed once written as `changed(url)` makes it,
    then once more as it was: its path, the sandbox's API root, and the two resumes' reports."""
    write_entries(tmp_path / "a.csv", 40)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "a", ["a.csv"], extra=STOPS))
            assert (await run_manifest(read_manifest(str(path)), env=ENV)).jobs[0].status == "stopped"
            path.write_text(changed(url))
            again = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
            path.write_text(_one_job(url, "a", ["a.csv"], extra="batch_size = 4\n"))
            third = await run_manifest(read_manifest(str(path)), env=ENV, resume=True)
    return path, url, again, third


async def test_a_stopped_job_given_another_base_url_is_told_to_put_it_back_which_resumes_it(tmp_path: Path) -> None:
    # the tester's w/e15: told `bulkload run MANIFEST --resume`, refused the same way again at the new base_url
    path, url, again, third = await _stopped_changed_put_back(
        tmp_path, lambda url: _one_job(url.replace("127.0.0.1", "localhost"), "a", ["a.csv"], extra="batch_size = 4\n")
    )
    said = str(again.jobs[0].error)
    assert again.jobs[0].status == "refused", said
    back = f'Put the job\'s base_url back in the manifest (base_url = "{url}"), then continue it with `bulkload run'
    assert back in said, said
    assert (third.jobs[0].status, third.exit_code) == ("complete", 0), third.jobs[0].error


async def test_a_stopped_job_whose_output_dir_changed_is_told_to_put_it_back_which_resumes_it(tmp_path: Path) -> None:
    # found by tester t46c: a manifest killed, its output_dir then changed, was told to continue the job's run with
    # `bulkload resume --ledger …` (which knows none of the manifest's credential variables) "or where that ledger is
    # a manifest job's, its manifest run again": the very `--resume` just refused, the same way again
    path, _, again, third = await _stopped_changed_put_back(
        tmp_path, lambda url: _one_job(url, "a", ["a.csv"], extra="batch_size = 4\n").replace('"runs"', '"runs2"')
    )
    said = str(again.jobs[0].error)
    assert again.jobs[0].status == "refused", said
    assert (
        f"`bulkload run {path} --resume` once job 'a' has the output_dir its run wrote in back (output_dir = \"runs\")"
        in said
    ), said
    assert "or where that ledger is a manifest job's" not in said, said
    assert (third.jobs[0].status, third.exit_code) == ("complete", 0), third.jobs[0].error


@pytest.fixture
def grant_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The credentials `_one_job`'s manifest names ($APP, $GRANT0), for a queued job's worker."""
    from conftest import CREDS

    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT0", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])


async def queued_and_stopped(postgres_url: str, manifest: str, name: str) -> int:
    """Queue `manifest` and run its job `name` until its daily quota stops it; the job's queue id."""
    from bulkload import queue
    from bulkload.errors import RunStopped

    (job,) = await queue.enqueue(postgres_url, manifest)
    assert job.id is not None
    with pytest.raises(RunStopped):
        await queue.run_queued(postgres_url, job.id, manifest, name)
    return job.id


@pytest.mark.usefixtures("grant_variables")
async def test_a_renamed_stopped_queued_job_is_told_to_give_it_its_name_back_which_resumes_it(
    tmp_path: Path, postgres_url: str
) -> None:
    # a tester's (s22): a queued job stopped, renamed, was told to queue the manifest again, which refused it the
    # same way again, for ever: its ledger is the old name's, which the manifest no longer gives
    from bulkload import queue
    from bulkload.errors import ConfigError

    write_entries(tmp_path / "a.csv", 40)
    path = tmp_path / "m.toml"
    named = str(path.absolute())
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            path.write_text(_one_job(url, "old", ["a.csv"], extra=STOPS))
            old = await queued_and_stopped(postgres_url, named, "old")
            path.write_text(_one_job(url, "new", ["a.csv"], extra="batch_size = 4\n"))
            (new,) = await queue.enqueue(postgres_url, named)
            assert new.id is not None
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, new.id, named, "new")
            said = str(refused.value)
            # the way on that works: the old name back, then queued again
            path.write_text(_one_job(url, "old", ["a.csv"], extra="batch_size = 4\n"))
            (back,) = await queue.enqueue(postgres_url, named)
            done = await queue.run_queued(postgres_url, back.id or old, named, "old")
    assert "That run has not finished (stopped)" in said, said
    again = f"`bulkload run {named} --queue {postgres_url}` once job 'new' has its name back (name = \"old\")"
    assert again in said and "bulkload resume" not in said, said
    assert (done["status"], done["exit_code"], done["loaded"]) == ("complete", 0, 80), done


async def test_a_renamed_finished_job_is_told_its_run_finished_not_if_it_has_not(tmp_path: Path) -> None:
    # a tester's (s22): told "If that run has not finished, continue it with `bulkload run MANIFEST --resume` once
    # job 'new' has its name back", though its ledger says it finished: nothing of it is left to continue
    write_entries(tmp_path / "a.csv", 10)
    path = tmp_path / "m.toml"
    with anyio.fail_after(30):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            path.write_text(_one_job(url, "old", ["a.csv"]))
            assert (await run_manifest(read_manifest(str(path)), env=ENV)).jobs[0].status == "complete"
            path.write_text(_one_job(url, "new", ["a.csv"]))
            refused = [await run_manifest(read_manifest(str(path)), env=ENV, resume=r) for r in (False, True)]
            path.write_text(_one_job(url, "old", ["a.csv"]))  # what it says, done
            shown = await run_manifest(read_manifest(str(path)), env=ENV)
    for fleet in refused:
        (job,) = fleet.jobs
        said = str(job.error)
        assert job.status == "refused" and "not finished" not in said and "continue" not in said, said
        finished = "That run finished (job 'old''s ledger; the manifest has no job of that name now: if job 'new' is"
        assert finished in said, said
        assert f'give it its name back, name = "old", and `bulkload run {path}` shows its run\'s report)' in said, said
        assert "set allow_duplicate_load = true in job 'new''s table" in said, said
    (job,) = shown.jobs
    assert (job.status, job.stored, shown.exit_code) == ("complete", True, 0), job


@pytest.mark.usefixtures("grant_variables")
async def test_a_queued_job_whose_file_another_manifests_stopped_job_holds_is_told_that_manifest_by_its_path(
    tmp_path: Path, postgres_url: str
) -> None:
    # before: "continue it with that queued job's manifest queued again (`bulkload run MANIFEST --queue URL`)",
    # MANIFEST to be guessed; the run keeps which manifest's job it is
    from bulkload import queue
    from bulkload.errors import ConfigError

    write_entries(tmp_path / "a.csv", 40)
    first, second = (tmp_path / "one.toml").absolute(), (tmp_path / "two.toml").absolute()
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            first.write_text(_one_job(url, "x", ["a.csv"], extra=STOPS).replace('"runs"', '"one"'))
            second.write_text(_one_job(url, "y", ["a.csv"], extra="batch_size = 4\n").replace('"runs"', '"two"'))
            await queued_and_stopped(postgres_url, str(first), "x")
            (y,) = await queue.enqueue(postgres_url, str(second))
            assert y.id is not None
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, y.id, str(second), "y")
    said = str(refused.value)
    assert f"continue it with `bulkload run {first} --queue {postgres_url}` once the queue has stopped" in said, said
    assert "(that manifest's job 'x''s ledger)" in said and "MANIFEST" not in said, said
