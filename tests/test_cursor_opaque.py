"""A cursor that is no number, leading to empty pages under a new cursor each time, stops the walk once it has
taken more pages than the agreement holds draft entries (each page of a walk that gets somewhere passes at least
one): before, the walk went on until the agreement's daily quota was spent (tester t70e: 50,000 calls in 37 s,
then "daily quota of 50000 calls reached", the agreement shut out for a day). The e-conomic sandbox on loopback,
its cursor pages tampered with, judged by the pages it served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest
from aiohttp import web
from conftest import CREDS, economic_job, serving, write_entries

from bulkload import load
from bulkload.cursors import CursorTrail
from bulkload.errors import WalkStalled
from bulkload.sandbox import SandboxOptions, build_app


def opaque_empty_forever(counted: dict[str, int]) -> web.Application:
    """The sandbox whose every cursor page is empty, with a new cursor that is no number ("p1", "p2", …)."""
    app = build_app("economic", SandboxOptions(page_size=5))

    @web.middleware
    async def hostile(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "GET" and request.path.endswith("/draft-entries"):
            counted["pages"] += 1
            return web.json_response({"items": [], "cursor": f"p{counted['pages']}"})
        return await handler(request)  # type: ignore[no-any-return]

    app.middlewares.append(hostile)
    return app


async def test_empty_pages_under_new_cursors_that_are_no_number_stop_past_the_agreements_entries(
    tmp_path: Path,
) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 15)  # 30 entries
    counted = {"pages": 0}
    with anyio.fail_after(60):
        async with serving(opaque_empty_forever(counted)) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite", batch_size=10)
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.loaded == 30 and report.exit_code == 4 and report.status == "stopped", report
    assert "reconciliation could not finish" in report.stop_reason
    assert "each with a cursor that is no number" in report.stop_reason
    assert "the API holds 30 records in all" in report.stop_reason
    # a walk of journal 1 stops at the first count past 31 pages (asked at 4, 8, 16, 32): the walks behind the
    # load and after it, a few each
    assert counted["pages"] <= 400, counted


def test_a_cursor_that_is_no_number_is_bounded_by_what_the_api_holds_in_all() -> None:
    trail = CursorTrail("the walk of journal 1")
    for n in range(1, 17):
        trail.page([], f"c{n}")
        if trail.asking is not None:
            trail.ahead(5, in_all=20)  # 5 left to list, 20 in all: 16 pages may still be windows of them
    trail.page([], "c17")
    for n in range(18, 33):
        trail.page([], f"c{n}")
    assert trail.asking == ""
    with pytest.raises(WalkStalled) as caught:
        trail.ahead(5, in_all=20)  # 32 pages, each passing one of 20 records: none gets anywhere
    assert "the API holds 20 records in all: no walk of them takes 32 pages" in str(caught.value)
    assert msgspec.json.encode(str(caught.value))  # a message, of text alone
