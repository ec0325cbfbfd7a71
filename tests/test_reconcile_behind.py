"""Reconciliation behind the load, against the real e-conomic sandbox app on loopback through the real client.

The sandbox keeps a log of the requests it answered (a middleware of this test, innermost, so a request is logged
once its handler is done): that log, not a clock, shows the walk's GETs among the load's POSTs. Each run is
bounded: a few thousand rows, tens of calls, the sandbox's own per-request limits of the test client."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import web
from conftest import CREDS, serving, write_entries

from bulkload import Job, load, reconcile
from bulkload.results import Report
from bulkload.sandbox import SandboxOptions
from bulkload.sandbox.economic import ECONOMIC_KEY, create_app
from bulkload.sandbox.economic_model import DraftEntry
from bulkload.sandbox.economic_store import EntryStore
from bulkload.sandbox.economic_web import PREFIX

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: 1,500 two-line vouchers: 3,000 entries, 30 calls of 100, the walk's claims 1,000 entry numbers each
VOUCHERS = 1_500


class Logged:
    """The sandbox's answered requests in order: ("POST", "") for a bulk create, ("GET", "FILTER cursor=C") for a
    walk's page, ("COUNT", "") for a count; `after_walk` is called with each walk page's filter once answered."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []
        self.after_walk: Callable[[str], None] = lambda flt: None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        path = request.path.removeprefix(PREFIX)
        if request.method == "POST" and path == "/draft-entries/bulk" and response.status == 201:
            self.log.append(("POST", ""))
        elif request.method == "GET" and path == "/draft-entries" and response.status == 200:
            flt = request.query.get("filter", "")
            self.log.append(("GET", f"{flt} cursor={request.query.get('cursor', '')}"))
            self.after_walk(flt)
        elif request.method == "GET" and path == "/draft-entries/count":
            self.log.append(("COUNT", ""))
        return response

    def walks_before_last_post(self) -> int:
        last_post = max(i for i, (what, _) in enumerate(self.log) if what == "POST")
        return sum(1 for what, _ in self.log[:last_post] if what == "GET")


def sandbox(options: SandboxOptions) -> tuple[web.Application, Logged, EntryStore]:
    app = create_app(options)
    logged = Logged()
    app.middlewares.append(logged.middleware)
    return app, logged, app[ECONOMIC_KEY].store


def job(tmp_path: Path, data: Path, url: str, name: str = "run") -> Job:
    return Job(
        target="economic",
        files=[str(data)],
        base_url=url,
        ledger=str(tmp_path / f"{name}.sqlite"),
        rejects=str(tmp_path / f"{name}.rejects.csv"),
        report=str(tmp_path / f"{name}.json"),
        batch_size=100,
        concurrency=4,
        timeout_s=10,
    )


def reconciled(report: Report) -> dict[str, Any]:
    assert report.reconcile is not None
    out: dict[str, Any] = msgspec.to_builtins(report.reconcile)
    return out


def as_walked(report: Report) -> dict[str, Any]:
    """`reconciled` but for the note a walk behind the load adds (test_walk_behind_edits): what the walk found."""
    out = reconciled(report)
    if out.get("note", "").startswith("walked behind the load:"):
        del out["note"]
    return out


def entries_listed(store: EntryStore, journal: int = 1) -> list[DraftEntry]:
    return [e for n in sorted(store.entries) if (e := store.get(n)) is not None and e.journalNumber == journal]


async def test_the_walk_goes_behind_the_load_and_reconciles_as_a_walk_after_it(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    totals = write_entries(data, VOUCHERS)
    app, logged, store = sandbox(SandboxOptions(latency_ms=5))
    async with serving(app) as origin:
        report = await load(job(tmp_path, data, origin + PREFIX), env=CREDS)
        assert report.loaded == totals["rows"] and report.status == "complete", report.stop_reason
        # the walk's pages went out while the load's calls did: by the order the sandbox answered them
        assert logged.walks_before_last_post() >= 1, logged.log
        # every page walked once: claims of 1,000 entry numbers, the last one open-ended (what lands above too;
        # empty when the last answer's range was claimed before the load was done)
        walked = [flt for what, flt in logged.log if what == "GET"]
        assert len(walked) == len(set(walked)) and len(walked) in (3, 4), walked
        assert "lte" not in walked[-1] and sum("lte" not in flt for flt in walked) == 1, walked
        # the same ledger reconciled by a walk after the load (`bulkload reconcile`) gives the same section
        after = await reconcile(str(tmp_path / "run.sqlite"), env=CREDS)
    assert as_walked(report) == reconciled(after)
    assert reconciled(report)["ok"] and reconciled(report)["remote_count"] == totals["rows"]
    assert len(entries_listed(store)) == totals["rows"]


async def test_answers_lost_after_their_commit_are_still_found_behind_the_load(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    totals = write_entries(data, VOUCHERS)
    # commit then drop: a tenth of the calls land and lose their answer; the retry (same key) gets the stored one
    app, logged, store = sandbox(SandboxOptions(latency_ms=5, drop_rate=0.1, seed=7))
    async with serving(app) as origin:
        report = await load(job(tmp_path, data, origin + PREFIX), env=CREDS)
    assert report.loaded == totals["rows"], report.stop_reason
    assert logged.walks_before_last_post() >= 1, logged.log
    rec = reconciled(report)
    assert rec["ok"] and rec["missing"] == [] and rec["duplicates"] == [] and rec["walk_repeated_ids"] == 0, rec
    assert rec["remote_count"] == len(entries_listed(store)) == totals["rows"]


async def test_two_journals_under_server_errors_reconcile_as_a_walk_after_the_load(tmp_path: Path) -> None:
    one, two = tmp_path / "j1.csv", tmp_path / "j2.csv"
    rows = write_entries(one, 800)["rows"] + write_entries(two, 800, journal=2, seed=2)["rows"]
    app, logged, store = sandbox(SandboxOptions(latency_ms=5, fault_rate=0.05, seed=3))  # walks' GETs fail too
    async with serving(app) as origin:
        both = dataclasses.replace(job(tmp_path, one, origin + PREFIX), files=[str(one), str(two)])
        report = await load(both, env=CREDS)
        assert report.loaded == rows, report.stop_reason
        after = await reconcile(str(tmp_path / "run.sqlite"), env=CREDS)
    assert logged.walks_before_last_post() >= 1, logged.log
    assert as_walked(report) == reconciled(after) and reconciled(report)["ok"]
    assert set(reconciled(report)["scopes"]) == {"1", "2"}


async def sandbox_gets(origin: str) -> int:
    """The GETs the sandbox at `origin` answered so far (its stats)."""
    async with aiohttp.ClientSession() as s, s.get(origin + "/_sandbox/stats") as r:
        return int((await r.json())["by_method"].get("GET", {}).get("requests", 0))


async def test_a_journal_whose_entry_numbers_begin_far_above_its_baseline_costs_the_walks_a_few_calls(
    tmp_path: Path,
) -> None:
    # entry numbers are the agreement's (seed 002: "the unique number of the entry"): a quiet journal's entries of
    # this run begin 5 million numbers above its last one. Before, the walk behind claimed 1,000 numbers a call:
    # 5,001 GETs for 4 rows (at 60 million, the day's fair use of the agreement)
    data = tmp_path / "e.csv"
    totals = write_entries(data, 2)
    app, logged, store = sandbox(SandboxOptions(first_entry_number=5_000_000))
    async with serving(app) as origin:
        report = await load(job(tmp_path, data, origin + PREFIX), env=CREDS)
        loaded, walks = await sandbox_gets(origin), [flt for what, flt in logged.log if what == "GET"]
        after = await reconcile(str(tmp_path / "run.sqlite"), env=CREDS)
        again = await sandbox_gets(origin) - loaded
    assert report.loaded == totals["rows"] and reconciled(report)["ok"], report.stop_reason
    assert min(store.entries) == 5_000_000
    # the load's GETs: the baseline's count and newest entry, the look for vouchers already there, the walks (the
    # numbers below the run's first entry in one claim, the rest after the load) and the count after it
    assert len(walks) == 2 and "$lte:4999999 " in walks[0] and loaded <= 6, (loaded, walks)
    # `bulkload reconcile` walks from the baseline in at most --concurrency ranges side by side, and counts
    assert reconciled(after) == as_walked(report) and again <= 4 + 1, again


def land_late(store: EntryStore, number: int, entry: DraftEntry) -> None:
    """Commit `entry` under `number`, an entry number reserved before larger ones were given (as a database
    sequence does for a transaction that commits late): it shows up in a range a walk may have passed."""
    given = store.next_number
    store.next_number = number
    store.add([entry])
    store.next_number = given
    store._numbers.sort()
    store._by_journal[entry.journalNumber].sort()


async def test_a_write_that_lands_where_the_walk_had_passed_is_still_found(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    totals = write_entries(data, VOUCHERS)
    app, logged, store = sandbox(SandboxOptions(latency_ms=5))
    reserved = 1  # before the load's first call: the load's entries are numbered from 2
    store.next_number = reserved + 1
    late = DraftEntry(
        entryTypeNumber=5, voucherNumber=99_999, journalNumber=1, date="2026-11-02", amount=Decimal("10.00"),
        currency="DKK", accountNumber=1010,
    )  # fmt: skip
    landed: list[str] = []

    def after_walk(flt: str) -> None:
        # the first page of a walk over the reserved number has been answered (without it): now it lands
        if not landed and "entryNumber$gt:0" in flt:
            land_late(store, reserved, late)
            landed.append(flt)

    logged.after_walk = after_walk
    async with serving(app) as origin:
        report = await load(job(tmp_path, data, origin + PREFIX), env=CREDS)
    assert landed and logged.walks_before_last_post() >= 1, logged.log
    rec = reconciled(report)
    # found as a walk after the load finds it: one entry of a voucher this run never sent (another writer's), and
    # the counts say so: remote = there before + loaded + added by others
    assert [o["id"] for o in rec["others"]] == [reserved] and rec["duplicates"] == [], rec
    assert (rec["expected_count"], rec["remote_count"], rec["others_count"]) == (totals["rows"], totals["rows"] + 1, 1)
    assert rec["ok"] and rec["missing"] == [] and rec["walk_repeated_ids"] == 0
    # the count told the walk behind it had missed one: the range was walked again from the baseline
    firsts = [flt for what, flt in logged.log if what == "GET" and "entryNumber$gt:0" in flt and flt.endswith("=")]
    assert len(firsts) == 2, logged.log


def test_the_walk_behind_claims_each_range_once() -> None:
    # pure logic: claims go in order, never overlap, stay below the newest id an answer gave, and widen where a
    # scope's ids are sparse (other scopes' records take the numbers between)
    from types import SimpleNamespace

    from bulkload.walks import CLAIM_IDS, Behind

    walked = SimpleNamespace(listed={})
    behind = Behind(walked, {"1": {"max_id": 10, "count": 3}}, chains=2, after_load=2)  # type: ignore[arg-type]
    assert behind._claim() is None  # nothing answered yet
    behind.created([10 + 2 * CLAIM_IDS + 5, 12], ["1"])
    claims = [behind._claim() for _ in range(3)]
    assert claims == [("1", 10, 10 + CLAIM_IDS, "width"), ("1", 10 + CLAIM_IDS, 10 + 2 * CLAIM_IDS, "width"), None]
    assert behind.left(["1", "2"], 10 + 2 * CLAIM_IDS + 5, 8, {}) == [("1", 10 + 2 * CLAIM_IDS, None), ("2", 0, None)]
    # scope 2 never walked, 1,500 of the run's records in it: two ranges, about a page each, walked side by side
    left = behind.left(["2"], 10 + 2 * CLAIM_IDS + 5, 8, {"2": 1_500})
    assert left == [("2", 0, (10 + 2 * CLAIM_IDS + 5) // 2), ("2", (10 + 2 * CLAIM_IDS + 5) // 2, None)]
    behind.finish(10 + 3 * CLAIM_IDS + 7)  # loaded: the ledger knows of a newer id (an earlier process's)
    assert [behind._claim(), behind._claim()] == [("1", 10 + 2 * CLAIM_IDS, 10 + 3 * CLAIM_IDS, "width"), None]
    # less than a page is left, walked after the counts (which bound it) with the open end above the newest
    assert behind.left(["1"], 10 + 3 * CLAIM_IDS + 7, 8, {"1": 3 * CLAIM_IDS}) == [("1", 10 + 3 * CLAIM_IDS, None)]
    # a scope whose walks listed one record in three ids claims three pages' worth of ids (95 % of it)
    behind.found["1"], behind.spanned["1"] = 2 * CLAIM_IDS, 6 * CLAIM_IDS
    assert behind._width("1") == int(CLAIM_IDS * 3 * 0.95)


def claims_made(behind: Any, answers: list[tuple[list[int], list[str]]], listed: Callable[[str, int, int], int]) -> int:
    """Feed `behind` the answers one by one, each followed by every claim it then makes (walked at once, listing
    `listed(scope, after, upto)` records), then `finish` it; the claims made in all."""
    from bulkload.walks import Behind

    assert isinstance(behind, Behind)
    n = 0

    def claim_all() -> None:
        nonlocal n
        while (claim := behind._claim()) is not None:
            scope, after, upto, sized = claim
            n += 1
            assert n < 10_000, "claims without end"
            behind._walked(scope, upto - after, listed(scope, after, upto), sized)

    for ids, scopes in answers:
        behind.created(ids, scopes)
        claim_all()
    behind.finish(behind.newest)
    claim_all()
    return n


def test_a_gap_of_entry_numbers_costs_the_walk_behind_a_claim_or_a_few_not_one_a_thousand() -> None:
    # entry numbers are the agreement's: a quiet journal's next entries may be 60 million numbers above its last
    # one. Before, claims of 1,000 numbers walked the gap at a call each: 60,000 calls, the day's quota for 4 rows
    from types import SimpleNamespace

    from bulkload.walks import CLAIM_IDS, Behind

    start = 60_000_000
    behind = Behind(SimpleNamespace(listed={}), {"1": {"max_id": 100}}, chains=8, after_load=8)  # type: ignore[arg-type]
    behind.created(list(range(start, start + 4)), ["1"])
    # the numbers below the run's first entry hold none of its records: one claim, then less than a page is left
    assert [behind._claim(), behind._claim()] == [("1", 100, start - 1, "gap"), None]
    behind.finish(start + 3)
    assert behind._claim() is None and behind.left(["1"], start + 3, 8, {"1": 4}) == [("1", start - 1, None)]

    # a journal of the run that gets none of its records while another journal's take a million numbers: its claims
    # double as they find nothing, a call each time the numbers passed by double; the busy one's list a page each
    ours = {"1": range(start, start + 1_000_000), "2": range(start + 1_000_000, start + 1_000_004)}

    def listed(scope: str, after: int, upto: int) -> int:
        mine = ours[scope]
        return max(0, min(upto, mine[-1]) - max(after + 1, mine[0]) + 1)

    behind = Behind(SimpleNamespace(listed={}), {"1": {"max_id": 7}, "2": {"max_id": 9}}, 8, 8)  # type: ignore[arg-type]
    answers = [(list(range(lo, lo + 500)), ["1"]) for lo in range(start, start + 1_000_000, 500)]
    made = claims_made(behind, [*answers, (list(ours["2"]), ["2"])], listed)
    pages = 1_000_000 // CLAIM_IDS
    assert made <= pages + 2 * 20, made  # 2 ** 20 > a million: the gaps of journal 2 cost at most 20 more
    assert made >= pages, made


def test_a_resumed_load_walks_what_earlier_processes_created_by_claims_that_double_across_gaps() -> None:
    # resumed a day later in a busy agreement: the earlier process's 1,000 entries at 1..1,000, the next one's at 60
    # million, this one's at 120 million; of the earlier ones the walk behind knows only that they lie below its
    # floor (the newest id the ledger holds)
    from types import SimpleNamespace

    from bulkload.walks import Behind

    ours = [range(1, 1_001), range(60_000_000, 60_001_000), range(120_000_000, 120_001_000)]

    def listed(scope: str, after: int, upto: int) -> int:
        return sum(max(0, min(upto, r[-1]) - max(after + 1, r[0]) + 1) for r in ours)

    behind = Behind(SimpleNamespace(listed={}), {"1": {"max_id": 0}}, 8, 8, floor=60_000_999)  # type: ignore[arg-type]
    answers = [(list(range(lo, lo + 500)), ["1"]) for lo in range(120_000_000, 120_001_000, 500)]
    assert claims_made(behind, answers, listed) <= 3 * 2 + 2 * 27, "2 ** 27 > 120 million"


async def test_the_walk_after_the_load_takes_the_rate_slots_ahead_not_late_by_each_wake_up() -> None:
    """After the last upload no call is left to give way to. Giving way, a walk's call took its slot only once it
    was due, and the event loop wakes a sleeper late (here 5 ms, as a busy loop decoding and inserting pages does):
    each page left late and the next was spaced from there, 55 ms apart at 20/s (the walk after the load of
    e-conomic at 20/s with 100 ms latency went at 18-19/s). Now the calls after `finish` take the next slots
    ahead, 50 ms apart whatever the wake-ups."""
    from types import SimpleNamespace

    import pytest
    from virtual_time import VirtualTime

    from bulkload.limits import Limits
    from bulkload.meters import DailyQuota, RateMeter
    from bulkload.walks import CLAIM_IDS, Behind

    clock = VirtualTime()

    async def late(seconds: float) -> None:
        await clock.sleep(seconds + 0.005)

    limits = Limits(quota=DailyQuota(1000, clock=clock), rate=RateMeter(20.0, clock=clock, sleep=late))
    starts: list[float] = []

    async def walk(scope: str, after: int, upto: int) -> int:
        limits.answered(await limits.acquire())
        starts.append(clock())
        await clock.sleep(0.1)  # the round trip
        return upto - after

    behind = Behind(SimpleNamespace(listed={}, walk=walk), {"1": {"max_id": 0}}, 2, 2)  # type: ignore[arg-type]
    behind.created([1, 20 * CLAIM_IDS], ["1"])
    behind.finish(20 * CLAIM_IDS)
    async with clock.running():
        await behind.follow()
    assert len(starts) == 20
    # the first call went at once, the second woke 5 ms late; from there every slot was taken ahead of its time
    assert [b - a for a, b in zip(starts[1:], starts[2:])] == pytest.approx([0.05] * 18)
    assert limits.held == 0
