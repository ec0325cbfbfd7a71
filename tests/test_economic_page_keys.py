"""A cursor page of `GET /draft-entries` that gives its entries, or its cursor, under a key in another case than
seed 002's `items` and `cursor` (`Items`, `Cursor`, as a .NET server may write them) is refused as an answer not as
documented, naming the key: before, such a page was read as empty and the last, and the run said its 60 entries were
"no longer in the journals (missing): booked or deleted since", exit 3, all of them held by the API (tester t71c),
a message that invites loading them again. The e-conomic sandbox on loopback, its cursor pages re-keyed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest
from aiohttp import web
from conftest import CREDS, economic_job, serving, write_entries

from bulkload import load
from bulkload.sandbox import SandboxOptions, build_app


def rekeyed(keys: dict[str, str]) -> web.Application:
    """The sandbox whose cursor pages name `items` and `cursor` as `keys` says."""
    app = build_app("economic", SandboxOptions(page_size=5))

    @web.middleware
    async def other_case(request: web.Request, handler: Any) -> web.StreamResponse:
        answer = await handler(request)
        if request.method != "GET" or not request.path.endswith("/draft-entries") or answer.status != 200:
            return answer  # type: ignore[no-any-return]
        assert isinstance(answer, web.Response) and isinstance(answer.body, bytes)
        page = json.loads(answer.body)
        return web.json_response({keys.get(key, key): value for key, value in page.items()})

    app.middlewares.append(other_case)
    return app


@pytest.mark.parametrize("key", ["Items", "Cursor"])
async def test_a_page_naming_its_entries_or_cursor_in_another_case_is_refused_not_read_as_empty(
    tmp_path: Path, key: str
) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 15)  # 30 entries
    with anyio.fail_after(60):
        async with serving(rekeyed({key.lower(): key})) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite", batch_size=10)
            report = await load(job, env=CREDS, raise_on_stop=False)
    assert report.loaded == 30 and report.exit_code == 4 and report.status == "stopped", report
    assert f"gives its {key.lower()} under the key '{key}'" in report.stop_reason, report.stop_reason
    assert not (report.reconcile or {}).get("missing"), report.reconcile
