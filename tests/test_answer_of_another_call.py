"""A write answered with another call's answer (a cache or proxy that replays what it answered an earlier key, marked
X-ResultFromCache): its rows are given ids that rows of an earlier call of the run hold. Reconciliation says which
lines hold another record than the run sent, exit 3; before, it stopped on its own ledger ("SQLite cannot read what
bulkload keeps: UNIQUE constraint failed: reused.id; continue with `bulkload resume`", which failed the same way
every time: tester t70e), and the lines the API did store as sent were named as not. The e-conomic sandbox on
loopback, its third and fourth bulk creates answered with the first one's answer and not stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from aiohttp import web
from conftest import CREDS, economic_job, serving, write_entries

from bulkload import load
from bulkload.sandbox import SandboxOptions, build_app


def replaying_another_answer() -> web.Application:
    app = build_app("economic", SandboxOptions())
    answers: list[bytes] = []

    @web.middleware
    async def hostile(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method != "POST" or not request.path.endswith("/draft-entries/bulk"):
            return await handler(request)  # type: ignore[no-any-return]
        if len(answers) in (2, 3):  # the first call's answer, as a cache replays it, nothing stored
            answers.append(answers[0])
            return web.Response(
                status=201, body=answers[0], content_type="application/json", headers={"X-ResultFromCache": "true"}
            )
        response = await handler(request)
        assert isinstance(response, web.Response) and isinstance(response.body, bytes)
        answers.append(response.body)
        return response  # type: ignore[no-any-return]

    app.middlewares.append(hostile)
    return app


async def test_a_write_answered_with_an_earlier_calls_ids_is_reconciled_as_not_sent_lines(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 25)  # 50 entries, 10 a call: lines 22-41 are the third and fourth calls'
    with anyio.fail_after(60):
        async with serving(replaying_another_answer()) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite", batch_size=10, report=str(tmp_path / "r.json"))
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.exit_code == 3 and report.status == "complete", report.stop_reason
    rec = report.reconcile
    assert rec is not None and not rec.ok
    assert rec.ids_reused_count == 20, rec.ids_reused
    assert isinstance(rec.ids_reused, list)
    # the first call's lines are as sent, each line named once
    assert sorted(item["line"] for item in rec.ids_reused) == list(range(22, 42)), rec.ids_reused
