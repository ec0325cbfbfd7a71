"""A call whose only attempt was answered 429, cut short (SIGTERM, Ctrl-C) while it waits to be sent again, never
landed: its rows are not yet sent, and resume sends them. Before, it was in doubt, "the run was cut short while this
call was being sent: it may have arrived": at Visma Core and PayorCRM, which bulkload cannot look up, its rows stayed
in doubt until the user checked the API by hand and sent them with --resend-in-doubt. Tester t42b's Visma Core
server answered the third create 429 with Retry-After: 30; SIGTERM 2 s later left that entry's 3 rows in doubt."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import anyio
from aiohttp import web
from conftest import bulkload_cmd, child_env, serving
from test_load_visma_core import ENV, created, write

from bulkload.sandbox import SandboxOptions, build_app


async def test_a_call_answered_429_and_cut_short_while_it_waits_is_not_in_doubt(tmp_path: Path) -> None:
    data = write(
        tmp_path / "e.csv",
        [[1001 + i, "FEE", f"{10 + i}.00", f"fee {i}", "", "2026-11-05", ""] for i in range(4)],
    )
    ledger, report = tmp_path / "run.sqlite", tmp_path / "report.json"
    limited = anyio.Event()
    creates = 0

    @web.middleware
    async def third_create_limited(request: web.Request, handler):  # type: ignore[no-untyped-def]
        nonlocal creates
        if request.method == "POST":
            creates += 1
            if creates == 3:  # refused, not carried out: come back in 30 s
                limited.set()
                return web.Response(status=429, text="Too Many Requests", headers={"Retry-After": "30"})
        return await handler(request)

    app = build_app("visma-core", SandboxOptions())
    app.middlewares.append(third_create_limited)
    with anyio.fail_after(90):
        async with serving(app) as url:
            cmd = ["load", "visma-core", str(data), "--base-url", url, "--ledger", str(ledger)]
            args = [*cmd, "--report", str(report), "--concurrency", "1", "--no-progress"]
            proc = await anyio.open_process(bulkload_cmd(*args), env=child_env(ENV))
            try:
                await limited.wait()
                await anyio.sleep(0.5)  # the 429 answered: the call waits out its Retry-After
                proc.send_signal(signal.SIGTERM)
                await proc.wait()
            finally:
                if proc.returncode is None:
                    proc.kill()
            stopped = json.loads(report.read_text())
            resumed = await anyio.to_thread.run_sync(
                lambda: subprocess.run(
                    bulkload_cmd("resume", "--ledger", str(ledger), "--no-progress"),
                    env=child_env(ENV),
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
            )
            held = await created(url)
    assert proc.returncode == 4 and stopped["status"] == "stopped", stopped
    assert (stopped["loaded"], stopped["in_doubt"]) == (2, 0), stopped
    assert not data.with_name("e.csv.in_doubt.csv").exists()
    assert resumed.returncode == 0, resumed.stderr
    assert sorted(e["Description"] for e in held) == [f"fee {i}" for i in range(4)], held
