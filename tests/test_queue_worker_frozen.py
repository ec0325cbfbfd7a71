"""A worker frozen (SIGSTOP, a paused VM) inside a call's transaction on the shared budget's table. Found by a
tester: a second worker started then ran the queue's CREATE/ALTER … IF NOT EXISTS, which lock their tables even
where they change nothing; it waited for the frozen worker for good holding `bulkload_queue`'s exclusive lock, and
`bulkload status` (and every worker writing its job's counts) waited behind it, 27 minutes without a word. Once the
tables are made, a worker and a queueing make none: the second worker runs the queued job, and status answers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import anyio
import psycopg
import pytest
from conftest import child_env, spawn_sandbox
from test_fleet import ENV, assert_each_row_once, inputs, manifest_text

from bulkload.cli import main
from bulkload.queue import ensure_schema

#: seconds the test waits at most for the worker to finish the queued jobs, on a busy machine
BOUND_S = 120


async def ensured_within(url: str, seconds: float) -> None:
    with anyio.fail_after(seconds):
        await ensure_schema(url)


def test_the_schema_made_is_not_made_again_while_a_frozen_call_holds_the_budget_table(postgres_url: str) -> None:
    anyio.run(ensure_schema, postgres_url)
    with psycopg.connect(postgres_url) as frozen:  # a call's transaction, left open as a stopped worker leaves it
        frozen.execute("DELETE FROM bulkload_calls WHERE agreement = 'a' AND at < 0")
        anyio.run(ensured_within, postgres_url, 20)  # before: waited for `frozen` for good (TimeoutError)


@pytest.mark.slow
def test_a_worker_started_beside_a_frozen_one_runs_the_queue_and_status_answers(
    tmp_path: Path, postgres_url: str
) -> None:
    sandbox = spawn_sandbox("--agreements")
    worker: subprocess.Popen[bytes] | None = None
    frozen = psycopg.connect(postgres_url)
    env = child_env(ENV)
    try:
        rows = inputs(tmp_path)
        manifest = tmp_path / "fleet.toml"
        manifest.write_text(manifest_text(sandbox.url, cap=8))
        assert main(["run", str(manifest), "--queue", postgres_url]) == 0  # makes the tables
        # a call of a worker on another agreement, stopped inside its transaction
        frozen.execute("DELETE FROM bulkload_calls WHERE agreement = 'another' AND at < 0")
        cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", postgres_url, "--concurrency", "3"]
        worker = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + BOUND_S
        while True:
            # before: status waited behind the new worker's DDL for good (TimeoutExpired here)
            said = subprocess.run(
                [sys.executable, "-m", "bulkload", "-q", "status", "--queue", postgres_url],
                capture_output=True,
                text=True,
                timeout=30,
                env=env,
            )
            if said.returncode == 0:
                break
            assert time.monotonic() < deadline, said.stdout + said.stderr
            time.sleep(1)
        assert "6 jobs: 6 finished" in said.stdout, said.stdout
        asyncio.run(assert_each_row_once(sandbox.url, rows))
    finally:
        frozen.close()
        if worker is not None:
            worker.kill()
            worker.communicate(timeout=10)
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)
