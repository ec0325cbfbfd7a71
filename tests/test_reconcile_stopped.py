"""A reconciliation that cannot finish (an answer of 5xx, the daily quota), and one of a run whose rollback stopped
before it removed anything, against the real e-conomic sandbox app on loopback through the real client: the message
names the call that failed and a way on that works for the run as its ledger stands (a run being rolled back is
finished by `bulkload rollback`, which `resume` refuses; any other is reconciled again), with `--ledger`; a run whose
rollback stopped is being rolled back however little it removed (exit 4, and the note names the rollback)."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp import web
from conftest import CREDS, economic_job, serving, write_entries
from test_reconcile_lag import Counted, Handler

from bulkload import load, reconcile, rollback
from bulkload.errors import BadAnswer, RunStopped, ServerError
from bulkload.ledger import Ledger
from bulkload.sandbox.economic_web import PREFIX


class Failing(Counted):
    """The sandbox, answering `status` (with `body`) to every call of `method` to a path ending `path` while
    `failing`."""

    def __init__(self, method: str, path: str, status: int, body: str = "") -> None:
        super().__init__()
        self.method, self.path, self.status, self.body = method, path, status, body
        self.failing = False
        self.app.middlewares.append(self.failed)

    @web.middleware
    async def failed(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.failing and request.method == self.method and request.path.endswith(self.path):
            return web.Response(status=self.status, text=self.body)
        return await handler(request)


async def loaded(tmp_path: Path, origin: str) -> str:
    """The ledger of a load of 8 entries (4 vouchers) into journal 1, one attempt a call."""
    data = tmp_path / "e.csv"
    write_entries(data, 4)
    job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=8, attempts=1)
    report = await load(job, env=CREDS)
    assert report.loaded == 8 and report.reconcile is not None and report.reconcile.ok, report
    return job.ledger_path


def calls_made(path: str) -> int:
    ledger = Ledger.open(path)
    try:
        return sum(ledger.calls().values())
    finally:
        ledger.close()


async def test_a_run_whose_rollback_removed_nothing_is_still_being_rolled_back(tmp_path: Path) -> None:
    """Found by a tester: every DELETE answered 500 (an empty body), the rollback stopped with nothing removed; the
    reconciliation then said `reconciled`, exit 0, nothing of a rollback, while resume refused the run as rolled back
    in part. One DELETE failing of 20 said so (exit 4): a rollback that stopped before removing anything did not."""
    sandbox = Failing("DELETE", "", 500)
    async with serving(sandbox.app) as origin:
        path = await loaded(tmp_path, origin)
        sandbox.failing = True
        undone = await rollback(path, env=CREDS)
        assert (undone.status, undone.exit_code, undone.removed, len(undone.failed)) == ("stopped", 4, 0, 8), undone
        # an error status with nothing in its body says so, not "HTTP 500: " and nothing after it
        assert {item["reason"] for item in undone.failed} == {"HTTP 500: the answer's body is empty"}, undone.failed
        sandbox.failing = False
        report = await reconcile(path, env=CREDS)
    rec = report.reconcile
    assert rec is not None and rec.ok, rec
    assert rec.rolled_back == {"status": "rolling_back", "records": 0, "left": 8}, rec
    assert rec.note == (
        "the run is being rolled back (the rollback stopped before it removed any of its 8 entries): all 8 are "
        f"left, compared here; `bulkload rollback --ledger {path}` finishes the rollback"
    ), rec.note
    assert report.exit_code == 4, report  # reconciled, and the rollback is to be finished


async def test_a_reconciliation_the_quota_stops_names_the_command_that_fits_the_run(tmp_path: Path) -> None:
    """Found by a tester: a rollback the daily quota stopped at once; `bulkload reconcile` then stopped on the quota
    too and said "continue with `bulkload resume`" (no ledger), which refuses a run being rolled back."""
    sandbox = Counted()
    async with serving(sandbox.app) as origin:
        path = await loaded(tmp_path, origin)
        used = calls_made(path)
        ledger = Ledger.open(path)
        ledger.set_settings({**ledger.run.settings, "daily_quota": used})  # as a load's --daily-quota would
        ledger.close()
        with pytest.raises(RunStopped) as stopped:
            await reconcile(path, env=CREDS)
        said = str(stopped.value)
        assert f"daily quota of {used} calls reached" in said, said
        assert said.endswith(f"; continue with `bulkload reconcile --ledger {path}`"), said
        assert "resume" not in said, said

        undone = await rollback(path, env=CREDS)  # the same quota: it stops at once
        assert (undone.status, undone.removed) == ("stopped", 0), undone
        with pytest.raises(RunStopped) as stopped:
            await reconcile(path, env=CREDS)
    said = str(stopped.value)
    assert f"daily quota of {used} calls reached" in said, said
    assert said.endswith(f"; continue with `bulkload rollback --ledger {path}`"), said
    assert "resume" not in said, said


async def test_a_reconciliation_a_5xx_stops_names_the_call_and_to_reconcile_again(tmp_path: Path) -> None:
    """Found by a tester: every page of the cursor walk answered 503 `oops`; all `bulkload reconcile` said was
    `HTTP 503: oops` — no call, no way on (an HTML answer named its call already)."""
    sandbox = Failing("GET", f"{PREFIX}/draft-entries", 503, "oops")
    async with serving(sandbox.app) as origin:
        path = await loaded(tmp_path, origin)
        sandbox.failing = True
        with pytest.raises(ServerError) as stopped:
            await reconcile(path, env=CREDS)
    assert str(stopped.value) == (
        f"GET /draft-entries: HTTP 503: oops; continue with `bulkload reconcile --ledger {path}`"
    ), stopped.value
    assert stopped.value.status == 503  # the same error, its call named


async def test_a_walk_listing_another_journals_entries_stops_and_says_so(tmp_path: Path) -> None:
    """Found by a tester: an API that ignored the walk's filter listed journal 2's entries in journal 1's walk; the
    summary said the journal held entries added by others, that the API counts fewer than it lists (after 30 s of
    counts read again) and that voucher 5001 held no lines (exit 3). The listing is no journal 1's to compare."""
    sandbox, unfiltering = Counted(), False

    @web.middleware
    async def unfiltered(request: web.Request, handler: Handler) -> web.StreamResponse:
        if unfiltering and request.method == "GET" and request.path == f"{PREFIX}/draft-entries":
            return await handler(request.clone(rel_url=request.path))  # its filter (and cursor) dropped
        return await handler(request)

    sandbox.app.middlewares.append(unfiltered)
    async with serving(sandbox.app) as origin:
        path = await loaded(tmp_path, origin)
        theirs = tmp_path / "theirs.csv"
        write_entries(theirs, 1, journal=2, first_voucher=5001)
        other = await load(economic_job(theirs, origin, tmp_path / "theirs.sqlite"), env=CREDS)
        assert other.loaded == 2 and other.exit_code == 0, other
        unfiltering = True
        with pytest.raises(BadAnswer) as stopped:
            await reconcile(path, env=CREDS)
    assert str(stopped.value) == (
        "GET /draft-entries: the walk of journal 1 lists entry 9 of journal 2, where only journal 1's were asked "
        "for: the API did not filter the listing as asked, so what it lists cannot be compared with the run; "
        f"continue with `bulkload reconcile --ledger {path}`"
    ), stopped.value
