"""Log lines as a demanding user reads them: on stderr by -v/-q, in --log-file with timestamps and levels, as JSON
objects carrying run, target, chunk, attempt, status and elapsed_s for log shippers, and never a credential."""

from __future__ import annotations

import csv
import json
import logging
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import CREDS, SandboxProcess, write_entries

from bulkload import Job, load, logs, redact
from bulkload.cli import main
from bulkload.sandbox import SandboxOptions, running

log = logging.getLogger("bulkload.test")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CANARY = "CANARY-0c4f"


def json_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_json_lines_carry_the_fields_bound_and_given(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    with logs.configured(log_file=str(path), log_format="json"):
        with logs.bound(run="r1", target="economic", chunk="3.1"):
            log.debug("POST %s", "/x", extra={"attempt": 2, "status": 201, "elapsed_s": 0.5})
        log.info("outside any run")
    first, second = json_lines(path)
    assert TIME.match(first.pop("time"))
    assert first == {
        "level": "DEBUG",
        "logger": "bulkload.test",
        "message": "POST /x",
        "run": "r1",
        "target": "economic",
        "chunk": "3.1",
        "attempt": 2,
        "status": 201,
        "elapsed_s": 0.5,
    }
    assert set(second) == {"time", "level", "logger", "message"}  # the binding ended with its block


def test_text_lines_in_the_file_have_time_level_and_fields(tmp_path: Path) -> None:
    path = tmp_path / "run.log"
    with logs.configured(log_file=str(path)), logs.bound(run="r1"):
        log.info("loading", extra={"target": "halopsa"})
    (line,) = path.read_text().splitlines()
    stamp, rest = line.split(" ", 1)
    assert TIME.match(stamp) and rest == "INFO bulkload.test: loading [run=r1 target=halopsa]"


def test_a_registered_credential_never_reaches_a_log_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    redact.register(f"{CANARY}-token")
    for fmt in logs.FORMATS:
        path = tmp_path / f"run.{fmt}"
        with logs.configured(verbose=2, log_file=str(path), log_format=fmt):
            log.info("the API quoted %s", f"Bearer {CANARY}-token", extra={"status": f"x {CANARY}-token"})
            try:
                raise ValueError(f"token={CANARY}-token")
            except ValueError:
                log.exception("failed")
        for text in (path.read_text(), capsys.readouterr().err):
            assert CANARY not in text and "***" in text


@pytest.mark.parametrize(
    ("verbose", "quiet", "shown"),
    [
        (0, True, ["ERROR"]),
        (0, False, ["WARNING", "ERROR"]),
        (1, False, ["INFO", "WARNING", "ERROR"]),
        (2, False, ["DEBUG", "INFO", "WARNING", "ERROR"]),
    ],
)
def test_stderr_shows_what_v_and_q_ask_for(
    verbose: int, quiet: bool, shown: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with logs.configured(verbose=verbose, quiet=quiet):
        for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR):
            log.log(level, "a line")
    assert [line.split()[0] for line in capsys.readouterr().err.splitlines()] == shown


def test_without_the_cli_nothing_is_formatted_below_warning() -> None:
    """A library caller that sets up no logging pays nothing for the per-call DEBUG lines."""
    assert not logging.getLogger("bulkload.dispatch").isEnabledFor(logging.INFO)


def halopsa_input(tmp_path: Path, url: str) -> tuple[Job, dict[str, str]]:
    path = tmp_path / "XeroDetails.csv"
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "new_client_secret", "new_refresh_token", "authorized"])
        for i in range(12):
            w.writerow([f"Tenant {i}", f"{CANARY}-secret-{i}", f"{CANARY}-refresh-{i}", "true"])
        w.writerow(["Bad", f"{CANARY}-secret-bad", f"{CANARY}-refresh-bad", "maybe"])
    env = {"HALO_CLIENT_ID": "log-test-client", "HALO_CLIENT_SECRET": f"{CANARY}-client-secret"}
    options = {"resources": ["XeroDetails"], "match_on": "name"}
    job = Job(target="halopsa", files=[str(path)], base_url=url, target_options=options, batch_size=2, settle_s=0.2)
    return job, env


def economic_input(tmp_path: Path, url: str) -> tuple[Job, dict[str, str]]:
    path = tmp_path / "entries.csv"
    write_entries(path, 20)
    env = {k: f"{CANARY}-{v}" for k, v in CREDS.items()}  # sent in the headers of every call
    return Job(target="economic", files=[str(path)], base_url=url, batch_size=4), env


@pytest.mark.parametrize(
    ("target", "made", "sandbox"),
    [
        ("halopsa", halopsa_input, SandboxOptions(window_limit=0, fault_rate=0.3, drop_rate=0.15, seed=4)),
        ("economic", economic_input, SandboxOptions(fault_rate=0.2, drop_rate=0.1, seed=4)),
    ],
)
async def test_a_runs_log_file_says_what_each_call_did_and_shows_no_secret(
    tmp_path: Path, target: str, made: Any, sandbox: SandboxOptions
) -> None:
    path = tmp_path / "run.jsonl"
    with anyio.fail_after(60):
        async with running(target, sandbox) as url:
            job, env = made(tmp_path, url)
            with logs.configured(log_file=str(path), log_format="json"):
                report = await load(job, env=env)
    assert report.loaded > 0 and report.retries > 0  # faults were met: retries are in the log too
    text = path.read_text()
    assert CANARY not in text
    lines = json_lines(path)
    attempts = [line for line in lines if "attempt" in line and "status" in line]
    assert len(attempts) == report.requests  # each call that left, with its outcome
    assert {line["run"] for line in lines if "run" in line} == {lines[1]["run"]}  # one run, from the ledger on
    sent = [line for line in attempts if "chunk" in line]
    assert sent and all({"target", "attempt", "status", "elapsed_s"} <= line.keys() for line in sent)
    assert all(isinstance(line["chunk"], str) for line in sent)
    assert all(line["target"] == target and line["elapsed_s"] >= 0 for line in attempts)
    assert any(line["message"].startswith("retrying in") for line in lines)
    phases = [line["message"].split(":")[0] for line in lines if line["level"] == "INFO"]
    assert {"planning", "ledger", "loading", "reconciling"} <= set(phases)


def test_the_cli_writes_json_lines_and_a_quiet_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path, logged = tmp_path / "entries.csv", tmp_path / "run.jsonl"
    write_entries(path, 3)
    args = ["load", "economic", str(path), "--dry-run", "--log-file", str(logged), "--log-format", "json"]
    assert main(["-q", *args]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("bulkload economic: dry_run: 6 would load, 0 rejected, 0 in doubt,") and err == ""
    assert out.count("\n") == 1
    (done,) = json_lines(logged)  # a dry run sends nothing: its outcome is the one line
    assert done["status"] == "dry_run" and done["target"] == "economic" and done["elapsed_s"] >= 0


async def test_stderr_under_log_format_json_is_one_object_a_line_progress_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by tester t30b: off a terminal (cron, a pipe into a log shipper) the progress lines came as text between
    # the JSON lines, where --help and docs/cli.md say "json: one object a line"
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "entries.csv"
    write_entries(path, 3)
    async with running("economic", SandboxOptions()) as url:
        args = ["-v", "--log-format", "json", "load", "economic", str(path), "--base-url", url]
        assert await anyio.to_thread.run_sync(lambda: main(args)) == 0
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]  # each one object
    progress = [line for line in lines if line["logger"] == "bulkload.progress"]
    assert progress and {"time", "level", "message", "phase", "done", "total"} <= progress[0].keys(), lines


def test_the_error_line_under_log_format_json_is_an_object_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # found by tester t31: the line a refused command ends with was the one text line on stderr
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    args = ["--log-format", "json", "load", "economic", str(tmp_path / "missing.csv"), "--dry-run"]
    assert main(args) == 2
    (line,) = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert (line["level"], line["logger"]) == ("ERROR", "bulkload.cli") and "missing.csv" in line["message"], line


def test_quiet_still_shows_an_error_and_logs_it_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logged = tmp_path / "run.log"
    assert main(["load", "economic", str(tmp_path / "missing.csv"), "-q", "--log-file", str(logged)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("bulkload: error: missing credential") == 1
    assert "ERROR bulkload.cli: bulkload: error: missing credential" in logged.read_text()


def test_a_log_file_that_cannot_be_written_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "entries.csv"
    write_entries(path, 1)
    args = ["load", "economic", str(path), "--dry-run", "--log-file", str(tmp_path / "no" / "such" / "dir.log")]
    assert main(args) == 2
    assert "cannot write the log file" in capsys.readouterr().err


@pytest.mark.parametrize("names", ["the input", "the ledger", "--rejects", "--report"])
def test_a_log_file_on_a_file_the_load_reads_or_writes_is_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, names: str
) -> None:
    """--log-file appends: on the input (or the ledger, --rejects, --report) it would write into that file; refused
    (exit 2), as --rejects and --report are for an input, with not a line appended anywhere."""
    path = tmp_path / "entries.csv"
    write_entries(path, 1)
    ledger, rejects, report = tmp_path / "l.sqlite", tmp_path / "r.csv", tmp_path / "r.json"
    for kept in (rejects, report):
        kept.write_text("kept\n")
    logged = {"the input": path, "the ledger": ledger, "--rejects": rejects, "--report": report}[names]
    before = logged.read_bytes() if logged.exists() else None
    paths = ["--ledger", str(ledger), "--rejects", str(rejects), "--report", str(report)]
    for run in (["--dry-run"], ["--base-url", "http://127.0.0.1:9"]):
        args = ["load", "economic", str(path), *paths, *run, "--log-file", str(logged)]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert f"--log-file {logged} would " in err or f"would overwrite --log-file {logged}" in err, err
        assert (logged.read_bytes() if logged.exists() else None) == before


def test_a_log_file_on_the_ledger_of_a_resume_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """resume (and reconcile, rollback) append their lines from the first: not into the run's ledger or input."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "entries.csv"
    write_entries(path, 1)
    ledger = tmp_path / "l.sqlite"
    assert main(["load", "economic", str(path), "--ledger", str(ledger), "--base-url", "http://127.0.0.1:9"]) != 0
    assert ledger.is_file()
    capsys.readouterr()
    for logged in (ledger, path):
        before = logged.read_bytes()
        for command in ("resume", "reconcile", "rollback"):
            assert main([command, "--ledger", str(ledger), "--log-file", str(logged)]) == 2
            assert f"--log-file {logged} would " in capsys.readouterr().err
            assert logged.read_bytes() == before


def unreachable_manifest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(its one input, the manifest): one e-conomic job "a" of one row into runs/, at an address nothing answers,
    its credentials in the environment."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    path = tmp_path / "entries.csv"
    write_entries(path, 1)
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        f'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "http://127.0.0.1:9"\n'
        f'files = ["{path}"]\ncredentials = {{env = {{ECONOMIC_APP_SECRET_TOKEN = "ECONOMIC_APP_SECRET_TOKEN", '
        'ECONOMIC_AGREEMENT_GRANT_TOKEN = "ECONOMIC_AGREEMENT_GRANT_TOKEN"}}\n'
    )
    return path, manifest


@pytest.mark.parametrize("names", ["the input", "the ledger", "the rejects", "the report", "the manifest"])
def test_a_log_file_on_a_file_a_manifests_job_reads_or_writes_is_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, names: str
) -> None:
    """A tester's: `bulkload run m.toml --log-file` was not checked against its jobs' files, as a load's is: on a
    job's input (or its ledger, rejects, report, or the manifest itself) it appended the log into that file. Refused
    (exit 2) before the first line, for the run here and for the queue's alike."""
    path, manifest = unreachable_manifest(tmp_path, monkeypatch)
    out = tmp_path / "runs" / "a"
    out.mkdir(parents=True)
    logged = {
        "the input": path,
        "the ledger": out / "ledger.sqlite",
        "the rejects": out / "rejects.csv",
        "the report": out / "report.json",
        "the manifest": manifest,
    }[names]
    if not logged.exists():
        logged.write_text("kept\n")
    before = logged.read_bytes()
    for queue in ([], ["--queue", "postgresql://nobody@127.0.0.1:1/queue"]):
        assert main(["run", str(manifest), *queue, "--log-file", str(logged)]) == 2
        err = capsys.readouterr().err
        assert f"--log-file {logged} would append to" in err or f"would overwrite --log-file {logged}" in err, err
        assert logged.read_bytes() == before


@pytest.mark.parametrize("names", ["--config", "the dry-run rejects file", "the dry-run report"])
def test_a_log_file_on_the_job_file_or_a_dry_runs_own_outputs_is_refused_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], names: str
) -> None:
    """found by a tester: `--log-file job.toml load … --config job.toml` appended the log to the job file (no TOML
    after), and a dry run's log landed on its own rejects file (FILE.rejects.dry-run.csv) or report: refused, exit
    2, not a line written, as a log on the input is."""
    path = tmp_path / "entries.csv"
    write_entries(path, 1)
    config, report = tmp_path / "job.toml", tmp_path / "r.json"
    config.write_text("[job]\nconcurrency = 2\n")
    dry = {"the dry-run rejects file": tmp_path / "entries.csv.rejects.dry-run.csv"}
    dry["the dry-run report"] = tmp_path / "r.dry-run.json"
    for kept in dry.values():
        kept.write_text("kept\n")
    logged = config if names == "--config" else dry[names]
    before = logged.read_bytes()
    runs = [["--dry-run"], ["--base-url", "http://127.0.0.1:9"]] if names == "--config" else [["--dry-run"]]
    for run in runs:
        args = ["load", "economic", str(path), "--config", str(config), "--report", str(report), *run]
        assert main([*args, "--log-file", str(logged)]) == 2
        err = capsys.readouterr().err
        said = f"{names} {logged} would overwrite --log-file {logged}"  # an output is checked against the log
        assert f"--log-file {logged} would append to {names} {logged}" in err or said in err, err
        assert logged.read_bytes() == before


def test_a_log_file_on_a_file_a_manifest_job_reads_is_refused(tmp_path: Path) -> None:
    """The manifest of a job run by `bulkload run` is read by it (and again by --resume): one list of the files a
    run reads (runner.check_paths' `read`) holds it, as --config, and --log-file lands on none of them."""
    from bulkload import runner
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest

    path = tmp_path / "entries.csv"
    write_entries(path, 1)
    manifest = tmp_path / "m.toml"
    credentials = 'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "A", ECONOMIC_AGREEMENT_GRANT_TOKEN = "G"}}'
    manifest.write_text(f'[[job]]\nname = "j1"\ntarget = "economic"\nfiles = ["{path}"]\n{credentials}\n')
    (mjob,) = read_manifest(str(manifest)).jobs
    job = Job(target=mjob.target, **mjob.settings)
    read = [("the manifest", str(manifest))]
    with pytest.raises(ConfigError, match=f"--log-file {manifest} would append to the manifest {manifest}"):
        runner.check_paths(job, outputs=runner.RUN_OUTPUTS, log_file=str(manifest), read=read)
    with pytest.raises(ConfigError, match=f"--rejects {manifest} would overwrite the manifest {manifest}"):
        runner.check_paths(replace(job, rejects=str(manifest)), outputs=runner.RUN_OUTPUTS, read=read)
    runner.check_paths(job, outputs=runner.RUN_OUTPUTS, log_file=str(tmp_path / "run.log"), read=read)


@pytest.mark.parametrize("names", ["the manifest", "the combined report"])
def test_a_log_file_of_a_command_on_a_manifest_jobs_ledger_is_refused_on_the_manifests_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, names: str
) -> None:
    """A tester's (logfile-fleet-json): `bulkload resume --ledger runs/c/ledger.sqlite --log-file runs/fleet.json`,
    run by hand on a manifest job's ledger, appended its log to the manifest's combined report (no JSON after). The
    run knows its manifest (Job.manifest_job): the manifest and its fleet.json are files it reads or keeps, refused
    (exit 2) as --log-file of resume, reconcile and rollback, not a line written."""
    _, manifest = unreachable_manifest(tmp_path, monkeypatch)
    assert main(["run", str(manifest)]) != 0
    ledger, fleet = tmp_path / "runs" / "a" / "ledger.sqlite", tmp_path / "runs" / "fleet.json"
    assert ledger.is_file() and fleet.is_file()
    capsys.readouterr()
    logged = {"the manifest": manifest, "the combined report": fleet}[names]
    before = logged.read_bytes()
    for command in ("resume", "reconcile", "rollback"):
        assert main([command, "--ledger", str(ledger), "--log-file", str(logged)]) == 2
        err = capsys.readouterr().err
        assert f"--log-file {logged} would append to {names} {logged}" in err, err
        assert logged.read_bytes() == before


@pytest.mark.parametrize("flag", ["--rejects", "--report"])
def test_an_output_on_the_job_file_is_refused_without_a_log_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flag: str
) -> None:
    """A tester's: `bulkload load … --rejects job.toml --config job.toml`, no --log-file given, was not refused: only
    a --log-file was checked against --config, and a load that reached the API would have written its rejects (or
    report) over the job file. Refused (exit 2) before the first call, naming both flags, a dry run too (a path
    that names an input is wrong either way), the job file as it was."""
    path = tmp_path / "entries.csv"
    write_entries(path, 1)
    config = tmp_path / "job.toml"
    config.write_text("[job]\nconcurrency = 2\n")
    before = config.read_bytes()
    for run in (["--dry-run"], ["--base-url", "http://127.0.0.1:9"]):
        args = ["load", "economic", str(path), "--config", str(config), flag, str(config), *run]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert f"{flag} {config} would overwrite --config {config}" in err, err
        assert "cannot reach" not in err, err  # refused before the first call
        assert config.read_bytes() == before
    assert not list(tmp_path.glob("*.dry-run*")) and not list(tmp_path.glob("*.sqlite"))


@pytest.mark.parametrize("names", ["the manifest", "the combined report", "the input"])
def test_a_report_of_a_command_on_a_manifest_jobs_ledger_is_refused_on_the_files_it_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, names: str
) -> None:
    """A tester's: `bulkload reconcile --ledger runs/a/ledger.sqlite --report m.toml` (or runs/fleet.json), run by
    hand on a manifest job's ledger with no --log-file, wrote its report over the manifest: only a --log-file was
    checked against the manifest's files. --report of resume, reconcile and rollback lands on none of them (nor on
    the run's input), refused (exit 2) naming both, the file as it was."""
    path, manifest = unreachable_manifest(tmp_path, monkeypatch)
    assert main(["run", str(manifest)]) != 0
    ledger, fleet = tmp_path / "runs" / "a" / "ledger.sqlite", tmp_path / "runs" / "fleet.json"
    capsys.readouterr()
    written = {"the manifest": manifest, "the combined report": fleet, "the input": path}[names]
    before = written.read_bytes()
    for command in ("resume", "reconcile", "rollback"):
        assert main([command, "--ledger", str(ledger), "--report", str(written)]) == 2
        err = capsys.readouterr().err
        assert f"--report {written} would overwrite {names} {written}" in err, (command, err)
        assert written.read_bytes() == before


def two_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> tuple[Path, Path]:
    """(the earlier load's ledger, the later load's input): a.csv loaded into the sandbox at `url` under
    a.ledger.sqlite, and b.csv (other vouchers) written for a later load into the same API."""
    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    write_entries(tmp_path / "a.csv", 1)
    write_entries(tmp_path / "b.csv", 1, first_voucher=100)
    earlier = tmp_path / "a.ledger.sqlite"
    assert main(["-q", "load", "economic", "a.csv", "--base-url", url, "--ledger", str(earlier)]) == 0
    return earlier, tmp_path / "b.csv"


@pytest.mark.parametrize("flag", ["--rejects", "--report"])
def test_an_output_on_the_ledger_of_an_earlier_load_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sandbox_process: SandboxProcess,
    flag: str,
) -> None:
    """A tester's: `bulkload load economic b.csv --ledger b.ledger.sqlite --rejects a.ledger.sqlite`, a.ledger.sqlite
    the ledger of an earlier load into the same API, which this load reads (the record of loads: loaded twice?
    what did it create?), exited 0 with that ledger overwritten by CSV: its run could never be reconciled or rolled
    back, and every later load into the API was refused. Refused (exit 2) before the first call, naming the flag and
    the earlier load's ledger, which is left byte for byte."""
    earlier, later = two_loads(tmp_path, monkeypatch, sandbox_process.url)
    before = earlier.read_bytes()
    capsys.readouterr()
    args = ["load", "economic", str(later), "--base-url", sandbox_process.url, "--ledger", "b.ledger.sqlite"]
    assert main([*args, flag, str(earlier)]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {earlier} would overwrite the ledger of an earlier load into" in err, err
    assert earlier.read_bytes() == before and not (tmp_path / "b.ledger.sqlite").exists()
    assert main(["reconcile", "--ledger", str(earlier)]) == 0


@pytest.mark.parametrize("command", ["load", "reconcile"])
def test_an_output_on_any_bulkload_ledger_is_refused(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sandbox_process: SandboxProcess,
    command: str,
) -> None:
    """A ledger is never an output, whatever its role: a copy of one (no load on record there), given as the
    --rejects of a load or the --report of a reconcile, is refused (exit 2) before the first call, left as it was."""
    earlier, later = two_loads(tmp_path, monkeypatch, sandbox_process.url)
    copy = tmp_path / "kept" / "copy.sqlite"
    copy.parent.mkdir()
    copy.write_bytes(earlier.read_bytes())
    before = copy.read_bytes()
    capsys.readouterr()
    if command == "load":
        args = ["load", "economic", str(later), "--base-url", sandbox_process.url, "--rejects", str(copy)]
        flag = "--rejects"
    else:
        args, flag = ["reconcile", "--ledger", str(earlier), "--report", str(copy)], "--report"
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"{flag} {copy} would overwrite a bulkload ledger {copy}" in err, err
    assert copy.read_bytes() == before and not (tmp_path / "b.csv.ledger.sqlite").exists()


def test_a_manifest_jobs_output_on_another_jobs_input_is_refused_before_the_first_job(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    sandbox_process: SandboxProcess,
) -> None:
    """A tester's: in a manifest, job a's rejects file (runs/a/rejects.csv) was job b's input: not refused, and job
    a wrote its rejects over b's input mid-run. Refused, the manifest whole (exit 2), before the first job starts,
    naming both jobs and the path; b's input as it was, no job's ledger made."""
    a, b = tmp_path / "a.csv", tmp_path / "runs" / "a" / "rejects.csv"
    b.parent.mkdir(parents=True)
    write_entries(a, 2, bad_every=1)
    write_entries(b, 2, first_voucher=100)
    before = b.read_bytes()
    manifest = tmp_path / "m.toml"
    env = '{ECONOMIC_APP_SECRET_TOKEN = "S", ECONOMIC_AGREEMENT_GRANT_TOKEN = "G"}'
    manifest.write_text(
        f'output_dir = "runs"\n[defaults]\nagreement = "one"\ntarget = "economic"\nbase_url = "{sandbox_process.url}"\n'
        f'credentials = {{env = {env}}}\n[[job]]\nname = "a"\nfiles = ["{a}"]\n'
        f'[[job]]\nname = "b"\nfiles = ["{b}"]\n'
    )
    monkeypatch.setenv("S", "s")
    monkeypatch.setenv("G", "g")
    assert main(["run", str(manifest)]) == 2
    err = capsys.readouterr().err
    assert f"job 'a''s rejects file {b} is job 'b''s input" in err, err
    assert b.read_bytes() == before and not list(tmp_path.glob("runs/*/ledger.sqlite"))
