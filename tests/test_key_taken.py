"""A keyed call whose answer was lost, sent again with its Idempotency-Key and answered 409 ("already processed"):
not seed 002's answer (its cache replays what it answered the key), but other servers'. Tester t33a's server
answered so: the load stopped, 10 rows in doubt, and every `bulkload resume` sent the key again for the same 409,
though the journal held the call's entries whole. Such a call is looked for in the journal, as one whose failure
the cache replays is. The sandbox is the real app, its second call's answer lost after it stored the entries and
every key it saw before answered 409."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import anyio
from aiohttp import web
from conftest import CREDS, serving, write_entries
from test_reconcile_reset import _economic

from bulkload import load
from bulkload.sandbox import SandboxOptions, build_app
from bulkload.sandbox.economic_web import PREFIX

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def test_a_key_answered_taken_after_a_lost_answer_is_looked_for(tmp_path: Path) -> None:
    app = build_app("economic", SandboxOptions())
    keys: list[str] = []
    taken = []

    @web.middleware
    async def key_taken(request: web.Request, handler: Handler) -> web.StreamResponse:
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or key is None:
            return await handler(request)
        if key in keys:
            taken.append(key)
            return web.json_response({"message": "This Idempotency-Key has already been processed."}, status=409)
        keys.append(key)
        answer = await handler(request)
        if len(keys) == 2 and request.transport is not None:  # the second call's entries stored, its answer lost
            request.transport.abort()
        return answer

    app.middlewares.insert(0, key_taken)  # before the sandbox's own, whose idempotency cache replays answers
    data = tmp_path / "ours.csv"
    write_entries(data, 15)  # 30 entries, 3 calls of 10
    with anyio.fail_after(120):
        async with serving(app) as origin:
            job = replace(_economic(tmp_path, data, origin + PREFIX), batch_size=10)
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert taken, "the second call was never sent again with its key"
    assert report.exit_code == 0 and report.loaded == 30 and report.in_doubt == 0, report
    assert report.reconcile is not None and report.reconcile.ok and report.reconcile.duplicates_count == 0
