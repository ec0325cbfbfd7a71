"""A cursor walk that would never end stops at once, naming the page and the cursor: a hostile e-conomic on
loopback (the sandbox with its cursors tampered with) whose cursor loops, goes back, or leads to empty pages
forever. Judged by the calls the server counted. And one that gets somewhere through empty pages under a cursor that
advances (seed 002 never says a page with a cursor holds an item) goes on to its end."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from aiohttp import web
from conftest import CREDS, economic_job, serving, write_entries
from economic_independent_server import STORE, Opts, add_other, make_app
from test_reconcile_refused import entries

from bulkload import load, rollback
from bulkload.cursors import CursorTrail
from bulkload.errors import WalkStalled
from bulkload.sandbox.hostile import Tamper, going_back, looping, tampered


def empty_forever(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    return {"items": [], "cursor": str(asked + 1000)} if asked >= 1000 or "cursor" in page else page


def last_item_cursor(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    """A cursor that is the page's own last entry number on every page that lists one, the last page too (seed 002:
    a last page gives no cursor): the sandbox's cursor is inclusive, so each page starts with the last one's end
    again, and the walk's end is a page that lists only that entry under the cursor that led to it."""
    return {**page, "cursor": str(page["items"][-1]["entryNumber"])} if page["items"] else page


def stuck_on_one(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    """`last_item_cursor` whose second page lists only the first page's last entry again, under the cursor that
    led to it: the same page for ever, with entries left past it."""
    page = last_item_cursor(asked, page)
    return {"items": page["items"][:1], "cursor": str(asked)} if asked and page["items"] else page


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        (looping, "that page 1 gave already: the API's cursor loops"),
        (going_back, "went back"),
        (
            empty_forever,
            "brought nothing new (empty, or the entries the page before listed), each with a cursor to one more",
        ),
        (
            stuck_on_one,
            "brings nothing new and gives the cursor that led to it again ('5' (1 characters)), and the API "
            "counts 25 records past id 5",
        ),
    ],
)
async def test_a_walk_that_would_not_end_stops_with_exit_4(tmp_path: Path, tamper: Tamper, said: str) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 15)  # 30 entries: 6 pages
    counted = {"pages": 0}
    with anyio.fail_after(30):
        async with serving(tampered(tamper, counted)) as origin:
            job = economic_job(
                data,
                origin,
                tmp_path / "l.sqlite",
                rejects=str(tmp_path / "r.csv"),
                report=str(tmp_path / "report.json"),
                batch_size=10,
            )
            report = await load(job, env=CREDS, raise_on_stop=False)
            async with aiohttp.ClientSession() as s, s.get(origin + "/_sandbox/stats") as r:
                served = (await r.json())["requests"]
    assert report.loaded == 30 and report.exit_code == 4 and report.status == "stopped"
    assert "reconciliation could not finish" in report.stop_reason and said in report.stop_reason
    assert "journal 1" in report.stop_reason and re.search(r"pages? \d", report.stop_reason)
    # its way on names the ledger, as every stop's does (found by a tester: "run `bulkload reconcile`")
    assert report.stop_reason.endswith(f"; continue with `bulkload reconcile --ledger {tmp_path / 'l.sqlite'}`")
    # the skip-existing look, then at most the walk's pages and a few empty ones before it gave up
    assert counted["pages"] <= 12, counted
    assert served <= 20


def test_a_cursor_is_named_in_part_and_without_credentials() -> None:
    from bulkload import redact

    redact.register("secret-grant-token")
    trail = CursorTrail("the walk of journal 1")
    cursor = "secret-grant-token" + "x" * 100
    trail.page([1, 2], cursor)
    with pytest.raises(WalkStalled) as caught:
        trail.page([3, 4], cursor)
    assert "secret-grant-token" not in str(caught.value) and "secret" not in str(caught.value)
    assert "page 2 gave the cursor '***" in str(caught.value) and "(118 characters)" in str(caught.value)


def endless(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    """Pages of made-up entries, ascending, each under a new cursor: only the count can tell the walk is wrong."""
    if "cursor" not in page and not asked:
        return page
    start = 10_000 + asked * 100
    items = [{**page["items"][0], "entryNumber": n} for n in range(start, start + 100)] if page["items"] else []
    return {"items": items, "cursor": str(asked + 1)}


async def test_a_walk_that_lists_more_than_the_count_stops(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 15)
    counted = {"pages": 0}

    def only_the_walk(asked: int, page: dict[str, Any]) -> dict[str, Any]:
        return endless(asked, page) if page["items"] and page["items"][0]["journalNumber"] == 1 else page

    with anyio.fail_after(30):
        async with serving(tampered(only_the_walk, counted)) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite", rejects=str(tmp_path / "r.csv"), batch_size=10)
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.exit_code == 4
    assert re.search(r"the walk of journal 1 listed 1,\d{3} records where the API counts 30", report.stop_reason)
    # 30 entries counted, a page of slack: 1,030 entries at 100 a page
    assert counted["pages"] <= 14, counted


def test_a_page_that_starts_with_the_last_page_s_end_again_is_followed_without_the_repeats() -> None:
    """A server that takes seed 002's "the cursor represents the identifier of the first item on the next set" to
    include an item it gave already: each page starts with the last page's end again, and brings new ids beyond."""
    trail = CursorTrail("the walk of journal 1")
    assert trail.page([1, 2, 3], "a") == set()
    assert trail.page([3, 4, 5], "b") == {3}
    assert trail.page([4, 5, 6, 7], "c") == {4, 5}  # more than one repeated: all of the last page's
    assert trail.page([7, 8], "") == {7}  # the last page too
    assert trail.listed == 8


def test_a_page_listed_newest_first_that_lists_the_last_page_s_end_again_is_followed_without_the_repeats() -> None:
    """Seed 002 gives no order within a page: a server listing each page newest first, whose cursor is the number of
    the page's own newest entry, lists that entry again at the end of the next page. Before, only repeats at a
    page's start were dropped: tester t40b's pages [3, 2, 1], [5, 4, 3], [7, 6, 5] were counted as 9 entries for 7,
    and reconciliation named ids listed twice (exit 3) on every run."""
    trail = CursorTrail("the walk of journal 1")
    assert trail.page([3, 2, 1], "3") == set()
    assert trail.page([5, 4, 3], "5") == {3}
    assert trail.page([7, 6, 5], "") == {5}
    assert trail.listed == 7


@pytest.mark.parametrize(
    ("pages", "said"),
    [
        ([[1, 2, 3], [0, 3, 4]], "went back (it lists id 0 after page 1 ended at 3"),  # further back than page 1
        ([[1, 2, 3], [3, 4, 5], [2, 5, 6]], "went back (it lists id 2 after page 2 ended at 5"),
    ],
)
def test_a_page_that_goes_further_back_still_stops(pages: list[list[int]], said: str) -> None:
    trail = CursorTrail("the walk of journal 1")
    with pytest.raises(WalkStalled) as caught:
        for i, ids in enumerate(pages):
            trail.page(ids, f"c{i}")
    assert said in str(caught.value) and f"page {len(pages)}" in str(caught.value)


def test_pages_of_repeats_only_under_new_cursors_are_followed_as_empty_pages_and_asked_about() -> None:
    """A page that lists only ids the page before listed, under a new cursor, brings nothing new, as an empty page
    does (a windowed server's window whose only entry of the journal is the one its cursor came back to): followed,
    and once four such pages come in a row the API is asked what lies past the last id listed. Before, the walk
    stopped at the first ("lists only ids the walk listed already")."""
    trail = CursorTrail("the walk of journal 1")
    assert trail.page([1, 2, 3], "3") == set()
    assert trail.page([3], "7") == {3} and trail.asking is None  # followed
    assert trail.page([2, 3], "11") == {2, 3}
    assert trail.page([], "15") == set()
    assert trail.page([3], "19") == {3} and trail.asking == "19"  # four pages of nothing new
    trail.ahead(2)  # two past the cursor: going on
    assert trail.page([3, 20, 21], "21") == {3} and trail.listed == 5 and trail.asking is None
    # cursors that are new but never further: asked past the last id listed, not at the cursor (which counts it)
    trail = CursorTrail("the walk of journal 1")
    trail.page([1, 2, 3], "3")
    for cursor in ("03", "003", "0003", "00003"):
        trail.page([3], cursor)
    assert trail.asking == "4"
    with pytest.raises(WalkStalled) as caught:
        trail.ahead(0)
    assert "pages 2-5" in str(caught.value) and "the API counts no record left to list" in str(caught.value)


def overlapping(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    """A cursor that is the number of the page's own last entry: the next page starts with it again (the sandbox's
    cursor is the number of the first entry of the next page, inclusive)."""
    return {**page, "cursor": str(page["items"][-1]["entryNumber"])} if "cursor" in page else page


def overlapping_newest_first(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    """`overlapping`, each page's entries listed newest first (seed 002 gives no order within a page): the entry a
    page repeats is its last."""
    page = overlapping(asked, page)
    return {**page, "items": page["items"][::-1]} if page.get("items") else page


# last_item_cursor: its last page gives a cursor too, which leads to a page of that entry alone under the same
# cursor; the walk stopped there ("lists only ids the walk listed already"), every load and `bulkload reconcile`
# exiting 4. The API counting nothing past that entry, it is the walk's end: one count more, reconciled
@pytest.mark.parametrize("tamper", [overlapping, overlapping_newest_first, last_item_cursor])
async def test_pages_that_overlap_by_an_entry_reconcile_with_nothing_counted_twice(
    tmp_path: Path, tamper: Tamper
) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 15)  # 30 entries: 8 pages of 4 new ones each
    counted = {"pages": 0}
    with anyio.fail_after(30):
        async with serving(tampered(tamper, counted)) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite", rejects=str(tmp_path / "r.csv"), batch_size=10)
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.exit_code == 0 and report.loaded == 30, report.stop_reason
    rec = report.reconcile
    assert rec.ok and rec.remote_count == rec.expected_count == 30 and rec.walk_repeated_ids == 0
    assert rec.remote_totals["per_scope"] == rec.expected_totals["per_scope"]
    assert rec.missing_count == rec.duplicates_count == 0
    assert counted["pages"] >= 8  # 5 entries, then 4 new ones a page: the walks followed the overlapping pages


async def test_a_walk_through_empty_pages_whose_cursor_advances_reconciles_and_rolls_back(tmp_path: Path) -> None:
    """A server that windows its cursor pages over the agreement's entries and filters each window (the independent
    server's sparse_pages) gives a quiet journal of a busy agreement empty pages under a cursor that advances every
    time (6, 11, 16, …). Before, every walk stopped after four of them ("the walk would not end"): the run's
    reconciliation, `bulkload reconcile` and `bulkload rollback` could never finish (exit 4)."""
    data = tmp_path / "e.csv"
    entries(data, 3, ())
    app = make_app(Opts(page_size=5, sparse_pages=True))
    add_other(app[STORE], 200)  # journal 2: 200 entries of another writer, numbered 1-200: 40 empty pages first
    with anyio.fail_after(30):
        async with serving(app) as origin:
            report = await load(economic_job(data, origin, tmp_path / "run.sqlite"), env=CREDS)
            calls = app[STORE].calls  # type: ignore[attr-defined]
            undone = await rollback(tmp_path / "run.sqlite", env=CREDS)
    assert report.exit_code == 0 and report.reconcile is not None and report.reconcile.ok, report
    assert undone.exit_code == 0 and undone.removed == 6, undone
    assert {e["journalNumber"] for e in app[STORE].entries.values()} == {2}  # type: ignore[attr-defined]
    # the walks' pages (41 each), and a count each time a run of empty pages doubled from 4 (4, 8, 16, 32): bounded
    assert calls < 150, calls


def test_empty_pages_under_new_cursors_ask_the_api_what_is_left_each_time_their_run_doubles() -> None:
    trail = CursorTrail("the walk of journal 1")
    asked = []
    for n in range(1, 40):
        trail.page([], str(5 * n + 1))
        if trail.asking is not None:
            asked.append((n, trail.asking))
            trail.ahead(3)  # 3 entries at or above the cursor: going on
    assert asked == [(4, "21"), (8, "41"), (16, "81"), (32, "161")]
    assert trail.page([201, 202, 203], "") == set() and trail.listed == 3
    trail = CursorTrail("the walk of journal 1")
    for n in range(1, 5):
        trail.page([], str(5 * n + 1))
    with pytest.raises(WalkStalled) as caught:
        trail.ahead(0)  # none left at or above the cursor
    assert (
        "pages 1-4 brought nothing new (empty, or the entries the page before listed), each with a cursor to one more"
        in str(caught.value)
    )
    assert "the API counts no record left to list" in str(caught.value)


def test_a_cursor_that_is_no_number_is_asked_about_by_what_the_walk_listed() -> None:
    trail = CursorTrail("the walk of journal 1")
    trail.page([1, 2], "a")
    for cursor in "bcde":
        trail.page([], cursor)
    assert trail.asking == ""
    trail.ahead(3)  # 3 counted in all, 2 listed: one left
    with pytest.raises(WalkStalled):
        trail.ahead(2)  # both listed: none left


def test_a_page_that_comes_again_under_the_cursor_that_led_to_it_ends_the_walk_only_where_nothing_lies_past_it() -> (
    None
):
    trail = CursorTrail("the walk of journal 1")
    assert trail.page([1, 2, 3], "3") == set() and not trail.repeating
    assert trail.page([3, 4, 5], "5") == {3} and not trail.repeating
    assert trail.page([5], "5") == {5} and trail.repeating
    assert trail.past == "6"  # counted from the entry after the last listed
    trail.ended(0)  # nothing past entry 5: the walk's end
    with pytest.raises(WalkStalled) as caught:
        trail.ended(1)
    assert "page 3 brings nothing new and gives the cursor that led to it again" in str(caught.value)
    assert "the API counts 1 record past id 5" in str(caught.value)
    # empty under the same cursor, before the walk listed anything: counted in all, against what it listed (none)
    trail = CursorTrail("the walk of journal 1")
    trail.page([], "7")
    trail.page([], "7")
    assert trail.repeating and trail.past == ""  # counted in all
    trail.ended(0)
    with pytest.raises(WalkStalled):
        trail.ended(2)


def windows_by_own_last_entry(others: int) -> web.Application:
    """The independent server's windowed pages (sparse_pages: each cursor page a window of 5 of the agreement's
    entries, then filtered) under a cursor that is each window's own last entry number, the last window's too (the
    next window starts with it again, as `last_item_cursor`'s pages do); a busy agreement: another writer adds
    `others` entries to journal 2 after each of the run's creates."""
    app = make_app(Opts(page_size=5, sparse_pages=True))
    store = app[STORE]

    @web.middleware
    async def own_last(request: web.Request, handler: Any) -> web.StreamResponse:
        response = await handler(request)
        if request.method == "POST" and response.status == 201:
            add_other(store, others)  # type: ignore[arg-type]
        if request.method != "GET" or not request.path.endswith("/draft-entries"):
            return response  # type: ignore[no-any-return]
        page = json.loads(response.text)
        newest = max(store.entries, default=0)  # type: ignore[attr-defined]
        if "cursor" in page:
            page["cursor"] = str(int(page["cursor"]) - 1)  # the next window's first entry - 1: this one's last
        elif newest and int(request.query.get("cursor") or 0) <= newest:
            page["cursor"] = str(newest)  # the last window's own last entry
        return web.json_response(page)

    app.middlewares.insert(0, own_last)
    return app


async def test_a_window_that_lists_only_the_entry_its_cursor_came_back_to_is_followed_as_an_empty_page(
    tmp_path: Path,
) -> None:
    """A server that windows its pages over the agreement's entries (as the quiet journal of a busy agreement gets
    empty pages under a cursor that advances) and gives each window's own last entry number as the cursor (as
    `last_item_cursor` does): where a window's last entry is the journal's, the next window lists that entry alone
    again, under a new cursor, and the window after goes on. Such a page brings nothing new, as an empty page does;
    the walk stopped there ("lists only ids the walk listed already"), exit 4, the same on every `bulkload
    reconcile`. Here the run's 10 entries a call and another writer's 5 after each: entry 25 alone in the window
    25-29, under cursor 29."""
    data = tmp_path / "entries.csv"
    write_entries(data, 15)  # 30 entries, 3 calls of 10
    app = windows_by_own_last_entry(5)
    with anyio.fail_after(30):
        async with serving(app) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite", rejects=str(tmp_path / "r.csv"), batch_size=10)
            report = await load(job, env=CREDS, raise_on_stop=False)
            undone = await rollback(tmp_path / "l.sqlite", env=CREDS)
            calls = app[STORE].calls  # type: ignore[attr-defined]
    assert report.exit_code == 0 and report.loaded == 30, report.stop_reason
    rec = report.reconcile
    assert rec.ok and rec.remote_count == rec.expected_count == 30 and rec.walk_repeated_ids == 0
    assert rec.remote_totals["per_scope"] == rec.expected_totals["per_scope"]
    assert undone.exit_code == 0 and undone.removed == 30, undone
    assert {e["journalNumber"] for e in app[STORE].entries.values()} == {2}  # type: ignore[attr-defined]
    assert calls < 100, calls
