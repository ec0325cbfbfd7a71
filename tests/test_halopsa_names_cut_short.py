"""HaloPSA: a server that stores a record's name cut short (at a length limit of its own). Found by tester t70b: a
create whose answer was lost was looked for by its whole name, found nothing, and was sent again once the settle
delay had passed: the record created twice, the first under its cut name, exit 0. A record created since the run's
listing before its first call whose name is the start of a name the lost call sent may be that create: the call
is in doubt, told why, never sent again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from conftest import serving
from test_halopsa_answers import ENV, Handler, halo_app, held, job, write
from test_load_payorcrm import read_csv

from bulkload import load
from bulkload.sandbox.halopsa import HALOPSA_KEY

ROWS = [{"name": "Northwind Traders International", "tenant_id": "t1"}, {"name": "Beta", "tenant_id": "t1"}]
LIMIT = 16


def cut(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "name": r["name"][:LIMIT]} for r in records]


def first_call_stores_cut() -> Any:
    """The first create stores its records, names cut at LIMIT, and is answered 500 (its answer lost)."""
    calls = {"n": 0}

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path.startswith("/api/"):
            calls["n"] += 1
            if calls["n"] == 1:
                request.app[HALOPSA_KEY].store.save("XeroDetails", cut(await request.json()))
                return web.json_response({"error": "oops"}, status=500)
        return await handler(request)

    return rule


async def test_a_lost_create_stored_with_its_name_cut_short_is_in_doubt_never_sent_again(tmp_path: Path) -> None:
    data = write(tmp_path / "XeroDetails.csv", ROWS)
    async with serving(halo_app(tmp_path, [], first_call_stores_cut())) as url:
        report = await load(job(tmp_path, data, url, settle_s=0.2), env=ENV)
        after = await held(url)
    assert sorted(r["name"] for r in after) == ["Beta", "Northwind Trader"], after  # once each, never again
    assert (report.loaded, report.in_doubt, report.exit_code) == (0, 2, 1), report
    doubt = read_csv(tmp_path / "in_doubt.csv")
    assert [r["line"] for r in doubt] == ["2", "3"], doubt
    why = doubt[0]["last_error"]
    assert "XeroDetails 1, created since the run's listing, holds name 'Northwind Trader', the start of " in why, why
    assert "'Northwind Traders International' sent by this create" in why and "cut short" in why, why
    assert "not sent again, which would create it twice" in why, why


def cut_every_create(answer_sent: bool) -> Any:
    """Every create stored with its names cut at LIMIT, answered with the records stored (or, `answer_sent`, with
    the names as sent)."""

    async def rule(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method == "POST" and request.path.startswith("/api/"):
            sent = await request.json()
            saved = request.app[HALOPSA_KEY].store.save("XeroDetails", cut(sent))
            return web.json_response([{**r, "name": s["name"]} for r, s in zip(saved, sent)] if answer_sent else saved)
        return await handler(request)

    return rule


@pytest.mark.parametrize(("answer_sent", "exit_code"), [(False, 4), (True, 3)])
async def test_creates_stored_with_their_names_cut_short_are_never_a_success(
    tmp_path: Path, answer_sent: bool, exit_code: int
) -> None:
    # answered as stored, the records cannot be paired with the rows (the run stops, exit 4); answered as sent,
    # reconciliation finds the names cut (exit 3)
    data = write(tmp_path / "XeroDetails.csv", ROWS)
    async with serving(halo_app(tmp_path, [], cut_every_create(answer_sent))) as url:
        report = await load(job(tmp_path, data, url, settle_s=0.2), env=ENV, raise_on_stop=False)
    assert report.exit_code == exit_code, report
    if answer_sent:
        assert not report.reconcile.ok and report.reconcile.differences_count == 1, report.reconcile
