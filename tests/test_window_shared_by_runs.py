"""HaloPSA's rolling window is the instance's, counted for every client: runs at one address at once keep to it
together, through the file that keeps its calls in the user's cache (limits.Limits, WindowMeter.beside), each call
taking its place there under the file's lock. Before (tester t71f), each run counted the others' calls only as it
started: two loads at once at one instance (10 calls per 2 s, 20 records each) met 11 429s in 57 calls, three 18 in
87. Judged by what the server refused."""

from __future__ import annotations

import csv
from pathlib import Path

import anyio
from conftest import bulkload_cmd, child_env, serving
from halo_server import credentials, make_app, settings, stats


def _records(path: Path, n: int, of: str) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["name", "client_id"])
        w.writerows([f"{of} {i}", i + 1] for i in range(n))
    return path


async def test_two_loads_at_once_at_one_instance_keep_to_its_window_together(tmp_path: Path) -> None:
    app = make_app(settings(window_limit=10, window_s=2.0, retry_after="none"))
    async with serving(app) as origin:
        env = child_env(credentials(origin))
        outputs: dict[str, str] = {}
        codes: dict[str, int | None] = {}

        async def load(resource: str) -> None:
            data = _records(tmp_path / f"{resource}.csv", 20, resource)
            cmd = bulkload_cmd(
                "load", "halopsa", str(data), "--base-url", origin, "--batch-size", "1", "--concurrency", "2",
                "--window-limit", "10", "--window-s", "2", "--settle-s", "0.2", "--ledger",
                str(tmp_path / f"{resource}.sqlite"), "--no-progress",
            )  # fmt: skip
            async with await anyio.open_process(cmd, env=env, stderr=None) as child:
                assert child.stdout is not None
                outputs[resource] = (await child.stdout.receive(1 << 20)).decode(errors="replace")
                codes[resource] = await child.wait()

        with anyio.fail_after(90):
            async with anyio.create_task_group() as tg:
                for resource in ("XeroDetails", "QuickBooksDetails"):
                    tg.start_soon(load, resource)
        seen = await stats(origin)
    assert codes == {"XeroDetails": 0, "QuickBooksDetails": 0}, outputs
    assert seen["records"] == 40, seen
    assert seen["most_in_window"] <= 10 and seen.get("429", 0) == 0, f"429s {seen.get('429')}, per s {seen['per_s']}"
