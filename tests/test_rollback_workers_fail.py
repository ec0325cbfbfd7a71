"""A rollback whose every worker ends on an error raises that error alone, as the command line shows it: never an
ExceptionGroup with the anyio.BrokenResourceError its producer met handing out the next call or record beside it.
What it had not come to stays for the next rollback, which finishes the job."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, write_entries

from bulkload import Job, load, rollback
from bulkload.dispatch import Dispatcher
from bulkload.errors import LedgerWriteError
from bulkload.ledger import Ledger
from bulkload.sandbox import SandboxOptions, running

ECONOMIC_HEADERS = {"X-AppSecretToken": "a", "X-AgreementGrantToken": "b"}


async def journal_count(url: str) -> int:
    async with aiohttp.ClientSession(headers=ECONOMIC_HEADERS) as s, s.get(url + "/draft-entries/count") as r:
        return int(await r.json())


async def loaded(tmp_path: Path, url: str) -> str:
    """A run of 200 vouchers into the sandbox at `url`, 20 calls one at a time: its ledger. One worker: while it
    works, the producer has filled the buffer (of 1) and waits to hand it the next call or record."""
    data, ledger = tmp_path / "e.csv", str(tmp_path / "run.sqlite")
    write_entries(data, 200)
    job = Job(target="economic", files=[str(data)], base_url=url, ledger=ledger, batch_size=20, concurrency=1)
    assert (await load(job, env=CREDS)).exit_code == 0
    return ledger


@pytest.mark.slow
async def test_a_ledger_write_failing_every_settling_worker_is_raised_alone_and_the_calls_stay_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: an ExceptionGroup of LedgerWriteErrors and the producer's BrokenResourceError (its next call found no
    worker left), where the Python API promises a BulkloadError."""
    done = Ledger.done

    def on_a_read_only_ledger(self: Ledger, *args: Any, **kwargs: Any) -> None:
        # SQLite refuses every write from now on ("attempt to write a readonly database")
        self.db().execute("PRAGMA query_only = 1")
        done(self, *args, **kwargs)

    with anyio.fail_after(120):
        async with running("economic", SandboxOptions()) as url:
            ledger = await loaded(tmp_path, url)
            # as if the run had been killed with its 20 calls in flight, their answers lost
            with sqlite3.connect(ledger) as db:
                db.execute("UPDATE chunks SET state = 'sending'")
                db.execute("DELETE FROM created")
            monkeypatch.setattr(Ledger, "done", on_a_read_only_ledger)
            with pytest.raises(LedgerWriteError, match="cannot write the ledger"):
                await rollback(ledger, env=CREDS)
            monkeypatch.setattr(Ledger, "done", done)
            with sqlite3.connect(ledger) as db:  # no call settled: every one open for the next rollback
                assert db.execute("SELECT COUNT(*) FROM chunks WHERE state = 'sending'").fetchone() == (20,)
            again = await rollback(ledger, env=CREDS)
            left = await journal_count(url)
    assert again.status == "complete" and again.settled.replayed == 20 and again.removed == 400, again
    assert left == 0


@pytest.mark.slow
async def test_an_unexpected_error_of_every_removing_worker_is_raised_alone_and_the_records_stay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: an ExceptionGroup of the workers' errors and the producer's BrokenResourceError."""
    send = Dispatcher.send

    async def failing_deletes(self: Dispatcher, method: str, path: str, **kwargs: Any) -> Any:
        if method == "DELETE":
            raise RuntimeError("a bug")
        return await send(self, method, path, **kwargs)

    with anyio.fail_after(120):
        async with running("economic", SandboxOptions()) as url:
            ledger = await loaded(tmp_path, url)
            monkeypatch.setattr(Dispatcher, "send", failing_deletes)
            with pytest.raises(RuntimeError, match="a bug"):
                await rollback(ledger, env=CREDS)
            monkeypatch.setattr(Dispatcher, "send", send)
            assert await journal_count(url) == 400  # nothing removed: every record left for the next rollback
            again = await rollback(ledger, env=CREDS)
            left = await journal_count(url)
    assert again.status == "complete" and again.removed == 400, again
    assert left == 0
