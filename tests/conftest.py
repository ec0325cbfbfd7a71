from __future__ import annotations

import csv
import itertools
import os
import random
import re
import socket
import subprocess
import sys
import unicodedata
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import settings

from bulkload import Job, runner
from bulkload.ledger import Ledger
from bulkload.results import Report
from bulkload.sandbox.economic_web import PREFIX

#: Hypothesis examples per property: ~200 by default, 2,000 with BULKLOAD_HYPOTHESIS=thorough (the hostile-input
#: trials). No deadline: a busy machine makes an example slow, not wrong.
settings.register_profile("standard", max_examples=200, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
HYPOTHESIS_PROFILE = os.environ.get("BULKLOAD_HYPOTHESIS", "standard")
settings.load_profile(HYPOTHESIS_PROFILE)

#: the Latin Extended-A letters (U+0100-U+017F) that Windows-1252 reads as Ä or Å followed by punctuation or a sign
#: that never stands between two letters (`ł` is `Å‚`; not an apostrophe, a dash, the middle dot)
_LATIN_A_SIGN = "".join(
    ch
    for ch in map(chr, range(0x100, 0x180))
    if (sign := ch.encode()[1:].decode("cp1252", "ignore"))
    and unicodedata.category(sign)[0] in "PSN"
    and sign not in "’‘´–—·"
)
#: in decoded text, what tells UTF-8 from 8-bit text (bulkload.utf8_scan, judged slowly): a character of U+0080-U+00FF
#: or of three or four bytes (a lone surrogate, a byte that is not UTF-8 decoded with surrogateescape, is none), two
#: of two bytes led by C4-DF (U+0100-U+07FF) back to back, or one of _LATIN_A_SIGN before an ASCII letter (Opłata)
TELLS_UTF8 = re.compile(f"[\x80-\xff\u0800-\ud7ff\ue000-\U0010ffff]|[\u0100-\u07ff]{{2}}|[{_LATIN_A_SIGN}](?=[A-Za-z])")
#: in decoded text, a character that Windows-1252 writes for a letter followed by punctuation: one of U+0600-U+07FF
#: (Weiß– is Weiߖ); one of U+0180-U+02FF (CAFÉ… is CAFɅ, NESCAFÉ™ NESCAFə) but the letters that languages write and
#: Windows-1252 cannot (Azerbaijani Ə, pinyin Ǎ Ǐ ǐ); one of U+0370-U+05FF beside an ASCII letter (AÑ” is Aє); one of
#: Latin Extended-A that is Ä or Å before … ” » (PÅ… is PŅ) before an ASCII character that is no letter or the end,
#: or before ’ (SKÅ’S is SKŒS) anywhere
READS_BOTH_WAYS = re.compile(
    "[\u0600-\u07ff]|(?![ƏǍǏǐ])[\u0180-\u02ff]|(?<=[A-Za-z])[\u0370-\u05ff]|[\u0370-\u05ff](?=[A-Za-z])"
    "|[ąŅĔŔĻŻ](?=[\x00-@\\[-`{-\x7f]|\\Z)|[ĒŒ]"
)
CREDS = {"ECONOMIC_APP_SECRET_TOKEN": "test-app-secret", "ECONOMIC_AGREEMENT_GRANT_TOKEN": "test-grant"}
HEADER = [
    "entryTypeNumber",
    "journalNumber",
    "voucherNumber",
    "date",
    "amount",
    "currency",
    "accountNumber",
    "contraAccountNumber",
    "text",
    "vatCode",
]


class Crash(BaseException):
    """The process dying (kill -9) where a test raises it: from a Ledger method, say."""


def crash_at_done(monkeypatch: pytest.MonkeyPatch, n: int = 1) -> None:
    """The `n`-th Ledger.done of the test (in `monkeypatch`'s context) raises Crash: a kill -9 as that call's answer
    comes, which leaves it in flight (`sending`)."""
    done, calls = Ledger.done, []

    def dying(self: Ledger, *args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == n:
            raise Crash
        return done(self, *args, **kw)

    monkeypatch.setattr(Ledger, "done", dying)


def write_entries(
    path: Path, vouchers: int, *, journal: int = 1, seed: int = 1, first_voucher: int = 1, bad_every: int = 0
) -> dict[str, int]:
    """Balanced two-line vouchers, and after every `bad_every` of them (0: none) a one-line voucher whose date is
    none (rejected before sending); returns the input's control totals (rows, debit in hundredths, of the good
    vouchers) and how many bad rows there are (`bad`)."""
    rnd = random.Random(seed)
    rows, debit, bad = 0, 0, 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for v in range(first_voucher, first_voucher + vouchers):
            cents = rnd.randint(100, 500_000)
            amount = f"{cents // 100}.{cents % 100:02d}"
            day = f"2026-11-{rnd.randint(1, 30):02d}"
            w.writerow([5, journal, v, day, amount, "DKK", 1010, "", f"Sale {v}", "U25"])
            w.writerow([5, journal, v, day, "-" + amount, "DKK", 5820, "", f"Sale {v} VAT", ""])
            rows += 2
            debit += cents
            if bad_every and (v - first_voucher + 1) % bad_every == 0:
                w.writerow([5, journal, 900_000 + v, "2026-02-30", "10.00", "DKK", 1010, "", "bad date", ""])
                bad += 1
    return {"rows": rows, "debit": debit, "bad": bad}


async def stopped_by_quota(tmp_path: Path, url: str, *, bad_every: int = 0) -> tuple[Path, Job, Report]:
    """A run of 300 balanced vouchers (`write_entries`, a voucher of a date that is none after every `bad_every`)
    at `url` that its daily quota stopped part way (20 rows a call, one attempt a call): its input, job and report."""
    data = tmp_path / "e.csv"
    write_entries(data, 300, bad_every=bad_every)
    job = Job(
        target="economic",
        files=[str(data)],
        base_url=url,
        ledger=str(tmp_path / "run.sqlite"),
        batch_size=20,
        concurrency=3,
        daily_quota=9,
        attempts=1,
    )
    first = await runner.load(job, env=CREDS, raise_on_stop=False)
    assert first.status == "stopped" and first.loaded > 0 and "quota" in str(first.stop_reason), first
    return data, job, first


@pytest.fixture(autouse=True)
def _cache_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """What bulkload keeps between runs (rolling windows, the record of loads) goes to a cache of each
    test's own, never the user's, so tests cannot see each other's loads."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def env() -> dict[str, str]:
    return dict(CREDS)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port bound by nobody's listener: a connection to it is refused."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, never listening: the port stays ours and refuses
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


class SandboxProcess:
    def __init__(self, proc: subprocess.Popen[str], url: str) -> None:
        self.proc = proc
        self.url = url
        self.root = url.split("/journalsapi")[0]

    def entries(self, journal: int = 1) -> int:
        """The draft entries of `journal` an e-conomic sandbox holds, by the API's own count."""
        ask = urllib.request.Request(
            f"{self.url}/draft-entries/count?filter=journalNumber$eq:{journal}",
            headers={
                "X-AppSecretToken": CREDS["ECONOMIC_APP_SECRET_TOKEN"],
                "X-AgreementGrantToken": CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"],
            },
        )
        with urllib.request.urlopen(ask, timeout=10) as answer:
            return int(answer.read())


def spawn_sandbox(*flags: str, target: str = "economic") -> SandboxProcess:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bulkload", "sandbox", target, "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
    return SandboxProcess(proc, line.rsplit(" ", 1)[1].strip())


@pytest.fixture
def base(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The e-conomic sandbox in a process of its own, its credentials set: the options a load of it takes."""
    monkeypatch.setenv("ECONOMIC_APP_SECRET_TOKEN", "app")
    monkeypatch.setenv("ECONOMIC_AGREEMENT_GRANT_TOKEN", "grant")
    sandbox = spawn_sandbox()
    try:
        yield ["--base-url", sandbox.url, "--no-progress", "-q"]
    finally:
        sandbox.proc.kill()
        sandbox.proc.communicate(timeout=10)


@pytest.fixture
def sandbox_process(request: pytest.FixtureRequest) -> Iterator[SandboxProcess]:
    marker = request.node.get_closest_marker("sandbox_flags")
    sb = spawn_sandbox(*(marker.args if marker else ()))
    try:
        yield sb
    finally:
        sb.proc.kill()
        sb.proc.communicate(timeout=10)  # reaps the child and closes its pipes


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """A small tmpfs of the test's own (remounted read-only by the test: `remount`); skipped where no mount is
    permitted."""
    where = tmp_path / "mnt"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount(where: Path, how: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{how}", str(where)], check=True)


def bulkload_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "bulkload", *args]


async def sandbox_read(url: str, what: str) -> Any:
    """What a sandbox holds, by its test-only read-back `{url}/_sandbox/{what}` (PayorCRM's "invoices", HaloPSA's
    "records/XeroDetails"): the APIs offer none."""
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/{what}") as r:
        return await r.json()


def child_env(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, **extra, "PYTHONUNBUFFERED": "1"}


def run_bulkload(folder: Path, *args: str, env: dict[str, str] = CREDS) -> subprocess.CompletedProcess[str]:
    """`bulkload ARGS` as a child process in `folder`, with the e-conomic credentials (`env`), its output captured;
    bounded at 120 s."""
    return subprocess.run(
        bulkload_cmd(*args), env=child_env(env), cwd=folder, capture_output=True, text=True, timeout=120
    )


@dataclass(frozen=True)
class DemoRun:
    code: int
    stdout: str
    stderr: str
    workdir: Path


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    """`bulkload demo` run once, in its own process as a user runs it, for the tests that read what it did (it
    takes seconds: the samples of every target)."""
    folder = tmp_path_factory.mktemp("demo")
    env = child_env({"XDG_CACHE_HOME": str(tmp_path_factory.mktemp("demo-cache"))})
    done = subprocess.run(
        bulkload_cmd("demo", "--workdir", str(folder / "demo")),
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return DemoRun(done.returncode, done.stdout, done.stderr, folder)


AppClient = Callable[[web.Application], Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def app_client() -> AsyncIterator[AppClient]:
    """Serve sandbox apps on loopback for a test; every request is bounded, so a hung sandbox fails the
    test instead of stalling the run."""
    clients: list[TestClient[Any, Any]] = []

    async def make(app: web.Application) -> TestClient[Any, Any]:
        client: TestClient[Any, Any] = TestClient(TestServer(app), timeout=aiohttp.ClientTimeout(total=10))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def read_row(target: Any, row: dict[str, Any], file_idx: int = 0) -> Any:
    """A source row as the planner reads it (numbers with a decimal point, dates day first), then validated."""
    from bulkload.chunking import Reading
    from bulkload.dates import DateFormat
    from bulkload.numbers import NumberFormat

    kind = target.kind_of(file_idx)
    Reading(NumberFormat(), DateFormat(), kind.number_fields, kind.date_fields).convert(row)
    return kind.validate(row)


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """Serve a stand-in app on a free loopback port while the block runs; yields its origin."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def economic_job(data: Path, origin: str, ledger: Path | str, **settings: Any) -> Job:
    """A load of the e-conomic entries `data` into the sandbox app `serving` yields `origin` for, its ledger at
    `ledger`; `settings`: the Job's other fields (batch_size, rejects, …)."""
    return Job(target="economic", files=[str(data)], base_url=origin + PREFIX, ledger=str(ledger), **settings)


@pytest.fixture(autouse=True)
def _no_credentials_kept() -> Iterator[None]:
    """The credentials a test registered (a run in this process, or `redact.register` itself) are not masked in the
    next test's texts: a test registers and leaves the forgetting to this fixture."""
    from bulkload import redact

    yield
    redact.forget()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server for the whole session (bulkload.sandbox.postgres); its superuser's URL.
    Skips only where the machine has no server binaries."""
    from bulkload.sandbox import postgres

    binaries = postgres.find_binaries()
    if binaries is None:
        pytest.skip(f"no PostgreSQL server binaries (initdb, pg_ctl) on the PATH or in {postgres.DEBIAN_BINARIES}")
    with postgres.running(binaries) as server:
        yield server.url


_databases = itertools.count(1)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database of its own for each test on the session's server; its URL. Dropped after the test."""
    import psycopg
    from psycopg import sql

    from bulkload.sandbox.postgres import create_database

    name = f"test_{next(_databases)}"
    yield create_database(postgres_server, name)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
