"""A cursor walk that would never end stops at once, naming the page and the cursor: a hostile e-conomic on
loopback (the sandbox with its cursors tampered with) whose cursor loops, goes back, or leads to empty pages
forever. Judged by the calls the server counted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import anyio
import pytest
from conftest import CREDS, serving, write_entries

from bulkload import Job, load
from bulkload.cursors import CursorTrail
from bulkload.errors import WalkStalled
from bulkload.sandbox.economic_web import PREFIX
from bulkload.sandbox.hostile import Tamper, going_back, looping, tampered


def empty_forever(asked: int, page: dict[str, Any]) -> dict[str, Any]:
    return {"items": [], "cursor": str(asked + 1000)} if asked >= 1000 or "cursor" in page else page


@pytest.mark.parametrize(
    ("tamper", "said"),
    [
        (looping, "that page 1 gave already: the API's cursor loops"),
        (going_back, "went back"),
        (empty_forever, "were empty, each with a cursor to one more"),
    ],
)
async def test_a_walk_that_would_not_end_stops_with_exit_4(tmp_path: Path, tamper: Tamper, said: str) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 15)  # 30 entries: 6 pages
    counted = {"pages": 0}
    with anyio.fail_after(30):
        async with serving(tampered(tamper, counted)) as origin:
            job = Job(
                target="economic",
                files=[str(data)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "l.sqlite"),
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
    # the skip-existing look, then at most the walk's pages and a few empty ones before it gave up
    assert counted["pages"] <= 12, counted
    assert served <= 20


def test_a_cursor_is_named_in_part_and_without_credentials() -> None:
    from bulkload import redact

    redact.register("secret-grant-token")
    trail = CursorTrail("the walk of journal 1")
    cursor = "secret-grant-token" + "x" * 100
    trail.follow(cursor, [1, 2])
    with pytest.raises(WalkStalled) as caught:
        trail.follow(cursor, [3, 4])
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
            job = Job(
                target="economic",
                files=[str(data)],
                base_url=origin + PREFIX,
                ledger=str(tmp_path / "l.sqlite"),
                rejects=str(tmp_path / "r.csv"),
                batch_size=10,
            )
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.exit_code == 4
    assert re.search(r"the walk of journal 1 listed 1,\d{3} records where the API counts 30", report.stop_reason)
    # 30 entries counted, a page of slack: 1,030 entries at 100 a page
    assert counted["pages"] <= 14, counted
