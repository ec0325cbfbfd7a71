"""The look for what a refused call stored (RecordKind.find_stored) covers every entry number the call could have
been given: seed 002 promises entry numbers only to be unique (docs/reconciliation.md "Entry numbers out of order"),
so once an answer showed a journal's numbers not to grow the look begins at the run's baseline, not at the newest
number the run knew. And it honours --settle-s: a listing that shows new entries late (a read replica) is looked at
again once the settle delay after the refusal has passed. Otherwise the good vouchers the refusal stored are sent
again, each in the journal twice (docs/economic.md "What is idempotent": "A voucher found whole is loaded as found,
its entry numbers recorded, nothing sent"). Against the independent e-conomic server (written from seed 002)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import anyio
from aiohttp import web
from conftest import CREDS, economic_job, serving
from economic_independent_server import STORE, Opts, make_app
from test_reconcile_refused import entries

from bulkload import load, rollback


def lines_per_voucher(app: Any) -> dict[int, int]:
    stored: dict[int, int] = {}
    for e in app[STORE].entries.values():
        stored[e["voucherNumber"]] = stored.get(e["voucherNumber"], 0) + 1
    return stored


async def test_good_vouchers_a_refusal_stored_under_lower_numbers_are_not_sent_again(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    entries(data, 20, (18,))  # 4 calls of 5 vouchers, one after the other; the last refused for voucher 18 (line 2)
    # a server of two nodes, each numbering from a block of its own (calls alternate: 5,000,001…, 1…, 5,000,011…, 11…),
    # whose refusal stores the entries before the first bad one
    app = make_app(Opts(numbering="hilo", refusal_stores="before-bad"))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(
                data,
                origin,
                tmp_path / "run.sqlite",
                rejects=str(tmp_path / "rejects.csv"),
                batch_size=10,
                concurrency=1,
            )
            report = await load(job, env=CREDS)
    doubled = {v: n for v, n in lines_per_voucher(app).items() if v != 18 and n != 2}
    assert doubled == {}, (doubled, report.reconcile)
    assert report.loaded == 38 and report.rejected == 2 and report.in_doubt == 0, report


async def test_a_refusal_s_entries_a_listing_shows_late_are_found_after_the_settle_delay(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    entries(data, 5, (4,))  # one call of 5 vouchers, refused for voucher 4 (line 2)
    # the refusal stores vouchers 1-3 and voucher 4's line 1; the listings show an entry 0.3 s after it was stored
    app = make_app(Opts(refusal_stores="before-bad", list_lag_ms=300))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(
                data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"), settle_s=1.0
            )
            report = await load(job, env=CREDS, raise_on_stop=False)
    stored = lines_per_voucher(app)
    assert {v: stored.get(v) for v in (1, 2, 3, 5)} == {1: 2, 2: 2, 3: 2, 5: 2}, stored
    # vouchers 1-3 found whole (loaded as found), voucher 5 sent again; voucher 4 rejected (its line 1 stored: named)
    assert report.loaded == 8 and report.rejected == 2 and report.in_doubt == 0, report
    assert report.reconcile is not None and report.reconcile.duplicates_count == 0, report.reconcile


async def test_a_rollback_names_the_doubles_a_refusal_stored_where_its_look_did_not_find_them(tmp_path: Path) -> None:
    """Without --settle-s the look comes before the listing shows what the refusal stored: vouchers 1-3 are sent
    again, and the journal holds them twice (reconciliation's doubles). Rollback removes what the run created and
    names what is left as reconciliation would, never "everything the run created … is removed" alone."""
    data = tmp_path / "e.csv"
    entries(data, 5, (4,))
    app = make_app(Opts(refusal_stores="before-bad", list_lag_ms=200))
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=str(tmp_path / "rejects.csv"))
            report = await load(job, env=CREDS, raise_on_stop=False)
            assert lines_per_voucher(app) == {1: 4, 2: 4, 3: 4, 4: 1, 5: 2}, report
            await anyio.sleep(0.3)  # the listings show everything stored by now
            undone = await rollback(job.ledger_path, env=CREDS)
    assert lines_per_voucher(app) == {1: 2, 2: 2, 3: 2, 4: 1}  # what the run was given ids for is removed
    assert undone.exit_code == 3 and undone.removed == 8, undone
    assert undone.refused_doubled_count == 6, undone
    doubled = sorted(item["group"] for item in undone.refused_stored if item.get("double"))
    assert doubled == [f"voucher {v} (journal 1)" for v in (1, 1, 2, 2, 3, 3)], undone.refused_stored
    assert "6 entries of groups the run loaded, which it did not create, are left" in undone.reason, undone.reason


async def test_a_refusal_answered_after_another_answer_showed_numbers_not_to_grow_is_looked_for_there(
    tmp_path: Path,
) -> None:
    """Found by a tester (t58a): two calls at a time into a server numbering downwards (seed 002 promises entry
    numbers only to be unique). The refused call left once the first answers were in, so the run knew the newest
    number then; its refusal stored vouchers 11, 12 and line 1 of 13, all numbered below it. The answer of the call
    sent beside it showed the journal's numbers not to grow before the refusal was answered, but the look still began
    at the newest number the call left with, found nothing, and sent vouchers 11 and 12 again: each in the journal
    twice. The look begins where the run knows by then that what the call stored may lie."""
    data = tmp_path / "e.csv"
    entries(data, 20, (13,))  # 4 calls of 5 vouchers; the third refused for voucher 13 (its line 2)
    app = make_app(Opts(numbering="desc", refusal_stores="before-bad"))
    gate, answered = asyncio.Event(), 0

    @web.middleware
    async def refusal_answered_late(request: web.Request, handler: Any) -> web.StreamResponse:
        """The refusal is answered once the calls sent beside and after it are (events, no clock)."""
        nonlocal answered
        response = await handler(request)
        if request.method == "POST" and response.status == 400:
            await gate.wait()
        elif request.method == "POST":
            answered += 1
            if answered == 3:
                gate.set()
        return response

    app.middlewares.insert(0, refusal_answered_late)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            rejects = str(tmp_path / "rejects.csv")
            job = economic_job(data, origin, tmp_path / "run.sqlite", rejects=rejects, batch_size=10, concurrency=2)
            report = await load(job, env=CREDS, raise_on_stop=False)
    stored = lines_per_voucher(app)
    assert {v: n for v, n in stored.items() if n != 2} == {13: 1}, (stored, report.reconcile)
    # vouchers 11 and 12 found whole (loaded as found); voucher 13 rejected, its line 1 named (rejected_found)
    assert report.loaded == 38 and report.rejected == 2 and report.in_doubt == 0, report
    assert report.reconcile is not None and report.reconcile.duplicates_count == 0, report.reconcile
    assert report.reconcile.rejected_found_count == 1, report.reconcile
