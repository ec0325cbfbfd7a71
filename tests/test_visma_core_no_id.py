"""Visma Core: a create answered with an `Id` of 0 (the default of an entity never saved) does not say the entry
was stored. Found by tester t70b: a server answering each create `{"Id": 0, …}` with what was sent, storing nothing,
loaded every row, reconciled ok, exit 0 (a negative Id is refused by the engine already). The real sandbox serves
it, behind a middleware that answers so and never lets the create through."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web
from test_load_visma_core import read_csv, write
from test_visma_core_answers import Handler, core_app, loaded


def answered_with_id(record_id: int) -> object:
    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method != "POST":
            return await handler(request)
        sent = json.loads(await request.read())
        return web.json_response({**sent, "Id": record_id, "CaseId": int(request.match_info.get("caseId", 0) or 0)})

    return rule


async def test_a_create_answered_with_an_id_of_no_entry_is_in_doubt_not_loaded(tmp_path: Path) -> None:
    record_id = 0
    data = write(tmp_path / "e.csv", [[1894, "OUTLAY", "10.00", "Takst", "", "2026-11-01", ""]])
    report, held = await loaded(tmp_path, data, core_app(answered_with_id(record_id)))  # type: ignore[arg-type]
    assert held == []
    assert (report.loaded, report.in_doubt) == (0, 1) and report.exit_code != 0, report
    (row,) = read_csv(tmp_path / "in_doubt.csv")
    assert "an Id 0 names no entry: it does not say one was created" in row["last_error"], row
