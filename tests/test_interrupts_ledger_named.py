"""A third Ctrl-C stops the process at once (exit 4), cutting short the summary that names the ledger: its own line
names it then, by its absolute path, as the command that goes on from it (docs/report.md: "Every such line gives
the ledger's absolute path, however --ledger was typed"). Tester t34a: the line said only "the ledger keeps what
was done, and resume goes on from it", with no path."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, write_entries

from bulkload import interrupts


def _three_ctrl_cs(tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run `bulkload ARGS` in `tmp_path`, send it three stopping signals at once once its calls are under way: a
    Ctrl-C, SIGTERM and SIGHUP, each counted as a Ctrl-C is (three Ctrl-Cs pending at once are merged into one by the
    kernel: signals of three kinds never are); its exit code and the line that ended it."""
    proc = subprocess.Popen(
        bulkload_cmd(*args), env=child_env(CREDS), cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # however pytest was started
    )  # fmt: skip
    try:
        time.sleep(4)
        # held stopped while the three are sent, all three are pending when it goes on: sent a millisecond apart to
        # a running process, the stop the first began was done before a busy machine sent the third
        proc.send_signal(signal.SIGSTOP)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            proc.send_signal(sig)
        proc.send_signal(signal.SIGCONT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    at_once = [line for line in err.splitlines() if line.startswith("bulkload: stopped at once")]
    assert at_once, err
    return proc.returncode, at_once[0]


@pytest.mark.sandbox_flags("--latency-ms", "300")
def test_a_third_ctrl_c_names_the_ledger_to_resume_by_its_absolute_path(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    write_entries(tmp_path / "entries.csv", 1500)
    run = ("--base-url", sandbox_process.url, "--batch-size", "20", "--concurrency", "2")
    code, line = _three_ctrl_cs(tmp_path, "load", "economic", "entries.csv", *run)
    ledger = tmp_path / "entries.csv.ledger.sqlite"
    assert code == 4
    assert line == (
        "bulkload: stopped at once: what was not yet written is not; the ledger keeps what was done: continue with "
        f"`bulkload resume --ledger {ledger}`"
    )
    # the resume, its ledger typed relative to the folder, stopped so too: named by its absolute path again
    code, line = _three_ctrl_cs(tmp_path, "resume", "--ledger", ledger.name, "--concurrency", "2")
    assert code == 4
    assert line.endswith(f"the ledger keeps what was done: continue with `bulkload resume --ledger {ledger}`"), line


def test_where_there_is_no_way_on_to_name_the_line_says_resume_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """No ledger yet (a load cut short before it made one), or a way on that fails to be said: the line as before,
    and the process still ends at once."""

    def _exit(code: int) -> None:
        raise SystemExit(code)

    def broken() -> str | None:
        raise OSError("gone")

    monkeypatch.setattr(interrupts.os, "_exit", _exit)
    monkeypatch.setattr(interrupts, "_received", [])  # this process's own, not stopped by what the test says
    monkeypatch.setattr(interrupts, "_way_on", [])
    for way_on in (lambda: None, broken, None):
        interrupts.tell(way_on)
        with pytest.raises(SystemExit) as ended:
            interrupts._stop(signal.SIGINT, None, 3)
        assert ended.value.code == 4
        assert capsys.readouterr().err == (
            "bulkload: stopped at once: what was not yet written is not; the ledger keeps what was done, and resume "
            "goes on from it\n"
        )
    interrupts.tell(lambda: "continue with `bulkload resume --ledger /abs/run.sqlite`")
    with pytest.raises(SystemExit):
        interrupts._stop(signal.SIGINT, None, 3)
    assert capsys.readouterr().err.endswith(
        "the ledger keeps what was done: continue with `bulkload resume --ledger /abs/run.sqlite`\n"
    )
