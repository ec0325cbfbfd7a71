"""A rollback stopped by Ctrl-C says what it did, as a load does: its summary (what it removed, what it left for the
next rollback, the command that finishes it), its --report written, exit 4; with -q that one line. Tester t46d: it
said only "interrupted (Ctrl-C); run `bulkload rollback --ledger …` again", with no word of what it had deleted,
and wrote no report."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import anyio
import pytest
from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, economic_job, run_bulkload, serving, write_entries
from test_reconcile_refused import entries

from bulkload import cli, load, rollback
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import create_app
from bulkload.stages import ROLLING_BACK, Stages


def deletes(sandbox: SandboxProcess) -> int:
    with urllib.request.urlopen(f"{sandbox.root}/_sandbox/stats", timeout=10) as answer:
        return int(json.load(answer)["by_method"].get("DELETE", {}).get("requests", 0))


def interrupted_rollback(
    tmp_path: Path, sandbox: SandboxProcess, *args: str, signals: tuple[signal.Signals, ...] = (signal.SIGINT,)
) -> tuple[int, str, str]:
    """`bulkload ARGS rollback …` of the run, sent Ctrl-C (or `signals`, one after another) once its DELETEs are under
    way (bounded: 60 s)."""
    proc = subprocess.Popen(
        bulkload_cmd(*args), env=child_env(CREDS), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # however pytest was started
    )  # fmt: skip
    try:
        before = deletes(sandbox)
        for _ in range(600):
            if deletes(sandbox) > before or proc.poll() is not None:
                break
            time.sleep(0.1)
        for sig in signals:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, out, err


#: how a way on gives the command on a job's ledger with the credentials its manifest names (`manifest_job`)
GIVEN = 'ECONOMIC_APP_SECRET_TOKEN="$APP" ECONOMIC_AGREEMENT_GRANT_TOKEN="$ACME_GRANT" bulkload'


def manifest_job(tmp_path: Path, sandbox: SandboxProcess) -> Path:
    """A manifest's job "acme" of 200 vouchers loaded into `sandbox`, its credentials the manifest's variables APP
    and ACME_GRANT; its ledger."""
    write_entries(tmp_path / "entries.csv", 200)
    (tmp_path / "m.toml").write_text(
        f'[[job]]\nname = "acme"\ntarget = "economic"\nbase_url = "{sandbox.url}"\nfiles = ["entries.csv"]\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "ACME_GRANT"}}\n'
    )
    shell = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "ACME_GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
    loaded = run_bulkload(tmp_path, "-q", "run", "m.toml", env=shell)
    assert loaded.returncode == 0, (loaded.stdout, loaded.stderr)
    ledger = tmp_path / "m.runs" / "acme" / "ledger.sqlite"
    assert ledger.exists(), loaded.stdout
    return ledger


@pytest.mark.sandbox_flags("--latency-ms", "200")
def test_a_rollback_interrupted_says_what_it_removed_and_left(tmp_path: Path, sandbox_process: SandboxProcess) -> None:
    write_entries(tmp_path / "entries.csv", 400)
    loaded = run_bulkload(
        tmp_path, "load", "economic", "entries.csv", "--base-url", sandbox_process.url, "--concurrency", "2", "-q"
    )
    assert loaded.returncode == 0, loaded.stderr
    ledger = tmp_path / "entries.csv.ledger.sqlite"
    code, out, err = interrupted_rollback(
        tmp_path, sandbox_process, "rollback", "--ledger", ledger.name, "--report", "rb.json", "--no-progress"
    )
    assert code == 4, (out, err)
    assert "bulkload rollback economic: stopped" in out, out
    assert f"stopped: interrupted (Ctrl-C); `bulkload rollback --ledger {ledger}` again finishes it" in out, out
    report = json.loads((tmp_path / "rb.json").read_text())
    assert report["status"] == "stopped" and report["exit_code"] == 4, report
    assert report["left"] > 0 and report["removed"] + report["already_removed"] + report["left"] == 800, report
    # -q: the one line says it all, not said again on stderr
    code, out, err = interrupted_rollback(tmp_path, sandbox_process, "-q", "rollback", "--ledger", ledger.name)
    assert code == 4, (out, err)
    (line,) = out.splitlines()
    assert line.startswith("bulkload rollback economic: stopped: "), line
    assert "left for the next rollback" in line, line
    assert "interrupted" not in err, err


@pytest.mark.sandbox_flags("--latency-ms", "200")
def test_a_manifest_jobs_rollback_interrupted_gives_its_way_on_with_the_jobs_credentials(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    # tester t73e: stopped, a rollback of a manifest job's ledger named `bulkload rollback --ledger …` bare, which
    # reads the target's own variables, not those the manifest names for the job: pasted, a missing credential
    ledger = manifest_job(tmp_path, sandbox_process)
    code, out, err = interrupted_rollback(
        tmp_path, sandbox_process, "rollback", "--ledger", str(ledger), "--no-progress"
    )
    assert code == 4, (out, err)
    assert f"`{GIVEN} rollback --ledger {ledger}` again finishes it" in out, (out, err)
    assert CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"] not in out + err  # the variables named, never their values


@pytest.mark.sandbox_flags("--latency-ms", "200")
def test_a_manifest_jobs_rollback_cut_short_before_its_run_or_at_once_names_the_jobs_credentials(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    # tester t74c: the way on of a rollback (or resume, reconcile) of a manifest job's ledger that an interrupt cut
    # short before its run was open (cli._cut_short), or a third signal stopped at once, named the command bare
    ledger = manifest_job(tmp_path, sandbox_process)
    for command, again in [
        ("rollback", "run `{}` again"),
        ("reconcile", "run `{}` again"),
        ("resume", "continue with `{}`"),
    ]:
        said = cli._cut_short(argparse.Namespace(command=command, ledger=str(ledger)), KeyboardInterrupt())
        assert said.endswith(again.format(f"{GIVEN} {command} --ledger {ledger}")), said
    code, out, err = interrupted_rollback(
        tmp_path, sandbox_process, "rollback", "--ledger", str(ledger), "--no-progress",
        signals=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP),  # three stops: unlike three Ctrl-C, none merged
    )  # fmt: skip
    assert code == 4, (out, err)
    assert "stopped at once" in err and f"run `{GIVEN} rollback --ledger {ledger}` again" in err, err
    assert CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"] not in out + err


async def test_a_rollback_a_script_cancels_writes_its_report_of_what_it_did(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # bulkload.rollback awaited by a script and cancelled there (its own Ctrl-C, a timeout): as a load cut short
    data = tmp_path / "e.csv"
    entries(data, vouchers=300, bad=())
    deleting = anyio.Event()
    advance = Stages.advance

    def advancing(self: Stages, n: int = 1) -> None:
        advance(self, n)
        if self.name == ROLLING_BACK and self.done >= 20:
            deleting.set()

    monkeypatch.setattr(Stages, "advance", advancing)
    with anyio.fail_after(60):
        async with serving(create_app(SandboxOptions(latency_ms=20))) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            assert (await load(job, env=CREDS)).loaded == 600
            async with anyio.create_task_group() as tg:

                async def undo() -> None:
                    await rollback(job.ledger_path, report=str(tmp_path / "rb.json"), env=CREDS)

                tg.start_soon(undo)
                await deleting.wait()
                tg.cancel_scope.cancel()
    report = json.loads((tmp_path / "rb.json").read_text())
    assert report["status"] == "stopped" and report["exit_code"] == 4, report
    assert report["removed"] >= 1 and report["left"] >= 1, report
    assert report["removed"] + report["already_removed"] + report["left"] == 600, report
