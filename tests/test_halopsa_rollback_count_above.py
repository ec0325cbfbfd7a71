"""HaloPSA rollback against a listing whose `record_count` is one above the records it lists (tester t46b: a count of
something the listing does not show, or one that lags). Before, the rollback deleted every record of the run, then
could not read back that they were gone ("could not be listed whole … run rollback again"), exit 4, and every rollback
after it said the same, for ever, the API holding none of them. A listing not whole proves no absence, but a look by
id answering 404 does (seed 001's GET /{id}): the deleted records read back gone, the rollback finishes."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
from aiohttp import web
from conftest import serving
from test_halopsa_lagging_count import ENV, records, write

from bulkload import Job, load, rollback
from bulkload.sandbox import SandboxOptions, build_app


def counting_one_more(app: web.Application, on: dict[str, bool]) -> None:
    """While `on["more"]`, a listing page's record_count is one above what the sandbox holds."""

    @web.middleware
    async def more(request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        answer = await handler(request)
        if not (on["more"] and request.method == "GET" and isinstance(answer, web.Response) and answer.text):
            return answer
        page = json.loads(answer.text)
        if not isinstance(page, dict) or "record_count" not in page:
            return answer
        return web.json_response({**page, "record_count": page["record_count"] + 1})

    app.middlewares.insert(0, more)


async def test_a_rollback_reads_back_by_id_what_a_listing_counted_above_its_records_leaves_out(tmp_path: Path) -> None:
    data = write(tmp_path / "XeroDetails.csv", 12)
    app = build_app("halopsa", SandboxOptions(window_limit=0, page_size=5))
    on = {"more": False}
    counting_one_more(app, on)
    with anyio.fail_after(60):
        async with serving(app) as url:
            job = Job(
                target="halopsa",
                files=[str(data)],
                base_url=url,
                ledger=str(tmp_path / "run.sqlite"),
                batch_size=4,
            )
            report = await load(job, env=ENV)
            assert report.exit_code == 0 and len(await records(url)) == 12, report
            on["more"] = True
            undone = await rollback(str(tmp_path / "run.sqlite"), env=ENV)
            left = await records(url)
    assert left == [], undone
    assert (undone.exit_code, undone.removed, undone.failed) == (0, 12, []), undone
