"""The queue (`bulkload run MANIFEST --queue`, `bulkload worker`, `bulkload status`) against a real PostgreSQL, the
real multi-agreement e-conomic sandbox and real worker processes. Judged by what the server counted: every row once
per agreement, one agreement's jobs one after another, a killed worker's job finished by another with the keys its
run began with (one key prefix per agreement)."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import msgspec
import psycopg
import pytest
from conftest import CREDS, bulkload_cmd, child_env, serving, spawn_sandbox, write_entries
from test_fleet import AGREEMENTS, ENV, assert_each_row_once, entries_of, grant, inputs, manifest_text, server_stats

from benchmarks import chaos_fleet
from bulkload.cli import main
from bulkload.errors import POSTGRES_EXTRA
from bulkload.sandbox.agreements import agreement_id

#: seconds a test may take at most, on a busy machine
BOUND_S = 90


def stop(*procs: subprocess.Popen[Any] | None) -> None:
    """Kill the processes a test started (those it did) and reap them."""
    for proc in procs:
        if proc is not None:
            proc.kill()
            proc.communicate(timeout=10)


def status(url: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict[str, object]]]:
    capsys.readouterr()
    code = main(["status", "--queue", url, "--json"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_workers_run_the_queued_jobs_one_agreement_at_a_time(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox = spawn_sandbox("--agreements")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        rows = inputs(tmp_path)
        manifest = tmp_path / "fleet.toml"
        manifest.write_text(manifest_text(sandbox.url, cap=8))
        assert main(["run", str(manifest), "--queue", postgres_url]) == 0
        assert main(["run", str(manifest), "--queue", postgres_url, "--json"]) == 0  # still waiting: not again
        assert all(queued["id"] is None for queued in json.loads(capsys.readouterr().out.splitlines()[-1]))
        code, jobs = status(postgres_url, capsys)
        assert code == 4 and len(jobs) == 6 and {job["state"] for job in jobs} == {"queued"}

        env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1"}
        for n in range(2):
            with open(tmp_path / f"worker-{n}.log", "wb") as log:
                cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", postgres_url, "--concurrency", "3"]
                workers.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + BOUND_S
        while (code := status(postgres_url, capsys)[0]) != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        code, jobs = status(postgres_url, capsys)
        assert code == 0, jobs
        assert {(job["state"], job["exit_code"]) for job in jobs} == {("finished", 0)}
        assert {job["counts"]["loaded"] for job in jobs} == {400}
        assert {str(job["worker"]).rsplit(":", 1)[1] for job in jobs} <= {str(w.pid) for w in workers}

        asyncio.run(assert_each_row_once(sandbox.url, rows))
        _, agreements = asyncio.run(server_stats(sandbox.url))
        for a in range(AGREEMENTS):
            spans = sorted(agreements[agreement_id(grant(a))]["runs"].values())
            assert len(spans) == 2  # one run per job, each with its own keys
            (_, first_ended), (second_began, _) = spans
            assert first_ended <= second_began  # by the server's clock: one agreement's jobs one at a time

        assert main(["status", "--queue", postgres_url]) == 0
        table = capsys.readouterr().out
        assert "a2j1" in table and "finished" in table
        with psycopg.connect(postgres_url) as conn:  # what the queue keeps names no credential
            kept = conn.execute(
                "SELECT q::text, j::text FROM bulkload_queue q JOIN procrastinate_jobs j ON j.id = q.job_id"
            )
            text = " ".join(" ".join(row) for row in kept.fetchall())
            schemas = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'job\\_%'").fetchone()
        assert "a2j1" in text and not any(secret in text for secret in ENV.values())
        # each job's ledger is in PostgreSQL, where a worker on any machine resumes it; none in the output dir
        assert schemas == (6,) and not list(tmp_path.rglob("ledger.sqlite"))
    finally:
        for proc in (*workers, sandbox.proc):
            proc.kill()
            proc.communicate(timeout=10)


@pytest.mark.slow
def test_a_killed_workers_job_is_finished_by_another_with_the_same_keys(tmp_path: Path, postgres_url: str) -> None:
    """Two workers, two agreements; the first worker seen running a job is SIGKILLed at once: the other puts its
    job back in the queue (no heartbeat) and resumes it from the ledger. Each agreement holds every row once, was
    sent under one run's keys, and was never refused for its window."""
    outcome = chaos_fleet.trial(
        postgres_url, tmp_path, agreements=2, rows=100, workers=2, kill_window_s=(0.0, 0.0), faults=False
    )
    assert outcome.killed and outcome.retried >= 1
    assert outcome.ok, outcome


@pytest.mark.slow
def test_the_daily_quota_is_the_agreements_across_workers(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two workers with caches of their own (two machines) and a daily quota of 2 calls per agreement, the
    sandbox's too: each agreement's first job stops once its 2 calls are spent, is queued again and stops again
    without a call, whichever worker runs it; the second waits behind it. The sandbox refuses no call for its
    quota."""
    sandbox = spawn_sandbox("--agreements", "--daily-quota", "2")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        inputs(tmp_path)
        manifest = tmp_path / "fleet.toml"
        names = [f"a{a}j{j}" for a in range(AGREEMENTS) for j in range(2)]
        manifest.write_text(manifest_text(sandbox.url, cap=8, extra=dict.fromkeys(names, "daily_quota = 2\n")))
        assert main(["run", str(manifest), "--queue", postgres_url]) == 0
        for n in range(2):
            env = {**os.environ, **ENV, "XDG_CACHE_HOME": str(tmp_path / f"cache-{n}")}
            with open(tmp_path / f"worker-{n}.log", "wb") as log:
                cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", postgres_url]
                workers.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + BOUND_S
        while time.monotonic() < deadline:
            jobs = {job["name"]: job for job in status(postgres_url, capsys)[1]}
            if all(jobs[f"a{a}j0"]["attempts"] >= 2 for a in range(AGREEMENTS)):  # stopped, queued again, stopped
                break
            time.sleep(0.5)
        for a in range(AGREEMENTS):
            first, second = jobs[f"a{a}j0"], jobs[f"a{a}j1"]
            assert (first["state"], first["status"], first["attempts"]) == ("queued", "stopped", 2), first
            assert (second["state"], second["attempts"]) == ("queued", 0)  # waits behind its agreement's first
        _, agreements = asyncio.run(server_stats(sandbox.url))
        for a in range(AGREEMENTS):
            seen = agreements[agreement_id(grant(a))]
            assert seen["requests"] == 2 and seen["faults"]["quota"] == 0
    finally:
        for proc in (*workers, sandbox.proc):
            proc.kill()
            proc.communicate(timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize("then", ["put back", "left out", "while queued"])
def test_a_failed_job_queued_again_is_shown_as_its_latest_queueing(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str], then: str
) -> None:
    """The manifest changed after it was queued (a2j1 gone): that job fails and stays failed. The manifest put back
    and queued again, the job runs and finishes; status shows each job once, as its latest queueing, and exits 0
    (it did 4 for good: the failure corrected was still listed). Queued again without the job, the failed job is
    withdrawn, and status exits 0 too (it did 4 for good: nothing could clear it). Taken out while it still waits,
    it is withdrawn at once, and never runs."""
    sandbox = spawn_sandbox("--agreements")
    worker: subprocess.Popen[bytes] | None = None
    try:
        rows = inputs(tmp_path)
        manifest = tmp_path / "fleet.toml"
        whole = manifest_text(sandbox.url, cap=8)
        manifest.write_text(whole)
        assert main(["run", str(manifest), "--queue", postgres_url]) == 0
        manifest.write_text(whole.split('[[job]]\nname = "a2j1"')[0])  # changed since it was queued
        if then == "while queued":
            assert main(["run", str(manifest), "--queue", postgres_url]) == 0
            assert {str(job["name"]): job["state"] for job in status(postgres_url, capsys)[1]}["a2j1"] == "withdrawn"
        env = {**os.environ, **ENV}
        with open(tmp_path / "worker.log", "wb") as log:
            cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", postgres_url]
            worker = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)

        def settled() -> dict[str, dict[str, object]]:
            deadline = time.monotonic() + BOUND_S
            while True:
                jobs = {str(job["name"]): job for job in status(postgres_url, capsys)[1]}
                over = {"finished", "failed", "withdrawn"}
                if {job["state"] for job in jobs.values()} <= over or time.monotonic() > deadline:
                    return jobs
                time.sleep(0.5)

        jobs = settled()
        if then == "while queued":
            code, listed = status(postgres_url, capsys)
            states = {str(job["name"]): job["state"] for job in listed}
            assert code == 0 and states.pop("a2j1") == "withdrawn" and set(states.values()) == {"finished"}, listed
            assert jobs["a2j1"]["attempts"] == 0  # it never ran
            return
        assert jobs["a2j1"]["state"] == "failed" and "no job 'a2j1'" in str(jobs["a2j1"]["error"]), jobs["a2j1"]
        assert status(postgres_url, capsys)[0] == 4
        # the worker's log says why, in one line: an ordinary failure, no traceback (it printed procrastinate's)
        logged = (tmp_path / "worker.log").read_text()
        assert "ended with status: Error" in logged and "Traceback" not in logged, logged
        assert re.search(
            r"ERROR procrastinate\.worker: Job .*a2j1.* ended with status: Error.*: the manifest .* has no job 'a2j1'",
            logged,
        ), logged

        if then == "left out":
            assert main(["run", str(manifest), "--queue", postgres_url]) == 0
            settled()
            code, listed = status(postgres_url, capsys)
            states = {str(job["name"]): job["state"] for job in listed}
            assert code == 0 and states.pop("a2j1") == "withdrawn" and set(states.values()) == {"finished"}, listed
            return
        manifest.write_text(whole)
        assert main(["run", str(manifest), "--queue", postgres_url]) == 0
        jobs = settled()
        code, listed = status(postgres_url, capsys)
        assert code == 0 and len(listed) == AGREEMENTS * 2, listed  # six jobs, each once
        assert {(job["state"], job["exit_code"]) for job in jobs.values()} == {("finished", 0)}
        asyncio.run(assert_each_row_once(sandbox.url, rows))
    finally:
        stop(worker, sandbox.proc)


@pytest.mark.slow
def test_a_running_job_is_not_queued_again(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a tester: queued again while it ran, a job had a second queueing that its own retry (a quota spent,
    a worker lost) clashed with, and the agreement waited behind it for good while status said "queued". A job
    running is not queued again, as one waiting is not."""
    sandbox = spawn_sandbox("--agreements", "--latency-ms", "150")
    worker: subprocess.Popen[bytes] | None = None
    try:
        rows = inputs(tmp_path)
        manifest = tmp_path / "fleet.toml"
        manifest.write_text(manifest_text(sandbox.url, cap=8))
        assert main(["run", str(manifest), "--queue", postgres_url]) == 0
        with open(tmp_path / "worker.log", "wb") as log:
            cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", postgres_url, "--concurrency", "1"]
            worker = subprocess.Popen(cmd, env={**os.environ, **ENV}, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + BOUND_S
        while True:  # a job running, held so (the worker stopped) while it is queued again: not done meanwhile
            assert time.monotonic() < deadline, "no job began"
            if any(job["state"] == "running" for job in status(postgres_url, capsys)[1]):
                worker.send_signal(signal.SIGSTOP)
                if any(job["state"] == "running" for job in status(postgres_url, capsys)[1]):
                    break
                worker.send_signal(signal.SIGCONT)
            time.sleep(0.1)
        capsys.readouterr()
        try:
            assert main(["run", str(manifest), "--queue", postgres_url, "--json"]) == 0
        finally:
            worker.send_signal(signal.SIGCONT)
        assert [queued["id"] for queued in json.loads(capsys.readouterr().out.splitlines()[-1])] == [None] * 6
        while (code := status(postgres_url, capsys)[0]) != 0 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert code == 0
        with psycopg.connect(postgres_url) as conn:
            assert conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone() == (6,)
        asyncio.run(assert_each_row_once(sandbox.url, rows))
    finally:
        stop(worker, sandbox.proc)


def test_status_of_a_database_nothing_was_queued_in(postgres_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # a tester's: status against a database nothing was ever queued in (a mistyped database name) printed an empty
    # table and exited 0, as when every job has finished: a script waiting on it went on. It is refused (exit 2),
    # saying what to check, with -q and --json too (-q: found by a tester before, it printed the whole table)
    for flags in ([], ["-q"], ["--json"]):
        capsys.readouterr()
        assert main(["status", "--queue", postgres_url, *flags]) == 2, flags
        said = capsys.readouterr()
        assert said.out == "" and "no job was ever queued in the database of" in said.err, (flags, said)
        assert "a mistyped database name?" in said.err and "bulkload run MANIFEST --queue URL" in said.err, said


def test_status_quiet_does_not_count_a_job_whose_worker_is_silent_as_running() -> None:
    # a tester's: -q counted a job whose worker had sent no heartbeat for minutes (killed) as running, where the
    # table says its worker may be gone: the one line a script or an operator reads looked alive
    from bulkload.queue import JobState
    from bulkload.worker import STALLED_AFTER_S, quiet_states

    alive = JobState(id=1, name="a", agreement="a", state="running", attempts=0, worker="vm:1", silent_s=1.0)
    dead = msgspec.structs.replace(alive, id=2, name="b", silent_s=STALLED_AFTER_S + 60)
    line = quiet_states([alive, dead])
    assert line.startswith(
        "bulkload status: 2 jobs: 1 running, 1 running with no worker heartbeat (its worker may be gone);"
    ), line


def test_status_quiet_is_one_line_of_states_naming_the_jobs_not_clean() -> None:
    from bulkload.queue import JobState
    from bulkload.worker import quiet_states

    rows = {"rows_read": 40, "loaded": 39, "rejected": 1, "in_doubt": 0, "skipped": 0, "requests": 3}
    states = [
        JobState(id=1, name="a", agreement="a", state="finished", attempts=1, status="complete", exit_code=0),
        JobState(
            id=2, name="b", agreement="b", state="finished", attempts=1, status="complete", exit_code=1, counts=rows
        ),
        JobState(id=3, name="c", agreement="c", state="failed", attempts=1, status="stopped", error="x" * 200),
        JobState(id=4, name="d", agreement="d", state="running", attempts=0),
    ]
    line = quiet_states(states)
    assert "\n" not in line and "x" * 20 not in line, line
    assert line.startswith("bulkload status: 4 jobs: 1 running, 2 finished, 1 failed;"), line
    assert "b (complete, exit 1: 1 rejected, 0 in doubt)" in line and "c (failed" in line and "a (" not in line, line


def test_status_quiet_names_a_jobs_rows_held_back() -> None:
    """A tester's: `bulkload status -q` named a job not clean by its rows rejected and in doubt, not those of them
    held back unsent (its counts' `held_back`, a column of the table): said as a run's `-q` line says them."""
    from bulkload.queue import JobState
    from bulkload.worker import quiet_states

    rows = {"rows_read": 40, "loaded": 30, "rejected": 0, "in_doubt": 10, "held_back": 4, "requests": 3}
    b = JobState(id=2, name="b", agreement="b", state="finished", attempts=1, status="stopped", exit_code=4)
    b = msgspec.structs.replace(b, counts=rows)
    line = quiet_states([b])
    assert "b (stopped, exit 4: 0 rejected, 10 in doubt (4 held back unsent))" in line, line
    line = quiet_states([msgspec.structs.replace(b, counts={**rows, "held_back": 0})])
    assert "b (stopped, exit 4: 0 rejected, 10 in doubt)" in line, line


def test_a_jobs_counts_hold_its_rows_held_back() -> None:
    """`bulkload status`' counts of a job, from its report or while it runs from its progress, hold the rows of its
    calls held back unsent when a ledger write failed (`held_back`: 0 where a report has none)."""
    import msgspec

    from bulkload.progress import Snapshot
    from bulkload.queue import counts_of
    from bulkload.results import Report

    fields = {"target": "economic", "status": "stopped", "rows_read": 40, "loaded": 30, "rejected": 0, "in_doubt": 10}
    fields |= {"skipped": 0, "requests": 3, "retries": 0, "elapsed_s": 0.5, "reconcile": None}
    fields |= {"ledger": "/runs/a.sqlite", "rejects_file": "/runs/a.rejects.csv"}
    assert counts_of(msgspec.convert({**fields, "held_back": 4}, Report))["held_back"] == 4
    assert counts_of(msgspec.convert(fields, Report))["held_back"] == 0
    running = Snapshot("loading", 0, None, "rows", rows_read=40, in_doubt=10, held_back=4)
    assert counts_of(running) == {
        "rows_read": 40,
        "loaded": 0,
        "rejected": 0,
        "in_doubt": 10,
        "held_back": 4,
        "skipped": 0,
        "requests": 0,
    }


def test_a_jobs_counts_hold_its_rows_not_sent_where_its_report_gives_them(capsys: pytest.CaptureFixture[str]) -> None:
    """`bulkload status`' counts of a finished job hold its report's `rows_not_sent` (the rows of a stopped run's
    inputs in no bucket, which resume sends: 96a6b2e); null where the report could not count them (its ledger's
    connection lost), absent where it has none (an older bulkload's) and while it runs (its progress has none)."""
    import msgspec

    from bulkload.progress import Snapshot
    from bulkload.queue import JobState, counts_of
    from bulkload.results import Report
    from bulkload.worker import print_states

    fields = {"target": "economic", "status": "stopped", "rows_read": 40, "loaded": 30, "rejected": 0, "in_doubt": 10}
    fields |= {"skipped": 0, "requests": 3, "retries": 0, "elapsed_s": 0.5, "reconcile": None}
    fields |= {"ledger": "/runs/a.sqlite", "rejects_file": "/runs/a.rejects.csv"}
    stopped = counts_of(msgspec.convert({**fields, "rows_not_sent": 60}, Report))
    assert stopped["rows_not_sent"] == 60, stopped  # before: no such count
    assert counts_of(msgspec.convert({**fields, "rows_not_sent": None}, Report))["rows_not_sent"] is None
    assert "rows_not_sent" not in counts_of(msgspec.convert(fields, Report))
    assert "rows_not_sent" not in counts_of(Snapshot("loading", 0, None, "rows", rows_read=40))
    stored = msgspec.json.decode(msgspec.json.encode(stopped))  # as the queue keeps them
    job = JobState(id=1, name="a", agreement="a", state="finished", attempts=1, status="stopped", exit_code=4)
    running = JobState(id=2, name="b", agreement="b", state="running", attempts=0, counts={"rows_read": 7})
    print_states([msgspec.structs.replace(job, counts=stored), running])
    header, first, second = capsys.readouterr().out.splitlines()[:3]
    at = header.split().index("rows_not_sent")
    assert header.split()[at - 1] == "skipped" and first.split()[at] == "60", (header, first)
    assert "None" not in second, second


def test_status_shows_the_exit_of_a_job_finished_with_rows_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    # found by a tester: a job finished with a row rejected (exit 1) was shown `complete` like a clean one
    from bulkload.queue import JobState
    from bulkload.worker import print_states

    rows = {"rows_read": 40, "loaded": 39, "rejected": 1, "in_doubt": 0, "skipped": 0, "requests": 3}
    print_states(
        [
            JobState(id=1, name="a", agreement="a", state="finished", attempts=1, status="complete", exit_code=0),
            JobState(
                id=2, name="b", agreement="b", state="finished", attempts=1, status="complete", exit_code=1, counts=rows
            ),
        ]
    )
    header, first, second = capsys.readouterr().out.splitlines()[:3]
    assert header.split()[-1] == "exit" and first.split()[-1] == "0" and second.split()[-1] == "1", (first, second)


def test_an_unreachable_queue_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "--queue", "postgresql://nobody:hunter2@127.0.0.1:1/queue"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the queue's PostgreSQL" in err and "hunter2" not in err


BAD_URL = "mysql://x:hunter2secret@127.0.0.1/x"


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "m.toml", "--queue", BAD_URL],
        ["worker", "--queue", BAD_URL],
        ["status", "--queue", BAD_URL],
        ["status", "--queue", "postgresql://x:hunter2secret@127.0.0.1:abc/x"],
        ["resume", "--ledger", BAD_URL],
        ["reconcile", "--ledger", BAD_URL],
        ["rollback", "--ledger", BAD_URL],
        ["load", "economic", "x.csv", "--ledger", BAD_URL],
    ],
)
def test_a_url_of_another_scheme_is_a_usage_error_without_its_password(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A fresh user's `--queue mysql://…`: exit 2 naming what the option takes, the password nowhere (it was an
    internal error, exit 4, the password on stderr and in the kept traceback)."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's refusal
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "hunter2" not in err and "internal error" not in err
    assert "takes a" in err or "cannot be read as a URL" in err, err  # a port that is no number: refused unread


#: the backend holding a ledger's lock (ledger_pg.hold): its connection
LEDGER_HOLDER = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
    "AND ((classid::bigint << 32) | objid::bigint) "
    "= hashtextextended(current_database() || '/bulkload ledger/' || %s, 0)"
)


@pytest.mark.slow
def test_a_job_whose_ledger_connection_is_lost_is_retried_with_the_same_keys(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """PostgreSQL out of reach for a moment (here: the job's ledger connection terminated, as a restart does): the
    job stops resumable, `bulkload status` says why, and it is retried and finished under the same run's keys. It
    went to failed after 1 attempt (sqlite3.OperationalError, not a retryable stop)."""
    from bulkload.ledger_pg import Location, ledger_url
    from bulkload.manifest import read_manifest

    sandbox = spawn_sandbox("--agreements", "--latency-ms", "100")
    worker: subprocess.Popen[bytes] | None = None
    try:
        totals = write_entries(tmp_path / "a0j0.csv", 100, seed=1)
        manifest = tmp_path / "one.toml"
        manifest.write_text(
            f'[defaults]\ntarget = "economic"\nbase_url = "{sandbox.url}"\nconcurrency = 1\n'
            '[[job]]\nname = "a0j0"\nagreement = "ag0"\nfiles = ["a0j0.csv"]\nbatch_size = 10\n'
            'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT0"}}\n'
        )
        assert main(["run", str(manifest), "--queue", postgres_url]) == 0
        schema = Location.parse(ledger_url(postgres_url, str(read_manifest(str(manifest)).path), "a0j0")).schema
        env = {**os.environ, **ENV, "PYTHONUNBUFFERED": "1"}
        with open(tmp_path / "worker.log", "wb") as log:
            cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", postgres_url]
            worker = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + BOUND_S
        terminated: list[object] = []
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            while not terminated and time.monotonic() < deadline:
                holders = [pid for (pid,) in conn.execute(LEDGER_HOLDER, (schema,)).fetchall()]
                if holders and status(postgres_url, capsys)[1][0]["counts"].get("requests", 0) > 2:  # midway
                    terminated = [conn.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() for pid in holders]
                time.sleep(0.1)
        assert terminated
        reasons = set()
        while (code := status(postgres_url, capsys))[0] != 0 and time.monotonic() < deadline:
            reasons.add(code[1][0]["error"])
            if code[1][0]["state"] == "failed":
                break
            time.sleep(0.3)
        code, jobs = status(postgres_url, capsys)
        assert code == 0, (jobs, (tmp_path / "worker.log").read_text()[-3000:])
        assert (jobs[0]["state"], jobs[0]["exit_code"], jobs[0]["attempts"]) == ("finished", 0, 2), jobs
        assert any("PostgreSQL connection was lost" in str(r) for r in reasons), reasons
        asyncio.run(assert_each_row_once(sandbox.url, {grant(0): totals["rows"]}))
        _, agreements = asyncio.run(server_stats(sandbox.url))
        assert len(agreements[agreement_id(grant(0))]["runs"]) == 1  # resumed under its first run's keys
    finally:
        stop(worker, sandbox.proc)


def test_status_shows_why_a_job_failed(capsys: pytest.CaptureFixture[str]) -> None:
    """The reason whole, not its first 60 characters (which named only the ledger's URL)."""
    from bulkload.queue import JobState
    from bulkload.worker import print_states

    reason = (
        "cannot write the ledger postgresql://postgres@127.0.0.1:35865/postgres?ledger=job_0123456789abcdef01234567: "
        "the ledger's PostgreSQL connection was lost: the connection is closed"
    )
    print_states(
        [JobState(id=1, name="a0j0", agreement="ag0", state="failed", attempts=1, status="stopped", error=reason)]
    )
    assert "the ledger's PostgreSQL connection was lost" in " ".join(capsys.readouterr().out.split())


def test_status_names_the_manifest_where_two_share_a_job_name(capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a tester: two manifests' jobs named alike were two identical rows."""
    from bulkload.queue import JobState
    from bulkload.worker import print_states

    one = JobState(id=1, name="beta", agreement="b", state="finished", attempts=1, manifest="/m/one.toml")
    print_states([one])
    assert "manifest" not in capsys.readouterr().out  # one manifest: no column for it
    print_states([one, JobState(id=2, name="beta", agreement="b", state="queued", attempts=0, manifest="/m/two.toml")])
    table = capsys.readouterr().out
    assert "manifest" in table and "/m/one.toml" in table and "/m/two.toml" in table


async def test_a_queued_jobs_stop_names_the_queues_way_on(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued job stopped by its daily quota is told the queue's way on, in the error `bulkload status` shows and
    in its report.json (before: `bulkload resume --ledger postgresql://…`, which knows none of the manifest's
    credential variables, nor the agreement's shared budget; `bulkload run MANIFEST --resume` would load it anew in
    a ledger of its own)."""
    from bulkload import queue
    from bulkload.errors import RunStopped
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    data = tmp_path / "e.csv"
    write_entries(data, 300)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    folder = tmp_path / "my jobs"
    folder.mkdir()
    async with running("economic", SandboxOptions()) as url:
        manifest = folder / "m.toml"
        manifest.write_text(
            f'output_dir = "{tmp_path / "runs"}"\n[[job]]\nname = "quota"\ntarget = "economic"\nbase_url = "{url}"\n'
            f'files = ["{data}"]\nbatch_size = 20\nconcurrency = 1\nattempts = 1\ndaily_quota = 3\n'
            'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
            encoding="utf-8",
        )
        (queued,) = await queue.enqueue(postgres_url, str(manifest))
        assert queued.id is not None
        path = str(read_manifest(str(manifest)).path)
        with pytest.raises(RunStopped) as stopped:
            await queue.run_queued(postgres_url, queued.id, path, "quota")
    way_on = f"`bulkload run '{path}' --queue {postgres_url}` once the queue has stopped retrying it"
    for said in (
        str(stopped.value),
        json.loads((tmp_path / "runs" / "quota" / "report.json").read_text())["stop_reason"],
    ):
        assert "quota" in said and way_on in said and "bulkload resume" not in said, said


async def ended(url: str, job_id: int, status: str) -> None:
    """Job `job_id` ended as a worker's procrastinate would mark it (a test that calls queue.run_queued itself)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        await conn.execute("UPDATE procrastinate_jobs SET status = %s WHERE id = %s", (status, job_id))


async def test_a_queued_job_rolled_back_part_way_is_told_ways_on_that_work_pasted(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: a queued job whose rollback stopped part way, its manifest queued again, was told to finish it
    with `bulkload rollback --ledger 'postgresql://postgres:***@…'` (the queue's password masked: pasted, libpq
    sends `***`, which overrides PGPASSWORD), to "move postgresql://… aside" (no command does) and to run
    `bulkload run MANIFEST`. Now each way on names the ledger by the URL its report gives (no password), says how
    its schema is set aside, and queues the manifest again by its path and the queue's URL; pasted, each works."""
    import urllib.parse

    from bulkload import ledger_pg, queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running
    from bulkload.undo import rollback

    data = tmp_path / "e.csv"
    write_entries(data, 40)
    env = {"APP": CREDS["ECONOMIC_APP_SECRET_TOKEN"], "GRANT": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    shell_env = {k: v for k, v in os.environ.items() if not k.startswith("ECONOMIC_")}
    shell_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    # the server trusts every password: what tells is that none is in a way on, nor its mask
    parts = urllib.parse.urlsplit(postgres_url)
    with_password = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.replace("@", ":s3cretpw@", 1)))
    folder = tmp_path / "my jobs"
    folder.mkdir()
    manifest = folder / "m.toml"
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest.write_text(
                f'output_dir = "runs"\n[[job]]\nname = "a1"\ntarget = "economic"\nbase_url = "{url}"\n'
                f'files = ["{data}"]\nbatch_size = 4\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n',
                encoding="utf-8",
            )
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(with_password, path)
            assert queued.id is not None
            await queue.run_queued(with_password, queued.id, path, "a1")
            await ended(postgres_url, queued.id, "succeeded")
            report = json.loads((folder / "runs" / "a1" / "report.json").read_text())
            ledger = ledger_pg.ledger_url(with_password, path, "a1")
            calls = report["requests"]
            assert (await rollback(ledger, env=CREDS, daily_quota=2 * calls)).exit_code == 4  # part way
            (queued,) = await queue.enqueue(with_password, path)
            assert queued.id is not None
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(with_password, queued.id, path, "a1")
            await ended(postgres_url, queued.id, "failed")
            said = str(refused.value)
            assert "s3cretpw" not in said and "***" not in said, said
            commands = re.findall(r"`([^`]*)`", said)
            finish, set_aside, again = commands
            assert finish.endswith(f"bulkload rollback --ledger '{report['ledger']}'"), said
            assert again == f"bulkload run '{path}' --queue {postgres_url}", said
            for command in (f"{finish} --daily-quota 100000", set_aside, again):
                done = await anyio.run_process(["sh", "-c", command], env=shell_env, check=False)
                assert done.returncode == 0, (command, done.stdout, done.stderr)
            async with await psycopg.AsyncConnection.connect(postgres_url) as conn:  # queued by `again`
                cur = await conn.execute("SELECT max(job_id) FROM bulkload_queue WHERE name = 'a1'")
                (latest,) = await cur.fetchone() or (None,)
            assert isinstance(latest, int) and latest > queued.id
            done_again = await queue.run_queued(with_password, latest, path, "a1")
    assert (done_again["status"], done_again["loaded"]) == ("complete", report["loaded"]), done_again


def test_status_names_a_job_refused_in_its_own_name_once(capsys: pytest.CaptureFixture[str]) -> None:
    # found by a tester (t21e): `job 'nocred': job 'nocred': the environment variable(s) … are not set`
    from bulkload.queue import JobState
    from bulkload.worker import print_states

    reason = "job 'nocred': the environment variable(s) GRANT_Q5 are not set; then `bulkload run m.toml --queue " + (
        "postgresql://postgres@127.0.0.1:38079/postgres` (queued again: the queue does not retry a job refused)"
    )
    state = JobState(id=1, name="nocred", agreement="a", state="failed", attempts=1, status=None, error=reason)
    print_states([state])
    out = capsys.readouterr().out
    assert "job 'nocred': the environment variable(s) GRANT_Q5" in out and "job 'nocred': job" not in out, out


def test_status_never_cuts_a_way_on(capsys: pytest.CaptureFixture[str]) -> None:
    # found by a tester: a job refused as a load twice was shown two lines of its reason, cut mid-URL
    # (`…--ledger 'po`): the command to paste could not be had but from --json
    from bulkload.queue import JobState
    from bulkload.worker import print_states

    ledger = "postgresql://postgres@127.0.0.1:54209/postgres?ledger=job_6df8306168829f4f064481c5"
    reason = (
        "/tmp/tmp.FBTxuEFFuX/a.csv was already loaded into http://127.0.0.1:38869/journalsapi/v11.0.2 (2026-12-02 "
        f"15:33:30, ledger {ledger}): loading it again would create its records again. If that run has not "
        f"finished, continue it with `bulkload resume --ledger '{ledger}'`, or where that ledger is a manifest "
        "job's, its manifest run again (--resume, or --queue); to create its records again all the same, set "
        "allow_duplicate_load = true in job 'a''s table of the manifest"
    )
    print_states([JobState(id=1, name="a", agreement="a", state="failed", attempts=1, status="stopped", error=reason)])
    lines = capsys.readouterr().out.splitlines()
    assert any(f"`bulkload resume --ledger '{ledger}'`" in line for line in lines), lines
    assert any("allow_duplicate_load = true in job 'a''s table of the manifest" in line for line in lines), lines


async def test_a_queued_job_that_finished_is_refused_once_its_manifest_gives_it_another_file(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: a queued job that finished, its manifest given a second file for it and queued again, was run
    by a worker as finished (`bulkload status`: finished complete, exit 0), the new file never loaded. Now the
    worker refuses it (not retried: the manifest is the user's to correct), naming the file and the queue's way on."""
    from bulkload import queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "nov.csv", 20)
    write_entries(tmp_path / "dec.csv", 10, first_voucher=5001)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    manifest = tmp_path / "m.toml"

    def job(files: str) -> str:
        return (
            f'output_dir = "runs"\n[[job]]\nname = "acme"\ntarget = "economic"\nbase_url = "{url}"\n'
            f"files = [{files}]\n"
            'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
        )

    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest.write_text(job('"nov.csv"'))
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            assert (await queue.run_queued(postgres_url, queued.id, path, "acme"))["loaded"] == 40
            await ended(postgres_url, queued.id, "succeeded")
            manifest.write_text(job('"nov.csv", "dec.csv"'))
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, queued.id, path, "acme")
    said = str(refused.value)
    assert "dec.csv added" in said and f"`bulkload run {path} --queue {postgres_url}`" in said, said
    assert not isinstance(refused.value, tuple(queue.RETRY.retry_exceptions or ())), type(refused.value)


async def test_a_queued_job_stopped_by_its_quota_is_refused_once_its_manifest_gives_it_another_file(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's (t21e): a queued job stopped by its daily quota, its manifest given a second file before the
    retry, was finished by the worker with the files its run began with (`complete`, exit 0), the new file never
    sent. Now the worker refuses it as `bulkload run --resume` does, naming the file, and sends nothing."""
    from bulkload import queue
    from bulkload.errors import ConfigError, RunStopped
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "nov.csv", 20)
    write_entries(tmp_path / "dec.csv", 10, first_voucher=5001)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    manifest = tmp_path / "m.toml"

    def job(files: str) -> str:
        return (
            f'output_dir = "runs"\n[[job]]\nname = "acme"\ntarget = "economic"\nbase_url = "{url}"\n'
            f"files = [{files}]\nbatch_size = 4\ndaily_quota = 3\n"
            'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
        )

    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest.write_text(job('"nov.csv"'))
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            with pytest.raises(RunStopped):
                await queue.run_queued(postgres_url, queued.id, path, "acme")
            manifest.write_text(job('"nov.csv", "dec.csv"'))
            with pytest.raises(ConfigError) as refused:  # the retry of the job, by the manifest as it is now
                await queue.run_queued(postgres_url, queued.id, path, "acme")
    said = str(refused.value)
    assert "dec.csv added" in said and "did not finish" in said, said


async def test_a_queued_job_refused_as_a_load_twice_is_told_the_queues_way_not_bulkload_resume(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: the refusal of a queued job whose file another queued job loaded told it `bulkload resume
    --ledger 'postgresql://…'`, which docs/workers.md says not to use (it knows neither the manifest's credential
    variables nor the agreement's shared budget). Now the queue's own command, naming the job whose ledger it is."""
    from bulkload import queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "x.csv", 10)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    monkeypatch.setenv("GRANT2", "grant-of-another-agreement")
    manifest = tmp_path / "m.toml"
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest.write_text(
                f'output_dir = "runs"\n[defaults]\ntarget = "economic"\nbase_url = "{url}"\nagreement = "acme"\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
                '[[job]]\nname = "first"\nfiles = ["x.csv"]\n[[job]]\nname = "again"\nfiles = ["x.csv"]\n'
            )
            path = str(read_manifest(str(manifest)).path)
            first, again = await queue.enqueue(postgres_url, path)
            assert first.id is not None and again.id is not None
            await queue.run_queued(postgres_url, first.id, path, "first")
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, again.id, path, "again")
    said = str(refused.value)
    assert "already loaded" in said and "bulkload resume" not in said, said
    # job 'first' finished: nothing of it is left to continue (s22), and the refusal says so
    assert "That run finished (job 'first' of the manifest); to create its records again" in said, said
    assert "not finished" not in said and f"`bulkload run {path} --queue {postgres_url}`" in said, said


def test_no_refusal_for_its_settings_is_retried_by_the_queue() -> None:
    """A tester's: a queued job refused with exit 2 as a LedgerError (an earlier load's SQLite ledger the queue's
    PostgreSQL ledger cannot read) was retried some 20 times over half an hour, `queued`, holding back the
    agreement's later jobs; docs/workers.md says such a job fails and stays failed. Whatever class carries it."""
    from bulkload import errors, queue

    def tree(cls: type[errors.BulkloadError]) -> list[type[errors.BulkloadError]]:
        return [cls, *(sub for child in cls.__subclasses__() for sub in tree(child))]

    retried = tuple(queue.RETRY.retry_exceptions or ())
    refusals = [cls for cls in tree(errors.BulkloadError) if cls.exit_code == errors.EXIT_USAGE]
    assert errors.LedgerError in refusals and errors.AuthError in refusals
    assert [cls.__name__ for cls in refusals if issubclass(cls, retried)] == []


async def test_a_queued_job_whose_earlier_ledger_it_cannot_read_fails_told_the_manifests_way_on(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: an earlier `bulkload load` into the same address kept its ledger in a SQLite file, which the
    queue's PostgreSQL ledger cannot read. The queued job was retried as resumable; its refusal said to "load with a
    --ledger of the backend that earlier load used" or "pass --forget-ledger", neither of which a queued job has.
    Now it fails for good, told the manifest's forget_ledger, which loads it."""
    from test_earlier_ledgers import PAYOR, customer_c1, invoices, payor_job, uploaded

    from bulkload import load, queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    first = tmp_path / "first.sqlite"
    invoices(tmp_path / "later.csv", ["N3"])
    manifest = tmp_path / "m.toml"
    with anyio.fail_after(BOUND_S):
        async with running("payorcrm", SandboxOptions()) as url:
            await customer_c1(url, tmp_path)
            await load(payor_job(invoices(tmp_path / "n.csv", ["N1", "N2"]), url, first), env=PAYOR)

            def job(forget: str = "") -> str:
                return (
                    f'output_dir = "runs"\n[[job]]\nname = "z"\ntarget = "payorcrm"\nbase_url = "{url}"\n'
                    f'files = ["later.csv"]\noptions = {{kind = "invoices"}}\n{forget}'
                    'credentials = {env = {PAYORCRM_API_KEY = "K", PAYORCRM_API_SECRET = "S"}}\n'
                )

            manifest.write_text(job())
            path = str(read_manifest(str(manifest)).path)
            monkeypatch.setenv("K", PAYOR["PAYORCRM_API_KEY"])
            monkeypatch.setenv("S", PAYOR["PAYORCRM_API_SECRET"])
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, queued.id, path, "z")
            assert not isinstance(refused.value, tuple(queue.RETRY.retry_exceptions or ())), type(refused.value)
            await ended(postgres_url, queued.id, "failed")
            said = str(refused.value)
            assert f"cannot be read by this load: {first}" in said, said
            assert "--ledger" not in said and "--forget-ledger" not in said, said
            forget = (
                f"set forget_ledger = [\"{first}\"] in job 'z''s table of the manifest, then run the manifest again"
            )
            assert forget in said, said
            manifest.write_text(job(f'forget_ledger = ["{first}"]\n'))
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            done = await queue.run_queued(postgres_url, queued.id, path, "z")
            got = await uploaded(url)
    assert (done["status"], done["loaded"]) == ("complete", 1), done
    assert got == ["N1", "N2", "N3"]


async def test_a_queued_job_whose_queue_connection_is_lost_stops_resumable_in_bulkloads_words(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: every PostgreSQL session terminated mid-job (pg_terminate_backend, as a restart does) and the
    worker logged a psycopg AdminShutdown traceback from writing the job's report to the queue; docs/workers.md
    says a lost queue connection is a resumable stop, one line with its reason. Now a RunStopped (retried, and
    bulkload's: the worker logs its reason, no traceback) that names the queue's connection."""
    from bulkload import queue
    from bulkload.errors import BulkloadError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "e.csv", 200)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    manifest = tmp_path / "m.toml"
    failed: BaseException | None = None
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(latency_ms=100)) as url:
            manifest.write_text(
                f'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "{url}"\n'
                'files = ["e.csv"]\nbatch_size = 10\nconcurrency = 1\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
            )
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None

            async def job() -> None:
                nonlocal failed
                try:
                    await queue.run_queued(postgres_url, queued.id, path, "a")
                except BaseException as exc:  # what procrastinate would be handed
                    failed = exc

            watching = await psycopg.AsyncConnection.connect(postgres_url, autocommit=True)
            async with watching as conn, anyio.create_task_group() as tg:
                tg.start_soon(job)
                while True:  # midway: some calls made, their counts written
                    await anyio.sleep(0.1)
                    cur = await conn.execute("SELECT counts FROM bulkload_queue WHERE job_id = %s", (queued.id,))
                    (counts,) = await cur.fetchone() or (None,)
                    if counts and json.loads(counts).get("requests", 0) > 2:
                        break
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                )
    assert isinstance(failed, BulkloadError), repr(failed)
    assert isinstance(failed, tuple(queue.RETRY.retry_exceptions or ())), repr(failed)
    assert "PostgreSQL connection was lost" in str(failed), str(failed)


async def test_a_queued_job_loading_into_another_agreements_account_fails_as_bulkload_run_refuses_it(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: a manifest queued, then edited so that its two agreements' jobs load into one API account (one
    grant token), was refused by `bulkload run` (exit 2) and run by the workers, both jobs into the account at once,
    each within its own agreement's budget. The worker checks the manifest as `bulkload run` does
    (fleet.check_accounts): the job fails before its first call, exit 2, and `bulkload status` says why."""
    from bulkload import queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "a1.csv", 10)
    write_entries(tmp_path / "a2.csv", 10, first_voucher=5001)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("ACME", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    monkeypatch.setenv("OTHER", "another-grant")
    manifest = tmp_path / "m.toml"

    def text(url: str, grant: str) -> str:
        creds = 'credentials = {{env = {{ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "{}"}}}}\n'
        return (
            f'output_dir = "runs"\n[defaults]\ntarget = "economic"\nbase_url = "{url}"\n'
            f'[[job]]\nname = "a1"\nagreement = "acme"\nfiles = ["a1.csv"]\n{creds.format("ACME")}'
            f'[[job]]\nname = "a2"\nagreement = "other"\nfiles = ["a2.csv"]\n{creds.format(grant)}'
        )

    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest.write_text(text(url, "OTHER"))
            path = str(read_manifest(str(manifest)).path)
            _, second = await queue.enqueue(postgres_url, path)
            assert second.id is not None
            manifest.write_text(text(url, "ACME"))  # a2 now loads into acme's account
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, second.id, path, "a2")
    said = str(refused.value)
    assert "load into one API account" in said, said
    assert not isinstance(refused.value, tuple(queue.RETRY.retry_exceptions or ())), type(refused.value)
    await ended(postgres_url, second.id, "failed")
    jobs = {job.name: job for job in await queue.job_states(postgres_url)}
    assert jobs["a2"].state == "failed" and "load into one API account" in str(jobs["a2"].error), jobs
    assert not (tmp_path / "runs" / "a2" / "report.json").exists()  # refused before its run began
    # a tester's (queue-refused-no-way-on): never retried, it names the queue's way on, and status its exit 2
    again = f"`bulkload run {path} --queue {postgres_url}` (queued again: the queue does not retry a job refused"
    assert said.endswith(f"; then {again} for its settings)"), said
    assert jobs["a2"].error == said and jobs["a2"].exit_code == 2, jobs["a2"]


async def refused_in_queue(tmp_path: Path, postgres_url: str, base_url: str) -> tuple[Exception, Any, str]:
    """A manifest of one e-conomic job `a` at `base_url`, its credentials the variables APP and GRANT, queued and run
    by a worker's hand until the ConfigError it fails with: that error, the job's state once failed (exit 2), and the
    manifest's path."""
    from bulkload import queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest

    write_entries(tmp_path / "e.csv", 10)
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        f'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "{base_url}"\n'
        'files = ["e.csv"]\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
    )
    path = str(read_manifest(str(manifest)).path)
    (queued,) = await queue.enqueue(postgres_url, path)
    assert queued.id is not None
    with pytest.raises(ConfigError) as refused:
        await queue.run_queued(postgres_url, queued.id, path, "a")
    await ended(postgres_url, queued.id, "failed")
    (job,) = await queue.job_states(postgres_url)
    assert (job.state, job.exit_code) == ("failed", 2), job
    return refused.value, job, path


async def test_a_queued_job_whose_credentials_the_api_refuses_says_why_in_status(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: a queued job whose credentials the API refused (403 on its first write: exit 2, failed for good)
    was shown by `bulkload status` as `failed … stopped 2` with no reason (`"error": null`), though docs/workers.md
    says status says why: the refusal of a report with exit 2 was raised without being recorded."""
    from bulkload.sandbox import SandboxOptions, running

    monkeypatch.setenv("APP", "demo")  # the sandbox's read-only pair: its first write is answered 403
    monkeypatch.setenv("GRANT", "demo")
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            refused, job, path = await refused_in_queue(tmp_path, postgres_url, url)
    assert job.error == str(refused) and "403" in str(job.error), job
    # never retried: it is told to queue the manifest again once corrected, not to wait for the queue's retries
    said, again = str(refused), f"`bulkload run {path} --queue {postgres_url}`"
    assert "check APP and GRANT, the variables credentials.env of job 'a' in the manifest names" in said, said
    assert f"with the right credentials, continue with {again} (queued again: the queue does not retry" in said, said
    assert "stopped retrying" not in said, said


async def test_a_queued_job_whose_credentials_the_first_call_finds_refused_fails_with_exit_2_in_the_manifests_words(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tester t40d: credentials refused on the run's first call (401 on the look for the journal's vouchers)
    end the load with an AuthError, exit 2 but no ConfigError: the worker recorded it without its exit code
    (`bulkload status`: `failed`, exit blank, `"exit_code": null`) and in the target's words, "check
    ECONOMIC_APP_SECRET_TOKEN and ECONOMIC_AGREEMENT_GRANT_TOKEN, in the environment or the job file's [credentials]",
    where the job reads APP and GRANT. `bulkload run` without the queue said both right."""
    from bulkload import queue
    from bulkload.sandbox.economic import create_app
    from bulkload.sandbox.economic_web import PREFIX

    monkeypatch.setenv("APP", "app")
    monkeypatch.setenv("GRANT", "not-the-grant")
    with anyio.fail_after(BOUND_S):
        async with serving(create_app(tokens=("app", "grant"))) as origin:
            refused, job, path = await refused_in_queue(tmp_path, postgres_url, origin + PREFIX)
    assert not isinstance(refused, tuple(queue.RETRY.retry_exceptions or ())), type(refused)
    said = str(job.error)
    assert "401" in said and "check APP and GRANT, the variables credentials.env of job 'a'" in said, said
    assert "job file's [credentials]" not in said, said
    assert f"`bulkload run {path} --queue {postgres_url}` (queued again: the queue does not retry" in said, said


async def test_reconcile_of_a_queued_job_cut_short_names_the_queues_way_on(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: after a worker was killed mid-job, `bulkload reconcile --ledger 'postgresql://…?ledger=job_…'`
    said `continue_with: bulkload resume --ledger …`, which docs/workers.md says not to use for a queued job (it
    knows neither the manifest's credential variables nor the agreement's shared budget). Its ledger knows the run
    is the manifest's queued job's (Job.manifest_job): reconcile names the queue's way on."""
    from bulkload import ledger_pg, queue, runner
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "e.csv", 200)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    manifest = tmp_path / "m.toml"
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(latency_ms=100)) as url:
            manifest.write_text(
                f'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "{url}"\n'
                'files = ["e.csv"]\nbatch_size = 10\nconcurrency = 1\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
            )
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", postgres_url]
            worker = await anyio.open_process(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            async with worker, await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
                while True:  # midway, then kill -9
                    await anyio.sleep(0.1)
                    cur = await conn.execute("SELECT counts FROM bulkload_queue WHERE job_id = %s", (queued.id,))
                    (counts,) = await cur.fetchone() or (None,)
                    if counts and json.loads(counts).get("requests", 0) > 2:
                        worker.kill()
                        break
            report = await runner.reconcile(ledger_pg.ledger_url(postgres_url, path, "a"), env=CREDS)
    assert report.run_finished is False and report.rows_not_sent, report
    assert report.continue_with == f"bulkload run {path} --queue {postgres_url}", report.continue_with


async def test_a_queued_job_that_cannot_reach_the_queue_at_its_start_is_retried() -> None:
    """PostgreSQL out of reach for a moment as a worker starts a job (the job's first connection refused, here a
    port nothing listens on): the job stops resumable, retried as a connection lost midway is (queue.RETRY). It was
    the ConfigError of queue.connect, never retried: the job failed for good with nothing recorded, as for settings
    to correct."""
    from bulkload import queue
    from bulkload.errors import RunStopped

    with pytest.raises(RunStopped) as stopped:
        await queue.run_queued("postgresql://nobody:hunter2@127.0.0.1:1/queue", 7, "m.toml", "a")
    assert isinstance(stopped.value, tuple(queue.RETRY.retry_exceptions or ())), repr(stopped.value)
    said = str(stopped.value)
    assert "job 'a' stopped: cannot reach the queue's PostgreSQL" in said and "hunter2" not in said, said


async def test_status_says_a_run_that_could_not_reach_the_queue_at_its_start_ended_after_the_one_its_reason_is_of(
    tmp_path: Path, postgres_url: str, postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: a job stopped by its quota (retried), whose next run could not reach the queue's PostgreSQL as it
    began (no connection to be had: a restart), was shown by `bulkload status` with the quota's stop as why it
    waits, two runs on: that run could record nothing, and the reason of the run before stayed. The reason says
    which run it is of, and status says that a later one ended without a word to the queue."""
    from psycopg import sql

    from bulkload import queue
    from bulkload.errors import RunStopped
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "e.csv", 300)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    database = sql.Identifier(postgres_url.rsplit("/", 1)[1].split("?")[0])

    async def retried(job_id: int, attempts: int) -> None:  # as the worker's procrastinate marks a run retried
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
            await conn.execute(
                "UPDATE procrastinate_jobs SET status = 'todo', attempts = %s WHERE id = %s", (attempts, job_id)
            )

    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest = tmp_path / "m.toml"
            manifest.write_text(
                f'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "{url}"\n'
                'files = ["e.csv"]\nbatch_size = 20\nconcurrency = 1\nattempts = 1\ndaily_quota = 3\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
            )
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            with pytest.raises(RunStopped, match="quota"):
                await queue.run_queued(postgres_url, queued.id, path, "a")
            await retried(queued.id, 1)
            (job,) = await queue.job_states(postgres_url)
            assert job.state == "queued" and "quota" in str(job.error), job  # why it waits: its one run's stop
            async with await psycopg.AsyncConnection.connect(postgres_server, autocommit=True) as admin:
                await admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(database))
                try:
                    with pytest.raises(RunStopped, match="cannot reach the queue's PostgreSQL"):
                        await queue.run_queued(postgres_url, queued.id, path, "a")
                finally:
                    await admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(database))
            await retried(queued.id, 2)
    (job,) = await queue.job_states(postgres_url)
    said = str(job.error)
    assert job.state == "queued" and said.startswith("run 2 ended without a word to the queue"), job
    assert "its PostgreSQL out of reach as the run began" in said and "run 1: " in said and "quota" in said, said


@pytest.mark.parametrize("args", [("status",), ("worker",), ("run", "m.toml")])
def test_the_queue_without_the_postgres_extra_is_refused_saying_how_to_install_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    # found by tester t30b: with the README's install (no postgres extra) `status`, `worker` and `run --queue` ended
    # "internal error (a bug in bulkload): ModuleNotFoundError", exit 4 (stopped, resumable): a setup's fault, exit 2
    fake = tmp_path / "nopg" / "psycopg"  # psycopg not installed: its import fails
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'psycopg'\", name='psycopg')\n")
    (tmp_path / "m.toml").write_text("")
    env = child_env({"PYTHONPATH": str(tmp_path / "nopg"), "XDG_CACHE_HOME": str(tmp_path / "cache")})
    command = bulkload_cmd(*args, "--queue", "postgresql://postgres@127.0.0.1:1/postgres")
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert f"the queue needs psycopg: {POSTGRES_EXTRA}" in done.stderr, done.stderr


async def test_two_manifests_naming_one_account_by_two_agreement_names_spend_one_budget(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: two manifests, each one job into the same e-conomic agreement (one grant token) under two
    agreement names (`acme`, `acme-eu`), which no check of one manifest sees, were queued and run at once, each job
    within a budget of its own: the sandbox refused 15 of 50 calls for its window, and the daily quota was counted
    twice over. The shared budget is the API account's: both jobs' calls are counted under one name, which is
    neither agreement name nor the grant token, and every row is there once."""
    from bulkload import queue
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    monkeypatch.setenv("APP", "app-secret")
    monkeypatch.setenv("GRANT", grant(0))
    paths, rows, ran = [], 0, []

    async def run(job_id: int, path: str) -> None:
        ran.append(await queue.run_queued(postgres_url, job_id, path, "j"))

    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            for n, name in enumerate(("acme", "acme-eu")):
                folder = tmp_path / name
                folder.mkdir()
                rows += write_entries(folder / "e.csv", 20, first_voucher=1 + 1000 * n)["rows"]
                (folder / "m.toml").write_text(
                    f'[[job]]\nname = "j"\nagreement = "{name}"\ntarget = "economic"\nbase_url = "{url}"\n'
                    'files = ["e.csv"]\nbatch_size = 10\ncredentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", '
                    'ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
                )
                path = str(read_manifest(str(folder / "m.toml")).path)
                (queued,) = await queue.enqueue(postgres_url, path)
                assert queued.id is not None
                paths.append((queued.id, path))
            async with anyio.create_task_group() as tg:
                for job_id, path in paths:
                    tg.start_soon(run, job_id, path)
            entries = await entries_of(url, grant(0))
    assert len(entries) == rows and len({(e["voucherNumber"], e["amount"]) for e in entries}) == rows
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        cur = await conn.execute("SELECT agreement, sum(calls) FROM bulkload_quota GROUP BY agreement")
        counted = await cur.fetchall()
    assert [(done["status"], done["exit_code"]) for done in ran] == [("complete", 0)] * 2, ran
    ((name, calls),) = counted  # one budget, both jobs' calls in it
    assert calls == sum(done["requests"] for done in ran), (counted, ran)
    assert name not in ("acme", "acme-eu") and grant(0) not in name and "app-secret" not in name, name


async def test_a_queued_job_writing_its_outputs_where_another_manifests_job_does_is_refused(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tester's: two manifests in one folder, each with `output_dir = "runs"` and a job `a` (two agreements, each
    3 rows rejected), queued and run: both finished `complete`, each report naming runs/a/rejects.csv with its 3
    rejects, and the file held the rows of only one of them: the other's rejected rows were in no file. Their
    ledgers are two (in PostgreSQL), and nothing kept one job out of the other's folder. The second job is refused
    before its run (exit 2, never retried), and the first's rejects stay."""
    from bulkload import queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    monkeypatch.setenv("APP", "app-secret")
    paths = []
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            for n in (1, 2):
                monkeypatch.setenv(f"GRANT{n}", grant(n))
                write_entries(tmp_path / f"e{n}.csv", 10, seed=n, first_voucher=100 * n, bad_every=5)
                (tmp_path / f"m{n}.toml").write_text(
                    f'output_dir = "runs"\n[[job]]\nname = "a"\nagreement = "ag{n}"\ntarget = "economic"\n'
                    f'base_url = "{url}"\nfiles = ["e{n}.csv"]\ncredentials = {{env = {{ECONOMIC_APP_SECRET_TOKEN = '
                    f'"APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT{n}"}}}}\n'
                )
                path = str(read_manifest(str(tmp_path / f"m{n}.toml")).path)
                (queued,) = await queue.enqueue(postgres_url, path)
                assert queued.id is not None
                paths.append((queued.id, path))
            (first_id, first), (second_id, second) = paths
            done = await queue.run_queued(postgres_url, first_id, first, "a")
            assert (done["status"], done["rejected"]) == ("complete", 2), done
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, second_id, second, "a")
            assert await entries_of(url, grant(2)) == []  # nothing sent
    said = str(refused.value)
    assert f"where job 'a' of the manifest {first}, queued in this queue, writes its own" in said, said
    assert said.endswith("(queued again: the queue does not retry a job refused for its settings)"), said
    rejects = (tmp_path / "runs" / "a" / "rejects.csv").read_text()
    assert rejects.count("e1.csv") == 2 and "e2.csv" not in rejects, rejects


class _Rounds(Exception):
    """retry_stalled's rounds the test let it make are over."""


async def test_a_live_workers_job_is_not_put_back_for_the_heartbeats_no_one_could_send(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tester t41a: PostgreSQL stopped (pg_ctl stop -m immediate) for 15 s under workers with
    --stalled-after 10. As it came back every worker's last heartbeat was 15 s old, so the first worker to look put
    back every running job, its own and the other live worker's: each job ran twice at once (the second run refused,
    its ledger held by the first, and `bulkload status` showed the job `queued`, `ledger … in use by another bulkload
    process`, for 40 s while it loaded); and where PostgreSQL stayed away 30 s the look itself raised (the pool's
    timeout) and ended the worker, `internal error`. A worker's silence is now judged against the freshest worker's,
    and a round that cannot reach PostgreSQL is passed over."""
    from procrastinate.exceptions import ConnectorException

    from bulkload import queue, worker

    rounds = iter(range(3))

    async def round_over(_: float) -> None:
        if next(rounds, None) is None:
            raise _Rounds

    monkeypatch.setattr(worker.anyio, "sleep", round_over)
    with anyio.fail_after(BOUND_S):
        async with queue.opened(postgres_url) as app:
            manager = app.job_manager
            live, dead = await manager.register_worker(), await manager.register_worker()
            await app.configure_task(queue.TASK).defer_async(manifest="m.toml", job="a")
            running = await manager.fetch_job(queues=None, worker_id=live)
            assert running is not None and running.id is not None

            async def heartbeats(live_s: int, dead_s: int) -> None:
                for worker_id, age in ((live, live_s), (dead, dead_s)):
                    await app.connector.execute_query_async(
                        "UPDATE procrastinate_workers SET last_heartbeat = now() - make_interval(secs => %(age)s) "
                        "WHERE id = %(id)s",
                        age=age,
                        id=worker_id,
                    )

            async def state() -> str:
                row = await app.connector.execute_query_one_async(
                    "SELECT status::text FROM procrastinate_jobs WHERE id = %(id)s", id=running.id
                )
                return str(row["status"])

            looked = app.connector.execute_query_one_async
            unreachable = iter([True])

            async def out_of_reach_once(query: Any, **arguments: Any) -> dict[str, Any]:
                if next(unreachable, False):
                    raise ConnectorException("PostgreSQL out of reach")
                return await looked(query, **arguments)

            # PostgreSQL back after 15 s away: no worker sent a heartbeat since, the live one no more than the rest
            await heartbeats(live_s=15, dead_s=15)
            monkeypatch.setattr(app.connector, "execute_query_one_async", out_of_reach_once)
            with pytest.raises(_Rounds):
                await worker.retry_stalled(app, 10)
            monkeypatch.undo()
            assert await state() == "doing"

            # the live worker's heartbeat came; its job's is a worker's silent 15 s longer than it: put back
            await heartbeats(live_s=0, dead_s=15)
            await app.connector.execute_query_async(
                "UPDATE procrastinate_jobs SET worker_id = %(dead)s WHERE id = %(id)s", dead=dead, id=running.id
            )
            rounds = iter(range(1))
            monkeypatch.setattr(worker.anyio, "sleep", round_over)
            with pytest.raises(_Rounds):
                await worker.retry_stalled(app, 10)
            assert await state() == "todo"


async def test_status_says_a_running_jobs_worker_has_sent_no_heartbeat(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A tester's (t47d): the only worker killed -9 mid-job, `bulkload status` showed the job `running on vm:24930`
    minutes on, its worker dead and no live worker to put it back: the operator waits for a job nothing runs. A
    running job whose worker has sent no heartbeat for STALLED_AFTER_S says so."""
    from bulkload import queue
    from bulkload.manifest import read_manifest
    from bulkload.worker import STALLED_AFTER_S, print_states

    write_entries(tmp_path / "e.csv", 10)
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "http://127.0.0.1:9/x"\n'
        'files = ["e.csv"]\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
    )
    path = str(read_manifest(str(manifest)).path)
    with anyio.fail_after(BOUND_S):
        (queued,) = await queue.enqueue(postgres_url, path)
        assert queued.id is not None

        async def taken(silent_s: float) -> queue.JobState:  # as procrastinate marks a job its worker took
            async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
                cur = await conn.execute(
                    "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - make_interval(secs => %s)) "
                    "RETURNING id",
                    (silent_s,),
                )
                (worker_id,) = await cur.fetchone() or (None,)
                await conn.execute(
                    "UPDATE procrastinate_jobs SET status = 'doing', worker_id = %s WHERE id = %s",
                    (worker_id, queued.id),
                )
                await conn.execute("UPDATE bulkload_queue SET worker = 'vm:24930' WHERE job_id = %s", (queued.id,))
            (job,) = await queue.job_states(postgres_url)
            return job

        alive = await taken(1.0)
        dead = await taken(STALLED_AFTER_S + 60)
    assert alive.state == dead.state == "running", (alive, dead)
    capsys.readouterr()
    print_states([alive])
    assert "heartbeat" not in capsys.readouterr().out
    print_states([dead])
    out = capsys.readouterr().out
    assert "running on vm:24930 (no heartbeat for" in out and "its worker may be gone" in out, out


async def test_a_queued_jobs_refusal_for_its_file_names_the_key_of_its_table_not_the_flag(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tester t69c: a queued job whose file is no text (NUL bytes in its header) failed in `bulkload status`
    with `give --encoding utf-16-le or utf-16-be`, a flag of `bulkload load` the job has no way to be given, where
    `bulkload run` of the same manifest says `encoding = "utf-16-le"` of job 'a' in the manifest."""
    from bulkload import queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    monkeypatch.setenv("APP", "app")
    monkeypatch.setenv("GRANT", "grant")
    (tmp_path / "e.csv").write_bytes(b"this is\x00 not\xff a csv\n\x00\x01\x02")
    manifest = tmp_path / "m.toml"
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest.write_text(
                f'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "{url}"\n'
                'files = ["e.csv"]\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
            )
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(postgres_url, path)
            assert queued.id is not None
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, queued.id, path, "a")
            await ended(postgres_url, queued.id, "failed")
            (job,) = await queue.job_states(postgres_url)
    said = str(job.error)
    assert (job.state, job.exit_code) == ("failed", 2) and said == str(refused.value), job
    assert "the file is likely no text" in said and "--encoding" not in said, said
    assert "give `encoding = \"utf-16-le\"` of job 'a' in the manifest or utf-16-be" in said, said
    assert f"`bulkload run {path} --queue {postgres_url}` (queued again: the queue does not retry" in said, said


async def test_a_manifest_run_without_the_queue_while_its_jobs_are_queued_is_told_the_queues_way(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by tester t69c: `bulkload run MANIFEST` (no --queue) while the manifest's jobs were queued refused each
    job as a load twice (right), but told it to `bulkload resume --ledger 'postgresql://…?ledger=job_…'` "or where
    that ledger is a manifest job's, its manifest run again", which docs/workers.md says not to use for a queued job:
    it knows neither the manifest's credential variables nor the agreement's shared budget."""
    from bulkload import queue
    from bulkload.errors import RunStopped
    from bulkload.fleet import run_manifest
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "nov.csv", 20)
    write_entries(tmp_path / "dec.csv", 10, first_voucher=5001)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    monkeypatch.setenv("GRANT2", "grant-of-another-agreement")
    manifest = tmp_path / "m.toml"
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            manifest.write_text(
                f'output_dir = "runs"\n[defaults]\ntarget = "economic"\nbase_url = "{url}"\nbatch_size = 4\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
                '[[job]]\nname = "stops"\nagreement = "acme"\nfiles = ["nov.csv"]\ndaily_quota = 3\n'
                '[[job]]\nname = "ends"\nagreement = "other"\nfiles = ["dec.csv"]\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT2"}}\n'
            )
            path = str(read_manifest(str(manifest)).path)
            stops, ends = await queue.enqueue(postgres_url, path)
            assert stops.id is not None and ends.id is not None
            with pytest.raises(RunStopped):  # its quota: stopped, for the queue to retry
                await queue.run_queued(postgres_url, stops.id, path, "stops")
            await queue.run_queued(postgres_url, ends.id, path, "ends")  # finished
            report = await run_manifest(read_manifest(path), resume=True)
    said = {o.name: o.error or "" for o in report.jobs}
    status = f"`bulkload status --queue {postgres_url}` shows it"
    assert all(o.status == "refused" for o in report.jobs), [(o.name, o.status, o.error) for o in report.jobs]
    for name in ("stops", "ends"):  # refused by the job's folder, which the queue took (test_run_by.py)
        assert "bulkload resume" not in said[name] and "its manifest run again" not in said[name], said[name]
        assert f"job {name!r} is run by the queue at {postgres_url}" in said[name], said[name]
        assert status in said[name], said[name]
        assert f"`bulkload run {path} --queue {postgres_url}` queues it again" in said[name], said[name]


def test_status_quiet_names_whose_job_not_clean_where_manifests_share_its_name() -> None:
    # tester t70h: two manifests queued in one database, each with a job `acme`: the -q line named `acme (complete,
    # exit 1: 300 rejected, …)` without saying whose, where the table names each row's manifest first
    from bulkload.queue import JobState
    from bulkload.worker import quiet_states

    rows = {"rows_read": 300, "loaded": 0, "rejected": 300, "in_doubt": 0, "skipped": 0, "requests": 3}
    done = JobState(id=1, name="acme", agreement="acme", state="finished", attempts=1, status="complete", exit_code=0)
    clean = msgspec.structs.replace(done, manifest="/srv/w1/m.toml")
    not_clean = msgspec.structs.replace(done, id=2, manifest="/srv/w2/m.toml", exit_code=1, counts=rows)
    line = quiet_states([clean, not_clean])
    assert "not clean: acme of /srv/w2/m.toml (complete, exit 1: 300 rejected, 0 in doubt)" in line, line
    assert "not clean: acme (complete, exit 1" in quiet_states([not_clean])  # of one manifest: its name alone


async def test_a_queued_job_is_refused_by_a_worker_whose_credentials_name_another_agreement_than_its_queueing(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tester t73e: two manifests queued in one database, each from a shell of its own agreements' grant tokens
    under the docs' variable names (OTHER_GRANT). The worker started for the first took the second's job and loaded
    it with its own OTHER_GRANT: 5,025 rows in the first manifest's agreement, none in the job's. The queue keeps
    which account the queueing shell's credentials name (a keyed fingerprint) and a worker whose own name another
    fails the job before its first call (exit 2, never retried), naming the variables, never a value."""
    from bulkload import queue
    from bulkload.errors import ConfigError
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "e.csv", 10)
    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", "grant-of-the-job")
    manifest = tmp_path / "m.toml"
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            manifest.write_text(
                f'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nbase_url = "{url}"\n'
                'files = ["e.csv"]\n'
                'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
            )
            path = str(read_manifest(str(manifest)).path)
            (queued,) = await queue.enqueue(postgres_url, path)
            # the account goes with the deferred job itself (tester t73f: written beside it only after, it was not
            # there for a worker that took the job at once): the task's arguments, as procrastinate passes them
            with psycopg.connect(postgres_url) as conn:
                (args,) = conn.execute("SELECT args FROM procrastinate_jobs WHERE id = %s", (queued.id,)).fetchone()
            assert queued.id is not None and args.keys() == {"manifest", "job", "account"}, args
            monkeypatch.setenv("GRANT", "grant-of-another-agreement")  # the worker's environment
            with pytest.raises(ConfigError) as refused:
                await queue.run_queued(postgres_url, queued.id, args["manifest"], args["job"], args["account"])
            await ended(postgres_url, queued.id, "failed")
            _, agreements = await server_stats(url)
    said = str(refused.value)
    assert "are for another agreement than those of the shell that queued it" in said, said
    assert "ECONOMIC_AGREEMENT_GRANT_TOKEN from the variable GRANT" in said, said
    assert "grant-of" not in said, said
    assert not isinstance(refused.value, tuple(queue.RETRY.retry_exceptions or ())), type(refused.value)
    assert not any(stats["requests"] for stats in agreements.values()), agreements  # nothing sent, to either
    (job,) = await queue.job_states(postgres_url)
    assert (job.state, job.exit_code) == ("failed", 2) and job.error == said, job
    with psycopg.connect(postgres_url) as conn:  # the queue keeps a fingerprint, never the token
        kept = [row for (row,) in conn.execute("SELECT q::text FROM bulkload_queue q")]
        kept += [args for (args,) in conn.execute("SELECT args::text FROM procrastinate_jobs")]
    assert kept and not any("grant-of" in row for row in kept), kept


async def test_a_queued_job_runs_where_the_workers_credentials_name_the_account_it_was_queued_for(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other side of the check above: the same grant token in the worker as in the queueing shell (the app's
    token may differ) loads the job, as does a job queued from a shell without its credentials (nothing kept)."""
    from bulkload import queue
    from bulkload.manifest import read_manifest
    from bulkload.sandbox import SandboxOptions, running

    write_entries(tmp_path / "e.csv", 10)
    write_entries(tmp_path / "f.csv", 10, first_voucher=5001)
    creds = 'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
    with anyio.fail_after(BOUND_S):
        async with running("economic", SandboxOptions()) as url:
            paths = []
            for name, data in (("a", "e.csv"), ("b", "f.csv")):
                (tmp_path / f"{name}.toml").write_text(
                    f'output_dir = "runs-{name}"\n[[job]]\nname = "{name}"\nagreement = "acme"\ntarget = "economic"\n'
                    f'base_url = "{url}"\nfiles = ["{data}"]\n{creds}'
                )
                paths.append(str(read_manifest(str(tmp_path / f"{name}.toml")).path))
            monkeypatch.setenv("APP", "another-app-token")
            monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
            (first,) = await queue.enqueue(postgres_url, paths[0])
            monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
            assert first.id is not None
            assert (await queue.run_queued(postgres_url, first.id, paths[0], "a"))["exit_code"] == 0
            monkeypatch.delenv("GRANT")  # queued from a shell without the job's credentials: nothing to check
            (second,) = await queue.enqueue(postgres_url, paths[1])
            assert second.id is not None
            monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
            assert (await queue.run_queued(postgres_url, second.id, paths[1], "b"))["exit_code"] == 0


def test_a_job_a_worker_takes_while_it_is_withdrawn_is_told_running_not_withdrawn(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tester t73f: `bulkload withdraw` read a job waiting, then cancelled it, ignoring that procrastinate cancels only
    a job still waiting: one a worker took in between was said `withdrawn` and marked so, and ran all the same,
    loading its files while `bulkload status` showed it withdrawn. It is said `running` now, and left unmarked."""
    from procrastinate.manager import JobManager

    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    write_entries(tmp_path / "e.csv", 10)
    (tmp_path / "m.toml").write_text(
        'output_dir = "runs"\n[[job]]\nname = "a"\ntarget = "economic"\nfiles = ["e.csv"]\n'
        'base_url = "http://127.0.0.1:9/journalsapi/v11.0.2"\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
    )
    path = str(tmp_path / "m.toml")
    assert main(["run", path, "--queue", postgres_url]) == 0
    cancel = JobManager.cancel_job_by_id_async

    async def taken_first(self: JobManager, job_id: int, **kwargs: Any) -> bool:
        with psycopg.connect(postgres_url, autocommit=True) as conn:  # a worker takes it between look and cancel
            conn.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", (job_id,))
        return await cancel(self, job_id, **kwargs)

    monkeypatch.setattr(JobManager, "cancel_job_by_id_async", taken_first)
    capsys.readouterr()
    assert main(["withdraw", "--queue", postgres_url, path]) == 4
    assert capsys.readouterr().out.splitlines()[0].startswith("a: running"), "said withdrawn while it runs"
    with psycopg.connect(postgres_url) as conn:
        (withdrawn,) = conn.execute("SELECT withdrawn_at IS NOT NULL FROM bulkload_queue").fetchone()
    assert not withdrawn


def test_a_queued_manifest_moved_since_is_told_how_to_withdraw_its_jobs_and_they_are(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tester t73e: a manifest queued, then its folder moved and queued again from there: the jobs queued by the old
    path failed for good, told to run `bulkload run OLD --queue URL` (a file no longer there), and nothing could
    withdraw them: `bulkload status` exited 4 for good. Now the failure says to put the manifest back or withdraw
    them, and `bulkload withdraw --queue URL OLD` does (status exits 0); a path never queued is refused, naming
    those that were."""
    from bulkload import queue
    from bulkload.errors import ConfigError

    monkeypatch.setenv("APP", CREDS["ECONOMIC_APP_SECRET_TOKEN"])
    monkeypatch.setenv("GRANT", CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"])
    old = tmp_path / "old"
    old.mkdir()
    write_entries(old / "e.csv", 10)
    write_entries(old / "f.csv", 10, first_voucher=5001)
    (old / "m.toml").write_text(
        'output_dir = "runs"\n[defaults]\ntarget = "economic"\nbase_url = "http://127.0.0.1:9/journalsapi/v11.0.2"\n'
        'credentials = {env = {ECONOMIC_APP_SECRET_TOKEN = "APP", ECONOMIC_AGREEMENT_GRANT_TOKEN = "GRANT"}}\n'
        '[[job]]\nname = "a"\nfiles = ["e.csv"]\n[[job]]\nname = "b"\nagreement = "a"\nfiles = ["f.csv"]\n'
    )
    path = str(old / "m.toml")

    async def queued_then_moved() -> tuple[ConfigError, int]:
        first, second = await queue.enqueue(postgres_url, path)
        assert first.id is not None and second.id is not None
        old.rename(tmp_path / "new")
        with pytest.raises(ConfigError) as refused:
            await queue.run_queued(postgres_url, first.id, path, "a")
        await ended(postgres_url, first.id, "failed")
        return refused.value, second.id

    refused, waiting_id = anyio.run(queued_then_moved)
    said = str(refused)
    assert f"put the manifest back at {path}, then `bulkload run {path} --queue {postgres_url}`" in said, said
    assert f"withdraw the jobs queued by this path: `bulkload withdraw --queue {postgres_url} {path}`" in said, said
    assert status(postgres_url, capsys)[0] == 4  # a failed job and one waiting: never over

    capsys.readouterr()
    assert main(["withdraw", "--queue", postgres_url, str(tmp_path / "elsewhere.toml")]) == 2
    assert f"the manifests queued there: {path}" in capsys.readouterr().err
    assert main(["withdraw", "--queue", postgres_url, path, "c"]) == 2  # no such job: nothing withdrawn
    assert main(["withdraw", "--queue", postgres_url, path]) == 0
    assert capsys.readouterr().out.splitlines() == ["a: withdrawn", "b: withdrawn"]
    code, jobs = status(postgres_url, capsys)
    assert code == 0 and {(job["name"], job["state"]) for job in jobs} == {("a", "withdrawn"), ("b", "withdrawn")}
    with psycopg.connect(postgres_url) as conn:  # the one waiting was cancelled: no worker takes it
        (waiting,) = conn.execute("SELECT status::text FROM procrastinate_jobs WHERE id = %s", (waiting_id,)).fetchone()
    assert waiting == "cancelled"
