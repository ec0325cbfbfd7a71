"""A run whose own entries lie far apart costs its walks about log2 of each gap, not a call per 1,000 numbers.

Seed 002 promises entry numbers only to be unique ("the unique number of the entry"), and they are the agreement's:
with its other journals busy, the entries one bulk create makes may be numbered 100,000 apart, or anywhere. The walk
behind the load claimed the numbers inside an answer's range 1,000 at a time: 20 rows 100,000 apart cost 1,803
`GET /draft-entries`, and 50 rows numbered at random used up the agreement's daily quota (tester t33a, against a
server written from the seed documents). Judged by the requests the sandbox counted
(`--entry-number-step`, `--scattered-numbers`: docs/sandbox.md)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import msgspec
from aiohttp import web
from conftest import CREDS, economic_job, serving, write_entries

from bulkload import load, reconcile, rollback
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app
from bulkload.sandbox.economic_model import DraftEntry
from bulkload.walks import CLAIM_IDS, Behind

STEP = 100_000


async def requests(origin: str) -> int:
    """The requests the sandbox at `origin` answered so far (its stats)."""
    async with aiohttp.ClientSession() as s, s.get(origin + "/_sandbox/stats") as r:
        return int((await r.json())["requests"])


def another_writer(app: web.Application) -> list[int]:
    """With each bulk create the sandbox answers, another writer's entries land in journal 1: one numbered between
    the call's first two entries (committed before the answer goes out, so before any walk can pass it) and one after
    the call's last. Returns the numbers of those entries."""
    store = app[ECONOMIC_KEY].store
    theirs: list[int] = []

    def other() -> DraftEntry:
        return DraftEntry(
            entryTypeNumber=5, voucherNumber=990_000 + len(theirs), journalNumber=1, date="2026-11-02",
            amount=Decimal("7.00"), currency="DKK", accountNumber=1010,
        )  # fmt: skip

    @web.middleware
    async def writer(request: web.Request, handler: Any) -> web.StreamResponse:
        first = store.next_number
        response = await handler(request)
        if request.method == "POST" and request.path.endswith("/draft-entries/bulk") and response.status == 201:
            given = store.next_number
            store.next_number = first + STEP // 2 + len(theirs)  # off the sandbox's numbers: given to no other
            theirs.extend(store.add([other()]))
            store.next_number = given
            store._numbers.sort()
            store._by_journal[1].sort()
            theirs.extend(store.add([other()]))
        return response

    app.middlewares.append(writer)
    return theirs


async def test_entries_numbered_far_apart_cost_the_load_reconcile_and_rollback_a_few_calls(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    totals = write_entries(data, 10)  # 20 rows, 2 calls of 10: each call's entries span 900,000 numbers
    app = create_app(SandboxOptions(entry_number_step=STEP, first_entry_number=1_000_000))
    theirs = another_writer(app)
    ledger = tmp_path / "run.sqlite"
    async with serving(app) as origin:
        job = economic_job(data, origin, ledger, batch_size=10, concurrency=4, daily_quota=400, timeout_s=10)
        report = await load(job, env=CREDS)
        loaded = await requests(origin)
        after = await reconcile(str(ledger), env=CREDS)
        reconciled = await requests(origin) - loaded
        undone = await rollback(str(ledger), env=CREDS)
        rolled = await requests(origin) - loaded - reconciled
    store = app[ECONOMIC_KEY].store
    assert report.loaded == totals["rows"] and report.status == "complete", report.stop_reason
    rec = msgspec.to_builtins(report.reconcile)
    # every number in the walked ranges listed: the other writer's entries between the run's are found and counted
    assert rec["ok"] and rec["missing"] == [] and rec["others_count"] == len(theirs) == 4, rec
    assert rec["remote_count"] == totals["rows"] + len(theirs)
    # before: about 1,900 GETs for the load (a claim of 1,000 numbers a call across 1.9 million; here the daily
    # quota of 400 stopped it, exit 4); 29 requests in all now, of them 2 POSTs
    assert loaded <= 40, loaded
    # `bulkload reconcile` walks from the baseline in at most --concurrency ranges side by side, and counts
    assert msgspec.to_builtins(after.reconcile)["ok"] and reconciled <= 10, reconciled
    # the rollback reads the run's numbers (lowest to highest) in at most --concurrency ranges, then DELETEs each
    assert undone.removed == totals["rows"] and rolled <= totals["rows"] + 10, (rolled, undone)
    assert sorted(store.entries) == sorted(theirs)


async def test_entries_numbered_at_random_do_not_use_up_the_daily_quota(tmp_path: Path) -> None:
    # the tester's random numbering: 50 rows used 50,000 calls (the day's quota), exit 4
    data = tmp_path / "e.csv"
    totals = write_entries(data, 25)
    app = create_app(SandboxOptions(scattered_numbers=True, seed=5))
    async with serving(app) as origin:
        job = economic_job(data, origin, tmp_path / "run.sqlite", batch_size=10, daily_quota=400, timeout_s=10)
        report = await load(job, env=CREDS)
        used = await requests(origin)
    rec = msgspec.to_builtins(report.reconcile)
    assert report.loaded == totals["rows"] and rec["ok"] and rec["missing"] == [], (report.stop_reason, rec)
    assert used <= 80, used  # 2 ** 24 > 10 million: a few dozen claims across the numbers, not 10,000


def claims(ours: range, answer: int) -> int:
    """The claims the walk behind makes where the run's entries are `ours` (one journal, nobody else writing),
    answered `answer` at a time, each claim walked as soon as it is made."""
    behind = Behind(SimpleNamespace(listed={}), {"1": {"max_id": 0}}, 8, 8)  # type: ignore[arg-type]
    n = 0

    def walk_all() -> None:
        nonlocal n
        while (claim := behind._claim()) is not None:
            scope, after, upto, sized = claim
            n += 1
            assert n < 100_000, "claims without end"
            behind._walked(scope, upto - after, _within(ours, after, upto), sized)

    for i in range(0, len(ours), answer):
        behind.created(list(ours[i : i + answer]), ["1"])
        walk_all()
    behind.finish(behind.newest)
    walk_all()
    return n


def _within(ours: range, after: int, upto: int) -> int:
    """How many of `ours` lie in (after, upto]."""
    lo = max(0, -(-(after + 1 - ours.start) // ours.step))
    hi = min(len(ours), (upto - ours.start) // ours.step + 1)
    return max(0, hi - lo)


def test_claims_inside_answers_grow_across_sparse_numbers_and_stay_a_page_where_dense() -> None:
    # consecutive numbers (the common case, the benchmark's): a claim a page, as before
    assert claims(range(1, 200_001), 500) <= 200_000 // CLAIM_IDS + 1
    # 500-entry answers 100,000 numbers apart: each spans 50 million numbers, about log2 of it claims, not 50,000
    assert claims(range(1, 1_000 * STEP, STEP), 500) <= 2 * 30
    # one entry in 100 numbers: claims grow until one lists half a page, and the width learns that density
    assert claims(range(1, 100 * 20_000, 100), 500) <= 2 * 20_000 // CLAIM_IDS
