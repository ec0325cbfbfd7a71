"""Two Visma Core costs loads side by side (found by a tester): a costs file loaded while an earlier one was still
being sent, the later a corrected file of the same costs, left 58 of 60 costs at the earlier file's values, both runs
exit 0. The earlier run reads what later runs set (alongside.written_since) once, before the later one wrote; side by
side, a cost both set keeps whichever PATCH lands last. The later load is refused, nothing sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path

import anyio
from aiohttp import web
from conftest import bulkload_cmd, child_env, serving
from test_load_visma_core import COST_HEADER, buyer_costs, job, write

from bulkload import load
from bulkload.sandbox import SandboxOptions, build_app

ENV = {"VISMA_CORE_TOKEN": "alongside-token"}
COSTS = {"kind": "costs"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def test_a_costs_load_is_refused_while_another_into_the_costs_is_under_way(tmp_path: Path) -> None:
    first_file = write(tmp_path / "a.csv", [[1500, "Buyer", 150002, "", "111.00", "A"]], header=COST_HEADER)
    (tmp_path / "b").mkdir()
    second_file = write(tmp_path / "b" / "b.csv", [[1500, "Buyer", 150002, "", "222.00", "B"]], header=COST_HEADER)
    holding, released = anyio.Event(), anyio.Event()
    later: list[str] = []
    app = build_app("visma-core", SandboxOptions())

    @web.middleware
    async def hold_first_patch(request: web.Request, handler: Handler) -> web.StreamResponse:
        if holding.is_set() and not released.is_set():
            later.append(f"{request.method} {request.path}")
        if request.method == "PATCH" and not holding.is_set():
            await request.read()
            holding.set()
            await released.wait()
        return await handler(request)

    app.middlewares.insert(0, hold_first_patch)
    reports = []
    with anyio.fail_after(120):
        async with serving(app) as url:
            async with anyio.create_task_group() as tg:

                async def first() -> None:
                    reports.append(await load(job(tmp_path, first_file, url, target_options=COSTS), env=ENV))

                tg.start_soon(first)
                await holding.wait()  # the first run's PATCH waits at the API
                try:
                    second = await anyio.run_process(
                        bulkload_cmd(
                            "load",
                            "visma-core",
                            str(second_file),
                            "--kind",
                            "costs",
                            "--base-url",
                            url,
                            "--no-progress",
                        ),  # fmt: skip
                        env=child_env(ENV),
                        check=False,
                        cwd=second_file.parent,
                    )
                finally:
                    released.set()
            costs = await buyer_costs(url, 1500)
    err = second.stderr.decode()
    assert second.returncode == 2, err
    assert f"another run loads into {url} (kind costs) now (ledger {tmp_path / 'run.sqlite'}" in err, err
    assert "a record both runs set would keep the values of whichever call lands last" in err, err
    assert "Load this file again once it has ended; nothing was sent" in err, err
    assert "Traceback" not in err, err
    assert later == [], later  # refused before its first call
    (report,) = reports
    assert (report.loaded, report.exit_code) == (1, 0), report
    assert (costs[150002]["Amount"], costs[150002]["Comment"]) == (Decimal("111.00"), "A"), costs
