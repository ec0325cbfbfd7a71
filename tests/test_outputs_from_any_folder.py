"""A run's outputs stay where its first invocation put them: a resume run from another folder writes the rejects,
success and in-doubt files and the report that `--rejects` and `--report` named, relative to the folder the load was
started in, never to its own (tester t36d: they went to the resume's folder, where a file of that name was written
over, and the run's own rejects file still said none were rejected). Against the sandbox on 127.0.0.1."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, write_entries

from bulkload import Job, runner
from bulkload.sandbox import SandboxOptions, running


async def test_a_resume_from_another_folder_writes_the_runs_relative_outputs_where_the_load_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, elsewhere = tmp_path / "started", tmp_path / "elsewhere"
    (started / "out").mkdir(parents=True)
    (elsewhere / "out").mkdir(parents=True)
    mine = elsewhere / "out" / "rej.csv"
    mine.write_text("another file of that name\n", encoding="utf-8")
    write_entries(started / "e.csv", 100, bad_every=10)
    monkeypatch.chdir(started)
    job = Job(
        target="economic",
        files=["e.csv"],
        ledger="run.sqlite",
        rejects="out/rej.csv",
        report="rep.json",
        batch_size=20,
        concurrency=2,
        daily_quota=9,
        attempts=1,
    )
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job.base_url = url
            first = await runner.load(job, env=CREDS, raise_on_stop=False)
            assert first.status == "stopped", first
            monkeypatch.chdir(elsewhere)
            again = await runner.resume(str(started / "run.sqlite"), env=CREDS, daily_quota=1_000)
    assert again.status == "complete" and again.rejected == 10, again
    rejected = list(csv.DictReader((started / "out" / "rej.csv").read_text(encoding="utf-8").splitlines()))
    assert len(rejected) == 10, rejected
    assert json.loads((started / "rep.json").read_text(encoding="utf-8"))["status"] == "complete"
    assert (started / "out" / "rej.csv.success.csv").exists()
    assert mine.read_text(encoding="utf-8") == "another file of that name\n"
    assert not (elsewhere / "rep.json").exists() and not (elsewhere / "out" / "rej.csv.success.csv").exists()


async def test_a_reconcile_from_another_folder_names_the_files_the_load_wrote_where_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load without --rejects writes FILE.rejects.csv beside its input; a reconcile run from another folder named
    it `e.csv.rejects.csv`, relative to the folder the load was started in, in its summary, its report's
    `rejects_file` and the command that loads it (tester t42d), where resume gave the absolute path."""
    started, elsewhere = tmp_path / "started", tmp_path / "elsewhere"
    started.mkdir()
    elsewhere.mkdir()
    write_entries(started / "e.csv", 40, bad_every=10)
    monkeypatch.chdir(started)
    job = Job(target="economic", files=["e.csv"], batch_size=20, concurrency=2)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            job.base_url = url
            loaded = await runner.load(job, env=CREDS, raise_on_stop=False)
            assert loaded.rejected == 4, loaded
            monkeypatch.chdir(elsewhere)
            again = await runner.reconcile(str(started / "e.csv.ledger.sqlite"), env=CREDS)
    assert again.rejects_file == str(started / "e.csv.rejects.csv"), again.rejects_file
    assert again.rejects_load is not None and str(started / "e.csv.rejects.csv") in again.rejects_load
