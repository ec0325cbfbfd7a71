"""A worker outlives its queue's PostgreSQL going out of reach for longer than it waits for a connection: a real
PostgreSQL reached through a TCP link the test cuts (every connection dropped, new ones closed at once) and
mends, a real worker process, the real e-conomic sandbox."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import spawn_sandbox
from test_fleet import ENV, assert_each_row_once, inputs, manifest_text
from test_queue import BOUND_S, status, stop

from bulkload.cli import main


class Link:
    """A TCP link on 127.0.0.1 to `port`, run on a loop in a thread of its own: `cut` drops every connection through
    it and closes each new one at once (PostgreSQL out of reach), `mend` lets them through again; while cut,
    `let_through(n)` lets the next `n` new connections through (PostgreSQL back for a moment)."""

    def __init__(self, port: int) -> None:
        self.target, self.down, self.port, self.passes = port, False, 0, 0
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _joined(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down and not self.passes:
            writer.close()
            return
        self.passes -= self.down
        there_reader, there = await asyncio.open_connection("127.0.0.1", self.target)
        self._open |= {writer, there}
        await asyncio.gather(self._pipe(reader, there), self._pipe(there_reader, writer))
        self._open -= {writer, there}

    async def _serve(self) -> None:
        self._stopped = asyncio.Event()
        server = await asyncio.start_server(self._joined, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stopped.wait()
            for writer in list(self._open):
                writer.transport.abort()
        for task in asyncio.all_tasks() - {asyncio.current_task()}:
            task.cancel()

    def cut(self) -> None:
        def drop() -> None:
            self.down = True
            for writer in list(self._open):
                writer.transport.abort()

        self._loop.call_soon_threadsafe(drop)

    def mend(self) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "down", False)

    def let_through(self, n: int) -> None:
        self._loop.call_soon_threadsafe(setattr, self, "passes", n)

    @contextmanager
    def running(self) -> Iterator[Link]:
        def serve() -> None:
            self._loop.run_until_complete(self._serve())
            self._loop.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        self._ready.wait(10)
        try:
            yield self
        finally:
            self._loop.call_soon_threadsafe(self._stopped.set)
            thread.join(10)


def through(url: str, link: Link) -> str:
    """`url` with the link's port for the server's."""
    parts = urllib.parse.urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@127.0.0.1:{link.port}").geturl()


def registered(url: str, worker: subprocess.Popen[Any]) -> None:
    """Once the worker is registered with procrastinate (at most BOUND_S seconds)."""
    deadline = time.monotonic() + BOUND_S
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline and worker.poll() is None:
            made = conn.execute("SELECT to_regclass('procrastinate_workers') IS NOT NULL").fetchone() == (True,)
            if made and conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone() != (0,):
                return
            time.sleep(0.2)
    raise AssertionError(f"the worker never registered (exit {worker.poll()})")


def waited(log: Path, text: str, worker: subprocess.Popen[Any]) -> str:
    """The worker's log once it holds `text` (at most BOUND_S seconds); fails the test where the worker ended."""
    deadline = time.monotonic() + BOUND_S
    while text not in (said := log.read_text()) and time.monotonic() < deadline:
        assert worker.poll() is None, f"the worker ended (exit {worker.returncode}):\n{said}"
        time.sleep(0.2)
    assert text in said, said
    return said


def running(url: str, capsys: pytest.CaptureFixture[str], worker: subprocess.Popen[Any]) -> None:
    """Once a queued job runs and has made a call (at most BOUND_S seconds)."""
    deadline = time.monotonic() + BOUND_S
    while time.monotonic() < deadline and worker.poll() is None:
        if any(job["state"] == "running" and job["counts"].get("requests") for job in status(url, capsys)[1]):
            return
        time.sleep(0.2)
    raise AssertionError(f"no job ran (worker exit {worker.poll()})")


def queued_jobs_running(
    tmp_path: Path, url: str, link: Link, sandbox: str, capsys: pytest.CaptureFixture[str]
) -> tuple[subprocess.Popen[bytes], Path]:
    """The 3 agreements × 2 jobs of test_fleet's manifest (inputs already in `tmp_path`), each 400 rows in 4 calls
    at 2/s, queued at `url`, and a worker (--stalled-after 2) that reaches it through `link`, once one of its jobs
    runs and has made a call: the worker, and its log."""
    manifest = tmp_path / "fleet.toml"
    slow = {f"a{a}j{j}": "rate = 2\n" for a in range(3) for j in range(2)}
    manifest.write_text(manifest_text(sandbox, cap=8, extra=slow))
    assert main(["run", str(manifest), "--queue", url]) == 0
    worker, log = worker_through(tmp_path, url, link, {**os.environ, **ENV, "PYTHONUNBUFFERED": "1"})
    running(url, capsys, worker)
    return worker, log


def worker_through(
    tmp_path: Path, url: str, link: Link, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], Path]:
    """A worker (--stalled-after 2) on the queue at `url`, reached through `link`, its lines in tmp_path/worker.log;
    `env`: its environment (None: this process's)."""
    log = tmp_path / "worker.log"
    cmd = [sys.executable, "-m", "bulkload", "worker", "--queue", through(url, link), "--stalled-after", "2"]
    with open(log, "wb") as out:
        return subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT), log


@contextmanager
def cut_off_worker(tmp_path: Path, url: str) -> Iterator[tuple[subprocess.Popen[bytes], Path, Link]]:
    """A worker on the queue at `url` (worker_through), once registered, its link to PostgreSQL then cut: the worker,
    its log and the link (to let through or mend); the worker is stopped after."""
    with Link(int(urllib.parse.urlsplit(url).port or 5432)).running() as link:
        worker, log = worker_through(tmp_path, url, link)
        try:
            registered(url, worker)
            link.cut()
            yield worker, log, link
        finally:
            stop(worker)


@pytest.mark.slow
def test_a_worker_takes_jobs_again_once_its_queues_postgresql_is_back(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by tester t41a: PostgreSQL away for longer than the worker waits for a connection (procrastinate's pool:
    30 s) ended every worker, exit 4, "internal error (a bug in bulkload)" after 150 lines of tracebacks, and no
    worker was left to run the queue once PostgreSQL was back. The worker now says so on one line, tries again, and
    once PostgreSQL is back runs the queue's jobs: those cut off midway resumed from their ledgers, each row once."""
    sandbox = spawn_sandbox("--agreements")
    worker: subprocess.Popen[bytes] | None = None
    with Link(int(urllib.parse.urlsplit(postgres_url).port or 5432)).running() as link:
        try:
            rows = inputs(tmp_path, vouchers=200)
            worker, log = queued_jobs_running(tmp_path, postgres_url, link, sandbox.url, capsys)
            link.cut()
            waited(log, "this worker tries again in", worker)
            link.mend()
            waited(log, "PostgreSQL is back", worker)

            deadline = time.monotonic() + BOUND_S
            while status(postgres_url, capsys)[0] != 0 and time.monotonic() < deadline:
                assert worker.poll() is None, log.read_text()
                time.sleep(0.5)
            code, jobs = status(postgres_url, capsys)
            assert code == 0 and {(job["state"], job["exit_code"]) for job in jobs} == {("finished", 0)}, jobs
            assert any(job["attempts"] > 1 for job in jobs), jobs  # cut off midway, and resumed
            asyncio.run(assert_each_row_once(sandbox.url, rows))
            said = log.read_text()
            assert "Traceback" not in said and "internal error" not in said, said
        finally:
            stop(worker, sandbox.proc)


@pytest.mark.slow
def test_a_worker_goes_on_when_its_queues_postgresql_answers_once_and_is_gone_again(
    tmp_path: Path, postgres_url: str
) -> None:
    """Found by tester t43a: PostgreSQL back for a moment as a worker tried again (its tables checked on one
    connection) and gone before its pool's first connections were made (a failover flapping, a server restarted
    full of clients) ended the worker, exit 4, "internal error (a bug in bulkload)": PoolTimeout, and no worker was
    left to run the queue. It now says so on its one line, and tries again."""
    with cut_off_worker(tmp_path, postgres_url) as (worker, log, link):
        waited(log, "this worker tries again in", worker)
        link.let_through(1)  # the tables' check, then nothing for the pool
        waited(log, "pool initialization incomplete", worker)
        link.mend()
        said = waited(log, "PostgreSQL is back", worker)
        assert "Traceback" not in said and "internal error" not in said, said


@pytest.mark.slow
@pytest.mark.parametrize("sent", [signal.SIGTERM, signal.SIGINT])
def test_a_worker_waiting_for_its_queues_postgresql_stops_on_sigterm_or_ctrl_c_as_between_jobs(
    tmp_path: Path, postgres_url: str, sent: signal.Signals
) -> None:
    """Found by tester t43a: SIGTERM (systemd, docker stop) to a worker waiting to try the queue's PostgreSQL again
    killed it (no line, exit -15), and Ctrl-C ended it in "interrupted (Ctrl-C); nothing to resume", exit 4; between
    jobs either stops it, exit 0. It now stops so while it waits too: no job of its runs then."""
    with cut_off_worker(tmp_path, postgres_url) as (worker, log, _):
        waited(log, "this worker tries again in 2 s", worker)  # past a first try, waiting for the next
        worker.send_signal(sent)
        assert worker.wait(BOUND_S) == 0, log.read_text()
        said = log.read_text()
        assert "waiting to reach the queue's PostgreSQL" in said and "interrupted" not in said, said


@pytest.mark.slow
def test_a_worker_asked_to_stop_while_its_queues_postgresql_is_away_stops_once_its_jobs_end(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by tester t43a: SIGTERM to a worker running jobs as the queue's PostgreSQL went away was swallowed: its
    jobs ended, the end of procrastinate's worker (its record in PostgreSQL not to be made) was taken for an outage,
    and the worker tried again and again, to take jobs once PostgreSQL was back; before the worker outlived outages
    it stopped. It stops once its jobs end, and says so."""
    sandbox = spawn_sandbox("--agreements")
    worker: subprocess.Popen[bytes] | None = None
    with Link(int(urllib.parse.urlsplit(postgres_url).port or 5432)).running() as link:
        try:
            inputs(tmp_path, vouchers=200)
            worker, log = queued_jobs_running(tmp_path, postgres_url, link, sandbox.url, capsys)
            link.cut()
            worker.send_signal(signal.SIGTERM)  # before its heartbeat gives up on PostgreSQL (2 s)
            assert worker.wait(BOUND_S) == 0, log.read_text()
            said = log.read_text()
            assert "this worker stops, its jobs ended" in said and "tries again" not in said, said
        finally:
            stop(worker, sandbox.proc)
