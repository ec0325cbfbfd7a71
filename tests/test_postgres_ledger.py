"""The PostgreSQL side: the throwaway server the tests start (bulkload.sandbox.postgres), and the PostgreSQL ledger
end to end (the ledger's own tests run against both backends in test_ledger.py)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import aiohttp
import anyio
import msgspec
import psycopg
import pytest
from conftest import CREDS, SandboxProcess, bulkload_cmd, child_env, write_entries
from test_load_economic import assert_exactly_once, kill_once_landed, remote_entries

from bulkload import Job, load
from bulkload.errors import ConfigError
from bulkload.ledger_pg import name_of as postgresql_name
from bulkload.sandbox import SandboxOptions, running
from bulkload.sandbox.postgres import create_database

PASSWORD = "pg-secret-never-shown"


def test_each_test_has_a_fresh_database_of_its_own(postgres_server: str, postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()
    assert name is not None and postgres_url.endswith("/" + name[0]) and name[0] != "postgres"
    assert tables == (0,)
    other = create_database(postgres_server, "another one")
    assert other.endswith("/another%20one")
    with psycopg.connect(other) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("another one",)


#: a process that starts a throwaway server, prints its directory and waits to be killed
_STARTS_A_SERVER = (
    "import signal; from bulkload.sandbox import postgres\n"
    "with postgres.running() as server:\n"
    "    print(server.home, flush=True)\n"
    "    signal.pause()\n"
)


def _started(pid: int) -> str | None:
    """When the process `pid` started (its /proc stat), None where there is none: a pid used again is another."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the processes from /proc")
def test_a_throwaway_server_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    """Found by a tester: a test run killed (-9, a timeout) left its throwaway server running for ever, with the
    process that started it gone. The server, each of its processes, and its directory go with that process."""
    from bulkload.sandbox import postgres

    if postgres.find_binaries() is None:
        pytest.skip("no PostgreSQL server binaries")
    home, server, postmaster = None, {}, 0
    with subprocess.Popen(
        [sys.executable, "-c", _STARTS_A_SERVER], stdout=subprocess.PIPE, text=True, start_new_session=True
    ) as starter:
        try:
            home = Path(starter.stdout.readline().strip())  # type: ignore[union-attr]
            postmaster = int((home / "data" / "postmaster.pid").read_text().split()[0])
            server = {pid: _started(pid) for pid in [postmaster, *_children(postmaster)]}
            assert len(server) > 1, server  # the postmaster and its own processes (checkpointer, ...)
            starter.kill()
            starter.wait()
            for _ in range(600):  # at most a minute: the watch looks every second
                if not any(_started(pid) == began for pid, began in server.items()) and not home.exists():
                    break
                time.sleep(0.1)
            alive = [pid for pid, began in server.items() if _started(pid) == began]
            assert not alive and not home.exists(), (alive, home)
        finally:  # only what this test started: its starter, and the server that outlived it
            starter.kill()
            if postmaster and _started(postmaster) == server.get(postmaster):
                os.kill(postmaster, signal.SIGQUIT)  # pg_ctl's stop -m immediate
            if home is not None:
                shutil.rmtree(home, ignore_errors=True)


async def _bulkload(*args: str, timeout_s: float = 120) -> tuple[int, str]:
    """A bulkload command in its own process, as a user runs it: its exit code and stderr."""
    proc = await asyncio.create_subprocess_exec(
        *bulkload_cmd(*args),
        env=child_env(CREDS),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    with anyio.fail_after(timeout_s):
        _, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@pytest.mark.slow
async def test_killed_load_resumes_from_the_postgresql_ledger_exactly_once(tmp_path: Path, postgres_url: str) -> None:
    """load --ledger postgresql://… is killed (-9) mid-load; resume by the same URL takes the ledger over (the dead
    process's advisory lock went with its connection) and loads every row once, by the sandbox's own listing;
    reconcile and rollback take the URL too. The URL's password shows nowhere."""
    data = tmp_path / "entries.csv"
    totals = write_entries(data, 2_000)
    parts = urllib.parse.urlsplit(postgres_url)  # trust authentication: any password is let in
    ledger = urllib.parse.urlunsplit(parts._replace(netloc=f"postgres:{PASSWORD}@{parts.hostname}:{parts.port}"))
    ledger += "?ledger=month_end"
    options = SandboxOptions(latency_ms=15, drop_rate=0.02, seed=5)
    with anyio.fail_after(240):
        async with running("economic", options) as url:
            stats_url = url.split("/journalsapi")[0] + "/_sandbox/stats"
            proc = await asyncio.create_subprocess_exec(
                *bulkload_cmd("load", "economic", str(data), "--base-url", url, "--ledger", ledger),
                *("--batch-size", "100", "--concurrency", "4", "--no-progress"),
                env=child_env(CREDS),
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            await kill_once_landed(proc, stats_url, 600)
            before = len(await remote_entries(url))
            assert 0 < before < totals["rows"]

            report = tmp_path / "resumed.json"
            code, err = await _bulkload("resume", "--ledger", ledger, "--report", str(report), "--no-progress")
            assert code == 0, err
            resumed = msgspec.json.decode(report.read_bytes())
            assert resumed["loaded"] == totals["rows"] and resumed["reconcile"]["ok"], resumed
            assert_exactly_once(await remote_entries(url), totals)

            code, err = await _bulkload("reconcile", "--ledger", ledger, "--report", str(tmp_path / "again.json"))
            assert code == 0, err
            code, err = await _bulkload("rollback", "--ledger", ledger, "--report", str(tmp_path / "undone.json"))
            assert code == 0, err
            assert await remote_entries(url) == []
            said = err + "".join(p.read_text() for p in tmp_path.glob("*.json"))
            assert PASSWORD not in said and "month_end" in said
    with psycopg.connect(postgres_url) as conn:  # the ledger: in its own schema, and no password in it either
        stored = conn.execute("SELECT string_agg(value, ' ') FROM month_end.meta").fetchone()
    assert stored is not None and "month_end" in stored[0] and PASSWORD not in stored[0]


@pytest.mark.slow
async def test_loads_with_postgresql_ledgers_know_each_other(tmp_path: Path, postgres_url: str) -> None:
    """The record of loads and the earlier runs' groups (ledger.known_to) work between PostgreSQL ledgers as between
    files: the same file again is refused, naming the first ledger; a corrected file sends only what is new."""
    first, corrected = tmp_path / "first.csv", tmp_path / "corrected.csv"
    totals = write_entries(first, 20)
    all_of_them = write_entries(corrected, 30)  # the same 20 vouchers, and 10 new

    def job(path: Path, name: str, url: str) -> Job:
        return Job(
            "economic",
            [str(path)],
            base_url=url,
            ledger=f"{postgres_url}?ledger={name}",
            rejects=str(tmp_path / f"{name}.rejects.csv"),
        )

    with anyio.fail_after(120):
        async with running("economic", SandboxOptions()) as url:
            done = await load(job(first, "first", url), env=CREDS)
            assert done.loaded == totals["rows"] and done.exit_code == 0
            with pytest.raises(ConfigError, match=r"already loaded .*ledger=first"):
                await load(job(first, "second", url), env=CREDS)
            again = await load(job(corrected, "third", url), env=CREDS)
            assert (again.loaded, again.skipped) == (20, 40), again
            assert_exactly_once(await remote_entries(url), all_of_them)


@pytest.mark.slow
async def test_a_postgresql_ledger_whose_run_created_nothing_is_started_over(tmp_path: Path, postgres_url: str) -> None:
    """A load stopped at a wrong address created nothing: loading again with the same ledger URL starts it over (its
    schema dropped and made anew), as a file ledger is."""
    data = tmp_path / "entries.csv"
    totals = write_entries(data, 5)
    ledger = f"{postgres_url}?ledger=wrong_first"
    code, err = await _bulkload("load", "economic", str(data), "--base-url", "http://127.0.0.1:9", "--ledger", ledger)
    assert code == 2, err
    with anyio.fail_after(60):
        async with running("economic", SandboxOptions()) as url:
            # a load refused before it sends anything leaves the ledger it would start over as it was
            # (its file read with a decimal comma its amounts' points refute: a date format that is none is refused
            # earlier, as the Job is made)
            refused = Job("economic", [str(data)], base_url=url, ledger=ledger, decimal=",")
            with pytest.raises(ConfigError, match="decimal comma"):
                await load(refused, env=CREDS)
            with psycopg.connect(postgres_url) as conn:
                row = conn.execute("SELECT value FROM wrong_first.meta WHERE key = 'run'").fetchone()
            assert row is not None and "127.0.0.1:9" in row[0]
            done = await load(Job("economic", [str(data)], base_url=url, ledger=ledger), env=CREDS)
            assert done.loaded == totals["rows"] and done.exit_code == 0


async def test_a_postgresql_ledger_refuses_another_agreements_token(tmp_path: Path, postgres_url: str) -> None:
    """The account the run wrote into is kept in a PostgreSQL ledger as in a file, a salted fingerprint only: a
    rollback with another agreement's grant token is refused before its first call, the run's own removes the run."""
    import hashlib

    from bulkload import rollback
    from bulkload.errors import OtherAccount

    data = tmp_path / "entries.csv"
    write_entries(data, 5)
    ledger = f"{postgres_url}?ledger=acme"
    other = {**CREDS, "ECONOMIC_AGREEMENT_GRANT_TOKEN": "grant-of-another-agreement"}
    with anyio.fail_after(120):
        async with running("economic", SandboxOptions(), agreements=True) as url:
            assert (await load(Job("economic", [str(data)], base_url=url, ledger=ledger), env=CREDS)).loaded == 10
            with pytest.raises(OtherAccount, match="another agreement"):
                await rollback(ledger, env=other)
            assert len(await remote_entries(url)) == 10
            assert (await rollback(ledger, env=CREDS)).removed == 10
    with psycopg.connect(postgres_url) as conn:
        row = conn.execute("SELECT value FROM acme.meta WHERE key = 'account'").fetchone()
    grant = CREDS["ECONOMIC_AGREEMENT_GRANT_TOKEN"]
    assert row is not None and grant not in row[0] and hashlib.sha256(grant.encode()).hexdigest()[:32] not in row[0]


@pytest.mark.parametrize(
    ("url", "shown", "schema"),
    [
        ("postgresql://u:pw-in-url@h:5432/db?ledger=acme", "postgresql://u@h:5432/db?ledger=acme", "acme"),
        (
            "postgresql://u@h/db?sslmode=require&password=pw-in-query&ledger=x_1",
            "postgresql://u@h/db?sslmode=require&ledger=x_1",
            "x_1",
        ),
        ("postgres://h/db", "postgres://h/db?ledger=bulkload", "bulkload"),
    ],
)
def test_a_ledger_url_is_named_without_its_password(url: str, shown: str, schema: str) -> None:
    from bulkload.ledger_pg import Location
    from bulkload.redact import redact

    where = Location.parse(url)
    assert (where.display, where.schema, where.url) == (shown, schema, url)
    assert "ledger=" not in where.conninfo
    assert "pw-in" not in redact(f"failed: {url}")


@pytest.mark.parametrize("name", ['a"; DROP TABLE x; --', "pg_stop", "a" * 52, "1a"])
def test_a_ledger_name_that_is_no_plain_schema_name_is_refused(name: str) -> None:
    """Refused when the URL is read (exit 2), not when the ledger is made: a name PostgreSQL keeps for itself
    (pg_…) failed then (exit 4, "unacceptable schema name"), and one longer than 63 bytes with "__draft" added is
    cut short by PostgreSQL."""
    from bulkload.errors import LedgerError
    from bulkload.ledger_pg import Location

    with pytest.raises(LedgerError, match="schema name") as refused:
        Location.parse(f"postgresql://h/db?ledger={urllib.parse.quote(name)}")
    assert refused.value.exit_code == 2
    assert len(Location.parse(f"postgresql://h/db?ledger={'a' * 51}").draft) <= 63


def test_a_reserved_ledger_name_is_a_usage_error_before_the_run(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was an internal error once the ledger was made (exit 4), suggesting a resume that found "no ledger"."""
    from bulkload.cli import main

    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    source = tmp_path / "e.csv"
    write_entries(source, 2)
    argv = [
        "load",
        "economic",
        str(source),
        "--base-url",
        "http://127.0.0.1:1",
        "--ledger",
        f"{postgres_url}?ledger=pg_stop",
    ]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2 and "pg_" in err and "resume" not in err, err


def test_a_killed_workers_ledger_is_free_for_another_once_its_connection_dies(postgres_url: str) -> None:
    """The run's lock is the holder's session: while a worker lives the ledger is refused to others; once it is
    killed (SIGKILL: no clean-up of its own) PostgreSQL ends its session and another worker takes the ledger."""
    import subprocess
    import sys
    import time

    from bulkload.errors import LedgerError
    from bulkload.ledger import Ledger, RunInfo

    where = f"{postgres_url}?ledger=taken"
    Ledger.create(where, RunInfo(target="economic", base_url="http://x", files=[])).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from bulkload.ledger import Ledger; held = Ledger.open({where!r}); print('held', flush=True); "
            "import time; time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LedgerError, match="in use by another bulkload process"):
            Ledger.open(where)
    finally:
        holder.kill()
        holder.communicate(timeout=10)
    for _ in range(100):  # the server ends the session when it sees the socket closed: at once, or nearly
        try:
            Ledger.open(where).close()
            break
        except LedgerError:
            time.sleep(0.05)
    else:
        pytest.fail("the ledger stayed held after its holder was killed")


@pytest.mark.slow
async def test_halopsa_secrets_never_reach_a_postgresql_ledger(tmp_path: Path, postgres_url: str) -> None:
    """HaloPSA into a PostgreSQL ledger: loaded, reconciled and rolled back by the URL, and none of the secrets the
    records carry (client secrets, refresh tokens) nor the OAuth client secret is in any of the ledger's tables."""
    from test_load_halopsa import CANARIES, ENV, records
    from test_load_halopsa import job as halo_job
    from test_load_halopsa import write as halo_file

    from bulkload import reconcile, rollback

    data = halo_file(tmp_path / "xero.csv", 30, bad=True)
    ledger = f"{postgres_url}?ledger=halo"
    with anyio.fail_after(120):
        async with running("halopsa", SandboxOptions()) as url:
            job = halo_job(tmp_path, data, url)
            job.ledger = ledger
            done = await load(job, env=ENV, raise_on_stop=False)
            assert (done.loaded, done.rejected, done.reconcile.ok) == (30, 1, True), done
            assert (await reconcile(ledger, env=ENV)).exit_code == 1  # a row rejected: DESIGN's exit codes
            undone = await rollback(ledger, env=ENV)
            assert (undone.status, undone.removed) == ("complete", 30) and await records(url) == []
    with psycopg.connect(postgres_url) as conn:
        tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'halo'")]
        stored = " ".join(str(row) for t in tables for row in conn.execute(f"SELECT * FROM halo.{t}").fetchall())
    assert "created" in tables and stored
    assert [c for c in CANARIES if c in stored] == []


def test_the_summaries_name_a_postgresql_ledger_by_its_url_without_password() -> None:
    """Not the URL joined to the current folder (/tmp/x/postgresql:/u@h:5432/db?ledger=acme), as a path would be."""
    import io

    from bulkload.report import print_rollback, print_summary
    from bulkload.results import Report, Rollback

    url = "postgresql://u:pw-in-url@h:5432/db?ledger=acme"
    report = Report(
        status="complete", target="economic", rows_read=0, loaded=0, rejected=0, in_doubt=0, skipped=0, requests=1,
        retries=0, elapsed_s=0.1, reconcile=None, ledger=url, rejects_file="r.csv",
    )  # fmt: skip
    out = io.StringIO()
    print_summary(report, out)
    print_rollback(Rollback(target="economic", ledger=url), None, out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("ledger:")]
    assert lines == ["ledger: postgresql://u@h:5432/db?ledger=acme"] * 2, out.getvalue()


def test_a_lost_ledger_connection_is_named_as_postgresqls(postgres_url: str) -> None:
    """Not "SQLite cannot read what bulkload keeps: PostgreSQL: the connection is closed": the command line says
    the ledger's PostgreSQL connection was lost, and the queue retries the job (ConnectionLost)."""
    import argparse

    from bulkload import cli, ledger_pg

    url = f"{postgres_url.replace('postgresql://', 'postgresql://postgres:pw-in-url@', 1)}?ledger=acme"
    where = ledger_pg.Location.parse(postgres_url + "?ledger=acme")
    conn = ledger_pg.connect(where)
    (pid,) = conn.execute("SELECT pg_backend_pid()").fetchone() or (0,)
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(ledger_pg.ConnectionLost) as lost:
        conn.execute("SELECT 1")
    ns = argparse.Namespace(command="reconcile", ledger=url)
    line = cli._cut_short(ns, lost.value)
    assert line.startswith("the ledger's PostgreSQL connection was lost: ") and "SQLite" not in line, line
    assert "pw-in-url" not in line  # its `?` quoted, as a shell reads it back
    assert line.endswith(f"run `bulkload reconcile --ledger '{where}'` again"), line


@pytest.mark.slow
async def test_a_load_whose_ledger_connection_is_lost_prints_its_partial_summary_and_resumes(
    tmp_path: Path, postgres_url: str
) -> None:
    """The ledger's PostgreSQL session is terminated mid-load (pg_terminate_backend from another connection): the
    run stops with exit 4 and prints the partial summary other stops print, saying its figures are this process's
    only and the files made from the ledger are not written; before, one line on stderr and no summary. Once the
    ledger answers again, resume loads every row once."""
    data = tmp_path / "entries.csv"
    totals = write_entries(data, 1_000)
    ledger = f"{postgres_url}?ledger=lost"
    with anyio.fail_after(240):
        async with running("economic", SandboxOptions(latency_ms=100)) as url:
            stats_url = url.split("/journalsapi")[0] + "/_sandbox/stats"
            proc = await asyncio.create_subprocess_exec(
                *bulkload_cmd("load", "economic", str(data), "--base-url", url, "--ledger", ledger),
                *("--batch-size", "100", "--concurrency", "1", "--no-progress"),
                env=child_env(CREDS),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            await landed(stats_url, 300)
            with psycopg.connect(postgres_url, autocommit=True) as admin:  # every session of the load's, by its pid
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            out, err = (text.decode() for text in await proc.communicate())
            assert proc.returncode == 4, out + err
            assert "bulkload economic: stopped" in out and "│ loaded" in out, out + err
            assert "rows: this invocation's only: the ledger's connection was lost" in out, out
            named = f"`bulkload resume --ledger '{postgresql_name(ledger)}'`"
            assert f"once the ledger's PostgreSQL answers again, continue with {named}" in out, out
            assert "free space" not in out and "Traceback" not in err, out + err
            assert "rows in doubt: NOT WRITTEN" in out or "rejected rows so far: none of this invocation" in out, out

            code, err = await _bulkload("resume", "--ledger", ledger, "--no-progress")
            assert code == 0, err
            assert_exactly_once(await remote_entries(url), totals)


async def landed(stats_url: str, entries: int) -> None:
    """Wait until the sandbox holds `entries` entries; bounded by the caller's fail_after."""
    async with aiohttp.ClientSession() as s:
        while True:
            async with s.get(stats_url) as r:
                if (await r.json())["entries"] >= entries:
                    return
            await asyncio.sleep(0.02)


def test_a_look_at_a_ledgers_lock_holds_it_a_moment_only_and_its_maker_waits_that_out(postgres_url: str) -> None:
    # found by a full run: a load's own look at whether a PostgreSQL ledger was being made (being_made) closed its
    # connection, whose lock the server let go of later, and the load's Ledger.create found the ledger "in use by
    # another bulkload process"; the look now lets go at once, and the maker waits out a look's moment
    import threading

    from bulkload import ledger_pg
    from bulkload.errors import LedgerError

    where = ledger_pg.Location.parse(f"{postgres_url}?ledger=looked")
    assert not ledger_pg.being_made(where.url)
    maker = ledger_pg.connect(where)
    ledger_pg.hold(maker, where)  # taken at once: the look let it go
    assert ledger_pg.being_made(where.url)
    look = ledger_pg.connect(where)
    with pytest.raises(LedgerError, match="in use by another bulkload process"):
        ledger_pg.hold(look, where)  # held for a run: refused once the moment is over
    other = ledger_pg.connect(where)
    threading.Timer(ledger_pg.HOLD_EVERY_S * 3, maker.close).start()  # a look's moment: shorter than the wait
    ledger_pg.hold(other, where)
    other.close()


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:pw-unsplit@[::1:5432/postgres?ledger=a",  # the ] of an IPv6 address left out
        "postgresql://postgres:pw-unsplit@[::1]:99999/postgres?ledger=a",  # a port past 65535
        "postgresql://postgres:pw-unsplit@h:54x2/postgres",
    ],
)
def test_a_postgresql_url_urllib_cannot_split_is_refused_in_a_line_never_showing_its_password(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by a tester: a typo'd IPv6 bracket in --ledger ended in a Python traceback (ValueError: Invalid IPv6
    URL, exit 1), and in --queue in "internal error (a bug in bulkload)" (exit 4)."""
    from bulkload.cli import main
    from bulkload.errors import LedgerError
    from bulkload.ledger_pg import Location

    with pytest.raises(LedgerError, match="cannot be read as a URL") as refused:
        Location.parse(url)
    assert refused.value.exit_code == 2 and "pw-unsplit" not in str(refused.value)
    for argv in (
        ["load", "economic", "e.csv", "--base-url", "http://127.0.0.1:9/x", "--no-progress", "--ledger", url],
        ["reconcile", "--ledger", url],
        ["status", "--queue", url],
    ):
        with pytest.raises(SystemExit) as ended:
            main(argv)
        err = capsys.readouterr().err
        assert ended.value.code == 2, err
        assert "cannot be read as a URL" in err and "pw-unsplit" not in err and "Traceback" not in err, err


def test_a_ledger_name_that_ends_as_a_draft_is_refused_and_a_real_ledger_so_named_is_never_dropped(
    postgres_url: str,
) -> None:
    """Found by a tester: a finished load into `?ledger=acme__draft`, then a load into `?ledger=acme`, which took
    the first run's ledger for its own half-made draft and dropped it: that run could no longer be reconciled nor
    rolled back. No new ledger is named as a draft, and only a schema marked as this ledger's draft is dropped."""
    from bulkload import ledger_pg
    from bulkload.errors import LedgerError
    from bulkload.ledger import Ledger, RunInfo
    from bulkload.ledger_schema import STATEMENTS

    run = RunInfo(target="economic", base_url="http://x", files=[])
    with pytest.raises(LedgerError, match="a name ending in __draft") as refused:
        Ledger.create(f"{postgres_url}?ledger=acme__draft", run)
    assert refused.value.exit_code == 2 and "resume" not in str(refused.value)
    # a ledger so named by an earlier bulkload, which took such names
    Ledger.create(f"{postgres_url}?ledger=earlier", run).close()
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("ALTER SCHEMA earlier RENAME TO acme__draft")
    with pytest.raises(LedgerError, match="acme__draft.* is not a draft of this ledger") as in_the_way:
        Ledger.create(f"{postgres_url}?ledger=acme", run)
    assert in_the_way.value.exit_code == 2
    Ledger.open(f"{postgres_url}?ledger=acme__draft").close()  # still there, and still a ledger
    # a maker killed half-way leaves a draft of its own: the next maker drops it and makes the ledger
    where = ledger_pg.Location.parse(f"{postgres_url}?ledger=half")
    maker = ledger_pg.connect(where)
    ledger_pg.hold(maker, where)
    ledger_pg.make(maker, where, STATEMENTS, [])
    maker.close()
    Ledger.create(where.url, run).close()
    with psycopg.connect(postgres_url) as conn:
        schemas = {n for (n,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'half%'")}
    assert schemas == {"half"}


@pytest.mark.parametrize("name", ["public", "app_data"])
def test_a_schema_that_is_no_ledger_is_refused_as_such_not_sent_to_resume(postgres_url: str, name: str) -> None:
    """Found by a tester: a load into an existing schema that is no ledger (`public`, an application's) was told it
    "already holds a run; use `bulkload resume …`", and that resume said it was no bulkload ledger."""
    from bulkload.errors import LedgerError
    from bulkload.ledger import Ledger, RunInfo

    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("CREATE SCHEMA app_data; CREATE TABLE app_data.customers (id int)")
    url = f"{postgres_url}?ledger={name}"
    with pytest.raises(LedgerError, match="is not a bulkload ledger") as refused:
        Ledger.create(url, RunInfo(target="economic", base_url="http://x", files=[]))
    said = str(refused.value)
    assert "resume" not in said and "choose another ledger name" in said and refused.value.exit_code == 2, said
    with pytest.raises(LedgerError, match="is not a bulkload ledger") as opened:
        Ledger.open(url)
    assert "relation" not in str(opened.value) and "no bulkload tables" in str(opened.value), opened.value
    with psycopg.connect(postgres_url) as conn:  # left as it was
        assert conn.execute("SELECT count(*) FROM app_data.customers").fetchone() == (0,)


def test_a_lost_ledger_connection_sends_no_call_that_had_not_left_and_q_says_what_was_not_written(
    tmp_path: Path,
    postgres_url: str,
    sandbox_process: SandboxProcess,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Found by a tester (PostgreSQL restarted mid-load, --rate 2): the calls that waited for their place in the rate
    limits were sent for seconds after the ledger's connection was gone, their rows all in doubt ("0 loaded, 692 in
    doubt"); and -q named the in-doubt file, which was not written. The run stops at once: no call leaves after the
    loss, the one whose answer could not be recorded is in doubt, the others are not sent (`pending` in the ledger
    from before their wait); the in-doubt file, written from what the process knows, lists the one in doubt."""
    from test_stopping import posts

    from bulkload.cli import main
    from bulkload.ledger import Ledger

    data = tmp_path / "e.csv"
    write_entries(data, 1_000)
    ledger = f"{postgres_url}?ledger=lost_early"
    done, recorded, sent_then = Ledger.done, [0], []

    def lost_at_the_third(self: Ledger, *args: object, **kwargs: object) -> None:
        recorded[0] += 1
        if recorded[0] == 3:  # the ledger's session ends, as when PostgreSQL restarts
            (pid,) = self.db().execute("SELECT pg_backend_pid()").fetchone()
            with psycopg.connect(postgres_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s, 10000)", (pid,))
            sent_then.append(posts(sandbox_process))
        done(self, *args, **kwargs)  # type: ignore[arg-type]

    for name, value in CREDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(Ledger, "done", lost_at_the_third)
    argv = ["load", "economic", str(data), "--base-url", sandbox_process.url, "--ledger", ledger, "-q"]
    assert main([*argv, "--rate", "2", "--batch-size", "100", "--concurrency", "4", "--no-progress"]) == 4
    out = capsys.readouterr().out
    assert posts(sandbox_process) == sent_then[0] == 3, out  # none sent after the connection was lost
    # the calls that waited were not sent, and the lost ledger has them `pending`: not in doubt, not held back
    assert ": stopped: 200 loaded, 0 rejected, 100 in doubt," in out and "held back" not in out, out
    # the in-doubt file is written from what the process knows: the rows of the answer it could not record
    assert f"in doubt: {data}.in_doubt.csv;" in out, out
    with open(f"{data}.in_doubt.csv", newline="") as fh:
        reasons = [row["last_error"] for row in csv.DictReader(fh)]
    assert len(reasons) == 100 and not [why for why in reasons if "so the API does not hold it" in why], reasons[:3]


@pytest.mark.slow
async def test_a_load_whose_postgresql_server_stops_still_writes_the_rows_it_left_in_doubt(tmp_path: Path) -> None:
    """Found by a tester: the ledger's PostgreSQL server stopped mid-load (4 calls in flight against a sandbox with
    latency) and the run ended with "in doubt 200" and no in-doubt file, nor which rows those were: the rows of the
    calls whose outcome the run could not learn were in no record the user could read. The file now lists the rows
    this invocation left in doubt, from what the process knows, and says it is this invocation's only; once the
    server is back, resume loads every row once and writes the file from the ledger."""
    from bulkload.sandbox import postgres

    binaries = postgres.find_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries")
    data, report = tmp_path / "entries.csv", tmp_path / "report.json"
    totals = write_entries(data, 1_000)
    with postgres.running(binaries) as server, anyio.fail_after(240):  # a server of its own: this test stops it
        ledger = f"{create_database(server.url, 'stopped')}?ledger=stopped"
        async with running("economic", SandboxOptions(latency_ms=300)) as url:
            proc = await asyncio.create_subprocess_exec(
                *bulkload_cmd("load", "economic", str(data), "--base-url", url, "--ledger", ledger),
                *("--batch-size", "50", "--concurrency", "4", "--no-progress", "--report", str(report)),
                env=child_env(CREDS),
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            await landed(url.split("/journalsapi")[0] + "/_sandbox/stats", 300)
            with postgres.halted(server):
                out, err = (text.decode() for text in await proc.communicate())
                assert proc.returncode == 4, out + err
                said = msgspec.json.decode(report.read_bytes())
                assert said["in_doubt"] > 0, said
                assert not any(u.startswith("the in-doubt file") for u in said["unwritten"]), said["unwritten"]
                # a reason may hold line breaks (PostgreSQL's error)
                written = list(
                    csv.DictReader(io.StringIO((tmp_path / "entries.csv.in_doubt.csv").read_text(), newline=""))
                )
                assert len(written) == said["in_doubt"] == said["in_doubt_written"], written
                assert all(row["chunk_key"] and row["last_error"] for row in written), written
                shown = out.split("\nrows in doubt")[1].splitlines()[0]
                assert "the in-doubt file lists the rows in doubt as this process knows them" in out, out
                assert "NOT WRITTEN" not in shown and str(tmp_path / "entries.csv.in_doubt.csv") in shown, out
            code, err = await _bulkload("resume", "--ledger", ledger, "--no-progress")
            assert code == 0, err
            assert_exactly_once(await remote_entries(url), totals)


def test_the_throwaway_server_command_answers_help_without_starting_a_server(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`python -m bulkload.sandbox.postgres --help` (tester t42d: it ignored its arguments and started a server,
    which ran until Ctrl-C) prints what it does and exits 0; any other argument is refused, exit 2."""
    from bulkload.sandbox import postgres

    def no_server() -> None:
        raise AssertionError("a server was started")

    monkeypatch.setattr(postgres, "running", no_server)
    with pytest.raises(SystemExit) as helped:
        postgres.main(["--help"])
    assert helped.value.code == 0 and "Ctrl-C" in capsys.readouterr().out
    with pytest.raises(SystemExit) as refused:
        postgres.main(["--port", "5432"])
    assert refused.value.code == 2 and "unrecognized arguments: --port 5432" in capsys.readouterr().err
