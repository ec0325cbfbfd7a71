"""A run cut short stops the same way whatever cut it: Ctrl-C, SIGTERM, SIGHUP (exit 4, the report written, the
ledger named, resume finishes it); a planner child does not outlive its loader; a ledger write that fails stops
the run resumable (exit 4) in our own terms; an unexpected error is one line and a private file, never a
traceback nor exit 1."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import io
import json
import os
import re
import signal
import sqlite3
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import (
    CREDS,
    HEADER,
    SandboxProcess,
    bulkload_cmd,
    child_env,
    spawn_sandbox,
    stopped_by_quota,
    write_entries,
)

from bulkload import Job, interrupts, redact, runner
from bulkload.cli import main
from bulkload.errors import LedgerWriteError, RunStopped
from bulkload.ledger import Ledger, RowOutcome, RunInfo
from bulkload.parent_watch import watch_parent
from bulkload.pipeline import Loader
from bulkload.report import print_summary
from bulkload.results import Report
from bulkload.run import Run
from bulkload.sandbox import SandboxOptions, running


def posts(sandbox: SandboxProcess) -> int:
    with urllib.request.urlopen(f"{sandbox.root}/_sandbox/stats", timeout=10) as resp:
        return int(json.loads(resp.read())["by_method"].get("POST", {}).get("requests", 0))


def journal_count(sandbox: SandboxProcess, journal: int) -> int:
    url = f"{sandbox.url}/draft-entries/count?filter=journalNumber$eq:{journal}"
    req = urllib.request.Request(
        url,
        headers={
            "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
            "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
        },
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return int(json.loads(resp.read()))


def wait_until(ready: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not ready():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(0.05)


def _default_signals() -> None:
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "40")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_stops_a_load_like_ctrl_c_and_resume_finishes_it_exactly_once(
    tmp_path: Path, sandbox_process: SandboxProcess, sig: signal.Signals
) -> None:
    data = tmp_path / "e.csv"
    expected = write_entries(data, 6_000, journal=4)  # 24 calls of 500 entries at 40 ms each: stopped midway
    ledger, report = tmp_path / "run.sqlite", tmp_path / "report.json"
    env = child_env(CREDS)
    proc = subprocess.Popen(
        bulkload_cmd(
            "load",
            "economic",
            str(data),
            "--base-url",
            sandbox_process.url,
            "--ledger",
            str(ledger),
            "--report",
            str(report),
            "--concurrency",
            "1",
            "--no-progress",
        ),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # the signal's default disposition, however pytest was started: a shell's background job ignores SIGINT and
        # nohup SIGHUP, and bulkload keeps a signal it was started ignoring ignored (tested on its own below)
        preexec_fn=_default_signals,
    )
    try:
        # judged by what the server counted: a few bulk calls are done, the rest still to come
        wait_until(lambda: posts(sandbox_process) >= 3, 60, "the first bulk calls")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 4, (out, err)
    assert "Traceback" not in err and "PATH" not in err
    assert f"bulkload resume --ledger {ledger}" in err, err
    stopped = json.loads(report.read_text())
    assert stopped["status"] == "stopped" and stopped["exit_code"] == 4
    assert sig.name in stopped["stop_reason"] or (sig == signal.SIGINT and "Ctrl-C" in stopped["stop_reason"])
    assert 0 < stopped["loaded"] < expected["rows"]
    assert stopped["rows_read"] == stopped["loaded"] + stopped["rejected"] + stopped["in_doubt"] + stopped["skipped"]
    # the in-doubt file lists what the report counts in doubt (the call cut short in flight), not the calls that
    # waited their turn and never left
    in_doubt = data.with_name("e.csv.in_doubt.csv")
    listed = len(in_doubt.read_text().splitlines()) - 1 if in_doubt.exists() else 0
    assert listed == stopped["in_doubt"] and stopped["in_doubt_file"] == (str(in_doubt) if listed else None), stopped
    done = subprocess.run(
        bulkload_cmd("resume", "--ledger", str(ledger), "--report", str(report), "--no-progress"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["reconcile"]["ok"]
    assert journal_count(sandbox_process, 4) == expected["rows"]  # every row, exactly once


DRIVER = """
import asyncio, sys
from bulkload.planning import PlanningProcess, PlanSpec

async def main():
    planner = PlanningProcess()
    print(planner._process.pid, flush=True)
    plan = planner.plan(PlanSpec("economic", {}, [sys.argv[1]], [0], {}, None, {}, 500, 2_000_000))
    asyncio.ensure_future(plan.__anext__())  # the child plans a file that never comes: busy, not at its socket
    await asyncio.sleep(600)

asyncio.run(main())
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="looks at /proc")
async def test_an_interrupt_during_the_reconciliation_writes_the_report_and_resume_reconciles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by a tester: an interrupt after every row was settled, while the reconciliation ran, wrote no report
    and handed none to `interrupted` (a `bulkload run` job said "before its first call"). The report says every
    row loaded, stopped, and resume reconciles. The reconciliation is held open until the interrupt lands there."""
    data = tmp_path / "e.csv"
    expected = write_entries(data, 300, journal=6)
    job = Job(
        target="economic",
        files=[str(data)],
        ledger=str(tmp_path / "run.sqlite"),
        rejects=str(tmp_path / "rejects.csv"),
        report=str(tmp_path / "report.json"),
    )
    reached = anyio.Event()
    reconcile = Run.reconcile

    async def held(self: Run, files: list[str]) -> Any:
        reached.set()
        await anyio.sleep_forever()

    handed: list[Report] = []
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            monkeypatch.setattr(Run, "reconcile", held)
            job = dataclasses.replace(job, base_url=url)
            async with anyio.create_task_group() as tg:
                tg.start_soon(lambda: runner.load(job, env=CREDS, raise_on_stop=False, interrupted=handed.append))
                await reached.wait()
                tg.cancel_scope.cancel()
            monkeypatch.setattr(Run, "reconcile", reconcile)
            (partial,) = handed
            assert (partial.status, partial.loaded, partial.exit_code) == ("stopped", expected["rows"], 4), partial
            assert "reconciles it" in (partial.stop_reason or ""), partial.stop_reason
            assert json.loads((tmp_path / "report.json").read_text())["loaded"] == expected["rows"]
            done = await runner.resume(job.ledger_path, env=CREDS)
    assert done.reconcile is not None and done.reconcile.ok, done
    assert done.requests < partial.requests  # reconciled, nothing sent again


@pytest.mark.slow
def test_a_signal_during_the_whole_file_inspection_leaves_no_ledger(tmp_path: Path) -> None:
    """SIGTERM while the files are read for their meaning, before the first call: the message says nothing was sent,
    and so it is: no ledger is left behind (the inspection went on in its thread after the message, made the ledger
    and recorded the load, so that loading the file again was refused: 'the ledger ... already holds a run')."""
    data = tmp_path / "e.csv"
    write_entries(data, 150_000)  # seconds of inspection
    ledger = tmp_path / "run.sqlite"
    cmd = bulkload_cmd(
        "load",
        "economic",
        str(data),
        "--base-url",
        "http://127.0.0.1:9/x",
        "--ledger",
        str(ledger),
        "--report",
        str(tmp_path / "r.json"),
        "--no-progress",
    )
    env = child_env({**CREDS, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: any(tmp_path.glob(".run.sqlite.*.draft")), 60, "the ledger's draft")
        child.send_signal(signal.SIGTERM)
        out, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode == 4, (out, err)
    assert "stopped by SIGTERM; the run had not begun: nothing was sent" in err and "Traceback" not in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "e.csv"]  # no ledger, draft or lock file


def test_the_planner_child_ends_when_its_loader_is_killed(tmp_path: Path) -> None:
    fifo = tmp_path / "never.csv"
    os.mkfifo(fifo)  # opened for reading, it blocks until a writer comes: none does
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(DRIVER), str(fifo)], stdout=subprocess.PIPE, text=True, env=child_env({})
    )
    try:
        assert driver.stdout is not None
        child = int(driver.stdout.readline())
        wait_until(lambda: _waits_for_a_writer(child), 30, "the child blocked opening its file")
        driver.kill()  # kill -9: no close, no cleanup
        driver.wait(timeout=10)
        wait_until(lambda: not alive(child), 10, "the orphaned planner ending")
    finally:
        driver.kill()
        driver.communicate(timeout=10)
        if alive(child):
            os.kill(child, signal.SIGKILL)


def _waits_for_a_writer(pid: int) -> bool:
    """Whether the process is blocked opening a FIFO that has no writer (its kernel wait channel says so)."""
    try:
        return Path(f"/proc/{pid}/wchan").read_text() in ("fifo_open", "wait_for_partner", "pipe_wait_readable")
    except OSError:
        return False


def test_the_watch_ends_a_process_whose_parent_is_gone() -> None:
    orphaned = threading.Event()
    # a parent this process does not have: as after the real one died and init adopted it
    watch = threading.Thread(target=watch_parent, args=(os.getppid() + 1_000_000, 0.01, orphaned.set), daemon=True)
    watch.start()
    assert orphaned.wait(10)
    stays = threading.Event()
    threading.Thread(target=watch_parent, args=(os.getppid(), 0.01, stays.set), daemon=True).start()
    assert not stays.wait(0.2)


def test_a_ledger_write_sqlite_refuses_is_a_resumable_stop_naming_the_ledger(tmp_path: Path) -> None:
    path = tmp_path / "run.sqlite"
    ledger = Ledger.create(path, RunInfo("economic", "http://127.0.0.1:9", []))
    try:
        # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk: the file may not grow
        (pages,) = ledger.db().execute("PRAGMA page_count").fetchone()
        ledger.db().execute(f"PRAGMA max_page_count = {pages}")
        rows = [RowOutcome(0, line, "rejected", "text", "x" * 200, "") for line in range(2, 2_000)]
        with pytest.raises(LedgerWriteError) as stopped:
            ledger.add_rows(rows)
        assert isinstance(stopped.value, RunStopped) and stopped.value.uncertain
        assert str(path) in str(stopped.value) and "database or disk is full" in str(stopped.value)
        with pytest.raises(LedgerWriteError):
            ledger.sending(1, "", 0, "k-1", list(range(2, 100_000)), "digest", {})  # a chunk of many lines
        # SQLite's "attempt to write a readonly database" (SQLITE_READONLY), as on a mount made read-only
        ledger.db().execute("PRAGMA max_page_count = 1000000")
        ledger.db().execute("PRAGMA query_only = 1")
        with pytest.raises(LedgerWriteError, match="readonly database. The ledger or its folder cannot be written"):
            ledger.add_rows(rows[:1])
        ledger.db().execute("PRAGMA query_only = 0")
    finally:
        ledger.close()


def test_once_a_ledger_write_fails_no_call_that_had_not_left_is_sent(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a tester (a PostgreSQL ledger's connection lost mid-load; the same with SQLite's full disk): the calls
    already marked `sending` and waiting for their place in the rate limits were still sent, one by one, for seconds
    after the ledger had failed, none of their answers recordable, their rows all in doubt. Once a ledger write
    fails, a call that has not left does not: it stays as the ledger has it, its rows not yet sent; the call whose
    answer could not be recorded is in doubt; resume loads every row once."""
    data, ledger, report = tmp_path / "e.csv", tmp_path / "run.sqlite", tmp_path / "report.json"
    expected = write_entries(data, 1_000, journal=9)
    done, recorded, sent_then = Ledger.done, [0], []

    def refused_from_the_third(self: Ledger, *args: Any, **kwargs: Any) -> None:
        recorded[0] += 1
        if recorded[0] == 3:  # SQLite refuses every write from now on ("attempt to write a readonly database")
            self.db().execute("PRAGMA query_only = 1")
            sent_then.append(posts(sandbox_process))
        done(self, *args, **kwargs)

    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(Ledger, "done", refused_from_the_third)
    args = ["--ledger", str(ledger), "--report", str(report), "--no-progress"]
    pace = ["--rate", "2", "--batch-size", "100", "--concurrency", "4"]  # calls wait for their place
    assert main(["load", "economic", str(data), "--base-url", sandbox_process.url, *pace, *args]) == 4
    stopped = json.loads(report.read_text())
    assert "cannot write the ledger" in stopped["stop_reason"], stopped["stop_reason"]
    assert posts(sandbox_process) == sent_then[0] == 3  # none sent after the ledger failed
    # the third call's answer could not be recorded: in doubt; the calls that waited were not sent, and the ledger
    # has them `pending` from before their wait (Ledger.sending): not in doubt, not held back, their rows not sent
    assert (stopped["loaded"], stopped["in_doubt"], stopped.get("held_back", 0)) == (200, 100, 0), stopped
    assert (stopped["skipped"], stopped["rows_not_sent"]) == (0, 2_000 - 300), stopped
    monkeypatch.setattr(Ledger, "done", done)
    capsys.readouterr()
    assert main(["resume", *args]) == 0, capsys.readouterr()
    assert journal_count(sandbox_process, 9) == expected["rows"]  # every row, exactly once


def test_calls_waiting_when_the_ledger_fails_are_not_in_doubt_where_resume_cannot_settle_calls_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a tester (Visma Core, the ledger's disk full mid-load): the calls held back were never sent, but the
    ledger, whose write failed, still had them `sending`; resume (no key, no look at Visma Core) left them in doubt
    as "sent before the run stopped". The ledger has a call `pending` until it leaves (Ledger.sending): those that
    waited for their place are not sent, not in doubt, and resume sends them; only the call whose answer could not
    be recorded is in doubt."""
    sandbox = spawn_sandbox(target="visma-core")
    try:
        data, ledger, report = tmp_path / "v.csv", tmp_path / "run.sqlite", tmp_path / "report.json"
        rows = [f"1501,OUTLAY,{i}.00,d{i},n,2026-11-01,O{i}" for i in range(1, 41)]
        data.write_text("caseId,accountingCostType,amount,description,note,entryDate,orderId\n" + "\n".join(rows))
        done, recorded = Ledger.done, [0]

        def refused_from_the_third(self: Ledger, *args: Any, **kwargs: Any) -> None:
            recorded[0] += 1
            if recorded[0] == 3:  # SQLite refuses every write from now on
                self.db().execute("PRAGMA query_only = 1")
            done(self, *args, **kwargs)

        monkeypatch.setenv("VISMA_CORE_TOKEN", "t")
        monkeypatch.setattr(Ledger, "done", refused_from_the_third)
        args = ["--ledger", str(ledger), "--report", str(report), "--no-progress"]
        pace = ["--rate", "2", "--concurrency", "4"]  # calls wait for their place
        assert main(["load", "visma-core", str(data), "--base-url", sandbox.url, *pace, *args]) == 4
        said = capsys.readouterr().out
        stopped = json.loads(report.read_text())
        monkeypatch.setattr(Ledger, "done", done)
        assert main(["resume", *args]) == 1, capsys.readouterr()  # the one call in doubt stays so
        resumed = json.loads(report.read_text())
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    assert not stopped.get("held_back") and "held back" not in said, said
    assert stopped["in_doubt"] == stopped["in_doubt_written"] == 1, stopped
    assert (resumed["loaded"], resumed["in_doubt"]) == (39, 1), resumed


def test_calls_held_back_go_back_to_pending_where_the_ledger_takes_writes_again_after_the_stop(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The one write tried after the stop, where the ledger takes it (space freed meanwhile): the calls held back go
    back to `pending`, never sent, their rows not yet sent and not listed in doubt; resume sends them."""
    data, ledger, report = tmp_path / "e.csv", tmp_path / "run.sqlite", tmp_path / "report.json"
    expected = write_entries(data, 1_000, journal=9)
    done, recorded = Ledger.done, [0]
    record_held_back = Loader.record_held_back

    def refused_from_the_third(self: Ledger, *args: Any, **kwargs: Any) -> None:
        recorded[0] += 1
        if recorded[0] == 3:
            self.db().execute("PRAGMA query_only = 1")
        done(self, *args, **kwargs)

    def space_freed(self: Loader) -> None:
        self.ledger.db().execute("PRAGMA query_only = 0")
        record_held_back(self)

    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(Ledger, "done", refused_from_the_third)
    monkeypatch.setattr(Loader, "record_held_back", space_freed)
    args = ["--ledger", str(ledger), "--report", str(report), "--no-progress"]
    pace = ["--rate", "2", "--batch-size", "100", "--concurrency", "4"]
    assert main(["load", "economic", str(data), "--base-url", sandbox_process.url, *pace, *args]) == 4
    stopped = json.loads(report.read_text())
    assert (stopped["loaded"], stopped["in_doubt"], stopped["in_doubt_written"]) == (200, 100, 100), stopped
    assert "held_back" not in stopped and (stopped["skipped"], stopped["rows_not_sent"]) == (0, 2_000 - 300), stopped
    monkeypatch.setattr(Ledger, "done", done)
    capsys.readouterr()
    assert main(["resume", *args]) == 0, capsys.readouterr()
    assert journal_count(sandbox_process, 9) == expected["rows"]


def test_a_full_disk_as_the_walk_behind_the_load_takes_what_is_final_stops_as_a_ledger_write(
    tmp_path: Path,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a tester: the ledger's disk filling as the walk behind the load took in what was final (its index
    of the run's ids, written into the ledger after the last upload) ended the load with "SQLite cannot read what
    bulkload keeps" only: no summary, no free-space advice, no report. It is a ledger write: stopped as one."""
    data, ledger, report = tmp_path / "e.csv", tmp_path / "run.sqlite", tmp_path / "report.json"
    expected = write_entries(data, 300, journal=7)
    begin_remote = Ledger.begin_remote

    def on_a_full_disk(self: Ledger, *, fresh: bool = True) -> int:
        # SQLite's own "database or disk is full" (SQLITE_FULL), as on a full disk: the file may not grow
        (pages,) = self.db().execute("PRAGMA page_count").fetchone()
        self.db().execute(f"PRAGMA max_page_count = {pages}")
        return begin_remote(self, fresh=fresh)

    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(Ledger, "begin_remote", on_a_full_disk)
    args = ["--ledger", str(ledger), "--report", str(report), "--no-progress"]
    assert main(["load", "economic", str(data), "--base-url", sandbox_process.url, *args]) == 4
    out, err = capsys.readouterr()
    assert "SQLite cannot read" not in err and "Traceback" not in out + err, err
    stopped = json.loads(report.read_text())
    reason = f"cannot write the ledger {ledger}: database or disk is full; free space (or fix the file), then "
    assert stopped["status"] == "stopped" and stopped["stop_reason"].startswith(reason), stopped["stop_reason"]
    assert stopped["loaded"] == expected["rows"], stopped  # every upload was answered before the disk filled
    assert out.startswith("bulkload economic: stopped") and f"stopped: {reason}" in out, out  # the partial summary
    monkeypatch.setattr(Ledger, "begin_remote", begin_remote)  # space freed
    assert main(["resume", *args]) == 0, capsys.readouterr()
    assert json.loads(report.read_text())["reconcile"]["ok"]
    assert journal_count(sandbox_process, 7) == expected["rows"]  # every row, exactly once


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs: a ledger there fills it midway through a run; remounted at 32 MB, space is freed."""
    where = tmp_path / "small"
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("mounting a tmpfs is not permitted here; the boundary is proven by the test above")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


@pytest.mark.slow
def test_a_full_disk_under_the_ledger_stops_the_run_resumable_and_resume_finishes_it(
    tmp_path: Path, sandbox_process: SandboxProcess, small_disk: Path
) -> None:
    data = tmp_path / "e.csv"
    expected = write_entries(data, 10_000, journal=6)  # a ledger of about 1.4 MB when done
    ledger, report = small_disk / "run.sqlite", tmp_path / "report.json"
    env = child_env(CREDS)
    load = subprocess.run(
        bulkload_cmd(
            "load",
            "economic",
            str(data),
            "--base-url",
            sandbox_process.url,
            "--ledger",
            str(ledger),
            "--report",
            str(report),
            "--no-progress",
        ),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert load.returncode == 4, load.stderr
    assert "Traceback" not in load.stderr + load.stdout
    stopped = json.loads(report.read_text())
    assert stopped["status"] == "stopped" and "database or disk is full" in stopped["stop_reason"]
    assert str(ledger) in stopped["stop_reason"]
    # what to do is said, whichever stage met the full disk (the planner's rows, a chunk's record, the report)
    assert f"free space (or fix the file), then `bulkload resume --ledger {ledger}`" in stopped["stop_reason"], stopped
    assert f"bulkload resume --ledger {ledger}" in load.stdout, load.stdout
    assert stopped["loaded"] < expected["rows"]
    subprocess.run(["mount", "-o", "remount,size=32m", str(small_disk)], check=True)
    done = subprocess.run(
        bulkload_cmd("resume", "--ledger", str(ledger), "--report", str(report), "--no-progress"),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text())["reconcile"]["ok"]
    assert journal_count(sandbox_process, 6) == expected["rows"]  # every row, exactly once


@pytest.mark.slow
def test_a_ledger_on_a_mount_made_read_only_is_said_so_with_the_way_on(
    tmp_path: Path, sandbox_process: SandboxProcess, small_disk: Path
) -> None:
    # found by a tester: reconcile (which keeps its diff tables in the ledger) and resume stopped with SQLite's
    # "attempt to write a readonly database" and no word of what to do
    data = tmp_path / "e.csv"
    expected = write_entries(data, 20, journal=8)
    ledger, env = small_disk / "run.sqlite", child_env({**CREDS, "XDG_CACHE_HOME": str(tmp_path / "cache")})

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(bulkload_cmd(*args), env=env, capture_output=True, text=True, timeout=180)

    assert run("load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger),
               "--rejects", str(tmp_path / "r.csv"), "--no-progress").returncode == 0  # fmt: skip
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        checked = run("reconcile", "--ledger", str(ledger))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert checked.returncode == 2 and "Traceback" not in checked.stderr, checked.stderr
    assert "is on a read-only file system (a read-only mount): mount it read-write" in checked.stderr, checked
    assert run("reconcile", "--ledger", str(ledger)).returncode == 0
    assert journal_count(sandbox_process, 8) == expected["rows"]


def test_a_report_the_full_disk_refuses_stops_the_run_and_resume_writes_it(
    tmp_path: Path, sandbox_process: SandboxProcess, small_disk: Path
) -> None:
    """--report on a disk that fills up during the run: the run ended exit 0 with no report and no word of it."""
    data = tmp_path / "e.csv"
    expected = write_entries(data, 50, journal=7)
    report = small_disk / "report.json"
    filler = small_disk / "filler"
    with open(filler, "wb", buffering=0) as fh, contextlib.suppress(OSError):  # the disk full to its last block
        while True:
            fh.write(b"x" * 4096)
    env = child_env({**CREDS, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    load = subprocess.run(
        bulkload_cmd(
            "load",
            "economic",
            str(data),
            "--base-url",
            sandbox_process.url,
            "--ledger",
            str(tmp_path / "run.sqlite"),
            "--report",
            str(report),
            "--no-progress",
        ),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert load.returncode == 4, load.stdout + load.stderr
    assert "could not write the report" in load.stdout and "Traceback" not in load.stdout + load.stderr
    filler.unlink()
    done = subprocess.run(
        bulkload_cmd("resume", "--ledger", str(tmp_path / "run.sqlite"), "--no-progress"),
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = json.loads(report.read_text())
    assert (written["status"], written["loaded"], written["reconcile"]["ok"]) == ("complete", expected["rows"], True)
    assert journal_count(sandbox_process, 7) == expected["rows"]  # every row, exactly once


def dry_run_failing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException, before: Callable[[], object] = lambda: None
) -> int:
    """`bulkload load economic FILE --dry-run` whose dry run raises `failure` (after `before()`): the exit code."""
    for k, v in CREDS.items():
        monkeypatch.setenv(k, v)
    data = tmp_path / "e.csv"
    write_entries(data, 2)

    def fail(job: object, **_: object) -> None:
        before()
        raise failure

    monkeypatch.setattr(runner, "dry_run", fail)
    return main(["load", "economic", str(data), "--dry-run"])


def test_an_unexpected_error_is_one_line_exit_4_and_a_private_file_without_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = CREDS["ECONOMIC_APP_SECRET_TOKEN"]
    # stands for any bug: nothing in bulkload raises this on purpose
    bug = ZeroDivisionError(f"a bug that quotes {secret}")
    assert dry_run_failing(tmp_path, monkeypatch, bug, lambda: redact.register(secret)) == 4
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err and secret not in err
    assert err.startswith("bulkload: internal error (a bug in bulkload): ZeroDivisionError")
    kept = Path(err.rsplit("the details are in ", 1)[1].split(";")[0])
    text = kept.read_text()
    assert "Traceback" in text and "ZeroDivisionError" in text and secret not in text
    assert kept.stat().st_mode & 0o077 == 0


#: `bulkload` whose import of the CLI receives the signal argv[1] names: a stop while bulkload is still being read
STOPPED_WHILE_READ = """
import os, signal, sys

SIG = getattr(signal, sys.argv[1])

class Stop:
    def find_spec(self, name, path=None, target=None):
        if name == "bulkload.cli":
            os.kill(os.getpid(), SIG)
        return None

sys.meta_path.insert(0, Stop())
from bulkload.__main__ import entry
sys.argv = ["bulkload", "load", "economic", "e.csv", "--base-url", "http://127.0.0.1:9/x"]
sys.exit(entry())
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_while_bulkload_is_read_says_nothing_was_done_and_exits_4(tmp_path: Path, sig: signal.Signals) -> None:
    """SIGTERM or SIGHUP in bulkload's first second killed it by the signal, silently, where Ctrl-C at that moment
    said it was interrupted before it began and exited 4 (a tester's repro sigterm-at-start)."""
    done = subprocess.run(
        [sys.executable, "-c", STOPPED_WHILE_READ, sig.name],
        cwd=tmp_path,
        env=child_env(CREDS),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_default_signals,
    )
    why = "interrupted (Ctrl-C)" if sig == signal.SIGINT else f"stopped by {sig.name}"
    assert (done.returncode, done.stderr) == (4, f"bulkload: {why} before it began: nothing was done\n")


def test_sigterm_cancels_the_run_and_a_hangup_ignored_from_the_start_stays_ignored() -> None:
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}  # the CLI's `installed`
    seen: list[str] = []

    async def work() -> None:
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0.2)
        seen.append("the hangup did not stop it")
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(30)
        seen.append("SIGTERM did not stop it")

    try:
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(interrupts.on_signals(work()))
        assert seen == ["the hangup did not stop it"]
        assert interrupts.reason() == "stopped by SIGTERM"
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN  # given back as it was
    finally:
        signal.signal(signal.SIGHUP, previous)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "20")
def test_a_file_growing_while_it_is_loaded_loads_no_more_than_was_hashed_and_stops(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    data = tmp_path / "grow.csv"
    expected = write_entries(data, 2_000, journal=8)
    ledger = tmp_path / "run.sqlite"
    done = threading.Event()

    def grow() -> None:  # a voucher appended every few ms for as long as the run reads (bounded)
        with data.open("a") as fh:
            for v in range(100_000, 120_000):
                if done.wait(0.005):
                    return
                fh.write(f"5,8,{v},2026-11-02,1.00,DKK,1010,,Late {v},U25\n5,8,{v},2026-11-02,-1.00,DKK,5820,,x,\n")
                fh.flush()

    writer = threading.Thread(target=grow)
    writer.start()
    try:
        run = subprocess.run(
            bulkload_cmd(
                "load",
                "economic",
                str(data),
                "--base-url",
                sandbox_process.url,
                "--ledger",
                str(ledger),
                "--report",
                str(tmp_path / "report.json"),
                "--no-progress",
            ),
            env=child_env(CREDS),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        done.set()
        writer.join()
    assert run.returncode in (2, 4), run.stderr  # refused before the first call, or stopped once it was seen
    assert "changed while it was read" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert journal_count(sandbox_process, 8) <= expected["rows"]  # never a row the hash did not cover
    if run.returncode == 4:
        again = subprocess.run(
            bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress"),
            env=child_env(CREDS),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert again.returncode == 2 and "changed since the run started" in again.stderr, again.stderr
    else:
        assert not ledger.exists()


@pytest.mark.parametrize(
    ("what", "key", "label"),
    [("the rejects file", "rejects_file", "rejected rows"), ("the in-doubt file", "in_doubt_file", "rows in doubt")],
)
def test_the_summary_says_an_output_file_the_disk_refused_was_not_written(what: str, key: str, label: str) -> None:
    report = Report(
        target="economic",
        status="stopped",
        elapsed_s=1.0,
        rows_read=5,
        loaded=0,
        rejected=3,
        in_doubt=2,
        skipped=0,
        requests=0,
        retries=0,
        reconcile=None,
        ledger="/x/run.sqlite",
        rejects_file="/x/e.rejects.csv",
        in_doubt_file="/x/e.in_doubt.csv",
        unwritten=[f"{what}: [Errno 28] No space left on device"],
    )
    out = io.StringIO()
    print_summary(report, out)
    line = next(ln for ln in out.getvalue().splitlines() if ln.startswith(label))
    assert f"NOT WRITTEN to {getattr(report, key)} ([Errno 28] No space left on device)" in line, line
    other = next(
        ln
        for ln in out.getvalue().splitlines()
        if ln.startswith(("rejected rows", "rows in doubt")) and not ln.startswith(label)
    )
    assert "NOT WRITTEN" not in other  # the other file was written: its path alone


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "40")
def test_a_file_changed_after_its_inspection_stops_the_load_exit_4_and_resume_refuses_it(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """Appended to once the first calls are counted: the planner (a socket buffer ahead of the sender) is still
    reading; it loads none of the new rows and stops when it reaches the hashed end."""
    data = tmp_path / "grow.csv"
    expected = write_entries(data, 40_000, journal=9)  # 160 calls at 40 ms: planned far past the socket's buffer
    size = data.stat().st_size
    ledger, report = tmp_path / "run.sqlite", tmp_path / "report.json"
    proc = subprocess.Popen(
        bulkload_cmd(
            "load",
            "economic",
            str(data),
            "--base-url",
            sandbox_process.url,
            "--ledger",
            str(ledger),
            "--report",
            str(report),
            "--concurrency",
            "1",
            "--no-progress",
        ),
        env=child_env(CREDS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: posts(sandbox_process) >= 2, 60, "the first bulk calls")
        with data.open("a") as fh:
            fh.write("5,9,900000,2026-11-02,1.00,DKK,1010,,Late,U25\n5,9,900000,2026-11-02,-1.00,DKK,5820,,x,\n")
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 4, (out, err)
    assert "changed while it was read" in out + err and "Traceback" not in out + err, (out, err)
    stopped = json.loads(report.read_text())
    assert stopped["status"] == "stopped" and 0 < stopped["loaded"] <= expected["rows"]
    assert journal_count(sandbox_process, 9) == stopped["loaded"] <= expected["rows"]  # not one appended row
    again = subprocess.run(
        bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress"),
        env=child_env(CREDS),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "changed since the run started" in again.stderr, again.stderr
    assert "put back the file as it was (SHA-256" in again.stderr, again.stderr  # the way on, found by a tester
    # put back as it was, the run goes on and finishes: every row once, none counted twice. Before, the rows of the
    # open chunk when the change was seen were rejected ("not sent: … changed while it was read"), and this resume
    # loaded them too: rows_read past the file's rows, those rows in the rejects and the success file alike, exit 1
    # (found by a tester)
    with data.open("r+b") as fh:
        fh.truncate(size)
    back = subprocess.run(
        bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress"),
        env=child_env(CREDS),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert back.returncode == 0, back.stdout + back.stderr
    done = json.loads(report.read_text())
    assert (done["status"], done["rejected"], done["rows_read"]) == ("complete", 0, expected["rows"]), done
    assert done["loaded"] == journal_count(sandbox_process, 9) == expected["rows"]


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "40")
def test_a_file_edited_in_place_during_the_load_and_put_back_names_the_lines_and_the_way_on(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """Edited in place (same size) ahead of the planner once the first calls are counted: the run sends the edited
    line as it reads it, and stops at the hashed end (its mtime changed). Put back as it was, the file is the run's
    by its SHA-256, but the call the run sent of that line is not the one it builds now: the resume stops, and says
    which lines and what to do. Before: `the input differs from when this run started (chunk N); resume needs the
    same files and settings`, to a user who had put back the very file (found by a tester)."""
    data = tmp_path / "edit.csv"
    expected = write_entries(data, 40_000, journal=9)
    original = data.read_bytes()
    at = original.index(b",Sale 24000,")  # voucher 24000's first line, line 47,999: past what is planned by then
    ledger = tmp_path / "run.sqlite"
    cmd = bulkload_cmd(
        "load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger), "--no-progress"
    )
    proc = subprocess.Popen(
        [*cmd, "--concurrency", "1"],
        env=child_env(CREDS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: posts(sandbox_process) >= 2, 60, "the first bulk calls")
        with data.open("r+b") as fh:
            fh.seek(at)
            fh.write(b",Sold 24000,")
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 4 and "changed while it was read" in out + err, (out, err)
    assert journal_count(sandbox_process, 9) < expected["rows"]
    data.write_bytes(original)  # put back as it was, as the stop says
    again = subprocess.run(
        bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress", "-q"),
        env=child_env(CREDS),
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = again.stdout + again.stderr
    assert again.returncode == 2, said
    span = re.search(rf"lines (\d+)-(\d+) of {re.escape(str(data))} \(chunk \d+\) are not what the run sent", said)
    assert span is not None and int(span[1]) <= 47_999 <= int(span[2]), said
    assert f"roll the run back (`bulkload rollback --ledger {ledger}`), then load the file as a new run" in said, said


def test_a_read_sqlite_refuses_is_a_stop_not_a_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # ledger writes are translated in the ledger (LedgerWriteError); a read of a damaged file stops at the boundary
    damaged = sqlite3.DatabaseError("database disk image is malformed")
    assert dry_run_failing(tmp_path, monkeypatch, damaged) == 4
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "internal error" not in err and "Traceback" not in err
    assert err.startswith("bulkload: SQLite cannot read what bulkload keeps: database disk image is malformed")


def accounted(report: Report) -> None:
    """Every row read is in one bucket (guarantees.md: rows_read = loaded + rejected + in_doubt + skipped)."""
    buckets = report.loaded + report.rejected + report.in_doubt + report.skipped
    assert report.rows_read == buckets, (report.rows_read, report.loaded, report.rejected, report.in_doubt, report)


async def test_a_resume_stopped_before_it_reread_the_rows_it_counts_them_as_its_files_list_them(
    tmp_path: Path,
) -> None:
    """A resume the quota stops at once reads the input again only up to its first call: it counted 20 rejected
    rows while its rejects file listed 22 (and the summary said "rejected rows so far (22 vouchers)"). Its figures
    are the run's so far, as its rejects and success files list them, and the summary says so."""
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            _, job, _ = await stopped_by_quota(tmp_path, url, bad_every=4)
            again = await runner.resume(str(job.ledger), env=CREDS, raise_on_stop=False)
    assert again.status == "stopped" and again.requests == 0, again
    accounted(again)
    assert (again.rejected, again.loaded) == (again.rejects_written, again.success_written), again
    out = io.StringIO()
    print_summary(again, out)
    assert "rows: the run's so far, earlier invocations' included" in " ".join(out.getvalue().split())


async def test_an_api_gone_after_it_answered_the_run_stops_its_resume_resumable_every_row_accounted(
    tmp_path: Path,
) -> None:
    """The API that answered the run's calls no longer answers (a resume after it went down): exit 4 and the way on
    (before: exit 2, "This is the run's first call: check --base-url; nothing was sent", a wrong setting), and every
    row read in a bucket (before: the rows of a chunk planned after the rows rejected just ahead of it were in none
    where the run stopped there)."""
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            _, job, _ = await stopped_by_quota(tmp_path, url, bad_every=4)
        again = await runner.resume(str(job.ledger), env=CREDS, raise_on_stop=False, daily_quota=1_000)
    accounted(again)
    said = str(again.stop_reason)
    assert again.exit_code == 4 and "cannot connect to" in said, again
    assert "first call" not in said and "check --base-url" not in said, said
    assert said.endswith(f"continue with `bulkload resume --ledger {job.ledger}`"), said


async def test_a_manifest_job_stopped_by_an_api_gone_is_told_the_manifests_way_on_every_row_accounted(
    tmp_path: Path,
) -> None:
    """A manifest job whose API went down: its way on is the manifest's (`bulkload resume --ledger …` fails there
    for the credentials the manifest names by variables of its own), in its report, report file and fleet.json's,
    and its rows (planned in this process) add up."""
    from bulkload.fleet import run_manifest
    from bulkload.manifest import read_manifest

    data = tmp_path / "e.csv"
    write_entries(data, 300, bad_every=4)
    env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
    path = tmp_path / "m.toml"
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            path.write_text(
                f'output_dir = "{tmp_path / "runs"}"\n[[job]]\nname = "gone"\ntarget = "economic"\n'
                f'base_url = "{url}"\nfiles = ["{data}"]\nbatch_size = 20\nconcurrency = 3\nattempts = 1\n'
                "daily_quota = 9\n"
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
                encoding="utf-8",
            )
            first = await run_manifest(read_manifest(str(path)), env=env)
            assert first.jobs[0].status == "stopped", first
        path.write_text(path.read_text(encoding="utf-8").replace("daily_quota = 9", "daily_quota = 1000"))
        fleet = await run_manifest(read_manifest(str(path)), env=env, resume=True)
    (job,) = fleet.jobs
    assert job.report is not None and job.exit_code == 4, job
    accounted(job.report)
    assert fleet.totals["rows_read"] == sum(fleet.totals[k] for k in ("loaded", "rejected", "in_doubt", "skipped"))
    for said in (
        str(job.report.stop_reason),
        json.loads((tmp_path / "runs" / "gone" / "report.json").read_text())["stop_reason"],
    ):
        assert said.endswith(f"continue with `bulkload run {path} --resume`"), said
        assert "bulkload resume --ledger" not in said, said


def test_a_way_on_quotes_a_path_with_a_space_and_is_said_in_a_manifests_words(tmp_path: Path) -> None:
    """A ledger or manifest whose path holds a space is quoted as a shell reads it back, and a job's way on is the
    manifest's, `bulkload worker`'s for a queued job (before: the ledger unquoted, so the rewording's pattern missed
    it and the job was told `bulkload resume --ledger /tmp/my dir/…`, which names no ledger)."""
    from bulkload.fleet import manifest_words
    from bulkload.manifest import ManifestJob
    from bulkload.pipeline import resume_after

    ledger, manifest = tmp_path / "my dir" / "run.sqlite", tmp_path / "my jobs" / "m.toml"
    mjob = ManifestJob("j", "j", "economic", manifest, tmp_path, {"ledger": str(ledger)})
    said = resume_after(RuntimeError("gone"), ledger)
    assert said == f"continue with `bulkload resume --ledger '{ledger}'`", said
    assert manifest_words(said, mjob) == f"continue with `bulkload run '{manifest}' --resume`"
    queue = "postgresql://u@127.0.0.1:5432/q"
    queued = manifest_words(said, dataclasses.replace(mjob, queue=queue))
    assert queued.startswith(f"continue with `bulkload run '{manifest}' --queue {queue}` once the queue has stopped"), (
        queued
    )
    moved = manifest_words(said.removesuffix("`") + " --base-url URL`", mjob)
    assert moved.endswith(f"`bulkload run '{manifest}' --resume` once the job's base_url in it is right"), moved


@pytest.mark.parametrize("command", ["resume", "reconcile", "rollback"])
def test_a_way_on_names_a_ledger_given_by_a_relative_path_at_its_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """`bulkload resume --ledger l.sqlite` stopped by a signal said `continue with bulkload resume --ledger
    l.sqlite`, as typed: pasted in another folder it names no ledger. Every way on names it as `load`'s does, at its
    absolute path (a tester's repro resume-stop-relative-ledger)."""
    from bulkload import undo

    monkeypatch.chdir(tmp_path)
    Path("l.sqlite").touch()  # resume's way on is given for a ledger that is there

    async def stopped(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(undo if command == "rollback" else runner, command, stopped)
    assert main([command, "--ledger", "l.sqlite"]) == 4
    err = capsys.readouterr().err
    assert f"--ledger {tmp_path / 'l.sqlite'}`" in err, err


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "40")
def test_a_killed_planning_child_stops_the_run_naming_the_way_on(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """The planning child killed while the run sends: exit 4, and the stop line names the command that continues
    (before: `the planning process ended before its plan was done`, and no way on)."""
    data, ledger, report = tmp_path / "e.csv", tmp_path / "run.sqlite", tmp_path / "r.json"
    write_entries(data, 20_000)  # planned by a child: past what is planned in process
    args = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger)]
    proc = subprocess.Popen(
        bulkload_cmd(*args, "--report", str(report), "--batch-size", "50", "--concurrency", "2", "--no-progress"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(CREDS),
    )
    try:
        wait_until(lambda: posts(sandbox_process) > 2, 60, "the first calls")
        (child,) = (int(pid) for pid in Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split())
        os.kill(child, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    said = json.loads(report.read_text())
    assert proc.returncode == 4, (out, err)
    assert said["stop_reason"] == (
        f"the planning process ended before its plan was done; continue with `bulkload resume --ledger {ledger}`"
    ), said["stop_reason"]
    assert said["rows_read"] == sum(said[k] for k in ("loaded", "rejected", "in_doubt", "skipped")), said


@contextlib.contextmanager
def tiny_disk(path: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` mounted at `path` while the block runs: a disk that fills. Skips where none can be
    mounted (not root, no mount(8), a container without the right)."""
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"no tmpfs can be mounted here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def filled(disk: Path) -> Path:
    """`disk` (a tiny_disk) made full, not a byte more, by a file; that file, to unlink to free it."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as fh, contextlib.suppress(OSError):
        while True:
            fh.write(b"\0" * 4096)
    return filler


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="mounts a tmpfs: Linux, root")
def test_a_reconcile_or_rollback_whose_report_meets_a_full_disk_says_what_it_did_and_what_writes_it(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """Tester t74c: a reconcile or a rollback whose --report met a full disk ended on `bulkload: [Errno 28] No space
    left on device; run `bulkload … --ledger …` again` alone, exit 4: no word that the books reconciled, or that it
    had removed every record. Its summary is shown, the report said NOT WRITTEN with the command that writes it, exit
    4; that command, the disk freed, writes it."""
    data = tmp_path / "e.csv"
    write_entries(data, 50, journal=8)
    ledger = tmp_path / "run.sqlite"
    args = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger), "-q"]
    loaded = subprocess.run(bulkload_cmd(*args), env=child_env(CREDS), capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr
    with tiny_disk(tmp_path / "disk", "64k") as disk:
        filler = filled(disk)
        check = bulkload_cmd("reconcile", "--ledger", str(ledger), "--report", str(disk / "rc.json"), "--no-progress")
        checked = subprocess.run(check, env=child_env(CREDS), capture_output=True, text=True, timeout=120)
        assert checked.returncode == 4, checked.stdout + checked.stderr
        assert "bulkload reconcile economic: reconciled" in checked.stdout, checked.stdout
        again = f"`bulkload reconcile --ledger {ledger}` again writes it"
        assert f"report: NOT WRITTEN to {disk / 'rc.json'} (No space left on device; {again})" in checked.stdout
        back = bulkload_cmd("rollback", "--ledger", str(ledger), "--report", str(disk / "rb.json"), "--no-progress")
        full = subprocess.run(back, env=child_env(CREDS), capture_output=True, text=True, timeout=120)
        assert full.returncode == 4, full.stdout + full.stderr
        assert "bulkload rollback economic: complete" in full.stdout and "│ removed " in full.stdout, full.stdout
        again = f"`bulkload rollback --ledger {ledger}` again writes it"
        assert f"report: NOT WRITTEN to {disk / 'rb.json'} (No space left on device; {again})" in full.stdout
        assert sandbox_process.entries(journal=8) == 0  # it did remove them all
        filler.unlink()
        written = subprocess.run(back, env=child_env(CREDS), capture_output=True, text=True, timeout=120)
        assert written.returncode == 0, written.stdout + written.stderr
        report = json.loads((disk / "rb.json").read_text())
        assert report["status"] == "complete" and report["already_removed_before"] == 100, report


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="mounts a tmpfs: Linux, root")
def test_a_full_disk_while_planning_says_free_space_then_resume_without_a_traceback(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """A tester: the planning child's spill file (beside the ledger) met a full disk, and the summary, the -q line
    and the report's stop_reason showed a Python traceback, then advised the resume that repeated it."""
    data = tmp_path / "apart.csv"
    with data.open("w", encoding="utf-8") as fh:  # every voucher's lines apart: regrouped through a spill file
        fh.write(",".join(HEADER) + "\n")
        for sign, account in (("", 1010), ("-", 5820)):
            for v in range(1, 6001):
                fh.write(f"5,1,{v},2026-11-02,{sign}10.00,DKK,{account},,Sale {v} {'x' * 80},\n")
    with tiny_disk(tmp_path / "disk", "1200k") as disk:
        ledger, report = disk / "run.sqlite", tmp_path / "report.json"
        args = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger)]
        done = subprocess.run(
            bulkload_cmd(*args, "--report", str(report), "-q"),
            env=child_env(CREDS),
            capture_output=True,
            text=True,
            timeout=120,
        )
        said = json.loads(report.read_text())["stop_reason"]
    assert done.returncode == 4, (done.stdout, done.stderr)
    assert "database or disk is full" in said and "cannot write the spill file" in said, said
    assert said.endswith(f"free space (or fix the file), then `bulkload resume --ledger {ledger}`"), said
    assert "Traceback" not in done.stdout + done.stderr + said, (done.stdout, done.stderr)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="mounts a tmpfs: Linux, root")
def test_a_ledger_on_a_full_disk_is_said_so_not_said_to_be_no_ledger(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """A tester: a ledger whose disk filled (here after its run, before a reconcile: SQLite must make the -shm and
    -wal it opens with) was said to be "not a bulkload ledger (disk I/O error)", and a load whose disk filled as it
    opened the ledger it had made advised a resume that said the same. Now the full disk is named, and the command
    run again once space is freed works."""
    data = tmp_path / "e.csv"
    expected = write_entries(data, 100, journal=3)
    with tiny_disk(tmp_path / "disk", "1m") as disk:
        ledger = disk / "run.sqlite"
        args = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger), "-q"]
        loaded = subprocess.run(bulkload_cmd(*args), env=child_env(CREDS), capture_output=True, text=True, timeout=120)
        assert loaded.returncode == 0, loaded.stdout + loaded.stderr
        filler = filled(disk)
        reconcile = bulkload_cmd("reconcile", "--ledger", str(ledger), "-q")
        full = subprocess.run(reconcile, env=child_env(CREDS), capture_output=True, text=True, timeout=120)
        said = full.stdout + full.stderr
        # exit 4, not 2: nothing to correct in the command (tester t74c; DESIGN.md's exit codes)
        assert full.returncode == 4 and "not a bulkload ledger" not in said, said
        assert f"cannot open the ledger {ledger}" in said and "the disk it is on is full" in said, said
        assert "free space there, then run the command again" in said, said
        filler.unlink()
        again = subprocess.run(reconcile, env=child_env(CREDS), capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and f"{expected['rows']:,} loaded" in again.stdout, again.stdout + again.stderr


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "40")
def test_a_quiet_load_stopped_by_ctrl_c_prints_one_line(tmp_path: Path, sandbox_process: SandboxProcess) -> None:
    """-q is one line however the load ends: stopped by Ctrl-C too, not the table (the `interrupted` summary)."""
    data = tmp_path / "e.csv"
    write_entries(data, 6_000, journal=4)
    proc = subprocess.Popen(
        bulkload_cmd("load", "economic", str(data), "--base-url", sandbox_process.url, "--concurrency", "1", "-q"),
        env=child_env(CREDS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_default_signals,
    )
    try:
        wait_until(lambda: posts(sandbox_process) >= 3, 60, "the first bulk calls")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 4, (out, err)
    (line,) = out.splitlines()
    assert line.startswith("bulkload economic: stopped: "), line
    assert re.search(r" skipped, [\d,]+ not yet sent; interrupted \(Ctrl-C\); ", line), line
    assert "settles the calls that were in flight" in line  # e-conomic: sent again with their keys
    # one line in all, saying "stopped" once: before, "…: stopped: …; stopped: interrupted (Ctrl-C); …", and on
    # stderr a second line, "bulkload: interrupted (Ctrl-C); continue with `bulkload resume …`", which it says
    assert line.count("stopped:") == 1, line
    assert not err, err


def on_a_terminal(cmd: list[str], stop: Callable[[subprocess.Popen[bytes]], None]) -> tuple[int, str]:
    """Run `cmd` with a terminal (a pty of 40 rows of 120 columns) for its stdin, stdout and stderr, `stop` it;
    its exit code and all it wrote there, control sequences and all."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    proc = subprocess.Popen(
        cmd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=child_env({**CREDS, "TERM": "xterm"}),
        preexec_fn=_default_signals,
    )
    os.close(slave)
    written: list[bytes] = []

    def read() -> None:
        with contextlib.suppress(OSError):  # EIO: the child's side is closed
            while chunk := os.read(master, 65536):
                written.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        stop(proc)
        proc.wait(timeout=60)
        reader.join(timeout=30)
    finally:
        proc.kill()
        os.close(master)
    return proc.returncode, b"".join(written).decode("utf-8", "replace")


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "40")
def test_ctrl_c_on_a_terminal_prints_the_summary_once_the_progress_display_is_gone(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """The summary of a load stopped by Ctrl-C was printed while the progress display was still up: the display's
    clearing then erased the summary's last line (`ledger: …`) and left a frame of its own above the summary (a
    tester's repro ctrlc-terminal-summary). Nothing moves the cursor up or erases a line once the summary begins."""
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    write_entries(data, 6_000, journal=4)
    args = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger)]

    def ctrl_c(proc: subprocess.Popen[bytes]) -> None:
        wait_until(lambda: posts(sandbox_process) >= 3, 60, "the first bulk calls")
        proc.send_signal(signal.SIGINT)

    code, shown = on_a_terminal(bulkload_cmd(*args, "--concurrency", "1"), ctrl_c)
    assert code == 4, shown
    summary = shown[shown.index("bulkload economic: stopped") :]
    assert "\x1b[2K" not in summary and "\x1b[1A" not in summary, repr(summary)
    assert f"ledger: {ledger}" in summary, summary


@pytest.mark.slow
def test_a_stopped_payorcrm_load_says_resume_leaves_its_calls_in_flight_in_doubt(tmp_path: Path) -> None:
    """PayorCRM takes no key and has no look-up: the stopped line says what resume does there (sends the rows not
    yet sent; the calls in flight stay in doubt), as the in-doubt line does, never that resume settles them."""
    customers, invoices = tmp_path / "cust.csv", tmp_path / "inv.csv"
    make = [sys.executable, "-m", "bulkload.sandbox.generate_data", "--seed", "3"]
    subprocess.run([*make, "--kind", "payorcrm-customers", "--rows", "300", str(customers)], check=True, timeout=60)
    subprocess.run(
        [*make, "--kind", "payorcrm-invoices", "--customers", "300", "--rows", "3000", str(invoices)],
        check=True,
        timeout=60,
    )
    sandbox = spawn_sandbox("--latency-ms", "300", target="payorcrm")
    try:
        proc = subprocess.Popen(
            bulkload_cmd(
                "load",
                "payorcrm",
                "--customers",
                str(customers),
                "--invoices",
                str(invoices),
                "--amount-unit",
                "major",
                "--batch-size",
                "50",
                "--base-url",
                sandbox.url,
                "--no-progress",
            ),
            env=child_env({"PAYORCRM_API_KEY": "k", "PAYORCRM_API_SECRET": "s"}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_default_signals,
        )
        try:
            wait_until(lambda: posts(sandbox) >= 2, 60, "the first calls")
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
    assert proc.returncode == 4, (out, err)
    (stopped,) = [line for line in out.splitlines() if line.startswith("stopped:")]
    assert "settles" not in stopped, stopped
    assert "by sending the rows the run never sent; the calls that were in flight stay in doubt" in stopped, stopped


CTRL_C_AS_ERRORS_ARE_READ = """
import os, signal, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "bulkload.errors":  # the first module the command reads after the package
            sys.meta_path.remove(self)  # one Ctrl-C
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["bulkload", "load", "economic", "e.csv", "--base-url", "http://127.0.0.1:9/x"]
from bulkload.__main__ import entry  # as the `bulkload` script does
sys.exit(entry())
"""


def test_a_ctrl_c_as_the_command_reads_the_errors_says_nothing_was_done() -> None:
    """The package imported errors.py (and asyncio with it) as the `bulkload` script imported `bulkload.__main__`,
    before `entry` could answer a Ctrl-C: one then printed a Python traceback (tester t42d). The package now
    imports nothing until asked, and entry reads the rest where a Ctrl-C says it was interrupted before it began."""
    done = subprocess.run(
        [sys.executable, "-c", CTRL_C_AS_ERRORS_ARE_READ],
        env=child_env(CREDS),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_default_signals,
    )
    assert (done.returncode, done.stderr) == (4, "bulkload: interrupted (Ctrl-C) before it began: nothing was done\n")


def test_the_package_still_gives_its_errors_on_first_use() -> None:
    """What `import bulkload` gave while it imported the errors, it gives on first use: the error classes, and the
    submodules errors and redact as attributes (`except bulkload.errors.ConfigError` in a script)."""
    script = (
        "import sys, bulkload; assert 'bulkload.errors' not in sys.modules; "
        "assert bulkload.errors.ConfigError is bulkload.ConfigError and bulkload.redact.redact; "
        "assert issubclass(bulkload.RunStopped, bulkload.BulkloadError); print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "ok\n", "")


@pytest.mark.slow
def test_a_damaged_ledger_is_said_damaged_not_to_be_run_again(tmp_path: Path, sandbox_process: SandboxProcess) -> None:
    """A tester: a ledger with a few of its bytes overwritten (a disk's fault) stopped the reconcile with `SQLite cannot
    read what bulkload keeps: database disk image is malformed; run `bulkload reconcile --ledger …` again`, exit 4:
    run again, it meets the same damage, every time. Now the damage is named (SQLite's quick_check), and the way
    on is a whole copy of the ledger put back."""
    data, ledger = tmp_path / "e.csv", tmp_path / "run.sqlite"
    write_entries(data, 2_000, journal=6)
    load = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger), "-q"]
    assert subprocess.run(bulkload_cmd(*load), env=child_env(CREDS), capture_output=True, timeout=120).returncode == 0
    size = ledger.stat().st_size
    with ledger.open("r+b") as fh:  # a page's cells past the middle overwritten: the `created` rows reconcile reads
        fh.seek(size // 2 // 4096 * 4096 + 8)
        fh.write(bytes(range(256)) * 15)
    reconcile = bulkload_cmd("reconcile", "--ledger", str(ledger), "-q")
    done = subprocess.run(reconcile, env=child_env(CREDS), capture_output=True, text=True, timeout=120)
    said = done.stdout + done.stderr
    assert done.returncode == 4 and "\n" not in said.strip() and "Traceback" not in said, said
    assert f"SQLite cannot read the ledger {ledger}: database disk image is malformed: the ledger is damaged" in said
    assert "(SQLite's quick_check: " in said and "running the command again meets the same damage" in said, said
    assert "Put back a whole copy of it from a backup (the file with its -wal)" in said, said


@pytest.mark.slow
@pytest.mark.sandbox_flags("--latency-ms", "40")
def test_an_input_deleted_during_the_load_stops_it_with_its_summary_and_resume_writes_the_rejects(
    tmp_path: Path, sandbox_process: SandboxProcess
) -> None:
    """A tester: the input deleted (moved away) while the run loaded it. The run read it to its end through the file
    it had open and loaded every row, then the rejects file, whose cells are read from the input again, could not be
    written: the command ended at `bulkload: error: cannot read e.csv: No such file or directory`, exit 2 (nothing
    sent, by the docs), with no summary and no report. Now it is an output not written: stopped, exit 4, the summary
    and the report say so, and the resume of the input put back writes it."""
    data, ledger, report = tmp_path / "gone.csv", tmp_path / "run.sqlite", tmp_path / "report.json"
    expected = write_entries(data, 10_000, journal=5, bad_every=1_000)
    original = data.read_bytes()
    cmd = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", str(ledger)]
    proc = subprocess.Popen(
        bulkload_cmd(*cmd, "--report", str(report), "--concurrency", "1", "--no-progress"),
        env=child_env(CREDS),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(lambda: posts(sandbox_process) >= 2, 60, "the first bulk calls")
        data.unlink()
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 4, (out, err)
    stopped = json.loads(report.read_text())
    assert stopped["status"] == "stopped" and stopped["loaded"] == expected["rows"], stopped
    assert stopped["rejected"] == expected["bad"] and stopped["rejects_written"] is None, stopped
    assert any(u.startswith("the rejects file: cannot read") for u in stopped["unwritten"]), stopped["unwritten"]
    assert "could not write the rejects file: cannot read" in out and "put the input back" in out, out
    assert stopped["rejects_load"] is None and "fix them in place" not in out, out  # no file to fix and load
    assert journal_count(sandbox_process, 5) == expected["rows"]
    data.write_bytes(original)  # put back as it was
    again = subprocess.run(
        bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress", "-q"),
        env=child_env(CREDS),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 1, again.stdout + again.stderr  # complete, some rejected
    rejects = tmp_path / "gone.csv.rejects.csv"
    assert len(rejects.read_text(encoding="utf-8").splitlines()) == 1 + expected["bad"]
    assert journal_count(sandbox_process, 5) == expected["rows"]
