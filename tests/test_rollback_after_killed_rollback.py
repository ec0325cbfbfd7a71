"""HaloPSA: a rollback killed -9 while its DELETEs were on the way leaves them `removing` in the ledger (marked before
each leaves; the answers it had are written a hundred at a time). Found by a tester: with more than a hundred of them
carried out, the next rollback took the listing's `record_count` for one that lags (below the records the run created
that no DELETE of ours may have taken out, of which only a hundred are looked up by id), deleted the records it
listed all the same, then could not read them back: "0 removed, 6,262 deletes failed" (exit 4) while the API held
none of them, and the rollback after it named records its own DELETEs had removed "removed by someone else" (exit
3). A DELETE of ours that may have been carried out is no record the count must hold, as one answered as done is
not: the rollback removes what is left, and says so (exit 0)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import aiohttp
import anyio
from aiohttp import web
from conftest import serving

from bulkload import Job, load, rollback
from bulkload.ledger import Ledger
from bulkload.sandbox import SandboxOptions, running
from bulkload.sandbox.common import SANDBOX_KEY
from bulkload.sandbox.halopsa import create_app

ENV = {"HALO_CLIENT_ID": "killed-rollback-client", "HALO_CLIENT_SECRET": "killed-rollback-secret"}
ROWS = 300
CARRIED_OUT = 150  # DELETEs of the killed rollback the API carried out, their answers never recorded


async def records(url: str) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/_sandbox/records/XeroDetails") as r:
        body: list[dict[str, Any]] = await r.json()
        return body


async def delete(url: str, record_ids: list[int]) -> None:
    """What the killed rollback's DELETEs did at the API."""
    form = {"grant_type": "client_credentials", "client_id": "other", "client_secret": "other-secret"}
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{url}/auth/token", data=form) as r:
            token = (await r.json())["access_token"]
        bearer = {"Authorization": f"Bearer {token}"}
        for record_id in record_ids:
            async with s.delete(f"{url}/api/XeroDetails/{record_id}", headers=bearer) as r:
                assert r.status in (200, 204), await r.text()


async def test_a_rollback_after_one_killed_with_many_deletes_on_the_way_removes_the_rest(tmp_path: Path) -> None:
    data = tmp_path / "XeroDetails.csv"
    text = io.StringIO()
    csv.writer(text).writerows([["name", "tenant_id"], *([f"Tenant {i}", f"t-{i}"] for i in range(ROWS))])
    data.write_text(text.getvalue(), encoding="utf-8")
    ledger = str(tmp_path / "x.sqlite")
    with anyio.fail_after(60):
        async with running("halopsa", SandboxOptions(window_limit=0)) as url:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=url,
                ledger=ledger,
                batch_size=50,
                window_limit=0,
                settle_s=0.2,
                target_options={"match_on": "name"},
            )
            assert (await load(job, env=ENV)).loaded == ROWS
            ids = sorted(r["id"] for r in await records(url))
            # the killed rollback: each DELETE marked `removing` as it left, the API carried them out, no answer kept
            held = Ledger.open(ledger)
            try:
                held.set_status("rolling_back")
                held.mark_removed([(i, "XeroDetails", "removing") for i in ids[:CARRIED_OUT]])
            finally:
                held.close()
            await delete(url, ids[:CARRIED_OUT])
            undone = await rollback(ledger, env=ENV)
            left = await records(url)
    assert left == [], f"{len(left)} records of the run left"
    assert (undone.exit_code, undone.failed, undone.unexplained_count) == (0, [], 0), undone
    assert (undone.removed, undone.already_removed) == (ROWS - CARRIED_OUT, CARRIED_OUT), undone


async def test_a_404_to_a_delete_of_ours_not_read_back_is_never_named_another_writers_later(tmp_path: Path) -> None:
    # DELETEs carried out whose answers were lost (the connection dropped), each sent again and answered 404: gone by
    # our own doing. The listing after the deletes fails (5xx past the attempts): the rollback stops, to be run
    # again. Before, it recorded those DELETEs as failed (not carried out), and the next rollback named their records
    # "gone before this rollback removed it, and no rollback of ours did: removed by someone else" (exit 3)
    data = tmp_path / "XeroDetails.csv"
    data.write_text("name,tenant_id\n" + "".join(f"Tenant {i},t-{i}\n" for i in range(40)), encoding="utf-8")
    ledger = str(tmp_path / "x.sqlite")
    app = create_app(SandboxOptions(window_limit=0, seed=3))
    failing = {"lists": False}

    @web.middleware
    async def listings_fail(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "DELETE":
            failing["lists"] = True  # from the first DELETE on, until the test says otherwise
        elif failing["lists"] and request.method == "GET" and request.path == "/api/XeroDetails":
            return web.Response(status=503, text="down for a moment")
        return await handler(request)

    app.middlewares.append(listings_fail)
    with anyio.fail_after(60):
        async with serving(app) as url:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=url,
                ledger=ledger,
                window_limit=0,
                attempts=2,
                settle_s=0.2,
                target_options={"match_on": "name"},
            )
            assert (await load(job, env=ENV)).loaded == 40
            app[SANDBOX_KEY].options.drop_rate = 0.5  # DELETEs carried out, their answers lost
            stopped = await rollback(ledger, env=ENV)
            app[SANDBOX_KEY].options.drop_rate = 0
            failing["lists"] = False
            assert await records(url) == [], stopped
            undone = await rollback(ledger, env=ENV)
    assert stopped.exit_code == 4, stopped
    assert (undone.exit_code, undone.unexplained_count) == (0, 0), undone
