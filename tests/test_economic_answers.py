"""e-conomic answers a server written from the API document (seed 002) may give and the sandbox, left alone, does
not: a 400 whose `errors` name the bad entries by an index counted from 1 (seed 002 gives `errors` as `[ ]`, its
items' shape unsaid), and dates listed as the instant of their midnight in Copenhagen written in UTC (seed 002 types
`date` as `string <date-time>`, its sample "2019-08-24T14:15:22Z"). The real sandbox serves each, behind a
middleware that shapes its answers as such a server does."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import msgspec
from aiohttp import web
from conftest import CREDS, serving, write_entries
from test_load_economic import job

from bulkload import load
from bulkload.sandbox import SandboxOptions, build_app
from bulkload.sandbox.economic_web import PREFIX

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
#: what a middleware does to an answer of the sandbox: (request, its JSON body) → the body answered
Shape = Callable[[web.Request, Any], Any]


def economic_app(shape: Shape) -> web.Application:
    """The e-conomic sandbox, each JSON answer of it passed through `shape`."""
    app = build_app("economic", SandboxOptions())

    @web.middleware
    async def shaped(request: web.Request, handler: Handler) -> web.StreamResponse:
        real = await handler(request)
        if not isinstance(real, web.Response) or not isinstance(real.body, bytes) or not real.body:
            return real
        try:
            body = json.loads(real.body)
        except ValueError:
            return real
        answer = msgspec.json.encode(shape(request, body))
        return web.Response(status=real.status, body=answer, content_type=real.content_type)

    app.middlewares.insert(0, shaped)
    return app


def dates_at(hours: int) -> Shape:
    """Entries listed with each date (and due date) as the instant `hours` before its midnight, written in UTC
    ("2026-11-01" at 1 is "2026-10-31T23:00:00Z": midnight in Copenhagen, +01:00)."""

    def instant(text: str) -> str:
        midnight = datetime.combine(date.fromisoformat(text[:10]), datetime.min.time())
        return (midnight - timedelta(hours=hours)).isoformat() + "Z"

    def listed(entry: dict[str, Any]) -> dict[str, Any]:
        return {k: instant(v) if k in ("date", "dueDate") and isinstance(v, str) else v for k, v in entry.items()}

    def shape(request: web.Request, body: Any) -> Any:
        if request.method != "GET" or "/draft-entries" not in request.path:
            return body
        if isinstance(body, list):
            return [listed(e) if isinstance(e, dict) else e for e in body]
        if isinstance(body, dict) and isinstance(body.get("items"), list):
            return {**body, "items": [listed(e) for e in body["items"]]}
        return body

    return shape


async def test_dates_listed_as_their_midnight_in_copenhagen_written_in_utc_reconcile(tmp_path: Path) -> None:
    # found by a tester (a server written from seed 002 listing 2026-11-01 as "2026-10-31T23:00:00Z"): every line
    # was "changed in the API", exit 3, the books right. An instant that is midnight of one date in a zone names
    # that date (dates.listed_day, as Visma Core's answers are read); a later file holding those vouchers again finds
    # them in the journal as they are (skipped, not "with other lines than this file has")
    data, more = tmp_path / "e.csv", tmp_path / "more.csv"
    totals = write_entries(data, 20)
    write_entries(more, 21)  # the same 20 vouchers, and voucher 21
    (tmp_path / "again").mkdir()
    with anyio.fail_after(60):
        async with serving(economic_app(dates_at(1))) as origin:
            report = await load(job(tmp_path, [data], origin + PREFIX), env=CREDS)
            again = await load(job(tmp_path / "again", [more], origin + PREFIX), env=CREDS)
    assert report.reconcile is not None and report.reconcile.ok, report.reconcile
    assert (report.loaded, report.exit_code) == (totals["rows"], 0), report
    assert (again.skipped, again.loaded, again.rejected, again.exit_code) == (totals["rows"], 2, 0, 0), again


async def test_dates_listed_as_the_next_days_midnight_in_copenhagen_are_changed(tmp_path: Path) -> None:
    # "2026-11-01T23:00:00Z" is midnight of 2 November at +01:00: not the date sent
    data = tmp_path / "e.csv"
    write_entries(data, 5)
    with anyio.fail_after(60):
        async with serving(economic_app(dates_at(-23))) as origin:
            report = await load(job(tmp_path, [data], origin + PREFIX), env=CREDS)
    assert report.reconcile is not None and not report.reconcile.ok and report.exit_code == 3, report.reconcile
