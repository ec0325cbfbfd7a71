"""Visma Core costs: reconciliation reads back every cost a run set and compares it with what the file meant, not
with the PATCH's answer alone. Found by tester t70b: a server answering each PATCH with the new values and keeping
none of them reconciled `ok`, exit 0. The real sandbox serves it, behind a middleware that puts each cost back as
it was once the PATCH has been answered."""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path

import anyio
from aiohttp import web
from conftest import serving
from test_load_visma_core import COST_HEADER, buyer_costs, job, read_csv, write
from test_visma_core_answers import Handler, as_is, core_app

from bulkload import load, reconcile
from bulkload.sandbox.visma_core import VISMA_CORE_KEY

ENV = {"VISMA_CORE_TOKEN": "read-back-token"}
COSTS = {"kind": "costs"}


async def answered_not_kept(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A PATCH answered with the cost as set, the cost then put back as it was: the API did not keep it."""
    if request.method != "PATCH":
        return await handler(request)
    store = request.app[VISMA_CORE_KEY].costs
    case = store.of_case(int(request.match_info["id"])) or {}
    before = copy.deepcopy(case)
    response = await handler(request)
    case.update(before)
    return response


async def test_a_cost_patch_answered_but_not_kept_fails_reconciliation(tmp_path: Path) -> None:
    rows = [[1500, "Buyer", 150003, "", "1350.75", "Raised"], [1500, "Buyer", 150002, "", "", "Note"]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    with anyio.fail_after(60):
        async with serving(core_app(answered_not_kept)) as url:
            before = await buyer_costs(url, 1500)
            run = job(tmp_path, data, url, settle_s=0.2, target_options=COSTS)
            report = await load(run, env=ENV, raise_on_stop=False)
            after = await buyer_costs(url, 1500)
    assert after == before  # nothing was kept
    # every row was answered as set (loaded), and the books do not hold them: a reconcile mismatch, exit 3
    assert (report.loaded, report.exit_code, report.reconcile.ok) == (2, 3, False), report.reconcile
    differences = report.reconcile.differences
    assert isinstance(differences, list)
    assert [(d["id"], d["line"], d["field"]) for d in differences] == [
        (150003, 2, "Amount"),
        (150003, 2, "Comment"),
        (150002, 3, "Comment"),
    ], differences
    said = differences[0]["said"]
    assert said.startswith("cost 150003 of case 1500 (Buyer): the file set Amount 1350.75 (line 2)"), said
    assert f"the API holds Amount {before[150003]['Amount']}" in said, said
    assert "were read back: 3 fields hold other values" in str(report.reconcile.note)


async def test_a_cost_read_back_late_is_read_again_after_the_settle_delay(tmp_path: Path) -> None:
    # a server whose reads lag its writes (a read replica) shows the cost's old values at the first read back: read
    # again once the settle delay has passed, it holds what the file set, and the run reconciles
    reads = {"n": 0}

    async def lagging(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "PATCH":
            reads["n"] = -1  # the first read after the PATCH is the run's reconciliation (one row, read before)
            return await handler(request)
        if request.method == "GET" and "/Costs/" in request.path and reads["n"] == -1:
            reads["n"] = 1
            return web.json_response([{**c, "Amount": 1.0} for c in (await buyer_costs_listed(request, handler))])
        return await handler(request)

    data = write(tmp_path / "c.csv", [[1500, "Buyer", 150003, "", "1350.75", ""]], header=COST_HEADER)
    with anyio.fail_after(60):
        async with serving(core_app(lagging)) as url:
            run = job(tmp_path, data, url, settle_s=0.2, target_options=COSTS)
            report = await load(run, env=ENV, raise_on_stop=False)
    assert reads["n"] == 1  # the lagging read was served
    assert (report.loaded, report.exit_code, report.reconcile.ok) == (1, 0, True), report.reconcile


async def buyer_costs_listed(request: web.Request, handler: Handler) -> list[dict[str, object]]:
    answer = await handler(request)
    assert isinstance(answer, web.Response) and isinstance(answer.body, bytes)
    listed: list[dict[str, object]] = json.loads(answer.body)
    return listed


async def test_costs_kept_as_the_file_meant_reconcile_by_the_last_row_of_each(tmp_path: Path) -> None:
    # two rows of one cost: the cost keeps the last; the first's values are not what the file meant it to hold
    rows = [[1500, "Buyer", 150003, "", "100.00", "A"], [1500, "Buyer", 150003, "", "250.00", ""]]
    data = write(tmp_path / "c.csv", rows, header=COST_HEADER)
    with anyio.fail_after(60):
        async with serving(core_app(as_is)) as url:
            report = await load(job(tmp_path, data, url, target_options=COSTS), env=ENV, raise_on_stop=False)
            held = (await buyer_costs(url, 1500))[150003]
            # a later reconcile reads them again: still what the file meant
            again = await reconcile(str(tmp_path / "run.sqlite"), env=ENV)
    assert (held["Amount"], held["Comment"]) == (Decimal("250.00"), "A"), held
    assert (report.loaded, report.exit_code, report.reconcile.ok) == (2, 0, True), report.reconcile
    assert report.reconcile.differences == [] and report.reconcile.rows_not_checked == {
        "count": 0,
        "amounts": 0,
        "fields": 0,
        "lines_one_id": 0,
        "read_back": 0,
    }, report.reconcile
    assert again.reconcile.ok, again.reconcile
    assert read_csv(tmp_path / "rejects.csv") == []


async def test_a_costs_run_s_note_says_its_costs_were_read_back_never_that_nothing_can_be(tmp_path: Path) -> None:
    # before: "visma-core offers no way to read back what was created: … the records they made …; the 1 costs the
    # run set were read back": a costs run creates nothing, and its costs are read back
    data = write(tmp_path / "c.csv", [[1500, "Buyer", 150003, "", "1350.75", "Raised"]], header=COST_HEADER)
    with anyio.fail_after(60):
        async with serving(core_app()) as url:
            report = await load(job(tmp_path, data, url, target_options=COSTS), env=ENV)
    note = str(report.reconcile.note)
    assert (report.exit_code, report.reconcile.ok) == (0, True), report.reconcile
    assert note.startswith("the run created nothing, it changed records that were there: this compares"), note
    assert "records they changed (by kind and id)" in note and note.endswith("; the 1 cost the run set was read back")
    assert "no way to read back" not in note and "records they made" not in note, note
