"""A 5xx with Retry-After (RFC 9110 §10.2.3: with a 503, how long the service is expected to be unavailable) is
waited for: one asking longer than a call may wait (600 s in all) stops the run at once, naming the wait, exit 4,
resumable, the chunk not sent again meanwhile. Before, the Retry-After of a 5xx was not read: a 503 asking for 20 s
was sent again 9 times in 41 s and given up on as "HTTP 503: Service unavailable" (tester t70e). The e-conomic
sandbox on loopback, its bulk creates answered 503 with a Retry-After of an hour; judged by the calls it was sent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
from aiohttp import web
from conftest import CREDS, economic_job, serving, write_entries

from bulkload import load, resume
from bulkload.sandbox import SandboxOptions, build_app


def unavailable_for_an_hour(posts: list[int], served: dict[str, bool]) -> web.Application:
    app = build_app("economic", SandboxOptions())

    @web.middleware
    async def hostile(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.method == "POST" and request.path.endswith("/draft-entries/bulk"):
            posts.append(1)
            if not served["again"]:
                return web.json_response(
                    {"message": "down for maintenance"}, status=503, headers={"Retry-After": "3600"}
                )
        return await handler(request)  # type: ignore[no-any-return]

    app.middlewares.append(hostile)
    return app


async def test_a_503_asking_to_wait_longer_than_a_call_waits_stops_at_once_and_resumes(tmp_path: Path) -> None:
    data = tmp_path / "entries.csv"
    write_entries(data, 5)  # 10 entries: one call
    posts: list[int] = []
    served = {"again": False}
    with anyio.fail_after(60):
        async with serving(unavailable_for_an_hour(posts, served)) as origin:
            job = economic_job(data, origin, tmp_path / "l.sqlite")
            report = await load(job, env=CREDS, raise_on_stop=False)
            assert report.exit_code == 4 and report.status == "stopped", report.stop_reason
            assert "HTTP 503: down for maintenance (the API asked to wait 3600 s" in report.stop_reason
            assert "longer than bulkload waits for a call: 600 s in all" in report.stop_reason
            assert len(posts) == 1  # not sent again while the API said it is down
            served["again"] = True
            again = await resume(tmp_path / "l.sqlite", env=CREDS)
    assert again.exit_code == 0 and again.loaded == 10 and again.reconcile is not None and again.reconcile.ok, again
