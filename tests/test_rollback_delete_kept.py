"""Rollback counts a record removed only once a read after its DELETE finds it gone: an API may answer a DELETE it
refuses or puts off with a success (seed 001 gives DELETE no answer to go by). Tester t32b's server answered 200 and
kept every record; before, `bulkload rollback` said `complete`, `removed 39`, exit 0, and a reconcile after it "39 of
its 39 entries are removed (rolled back, not missing), nothing of it is left" beside "the API holds 39". The
sandboxes here are the real apps, their DELETE answered 200 without acting while `kept` says so."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import anyio
import pytest
from aiohttp import web
from conftest import CREDS, serving, write_entries
from test_load_halopsa import ENV as HALO
from test_load_halopsa import job as halo_job
from test_load_halopsa import records as halo_records
from test_load_halopsa import write as write_halo
from test_reconcile_reset import _economic

from bulkload import load, reconcile, rollback
from bulkload.sandbox import SandboxOptions, build_app
from bulkload.sandbox.economic_web import PREFIX

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@asynccontextmanager
async def kept_on_delete(target: str, kept: list[bool]) -> AsyncIterator[str]:
    """The target's sandbox, whose DELETEs are answered 200 and not carried out while `kept[0]` is true."""
    app = build_app(target, SandboxOptions())

    @web.middleware
    async def keep(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "DELETE" and kept[0]:
            return web.json_response({"deleted": True})
        return await handler(request)

    app.middlewares.append(keep)
    async with serving(app) as origin:
        yield origin


async def _economic_entries(url: str) -> int:
    headers = {"X-AppSecretToken": "a", "X-AgreementGrantToken": "b"}
    async with aiohttp.ClientSession(headers=headers) as s, s.get(url + "/draft-entries") as r:
        listed = await r.json()
    return len(listed["items"] if isinstance(listed, dict) else listed)


@pytest.mark.slow
async def test_halopsa_records_a_delete_kept_are_not_removed(tmp_path: Path) -> None:
    kept = [True]
    data = write_halo(tmp_path / "ours.csv", 6)
    ledger = str(tmp_path / "ours.sqlite")
    with anyio.fail_after(120):
        async with kept_on_delete("halopsa", kept) as url:
            assert (await load(halo_job(tmp_path, data, url), env=HALO)).exit_code == 0
            undone = await rollback(ledger, env=HALO)
            assert len(await halo_records(url)) == 6
            assert undone.removed == 0 and undone.status != "complete" and undone.exit_code == 4, undone
            assert len(undone.failed) == 6 and "still holds it" in undone.failed[0]["reason"], undone.failed
            checked = await reconcile(ledger, env=HALO)  # still rolling back (exit 4), all of it there and compared
            assert checked.exit_code == 4 and "all 6 are left, compared here" in checked.reconcile.note, checked
            kept[0] = False  # the API deletes again: the next rollback finishes the job
            again = await rollback(ledger, env=HALO)
            assert await halo_records(url) == []
    assert again.exit_code == 0 and again.status == "complete", again
    assert again.removed + again.already_removed == 6 and not again.failed, again


@pytest.mark.slow
async def test_economic_entries_a_delete_kept_are_not_removed(tmp_path: Path) -> None:
    kept = [True]
    data = tmp_path / "ours.csv"
    write_entries(data, 3)  # 6 entries
    ledger = str(tmp_path / "ours.sqlite")
    with anyio.fail_after(120):
        async with kept_on_delete("economic", kept) as origin:
            url = origin + PREFIX
            assert (await load(_economic(tmp_path, data, url), env=CREDS)).exit_code == 0
            undone = await rollback(ledger, env=CREDS)
            assert await _economic_entries(url) == 6
            assert undone.removed == 0 and undone.exit_code == 4 and len(undone.failed) == 6, undone
            assert "still holds it" in undone.failed[0]["reason"], undone.failed
            checked = await reconcile(ledger, env=CREDS)
            assert checked.exit_code == 4 and "all 6 are left, compared here" in checked.reconcile.note, checked
            kept[0] = False
            again = await rollback(ledger, env=CREDS)
            assert await _economic_entries(url) == 0
    assert again.exit_code == 0 and again.status == "complete", again
    assert again.removed + again.already_removed == 6 and not again.failed, again
