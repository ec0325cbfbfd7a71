"""A manifest's job is run by the workers of a queue or by `bulkload run` without --queue, never by both: each keeps
a ledger the other cannot see, and each user's record of loads is in that user's cache. Found by tester t70c: a
manifest queued and also run without --queue by a colleague (another HOME) loaded its files twice (1,888 of 5,000
rows doubled). What both see is the job's folder of outputs: the first way takes it (run_by.json), the other is
refused before its first call. Judged by the sandbox's journal, walked by us."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from conftest import CREDS, write_entries
from test_fleet import entries_of

from bulkload import fleet, queue, run_by
from bulkload.errors import ConfigError
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

#: seconds a test may take at most, on a busy machine
BOUND_S = 90


def _manifest(tmp_path: Path, url: str) -> str:
    write_entries(tmp_path / "nov.csv", 10)
    (tmp_path / "m.toml").write_text(
        f'output_dir = "runs"\n[[job]]\nname = "nov"\nagreement = "acme"\ntarget = "economic"\nbase_url = "{url}"\n'
        'files = ["nov.csv"]\nbatch_size = 4\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
    )
    return str(read_manifest(str(tmp_path / "m.toml")).path)


def _another_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """From here on, bulkload runs as another user would: a cache (record of loads) of its own."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / name))


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])


async def test_a_queued_job_run_without_the_queue_by_another_user_is_refused(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            path = _manifest(tmp_path, url)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            _another_user(tmp_path, monkeypatch, "colleague")
            (mjob,) = read_manifest(path).jobs
            with pytest.raises(ConfigError) as before:  # queued, not yet taken by a worker
                await fleet.run_job(mjob)
            assert await entries_of(url, CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]) == []
            _another_user(tmp_path, monkeypatch, "worker")
            done = await queue.run_queued(postgres_url, queued.id, path, "nov")
            assert (done["status"], done["loaded"]) == ("complete", 20), done
            _another_user(tmp_path, monkeypatch, "colleague")
            with pytest.raises(ConfigError) as after:  # finished by the queue
                await fleet.run_job(mjob)
            held = await entries_of(url, CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    assert len(held) == 20, len(held)  # every row once
    for refused in (before, after):
        said = str(refused.value)
        assert f"job 'nov' is run by the queue at {postgres_url}" in said, said
        assert f"`bulkload status --queue {postgres_url}` shows it" in said, said
        assert f"`bulkload run {path} --queue {postgres_url}` queues it again; nothing was sent" in said, said
    assert not (tmp_path / "runs" / "nov" / "ledger.sqlite").exists()


async def test_a_job_run_without_the_queue_is_not_queued_by_another_user(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            path = _manifest(tmp_path, url)
            report = await fleet.run_job(read_manifest(path).jobs[0])
            assert report.loaded == 20, report
            _another_user(tmp_path, monkeypatch, "colleague")
            with pytest.raises(ConfigError) as refused:
                await queue.enqueue(postgres_url, path)
            held = await entries_of(url, CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    assert len(held) == 20, len(held)
    said = str(refused.value)
    assert "job 'nov': its folder" in said and "is `bulkload run`'s without --queue" in said, said
    assert f"`bulkload run {path} --resume`); nothing was queued or sent" in said, said
    assert "ledger=job_" not in said


async def test_a_run_refused_before_its_first_call_leaves_the_folder_to_the_queue(
    tmp_path: Path, postgres_url: str
) -> None:
    # tester t70h: `bulkload run` refused for an input that holds no rows (nothing sent, no ledger made) kept
    # run_by.json, so queueing the manifest once the file was right was refused, naming a ledger that was never made
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            path = _manifest(tmp_path, url)
            entries = tmp_path / "nov.csv"
            full = entries.read_text()
            entries.write_text(full.splitlines(keepends=True)[0])  # its header alone
            with pytest.raises(ConfigError, match="holds no rows"):
                await fleet.run_job(read_manifest(path).jobs[0])
            assert not (tmp_path / "runs" / "nov" / "run_by.json").exists()
            entries.write_text(full)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            done = await queue.run_queued(postgres_url, queued.id, path, "nov")
            held = await entries_of(url, CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    assert (done["status"], done["loaded"]) == ("complete", 20), done
    assert len(held) == 20, len(held)


@pytest.mark.parametrize("written", ['{"queue": ', "[]", '{"queue": 5}', '{"job": "nov"}'])
def test_a_run_by_json_not_as_bulkload_writes_it_is_refused_with_the_way_on(tmp_path: Path, written: str) -> None:
    # tester t70h: edited by hand, a run_by.json cut short was refused with no way on, and one whose queue was no
    # URL (5) was taken for a queue's, one with no queue at all for `bulkload run`'s
    (mjob,) = read_manifest(_manifest(tmp_path, "http://127.0.0.1:9/journalsapi/v11.0.2")).jobs
    mjob.out_dir.mkdir(parents=True)
    (mjob.out_dir / "run_by.json").write_text(written)
    for way in (None, "postgresql://postgres@127.0.0.1:9/postgres"):
        with pytest.raises(ConfigError) as refused:
            run_by.check(mjob, way)
        said = str(refused.value)
        assert "holds run_by.json, which says who runs the job, and it cannot be read" in said, said
        assert "`bulkload status --queue URL` lists the jobs a queue has" in said, said
        assert f"remove {mjob.out_dir / 'run_by.json'} and run the job that way" in said, said
