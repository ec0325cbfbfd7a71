"""A lost call creating two records of one name (two tenants' `Acme`): the look after it tells them apart by the other
values each row sent, as it settles a call of names each its own, instead of leaving the whole call in doubt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web
from conftest import serving
from test_halopsa_answers import ENV, Handler, halo_app, held, job, write

from bulkload import load
from bulkload.sandbox.halopsa import HALOPSA_KEY

ROWS = [
    {"name": "Acme", "tenant_id": "t1"},
    {"name": "Beta", "tenant_id": "t1"},
    {"name": "Acme", "tenant_id": "t2"},
]


def first_call_stores(part: list[dict[str, Any]]) -> Any:
    """The first create stores `part` and is answered 500 (its answer lost); the others are served as ever."""
    calls = {"n": 0}

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path.startswith("/api/"):
            calls["n"] += 1
            if calls["n"] == 1:
                request.app[HALOPSA_KEY].store.save("XeroDetails", part)
                return web.json_response({"error": "oops"}, status=500)
        return await handler(request)

    return rule


def names(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((r["name"], r["tenant_id"]) for r in records)


async def test_two_creates_of_one_name_stored_by_a_lost_call_are_each_found_by_their_other_values(
    tmp_path: Path,
) -> None:
    """Before: the look found `Acme` for two rows and left all three in doubt (exit 1), for good."""
    data = write(tmp_path / "XeroDetails.csv", ROWS)
    async with serving(halo_app(tmp_path, [], first_call_stores(ROWS))) as url:
        report = await load(job(tmp_path, data, url, settle_s=0.2), env=ENV)
        after = await held(url)
    assert names(after) == names(ROWS), after
    assert (report.loaded, report.in_doubt) == (3, 0), report
    assert report.reconcile.ok, report.reconcile


async def test_the_create_of_one_name_a_lost_call_did_not_store_is_sent_once(tmp_path: Path) -> None:
    """The call stored `Acme` of t1 and `Beta` only: `Acme` of t2 is not there and is sent after the settle delay,
    once; before, all three stayed in doubt."""
    data = write(tmp_path / "XeroDetails.csv", ROWS)
    async with serving(halo_app(tmp_path, [], first_call_stores(ROWS[:2]))) as url:
        report = await load(job(tmp_path, data, url, settle_s=0.2), env=ENV)
        after = await held(url)
    assert names(after) == names(ROWS), after
    assert (report.loaded, report.in_doubt) == (3, 0), report


async def test_a_record_of_the_name_holding_neither_rows_values_leaves_the_call_in_doubt(tmp_path: Path) -> None:
    """Another writer's `Acme` (tenant t9) holds the values of neither row: it is no evidence for either."""
    data = write(tmp_path / "XeroDetails.csv", ROWS)
    part = [{"name": "Acme", "tenant_id": "t9"}, ROWS[1]]
    async with serving(halo_app(tmp_path, [], first_call_stores(part))) as url:
        report = await load(job(tmp_path, data, url, settle_s=0.2), env=ENV)
    assert (report.loaded, report.in_doubt) == (0, 3), report
