"""A manifest's job is told its settings in the manifest's words. One whose file holds a column that is no field is
told to map it in the job's `columns`, which is where a manifest maps columns: before (tester t66b), `bulkload run`
said "in the [columns] table of --config", a flag no manifest run has; the other agreements' jobs load all the same.
One stopped at its daily quota is told to raise its `daily_quota` there, not to give `--daily-quota N`."""

from __future__ import annotations

from pathlib import Path

import anyio
from conftest import write_entries

from bulkload.fleet import run_manifest
from bulkload.manifest import read_manifest
from bulkload.sandbox import SandboxOptions, running

ENV = {"APP": "app-secret", "G0": "grant-zero", "G1": "grant-one"}


def job(name: str, grant: str) -> str:
    return (
        f'[[job]]\nname = "{name}"\nfiles = ["{name}.csv"]\n'
        f'credentials = {{env = {{ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "{grant}"}}}}\n'
    )


async def test_a_column_no_field_is_told_to_be_mapped_in_the_jobs_columns(tmp_path: Path) -> None:
    write_entries(tmp_path / "good.csv", 5)
    write_entries(tmp_path / "extra.csv", 5)
    lines = (tmp_path / "extra.csv").read_text(encoding="utf-8").splitlines()
    extra = [lines[0] + ",Bemærkning", *(line + ",x" for line in lines[1:])]
    (tmp_path / "extra.csv").write_text("\n".join(extra) + "\n", encoding="utf-8")
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\n\n' + job("good", "G0") + job("extra", "G1")
            )
            report = await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=ENV)
    outcomes = {o.name: o for o in report.jobs}
    assert outcomes["good"].status == "complete", outcomes["good"].error
    refused = outcomes["extra"]
    assert refused.status == "refused" and refused.exit_code == 2, refused
    error = str(refused.error)
    assert "'Bemærkning'" in error, error
    assert "--config" not in error, error
    assert "`columns` of job 'extra' in the manifest" in error, error


async def test_a_job_stopped_at_its_daily_quota_is_told_to_raise_its_daily_quota_in_the_manifest(
    tmp_path: Path,
) -> None:
    """The brief's case: one agreement reaches its daily quota mid-run. Its stop said "give it with `--daily-quota
    N`", a flag of `bulkload load`; the manifest gives a job's quota as its `daily_quota` (migrations.md: "raise a
    job's daily_quota in the manifest and resume")."""
    write_entries(tmp_path / "good.csv", 5)
    write_entries(tmp_path / "big.csv", 60)
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            (tmp_path / "m.toml").write_text(
                f'[defaults]\ntarget = "economic"\nbase_url = "{url}"\nbatch_size = 10\n\n'
                + job("good", "G0")
                + job("big", "G1")
                + "daily_quota = 4\n"
            )
            report = await run_manifest(read_manifest(str(tmp_path / "m.toml")), env=ENV)
    outcomes = {o.name: o for o in report.jobs}
    assert outcomes["good"].status == "complete", outcomes["good"].error
    stopped = outcomes["big"]
    assert stopped.status == "stopped" and stopped.exit_code == 4, stopped
    said = str(stopped.report.stop_reason if stopped.report else stopped.error)
    assert "daily quota of 4 calls reached" in said, said
    assert "--daily-quota" not in said, said
    assert "`daily_quota` of job 'big' in the manifest" in said, said
    assert "bulkload run" in said and "--resume" in said, said
